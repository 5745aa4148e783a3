"""Interpolation of keyframed geometry across slices, for every object shape.

Geometry per shape kind (voxel coordinates of the object's plane, x = column, y = row):

================  =================================================================
``"bbox"``        array-like (4,) ``[x0, y0, x1, y1]`` (two opposite corners)
``"point"``       array-like (2,) ``[x, y]``
``"primitive"``   mapping node name -> (2,) ``[x, y]`` (skeletons, named nodes)
``"polygon"``     (N, 2) ring, or a list of (N, 2) rings (parts of a multi-polygon)
``"polyline"``    (N, 2) open curve, N >= 2
``"bitmask"``     boolean (rows, cols) mask
================  =================================================================

Boxes, points and primitives are linear per coordinate / node. Polygons and polylines get a
vertex correspondence first (see :func:`interpolate_polygons`, :func:`interpolate_polylines`),
then move linearly. Bitmasks use :func:`~.mask_interpolation.interpolate_masks`.

A polygon ring may be in "keyhole" form (:func:`~.contours.mask_to_ring`: holes and further
parts joined by zero-width bridges, as a polygon keyframe of the label model holds one ring).
Such rings are taken apart (:func:`~.contours.split_keyhole`) and interpolated as exteriors and
holes, and the results are joined back into the same form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from skimage import measure

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels._checks import as_points
from dicom_annot_widget.kernels.contours import (
    PolygonWithHoles,
    _cross,
    mask_to_polygons,
    mask_to_ring,
    polygon_area,
    polygons_to_mask,
    resample_closed,
    resample_open,
    split_keyhole,
)
from dicom_annot_widget.kernels.mask_interpolation import _check_keys, interpolate_masks

__all__ = [
    "SHAPE_KINDS",
    "interpolate_boxes",
    "interpolate_points",
    "interpolate_polygons",
    "interpolate_polylines",
    "interpolate_primitives",
    "interpolate_track",
    "match_polygon_rings",
]

SHAPE_KINDS = ("bbox", "point", "primitive", "polygon", "polyline", "bitmask")
_ALIGN_SAMPLES = 256


def _check_t(t: float) -> float:
    tf = float(t)
    if not 0.0 <= tf <= 1.0:
        raise LabelError(f"t must be between 0 and 1 (fraction of the gap); got {t!r}.")
    return tf


def interpolate_points(p0: ArrayLike, p1: ArrayLike, t: float) -> NDArray[np.float64]:
    """Linear interpolation of a point (2,) or of corresponding points (N, 2): float64."""
    a = np.asarray(p0, dtype=np.float64)
    b = np.asarray(p1, dtype=np.float64)
    if a.shape != b.shape or a.shape[-1:] != (2,) or a.ndim > 2:
        raise LabelError(
            f"points must both have shape (2,) or the same shape (N, 2); got {a.shape} and "
            f"{b.shape}."
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise LabelError("points contain NaN or infinite coordinates.")
    tf = _check_t(t)
    return (1.0 - tf) * a + tf * b


def interpolate_boxes(b0: ArrayLike, b1: ArrayLike, t: float) -> NDArray[np.float64]:
    """Linear interpolation of boxes ``[x0, y0, x1, y1]`` (4,); corners are sorted first."""
    out = []
    for name, box in (("b0", b0), ("b1", b1)):
        arr = np.asarray(box, dtype=np.float64).reshape(-1)
        if arr.shape != (4,) or not np.all(np.isfinite(arr)):
            raise LabelError(f"{name} must be 4 finite numbers [x0, y0, x1, y1]; got {box!r}.")
        out.append(
            np.array(
                [min(arr[0], arr[2]), min(arr[1], arr[3]), max(arr[0], arr[2]), max(arr[1], arr[3])]
            )
        )
    tf = _check_t(t)
    return np.asarray((1.0 - tf) * out[0] + tf * out[1])


def interpolate_primitives(
    n0: Mapping[str, ArrayLike], n1: Mapping[str, ArrayLike], t: float
) -> dict[str, NDArray[np.float64]]:
    """Linear interpolation of named nodes; nodes missing from either keyframe are left out."""
    for name, nodes in (("n0", n0), ("n1", n1)):
        if not isinstance(nodes, Mapping):
            raise LabelError(
                f"{name} must be a mapping of node name -> [x, y]; got {type(nodes).__name__}."
            )
    tf = _check_t(t)
    out = {}
    for key in n0:
        if key in n1:
            out[str(key)] = interpolate_points(n0[key], n1[key], tf)
    return out


# --------------------------------------------------------------------------- polygons


def _clean_ring(ring: ArrayLike, name: str) -> NDArray[np.float64]:
    p = as_points(ring, name, min_points=3)
    if np.array_equal(p[0], p[-1]):
        p = p[:-1]
    keep = np.any(p != np.roll(p, 1, axis=0), axis=1)
    p = p[keep] if keep.any() else p[:1]
    if len(p) < 3:
        raise LabelError(f"{name} needs at least 3 distinct vertices; got {len(p)}.")
    return p


def _oriented(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ring with positive signed area (the exterior orientation of mask_to_polygons)."""
    return ring[::-1].copy() if polygon_area(ring) < 0 else ring


def _arc_params(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    closed = np.vstack([ring, ring[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    return s[:-1] / total if total > 0 else np.zeros(len(ring))


def _sample_at(ring: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points at arc-length fractions ``u`` (0..1, any order) along a closed ring."""
    closed = np.vstack([ring, ring[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    if total <= 0:
        return np.repeat(ring[:1], len(u), axis=0)
    w = (u % 1.0) * total
    return np.column_stack([np.interp(w, s, closed[:, 0]), np.interp(w, s, closed[:, 1])])


def _best_shift(a: NDArray[np.float64], b: NDArray[np.float64]) -> int:
    """Cyclic shift k minimising sum |a_i - b_{i+k}|^2 for equally sampled rings (FFT)."""
    fa = np.fft.rfft(a, axis=0)
    fb = np.fft.rfft(b, axis=0)
    corr = np.fft.irfft(np.conj(fa) * fb, n=len(a), axis=0).sum(axis=1)
    return int(np.argmax(corr))


def match_polygon_rings(
    ring0: ArrayLike, ring1: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Corresponding vertex lists for two closed rings, ready for linear interpolation.

    Both rings are oriented alike (positive area), sampled at ``256`` points evenly spaced by
    arc length to find the cyclic shift of ``ring1``'s start that best matches ``ring0``
    (least squares, FFT). Each ring is then sampled at the union of both rings' vertex
    parameters (arc-length fractions, ``ring1``'s shifted), so every original vertex of both
    rings is kept: the result reproduces ``ring0`` at t = 0 and ``ring1`` at t = 1.

    Returns
    -------
    (a, b)
        Two float64 arrays of the same shape (M, 2), M <= len(ring0) + len(ring1).
    """
    a = _oriented(_clean_ring(ring0, "ring0"))
    b = _oriented(_clean_ring(ring1, "ring1"))
    n = _ALIGN_SAMPLES
    sa = resample_closed(a, n)
    sb = resample_closed(b, n)
    shift = _best_shift(sa, sb) / n  # b's arc fraction that corresponds to a's start
    ua = _arc_params(a)
    ub = (_arc_params(b) - shift) % 1.0  # b's vertices in a's parameterisation
    u = np.unique(np.concatenate([ua, ub]))
    # Merge parameters closer than 1e-9 (duplicates from coinciding vertices).
    u = u[np.concatenate([[True], np.diff(u) > 1e-9])]
    return _sample_at(a, u), _sample_at(b, u + shift)


def _ring_stats(ring: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Area centroid and absolute area of a ring (vertex mean when degenerate)."""
    x, y = ring[:, 0], ring[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = 0.5 * cross.sum()
    if abs(area) < 1e-12:
        return ring.mean(axis=0), 0.0
    cx = ((x + xn) * cross).sum() / (6 * area)
    cy = ((y + yn) * cross).sum() / (6 * area)
    return np.array([cx, cy]), abs(float(area))


def _as_parts(geom: Any, name: str) -> tuple[list[NDArray[np.float64]], bool]:
    """Polygon geometry -> list of cleaned rings, and whether it was a single array."""
    if isinstance(geom, np.ndarray) and geom.ndim == 2:
        return [_clean_ring(geom, name)], True
    if isinstance(geom, Sequence) and len(geom) > 0 and np.ndim(geom[0]) == 1:
        return [_clean_ring(geom, name)], True
    if isinstance(geom, Sequence):
        return [_clean_ring(g, f"{name} part {i}") for i, g in enumerate(geom)], False
    raise LabelError(
        f"{name} must be an (N, 2) ring or a list of (N, 2) rings; got {type(geom).__name__}."
    )


def _rings_overlap(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Whether two rings overlap, tested on a raster of their common box, 64 to 128 px across
    (a coarse raster: this decides which parts to match, not their shapes)."""
    lo = np.minimum(a.min(axis=0), b.min(axis=0))
    hi = np.maximum(a.max(axis=0), b.max(axis=0))
    inter_lo = np.maximum(a.min(axis=0), b.min(axis=0))
    inter_hi = np.minimum(a.max(axis=0), b.max(axis=0))
    if np.any(inter_hi <= inter_lo):
        return False
    extent = max(float(np.max(hi - lo)), 1e-9)
    scale = 128.0 / extent if extent > 128.0 else max(64.0 / extent, 1.0)
    shape = (int(np.ceil((hi - lo)[1] * scale)) + 2, int(np.ceil((hi - lo)[0] * scale)) + 2)
    ma = polygons_to_mask((a - lo) * scale, shape)
    mb = polygons_to_mask((b - lo) * scale, shape)
    return bool((ma & mb).any())


def interpolate_polygons(g0: Any, g1: Any, t: float) -> NDArray[np.float64] | list[NDArray]:
    """Interpolate a (multi-)polygon between two keyframes.

    Parameters
    ----------
    g0, g1
        Polygon geometry at the two keyframes: an (N, 2) ring or a list of rings (parts).
        Vertex counts, start vertices and winding may differ.
    t
        Fraction of the way from ``g0`` (0) to ``g1`` (1).

    Returns
    -------
    ndarray (M, 2) or list of ndarray
        A single ring when both inputs are single rings (and no part splits), else a list of
        rings. Parts are matched by overlap, then by centroid distance (Hungarian); matched
        pairs use :func:`match_polygon_rings`; an unmatched part shrinks to (grows from) its
        centroid; parts that split or merge (one part overlapping several) are interpolated as
        masks on a local raster and traced back.

        When a ring of either keyframe is in keyhole form (holes or several parts joined by
        bridges, :func:`~.contours.mask_to_ring`), both keyframes are split into exteriors and
        holes (:func:`~.contours.split_keyhole`); exteriors and holes are each matched and
        interpolated as above and the holes go into the exterior around them. Where that does
        not give valid polygons with holes (rings crossing, a hole outside every exterior), the
        two keyframes are interpolated as masks on a local raster instead. The result is joined
        back into keyhole form: one ring for single-ring inputs, else one ring per part.
    """
    tf = _check_t(t)
    parts0, single0 = _as_parts(g0, "g0")
    parts1, single1 = _as_parts(g1, "g1")
    return _interpolate_pair(parts0, single0, parts1, single1, [tf])[0]


def _interpolate_pair(
    parts0: list[NDArray[np.float64]],
    single0: bool,
    parts1: list[NDArray[np.float64]],
    single1: bool,
    ts: Sequence[float],
) -> list[Any]:
    """Interpolated polygon geometry for each t in ``ts``, in the form of the inputs."""
    shapes0 = _keyhole_shapes(parts0)
    shapes1 = _keyhole_shapes(parts1)
    single = single0 and single1
    if shapes0 is None and shapes1 is None:  # simple rings: vertex correspondence per part
        return [
            rings[0] if single and len(rings) == 1 else rings
            for rings in _interpolate_parts(parts0, parts1, ts)
        ]
    out: list[Any] = []
    for tk, polygons in zip(
        ts,
        _interpolate_shapes(
            _plain_shapes(parts0) if shapes0 is None else shapes0,
            _plain_shapes(parts1) if shapes1 is None else shapes1,
            ts,
        ),
        strict=True,
    ):
        if tk in (0.0, 1.0):  # a keyframe itself, as given
            ends = parts0 if tk == 0.0 else parts1
            out.append(ends[0] if single and len(ends) == 1 else ends)
        elif not polygons:
            out.append([])
        elif single:
            out.append(mask_to_ring(polygons))
        else:
            out.append([mask_to_ring([p]) for p in polygons])
    return out


#: Parts that do not overlap are matched when their centroid distance is below this many
#: times the sum of their equivalent radii.
_MATCH_COST = 3.0


def _stats_cost(
    s0: tuple[NDArray[np.float64], float], s1: tuple[NDArray[np.float64], float]
) -> float:
    (c0, a0), (c1, a1) = s0, s1
    return float(np.hypot(*(c0 - c1)) / (np.sqrt(a0 / np.pi) + np.sqrt(a1 / np.pi) + 1e-9))


def _centroid_cost(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return _stats_cost(_ring_stats(a), _ring_stats(b))


def _interpolate_parts(
    parts0: list[NDArray[np.float64]], parts1: list[NDArray[np.float64]], ts: Sequence[float]
) -> list[list[NDArray[np.float64]]]:
    """Interpolated rings for each t in ``ts`` (see :func:`interpolate_polygons`)."""
    n0, n1 = len(parts0), len(parts1)
    results: list[list[NDArray[np.float64]]] = [[] for _ in ts]
    # Overlap graph; connected groups with more than one part on a side split or merge.
    if n0 == 1 and n1 == 1 and _centroid_cost(parts0[0], parts1[0]) < _MATCH_COST:
        # one part each, close enough to be matched by distance: overlapping or not, they
        # pair up (the raster overlap test below would not change that)
        edges = [(0, 0)]
    else:
        edges = [
            (i, j) for i in range(n0) for j in range(n1) if _rings_overlap(parts0[i], parts1[j])
        ]
    parent = list(range(n0 + n1))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        parent[find(i)] = find(n0 + j)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(n0):
        groups.setdefault(find(i), ([], []))[0].append(i)
    for j in range(n1):
        groups.setdefault(find(n0 + j), ([], []))[1].append(j)
    pairs: list[tuple[int, int]] = []
    left0: list[int] = []
    left1: list[int] = []
    for ga, gb in groups.values():
        if len(ga) == 1 and len(gb) == 1:
            pairs.append((ga[0], gb[0]))
        elif ga and gb:
            for k, rings in enumerate(
                _mask_route([parts0[i] for i in ga], [parts1[j] for j in gb], ts)
            ):
                results[k].extend(rings)
        else:
            left0.extend(ga)
            left1.extend(gb)
    # Non-overlapping leftovers: match by centroid distance relative to size.
    if left0 and left1:
        s0 = [_ring_stats(parts0[i]) for i in left0]
        s1 = [_ring_stats(parts1[j]) for j in left1]
        cost = np.array([[_stats_cost(x0, x1) for x1 in s1] for x0 in s0])
        rows, cols = linear_sum_assignment(cost)
        used0, used1 = set(), set()
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] < _MATCH_COST:
                pairs.append((left0[r], left1[c]))
                used0.add(left0[r])
                used1.add(left1[c])
        left0 = [i for i in left0 if i not in used0]
        left1 = [j for j in left1 if j not in used1]
    for i, j in pairs:
        a, b = match_polygon_rings(parts0[i], parts1[j])
        for k, tk in enumerate(ts):
            results[k].append((1.0 - tk) * a + tk * b)
    for i in left0:
        ring = _oriented(parts0[i])
        c, _ = _ring_stats(ring)
        for k, tk in enumerate(ts):
            if tk < 1.0:
                results[k].append(c + (1.0 - tk) * (ring - c))
    for j in left1:
        ring = _oriented(parts1[j])
        c, _ = _ring_stats(ring)
        for k, tk in enumerate(ts):
            if tk > 0.0:
                results[k].append(c + tk * (ring - c))
    return results


def _mask_route(
    rings0: list[NDArray[np.float64]], rings1: list[NDArray[np.float64]], ts: Sequence[float]
) -> list[list[NDArray[np.float64]]]:
    """Interpolate split/merge groups as masks on a local raster and trace them back."""
    inner = [tk for tk in ts if 0.0 < tk < 1.0]
    traced = iter(_raster_route(rings0, rings1, inner) if inner else [])
    out: list[list[NDArray[np.float64]]] = []
    for tk in ts:
        if tk == 0.0:
            out.append([_oriented(r) for r in rings0])
        elif tk == 1.0:
            out.append([_oriented(r) for r in rings1])
        else:
            out.append([p.exterior for p in next(traced)])
    return out


def _raster_route(
    shapes0: Sequence[Any], shapes1: Sequence[Any], ts: Sequence[float]
) -> list[list[PolygonWithHoles]]:
    """Polygons with holes for each ``0 < t < 1`` in ``ts``: both keyframes (rings or
    :class:`PolygonWithHoles`) rasterised on a local raster (at least 128 px across), mask
    interpolation, traced back (a quarter-pixel tolerance) and scaled back."""
    exteriors = [s.exterior if isinstance(s, PolygonWithHoles) else s for s in (*shapes0, *shapes1)]
    allp = np.vstack(exteriors)
    lo = allp.min(axis=0)
    hi = allp.max(axis=0)
    extent = float(np.max(hi - lo))
    scale = max(1.0, 128.0 / max(extent, 1e-9))  # at least 128 px across the group
    pad = 3
    origin = lo - pad / scale
    shape = (
        int(np.ceil((hi - lo)[1] * scale)) + 2 * pad + 1,
        int(np.ceil((hi - lo)[0] * scale)) + 2 * pad + 1,
    )

    def local(s: Any) -> Any:
        if isinstance(s, PolygonWithHoles):
            return PolygonWithHoles(
                (s.exterior - origin) * scale, [(h - origin) * scale for h in s.holes]
            )
        return (s - origin) * scale

    m0 = polygons_to_mask([local(s) for s in shapes0], shape)
    m1 = polygons_to_mask([local(s) for s in shapes1], shape)
    # Place the two masks 1000 slices apart so that t maps onto an integer slice (strictly
    # between them).
    zs = {tk: min(max(round(tk * 1000), 1), 999) for tk in ts}
    masks = interpolate_masks(
        {0: m0, 1000: m1}, sorted(set(zs.values())), method="linear", preserve_area=False
    )
    out: list[list[PolygonWithHoles]] = []
    for tk in ts:
        polys = mask_to_polygons(masks[zs[tk]], tolerance=0.25)
        out.append(
            [
                PolygonWithHoles(p.exterior / scale + origin, [h / scale + origin for h in p.holes])
                for p in polys
            ]
        )
    return out


# --------------------------------------------------------------------------- keyhole rings


def _keyhole_shapes(parts: list[NDArray[np.float64]]) -> list[PolygonWithHoles] | None:
    """The polygons with holes that ``parts`` join, or None when every part is a simple ring
    (no bridge: interpolated by vertex correspondence as it is)."""
    shapes = [split_keyhole(r) for r in parts]
    if all(len(s) == 1 and not s[0].holes for s in shapes):
        return None
    return [p for s in shapes for p in s]


def _plain_shapes(parts: list[NDArray[np.float64]]) -> list[PolygonWithHoles]:
    return [PolygonWithHoles(_oriented(r), []) for r in parts]


def _interpolate_shapes(
    shapes0: list[PolygonWithHoles], shapes1: list[PolygonWithHoles], ts: Sequence[float]
) -> list[list[PolygonWithHoles]]:
    """Polygons with holes for each t in ``ts``.

    The rings of each keyframe are sorted by nesting level (0: outer exteriors, 1: their holes,
    2: parts inside those holes, ...); each level is interpolated on its own like the parts of
    a multi-polygon (:func:`_interpolate_parts`), then the rings are nested again
    (:func:`_nest`). Where they do not nest validly, both keyframes go by masks instead.
    """
    levels0 = _levels(shapes0)
    levels1 = _levels(shapes1)
    per_level = [
        _interpolate_parts(
            levels0[i] if i < len(levels0) else [], levels1[i] if i < len(levels1) else [], ts
        )
        for i in range(max(len(levels0), len(levels1)))
    ]
    out: list[list[PolygonWithHoles] | None] = []
    for k, tk in enumerate(ts):
        if tk == 0.0 or tk == 1.0:
            out.append(shapes0 if tk == 0.0 else shapes1)
            continue
        exteriors = [r for i in range(0, len(per_level), 2) for r in per_level[i][k]]
        holes = [r for i in range(1, len(per_level), 2) for r in per_level[i][k]]
        out.append(_nest(exteriors, holes))
    failed = [tk for tk, polys in zip(ts, out, strict=True) if polys is None]
    if failed:
        redone = iter(_raster_route(shapes0, shapes1, failed))
        out = [next(redone) if polys is None else polys for polys in out]
    return [polys for polys in out if polys is not None]


def _levels(shapes: list[PolygonWithHoles]) -> list[list[NDArray[np.float64]]]:
    """The rings of ``shapes`` by nesting level, oriented alike: an exterior inside ``n`` other
    exteriors (parts are disjoint, so inside their holes) is on level ``2 n``, its holes on
    ``2 n + 1``."""
    lo = [p.exterior.min(axis=0) for p in shapes]
    hi = [p.exterior.max(axis=0) for p in shapes]
    levels: list[list[NDArray[np.float64]]] = []
    for j, part in enumerate(shapes):
        around = sum(
            1
            for i, other in enumerate(shapes)
            if i != j
            and other.holes
            and np.all(lo[i] <= lo[j])
            and np.all(hi[j] <= hi[i])
            and measure.points_in_poly(part.exterior[:1], other.exterior)[0]
        )
        need = 2 * around + 2 if part.holes else 2 * around + 1
        while len(levels) < need:
            levels.append([])
        levels[2 * around].append(_oriented(part.exterior))
        for h in part.holes:
            levels[2 * around + 1].append(_oriented(h))
    return levels


def _nest(
    exteriors: list[NDArray[np.float64]], holes: list[NDArray[np.float64]]
) -> list[PolygonWithHoles] | None:
    """Exteriors and holes as polygons with holes (each hole in the innermost exterior around
    it), or None when they are not a valid nesting: rings that cross or touch, or a ring whose
    depth (how many others contain it) does not fit its kind (exteriors even, holes odd)."""
    rings = [r for r in exteriors if polygon_area(r) != 0.0]
    n_ext = len(rings)
    rings += [h for h in holes if polygon_area(h) != 0.0]
    if not rings:
        return []
    count = len(rings)
    lo = np.array([r.min(axis=0) for r in rings])
    hi = np.array([r.max(axis=0) for r in rings])
    areas = np.array([abs(polygon_area(r)) for r in rings])
    inside = np.zeros((count, count), dtype=bool)  # inside[i, j]: ring j inside ring i
    for i in range(count):
        for j in range(i + 1, count):
            if np.any(hi[i] < lo[j]) or np.any(hi[j] < lo[i]):
                continue  # boxes apart
            if _rings_touch(rings[i], rings[j]):
                return None
            outer, inner = (i, j) if areas[i] >= areas[j] else (j, i)
            inside[outer, inner] = bool(
                np.all(lo[outer] <= lo[inner])
                and np.all(hi[inner] <= hi[outer])
                and measure.points_in_poly(rings[inner][:1], rings[outer])[0]
            )
    depth = inside.sum(axis=0)
    if np.any(depth[:n_ext] % 2 == 1) or np.any(depth[n_ext:] % 2 == 0):
        return None
    polygons = {i: PolygonWithHoles(_oriented(rings[i]), []) for i in range(n_ext)}
    for j in range(n_ext, count):
        parents = [i for i in range(n_ext) if inside[i, j] and depth[i] == depth[j] - 1]
        if not parents:  # pragma: no cover - nested rings always have one
            return None
        polygons[min(parents, key=lambda i: areas[i])].holes.append(rings[j][::-1].copy())
    return [polygons[i] for i in sorted(polygons, key=lambda i: -areas[i])]


def _rings_touch(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Whether an edge of ring ``a`` crosses or touches an edge of ring ``b``."""
    ea = np.stack([a, np.roll(a, -1, axis=0)], axis=1)
    eb = np.stack([b, np.roll(b, -1, axis=0)], axis=1)
    # only edges that reach into the other ring's box can meet it
    ea = ea[
        np.all(ea.max(axis=1) >= b.min(axis=0), axis=1)
        & np.all(ea.min(axis=1) <= b.max(axis=0), axis=1)
    ]
    eb = eb[
        np.all(eb.max(axis=1) >= a.min(axis=0), axis=1)
        & np.all(eb.min(axis=1) <= a.max(axis=0), axis=1)
    ]
    if len(ea) == 0 or len(eb) == 0:
        return False
    q0, q1 = eb[None, :, 0], eb[None, :, 1]
    for start in range(0, len(ea), 256):  # bounded memory for long rings
        chunk = ea[start : start + 256]
        p0, p1 = chunk[:, None, 0], chunk[:, None, 1]
        d1 = _cross(q0, q1, p0)
        d2 = _cross(q0, q1, p1)
        d3 = _cross(p0, p1, q0)
        d4 = _cross(p0, p1, q1)
        meet = (d1 * d2 <= 0) & (d3 * d4 <= 0)
        # collinear segments meet only when their boxes overlap
        collinear = (d1 == 0) & (d2 == 0)
        boxes = np.all(
            np.maximum(np.minimum(p0, p1), np.minimum(q0, q1))
            <= np.minimum(np.maximum(p0, p1), np.maximum(q0, q1)),
            axis=-1,
        )
        if np.any(meet & (~collinear | boxes)):
            return True
    return False


# --------------------------------------------------------------------------- polylines


def interpolate_polylines(l0: ArrayLike, l1: ArrayLike, t: float) -> NDArray[np.float64]:
    """Interpolate an open polyline between two keyframes.

    ``l1`` is reversed when that brings its vertices closer to ``l0`` (least squares over 256
    arc-length samples). Both curves are then sampled at the union of their vertices'
    arc-length fractions, so both keyframes are reproduced exactly at t = 0 and 1.

    Returns
    -------
    ndarray (M, 2) float64
    """
    a = as_points(l0, "l0", min_points=2)
    b = as_points(l1, "l1", min_points=2)
    tf = _check_t(t)
    n = _ALIGN_SAMPLES
    sa = resample_open(a, n)
    sb = resample_open(b, n)
    if np.sum((sa - sb[::-1]) ** 2) < np.sum((sa - sb) ** 2):
        b = b[::-1]
    ua = _open_params(a)
    ub = _open_params(b)
    u = np.unique(np.concatenate([ua, ub]))
    u = u[np.concatenate([[True], np.diff(u) > 1e-9])]
    pa = _sample_open(a, u)
    pb = _sample_open(b, u)
    return (1.0 - tf) * pa + tf * pb


def _open_params(line: NDArray[np.float64]) -> NDArray[np.float64]:
    seg = np.hypot(*np.diff(line, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    return s / s[-1] if s[-1] > 0 else np.linspace(0.0, 1.0, len(line))


def _sample_open(line: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.float64]:
    s = _open_params(line)
    return np.column_stack([np.interp(u, s, line[:, 0]), np.interp(u, s, line[:, 1])])


# --------------------------------------------------------------------------- tracks

_TRACK_OPTIONS: dict[str, set[str]] = {
    "bbox": set(),
    "point": set(),
    "primitive": set(),
    "polygon": set(),
    "polyline": set(),
    "bitmask": {"spacing", "method", "match_components", "preserve_area"},
}


def interpolate_track(
    keyframes: Mapping[int, Any],
    shape_kind: str,
    slices: Iterable[int] | None = None,
    **options: Any,
) -> dict[int, Any]:
    """Derived keyframes of a track for the slices between its manual keyframes.

    Parameters
    ----------
    keyframes
        Manual keyframes: slice index -> geometry of ``shape_kind`` (see the module docstring).
        At least two.
    shape_kind
        One of ``"bbox"``, ``"point"``, ``"primitive"``, ``"polygon"``, ``"polyline"``,
        ``"bitmask"``.
    slices
        Slices wanted; only those strictly between the first and last manual keyframe and not
        manual themselves are returned (no extrapolation). Default: all of them.
    **options
        For ``"bitmask"``: ``spacing``, ``method``, ``match_components``, ``preserve_area`` of
        :func:`~.mask_interpolation.interpolate_masks`. Other kinds take none.

    Returns
    -------
    dict
        Slice index -> interpolated geometry, in the same form as the inputs.

    Raises
    ------
    LabelError
        Fewer than two keyframes, an unknown ``shape_kind`` or option, or invalid geometry.
    """
    if shape_kind not in SHAPE_KINDS:
        raise LabelError(f"shape_kind must be one of {', '.join(SHAPE_KINDS)}; got {shape_kind!r}.")
    unknown = set(options) - _TRACK_OPTIONS[shape_kind]
    if unknown:
        allowed = sorted(_TRACK_OPTIONS[shape_kind]) or ["none"]
        raise LabelError(
            f"unknown option(s) {sorted(unknown)} for shape_kind {shape_kind!r}; allowed: "
            f"{', '.join(allowed)}."
        )
    zs = _check_keys(keyframes)
    if shape_kind == "bitmask":
        return dict(interpolate_masks(dict(keyframes), slices, **options))
    keyset = set(zs)
    wanted = range(zs[0] + 1, zs[-1]) if slices is None else slices
    targets = sorted({int(s) for s in wanted if zs[0] < int(s) < zs[-1] and int(s) not in keyset})
    out: dict[int, Any] = {}
    for gi in range(len(zs) - 1):
        z0, z1 = zs[gi], zs[gi + 1]
        gap = [s for s in targets if z0 < s < z1]
        if not gap:
            continue
        ts = [(s - z0) / (z1 - z0) for s in gap]
        g0, g1 = keyframes[z0], keyframes[z1]
        if shape_kind == "polygon":
            parts0, single0 = _as_parts(g0, f"keyframe {z0}")
            parts1, single1 = _as_parts(g1, f"keyframe {z1}")
            for s, value in zip(
                gap, _interpolate_pair(parts0, single0, parts1, single1, ts), strict=True
            ):
                out[s] = value
            continue
        for s, tk in zip(gap, ts, strict=True):
            if shape_kind == "bbox":
                out[s] = interpolate_boxes(g0, g1, tk)
            elif shape_kind == "point":
                out[s] = interpolate_points(g0, g1, tk)
            elif shape_kind == "primitive":
                out[s] = interpolate_primitives(g0, g1, tk)
            else:
                out[s] = interpolate_polylines(g0, g1, tk)
    return out
