"""Shared fixtures: paths to the real test data in ``../shared/data`` (never copied here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

#: ``<repo>/../shared/data`` (see its README.md).
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"test data not available: {path}")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared test-data folder."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def ct_abdomen_dir(shared_data: Path) -> Path:
    """20-slice JPEG 2000 CT series with blanked UIDs (``ct_abdomen/dicom``)."""
    return _require(shared_data / "ct_abdomen" / "dicom")


@pytest.fixture(scope="session")
def ct_abdomen_segmentation_npz(shared_data: Path) -> Path:
    """Organ labels for ct_abdomen, indexed like its files (``segmentation.npz``)."""
    return _require(shared_data / "ct_abdomen" / "segmentation.npz")


@pytest.fixture(scope="session")
def ct_abdomen_segmentation_nifti(shared_data: Path) -> Path:
    """The same labels as a model's NIfTI output (RAS+)."""
    return _require(shared_data / "ct_abdomen" / "segmentation.nii.gz")


@pytest.fixture(scope="session")
def ct_small_nifti(shared_data: Path) -> Path:
    """Real CT as NIfTI, 3 mm isotropic (``ct_small_nifti/ct.nii.gz``)."""
    return _require(shared_data / "ct_small_nifti" / "ct.nii.gz")


def phantom_series(folder: Path, shape: tuple[int, int, int]) -> Any:
    """Write the synthetic CT phantom of ``shape`` (slices, rows, columns) into ``folder`` and
    open it (tests that need a small DICOM series of their own)."""
    from dicom_annot_widget import open_series, write_phantom_series

    write_phantom_series(folder, n_slices=shape[0], rows=shape[1], columns=shape[2])
    series = open_series(folder)
    assert series.shape == shape
    return series
