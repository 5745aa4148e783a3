"""Shape-based interpolation of bitmask keyframes along the slice direction.

The method (benchmarked in ``benchmarks/interpolation.py``):

1. **Signed distance fields on boxes.** Each keyframe mask is turned into a signed distance
   field ``d = EDT(outside) - EDT(inside)`` (``scipy.ndimage.distance_transform_edt``, negative
   inside, in pixels or in the unit of ``spacing``), computed on the object's bounding box plus
   a small margin only, in float32. The result is exact: the nearest voxel of the other kind is
   always inside that box.
2. **Component matching.** Connected components (8-connected) of consecutive keyframes are
   grouped when they overlap; a component that overlaps nothing is matched to the nearest
   component of the other keyframe whose centroid is within three times the sum of their
   equivalent radii. Groups interpolate independently, so components that do not overlap are
   never smeared together; splits and merges are handled by the distance fields of the group.
   A non-overlapping matched group of similar size (areas within a factor 3: a thin structure
   that moved) is interpolated in a frame that moves with its centroid along a Catmull-Rom
   trajectory, so it translates instead of fading out and in. A component with no partner
   shrinks uniformly and disappears halfway to the keyframe that lacks it (an object appears
   the same way). An all-False keyframe means the object is absent on that slice.
3. **Monotone cubic in the slice direction.** Within a gap ``z1 < z < z2`` each pixel's
   distance is a cubic Hermite interpolant using the neighbouring keyframes ``z0`` and ``z3`` of
   the same group for the tangents: central differences inside a chain of matched groups; at
   its ends (first or last keyframe of the track, or where a component appears or vanishes)
   the tangent of the parabola through the three keyframes there, so a shape that grows or
   shrinks ever faster (or slower) towards the end of a chain keeps that trend instead of
   being cut to the secant. Tangents are Fritsch-Carlson limited, so the value stays between
   the two bracketing keyframes' values and no pixel inside, or outside, both flips. A gap
   with no neighbouring keyframe on either side is linear. The curvature term is blended in
   with the gap length: gaps of 2 slices are linear, gaps of 4 or more fully cubic.
4. **Area correction.** Averaging distance fields shrinks thin and curved shapes. For gaps of
   3 or more slices the level set is raised (the shape grows by at most one pixel) until its
   area reaches ``r**2`` where ``r`` is the monotone-cubic interpolation of the keyframes'
   ``sqrt(area)`` (exact for a cone: a disc whose radius changes linearly).

Masks are only read on the objects' bounding boxes; distance fields are float32 boxes; the
output masks are the only full-size arrays allocated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels._checks import as_mask, as_spacing

__all__ = ["interpolate_mask_volume", "interpolate_masks", "signed_distance"]

_STRUCT8 = np.ones((3, 3), dtype=bool)
_MARGIN = 2
_MATCH_FACTOR = 3.0
_MOVE_AREA_RATIO = 3.0
Box = tuple[int, int, int, int]  # r0, r1, c0, c1 (half-open)


@dataclass
class _Key:
    """A keyframe: its mask, components and their statistics."""

    z: int
    mask: NDArray[np.bool_]
    box: Box | None
    labels: NDArray[np.int32] | None = None  # labels of the crop mask[box]
    n: int = 0
    area: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    centroid: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)))


@dataclass
class _Group:
    a: frozenset[int]
    b: frozenset[int]
    overlapping: bool


def _mask_box(mask: NDArray[np.bool_]) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _make_key(z: int, mask: NDArray[np.bool_]) -> _Key:
    box = _mask_box(mask)
    key = _Key(z, mask, box)
    if box is None:
        return key
    r0, r1, c0, c1 = box
    labels, n = ndi.label(mask[r0:r1, c0:c1], structure=_STRUCT8)
    index = np.arange(1, n + 1)
    key.labels = labels.astype(np.int32, copy=False)
    key.n = int(n)
    key.area = np.asarray(ndi.sum_labels(np.ones_like(labels), labels, index), dtype=np.float64)
    cen = np.asarray(ndi.center_of_mass(np.ones_like(labels), labels, index), dtype=np.float64)
    key.centroid = cen.reshape(-1, 2) + np.array([r0, c0], dtype=np.float64)
    return key


def _intersect(a: Box, b: Box) -> Box | None:
    r0, r1 = max(a[0], b[0]), min(a[1], b[1])
    c0, c1 = max(a[2], b[2]), min(a[3], b[3])
    if r1 <= r0 or c1 <= c0:
        return None
    return r0, r1, c0, c1


def _union(boxes: Iterable[Box]) -> Box:
    bl = list(boxes)
    return (
        min(b[0] for b in bl),
        max(b[1] for b in bl),
        min(b[2] for b in bl),
        max(b[3] for b in bl),
    )


def _grow(box: Box, margin: int, shape: tuple[int, int]) -> Box:
    return (
        max(box[0] - margin, 0),
        min(box[1] + margin, shape[0]),
        max(box[2] - margin, 0),
        min(box[3] + margin, shape[1]),
    )


def _match(ka: _Key, kb: _Key, spacing: tuple[float, float]) -> list[_Group]:
    """Group the components of two consecutive keyframes (see the module docstring)."""
    if ka.n == 0 or kb.n == 0:
        return [_Group(frozenset([i]), frozenset(), False) for i in range(1, ka.n + 1)] + [
            _Group(frozenset(), frozenset([j]), False) for j in range(1, kb.n + 1)
        ]
    assert ka.box is not None and kb.box is not None
    assert ka.labels is not None and kb.labels is not None
    edges: set[tuple[int, int]] = set()
    inter = _intersect(ka.box, kb.box)
    if inter is not None:
        r0, r1, c0, c1 = inter
        la = ka.labels[r0 - ka.box[0] : r1 - ka.box[0], c0 - ka.box[2] : c1 - ka.box[2]]
        lb = kb.labels[r0 - kb.box[0] : r1 - kb.box[0], c0 - kb.box[2] : c1 - kb.box[2]]
        both = (la > 0) & (lb > 0)
        if both.any():
            codes = np.unique(la[both].astype(np.int64) * (kb.n + 1) + lb[both])
            edges = {(int(c // (kb.n + 1)), int(c % (kb.n + 1))) for c in codes}
    overlapping = set(edges)
    in_a = {i for i, _ in edges}
    in_b = {j for _, j in edges}
    sp = np.asarray(spacing)
    ra = np.sqrt(ka.area * float(np.prod(sp)) / np.pi)
    rb = np.sqrt(kb.area * float(np.prod(sp)) / np.pi)
    diff = (ka.centroid[:, None, :] - kb.centroid[None, :, :]) * sp
    dist = np.hypot(diff[..., 0], diff[..., 1]) / (ra[:, None] + rb[None, :])
    for i in range(1, ka.n + 1):
        if i not in in_a:
            j = int(np.argmin(dist[i - 1])) + 1
            if dist[i - 1, j - 1] < _MATCH_FACTOR:
                edges.add((i, j))
    for j in range(1, kb.n + 1):
        if j not in in_b:
            i = int(np.argmin(dist[:, j - 1])) + 1
            if dist[i - 1, j - 1] < _MATCH_FACTOR:
                edges.add((i, j))
    # Union-find over nodes ("a", i) / ("b", j).
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i in range(1, ka.n + 1):
        find(("a", i))
    for j in range(1, kb.n + 1):
        find(("b", j))
    for i, j in edges:
        parent[find(("a", i))] = find(("b", j))
    members: dict[tuple[str, int], tuple[set[int], set[int]]] = {}
    for i in range(1, ka.n + 1):
        members.setdefault(find(("a", i)), (set(), set()))[0].add(i)
    for j in range(1, kb.n + 1):
        members.setdefault(find(("b", j)), (set(), set()))[1].add(j)
    groups = []
    for sa, sb in members.values():
        ov = any((i, j) in overlapping for i in sa for j in sb)
        groups.append(_Group(frozenset(sa), frozenset(sb), ov))
    return groups


class _SdfCache:
    """Signed distance fields of (keyframe, component set), computed on boxes and reused."""

    def __init__(self, shape: tuple[int, int], spacing: tuple[float, float]) -> None:
        self.shape = shape
        self.spacing = spacing
        self._store: dict[tuple[int, frozenset[int]], tuple[Box, NDArray[np.float32]]] = {}

    def get(self, key: _Key, comps: frozenset[int], region: Box, hint: Box | None) -> NDArray:
        """SDF of the union of ``comps`` of ``key`` over ``region`` (float32, region's shape)."""
        assert key.box is not None and key.labels is not None
        ck = (key.z, comps)
        cached = self._store.get(ck)
        if cached is None or _intersect(cached[0], region) != region:
            own = self._comp_box(key, comps)
            # The hint (neighbouring keyframes' box) lets one whole-mask field serve several
            # gaps; a partial group gets a field on its own box only.
            whole = len(comps) == key.n
            boxes = [region, own] + ([hint] if hint is not None and whole else [])
            work = _grow(_union(boxes), _MARGIN, self.shape)
            cached = (work, self._compute(key, comps, work))
            self._store[ck] = cached
        work, sdf = cached
        r0, r1, c0, c1 = region
        return sdf[r0 - work[0] : r1 - work[0], c0 - work[2] : c1 - work[2]]

    @staticmethod
    def _comp_box(key: _Key, comps: frozenset[int]) -> Box:
        assert key.box is not None and key.labels is not None
        if len(comps) == key.n:
            return key.box
        sub = np.isin(key.labels, list(comps))
        b = _mask_box(sub)
        assert b is not None
        return b[0] + key.box[0], b[1] + key.box[0], b[2] + key.box[2], b[3] + key.box[2]

    def _compute(self, key: _Key, comps: frozenset[int], work: Box) -> NDArray[np.float32]:
        assert key.box is not None and key.labels is not None
        canvas = np.zeros((work[1] - work[0], work[3] - work[2]), dtype=bool)
        inter = _intersect(key.box, work)
        if inter is not None:
            r0, r1, c0, c1 = inter
            lab = key.labels[r0 - key.box[0] : r1 - key.box[0], c0 - key.box[2] : c1 - key.box[2]]
            src = lab > 0 if len(comps) == key.n else np.isin(lab, list(comps))
            canvas[r0 - work[0] : r1 - work[0], c0 - work[2] : c1 - work[2]] = src
        return signed_distance(canvas, self.spacing)


def signed_distance(
    mask: NDArray[np.bool_], spacing: Sequence[float] = (1.0, 1.0)
) -> NDArray[np.float32]:
    """Signed Euclidean distance of a 2-D mask: ``EDT(outside) - EDT(inside)``, float32.

    Negative inside (-1 on the border pixels at unit spacing), positive outside. Pixels beyond
    the array edge count as neither inside nor outside. An empty mask gives +inf everywhere and a
    full one -inf.
    """
    if not mask.any() or mask.all():
        # No boundary: use a finite bound larger than any distance in the array.
        bound = float(np.hypot(*(np.asarray(mask.shape) * np.asarray(spacing)))) + 1.0
        return np.full(mask.shape, bound if not mask.any() else -bound, dtype=np.float32)
    outside = ndi.distance_transform_edt(~mask, sampling=spacing)
    inside = ndi.distance_transform_edt(mask, sampling=spacing)
    out = np.subtract(outside, inside, dtype=np.float32)
    return out


def _tangents(
    p: Sequence[Any],
    z: tuple[float | None, float, float, float | None],
    lam: float,
) -> tuple[Any, Any, float]:
    """Fritsch-Carlson limited tangents at ``p[1]`` and ``p[2]``, blended towards the secant.

    ``p`` holds the values (scalars or arrays) at the stencil ``z`` (``p[0]``/``p[3]`` may be
    None: one-sided). Interior tangents are central differences over the neighbours; at a
    chain end (one neighbour missing) the tangent is that of the parabola through the three
    keyframes there, so a trend that accelerates or slows down towards the end is followed
    instead of being cut to the secant; with no neighbour at all both tangents are the secant.
    Returns ``(lam * (m1 - delta), lam * (m2 - delta), h)``, the deviations from the secant
    slope ``delta``, which keep the interpolant within ``[p1, p2]``.
    """
    z0, z1, z2, z3 = z
    h = z2 - z1
    if lam == 0.0:
        return 0.0, 0.0, h
    delta = np.subtract(p[2], p[1]) / h
    m1: Any = delta
    m2: Any = delta
    if p[0] is not None and z0 is not None:
        m1 = np.subtract(p[2], p[0]) / (z2 - z0)
        if p[3] is None or z3 is None:
            m2 = _end_slope(delta, np.subtract(p[1], p[0]) / (z1 - z0), h, z1 - z0)
    if p[3] is not None and z3 is not None:
        m2 = np.subtract(p[3], p[1]) / (z3 - z1)
        if p[0] is None or z0 is None:
            m1 = _end_slope(delta, np.subtract(p[3], p[2]) / (z3 - z2), h, z3 - z2)
    bound = 3.0 * np.abs(delta)
    m1 = np.where(m1 * delta <= 0, 0.0, np.clip(m1, -bound, bound))
    m2 = np.where(m2 * delta <= 0, 0.0, np.clip(m2, -bound, bound))
    return lam * (m1 - delta), lam * (m2 - delta), h


def _end_slope(delta: Any, other: Any, h: float, h_other: float) -> Any:
    """Slope at the free end of a gap of length ``h`` and secant slope ``delta``.

    ``other`` is the secant slope of the adjacent gap (length ``h_other``). The result is the
    derivative, at the free end, of the parabola through the three keyframes: ``delta`` pushed
    away from ``other`` (``(3 * delta - other) / 2`` for equal gaps).
    """
    return ((2.0 * h + h_other) * delta - h * other) / (h + h_other)


def _hermite(p1: Any, p2: Any, dev1: Any, dev2: Any, h: float, t: float) -> Any:
    """Cubic Hermite written as the linear interpolant plus the curvature correction.

    With zero deviations the result is exactly ``(1 - t) * p1 + t * p2``.
    """
    lin = (1.0 - t) * p1 + t * p2
    if np.isscalar(dev1) and np.isscalar(dev2) and dev1 == 0.0 and dev2 == 0.0:
        return lin
    t2 = t * t
    t3 = t2 * t
    return lin + ((t3 - 2.0 * t2 + t) * h) * dev1 + ((t3 - t2) * h) * dev2


def _blend(gap: float) -> float:
    """Weight of the cubic curvature term for a gap of ``gap`` slices (0 at 2, 1 from 4)."""
    return float(np.clip((gap - 2.0) / 2.0, 0.0, 1.0))


def interpolate_masks(
    keyframes: Mapping[int, NDArray[np.bool_]],
    slices: Iterable[int] | None = None,
    *,
    spacing: Sequence[float] | None = None,
    method: Literal["cubic", "linear"] = "cubic",
    match_components: bool = True,
    preserve_area: bool = True,
) -> dict[int, NDArray[np.bool_]]:
    """Interpolate 2-D bitmask keyframes of one object onto the slices between them.

    Parameters
    ----------
    keyframes
        Manual keyframes: slice index -> boolean mask of shape (rows, cols); all the same
        shape. At least two. An all-False mask means the object is absent on that slice.
    slices
        Slices to compute. Only slices strictly between the first and the last keyframe that
        are not keyframes themselves are computed (there is no extrapolation); others are
        ignored. Default: all of them.
    spacing
        In-plane pixel size ``(row, col)`` (e.g. DICOM PixelSpacing) so that distances are
        isotropic on anisotropic grids. Default 1, 1.
    method
        ``"cubic"`` (default): monotone cubic through up to four keyframes per gap;
        ``"linear"``: linear between the two bracketing keyframes.
    match_components
        Group and match connected components between keyframes (default). False interpolates
        the whole masks' distance fields, like the classic shape-based interpolation.
    preserve_area
        Correct the shrinkage of distance-field averaging (see the module docstring).

    Returns
    -------
    dict
        Slice index -> new boolean mask of shape (rows, cols), for every computed slice.

    Raises
    ------
    LabelError
        Fewer than two keyframes, masks that are not 2-D, or masks of different shapes.
    """
    if method not in ("cubic", "linear"):
        raise LabelError(f"method must be 'cubic' or 'linear'; got {method!r}.")
    zs = _check_keys(keyframes)
    masks = [as_mask(keyframes[z], f"keyframe {z}", ndim=2) for z in zs]
    shape = masks[0].shape
    for z, m in zip(zs, masks, strict=True):
        if m.shape != shape:
            raise LabelError(
                f"keyframe {z} has shape {m.shape} but keyframe {zs[0]} has {shape}; all "
                "keyframe masks of a track must have the same shape."
            )
    sp_any = as_spacing(spacing, "spacing", ndim=2)
    sp = (sp_any[0], sp_any[1])
    keyset = set(zs)
    wanted = range(zs[0] + 1, zs[-1]) if slices is None else slices
    targets = sorted({int(s) for s in wanted if zs[0] < int(s) < zs[-1] and int(s) not in keyset})
    out: dict[int, NDArray[np.bool_]] = {s: np.zeros(shape, dtype=bool) for s in targets}
    if not targets:
        return out
    state = _Track(zs, masks, shape, sp, method, match_components, preserve_area)
    for gi in range(len(zs) - 1):
        gap_targets = [s for s in targets if zs[gi] < s < zs[gi + 1]]
        if gap_targets:
            state.fill_gap(gi, gap_targets, out)
    return out


def _check_keys(keyframes: Mapping[int, object]) -> list[int]:
    if not isinstance(keyframes, Mapping):
        raise LabelError(
            "keyframes must be a mapping of slice index -> geometry; got "
            f"{type(keyframes).__name__}."
        )
    zs: list[int] = []
    for z in keyframes:
        if isinstance(z, bool) or not isinstance(z, (int, np.integer)):
            raise LabelError(f"keyframe slice indices must be integers; got {z!r}.")
        zs.append(int(z))
    if len(zs) < 2:
        raise LabelError(
            f"interpolation needs at least two manual keyframes; got {len(zs)}"
            + (f" (slice {zs[0]})." if zs else ".")
        )
    return sorted(zs)


class _Track:
    """Per-call state of :func:`interpolate_masks`."""

    def __init__(
        self,
        zs: list[int],
        masks: list[NDArray[np.bool_]],
        shape: tuple[int, int],
        spacing: tuple[float, float],
        method: str,
        match_components: bool,
        preserve_area: bool,
    ) -> None:
        self.zs = zs
        self.shape = shape
        self.spacing = spacing
        self.cubic = method == "cubic"
        self.match = match_components
        self.preserve_area = preserve_area
        self.keys = [_make_key(z, m) for z, m in zip(zs, masks, strict=True)]
        self.cache = _SdfCache(shape, spacing)
        self._groups: dict[int, list[_Group]] = {}
        # Work boxes for whole-mask distance fields: the keyframe and its neighbours within two
        # keyframes, so one field serves every gap that needs it.
        self.hints: list[Box | None] = []
        for i in range(len(zs)):
            near = [k.box for k in self.keys[max(i - 2, 0) : i + 3] if k.box is not None]
            self.hints.append(_union(near) if near else None)

    def groups(self, gi: int) -> list[_Group]:
        if gi not in self._groups:
            ka, kb = self.keys[gi], self.keys[gi + 1]
            if self.match or ka.n == 0 or kb.n == 0:
                self._groups[gi] = _match(ka, kb, self.spacing)
            else:
                whole = _Group(frozenset(range(1, ka.n + 1)), frozenset(range(1, kb.n + 1)), True)
                self._groups[gi] = [whole]
        return self._groups[gi]

    def _neighbour(self, gi: int, comps: frozenset[int], before: bool) -> frozenset[int]:
        """Components of the keyframe before (after) gap ``gi`` chained to ``comps``."""
        if before:
            if gi == 0:
                return frozenset()
            found: set[int] = set()
            for g in self.groups(gi - 1):
                if g.b & comps:
                    found |= g.a
            return frozenset(found)
        if gi + 2 >= len(self.zs):
            return frozenset()
        found = set()
        for g in self.groups(gi + 1):
            if g.a & comps:
                found |= g.b
        return frozenset(found)

    def fill_gap(self, gi: int, targets: list[int], out: dict[int, NDArray[np.bool_]]) -> None:
        for group in self.groups(gi):
            if not group.a or not group.b:
                self._vanish(gi, group, targets, out)
            else:
                self._morph(gi, group, targets, out)

    def _area(self, key: _Key, comps: frozenset[int]) -> float:
        return float(sum(key.area[i - 1] for i in comps))

    def _centroid(self, key: _Key, comps: frozenset[int]) -> NDArray[np.float64]:
        idx = np.fromiter(sorted(comps), dtype=np.int64) - 1
        w = key.area[idx]
        return np.asarray((key.centroid[idx] * w[:, None]).sum(axis=0) / w.sum())

    def _vanish(
        self, gi: int, group: _Group, targets: list[int], out: dict[int, NDArray[np.bool_]]
    ) -> None:
        """A component without partner shrinks uniformly and is gone halfway across the gap."""
        present = group.a or group.b
        key = self.keys[gi] if group.a else self.keys[gi + 1]
        own = self.cache._comp_box(key, present)
        region = _grow(own, _MARGIN, self.shape)
        d = self.cache.get(key, present, region, None)
        depth = float(-d.min())
        z1, z2 = self.zs[gi], self.zs[gi + 1]
        r0, r1, c0, c1 = region
        for s in targets:
            t = (s - z1) / (z2 - z1)
            w = t if group.a else 1.0 - t
            if w >= 0.5:
                continue
            out[s][r0:r1, c0:c1] |= d + (2.0 * w * depth) < 0

    def _morph(
        self, gi: int, group: _Group, targets: list[int], out: dict[int, NDArray[np.bool_]]
    ) -> None:
        ka, kb = self.keys[gi], self.keys[gi + 1]
        stencil: list[tuple[_Key, frozenset[int], Box | None] | None] = [
            None,
            (ka, group.a, self.hints[gi]),
            (kb, group.b, self.hints[gi + 1]),
            None,
        ]
        if self.cubic:
            before = self._neighbour(gi, group.a, before=True)
            if before:
                stencil[0] = (self.keys[gi - 1], before, self.hints[gi - 1])
            after = self._neighbour(gi, group.b, before=False)
            if after:
                stencil[3] = (self.keys[gi + 2], after, self.hints[gi + 2])
        zst: tuple[float | None, float, float, float | None] = (
            None if stencil[0] is None else float(stencil[0][0].z),
            float(ka.z),
            float(kb.z),
            None if stencil[3] is None else float(stencil[3][0].z),
        )
        lam = _blend(kb.z - ka.z) if self.cubic else 0.0
        # Area target: interpolate the equivalent radius sqrt(area), exact for cones.
        areas = [None if st is None else np.sqrt(self._area(st[0], st[1])) for st in stencil]
        a_dev1, a_dev2, h = _tangents(areas, zst, lam)
        # Area correction only for gaps longer than two slices (like the cubic term).
        tau_max = float(min(self.spacing)) * float(np.clip(kb.z - ka.z - 2, 0, 1))
        area_lo, area_hi = sorted((self._area(ka, group.a), self._area(kb, group.b)))

        if group.overlapping or area_hi > _MOVE_AREA_RATIO * area_lo:
            # Static frame: the result lies within the two bracketing masks' box (+1 ring).
            own = _union([self.cache._comp_box(ka, group.a), self.cache._comp_box(kb, group.b)])
            region = _grow(own, _MARGIN, self.shape)
            fields = [
                None if st is None else self.cache.get(st[0], st[1], region, st[2])
                for st in stencil
            ]
            d_dev1, d_dev2, _ = _tangents(fields, zst, lam)
            r0, r1, c0, c1 = region
            for s in targets:
                t = (s - ka.z) / (kb.z - ka.z)
                value = np.asarray(_hermite(fields[1], fields[2], d_dev1, d_dev2, h, t))
                out[s][r0:r1, c0:c1] |= self._level(value, areas, a_dev1, a_dev2, h, t, tau_max)
            return

        # Moving frame: shift every field so the centroids follow a Catmull-Rom trajectory.
        cents = [None if st is None else self._centroid(st[0], st[1]) for st in stencil]
        c_dev1, c_dev2, _ = self._trajectory_tangents(cents, zst)
        traj: dict[int, NDArray[np.float64]] = {}
        for s in targets:
            t = (s - ka.z) / (kb.z - ka.z)
            traj[s] = np.asarray(_hermite(cents[1], cents[2], c_dev1, c_dev2, h, t))
        boxes: list[Box] = []
        for st, c in zip(stencil, cents, strict=True):
            if st is None or c is None:
                continue
            own = self.cache._comp_box(st[0], st[1])
            for p in [*traj.values(), c]:
                off = p - c
                boxes.append(
                    (
                        int(np.floor(own[0] + off[0])),
                        int(np.ceil(own[1] + off[0])),
                        int(np.floor(own[2] + off[1])),
                        int(np.ceil(own[3] + off[1])),
                    )
                )
        region = _grow(_union(boxes), _MARGIN + 1, self.shape)
        if region[1] <= region[0] or region[3] <= region[2]:
            return
        fields = [
            None if st is None else self.cache.get(st[0], st[1], region, None) for st in stencil
        ]
        r0, r1, c0, c1 = region
        for s in targets:
            t = (s - ka.z) / (kb.z - ka.z)
            moved: list[Any] = []
            for f, c in zip(fields, cents, strict=True):
                if f is None or c is None:
                    moved.append(None)
                    continue
                off = traj[s] - c
                if np.all(np.abs(off) < 1e-9):
                    moved.append(f)
                else:
                    moved.append(ndi.shift(f, off, order=1, mode="nearest"))
            d_dev1, d_dev2, _ = _tangents(moved, zst, lam)
            value = np.asarray(_hermite(moved[1], moved[2], d_dev1, d_dev2, h, t))
            out[s][r0:r1, c0:c1] |= self._level(value, areas, a_dev1, a_dev2, h, t, tau_max)

    @staticmethod
    def _trajectory_tangents(
        cents: list[NDArray[np.float64] | None],
        zst: tuple[float | None, float, float, float | None],
    ) -> tuple[Any, Any, float]:
        """Catmull-Rom (unlimited) tangent deviations of the centroid trajectory."""
        z0, z1, z2, z3 = zst
        h = z2 - z1
        c1, c2 = cents[1], cents[2]
        assert c1 is not None and c2 is not None
        delta = (c2 - c1) / h
        m1 = delta if cents[0] is None or z0 is None else (c2 - cents[0]) / (z2 - z0)
        m2 = delta if cents[3] is None or z3 is None else (cents[3] - c1) / (z3 - z1)
        return m1 - delta, m2 - delta, h

    def _level(
        self,
        e: NDArray,
        areas: list[float | None],
        a_dev1: Any,
        a_dev2: Any,
        h: float,
        t: float,
        tau_max: float,
    ) -> NDArray[np.bool_]:
        """Zero level set of ``e``, grown (by at most ``tau_max``) to the interpolated area."""
        res: NDArray[np.bool_] = e <= 0
        if not self.preserve_area or tau_max <= 0:
            return res
        a1, a2 = areas[1], areas[2]
        assert a1 is not None and a2 is not None
        target = round(float(_hermite(a1, a2, a_dev1, a_dev2, h, t)) ** 2)
        have = int(np.count_nonzero(res))
        if have >= target or target >= e.size:
            return res
        flat = e.ravel()
        tau = float(np.partition(flat, target - 1)[target - 1])
        tau = min(max(tau, 0.0), tau_max)
        return e <= tau if tau > 0 else res


def interpolate_mask_volume(
    volume: NDArray[np.bool_],
    keyframes: Iterable[int],
    *,
    axis: int = 0,
    inplace: bool = False,
    spacing: Sequence[float] | None = None,
    method: Literal["cubic", "linear"] = "cubic",
    match_components: bool = True,
    preserve_area: bool = True,
) -> NDArray[np.bool_]:
    """Fill the slices of a 3-D object mask between its manual keyframe slices.

    Parameters
    ----------
    volume
        Boolean mask, any shape (n0, n1, n2); slices are taken along ``axis``.
    keyframes
        Indices along ``axis`` of the manual keyframes (at least two); their content is kept.
    axis
        Slice axis (0 for axial slices of a (slices, rows, cols) volume).
    inplace
        Write into ``volume`` instead of a copy.
    spacing, method, match_components, preserve_area
        As in :func:`interpolate_masks`; ``spacing`` is the in-plane ``(row, col)`` size of the
        slices as they come out of ``numpy.moveaxis(volume, axis, 0)``.

    Returns
    -------
    ndarray of bool
        The volume with every slice strictly between the first and last keyframe that is not a
        keyframe replaced by its interpolation. No float copy of the volume is made.
    """
    vol = np.asarray(volume)
    if vol.ndim != 3 or vol.dtype != np.bool_:
        raise LabelError(
            f"volume must be a 3-D boolean array; got {vol.ndim}-D of dtype {vol.dtype}."
        )
    if not -3 <= axis < 3:
        raise LabelError(f"axis must be 0, 1 or 2; got {axis}.")
    out = vol if inplace else vol.copy()
    view = np.moveaxis(out, axis, 0)
    ks = sorted({int(k) for k in keyframes})
    for k in ks:
        if not 0 <= k < view.shape[0]:
            raise LabelError(
                f"keyframe {k} is outside the volume's {view.shape[0]} slices along axis {axis}."
            )
    derived = interpolate_masks(
        {k: view[k] for k in ks},
        spacing=spacing,
        method=method,
        match_components=match_components,
        preserve_area=preserve_area,
    )
    for s, m in derived.items():
        view[s] = m
    return out
