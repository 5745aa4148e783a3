"""Multiplanar reformats and maximum intensity projections of a volume (the page computes the
same images from its copy of the series: ``js/render/planes.ts``).

Planes use the label document's names and axes (``labels.geometry.plane_to_voxel``): "axial"
is the volume's own slices ``volume[k]``, "coronal" takes rows as slices ``volume[:, row, :]``
and "sagittal" takes columns as slices ``volume[:, :, column]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["PLANE_AXES", "plane_image", "slab_range"]

#: The volume axis (slice, row, column) that each plane's slice index runs along.
PLANE_AXES: dict[str, int] = {"axial": 0, "coronal": 1, "sagittal": 2}


def slab_range(index: int, slab: int, count: int) -> tuple[int, int]:
    """The slices ``(first, last)`` (inclusive) of a slab of ``slab`` slices around ``index``:
    the extra slice of an even slab goes after it; clipped to ``0 .. count - 1``."""
    if isinstance(slab, bool) or int(slab) != slab or slab < 1:
        raise ValueError(f"slab must be a whole number of slices >= 1, got {slab!r}")
    first = int(index) - (int(slab) - 1) // 2
    return max(0, first), min(int(count) - 1, first + int(slab) - 1)


def plane_image(volume: ArrayLike, plane: str, index: int, slab: int = 1) -> NDArray:
    """The image of slice ``index`` of ``plane``; with ``slab`` > 1 the maximum intensity
    projection of the slab of that many slices around it (see :func:`slab_range`).

    Parameters
    ----------
    volume
        ``(slices, rows, columns)``, or ``(slices, rows, columns, samples)`` for colour (no
        projection then). Give modality values (HU for CT): the maximum of stored values is
        the same only where the rescale slope is one positive value for the whole slab.
    plane
        "axial", "coronal" or "sagittal".
    index
        The slice of that plane: a slice, a row or a column of the volume.

    Returns
    -------
    The image in the volume's dtype: ``(rows, columns)`` axial, ``(slices, columns)``
    coronal, ``(slices, rows)`` sagittal (a new array).
    """
    arr = np.asarray(volume)
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"volume must be (slices, rows, columns[, samples]), got shape {arr.shape}"
        )
    if plane not in PLANE_AXES:
        raise ValueError(f"plane must be one of {', '.join(PLANE_AXES)}, got {plane!r}")
    axis = PLANE_AXES[plane]
    count = arr.shape[axis]
    if isinstance(index, bool) or int(index) != index or not 0 <= index < count:
        raise ValueError(f"{plane} slice must be in [0, {count - 1}], got {index!r}")
    first, last = slab_range(int(index), slab, count)
    if last == first:
        return np.take(arr, int(index), axis=axis)
    if arr.ndim == 4:
        raise ValueError("a maximum intensity projection needs a grey volume, not colour")
    part = np.take(arr, np.arange(first, last + 1), axis=axis)
    return np.max(part, axis=axis)
