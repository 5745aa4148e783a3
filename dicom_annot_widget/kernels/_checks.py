"""Argument checks shared by the kernels.

Every check raises :class:`~dicom_annot_widget.errors.LabelError` with a sentence that names the
argument and says what is wrong, so a message handler can pass it straight to the user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicom_annot_widget.errors import LabelError

__all__ = [
    "as_mask",
    "as_points",
    "as_positive",
    "as_shape",
    "as_spacing",
    "bbox_of",
]


def as_points(value: Any, name: str, *, dims: int = 2, min_points: int = 1) -> NDArray[np.float64]:
    """Return ``value`` as a finite float64 array of shape (N, dims).

    A single point of shape (dims,) is accepted and returned as (1, dims).
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise LabelError(
            f"{name} must be an array of numbers of shape (N, {dims}); {exc}."
        ) from exc
    if arr.ndim == 1 and arr.shape[0] == dims:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dims:
        raise LabelError(
            f"{name} must have shape (N, {dims}) (one row per point, coordinates "
            f"{'x, y' if dims == 2 else 'x, y, z'}); got shape {arr.shape}."
        )
    if arr.shape[0] < min_points:
        raise LabelError(f"{name} needs at least {min_points} point(s); got {arr.shape[0]}.")
    if not np.all(np.isfinite(arr)):
        raise LabelError(f"{name} contains NaN or infinite coordinates.")
    return arr


def as_mask(value: Any, name: str, *, ndim: int | None = 2) -> NDArray[np.bool_]:
    """Return ``value`` as a boolean array (no copy when it already is one)."""
    arr = np.asarray(value)
    if ndim is not None and arr.ndim != ndim:
        raise LabelError(f"{name} must be a {ndim}-D array; got {arr.ndim}-D of shape {arr.shape}.")
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "biu":
            raise LabelError(
                f"{name} must be a boolean (or integer 0/1) mask; got dtype {arr.dtype}."
            )
        arr = arr != 0
    return arr


def as_shape(value: Any, name: str, *, ndim: int) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ``ndim`` positive ints."""
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{name} must be a tuple of {ndim} positive integers; {exc}.") from exc
    if len(shape) != ndim or any(v <= 0 for v in shape):
        raise LabelError(f"{name} must be a tuple of {ndim} positive integers; got {value!r}.")
    return shape


def as_spacing(value: Sequence[float] | None, name: str, *, ndim: int) -> tuple[float, ...]:
    """Return the voxel spacing as ``ndim`` positive floats (all 1.0 when ``value`` is None)."""
    if value is None:
        return (1.0,) * ndim
    try:
        spacing = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{name} must be {ndim} positive numbers; {exc}.") from exc
    if len(spacing) != ndim or not all(math.isfinite(v) and v > 0 for v in spacing):
        raise LabelError(
            f"{name} must be {ndim} positive finite numbers in array-axis order; got {value!r}."
        )
    return spacing


def as_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float that is > 0 (or >= 0 with ``allow_zero``)."""
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{name} must be a number; got {value!r}.") from exc
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        bound = "zero or positive" if allow_zero else "positive"
        raise LabelError(f"{name} must be a finite {bound} number; got {value!r}.")
    return out


def bbox_of(mask: NDArray[np.bool_]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Half-open bounding box ``(start, stop)`` of the True elements, or None if there are none."""
    start: list[int] = []
    stop: list[int] = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other)) if other else np.flatnonzero(mask)
        if hit.size == 0:
            return None
        start.append(int(hit[0]))
        stop.append(int(hit[-1]) + 1)
    return tuple(start), tuple(stop)
