"""Labels as a table: one row per object per keyframe, in voxel and patient coordinates."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import DicomAnnotWarning, LabelError
from ._check import describe, is_finite
from .document import LabelDocument
from .geometry import Box, Mask, Polygon, Polyline, plane_to_voxel, ring_area

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "COLUMNS",
    "MEASUREMENT_COLUMNS",
    "Affine",
    "PatientGeometry",
    "check_affine",
    "check_geometry",
    "measurement_records",
    "object_records",
    "records_to_dataframe",
    "series_slice_positions",
]

Affine = tuple[tuple[float, float, float, float], ...]
"""A 4x4 matrix as nested tuples."""

#: The columns naming an object, first in each of its tables (see :func:`_identity`).
IDENTITY_COLUMNS: tuple[str, ...] = (
    "uuid",
    "object_id",
    "name",
    "feature",
    "feature_name",
    "shape",
    "plane",
)

COLUMNS: tuple[str, ...] = (
    *IDENTITY_COLUMNS,
    "slice",
    "manual",
    "source",
    "review",
    "edited",
    "confidence",
    "author",
    "created",
    "modified",
    "geometry",
    "points_voxel",
    "points_mm",
    "area_px",
    "area_mm2",
    "length_px",
    "length_mm",
    "answers",
)
"""Columns of :meth:`Labels.to_dataframe <dicom_annot_widget.labels.Labels.to_dataframe>`."""

MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "uuid",
    "kind",
    "label",
    "plane",
    "slice",
    "author",
    "created",
    "points_voxel",
    "points_mm",
    "length_px",
    "length_mm",
    "area_px",
    "area_mm2",
    "angle_deg",
    "pixels",
    "mean",
    "std",
    "min",
    "max",
)
"""Columns of :meth:`Labels.measurements_to_dataframe
<dicom_annot_widget.labels.Labels.measurements_to_dataframe>`."""

# voxel axes (0 column, 1 row, 2 slice) spanned by a plane's u and v
_PLANE_AXES = {"axial": (0, 1), "coronal": (0, 2), "sagittal": (1, 2)}


def check_affine(affine: Any) -> Affine | None:
    """Validate a 4x4 affine mapping ``(column, row, slice, 1)`` to patient LPS millimetres."""
    if affine is None:
        return None
    rows = affine.tolist() if hasattr(affine, "tolist") else affine
    if not isinstance(rows, (list, tuple)) or len(rows) != 4:
        raise LabelError(f"affine: expected a 4x4 matrix, got {describe(affine)}")
    out: list[tuple[float, float, float, float]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            raise LabelError(f"affine[{i}]: expected 4 numbers, got {describe(row)}")
        values = []
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not is_finite(v):
                raise LabelError(f"affine[{i}]: {describe(v)} is not a finite number")
            values.append(float(v))
        out.append((values[0], values[1], values[2], values[3]))
    if any(abs(a - b) > 1e-9 for a, b in zip(out[3], (0.0, 0.0, 0.0, 1.0), strict=True)):
        raise LabelError(f"affine: the last row must be [0, 0, 0, 1], got {list(out[3])}")
    return tuple(out)


Vec = tuple[float, float, float]
"""A point or a vector in patient LPS millimetres."""


@dataclass(frozen=True)
class PatientGeometry:
    """How voxel ``(column, row, slice)`` maps to patient LPS millimetres.

    The series' :attr:`affine` gives the in-plane axes (its first two columns: the row and
    column directions times the pixel spacing). Without :attr:`origins` the affine maps every
    point. With them (one per slice: its ImagePositionPatient), a point on slice ``k`` is
    ``origins[k] + column * affine[:3, 0] + row * affine[:3, 1]``, so slices beyond a gap (a
    missing slice) or unevenly spaced slices are placed where their headers say; a
    fractional slice coordinate (coronal and sagittal geometry) goes linearly between the
    origins of the slices on either side of it.
    """

    affine: Affine
    origins: tuple[Vec, ...] | None = None
    #: False for a series without pixel spacing (its affine assumes 1 mm pixels): the table
    #: then has no mm values, rather than pixel values labelled as mm
    spacing_known: bool = True

    def origin(self, s: float) -> Vec:
        """Patient position of voxel ``(0, 0, s)``."""
        a = self.affine
        origins = self.origins
        if origins is None or len(origins) < 2:
            base = origins[0] if origins else (a[0][3], a[1][3], a[2][3])
            return (base[0] + a[0][2] * s, base[1] + a[1][2] * s, base[2] + a[2][2] * s)
        i = min(max(math.floor(s), 0), len(origins) - 2)
        t = s - i
        p, q = origins[i], origins[i + 1]
        return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]), p[2] + t * (q[2] - p[2]))

    def to_mm(self, p: Sequence[float]) -> Vec:
        """Patient position of voxel ``p = (column, row, slice)``."""
        c, r, k = p
        a = self.affine
        o = self.origin(k)
        return (
            o[0] + a[0][0] * c + a[0][1] * r,
            o[1] + a[1][0] * c + a[1][1] * r,
            o[2] + a[2][0] * c + a[2][1] * r,
        )

    @property
    def regular(self) -> bool:
        """Whether the affine alone maps every point (no per-slice origins)."""
        return self.origins is None


def _position(value: Any) -> Vec | None:
    """Three finite numbers as a position, else ``None``."""
    try:
        x, y, z = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (x, y, z) if all(math.isfinite(v) for v in (x, y, z)) else None


def series_slice_positions(series: Any) -> list[Vec | None] | None:
    """ImagePositionPatient of every slice of an opened series (series order), as its DICOM
    headers give it (``None`` for a slice without one); ``None`` for a series not read from
    DICOM or without ImageOrientationPatient, whose affine is its only geometry."""
    if not getattr(series, "orientation_known", False):
        return None
    positions = getattr(series, "slice_positions", None)
    if positions is None or len(positions) != len(series):
        return None
    return [None if p is None else _position(p) for p in positions]


# positions closer than this to where the affine puts their slice count as on it (mm)
_ON_AFFINE_MM = 1e-6


def check_geometry(
    affine: Any, slice_positions: Any = None, slices: int | None = None
) -> PatientGeometry | None:
    """The :class:`PatientGeometry` of ``affine`` (a 4x4 matrix, or an opened series: its
    affine and its slices' ImagePositionPatient) and ``slice_positions`` (one ``(x, y, z)``
    or ``None`` per slice; given, they replace the series' own); ``None`` without an affine.

    ``slices`` is the number of slices of the labels' series, which the positions must match.
    Slices without a position are placed by the affine.
    """
    if affine is None:
        if slice_positions is not None:
            raise LabelError("slice_positions: needs an affine (or a series) as well")
        return None
    geometry = _check_geometry(affine, slice_positions, slices)
    if getattr(affine, "spacing_known", True) is False:
        return dataclasses.replace(geometry, spacing_known=False)
    return geometry


def _check_geometry(affine: Any, slice_positions: Any, slices: int | None) -> PatientGeometry:
    series_positions: list[Vec | None] | None = None
    if not isinstance(affine, (list, tuple)) and hasattr(affine, "slice_positions"):
        series_positions = series_slice_positions(affine) if slice_positions is None else None
        affine = affine.affine
    matrix = check_affine(affine)
    assert matrix is not None
    positions: list[Vec | None] | None = series_positions
    if slice_positions is not None:
        raw = slice_positions.tolist() if hasattr(slice_positions, "tolist") else slice_positions
        if not isinstance(raw, (list, tuple)):
            raise LabelError(
                f"slice_positions: expected one (x, y, z) per slice, got {describe(raw)}"
            )
        positions = []
        for k, value in enumerate(raw):
            p = None if value is None else _position(value)
            if value is not None and p is None:
                raise LabelError(
                    f"slice_positions[{k}]: expected three finite numbers (or None), "
                    f"got {describe(value)}"
                )
            positions.append(p)
    if positions is None:
        return PatientGeometry(matrix)
    if slices is not None and len(positions) != slices:
        raise LabelError(
            f"slice_positions: {len(positions)} positions for a series of {slices} slices"
        )
    regular = PatientGeometry(matrix)
    origins = tuple(p if p is not None else regular.origin(k) for k, p in enumerate(positions))
    if all(
        math.dist(o, regular.origin(k)) <= _ON_AFFINE_MM for k, o in enumerate(origins)
    ):  # evenly spaced: the affine alone is exact
        return regular
    return PatientGeometry(matrix, origins)


def _pixel_area_mm2(affine: Affine, plane: str) -> float:
    a, b = _PLANE_AXES[plane]
    u = (affine[0][a], affine[1][a], affine[2][a])
    v = (affine[0][b], affine[1][b], affine[2][b])
    return _norm(_cross(u, v))


def _cross(u: Sequence[float], v: Sequence[float]) -> Vec:
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def _norm(u: Sequence[float]) -> float:
    return math.sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])


def _split_at_slices(
    points: Sequence[tuple[float, float]], closed: bool
) -> list[tuple[float, float]]:
    """``points`` (plane ``(u, v)``, ``v`` the slice) with a vertex added wherever an edge
    crosses a whole slice number: with per-slice origins the map to mm bends there, so a
    straight edge in voxels is a bent one in mm."""
    out: list[tuple[float, float]] = []
    pairs = list(itertools.pairwise(points))
    if closed and points:
        pairs.append((points[-1], points[0]))
    for (u0, v0), (u1, v1) in pairs:
        out.append((u0, v0))
        lo, hi = sorted((v0, v1))
        ks = range(math.floor(lo) + 1, math.ceil(hi))
        for k in ks if v1 >= v0 else reversed(ks):
            t = (k - v0) / (v1 - v0)
            out.append((u0 + t * (u1 - u0), float(k)))
    if not closed and points:
        out.append(points[-1])
    return out


def _ring_area_mm2(ring: Sequence[Vec]) -> float:
    """Area of a planar polygon in 3D (half the norm of the summed cross products)."""
    total = [0.0, 0.0, 0.0]
    for p, q in zip(ring, [*ring[1:], ring[0]], strict=True):
        c = _cross(p, q)
        total[0] += c[0]
        total[1] += c[1]
        total[2] += c[2]
    return 0.5 * _norm(total)


def _measures_mm(
    geometry: PatientGeometry, plane: str, k: int, g: Any
) -> tuple[float | None, float | None]:
    """(area in mm², length in mm) of keyframe geometry ``g`` of a ``plane`` object on slice
    ``k``, for the shapes that have them."""
    a = geometry.affine
    if isinstance(g, Polyline):
        path: Sequence[tuple[float, float]] = g.vertices
        if plane != "axial" and not geometry.regular:
            path = _split_at_slices(path, closed=False)
        mm = [geometry.to_mm(plane_to_voxel(plane, u, v, float(k))) for u, v in path]
        return None, sum(math.dist(p, q) for p, q in itertools.pairwise(mm))
    if not isinstance(g, (Box, Polygon, Mask)):
        return None, None
    if plane == "axial" or geometry.regular:  # one pixel size everywhere in the plane
        return float(g.area) * _pixel_area_mm2(a, plane), None
    # a coronal or sagittal plane across slices that are not evenly spaced
    if isinstance(g, Mask):
        per_row = g.to_array().sum(axis=1)  # foreground pixels on each slice (v)
        axis = _PLANE_AXES[plane][0]
        u = (a[0][axis], a[1][axis], a[2][axis])
        area = 0.0
        for v in map(int, per_row.nonzero()[0]):
            lo, hi = geometry.origin(v - 0.5), geometry.origin(v + 0.5)
            area += float(per_row[v]) * _norm(
                _cross(u, (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]))
            )
        return area, None
    ring = _split_at_slices(g.corners if isinstance(g, Box) else g.vertices, closed=True)
    return _ring_area_mm2(
        [geometry.to_mm(plane_to_voxel(plane, u, v, float(k))) for u, v in ring]
    ), None


def _identity(obj: Any, names: dict[str, str]) -> dict[str, Any]:
    """The columns naming an object, first in its tables."""
    return {
        "uuid": obj.uuid,
        "object_id": obj.object_id,
        "name": obj.name,
        "feature": obj.feature,
        "feature_name": names.get(obj.feature, obj.feature),
        "shape": obj.shape,
        "plane": obj.plane,
    }


def object_records(doc: LabelDocument, geometry: PatientGeometry | None) -> list[dict[str, Any]]:
    """One dict per object per keyframe, with the keys of :data:`COLUMNS`.

    ``points_voxel`` lists the defining points as ``(column, row, slice)`` (box: the two
    corners; polygon/polyline: the vertices; point: the point; primitive: the nodes in template
    order; bitmask: ``None``); ``points_mm`` maps them to patient LPS mm through ``geometry``
    (each point through its own slice's position; ``None`` without a geometry). Areas and
    lengths are in pixels and, with a geometry, in mm² and mm; a geometry whose pixel spacing
    is unknown gives no mm values (with a warning).
    """
    geometry = _with_spacing(geometry)
    rows: list[dict[str, Any]] = []
    names = {c.id: c.name for c in doc.ontology.objects}
    for obj in doc.objects.values():
        for k, kf in obj.keyframes.items():
            g = kf.geometry
            points: list[tuple[float, float, float]] | None = None
            if not isinstance(g, Mask):
                points = [plane_to_voxel(obj.plane, u, v, float(k)) for u, v in g.vertices]
            points_mm = (
                [geometry.to_mm(p) for p in points]
                if points is not None and geometry is not None
                else None
            )
            area_px: float | None = None
            length_px: float | None = None
            if isinstance(g, (Box, Polygon)):
                area_px = g.area
            elif isinstance(g, Mask):
                area_px = float(g.area)
            elif isinstance(g, Polyline):
                length_px = g.length
            area_mm2, length_mm = (
                _measures_mm(geometry, obj.plane, k, g) if geometry is not None else (None, None)
            )
            rows.append(
                {
                    **_identity(obj, names),
                    "slice": k,
                    "manual": kf.manual,
                    "source": obj.source,
                    "review": obj.review,
                    "edited": obj.edited,
                    "confidence": obj.confidence,
                    "author": obj.author,
                    "created": obj.created,
                    "modified": obj.modified,
                    "geometry": g.to_json(),
                    "points_voxel": points,
                    "points_mm": points_mm,
                    "area_px": area_px,
                    "area_mm2": area_mm2,
                    "length_px": length_px,
                    "length_mm": length_mm,
                    "answers": obj.answers_at(k),
                }
            )
    return rows


def _with_spacing(geometry: PatientGeometry | None) -> PatientGeometry | None:
    """``geometry``, or None (with a warning) when its pixel spacing is unknown."""
    if geometry is not None and not geometry.spacing_known:
        warnings.warn(
            "the series has no pixel spacing (PixelSpacing or ImagerPixelSpacing): points_mm, "
            "area_mm2 and length_mm are left empty (None); area_px and length_px are in pixels",
            DicomAnnotWarning,
            stacklevel=4,
        )
        return None
    return geometry


def _area_stats(values: Any, ring: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """pixels / mean / std / min / max of ``values`` (rows, columns) inside ``ring``."""
    from ..kernels.contours import polygons_to_mask

    plane = np.asarray(values)
    inside = plane[polygons_to_mask(np.asarray(ring, dtype=np.float64), plane.shape[:2])]
    if inside.size == 0:
        return {"pixels": 0}
    stats = _value_stats(inside)
    del stats["median"]  # not a column of the measurements table
    return {"pixels": int(inside.size), **stats}


def _value_stats(values: Any) -> dict[str, float]:
    """mean, std (``ddof=0``), min, median and max of a non-empty array of values."""
    v = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
        "median": float(np.median(v)),
        "max": float(v.max()),
    }


def _angle_deg(a: Sequence[float], vertex: Sequence[float], b: Sequence[float]) -> float:
    """The angle at ``vertex`` between the arms to ``a`` and ``b`` (degrees, 0..180)."""
    u = [p - q for p, q in zip(a, vertex, strict=True)]
    w = [p - q for p, q in zip(b, vertex, strict=True)]
    u3 = (*u, 0.0)[:3]
    w3 = (*w, 0.0)[:3]
    dot = sum(p * q for p, q in zip(u3, w3, strict=True))
    return math.degrees(math.atan2(_norm(_cross(u3, w3)), dot))


PlaneImage = Callable[[str, int], Any]
"""``image(plane, k)``: the modality values (rows, columns) of plane image ``k``."""


def measurement_records(
    doc: LabelDocument, geometry: PatientGeometry | None, image: PlaneImage | None = None
) -> list[dict[str, Any]]:
    """One dict per measurement, with the keys of :data:`MEASUREMENT_COLUMNS`, by creation
    time (to the millisecond; then by uuid), as in the document.

    A distance has ``length_px`` / ``length_mm``, an area ``area_px`` / ``area_mm2``, an angle
    ``angle_deg`` (measured in patient mm with a geometry, else in pixels); the other value
    columns are None. ``points_voxel`` are ``(column, row, slice)``, ``points_mm`` patient
    LPS mm (None without a geometry, or when its pixel spacing is unknown: with a warning).
    With an ``image``, an area also has the statistics of the modality values of the pixels
    whose centre lies inside it (the pixels :func:`~dicom_annot_widget.kernels.polygons_to_mask`
    gives, as the page): ``pixels``, ``mean``, ``std`` (of the pixels, ``ddof=0``), ``min``
    and ``max``; None otherwise.
    """
    geometry = _with_spacing(geometry)
    rows: list[dict[str, Any]] = []
    for m in sorted(doc.measurements.values(), key=lambda m: (m.created, m.uuid)):
        k = m.slice
        points = [plane_to_voxel(m.plane, u, v, float(k)) for u, v in m.points]
        closed = m.kind == "area"
        points_mm = [geometry.to_mm(p) for p in points] if geometry is not None else None
        # the outline in mm: bent where it crosses a slice of an uneven stack (else the points)
        mm = points_mm
        if geometry is not None and m.plane != "axial" and not geometry.regular:
            path = _split_at_slices(m.points, closed=closed)
            mm = [geometry.to_mm(plane_to_voxel(m.plane, u, v, float(k))) for u, v in path]
        row: dict[str, Any] = {
            "uuid": m.uuid,
            "kind": m.kind,
            "label": m.label,
            "plane": m.plane,
            "slice": k,
            "author": m.author,
            "created": m.created,
            "points_voxel": points,
            "points_mm": points_mm,
            "length_px": None,
            "length_mm": None,
            "area_px": None,
            "area_mm2": None,
            "angle_deg": None,
            "pixels": None,
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
        }
        if m.kind == "distance":
            row["length_px"] = math.dist(m.points[0], m.points[1])
            if mm is not None:
                row["length_mm"] = sum(math.dist(p, q) for p, q in itertools.pairwise(mm))
        elif m.kind == "area":
            row["area_px"] = ring_area(m.points)
            if mm is not None:
                row["area_mm2"] = _ring_area_mm2(mm)
            if image is not None:
                row.update(_area_stats(image(m.plane, k), m.points))
        else:  # angle: in mm when it can be
            a, v, b = points_mm if points_mm is not None else m.points
            row["angle_deg"] = _angle_deg(a, v, b)
        rows.append(row)
    return rows


#: Columns of :func:`statistics_records` (one row per region object).
STATISTICS_COLUMNS: tuple[str, ...] = (
    *IDENTITY_COLUMNS,
    "source",
    "review",
    "confidence",
    "first_slice",
    "last_slice",
    "keyframes",
    "manual_keyframes",
    "slices_without_keyframe",
    "voxels",
    "volume_mm3",
    "volume_ml",
    "mean",
    "std",
    "min",
    "median",
    "max",
)

#: Shapes that enclose voxels (the rows of :func:`statistics_records`).
REGION_SHAPES = ("bitmask", "polygon", "bounding_box")


def _slice_volumes_mm3(geometry: PatientGeometry, slices: int) -> list[float]:
    """Volume (mm³) of one voxel of each slice: the pixel's area times the slab between the
    half-way points to the neighbouring slices (uneven stacks: each slice its own)."""
    a = geometry.affine
    u = (a[0][0], a[1][0], a[2][0])
    v = (a[0][1], a[1][1], a[2][1])
    normal = _cross(u, v)
    out = []
    for k in range(slices):
        lo, hi = geometry.origin(k - 0.5), geometry.origin(k + 0.5)
        w = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
        out.append(abs(normal[0] * w[0] + normal[1] * w[1] + normal[2] * w[2]))
    return out


def _region_pixels(g: Any, width: int, height: int) -> npt.NDArray[np.bool_] | None:
    """The pixels of plane image ``width`` x ``height`` that keyframe geometry ``g`` covers
    (centre inside, as the page counts them); None for shapes that enclose nothing."""
    from ..kernels.contours import polygons_to_mask

    if isinstance(g, Mask):
        return g.to_array()
    if isinstance(g, (Box, Polygon)):
        ring = g.corners if isinstance(g, Box) else g.vertices
        return polygons_to_mask(np.asarray(ring, dtype=np.float64), (height, width))
    return None


def statistics_records(
    doc: LabelDocument, geometry: PatientGeometry | None, image: PlaneImage | None = None
) -> list[dict[str, Any]]:
    """One dict per region object (mask, polygon or box track), with the keys of
    :data:`STATISTICS_COLUMNS`, in the order of the objects.

    The object's voxels are the pixels of its keyframes (manual and interpolated) whose
    centre lies inside, on each keyframe's plane image: ``voxels`` counts them,
    ``volume_mm3`` / ``volume_ml`` add up their volumes (pixel area times the slice's share of
    the stack, so uneven slices count as they are; None without a geometry or pixel spacing),
    and with an ``image`` ``mean``, ``std`` (``ddof=0``), ``min``, ``median`` and ``max`` are
    of the modality values there (HU for CT). Slices of the track's range with no keyframe
    contribute nothing: ``slices_without_keyframe`` says how many (interpolate to fill them).
    """
    geometry = _with_spacing(geometry)
    names = {c.id: c.name for c in doc.ontology.objects}
    slices = doc.series.shape[0]
    per_slice = _slice_volumes_mm3(geometry, slices) if geometry is not None else None
    rows: list[dict[str, Any]] = []
    for obj in doc.objects.values():
        if obj.shape not in REGION_SHAPES:
            continue
        width, height, _ = doc.plane_size(obj.plane)
        voxels = 0
        volume = 0.0
        values: list[npt.NDArray[Any]] = []
        for k, kf in sorted(obj.keyframes.items()):
            inside = _region_pixels(kf.geometry, width, height)
            if inside is None:
                continue
            count = int(inside.sum())
            voxels += count
            if per_slice is not None:
                if obj.plane == "axial":
                    volume += count * per_slice[k]
                else:  # each image row is one slice of the stack
                    row_counts = inside.sum(axis=1)
                    volume += float(np.dot(row_counts, per_slice[: len(row_counts)]))
            if image is not None and count:
                values.append(np.asarray(image(obj.plane, k))[inside])
        keys = sorted(obj.keyframes)
        stats: dict[str, Any] = dict.fromkeys(("mean", "std", "min", "median", "max"))
        if values:
            stats = _value_stats(np.concatenate(values))
        rows.append(
            {
                **_identity(obj, names),
                "source": obj.source,
                # a model's predictions pending review apart from the accepted ones (QA 24a)
                "review": obj.review,
                "confidence": obj.confidence,
                "first_slice": keys[0] if keys else None,
                "last_slice": keys[-1] if keys else None,
                "keyframes": len(keys),
                "manual_keyframes": sum(1 for kf in obj.keyframes.values() if kf.manual),
                "slices_without_keyframe": keys[-1] - keys[0] + 1 - len(keys) if keys else 0,
                "voxels": voxels,
                "volume_mm3": volume if per_slice is not None else None,
                "volume_ml": volume / 1000.0 if per_slice is not None else None,
                **stats,
            }
        )
    return rows


def records_to_dataframe(
    rows: list[dict[str, Any]], columns: Sequence[str] = COLUMNS
) -> pandas.DataFrame:
    """Build a pandas DataFrame with ``columns`` (pandas is optional)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "to_dataframe() needs pandas, which is not installed: "
            "pip install 'dicom_annot_widget[pandas]' (or pip install pandas); "
            "to_records() gives the same rows as a list of dicts without it"
        ) from None
    return pd.DataFrame.from_records(rows, columns=list(columns))
