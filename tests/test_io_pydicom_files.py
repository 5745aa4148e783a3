"""Every file of pydicom's own test data either opens or fails with a clear DicomLoadError."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

from dicom_annot_widget.errors import DicomLoadError
from dicom_annot_widget.io import open_series

_FILES = sorted(get_testdata_files())


@pytest.fixture(autouse=True)
def _in_process_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # small files: worker processes would only add start-up time (tested in test_io_workers)
    monkeypatch.setenv("DICOM_ANNOT_WIDGET_DECODE_WORKERS", "0")


_ROOT = os.path.dirname(get_testdata_file("CT_small.dcm"))


@pytest.mark.parametrize("path", _FILES, ids=[os.path.relpath(p, _ROOT) for p in _FILES])
def test_pydicom_test_file_opens_or_explains(path: str) -> None:
    # either it opens and its first slice decodes, or a DicomLoadError names the file
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            series = open_series(path)
            first = series.get_slice(0)
    except DicomLoadError as exc:
        assert path in str(exc)
        return
    with series:
        assert first.shape == series.shape[1:]
        assert first.dtype == series.dtype
        assert len(series) == series.shape[0] >= 1
        assert series.affine.shape == (4, 4)
        assert series.default_window.width > 0


def test_palette_colour_becomes_rgb() -> None:
    path = get_testdata_file("examples_palette.dcm")
    ds = pydicom.dcmread(path)
    expected = pydicom.pixels.apply_color_lut(ds.pixel_array, ds)
    with open_series(path) as s:
        assert s.is_color and s.photometric_interpretation == "RGB"
        np.testing.assert_array_equal(s.get_slice(0), expected)


@pytest.mark.parametrize(
    "name", ["SC_rgb_jpeg_dcmtk.dcm", "SC_ybr_full_422_uncompressed.dcm", "examples_ybr_color.dcm"]
)
def test_ybr_becomes_rgb_like_pydicom(name: str) -> None:
    path = get_testdata_file(name)
    ds = pydicom.dcmread(path)
    expected = ds.pixel_array  # pydicom converts YBR to RGB by default
    with open_series(path) as s:
        assert s.is_color
        got = s.array
        np.testing.assert_array_equal(got, expected.reshape(got.shape))


@pytest.mark.parametrize(
    "name",
    [
        "MR_small.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "JPGExtended.dcm",
        "rtdose.dcm",
        "image_dfl.dcm",
        "SC_rgb_small_odd_big_endian.dcm",
        "examples_overlay.dcm",
    ],
)
def test_stored_values_match_pydicom(name: str) -> None:
    path = get_testdata_file(name)
    expected = pydicom.dcmread(path).pixel_array
    with open_series(path) as s:
        stored = s.stored_array
        if s.slice_frames[0] is not None:
            expected = expected[np.array(s.slice_frames)]
        np.testing.assert_array_equal(stored, expected.reshape(stored.shape))


def test_a_segmentation_is_refused_with_its_use() -> None:
    """liver_expb_1frame.dcm is a DICOM SEG: labels of another series, not an image."""
    with pytest.raises(DicomLoadError, match=r"is a DICOM Segmentation .*import"):
        open_series(get_testdata_file("liver_expb_1frame.dcm"))


def test_rtdose_frames_are_positioned_from_grid_offsets() -> None:
    path = get_testdata_file("rtdose.dcm")
    ds = pydicom.dcmread(path)
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    with open_series(path) as s:
        assert len(s) == 15 and s.spacing_known
        step = s.affine[:3, 2]
        assert np.isclose(abs(step[2]), abs(offsets[1] - offsets[0]))
        dose = s.array
        assert dose.dtype == np.float32
        scaling = float(ds.DoseGridScaling)
        idx = s.slice_frames
        np.testing.assert_allclose(dose, ds.pixel_array[np.array(idx)] * scaling, rtol=1e-6)


def test_multiframe_cine_is_a_stack_of_frames() -> None:
    path = get_testdata_file("examples_ybr_color.dcm")
    with open_series(path) as s:
        assert s.shape == (30, 240, 320, 3)
        assert s.slice_frames == list(range(30))
        assert not s.orientation_known
        assert s.spacing_known  # from the ultrasound region calibration
