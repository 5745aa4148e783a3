"""Window width/level (VOI LUT) as in DICOM PS3.3 C.11.2.1.2.1 and C.11.2.1.3.2, the reference
for the page."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["apply_window"]


def apply_window(
    values: npt.ArrayLike, center: float, width: float, *, exact: bool | None = None
) -> npt.NDArray[np.uint8]:
    """Map modality values to 8-bit grey with DICOM's linear window functions, as the page does.

    Parameters
    ----------
    values
        Modality values (HU for CT), any shape.
    center, width
        Window centre and width in the same units.
    exact
        ``False``: VOI LUT function LINEAR (PS3.3 C.11.2.1.2.1), meant for integer values
        (widths below 1 are treated as 1); ``True``: LINEAR_EXACT (C.11.2.1.3.2), for any
        positive width. Default: LINEAR_EXACT for floating-point ``values`` (float pixel data,
        or a fractional rescale, which is what a series' ``get_slice`` gives then), LINEAR for
        integers: the page's rule.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of the same shape: 0 at or below the window, 255 above it, linear in
        between, rounded half away from zero as the page does (``Math.round`` on positives).
    """
    arr = np.asarray(values)
    if exact is None:
        exact = arr.dtype.kind == "f"
    c = float(center)
    v = arr.astype(np.float64)
    if exact:
        w = float(width)
        if not w > 0:
            raise ValueError(f"window width must be positive, got {width!r}")
        lo, hi = c - w / 2, c + w / 2
        scaled = ((v - c) / w + 0.5) * 255
    else:
        w = max(float(width), 1.0)
        lo = c - 0.5 - (w - 1) / 2
        hi = c - 0.5 + (w - 1) / 2
        scaled = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255 if w > 1 else np.zeros_like(v)
    grey = np.floor(scaled + 0.5)
    grey = np.where(v <= lo, 0, np.where(v > hi, 255, grey))
    return np.clip(grey, 0, 255).astype(np.uint8)
