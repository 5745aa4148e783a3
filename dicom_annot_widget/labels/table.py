"""Labels as a table: one row per object per keyframe, in voxel and patient coordinates."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import LabelError
from ._check import describe, is_finite
from .document import LabelDocument
from .geometry import Box, Mask, Polygon, Polyline, plane_to_voxel

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["COLUMNS", "Affine", "check_affine", "object_records", "records_to_dataframe"]

Affine = tuple[tuple[float, float, float, float], ...]
"""A 4x4 matrix as nested tuples."""

COLUMNS: tuple[str, ...] = (
    "uuid",
    "object_id",
    "feature",
    "feature_name",
    "shape",
    "plane",
    "slice",
    "manual",
    "source",
    "review",
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


def _to_mm(affine: Affine, p: Sequence[float]) -> tuple[float, float, float]:
    c, r, k = p
    return (
        affine[0][0] * c + affine[0][1] * r + affine[0][2] * k + affine[0][3],
        affine[1][0] * c + affine[1][1] * r + affine[1][2] * k + affine[1][3],
        affine[2][0] * c + affine[2][1] * r + affine[2][2] * k + affine[2][3],
    )


def _pixel_area_mm2(affine: Affine, plane: str) -> float:
    a, b = _PLANE_AXES[plane]
    u = (affine[0][a], affine[1][a], affine[2][a])
    v = (affine[0][b], affine[1][b], affine[2][b])
    cross = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    return math.sqrt(sum(x * x for x in cross))


def object_records(doc: LabelDocument, affine: Affine | None) -> list[dict[str, Any]]:
    """One dict per object per keyframe, with the keys of :data:`COLUMNS`.

    ``points_voxel`` lists the defining points as ``(column, row, slice)`` (box: the two
    corners; polygon/polyline: the vertices; point: the point; primitive: the nodes in template
    order; bitmask: ``None``); ``points_mm`` maps them through ``affine`` (``None`` without an
    affine). Areas and lengths are in pixels and, with an affine, in mm² and mm.
    """
    rows: list[dict[str, Any]] = []
    names = {c.id: c.name for c in doc.ontology.objects}
    for obj in doc.objects.values():
        pixel_area = _pixel_area_mm2(affine, obj.plane) if affine is not None else None
        for k, kf in obj.keyframes.items():
            g = kf.geometry
            points: list[tuple[float, float, float]] | None = None
            if not isinstance(g, Mask):
                points = [plane_to_voxel(obj.plane, u, v, float(k)) for u, v in g.vertices]
            points_mm = (
                [_to_mm(affine, p) for p in points]
                if points is not None and affine is not None
                else None
            )
            area_px: float | None = None
            length_px: float | None = None
            length_mm: float | None = None
            if isinstance(g, (Box, Polygon)):
                area_px = g.area
            elif isinstance(g, Mask):
                area_px = float(g.area)
            elif isinstance(g, Polyline):
                length_px = g.length
                if points_mm is not None:
                    length_mm = sum(math.dist(a, b) for a, b in itertools.pairwise(points_mm))
            rows.append(
                {
                    "uuid": obj.uuid,
                    "object_id": obj.object_id,
                    "feature": obj.feature,
                    "feature_name": names.get(obj.feature, obj.feature),
                    "shape": obj.shape,
                    "plane": obj.plane,
                    "slice": k,
                    "manual": kf.manual,
                    "source": obj.source,
                    "review": obj.review,
                    "confidence": obj.confidence,
                    "author": obj.author,
                    "created": obj.created,
                    "modified": obj.modified,
                    "geometry": g.to_json(),
                    "points_voxel": points,
                    "points_mm": points_mm,
                    "area_px": area_px,
                    "area_mm2": (
                        area_px * pixel_area
                        if area_px is not None and pixel_area is not None
                        else None
                    ),
                    "length_px": length_px,
                    "length_mm": length_mm,
                    "answers": obj.answers_at(k),
                }
            )
    return rows


def records_to_dataframe(rows: list[dict[str, Any]]) -> pandas.DataFrame:
    """Build a pandas DataFrame with columns :data:`COLUMNS` (pandas is optional)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "to_dataframe() needs pandas, which is not installed: "
            "pip install 'dicom_annot_widget[pandas]' (or pip install pandas); "
            "to_records() gives the same rows as a list of dicts without it"
        ) from None
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))
