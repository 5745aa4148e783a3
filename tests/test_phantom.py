"""The synthetic CT phantom: valid DICOM, exact ground truth, plausible HU, deterministic."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)
from scipy import ndimage

from dicom_annot_widget.io import phantom
from dicom_annot_widget.io.phantom import (
    LABEL_NAMES,
    NOMINAL_HU,
    default_demo_series,
    phantom_volume,
    write_phantom_series,
)

SMALL = {"n_slices": 10, "rows": 48, "columns": 64, "pixel_spacing": (0.7, 0.9)}
SLICE_SPACING = 2.5

# Type 1 (must be present and non-empty) attributes of the CT Image IOD's modules, plus a few
# type 2 ones (present, may be empty) that loaders and viewers rely on.
TYPE1 = [
    "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
    "FrameOfReferenceUID", "ImageType", "PixelSpacing", "ImageOrientationPatient",
    "ImagePositionPatient", "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns",
    "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "RescaleIntercept",
    "RescaleSlope", "PixelData",
]  # fmt: skip
TYPE2 = [
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
    "ReferringPhysicianName", "StudyID", "AccessionNumber", "SeriesNumber", "Manufacturer",
    "InstanceNumber", "PositionReferenceIndicator", "SliceThickness", "KVP", "AcquisitionNumber",
    "PatientPosition",
]  # fmt: skip


def _hu(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)


def _write_small(folder: Path, **kwargs: object) -> list[Path]:
    args: dict[str, object] = {**SMALL, "slice_spacing": SLICE_SPACING, **kwargs}
    return write_phantom_series(folder, **args)  # type: ignore[arg-type]


def _truth(seed: int = 0, n_slices: int = 10) -> np.ndarray:
    hu, _, _ = phantom_volume(
        (n_slices, SMALL["rows"], SMALL["columns"]),  # type: ignore[arg-type]
        (SLICE_SPACING, *SMALL["pixel_spacing"]),  # type: ignore[misc]
        seed,
    )
    return hu


def test_written_series_is_valid_ct_with_exact_ground_truth(tmp_path: Path) -> None:
    paths = _write_small(tmp_path)
    # paths[k] holds slice k (ascending z); files are numbered from head to feet.
    assert [p.name for p in paths] == [f"CT{k:06d}.dcm" for k in range(10, 0, -1)]
    truth = _truth()
    datasets = [pydicom.dcmread(p) for p in paths]
    for k, ds in enumerate(datasets):
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == CTImageStorage
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        for keyword in TYPE1:
            assert keyword in ds and ds[keyword].value not in (None, "", b""), keyword
        for keyword in TYPE2:
            assert keyword in ds, keyword
        assert ds.SOPClassUID == CTImageStorage
        assert ds.Modality == "CT"
        assert ds.InstanceNumber == 10 - k
        assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
        assert [float(v) for v in ds.PixelSpacing] == [0.7, 0.9]
        assert (ds.Rows, ds.Columns) == (48, 64)
        assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (
            16,
            12,
            11,
            0,
        )
        assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, -1024.0)
        assert ds.RescaleType == "HU"
        assert float(ds.WindowCenter[0]) == 40 and float(ds.WindowWidth[0]) == 400
        assert ds.pixel_array.dtype == np.uint16
        np.testing.assert_array_equal(_hu(ds), truth[k])

    ipp = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in datasets])
    # Centred field of view; z ascends by the slice spacing up to 0 at the top slice.
    np.testing.assert_allclose(ipp[:, 0], -(64 - 1) / 2 * 0.9)
    np.testing.assert_allclose(ipp[:, 1], -(48 - 1) / 2 * 0.7)
    np.testing.assert_allclose(np.diff(ipp[:, 2]), SLICE_SPACING)
    assert ipp[-1, 2] == 0.0
    np.testing.assert_allclose([float(ds.SliceLocation) for ds in datasets], ipp[:, 2])

    sop_uids = [ds.SOPInstanceUID for ds in datasets]
    assert len(set(sop_uids)) == len(sop_uids)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert len({ds[keyword].value for ds in datasets}) == 1, keyword
    uids = {datasets[0].StudyInstanceUID, datasets[0].SeriesInstanceUID, *sop_uids}
    assert len(uids) == len(sop_uids) + 2
    for uid in uids:
        assert uid.is_valid, uid


def test_files_are_what_pydicom_itself_writes(tmp_path: Path) -> None:
    # The writer encodes the shared header once; re-encoding each file with pydicom must give
    # the same bytes (explicit and implicit VR, non-ASCII patient name).
    for ts in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        folder = tmp_path / ts.name.replace(" ", "_")
        for path in _write_small(folder, transfer_syntax=ts, patient_name="Müller^Zoë", seed=3):
            ds = pydicom.dcmread(path)
            assert ds.PatientName == "Müller^Zoë"
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            assert buffer.getvalue() == path.read_bytes(), path


@pytest.mark.parametrize(
    ("transfer_syntax", "bits_stored", "pixel_representation", "intercept", "dtype"),
    [
        (ImplicitVRLittleEndian, 16, 1, -1024, np.int16),
        (ExplicitVRLittleEndian, 16, 0, -1024, np.uint16),
        (ExplicitVRLittleEndian, 16, 1, 0, np.int16),
        (RLELossless, 12, 0, -1024, np.uint16),
        (JPEG2000Lossless, 16, 1, -1024, np.int16),
    ],
)
def test_pixel_formats_and_transfer_syntaxes_round_trip(
    tmp_path: Path,
    transfer_syntax: str,
    bits_stored: int,
    pixel_representation: int,
    intercept: int,
    dtype: type,
) -> None:
    paths = _write_small(
        tmp_path,
        n_slices=3,
        transfer_syntax=transfer_syntax,
        bits_stored=bits_stored,
        pixel_representation=pixel_representation,
        rescale_intercept=intercept,
    )
    truth = _truth(n_slices=3)
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == transfer_syntax
        assert (ds.BitsStored, ds.PixelRepresentation) == (bits_stored, pixel_representation)
        assert ds.pixel_array.dtype == dtype
        np.testing.assert_array_equal(_hu(ds), truth[k])


def test_open_series_reads_back_phantom_volume_exactly(tmp_path: Path) -> None:
    from dicom_annot_widget.io import open_series

    _write_small(tmp_path)
    series = open_series(tmp_path)
    try:
        np.testing.assert_array_equal(series.array, _truth())
    finally:
        series.close()


def test_values_that_do_not_fit_the_pixel_format_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="do not fit 12-bit signed"):
        _write_small(tmp_path, bits_stored=12, pixel_representation=1, rescale_intercept=-3000)
    with pytest.raises(ValueError, match="bits_stored"):
        _write_small(tmp_path / "b", bits_stored=8)
    with pytest.raises(ValueError, match="lossless"):
        _write_small(tmp_path / "c", transfer_syntax="1.2.840.10008.1.2.4.50")  # JPEG baseline


def test_existing_files_are_not_overwritten_unless_asked(tmp_path: Path) -> None:
    _write_small(tmp_path, n_slices=2)
    with pytest.raises(ValueError, match="already exists"):
        _write_small(tmp_path, n_slices=2)
    _write_small(tmp_path, n_slices=2, overwrite=True, seed=1)
    np.testing.assert_array_equal(
        _hu(pydicom.dcmread(tmp_path / "CT000001.dcm")), _truth(1, n_slices=2)[-1]
    )


@pytest.fixture(scope="module")
def volume() -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    return phantom_volume((48, 128, 128), (2.0, 1.5, 1.5), seed=0)


def test_every_structure_is_present_and_near_its_nominal_hu(
    volume: tuple[np.ndarray, np.ndarray, dict[int, str]],
) -> None:
    hu, labels, names = volume
    assert hu.dtype == np.int16 and labels.dtype == np.uint8
    assert hu.shape == labels.shape == (48, 128, 128)
    assert names == LABEL_NAMES
    assert set(np.unique(labels)) == {0, *LABEL_NAMES}
    # Away from the one-pixel partial-volume edges (2D erosion per slice) the mean is the
    # nominal value; noise (sigma 10 HU) averages out.
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    checked = []
    for value, name in names.items():
        nominal = NOMINAL_HU.get(name)
        if nominal is None:
            continue
        core = ndimage.binary_erosion(labels == value, structure)
        if core.sum() < 20:
            continue
        assert abs(float(hu[core].mean()) - nominal) < 4.0, name
        checked.append(name)
    assert {"fat", "muscle", "liver", "spleen", "aorta", "lung_left", "liver_lesion"} <= set(
        checked
    )
    air = hu[:, :8, :]  # the top rows of the field of view are air (anterior to the body)
    assert (labels[:, :8, :] == 0).all()
    assert abs(float(air.mean()) - NOMINAL_HU["air"]) < 2.0
    assert 7.0 < float(hu[ndimage.binary_erosion(labels == 6, structure)].std()) < 13.0


def test_bone_lesions_and_layout_look_like_anatomy(
    volume: tuple[np.ndarray, np.ndarray, dict[int, str]],
) -> None:
    hu, labels, names = volume
    label = {name: value for value, name in names.items()}
    vertebra = hu[labels == label["vertebra"]]
    assert np.percentile(vertebra, 95) > 850  # cortical bone ~1000 HU
    assert 250 < np.median(vertebra) < 700  # cancellous ~300, posterior arch ~650
    # Lesions differ from the organ around them.
    assert hu[labels == label["liver_lesion"]].mean() < hu[labels == label["liver"]].mean() - 50
    assert hu[labels == label["lung_nodule"]].max() > -100
    # Slices ascend from feet to head: lungs and heart in the last (top) slices, kidneys lower.
    slices_with = {name: np.flatnonzero((labels == value).any(axis=(1, 2))) for name, value in
                   label.items()}  # fmt: skip
    n = hu.shape[0]
    assert slices_with["lung_left"].max() == n - 1 and slices_with["lung_left"].min() > n / 2
    assert slices_with["heart"].min() > 3 * n / 4
    assert slices_with["kidney_right"].max() < 2 * n / 3
    assert slices_with["liver"].min() > slices_with["kidney_right"].min()
    # The liver is on the patient's right, which is the image's left (low column index).
    cols = np.nonzero(labels == label["liver"])[2]
    assert cols.mean() < hu.shape[2] / 2
    cols = np.nonzero(labels == label["spleen"])[2]
    assert cols.mean() > hu.shape[2] / 2


def test_same_seed_same_series_and_other_seed_differs(tmp_path: Path) -> None:
    a = _write_small(tmp_path / "a", n_slices=3)
    b = _write_small(tmp_path / "b", n_slices=3)
    c = _write_small(tmp_path / "c", n_slices=3, seed=1)
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    da, dc = pydicom.dcmread(a[0]), pydicom.dcmread(c[0])
    assert da.SeriesInstanceUID != dc.SeriesInstanceUID
    assert da.SOPInstanceUID != dc.SOPInstanceUID
    assert not np.array_equal(da.pixel_array, dc.pixel_array)
    # Same anatomy, different noise.
    assert np.abs(_hu(da) - _hu(dc)).mean() < 30

    h1, l1, _ = phantom_volume((6, 40, 40), (3.0, 2.0, 2.0), 5)
    h2, l2, _ = phantom_volume((6, 40, 40), (3.0, 2.0, 2.0), 5)
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(l1, l2)


def test_a_given_study_uid_groups_two_series(tmp_path: Path) -> None:
    first = pydicom.dcmread(_write_small(tmp_path / "a", n_slices=1)[0])
    second = pydicom.dcmread(
        _write_small(
            tmp_path / "b",
            n_slices=1,
            study_instance_uid=first.StudyInstanceUID,
            series_number=2,
            seed=4,
        )[0]
    )
    assert second.StudyInstanceUID == first.StudyInstanceUID
    assert second.SeriesInstanceUID != first.SeriesInstanceUID
    assert second.SeriesNumber == 2


@pytest.mark.parametrize(
    ("shape", "spacing", "seed"),
    [
        ((0, 32, 32), (1.0, 1.0, 1.0), 0),
        ((4, 4, 32), (1.0, 1.0, 1.0), 0),
        ((4, 32), (1.0, 1.0, 1.0), 0),
        ((4, 32, 32), (1.0, -1.0, 1.0), 0),
        ((4, 32, 32), (1.0, 1.0, 1.0), -1),
    ],
)
def test_invalid_arguments_raise_value_error(
    shape: tuple[int, ...], spacing: tuple[float, ...], seed: int
) -> None:
    with pytest.raises(ValueError):
        phantom_volume(shape, spacing, seed)


def test_default_demo_series_is_written_once(tmp_path: Path) -> None:
    folder = default_demo_series(tmp_path)
    assert folder == tmp_path / "phantom-v1"
    files = sorted(folder.glob("*.dcm"))
    assert len(files) == 120
    ds = pydicom.dcmread(files[0])
    assert (ds.Rows, ds.Columns, ds.PatientName) == (256, 256, "PHANTOM^DEMO")
    stamps = [f.stat().st_mtime_ns for f in files]
    assert default_demo_series(tmp_path) == folder
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert [p.name for p in tmp_path.iterdir()] == ["phantom-v1"]  # no temporary leftovers


@pytest.fixture
def small_demo(monkeypatch: pytest.MonkeyPatch) -> int:
    """Make the demo series tiny, for the tests of the cache logic."""
    monkeypatch.setattr(phantom, "_DEMO_SLICES", 6)
    monkeypatch.setattr(phantom, "_DEMO_SIZE", 32)
    return 6


def test_default_demo_series_rebuilds_a_damaged_cache(tmp_path: Path, small_demo: int) -> None:
    folder = default_demo_series(tmp_path)
    files = sorted(folder.glob("*.dcm"))
    files[2].unlink()  # e.g. deleted by hand
    assert default_demo_series(tmp_path) == folder
    assert sorted(folder.glob("*.dcm")) == files
    assert [p.name for p in tmp_path.iterdir()] == ["phantom-v1"]


def test_default_demo_series_concurrent_callers_agree(tmp_path: Path, small_demo: int) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(default_demo_series(tmp_path))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [tmp_path / "phantom-v1"] * 4
    assert len(list((tmp_path / "phantom-v1").glob("*.dcm"))) == small_demo
    assert [p.name for p in tmp_path.iterdir()] == ["phantom-v1"]
