"""The notebook widget: a DICOM viewer (and, in later steps, label editor)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..errors import ProtocolError
from ..io import Series, open_series
from .protocol import GetSlices, parse_page_message

__all__ = ["DicomAnnotator"]

log = logging.getLogger(__name__)

_STATIC = files("dicom_annot_widget") / "static"

def _units(series: Series) -> str:
    return "HU" if series.modality == "CT" else ""


def series_info(series: Series, series_id: str) -> dict[str, Any]:
    """The small, PHI-free description of a series that is synced to the page."""
    shape = series.shape
    samples = int(shape[3]) if len(shape) == 4 else 1
    lo, hi = series.value_range
    return {
        "id": series_id,
        "shape": [int(shape[0]), int(shape[1]), int(shape[2])],
        "spacing": [float(s) for s in series.spacing],
        "spacing_known": bool(series.spacing_known),
        "dtype": np.dtype(series.stored_dtype).name,
        "samples_per_pixel": samples,
        "units": _units(series),
        "value_range": [float(lo), float(hi)],
        "windows": [
            {"name": w.name, "center": float(w.center), "width": float(w.width), "source": w.source}
            for w in series.windows
        ],
        "plane": series.plane,
    }


class DicomAnnotator(anywidget.AnyWidget):  # type: ignore[misc]
    """View a DICOM series (or a NIfTI / NumPy volume) inside a notebook.

    Parameters
    ----------
    source
        Anything :func:`dicom_annot_widget.open_series` accepts (a folder, files, datasets, a
        NIfTI file, an array), or an already opened :class:`~dicom_annot_widget.Series`.
    slice
        Slice to show first; defaults to the middle slice.
    window
        ``(center, width)`` in modality units (HU for CT); defaults to the series' default
        window.

    Notes
    -----
    Only small, PHI-free state is synced (shape, spacing, view state). Pixels travel as binary
    messages on request of the page, one slice per message.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    series_info = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    slice = traitlets.Int(0).tag(sync=True)
    window = traitlets.Tuple(traitlets.Float(), traitlets.Float(), default_value=(40.0, 400.0)).tag(
        sync=True
    )

    def __init__(
        self,
        source: Any,
        *,
        slice: int | None = None,  # noqa: A002 - the public name of the trait
        window: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        allowed = {"layout"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(
                f"DicomAnnotator() got unexpected keyword argument(s): {', '.join(sorted(unknown))}"
            )
        series = source if isinstance(source, Series) else open_series(source)
        self._series = series
        self._series_id = "s0"
        n = series.shape[0]
        start = n // 2 if slice is None else slice
        default = series.default_window
        win = (default.center, default.width) if window is None else tuple(window)
        super().__init__(
            series_info=series_info(series, self._series_id),
            slice=start,
            window=win,
            **kwargs,
        )
        self.on_msg(self._on_page_message)

    @property
    def series(self) -> Series:
        """The series shown."""
        return self._series

    @traitlets.validate("slice")
    def _validate_slice(self, proposal: dict[str, Any]) -> int:
        k = int(proposal["value"])
        n = self._series.shape[0]
        if not 0 <= k < n:
            raise traitlets.TraitError(f"slice must be in [0, {n - 1}], got {k}")
        return k

    @traitlets.validate("window")
    def _validate_window(self, proposal: dict[str, Any]) -> tuple[float, float]:
        value = proposal["value"]
        if len(value) != 2:
            raise traitlets.TraitError(f"window must be (center, width), got {value!r}")
        center, width = (float(v) for v in value)
        if not (math.isfinite(center) and math.isfinite(width)) or width <= 0:
            raise traitlets.TraitError(
                f"window must be a finite center and a positive width, got {value!r}"
            )
        return (center, width)

    # -- messages from the page -------------------------------------------------------------

    def _on_page_message(self, _widget: Any, content: Any, buffers: list[bytes]) -> None:
        try:
            request = parse_page_message(
                content, series_id=self._series_id, n_slices=self._series.shape[0]
            )
        except ProtocolError as exc:
            log.warning("refused a message from the page: %s", exc)
            self.send({"type": "error", "message": str(exc)})
            return
        self._send_slices(request)

    def _send_slices(self, request: GetSlices) -> None:
        series = self._series
        series.prefetch(list(request.slices))
        for k in request.slices:
            try:
                stored = series.get_stored_slice(k)
                stored = np.ascontiguousarray(stored, dtype=stored.dtype.newbyteorder("="))
                slope, intercept = series.rescale(k)
            except Exception as exc:  # a broken slice must not break the widget
                self.send({"type": "error", "message": f"slice {k} could not be decoded: {exc}"})
                continue
            self.send(
                {
                    "type": "slice",
                    "series": self._series_id,
                    "index": k,
                    "dtype": stored.dtype.name,
                    "shape": list(stored.shape),
                    "slope": float(slope),
                    "intercept": float(intercept),
                },
                buffers=[memoryview(stored).cast("B")],
            )
