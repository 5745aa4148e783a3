"""Window width/level (VOI LUT) as in DICOM PS3.3 C.11.2.1.2.1, the reference for the page."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["apply_window"]


def apply_window(values: npt.ArrayLike, center: float, width: float) -> npt.NDArray[np.uint8]:
    """Map modality values to 8-bit grey with DICOM's linear window function.

    Parameters
    ----------
    values
        Modality values (HU for CT), any shape.
    center, width
        Window centre and width in the same units; widths below 1 are treated as 1.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of the same shape: 0 at or below the window, 255 above it, linear in
        between, rounded half away from zero as the page does (``Math.round`` on positives).
    """
    w = max(float(width), 1.0)
    c = float(center)
    v = np.asarray(values, dtype=np.float32)
    lo = c - 0.5 - (w - 1) / 2
    hi = c - 0.5 + (w - 1) / 2
    scaled = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255 if w > 1 else np.zeros_like(v)
    grey = np.floor(scaled + 0.5)
    grey = np.where(v <= lo, 0, np.where(v > hi, 255, grey))
    return np.clip(grey, 0, 255).astype(np.uint8)
