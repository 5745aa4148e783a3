"""Checks shared by the exports: does this series belong to these labels, can the file be
written there, does the series' affine place every slice where its header says?"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DicomAnnotWarning, caller_stacklevel
from ..io import Series
from ..labels import Labels
from .masks import ExportError

__all__ = [
    "POSITION_TOLERANCE",
    "check_distinct_positions",
    "check_output_path",
    "check_series",
    "check_slice_positions",
    "duplicate_positions",
    "header_positions",
]

#: How far (in voxels, along any axis) a slice's ImagePositionPatient may lie from where the
#: series' affine puts that slice; beyond it a NIfTI export (one affine) would misplace it.
POSITION_TOLERANCE = 0.1

#: Slices whose ImagePositionPatient lie closer than this (mm) share one position.
DUPLICATE_TOLERANCE = 1e-3


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
    if p.is_dir():
        raise ExportError(
            f"path: {str(p)!r} is a folder, not a file; give the file to write, e.g. "
            f"{str(p / ('labels' + (suffixes[-1] if suffixes else '.dcm')))!r}"
        )
    if not os.access(p if p.exists() else p.parent, os.W_OK):
        where = f"file {str(p)!r}" if p.exists() else f"folder {str(p.parent)!r}"
        raise ExportError(f"path: the {where} is not writable")
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


def header_positions(series: Series) -> list[npt.NDArray[np.float64] | None] | None:
    """ImagePositionPatient of every slice (series order) as its DICOM header gives it
    (``None`` for a slice without one; :attr:`Series.slice_positions`); ``None`` for a series
    not read from DICOM, whose affine is its only geometry."""
    positions = series.slice_positions
    if positions is None or len(positions) != len(series):
        return None
    return [None if p is None else np.asarray(p, dtype=np.float64) for p in positions]


def _ranges(indices: Sequence[int], limit: int = 5) -> str:
    """``[4, 5, 6, 9]`` -> ``"4-6, 9"`` (at most ``limit`` runs, then ``...``)."""
    runs: list[list[int]] = []
    for k in indices:
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return text + (", ..." if len(runs) > limit else "")


def _mm(point: npt.NDArray[np.float64]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in point) + ") mm"


def duplicate_positions(series: Series) -> list[list[int]]:
    """Groups of slices (series order, each group of two or more) whose headers give the same
    ImagePositionPatient (to :data:`DUPLICATE_TOLERANCE` mm): several volumes, phases or echoes
    in one series, or one file copied. Empty for a series not read from DICOM."""
    positions = header_positions(series)
    if positions is None:
        return []
    known = [k for k, p in enumerate(positions) if p is not None]
    if len(known) < 2:
        return []
    by_place: dict[tuple[float, ...], list[int]] = {}
    for k in known:
        point = positions[k]
        assert point is not None
        # the same place to DUPLICATE_TOLERANCE (1 micrometre)
        by_place.setdefault(tuple(np.round(point / DUPLICATE_TOLERANCE) + 0.0), []).append(k)
    groups = [g for g in by_place.values() if len(g) > 1]
    return sorted(sorted(g) for g in groups)


def _duplicates_facts(series: Series, groups: list[list[int]], what: str) -> str:
    positions = header_positions(series) or []
    shown = []
    for g in groups[:3]:
        at = positions[g[0]]
        where = f" at {_mm(at)}" if at is not None else ""
        shown.append(f"slices {', '.join(str(k) for k in g[:-1])} and {g[-1]}{where}")
    more = f" (and {len(groups) - 3} more groups)" if len(groups) > 3 else ""
    name = repr(series.description) if series.description else series.source or "(unnamed)"
    return (
        f"series {name}: {what} places each slice at its own position, and "
        f"{sum(len(g) for g in groups)} slices share their ImagePositionPatient with another: "
        f"{'; '.join(shown)}{more} (several volumes, phases or echoes in one series, or a file "
        "copied?)"
    )


_DUPLICATES_ADVICE = (
    "Open one volume at a time (e.g. the files of one AcquisitionNumber, TemporalPosition"
    "Identifier or EchoNumbers) or remove the copies"
)


def check_distinct_positions(series: Series, *, what: str) -> None:
    """Every slice must have its own ImagePositionPatient (``what`` places each slice at its
    position): slices sharing one are an :class:`ExportError` naming the series, the slices
    and the position."""
    groups = duplicate_positions(series)
    if groups:
        raise ExportError(f"{_duplicates_facts(series, groups, what)}. {_DUPLICATES_ADVICE}")


def check_slice_positions(series: Series, *, allow: bool, what: str) -> None:
    """Every slice's ImagePositionPatient must be where ``series.affine`` puts that slice
    (within :data:`POSITION_TOLERANCE` voxels), since a file with one affine (NIfTI) places
    the slices by it. Missing or unevenly spaced slices are an :class:`ExportError` naming
    the series, the slices and the size of the mismatch; with ``allow`` a
    :class:`~dicom_annot_widget.DicomAnnotWarning` says the same and the export goes on.

    Series not read from DICOM and series without ImageOrientationPatient (whose affine is
    nominal) have nothing to compare with."""
    positions = header_positions(series)
    if positions is None or not series.orientation_known:
        return
    groups = duplicate_positions(series)
    if groups:
        facts = _duplicates_facts(series, groups, what)
        if allow:
            warnings.warn(
                f"{facts}; written anyway (allow_irregular_slices=True): the file places "
                "them one after the other",
                DicomAnnotWarning,
                stacklevel=caller_stacklevel(),
            )
            return
        raise ExportError(
            f"{facts}. {_DUPLICATES_ADVICE}, or pass allow_irregular_slices=True to write it "
            "anyway (with a warning; the file then places those slices one after the other)"
        )
    known = [k for k, p in enumerate(positions) if p is not None]
    if not known:
        return
    slices = np.array(known)
    header = np.array([positions[k] for k in known], dtype=np.float64)
    affine = series.affine
    voxels = np.c_[np.zeros((len(slices), 2)), slices, np.ones(len(slices))]
    by_affine = (affine @ voxels.T).T[:, :3]
    inverse = np.linalg.inv(affine)
    off_voxels = np.abs((inverse[:3, :3] @ (header - by_affine).T).T)
    bad = off_voxels.max(axis=1) > POSITION_TOLERANCE
    if not bad.any():
        return
    distances = np.linalg.norm(header - by_affine, axis=1)
    worst = int(np.flatnonzero(bad)[np.argmax(distances[bad])])
    bad_slices = [int(k) for k in slices[bad]]
    name = repr(series.description) if series.description else series.source or "(unnamed)"
    spacing = series.spacing[0]
    plural = "s" if len(bad_slices) > 1 else ""
    along = float(f"{off_voxels[worst, 2]:.3g}")
    facts = (
        f"series {name}: {what} places every slice with one affine (slice spacing "
        f"{spacing:.4g} mm), which puts slice{plural} {_ranges(bad_slices)}"
        f"{' up to' if plural else ''} {distances[worst]:.3g} mm ({along:.3g} slice "
        f"spacing{'' if along == 1 else 's'}) away from "
        f"{'their' if plural else 'its'} ImagePositionPatient (slice {int(slices[worst])}: "
        f"{_mm(header[worst])} in its header, {_mm(by_affine[worst])} by the affine): the "
        "slices are not evenly spaced (missing slices?), which a NIfTI image cannot represent"
    )
    if allow:
        warnings.warn(
            f"{facts}; written anyway (allow_irregular_slices=True): labels on those slices "
            "are that far off in the file",
            DicomAnnotWarning,
            stacklevel=caller_stacklevel(),
        )
        return
    raise ExportError(
        f"{facts}. Export a DICOM SEG instead (to_dicom_seg keeps each slice's own position), "
        "or pass allow_irregular_slices=True to write it anyway (with a warning; labels on "
        "those slices are then that far off)"
    )
