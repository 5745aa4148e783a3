"""Entry points: :func:`open_series` and :func:`open_study`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomLoadError
from ._arrays import is_nifti_path, series_from_array, series_from_nifti
from ._dicom import check_spacing_affine, series_from_stack
from ._scan import (
    FileRecord,
    ScanResult,
    StackGroup,
    Unusable,
    collect_paths,
    group_records,
    pydicom_warnings_hidden,
    read_file,
    read_headers,
    record_from_dataset,
)
from .series import Series
from .study import Study, _SeriesList

__all__ = ["open_series", "open_study"]

_MAX_LISTED = 8


def _is_nibabel_image(obj: Any) -> bool:
    # an object made by nibabel means nibabel is imported already: a path or a list of files
    # does not pay for importing it (about 80 modules, 20-40 ms before the first slice shows)
    spatialimages = sys.modules.get("nibabel.spatialimages")
    if spatialimages is None:
        return False
    return isinstance(obj, spatialimages.SpatialImage)


#: What :func:`open_series` takes (for the messages refusing anything else).
_ACCEPTED_KINDS = (
    "a folder",
    "a file path",
    "a list of paths",
    "pydicom Dataset(s)",
    "a nibabel image",
    "a NumPy array",
)
_ACCEPTED = ", ".join(_ACCEPTED_KINDS[:-1]) + " or " + _ACCEPTED_KINDS[-1]


def _unsupported(source: Any) -> TypeError:
    """The error for a source :func:`open_series` does not open: it names the type (never a
    private class) and what is accepted, and for a series or a study, what to do instead."""
    if isinstance(source, (Study, _SeriesList)):
        what = "a Study" if isinstance(source, Study) else "a study's series (study.series)"
        return TypeError(
            f"source must be {_ACCEPTED}, not {what}: a study holds several series; open one "
            "with study.series[i] or study.open(series_instance_uid), or browse them all with "
            "DicomAnnotator(study)"
        )
    if isinstance(source, Series):
        return TypeError(
            f"source must be {_ACCEPTED}, not a Series: this one is open already; use it as it "
            "is (DicomAnnotator, Labels and the exports take it)"
        )
    return TypeError(f"source must be {_ACCEPTED}, not {type(source).__name__}")


def _list_reasons(items: Sequence[tuple[str, str]]) -> str:
    shown = "; ".join(f"'{p}' {reason}" for p, reason in items[:_MAX_LISTED])
    more = f"; and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return shown + more


def _scan_paths(paths: Sequence[str]) -> ScanResult:
    records, failed = read_headers(paths)
    skipped = [(p, reason) for p, kind, reason in failed if kind not in ("no_pixels", "dicomdir")]
    non_image = [(p, reason) for p, kind, reason in failed if kind in ("no_pixels", "dicomdir")]
    return ScanResult(stacks=group_records(records), skipped=skipped, non_image=non_image)


def _describe(group: StackGroup) -> str:
    return (
        f"{group.label} ({group.n_slices} slice{'s' if group.n_slices != 1 else ''}, "
        f"{group.rows}x{group.columns}, {group.modality or '?'}, uid {group.series_uid})"
    )


def _pick(
    scan: ScanResult, where: str, series_instance_uid: str | None
) -> tuple[StackGroup, list[str]]:
    """Choose the stack to open; returns it and the warnings to attach."""
    notes: list[str] = []
    if scan.skipped:
        notes.append(
            f"Skipped {len(scan.skipped)} file(s) in {where} that could not be used: "
            f"{_list_reasons(scan.skipped)}."
        )
    stacks = scan.stacks
    if not stacks:
        reasons = scan.skipped + scan.non_image
        detail = f" Files checked: {_list_reasons(reasons)}." if reasons else " It has no files."
        raise DicomLoadError(f"No DICOM image found in {where}.{detail}")
    if series_instance_uid is not None:
        chosen = [g for g in stacks if g.series_uid == series_instance_uid]
        if not chosen:
            available = ", ".join(sorted({g.series_uid for g in stacks})[:_MAX_LISTED])
            raise DicomLoadError(
                f"No series with SeriesInstanceUID {series_instance_uid!r} in {where}. "
                f"Available: {available}."
            )
        stacks = chosen
    best = max(stacks, key=lambda g: (g.n_slices, g.rows * g.columns, -g.first.index))
    others = [g for g in stacks if g is not best]
    if others:
        listed = "; ".join(_describe(g) for g in others[:_MAX_LISTED])
        more = f"; and {len(others) - _MAX_LISTED} more" if len(others) > _MAX_LISTED else ""
        notes.append(
            f"{where} holds {len(stacks)} series/stacks; opened the largest, {_describe(best)}. "
            f"Others: {listed}{more}. Use open_study() to browse them, or pass "
            "series_instance_uid=."
        )
    return best, notes


def _open_picked(
    scan: ScanResult,
    where: str,
    source: str,
    series_instance_uid: str | None,
    spacing: tuple[float, float, float] | None,
    affine: Any,
    modality: str | None,
) -> Series:
    """Open the stack :func:`_pick` chooses from ``scan``, its notes attached as warnings."""
    group, notes = _pick(scan, where, series_instance_uid)
    return series_from_stack(
        group,
        spacing=spacing,
        affine=affine,
        modality=modality,
        source=source,
        extra_warnings=notes,
    )


def open_series(
    source: Any,
    *,
    spacing: Sequence[float] | None = None,
    affine: Any = None,
    modality: str | None = None,
    series_instance_uid: str | None = None,
    reorient: bool = True,
) -> Series:
    """Open one series (lazily: headers now, pixels on demand).

    Parameters
    ----------
    source
        A folder (searched recursively), a DICOM file, a list of DICOM files, a pydicom
        ``Dataset`` or list of them, a NIfTI file (``.nii``/``.nii.gz``) or nibabel image,
        or a NumPy array ``[slice, row, column]`` (2D: one slice; ``[slice, row, column, 3]``
        or a uint8 ``[row, column, 3]`` image: RGB).
    spacing
        ``(slice, row, column)`` spacing in mm. For arrays; for DICOM it overrides the
        header (e.g. uncalibrated images).
    affine
        4x4 ``(column, row, slice, 1) -> LPS mm`` matrix. For arrays; for DICOM it overrides
        the header geometry.
    modality
        Modality to assume ("CT" enables HU presets). Default: the DICOM header's; for
        NIfTI, the BIDS JSON sidecar's (``scan.json`` beside ``scan.nii.gz``), if any.
    series_instance_uid
        Which series to open when the source holds several (default: the largest, with a
        warning naming the others).
    reorient
        NIfTI only: flip/permute voxel axes (no resampling) so slices display like DICOM.

    Returns
    -------
    Series

    Raises
    ------
    DicomLoadError
        If nothing usable can be opened; the message names the file(s) and the reason.
    MissingDecoderError
        If the pixel data needs a decoder plugin that is not installed.
    TypeError, ValueError
        For arguments of the wrong type or value (unknown keywords included).
    """
    if modality is not None and not isinstance(modality, str):
        raise TypeError(f"modality must be a string such as 'CT', not {type(modality).__name__}")
    if series_instance_uid is not None and not isinstance(series_instance_uid, str):
        raise TypeError("series_instance_uid must be a string")
    if not isinstance(reorient, (bool, np.bool_)):
        raise TypeError(f"reorient must be True or False, got {reorient!r}")
    reorient = bool(reorient)
    sp, aff = check_spacing_affine(spacing, affine)

    if isinstance(source, np.ndarray):
        if series_instance_uid is not None:
            raise TypeError("series_instance_uid= does not apply to NumPy arrays")
        return series_from_array(source, spacing=spacing, affine=affine, modality=modality)
    if _is_nibabel_image(source):
        return series_from_nifti(
            source, modality=modality, reorient=reorient, spacing=sp, affine=aff
        )

    if isinstance(source, Dataset):
        source = [source]
    if isinstance(source, (list, tuple)):
        if not source:
            raise DicomLoadError("open_series() got an empty list: nothing to open.")
        if all(isinstance(s, Dataset) for s in source):
            return _open_datasets(source, sp, aff, modality, series_instance_uid)
        if all(isinstance(s, (str, os.PathLike)) for s in source):
            paths = [os.fspath(s) for s in source]
            folders = [p for p in paths if os.path.isdir(p)]
            missing = [p for p in paths if not os.path.exists(p)]
            if folders:
                raise DicomLoadError(
                    f"a list of files holds {len(folders)} folder{'s' if len(folders) > 1 else ''}"
                    ": " + ", ".join(f"'{p}'" for p in folders[:_MAX_LISTED]) + "; give one "
                    "folder on its own (searched recursively) or only the files"
                )
            if missing:
                raise DicomLoadError(
                    f"{len(missing)} of the given files do not exist: "
                    + ", ".join(f"'{p}'" for p in missing[:_MAX_LISTED])
                )
            others = [p for p in paths if not os.path.isfile(p)]
            if others:
                raise DicomLoadError(
                    f"{len(others)} of the given paths are not regular files: "
                    + ", ".join(f"'{p}'" for p in others[:_MAX_LISTED])
                )
            scan = _scan_paths(paths)
            where = f"the {len(paths)} given files"
            return _open_picked(scan, where, "file list", series_instance_uid, sp, aff, modality)
        raise TypeError(
            "a list source must hold only paths or only pydicom Datasets, got "
            + ", ".join(sorted({type(s).__name__ for s in source}))
        )
    if not isinstance(source, (str, os.PathLike)):
        raise _unsupported(source)

    path = os.fspath(source)
    if os.path.isdir(path):
        scan = _scan_paths(collect_paths(path))
        return _open_picked(scan, f"folder '{path}'", path, series_instance_uid, sp, aff, modality)
    if not os.path.exists(path):
        raise DicomLoadError(f"'{path}' does not exist.")
    if is_nifti_path(path):
        if series_instance_uid is not None:
            raise TypeError("series_instance_uid= does not apply to NIfTI files")
        return series_from_nifti(path, modality=modality, reorient=reorient, spacing=sp, affine=aff)
    try:
        with pydicom_warnings_hidden():
            record = read_file(path, 0)
    except Unusable as exc:
        raise DicomLoadError(f"Cannot open '{path}': it {exc.reason}.") from exc
    scan = ScanResult(group_records([record]), [], [])
    return _open_picked(scan, f"'{path}'", path, series_instance_uid, sp, aff, modality)


def _open_datasets(
    datasets: Sequence[Dataset],
    spacing: tuple[float, float, float] | None,
    affine: Any,
    modality: str | None,
    series_instance_uid: str | None,
) -> Series:
    records: list[FileRecord] = []
    failed: list[tuple[str, str]] = []
    for i, ds in enumerate(datasets):
        try:
            records.append(record_from_dataset(ds, i))
        except Unusable as exc:
            if len(datasets) == 1:
                raise DicomLoadError(f"Cannot open the dataset: it {exc.reason}.") from exc
            failed.append((f"dataset #{i}", exc.reason))
    scan = ScanResult(group_records(records), failed, [])
    where = f"the {len(datasets)} given dataset(s)"
    return _open_picked(
        scan, where, "pydicom datasets", series_instance_uid, spacing, affine, modality
    )


def open_study(folder: str | os.PathLike[str]) -> Study:
    """Scan a folder (recursively) and list its studies and series without opening them.

    Parameters
    ----------
    folder
        Folder to scan.

    Returns
    -------
    Study
        ``print(study)`` shows a table; ``study.series[i]`` or ``study.open(i or uid)``
        opens one series.

    Raises
    ------
    DicomLoadError
        If ``folder`` is not a folder.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path, not {type(folder).__name__}")
    path = os.fspath(folder)
    if not os.path.isdir(path):
        raise DicomLoadError(f"'{path}' is not a folder.")
    return Study(path, _scan_paths(collect_paths(path)))
