"""Checks shared by the exports: does this series belong to these labels?"""

from __future__ import annotations

from typing import Any

from ..io import Series
from ..labels import Labels
from .masks import ExportError

__all__ = ["check_series"]


def check_series(labels: Labels, series: Any) -> Series:
    """``series`` must be an opened :class:`Series` with the labels' shape (and uid, when the
    series has a real one)."""
    if not isinstance(labels, Labels):
        raise TypeError(f"labels: expected a Labels, got {type(labels).__name__}")
    if not isinstance(series, Series):
        raise TypeError(
            f"series: expected a Series (from open_series), got {type(series).__name__}"
        )
    if series.is_color:
        raise ExportError("series: colour (RGB) series cannot carry label exports")
    if tuple(series.shape) != tuple(labels.series.shape):
        raise ExportError(
            f"series: shape {tuple(series.shape)} (slices, rows, columns) is not the labels' "
            f"{tuple(labels.series.shape)}; these labels belong to another series"
        )
    generated = any(s.keyword == "SeriesInstanceUID" for s in series.uid_substitutions)
    if not generated and series.series_instance_uid != labels.series.series_instance_uid:
        raise ExportError(
            f"series: SeriesInstanceUID {series.series_instance_uid} is not the labels' "
            f"{labels.series.series_instance_uid}; these labels belong to another series"
        )
    return series
