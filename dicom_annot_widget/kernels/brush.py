"""Brush, eraser and threshold brush: which voxels a stroke covers, and sparse mask patches.

Coverage rule (the front end's preview must reproduce it exactly)
-----------------------------------------------------------------
Voxel centres sit at integer coordinates. A stroke is a polyline of pointer samples
``p_0 .. p_{N-1}`` in voxel coordinates (x = column, y = row[, z = slice]); the brush is a disc
(2-D) or a sphere (3-D) of radius ``r``. A voxel ``q`` is covered when its distance to the
stroke polyline is at most ``r``, i.e. it lies inside the disc stamped at *some* point of the
polyline — the union of the discs stamped at every sample and at every point between two
consecutive samples. So fast strokes never leave gaps, and a stroke of one sample is exactly the
disc ``(x - cx)**2 + (y - cy)**2 <= r**2``.

For the segment ``a -> b`` and spacing ``s`` (1 per axis when no spacing is given; the radius is
then in pixels, otherwise in the spacing's unit, e.g. mm), in IEEE float64 and in this order
(``sum`` adds the per-axis terms left to right in the order x, y[, z], starting from 0)::

    d = b - a                                        # per axis
    L2 = sum((d * s) * (d * s))
    t = 0 if L2 == 0 else clip(sum((q - a) * (d * (s * s))) / L2, 0, 1)
    e = (q - (a + t * d)) * s                        # per axis
    covered = sum(e * e) <= r * r

With unit spacing the products by ``s`` are exact, so the rule reduces to the textbook
point-to-segment distance. The threshold brush then keeps the covered voxels whose value ``v``
(modality units: ``stored * slope + intercept``) satisfies ``lo <= v <= hi``; NaN is never in
range.

Everything works on the stroke's bounding box only: the cost of a stamp depends on its radius,
not on the image size.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels._checks import (
    as_mask,
    as_points,
    as_positive,
    as_shape,
    as_spacing,
    bbox_of,
)

__all__ = [
    "MaskPatch",
    "apply_stroke",
    "stroke_mask",
    "stroke_patch",
    "threshold_brush",
    "threshold_patch",
]


@dataclass(frozen=True, eq=False)
class MaskPatch:
    """A boolean sub-array of a mask placed at ``offset``: the sparse form strokes travel in.

    Attributes
    ----------
    offset
        Index of ``data[0, 0(, 0)]`` in the full mask, in array-axis order: ``(row, col)`` for
        2-D masks, ``(slice, row, col)`` for 3-D masks.
    data
        Boolean array; its shape is the size of the bounding box.
    """

    offset: tuple[int, ...]
    data: NDArray[np.bool_]

    def __post_init__(self) -> None:
        if len(self.offset) != self.data.ndim:
            raise LabelError(
                f"MaskPatch offset {self.offset} must have one entry per axis of data "
                f"({self.data.ndim})."
            )
        if self.data.dtype != np.bool_:
            raise LabelError(f"MaskPatch data must be boolean; got dtype {self.data.dtype}.")

    @property
    def stop(self) -> tuple[int, ...]:
        """Exclusive end index per axis."""
        return tuple(o + n for o, n in zip(self.offset, self.data.shape, strict=True))

    @property
    def slices(self) -> tuple[slice, ...]:
        """Index expression selecting the patch's box in the full mask."""
        return tuple(slice(o, e) for o, e in zip(self.offset, self.stop, strict=True))

    def to_dense(self, shape: Sequence[int]) -> NDArray[np.bool_]:
        """The patch as a full-size mask of ``shape`` (False outside the box)."""
        shape = as_shape(shape, "shape", ndim=self.data.ndim)
        self._check_fits(shape)
        out = np.zeros(shape, dtype=bool)
        out[self.slices] = self.data
        return out

    def write_into(self, mask: NDArray[np.bool_]) -> None:
        """Overwrite the patch's box of ``mask`` with ``data`` (in place)."""
        if mask.ndim != self.data.ndim:
            raise LabelError(
                f"mask must be {self.data.ndim}-D to receive this patch; got {mask.ndim}-D."
            )
        self._check_fits(mask.shape)
        mask[self.slices] = self.data

    def _check_fits(self, shape: Sequence[int]) -> None:
        if any(o < 0 for o in self.offset) or any(
            e > n for e, n in zip(self.stop, shape, strict=True)
        ):
            raise LabelError(
                f"the patch box {self.offset}..{self.stop} does not fit in a mask of shape "
                f"{tuple(shape)}."
            )


def _empty_patch(ndim: int) -> MaskPatch:
    return MaskPatch((0,) * ndim, np.zeros((0,) * ndim, dtype=bool))


def stroke_patch(
    points: ArrayLike,
    radius: float,
    shape: Sequence[int],
    *,
    spacing: Sequence[float] | None = None,
) -> MaskPatch:
    """Voxels covered by a brush stroke, as a patch over the stroke's bounding box.

    Parameters
    ----------
    points
        Pointer samples, float, shape (N, 2) as ``(x, y)`` for a disc brush on a slice, or
        (N, 3) as ``(x, y, z)`` for a sphere brush in a volume. Voxel coordinates (centres at
        integers). N >= 1.
    radius
        Brush radius, > 0: in pixels when ``spacing`` is None, else in the unit of ``spacing``.
    shape
        Shape of the mask the stroke is painted into: ``(rows, cols)`` or
        ``(slices, rows, cols)``.
    spacing
        Voxel size in array-axis order (``(row, col)`` or ``(slice, row, col)``, e.g. mm), so
        the brush is round in physical space on anisotropic grids. None means 1 per axis.

    Returns
    -------
    MaskPatch
        Boolean patch clipped to the image; its box is the stroke's bounding box (empty, with a
        zero-size ``data``, when the stroke lies entirely outside the image). See the module
        docstring for the exact coverage rule.
    """
    try:
        ndim = len(shape)
    except TypeError:
        ndim = -1
    if ndim not in (2, 3):
        raise LabelError(f"shape must be (rows, cols) or (slices, rows, cols); got {shape!r}.")
    shape_t = as_shape(shape, "shape", ndim=ndim)
    pts_xy = as_points(points, "points", dims=ndim)
    r = as_positive(radius, "radius")
    sp = np.asarray(as_spacing(spacing, "spacing", ndim=ndim), dtype=np.float64)

    # Work in array-axis order: (row, col) or (slice, row, col).
    pts = pts_xy[:, ::-1]
    reach = r / sp  # half-size of the bounding box per axis, in voxels
    lo = np.floor(pts.min(axis=0) - reach).astype(np.int64)
    hi = np.ceil(pts.max(axis=0) + reach).astype(np.int64) + 1
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, np.asarray(shape_t, dtype=np.int64))
    if np.any(hi <= lo):
        return _empty_patch(ndim)
    out = np.zeros(tuple(int(v) for v in hi - lo), dtype=bool)
    r2 = r * r
    sp2 = sp * sp
    segments = [(pts[0], pts[0])] if len(pts) == 1 else list(itertools.pairwise(pts))
    for a, b in segments:
        _paint_segment(out, lo, a, b, reach, r2, sp, sp2)
    return MaskPatch(tuple(int(v) for v in lo), out)


def _paint_segment(
    out: NDArray[np.bool_],
    origin: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    reach: NDArray[np.float64],
    r2: float,
    sp: NDArray[np.float64],
    sp2: NDArray[np.float64],
) -> None:
    """OR the capsule of segment a-b (array-axis order) into ``out`` (whose [0..] is origin)."""
    ndim = out.ndim
    lo = np.maximum(np.floor(np.minimum(a, b) - reach).astype(np.int64), origin)
    hi = np.minimum(
        np.ceil(np.maximum(a, b) + reach).astype(np.int64) + 1, origin + np.asarray(out.shape)
    )
    if np.any(hi <= lo):
        return
    # Open grids of voxel-centre coordinates along each axis.
    axes = [
        np.arange(lo[i], hi[i], dtype=np.float64).reshape(
            [-1 if j == i else 1 for j in range(ndim)]
        )
        for i in range(ndim)
    ]
    d = b - a
    # Sums run over x, y[, z] = reversed array axes, matching the documented order.
    order = list(range(ndim))[::-1]
    length2 = 0.0
    for i in order:
        ds = d[i] * sp[i]
        length2 = length2 + ds * ds
    dist2: Any = 0.0
    if length2 == 0.0:
        for i in order:
            e = (axes[i] - a[i]) * sp[i]
            dist2 = dist2 + e * e
    else:
        proj: Any = 0.0
        for i in order:
            proj = proj + (axes[i] - a[i]) * (d[i] * sp2[i])
        t = np.clip(proj / length2, 0.0, 1.0)
        for i in order:
            e = (axes[i] - (a[i] + t * d[i])) * sp[i]
            dist2 = dist2 + e * e
    covered = np.broadcast_to(dist2 <= r2, tuple(int(v) for v in hi - lo))
    box = tuple(slice(int(lo[i] - origin[i]), int(hi[i] - origin[i])) for i in range(ndim))
    out[box] |= covered


def stroke_mask(
    points: ArrayLike,
    radius: float,
    shape: Sequence[int],
    *,
    spacing: Sequence[float] | None = None,
) -> NDArray[np.bool_]:
    """Dense boolean mask of ``shape`` with the voxels a brush stroke covers.

    Same arguments and coverage rule as :func:`stroke_patch`; prefer the patch form for large
    images (this allocates the whole mask).
    """
    patch = stroke_patch(points, radius, shape, spacing=spacing)
    out = np.zeros(as_shape(shape, "shape", ndim=patch.data.ndim), dtype=bool)
    out[patch.slices] = patch.data
    return out


def threshold_patch(
    patch: MaskPatch,
    image: NDArray[Any],
    lo: float | None,
    hi: float | None,
    *,
    slope: float = 1.0,
    intercept: float = 0.0,
) -> MaskPatch:
    """Keep the voxels of ``patch`` whose value lies in ``[lo, hi]`` (inclusive).

    Parameters
    ----------
    patch
        Stroke footprint, e.g. from :func:`stroke_patch`.
    image
        The slice (rows, cols) or volume (slices, rows, cols) the patch refers to, any real
        dtype (stored values are fine: only the patch's box is read and rescaled).
    lo, hi
        Inclusive intensity range in modality units (HU for CT); None leaves that side open.
    slope, intercept
        Rescale from stored values to modality units: ``value = stored * slope + intercept``.
        The defaults mean ``image`` already holds modality values.

    Returns
    -------
    MaskPatch
        Same box as ``patch``; NaN values are never in range.
    """
    img = np.asarray(image)
    if img.ndim != patch.data.ndim:
        raise LabelError(
            f"image must be {patch.data.ndim}-D like the stroke; got shape {img.shape}."
        )
    if img.dtype.kind not in "biuf":
        raise LabelError(f"image must hold real numbers; got dtype {img.dtype}.")
    lo_f = None if lo is None else float(lo)
    hi_f = None if hi is None else float(hi)
    if lo_f is not None and hi_f is not None and not lo_f <= hi_f:
        raise LabelError(f"the intensity range needs lo <= hi; got lo={lo!r}, hi={hi!r}.")
    if any(math.isnan(v) for v in (lo_f, hi_f) if v is not None):
        raise LabelError("lo and hi must not be NaN (use None for an open side).")
    if patch.data.size == 0:
        return patch
    patch._check_fits(img.shape)
    values = img[patch.slices]
    if slope != 1.0 or intercept != 0.0:
        values = values.astype(np.float64) * float(slope) + float(intercept)
    keep = patch.data.copy()
    if lo_f is not None:
        keep &= values >= lo_f
    if hi_f is not None:
        keep &= values <= hi_f
    return MaskPatch(patch.offset, keep)


def threshold_brush(
    image: NDArray[Any],
    points: ArrayLike,
    radius: float,
    lo: float | None,
    hi: float | None,
    *,
    spacing: Sequence[float] | None = None,
    slope: float = 1.0,
    intercept: float = 0.0,
) -> NDArray[np.bool_]:
    """Dense mask of the stroke's voxels whose value lies in ``[lo, hi]``.

    ``image`` is (rows, cols) with ``points`` (N, 2), or (slices, rows, cols) with ``points``
    (N, 3) for a sphere brush; see :func:`stroke_patch` and :func:`threshold_patch`.
    Returns a boolean array of ``image.shape``.
    """
    img = np.asarray(image)
    patch = stroke_patch(points, radius, img.shape, spacing=spacing)
    patch = threshold_patch(patch, img, lo, hi, slope=slope, intercept=intercept)
    out = np.zeros(img.shape, dtype=bool)
    out[patch.slices] = patch.data
    return out


def apply_stroke(
    mask: NDArray[np.bool_],
    stroke: MaskPatch | NDArray[np.bool_],
    mode: Literal["paint", "erase"] = "paint",
    *,
    inplace: bool = False,
) -> tuple[NDArray[np.bool_], MaskPatch | None]:
    """Paint (OR) or erase (AND NOT) a stroke into a mask and report what changed.

    Parameters
    ----------
    mask
        Boolean mask, (rows, cols) or (slices, rows, cols).
    stroke
        The stroke footprint as a :class:`MaskPatch` (preferred: only its box is touched) or
        as a dense boolean array of ``mask.shape``.
    mode
        ``"paint"`` sets the stroke's voxels, ``"erase"`` clears them.
    inplace
        Modify ``mask`` itself instead of a copy (no full-size copy for 3-D masks).

    Returns
    -------
    new_mask : ndarray of bool
        The updated mask (``mask`` itself when ``inplace``).
    changed : MaskPatch or None
        The smallest box containing every voxel that changed, with the *new* values of that
        box; None when nothing changed. Applying it with :meth:`MaskPatch.write_into` to the
        old mask gives the new one, so only this patch needs to travel.
    """
    if mode not in ("paint", "erase"):
        raise LabelError(f"mode must be 'paint' or 'erase'; got {mode!r}.")
    base = np.asarray(mask)
    if base.dtype != np.bool_:
        raise LabelError(f"mask must be a boolean array; got dtype {base.dtype}.")
    if base.ndim not in (2, 3):
        raise LabelError(f"mask must be 2-D or 3-D; got shape {base.shape}.")
    if isinstance(stroke, MaskPatch):
        patch = stroke
        if patch.data.ndim != base.ndim:
            raise LabelError(
                f"stroke is {patch.data.ndim}-D but mask is {base.ndim}-D; they must match."
            )
        if patch.data.size:
            patch._check_fits(base.shape)
    else:
        dense = as_mask(stroke, "stroke", ndim=base.ndim)
        if dense.shape != base.shape:
            raise LabelError(
                f"stroke has shape {dense.shape} but mask has shape {base.shape}; they must match."
            )
        box = bbox_of(dense)
        if box is None:
            patch = _empty_patch(base.ndim)
        else:
            patch = MaskPatch(box[0], dense[tuple(slice(s, e) for s, e in zip(*box, strict=True))])
    out = base if inplace else base.copy()
    if patch.data.size == 0 or not patch.data.any():
        return out, None
    region = out[patch.slices]
    new = region | patch.data if mode == "paint" else region & ~patch.data
    diff = new != region
    if not diff.any():
        return out, None
    region[...] = new
    box = bbox_of(diff)
    assert box is not None
    start = tuple(o + s for o, s in zip(patch.offset, box[0], strict=True))
    sub = tuple(slice(s, e) for s, e in zip(*box, strict=True))
    return out, MaskPatch(start, new[sub].copy())
