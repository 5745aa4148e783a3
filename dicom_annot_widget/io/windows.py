"""Display windows (VOI: center/width in modality values).

A :class:`Window` comes from one of three places, named by its ``source``:

``"dicom"``
    WindowCenter / WindowWidth of the first slice (possibly several, named by
    WindowCenterWidthExplanation), or the FrameVOILUTSequence of an enhanced multi-frame image;
    also each VOI LUT of its VOILUTSequence, as the linear window that spans the LUT's rise
    (:func:`voi_lut_windows`: CR and DX images often carry only a LUT).
``"preset"``
    Standard CT presets (soft tissue, lung, bone, brain, liver, mediastinum).
``"auto"``
    A robust window from the 0.5th and 99.5th percentiles of a few decoded slices (non-CT),
    or the full range of colour images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CT_PRESETS", "Window", "auto_window", "voi_lut_windows"]


@dataclass(frozen=True)
class Window:
    """A display window in modality values (HU for CT).

    Attributes
    ----------
    center
        Window center (DICOM WindowCenter).
    width
        Window width (DICOM WindowWidth), always > 0.
    name
        Human-readable name ("WINDOW1", "Lung", "Auto (0.5-99.5 %)"...). DICOM text: display it
        as text, never as HTML.
    source
        ``"dicom"``, ``"preset"`` or ``"auto"``.
    """

    center: float
    width: float
    name: str
    source: str

    @property
    def lower(self) -> float:
        """Lowest value shown (black for MONOCHROME2)."""
        return self.center - self.width / 2.0

    @property
    def upper(self) -> float:
        """Highest value shown (white for MONOCHROME2)."""
        return self.center + self.width / 2.0

    def to_dict(self) -> dict[str, float | str]:
        """JSON-safe form, e.g. for the widget's synced state."""
        return {
            "center": self.center,
            "width": self.width,
            "name": self.name,
            "source": self.source,
        }


#: CT presets (center, width), values as commonly taught (Radiopaedia "windowing (CT)").
CT_PRESETS: tuple[Window, ...] = (
    Window(40.0, 400.0, "Soft tissue", "preset"),
    Window(-600.0, 1500.0, "Lung", "preset"),
    Window(400.0, 1800.0, "Bone", "preset"),
    Window(40.0, 80.0, "Brain", "preset"),
    Window(30.0, 150.0, "Liver", "preset"),
    Window(50.0, 350.0, "Mediastinum", "preset"),
)


def dicom_windows(
    centers: Sequence[float] | None,
    widths: Sequence[float] | None,
    explanations: Sequence[str] | None,
) -> list[Window]:
    """Windows from (possibly multi-valued) WindowCenter / WindowWidth / explanation values.

    Pairs with a non-positive width are dropped; when the multiplicities differ only the
    complete pairs are used.
    """
    if not centers or not widths:
        return []
    names = list(explanations or [])
    out: list[Window] = []
    for i, (center, width) in enumerate(zip(centers, widths, strict=False)):
        if not (np.isfinite(center) and np.isfinite(width)) or width <= 0:
            continue
        name = names[i].strip() if i < len(names) and names[i].strip() else f"DICOM window {i + 1}"
        out.append(Window(float(center), float(width), name, "dicom"))
    return out


#: A VOI LUT's window spans its inputs from where its output has risen this fraction of its
#: range above its first entry to where it is as far below its last one.
VOI_LUT_RISE = 0.01


def voi_lut_windows(items: Any) -> list[Window]:
    """The linear windows approximating the VOI LUTs of a VOILUTSequence: for each LUT, the
    inputs (modality values) over which its output rises from 1 % to 99 % of its range. A
    LUT's shape between them (often a sigmoid) is not kept: the page windows linearly. Items
    whose LUTDescriptor or LUTData cannot be read are skipped.

    Parameters
    ----------
    items
        The VOILUTSequence (pydicom Sequence), or None.
    """
    out: list[Window] = []
    for i, item in enumerate(items or ()):
        try:
            count, first, _bits = (int(v) for v in item.LUTDescriptor)
            count = count or 65536  # 0 means 2**16 entries (PS3.3 C.11.2.1.1)
            raw = item.LUTData
            if isinstance(raw, (bytes, bytearray)):  # OW: 16-bit words (8-bit LUTs: bytes)
                words = len(raw) >= 2 * count
                data = np.frombuffer(raw, dtype="<u2" if words else np.uint8).astype(np.float64)
            else:
                data = np.asarray(raw, dtype=np.float64).ravel()
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        data = data[:count]
        if data.size < 2 or not np.all(np.isfinite(data)):
            continue
        span = float(data.max() - data.min())
        if span <= 0:
            continue
        # from where the output leaves its first value to where it reaches its last one
        away = np.flatnonzero(np.abs(data - data[0]) >= VOI_LUT_RISE * span)
        near = np.flatnonzero(np.abs(data - data[-1]) >= VOI_LUT_RISE * span)
        if away.size == 0 or near.size == 0:
            continue
        lo, hi = first + float(away[0]), first + float(near[-1]) + 1.0
        if hi <= lo:
            continue
        explanation = str(getattr(item, "LUTExplanation", "") or "").strip()
        name = f"{explanation or f'VOI LUT {i + 1}'} (linear)"
        out.append(Window((lo + hi) / 2.0, hi - lo, name, "dicom"))
    return out


def auto_window(samples: Sequence[NDArray[np.generic]]) -> Window | None:
    """A window spanning the 0.5th to 99.5th percentile of the given slices.

    Parameters
    ----------
    samples
        A few decoded slices in modality values (any shape; they are subsampled).

    Returns
    -------
    Window or None
        ``None`` if there are no finite values.
    """
    parts = [np.asarray(s)[::2, ::2].ravel() if np.ndim(s) >= 2 else np.ravel(s) for s in samples]
    if not parts:
        return None
    values = np.concatenate(parts)
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    lo, hi = np.percentile(values, [0.5, 99.5])
    lo, hi = float(lo), float(hi)
    if hi <= lo:
        lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        # a constant slice: any width shows it; one that survives float rounding at lo
        hi = lo + max(1.0, abs(lo) * 2.0**-20)
    return Window((lo + hi) / 2.0, hi - lo, "Auto (0.5-99.5 %)", "auto")
