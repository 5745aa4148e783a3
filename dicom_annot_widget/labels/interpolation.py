"""Derived (interpolated) keyframes of object tracks.

The pure logic behind :meth:`~dicom_annot_widget.labels.Labels.interpolate`: it converts
keyframe geometry (:mod:`~dicom_annot_widget.labels.geometry`) to the arrays of the
interpolation kernels (:func:`~dicom_annot_widget.kernels.interpolation.interpolate_track`,
:func:`~dicom_annot_widget.kernels.mask_interpolation.interpolate_masks`), runs them on the
slices between consecutive *manual* keyframes, converts the results back and turns them into
operations (:class:`~dicom_annot_widget.labels.operations.SetKeyframe` with ``manual=False``,
:class:`~dicom_annot_widget.labels.operations.DeleteKeyframe`) that the caller applies as one
edit.

It also decides which derived keyframes must be recomputed after an edit changed some manual
keyframes of an object (:func:`recompute_ops`).

Nothing here changes a document; no widget import.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import LabelError
from ..kernels.interpolation import interpolate_track
from ..kernels.mask_interpolation import interpolate_masks
from .document import LabelDocument, LabelObject
from .geometry import (
    DECIMALS,
    Box,
    Geometry,
    Mask,
    Point,
    Polygon,
    Polyline,
    Primitive,
    parse_geometry,
)
from .ontology import ObjectClass
from .operations import DeleteKeyframe, Operation, SetKeyframe

__all__ = [
    "KERNEL_SHAPES",
    "derived_slices",
    "gap_slices",
    "interpolate_geometries",
    "interpolation_ops",
    "manual_slices",
    "plane_spacing",
    "recompute_ops",
    "recompute_plan",
]

KERNEL_SHAPES: dict[str, str] = {
    "bounding_box": "bbox",
    "point": "point",
    "primitive": "primitive",
    "polygon": "polygon",
    "polyline": "polyline",
    "bitmask": "bitmask",
}
"""Object shape -> ``shape_kind`` of :func:`~dicom_annot_widget.kernels.interpolation.
interpolate_track`."""

_MASK_MARGIN = 8
"""Pixels added around the masks' bounding box (plus a quarter of its size) before the mask
kernel runs on that crop; a result touching the crop's edge is redone on the whole image."""

Spacing = tuple[float, float] | None


# ---------------------------------------------------------------------------- slices


def manual_slices(obj: LabelObject) -> list[int]:
    """Slices of ``obj``'s manual keyframes, ascending."""
    return [k for k, kf in obj.keyframes.items() if kf.manual]


def derived_slices(obj: LabelObject) -> list[int]:
    """Slices of ``obj``'s derived (``manual=False``) keyframes, ascending."""
    return [k for k, kf in obj.keyframes.items() if not kf.manual]


def gap_slices(manual: Sequence[int], start: int, end: int) -> list[int]:
    """Slices strictly between consecutive manual keyframes (sorted ``manual``) that lie in the
    inclusive range ``[start, end]``: the slices interpolation fills."""
    if len(manual) < 2:
        return []
    lo = max(start, manual[0] + 1)
    hi = min(end, manual[-1] - 1)
    taken = set(manual)
    return [k for k in range(lo, hi + 1) if k not in taken]


def _neighbours(manual: Sequence[int], k: int, reach: int) -> tuple[float, float]:
    """The ``reach``-th manual slice below and above ``k`` (``-inf`` / ``inf`` if missing)."""
    i = bisect.bisect_left(manual, k)
    j = bisect.bisect_right(manual, k)
    lo = manual[i - reach] if i - reach >= 0 else -math.inf
    hi = manual[j + reach - 1] if j + reach - 1 < len(manual) else math.inf
    return lo, hi


# ---------------------------------------------------------------------------- geometry


def plane_spacing(affine: Any, plane: str) -> Spacing:
    """In-plane pixel size ``(v, u)`` in mm of ``plane`` from a 4x4 affine mapping
    ``(column, row, slice, 1)`` to mm, or ``None`` without an affine."""
    if affine is None:
        return None
    m = np.asarray(affine, dtype=np.float64)[:3, :3]
    col, row, sl = (float(np.linalg.norm(m[:, i])) for i in range(3))
    pairs = {"axial": (row, col), "coronal": (sl, col), "sagittal": (sl, row)}
    v, u = pairs[plane]
    if not (v > 0 and u > 0 and math.isfinite(v) and math.isfinite(u)):
        return None
    return (v, u)


def _to_kernel(geometry: Geometry) -> Any:
    """A keyframe geometry in the form :func:`interpolate_track` takes (not masks)."""
    if isinstance(geometry, Box):
        return [geometry.x0, geometry.y0, geometry.x1, geometry.y1]
    if isinstance(geometry, Point):
        return [geometry.x, geometry.y]
    if isinstance(geometry, Primitive):
        return {nid: list(p) for nid, p in geometry.nodes.items()}
    if isinstance(geometry, (Polygon, Polyline)):
        return np.array(geometry.xy)  # a writable copy (the kernels own their input)
    raise TypeError(f"no kernel form for {type(geometry).__name__}")  # pragma: no cover


def _ring_area(ring: npt.NDArray[np.float64]) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))) / 2.0


def _clip(points: npt.NDArray[np.float64], width: int, height: int) -> list[list[float]]:
    """Points inside the plane image, rounded to :data:`~.geometry.DECIMALS` decimals
    (rounding again, as stamping an edit does, leaves them as they are)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x = np.clip(p[:, 0], -0.5, width - 0.5)
    y = np.clip(p[:, 1], -0.5, height - 0.5)
    return np.round(np.column_stack([x, y]), DECIMALS).tolist()


def _from_kernel(
    value: Any,
    cls: ObjectClass,
    width: int,
    height: int,
    edges: Sequence[str],
    path: str,
) -> Geometry | None:
    """A kernel result as validated, rounded geometry; ``None`` when it is degenerate (a
    polygon shrunk to nothing, an empty mask)."""
    shape = cls.shape
    data: dict[str, Any]
    if shape == "bounding_box":
        box = np.asarray(value, dtype=np.float64).reshape(4)
        corners = _clip(box.reshape(2, 2), width, height)
        data = {"box": [*corners[0], *corners[1]]}
    elif shape == "point":
        data = {"point": _clip(np.asarray(value), width, height)[0]}
    elif shape == "primitive":
        nodes = {str(k): _clip(np.asarray(v), width, height)[0] for k, v in value.items()}
        data = {"nodes": nodes, "edges": list(edges)}
    elif shape == "polygon":
        rings = [value] if isinstance(value, np.ndarray) else list(value)
        rings = [np.asarray(r, dtype=np.float64) for r in rings if len(r) >= 3]
        if not rings:
            return None
        # a polygon keyframe holds one ring: keep the largest part
        data = {"points": _clip(max(rings, key=_ring_area), width, height)}
    elif shape == "polyline":
        data = {"points": _clip(np.asarray(value), width, height)}
    else:  # bitmask
        mask = np.asarray(value, dtype=np.bool_)
        if not mask.any():
            return None
        return Mask.from_array(mask, path)
    try:
        return parse_geometry(cls, data, width, height, path)
    except LabelError:
        return None  # degenerate after rounding (zero area, a single distinct vertex...)


def _interpolate_masks(
    manual: Mapping[int, Mask], targets: Sequence[int], spacing: Spacing
) -> dict[int, npt.NDArray[np.bool_]]:
    """Mask interpolation on the bounding box of the manual masks (plus a margin), pasted
    back into full plane images; redone on the whole image if a result reaches the crop's
    edge (the shape may then extend beyond it)."""
    arrays = {k: m.to_array() for k, m in manual.items()}
    any_fg = np.logical_or.reduce(list(arrays.values()))
    height, width = any_fg.shape
    rows = np.flatnonzero(any_fg.any(axis=1))
    cols = np.flatnonzero(any_fg.any(axis=0))
    margin_r = _MASK_MARGIN + (int(rows[-1] - rows[0]) + 1) // 4
    margin_c = _MASK_MARGIN + (int(cols[-1] - cols[0]) + 1) // 4
    r0, r1 = max(int(rows[0]) - margin_r, 0), min(int(rows[-1]) + 1 + margin_r, height)
    c0, c1 = max(int(cols[0]) - margin_c, 0), min(int(cols[-1]) + 1 + margin_c, width)
    options: dict[str, Any] = {} if spacing is None else {"spacing": spacing}
    crops = {k: a[r0:r1, c0:c1] for k, a in arrays.items()}
    result = interpolate_masks(crops, targets, **options)
    edge = []
    if r0 > 0:
        edge.append((slice(0, 1), slice(None)))
    if r1 < height:
        edge.append((slice(-1, None), slice(None)))
    if c0 > 0:
        edge.append((slice(None), slice(0, 1)))
    if c1 < width:
        edge.append((slice(None), slice(-1, None)))
    if any(m[e].any() for m in result.values() for e in edge):
        return interpolate_masks(arrays, targets, **options)
    out: dict[int, npt.NDArray[np.bool_]] = {}
    for k, m in result.items():
        full = np.zeros((height, width), dtype=np.bool_)
        full[r0:r1, c0:c1] = m
        out[k] = full
    return out


def interpolate_geometries(
    obj: LabelObject,
    cls: ObjectClass,
    width: int,
    height: int,
    targets: Iterable[int],
    spacing: Spacing = None,
) -> dict[int, Geometry | None]:
    """Interpolated geometry of ``obj`` on each target slice between two of its manual
    keyframes (other targets are ignored).

    Parameters
    ----------
    obj
        The object; its manual keyframes (at least two) are the input.
    cls
        Its object class (for the shape and the primitive template).
    width, height
        Plane image size of the object's plane.
    targets
        Slices wanted.
    spacing
        In-plane ``(v, u)`` pixel size for mask interpolation (isotropic distances).

    Returns
    -------
    dict
        Slice -> geometry, or ``None`` where the interpolation gives nothing valid (a part
        that shrank away, an empty mask).

    Raises
    ------
    LabelError
        If the object has fewer than two manual keyframes, or the kernel refuses the input.
    """
    manual = {k: kf.geometry for k, kf in obj.keyframes.items() if kf.manual}
    zs = sorted(manual)
    if len(zs) < 2:
        raise LabelError(
            f"object {obj.object_id} ({obj.uuid}) has {len(zs)} manual keyframe"
            f"{'' if len(zs) == 1 else 's'}; interpolation needs at least two manual keyframes"
        )
    taken = set(zs)
    wanted = sorted({k for k in targets if zs[0] < k < zs[-1] and k not in taken})
    if not wanted:
        return {}
    kind = KERNEL_SHAPES[cls.shape]
    raw: Mapping[int, Any]
    if kind == "bitmask":
        masks = {k: g for k, g in manual.items() if isinstance(g, Mask)}
        raw = _interpolate_masks(masks, wanted, spacing)
    else:
        raw = interpolate_track({k: _to_kernel(g) for k, g in manual.items()}, kind, wanted)
    out: dict[int, Geometry | None] = {}
    for k in wanted:
        edges: Sequence[str] = ()
        if kind == "primitive":  # edge states of the nearer manual keyframe
            i = bisect.bisect_left(zs, k)
            a, b = zs[i - 1], zs[i]
            near = manual[a] if k - a <= b - k else manual[b]
            assert isinstance(near, Primitive)
            edges = near.edges
        value = raw.get(k)
        path = f"interpolate: object {obj.object_id} slice {k}"
        out[k] = None if value is None else _from_kernel(value, cls, width, height, edges, path)
    return out


def interpolation_ops(
    doc: LabelDocument,
    obj: LabelObject,
    targets: Iterable[int],
    spacing: Spacing = None,
    *,
    fallback_delete: bool = False,
) -> list[Operation]:
    """Operations that put interpolated keyframes (``manual=False``) of ``obj`` on ``targets``.

    An existing derived keyframe on a target is replaced (left alone if the result is the same
    geometry), or deleted when the interpolation gives nothing there; manual keyframes are
    never touched. With ``fallback_delete``, a kernel failure deletes the derived keyframes on
    the targets instead of raising, with a ``RuntimeWarning`` (used when recomputing after an
    edit, so that stale interpolations do not survive an edit the user made).

    Raises
    ------
    LabelError
        If the kernel refuses the input (without ``fallback_delete``), naming the object.
    """
    width, height, _n = doc.plane_size(obj.plane)
    cls = doc.ontology.feature(obj.feature)
    targets = sorted(set(targets))
    try:
        result = interpolate_geometries(obj, cls, width, height, targets, spacing)
    except Exception as exc:
        if not fallback_delete:
            if isinstance(exc, LabelError) and not str(exc).startswith(f"object {obj.object_id} "):
                raise LabelError(
                    f"cannot interpolate object {obj.object_id} ({obj.uuid}): {exc}"
                ) from None
            raise
        warnings.warn(
            f"interpolated keyframes of object {obj.object_id} ({obj.uuid}) could not be "
            f"recomputed ({exc!r}); the stale ones on slices {targets[0]}..{targets[-1]} "
            "are removed",
            RuntimeWarning,
            stacklevel=2,
        )
        result = {}
    ops: list[Operation] = []
    for k in targets:
        current = obj.keyframes.get(k)
        if current is not None and current.manual:
            continue
        geometry = result.get(k)
        if geometry is None:
            if current is not None:
                ops.append(DeleteKeyframe(obj.uuid, k))
        elif current is None or current.geometry != geometry:
            ops.append(SetKeyframe(obj.uuid, k, geometry.to_json(), manual=False))
    return ops


# ---------------------------------------------------------------------------- recompute


def recompute_plan(old: LabelObject, new: LabelObject) -> tuple[list[int], list[int]]:
    """Which derived keyframes of an object to recompute after an edit turned ``old`` into
    ``new``.

    A derived keyframe is *affected* when a manual keyframe that changed (added, deleted,
    geometry or ``manual`` flag changed) lies between its neighbouring manual keyframes before
    or after the edit (for bitmasks, whose cubic interpolation also uses the next keyframe on
    each side, between the second neighbours). Affected derived keyframes of a gap between two
    manual keyframes are recomputed, and so is a manual keyframe that was deleted inside that
    gap; slices of the gap without a keyframe (a derived keyframe deleted by hand) stay
    without one; affected ones no longer between two manual keyframes are deleted.

    Returns
    -------
    (recompute, delete)
        Slices to interpolate again, and derived slices to delete.
    """
    old_derived = derived_slices(old)
    if not old_derived:
        return [], []
    old_manual = {k: kf for k, kf in old.keyframes.items() if kf.manual}
    new_manual = {k: kf for k, kf in new.keyframes.items() if kf.manual}
    changed = sorted(
        k for k in old_manual.keys() | new_manual.keys() if old_manual.get(k) != new_manual.get(k)
    )
    if not changed:
        return [], []
    om, nm = sorted(old_manual), sorted(new_manual)
    reach = 2 if new.shape == "bitmask" else 1
    affected: list[int] = []
    for d in old_derived:
        now = new.keyframes.get(d)
        if now is None or now.manual:
            continue  # the edit itself removed it or made it manual
        lo = min(_neighbours(om, d, reach)[0], _neighbours(nm, d, reach)[0])
        hi = max(_neighbours(om, d, reach)[1], _neighbours(nm, d, reach)[1])
        i = bisect.bisect_left(changed, lo)
        if i < len(changed) and changed[i] <= hi:
            affected.append(d)
    gone = [k for k in changed if k not in new_manual]
    gaps: dict[tuple[int, int], list[int]] = {}
    delete: list[int] = []
    for d in affected:
        lo, hi = _neighbours(nm, d, 1)
        if math.isinf(lo) or math.isinf(hi):
            delete.append(d)
        else:
            gaps.setdefault((int(lo), int(hi)), []).append(d)
    recompute: list[int] = []
    for (lo, hi), ds in gaps.items():
        # the derived slices themselves (and a deleted manual keyframe's): not the slices
        # between them that have none, which someone deleted (QA 24a D6: a derived keyframe
        # deleted in the page came back with the next edit of the track)
        recompute.extend(ds + [k for k in gone if lo < k < hi])
    return sorted(set(recompute)), delete


def recompute_ops(
    doc: LabelDocument,
    before: Mapping[str, LabelObject],
    spacing: Callable[[str], Spacing],
) -> list[Operation]:
    """Operations recomputing the derived keyframes of the objects in ``before`` (their state
    before an edit; ``doc`` holds the state after it) whose manual keyframes changed.

    ``spacing(plane)`` gives the in-plane pixel size for mask interpolation. A kernel failure
    deletes the affected derived keyframes rather than leaving stale ones.
    """
    ops: list[Operation] = []
    for uuid, old in before.items():
        new = doc.objects.get(uuid)
        if new is None or new.shape != old.shape:
            continue
        recompute, delete = recompute_plan(old, new)
        ops.extend(DeleteKeyframe(uuid, k) for k in delete)
        if recompute:
            if len(manual_slices(new)) < 2:  # pragma: no cover - a gap needs two
                continue
            ops.extend(
                interpolation_ops(doc, new, recompute, spacing(new.plane), fallback_delete=True)
            )
    return ops
