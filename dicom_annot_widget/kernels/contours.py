"""Conversions between masks and polygons, and small polygon utilities.

Conventions
-----------
* Polygons are float arrays of shape (N, 2) holding ``(x, y)`` = ``(column, row)`` vertices in
  voxel coordinates (pixel centres at integers). A ring is implicitly closed: the last vertex
  connects back to the first and is not repeated.
* A pixel belongs to a polygon when its centre lies inside it (even-odd rule; the pixels
  ``skimage.draw.polygon`` gives, by a faster scanline fill), so a
  polygon drawn along pixel edges (half-integer coordinates) covers exactly the pixels it
  encloses.
* :func:`mask_to_polygons` traces boundaries at the 0.5 level of the mask, i.e. half-way between
  pixel centres. Such a boundary never passes through a pixel centre, so
  ``polygons_to_mask(mask_to_polygons(m), m.shape) == m`` exactly (when no simplification
  tolerance is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from skimage import measure

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels._checks import as_mask, as_points, as_positive, as_shape

__all__ = [
    "PolygonWithHoles",
    "mask_to_polygons",
    "mask_to_ring",
    "polygon_area",
    "polygons_to_mask",
    "resample_closed",
    "resample_open",
    "split_keyhole",
]


class PolygonWithHoles(NamedTuple):
    """One polygon: an outer ring and zero or more holes, each an (N, 2) float64 xy array.

    The exterior winds counter-clockwise in (x, y) with y pointing down the rows (positive
    :func:`polygon_area`), holes wind the other way.
    """

    exterior: NDArray[np.float64]
    holes: list[NDArray[np.float64]]


def polygon_area(ring: ArrayLike) -> float:
    """Signed shoelace area of a closed ring (N, 2) xy; positive for the exterior orientation."""
    p = np.asarray(ring, dtype=np.float64)
    if p.shape[0] < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _drop_collinear(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    """Remove vertices lying exactly on the segment between their neighbours (lossless)."""
    if len(ring) <= 3:
        return ring
    prev = np.roll(ring, 1, axis=0)
    nxt = np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - prev[:, 0]) * (nxt[:, 1] - ring[:, 1]) - (ring[:, 1] - prev[:, 1]) * (
        nxt[:, 0] - ring[:, 0]
    )
    keep = np.abs(cross) > 1e-12
    if keep.sum() < 3:
        return ring
    return ring[keep]


def mask_to_polygons(mask: ArrayLike, *, tolerance: float = 0.0) -> list[PolygonWithHoles]:
    """Trace the outlines of a 2-D mask as polygons with holes.

    Parameters
    ----------
    mask
        Boolean (or 0/1 integer) array of shape (rows, cols).
    tolerance
        Douglas-Peucker simplification tolerance in pixels (0: exact outline; collinear vertices
        are always removed, which is lossless).

    Returns
    -------
    list of PolygonWithHoles
        One entry per 8-connected... more precisely per connected region of foreground as
        separated by the 0.5 iso-line (diagonally touching pixels form one region), largest area
        first. Vertices are xy float64 in voxel coordinates.
    """
    m = as_mask(mask, "mask", ndim=2)
    tol = as_positive(tolerance, "tolerance", allow_zero=True)
    if not m.any():
        return []
    padded = np.pad(m, 1).astype(np.float32)
    contours = measure.find_contours(
        padded, 0.5, fully_connected="high", positive_orientation="high"
    )
    exteriors: list[tuple[NDArray[np.float64], float]] = []
    holes: list[tuple[NDArray[np.float64], float]] = []
    for c in contours:
        # (row, col) closed -> (x, y) open, undo the padding, and reverse so that exteriors
        # have a positive shoelace area in (x, y).
        ring = c[-2::-1, ::-1] - 1.0
        if tol > 0:
            simplified = measure.approximate_polygon(np.vstack([ring, ring[:1]]), tol)[:-1]
            if len(simplified) >= 3:
                ring = simplified
        ring = _drop_collinear(np.ascontiguousarray(ring, dtype=np.float64))
        area = polygon_area(ring)
        if area > 0:
            exteriors.append((ring, area))
        elif area < 0:
            holes.append((ring, -area))
    exteriors.sort(key=lambda e: -e[1])
    result = [PolygonWithHoles(ring, []) for ring, _ in exteriors]
    for hole, h_area in holes:
        # Parent: the smallest exterior that contains the hole's first vertex and is larger.
        probe = hole[:1]
        best = -1
        for i in range(len(exteriors) - 1, -1, -1):
            ring, area = exteriors[i]
            if area > h_area and measure.points_in_poly(probe, ring)[0]:
                best = i
                break
        if best >= 0:
            result[best].holes.append(hole)
    return result


def _rings_of(polygons: Any) -> list[tuple[NDArray[np.float64], list[NDArray[np.float64]]]]:
    """Normalise the accepted polygon inputs to [(exterior, holes), ...]."""
    if isinstance(polygons, PolygonWithHoles):
        items: list[Any] = [polygons]
    elif isinstance(polygons, np.ndarray) and polygons.ndim == 2:
        items = [polygons]
    elif (
        isinstance(polygons, Sequence)
        and len(polygons) > 0
        and not isinstance(polygons[0], PolygonWithHoles)
        and np.ndim(polygons[0]) == 1
    ):
        items = [polygons]  # a single ring given as a list of (x, y) pairs
    elif isinstance(polygons, Sequence):
        items = list(polygons)
    else:
        raise LabelError(
            "polygons must be an (N, 2) array, a PolygonWithHoles, or a list of those; got "
            f"{type(polygons).__name__}."
        )
    out = []
    for i, item in enumerate(items):
        if isinstance(item, PolygonWithHoles):
            ext = as_points(item.exterior, f"polygon {i} exterior", min_points=3)
            hs = [as_points(h, f"polygon {i} hole", min_points=3) for h in item.holes]
        else:
            ext = as_points(item, f"polygon {i}", min_points=3)
            hs = []
        out.append((ext, hs))
    return out


def _fill(
    ring: NDArray[np.float64], shape: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pixels whose centre lies inside ``ring`` (even-odd rule), clipped to ``shape``.

    A vectorised scanline fill: for every pixel row crossed, the x positions where the ring's
    edges cross the row's centre line (half-open in y, so a vertex on the line counts once),
    sorted and paired; a centre exactly on a left crossing is inside, on a right one outside.
    The same pixels as ``skimage.draw.polygon`` wherever no centre lies on the outline, in a
    fraction of its time (it tests every pixel of the bounding box against every edge)."""
    rows, cols = shape
    empty = np.zeros(0, dtype=np.intp)
    x0, y0 = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    sloped = y0 != y1
    x0, y0, x1, y1 = x0[sloped], y0[sloped], x1[sloped], y1[sloped]
    if x0.size == 0:
        return empty, empty
    top = max(0, int(np.ceil(min(y0.min(), y1.min()))))
    bottom = min(rows - 1, int(np.floor(max(y0.max(), y1.max()))))
    if bottom < top:
        return empty, empty
    y = np.arange(top, bottom + 1, dtype=np.float64)[:, None]
    crosses = ((y0 <= y) & (y < y1)) | ((y1 <= y) & (y < y0))
    with np.errstate(invalid="ignore", divide="ignore"):
        xs = x0 + (y - y0) * ((x1 - x0) / (y1 - y0))
    xs = np.sort(np.where(crosses, xs, np.inf), axis=1)
    width = int(crosses.sum(axis=1).max())
    xs = xs[:, : width - width % 2]
    if xs.shape[1] == 0:
        return empty, empty
    starts = np.clip(np.ceil(xs[:, 0::2]), 0, cols)
    ends = np.clip(np.ceil(xs[:, 1::2]), 0, cols)  # exclusive; inf (no pair) -> cols
    valid = np.isfinite(xs[:, 1::2]) & (ends > starts)
    run_rows = np.broadcast_to(np.arange(top, bottom + 1)[:, None], starts.shape)[valid]
    run_starts = starts[valid].astype(np.intp)
    lengths = ends[valid].astype(np.intp) - run_starts
    total = int(lengths.sum())
    if total == 0:
        return empty, empty
    rr = np.repeat(run_rows.astype(np.intp), lengths)
    offsets = np.arange(total, dtype=np.intp) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cc = np.repeat(run_starts, lengths) + offsets
    return rr, cc


def polygons_to_mask(polygons: Any, shape: Sequence[int]) -> NDArray[np.bool_]:
    """Rasterise polygons into a boolean mask of ``shape`` (rows, cols).

    Parameters
    ----------
    polygons
        An (N, 2) xy array (one ring), a :class:`PolygonWithHoles`, or a list of either.
        Every exterior is filled (union), then every polygon's holes are cleared from it.
    shape
        ``(rows, cols)`` of the output.

    Returns
    -------
    ndarray of bool
        Pixels whose centre lies inside (see the module docstring); parts outside the image
        are clipped.
    """
    shp = as_shape(shape, "shape", ndim=2)
    out = np.zeros(shp, dtype=bool)
    for ext, holes in _rings_of(polygons):
        part = np.zeros(shp, dtype=bool) if holes else out
        rr, cc = _fill(ext, shp)  # type: ignore[arg-type]
        part[rr, cc] = True
        if holes:
            for h in holes:
                rr, cc = _fill(h, shp)  # type: ignore[arg-type]
                part[rr, cc] = False
            out |= part
    return out


def _cumulative_length(points: NDArray[np.float64]) -> NDArray[np.float64]:
    seg = np.hypot(*np.diff(points, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample_closed(ring: ArrayLike, n: int, start: float = 0.0) -> NDArray[np.float64]:
    """``n`` points evenly spaced by arc length along a closed ring (N, 2).

    ``start`` is the arc-length fraction (0..1) where the first sample goes.
    """
    p = np.asarray(ring, dtype=np.float64)
    closed = np.vstack([p, p[:1]])
    s = _cumulative_length(closed)
    total = s[-1]
    if total <= 0:
        return np.repeat(p[:1], n, axis=0)
    u = ((start + np.arange(n) / n) % 1.0) * total
    return np.column_stack([np.interp(u, s, closed[:, 0]), np.interp(u, s, closed[:, 1])])


def resample_open(line: ArrayLike, n: int) -> NDArray[np.float64]:
    """``n`` points evenly spaced by arc length along an open polyline (N, 2), ends included."""
    p = np.asarray(line, dtype=np.float64)
    s = _cumulative_length(p)
    total = s[-1]
    if total <= 0 or n == 1:
        return np.repeat(p[:1], n, axis=0)
    u = np.linspace(0.0, total, n)
    return np.column_stack([np.interp(u, s, p[:, 0]), np.interp(u, s, p[:, 1])])


# -- polygons with holes and parts as one ring ("keyhole" form) ---------------------------------


def _cross(o: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]) -> Any:
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0]
    )


def _crosses(p: NDArray[np.float64], q: NDArray[np.float64], edges: NDArray[np.float64]) -> bool:
    """Whether segment p-q properly crosses (or touches inside) any of ``edges`` (E, 2, 2),
    ignoring edges that share an endpoint with it."""
    if edges.size == 0:
        return False
    a, b = edges[:, 0], edges[:, 1]
    shares = (np.all(a == p, axis=1) | np.all(b == p, axis=1) | np.all(a == q, axis=1)) | np.all(
        b == q, axis=1
    )
    d1 = _cross(a, b, p[None])
    d2 = _cross(a, b, q[None])
    d3 = _cross(p[None], q[None], a)
    d4 = _cross(p[None], q[None], b)
    proper = (d1 * d2 < 0) & (d3 * d4 < 0)
    # an edge endpoint lying on the bridge (collinear touch) also blocks it
    on = ((d3 == 0) & _between(p, q, a)) | ((d4 == 0) & _between(p, q, b))
    return bool(np.any((proper | on) & ~shares))


def _between(p: NDArray[np.float64], q: NDArray[np.float64], r: NDArray[np.float64]) -> Any:
    lo = np.minimum(p, q)
    hi = np.maximum(p, q)
    return np.all((r >= lo) & (r <= hi), axis=1)


def _edges(rings: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    if not rings:
        return np.zeros((0, 2, 2))
    return np.concatenate([np.stack([r, np.roll(r, -1, axis=0)], axis=1) for r in rings])


def _splice(
    ring: NDArray[np.float64], other: NDArray[np.float64], blockers: list[NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Join ``other`` to ``ring`` by the shortest bridge between their vertices that crosses no
    edge of ``ring``, ``other`` or ``blockers``: ring[..i], other[j..], other[..j], ring[i..]."""
    distance = np.hypot(
        ring[:, None, 0] - other[None, :, 0], ring[:, None, 1] - other[None, :, 1]
    ).ravel()
    edges = _edges([ring, other, *blockers])
    order = np.argsort(distance, kind="stable")
    chosen = int(order[0])
    for candidate in order[:400]:
        i, j = divmod(int(candidate), len(other))
        if not _crosses(ring[i], other[j], edges):
            chosen = int(candidate)
            break
    i, j = divmod(chosen, len(other))
    loop = np.roll(other, -j, axis=0)
    return np.vstack([ring[: i + 1], loop, loop[:1], ring[i:]])


def mask_to_ring(polygons: list[PolygonWithHoles]) -> NDArray[np.float64]:
    """One ring (N, 2) xy covering polygons with holes and several parts ("keyhole" form).

    Each hole, then each further part, is joined to the growing ring by a zero-width bridge
    (the segment between their closest mutually visible vertices, traversed both ways). Holes
    wind opposite to exteriors, so the ring fills the same pixels as ``polygons`` under the
    even-odd and the non-zero rule (up to pixel centres lying exactly on a bridge).
    :func:`split_keyhole` takes such a ring apart again.
    """
    if not polygons:
        raise LabelError("mask_to_ring: no polygon to join")
    parts: list[NDArray[np.float64]] = []
    for index, polygon in enumerate(polygons):
        ring = polygon.exterior
        others = [p.exterior for i, p in enumerate(polygons) if i != index]
        for h, hole in enumerate(polygon.holes):
            ring = _splice(ring, hole, polygon.holes[h + 1 :] + others)
        parts.append(ring)
    ring = parts[0]
    for index, part in enumerate(parts[1:], start=1):
        ring = _splice(ring, part, parts[index + 1 :])
    return ring


def _bridge_pair(ring: NDArray[np.float64]) -> tuple[int, int] | None:
    """Positions ``(p, q)`` of a bridge walked both ways (edge q = edge p reversed, edges i ->
    i + 1) with no other bridge edge between p and q (an innermost one), or None."""
    n = len(ring)
    keys = list(map(tuple, ring.tolist()))
    if len(set(keys)) == n:  # no repeated vertex: no bridge (the usual case, no more work)
        return None
    edges = {(keys[i], keys[(i + 1) % n]) for i in range(n)}
    bridges = [i for i in range(n) if (keys[(i + 1) % n], keys[i]) in edges]
    for index, p in enumerate(bridges):
        q = bridges[(index + 1) % len(bridges)]
        if q != p and (keys[q], keys[(q + 1) % n]) == (keys[(p + 1) % n], keys[p]):
            return p, q
    return None


def _unbridge(ring: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """The rings a keyhole ring joins: cut at its bridges until none is left (pieces with
    fewer than 3 distinct vertices or no area, e.g. zero-width spikes, are dropped)."""
    out = []
    stack = [ring]
    while stack:
        r = stack.pop()
        pair = _bridge_pair(r) if len(r) >= 4 else None
        if pair is None:
            if len(r) >= 3 and polygon_area(r) != 0.0:
                out.append(r)
            continue
        p, q = pair
        rolled = np.roll(r, -p, axis=0)  # bridge p now goes from rolled[0] to rolled[1]
        q = (q - p) % len(r)  # and comes back from rolled[q] (== rolled[1]) to rolled[0]
        stack.append(rolled[q + 1 :])  # rolled[0] ... before the bridge, closing on rolled[0]
        stack.append(rolled[1:q])  # what the bridge leads to, closing on rolled[1]
    return out


def split_keyhole(ring: ArrayLike) -> list[PolygonWithHoles]:
    """Polygons with holes that a "keyhole" ring (see :func:`mask_to_ring`) joins.

    A bridge is an edge whose reverse is also an edge of the ring (a zero-width cut, compared
    exactly, as rounding keeps equal coordinates equal). The ring is cut at its bridges into
    simple rings; a ring inside an even number of the others is an exterior, inside an odd
    number a hole of the innermost exterior around it (the even-odd rule the ring fills by).

    Parameters
    ----------
    ring
        (N, 2) xy; a last vertex repeating the first is ignored.

    Returns
    -------
    list of PolygonWithHoles
        Largest exterior first; exteriors wind with positive :func:`polygon_area`, holes the
        other way. A ring without bridges gives one polygon without holes (oriented so); an
        empty list when nothing of non-zero area is left.
    """
    p = as_points(ring, "ring", min_points=3)
    if len(p) > 3 and np.array_equal(p[0], p[-1]):
        p = p[:-1]
    rings = _unbridge(p)
    if len(rings) <= 1:
        return [PolygonWithHoles(_with_sign(r, 1.0), []) for r in rings]
    areas = np.array([abs(polygon_area(r)) for r in rings])
    lo = np.array([r.min(axis=0) for r in rings])
    hi = np.array([r.max(axis=0) for r in rings])
    count = len(rings)
    inside = np.zeros((count, count), dtype=bool)  # inside[i, j]: ring j lies inside ring i
    for i in range(count):
        for j in range(count):
            if i != j and areas[i] > areas[j] and np.all(lo[i] <= lo[j]) and np.all(hi[j] <= hi[i]):
                inside[i, j] = measure.points_in_poly(rings[j], rings[i]).mean() > 0.5
    depth = inside.sum(axis=0)
    polygons: dict[int, PolygonWithHoles] = {
        i: PolygonWithHoles(_with_sign(rings[i], 1.0), [])
        for i in range(count)
        if depth[i] % 2 == 0
    }
    for j in range(count):
        if depth[j] % 2 == 1:
            parents = [i for i in polygons if inside[i, j] and depth[i] == depth[j] - 1]
            if parents:
                polygons[min(parents, key=lambda i: areas[i])].holes.append(
                    _with_sign(rings[j], -1.0)
                )
    return [polygons[i] for i in sorted(polygons, key=lambda i: -areas[i])]


def _with_sign(ring: NDArray[np.float64], sign: float) -> NDArray[np.float64]:
    """``ring`` wound so that its signed area has the sign of ``sign``."""
    return ring[::-1].copy() if polygon_area(ring) * sign < 0 else ring
