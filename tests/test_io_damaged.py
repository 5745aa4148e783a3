"""Damaged and unusual files: each either opens with the right geometry and pixels, or is
refused / skipped with a reason that names it, and no warning quotes patient data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from dicom_annot_widget import DicomAnnotator, write_phantom_series
from dicom_annot_widget.errors import DicomLoadError
from dicom_annot_widget.io import open_series

SECRET_NAME, SECRET_ID = "SECRET^PATIENTNAME", "SECRET-ID-42"


@pytest.fixture(autouse=True)
def _in_process_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DICOM_ANNOT_WIDGET_DECODE_WORKERS", "0")


def _series(folder: Path, n: int = 4) -> list[str]:
    files = write_phantom_series(
        folder, n_slices=n, rows=32, columns=32, patient_name=SECRET_NAME, patient_id=SECRET_ID
    )
    return sorted(str(f) for f in files)


def _edit(path: str, **values: object) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in values.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path)


def test_a_private_transfer_syntax_is_refused_by_name_and_skipped_in_a_folder(
    tmp_path: Path,
) -> None:
    files = _series(tmp_path)
    ds = pydicom.dcmread(files[-1])
    ds.file_meta.TransferSyntaxUID = "1.2.840.113619.5.2"  # a vendor's private syntax
    ds.save_as(files[-1])
    with pytest.raises(DicomLoadError, match=r"1\.2\.840\.113619\.5\.2.*not a DICOM transfer"):
        open_series(files[-1])
    with pytest.warns(UserWarning, match=r"Skipped 1 file.*113619"):
        series = open_series(tmp_path)
    assert series.shape[0] == len(files) - 1


def test_a_corrupt_header_is_named_and_no_warning_quotes_patient_data(tmp_path: Path) -> None:
    files = _series(tmp_path, 2)
    raw = bytearray(Path(files[0]).read_bytes())
    at = raw.index(b"\x08\x00\x16\x00UI")  # (0008,0016) SOPClassUID, explicit VR little endian
    raw[at + 6 : at + 8] = (713).to_bytes(2, "little")  # its length now runs over the name
    Path(files[0]).write_bytes(bytes(raw))
    for source in (files[0], tmp_path):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                series = open_series(source)
            except DicomLoadError as exc:
                assert source == files[0]
                assert "corrupt header" in str(exc) and "SOPClassUID" in str(exc)
            else:
                assert series.shape[0] == 1
                assert any("corrupt header" in w for w in series.warnings)
        texts = " ".join(str(w.message) for w in caught)
        assert SECRET_NAME not in texts and SECRET_ID not in texts


def test_a_truncated_slice_in_a_folder_is_reported(tmp_path: Path) -> None:
    files = _series(tmp_path, 5)
    Path(files[0]).write_bytes(Path(files[0]).read_bytes()[:600])  # cut inside the header
    with pytest.warns(UserWarning, match="truncated"):
        series = open_series(tmp_path)
    assert series.shape[0] == 4
    assert any(files[0] in w and "truncated" in w for w in series.warnings)
    with pytest.raises(DicomLoadError, match="truncated"):
        open_series(files[0])


def _classic_multiframe(path: Path, n: int = 5) -> np.ndarray:
    """A classic multi-frame CT: one ImagePositionPatient for the file, none per frame."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = generate_uid(), generate_uid(), "CT"
    ds.Rows, ds.Columns, ds.NumberOfFrames = 12, 10, n
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    frames = np.stack([np.full((12, 10), 100 * i, np.int16) for i in range(n)])
    ds.PixelData = frames.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return frames


def test_a_classic_multiframe_keeps_every_frame_in_order(tmp_path: Path) -> None:
    frames = _classic_multiframe(tmp_path / "mf.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(tmp_path / "mf.dcm")
    assert series.shape == frames.shape
    assert series.slice_frames == list(range(len(frames)))
    np.testing.assert_array_equal(series.array, frames)
    np.testing.assert_allclose(series.affine[:3, 3], [0, 0, 0])  # frame 0's position


def _slice_z(series: object) -> list[float]:
    affine = series.affine  # type: ignore[attr-defined]
    return [float((affine @ np.array([0, 0, k, 1.0]))[2]) for k in range(series.shape[0])]  # type: ignore[attr-defined]


def test_positions_without_an_orientation_still_order_and_space_the_slices(
    tmp_path: Path,
) -> None:
    files = _series(tmp_path, 6)
    for f in files:
        _edit(f, ImageOrientationPatient=None)
    with pytest.warns(UserWarning, match="no usable ImageOrientationPatient"):
        series = open_series(tmp_path)
    headers = sorted(float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in files)
    np.testing.assert_allclose(_slice_z(series), headers)
    assert series.spacing[0] == pytest.approx(2.0)


def test_one_missing_position_takes_the_step_of_the_others(tmp_path: Path) -> None:
    files = _series(tmp_path, 6)
    z = {f: float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in files}
    number = {f: int(pydicom.dcmread(f).InstanceNumber) for f in files}
    _edit(files[2], ImagePositionPatient=None)
    with pytest.warns(UserWarning, match="1 of 6 slices have no usable ImagePositionPatient"):
        series = open_series(tmp_path)
    in_order = sorted(files, key=lambda f: number[f])  # instance order is kept
    np.testing.assert_allclose(_slice_z(series), [z[f] for f in in_order])


def test_no_position_at_all_is_said(tmp_path: Path) -> None:
    files = _series(tmp_path, 3)
    for f in files:
        _edit(f, ImagePositionPatient=None)
    with pytest.warns(UserWarning, match="no slice has a usable ImagePositionPatient"):
        open_series(tmp_path)
    # a NaN position is not a position (QA: called missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's note that 'nan' is no DS value
        for f in files:
            _edit(f, ImagePositionPatient=["nan", "0", "0"])
    with pytest.warns(UserWarning, match=r"usable ImagePositionPatient \(missing or not three"):
        open_series(tmp_path)


def test_an_unusable_rescale_slope_is_reported(tmp_path: Path) -> None:
    files = _series(tmp_path, 2)
    _edit(files[0], RescaleSlope="0")
    with pytest.warns(UserWarning, match="RescaleSlope '0' is not a usable slope"):
        series = open_series(tmp_path)
    assert series.rescale(0)[0] == 1.0 or series.rescale(1)[0] == 1.0


def test_an_overflowing_rescale_is_reported_and_not_applied(tmp_path: Path) -> None:
    """QA: RescaleSlope 1e308 made every value inf with NumPy's bare overflow warning."""
    files = _series(tmp_path, 3)
    for f in files:
        _edit(f, RescaleSlope="1e308", RescaleIntercept="-1e300")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        series = open_series(tmp_path)
    said = [str(w.message) for w in record]
    assert not [w for w in record if issubclass(w.category, RuntimeWarning)], said
    assert any("RescaleSlope '1e308' is beyond 1e+24" in m for m in said), said
    assert any("RescaleIntercept '-1e300' is beyond 1e+30" in m for m in said), said
    assert series.rescale(0) == (1.0, 0.0)
    assert np.isfinite(series.array).all()


def test_a_window_beyond_the_widgets_range_opens_with_a_usable_one(tmp_path: Path) -> None:
    files = _series(tmp_path, 3)
    for f in files:
        _edit(f, WindowCenter="1e12", WindowWidth="400")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DicomAnnotator(str(tmp_path))
    center, width = w.window
    assert abs(center) <= 1e9 and 0 < width <= 1e9
    w.close()
    constant = DicomAnnotator(np.full((2, 8, 8), 1e20, np.float32))
    assert constant.window[1] > 0
    constant.close()


def test_wrong_arguments_name_what_is_wrong(tmp_path: Path) -> None:
    _series(tmp_path / "a", 2)
    with pytest.raises(TypeError, match=r"spacing must be a sequence of 3 numbers.*'abc'"):
        open_series(tmp_path / "a", spacing="abc")  # type: ignore[arg-type]
    missing = str(tmp_path / "b")
    with pytest.raises(DicomLoadError, match=r"1 of the 2 given sources do not exist: .*/b'"):
        DicomAnnotator([str(tmp_path / "a"), missing])
    # QA: a folder in a list of files was called a file that "does not exist or is not a file"
    one_file = next((tmp_path / "a").iterdir())
    with pytest.raises(
        DicomLoadError,
        match=r"the list mixes 1 folder\(s\) \('.*/a'\.\.\.\).*"
        r"1 file\(s\).*folders only \(several series\) or files only",
    ):
        DicomAnnotator([str(tmp_path / "a"), one_file])
    with pytest.raises(DicomLoadError, match=r"a list of files holds 1 folder: '.*/a'; give one"):
        open_series([one_file, tmp_path / "a"])
    with pytest.raises(DicomLoadError, match=r"^1 of the given files do not exist: '.*/b'$"):
        open_series([one_file, missing])
