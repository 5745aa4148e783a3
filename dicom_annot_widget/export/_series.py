"""Checks shared by the exports: does this series belong to these labels, can the file be
written there?"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..io import Series
from ..labels import Labels
from .masks import ExportError

__all__ = ["check_output_path", "check_series"]


def check_output_path(path: Any, suffixes: Sequence[str] = ()) -> Path:
    """``path`` as a :class:`Path` whose folder exists (and whose name ends in one of
    ``suffixes``, when given)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    p = Path(path)
    if suffixes and not p.name.lower().endswith(tuple(suffixes)):
        raise ExportError(f"path: {str(p)!r} must end in {' or '.join(suffixes)}")
    if not p.parent.is_dir():
        raise ExportError(f"path: folder {str(p.parent)!r} does not exist")
    return p


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
