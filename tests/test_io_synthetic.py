"""io layer on small synthetic series written with pydicom (fast, one behaviour per test)."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from dicom_annot_widget.errors import (
    DicomLoadError,
    DicomLoadWarning,
    MissingDecoderError,
    WidgetValueError,
)
from dicom_annot_widget.io import Series, open_series, open_study
from dicom_annot_widget.io import _decode as decode_module
from dicom_annot_widget.io import series as series_module

ROWS, COLS = 12, 10


def _new_instance(sop_class: str, transfer_syntax: str) -> Dataset:
    """An empty instance of ``sop_class`` with its file meta and a fresh SOPInstanceUID."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    return ds


def make_slice(
    path: Path,
    *,
    pixels: np.ndarray,
    position: Sequence[float] | None = (0.0, 0.0, 0.0),
    orientation: Sequence[float] | None = (1, 0, 0, 0, 1, 0),
    instance: int = 1,
    series_uid: str = "1.2.3.4.5",
    study_uid: str = "1.2.3.4",
    description: str = "synthetic",
    pixel_spacing: Sequence[float] | None = (0.5, 0.7),
    slope: float = 1.0,
    intercept: float = -1024.0,
    bits_stored: int | None = None,
    signed: bool = False,
    transfer_syntax: str = ExplicitVRLittleEndian,
    modality: str = "CT",
    sop_class: str = CTImageStorage,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one uncompressed single-frame image; ``pixels`` are the stored values."""
    pixels = np.asarray(pixels)
    ds = _new_instance(sop_class, transfer_syntax)
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = "1.2.3.4.9"
    ds.Modality = modality
    ds.SeriesDescription = description
    ds.SeriesNumber = 3
    ds.InstanceNumber = instance
    ds.PatientName = "Doe^John"
    ds.PatientID = "SECRET-ID-42"
    if position is not None:
        ds.ImagePositionPatient = [float(v) for v in position]
    if orientation is not None:
        ds.ImageOrientationPatient = [float(v) for v in orientation]
    if pixel_spacing is not None:
        ds.PixelSpacing = [float(v) for v in pixel_spacing]
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    color = pixels.ndim == 3
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = "RGB" if color else "MONOCHROME2"
    if color:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored or (12 if pixels.dtype.itemsize == 2 else pixels.dtype.itemsize * 8)
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    for key, value in (extra or {}).items():
        setattr(ds, key, value)
    big = transfer_syntax == ExplicitVRBigEndian
    data = pixels.astype(pixels.dtype.newbyteorder(">" if big else "<"))
    ds.PixelData = data.tobytes()
    ds["PixelData"].VR = "OB" if pixels.dtype.itemsize == 1 else "OW"
    ds.save_as(path, enforce_file_format=True)
    return path


def stored(k: int, dtype: Any = np.uint16) -> np.ndarray:
    """Slice k of a synthetic series: a constant 100*k plus a small gradient."""
    base = np.arange(ROWS * COLS, dtype=np.int64).reshape(ROWS, COLS) % 7
    return (base + 100 * k + 1000).astype(dtype)


def make_series(
    folder: Path,
    n: int = 6,
    *,
    spacing: float = 2.5,
    z0: float = -40.0,
    shuffle: bool = False,
    skip: Sequence[int] = (),
    shift_per_slice: Sequence[float] = (0.0, 0.0, 0.0),
    **kw: Any,
) -> list[Path]:
    """An axial stack; slice k at z = z0 + k * spacing (+ shift * k), pixels = stored(k)."""
    folder.mkdir(parents=True, exist_ok=True)
    ks = [k for k in range(n) if k not in skip]
    order = list(ks)
    if shuffle:
        np.random.default_rng(1).shuffle(order)
    paths = []
    for i, k in enumerate(order):
        pos = (
            -10.0 + shift_per_slice[0] * k,
            -20.0 + shift_per_slice[1] * k,
            z0 + spacing * k + shift_per_slice[2] * k,
        )
        name = f"img{i:03d}.dcm" if shuffle else f"img{k:03d}.dcm"
        paths.append(
            make_slice(folder / name, pixels=stored(k), position=pos, instance=n - k, **kw)
        )
    return paths


def open_quiet(source: Any, **kw: Any) -> Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomLoadWarning)
        return open_series(source, **kw)


# --------------------------------------------------------------------------- basics


def test_series_decodes_modality_values(tmp_path: Path) -> None:
    make_series(tmp_path, 4)
    with open_series(tmp_path) as s:
        assert s.shape == (4, ROWS, COLS) and len(s) == 4
        assert s.dtype == np.int16 and s.stored_dtype == np.uint16
        for k in range(4):
            np.testing.assert_array_equal(s.get_slice(k), stored(k).astype(np.int32) - 1024)
            np.testing.assert_array_equal(s.get_stored_slice(k), stored(k))
        expected = np.stack([stored(k) for k in range(4)]).astype(np.int32) - 1024
        np.testing.assert_array_equal(s.array, expected)
        # stored values are recomputed exactly once only the HU volume is kept
        np.testing.assert_array_equal(s.get_stored_slice(2), stored(2))
        assert s.spacing == (2.5, 0.5, 0.7)
        assert s.plane == "axial" and s.warnings == [] and s.uid_substitutions == []


def test_release_lets_the_decoded_pixels_go_and_they_come_back(tmp_path: Path) -> None:
    make_series(tmp_path, 4)
    with open_series(tmp_path) as s:
        expected = np.stack([stored(k) for k in range(4)]).astype(np.int32) - 1024
        np.testing.assert_array_equal(s.array, expected)
        assert s.decoded.all()
        assert s.release() is True
        assert not s.decoded.any()
        # decoded again when asked for: one slice, then the whole volume
        np.testing.assert_array_equal(s.get_slice(2), expected[2])
        assert s.is_decoded(2) and not s.is_decoded(1)
        np.testing.assert_array_equal(s.get_stored_slice(1), stored(1))
        np.testing.assert_array_equal(s.array, expected)
    # a series made from an array keeps it: it is its source
    from_array = open_series(expected.astype(np.int16))
    assert from_array.release() is False and from_array.decoded.all()


def test_long_header_values_are_read_from_the_file_when_asked_for(tmp_path: Path) -> None:
    """Values longer than the header pass reads at once (deferred, 4 KiB) come from the file
    when asked for, inside the first 64 KiB or beyond; the series keeps no copy of each
    file's head for them."""
    near = "x" * 6000  # deferred, within the head read in one go
    far = bytes(range(256)) * 400  # 100 KiB: the header goes past the head
    paths = make_series(
        tmp_path / "s",
        n=2,
        extra={"ImageComments": near, "ReferencedImageSequence": []},
    )
    ds = pydicom.dcmread(paths[1])
    ds.add_new(0x00091010, "OB", far)
    ds.add_new(0x00090010, "LO", "DAW TEST")
    ds.save_as(paths[1])
    series = open_quiet(tmp_path / "s")
    for k in range(2):
        header = series.slice_dataset(k)
        assert header is not None
        assert getattr(header, "buffer", None) is None
        assert header.ImageComments == near
    far_slice = [k for k in range(2) if (0x0009, 0x1010) in series.slice_dataset(k)]
    assert len(far_slice) == 1
    assert series.slice_dataset(far_slice[0])[0x00091010].value == far
    comments = [e for e in series.slice_metadata(0)["elements"] if e["keyword"] == "ImageComments"]
    assert comments and comments[0]["value"].startswith("xxx")


def test_constructing_a_series_decodes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_series(tmp_path, 5)
    calls: list[int] = []
    real = series_module.decode_local

    def counting(layout: Any, frame: int) -> np.ndarray:
        calls.append(frame)
        return real(layout, frame)

    monkeypatch.setattr(series_module, "decode_local", counting)
    s = open_series(tmp_path)
    with s:
        _ = (s.shape, s.affine, s.spacing, s.metadata, s.value_range, s.dtype)
        assert calls == [] and not s.decoded.any()
        s.get_slice(3)
        assert len(calls) == 1 and s.is_decoded(3) and not s.is_decoded(2)


def test_non_integral_rescale_gives_float32(tmp_path: Path) -> None:
    make_series(tmp_path, 3, slope=0.5, intercept=-3.25)
    with open_series(tmp_path) as s:
        assert s.dtype == np.float32 and s.array.dtype == np.float32
        np.testing.assert_allclose(s.array[1], stored(1) * 0.5 - 3.25)
        assert s.rescale(1) == (0.5, -3.25)


def test_identity_rescale_keeps_stored_dtype(tmp_path: Path) -> None:
    make_series(tmp_path, 3, intercept=0.0, modality="MR", sop_class=CTImageStorage)
    with open_series(tmp_path) as s:
        assert s.dtype == np.uint16
        np.testing.assert_array_equal(s.array[2], stored(2))
        # non-CT: DICOM has no window here, so an automatic one from percentiles
        (auto,) = s.windows
        assert auto.source == "auto" and auto.lower >= 1000 and auto.upper <= 1306


def test_unused_high_bits_are_masked_and_sign_extended(tmp_path: Path) -> None:
    values = np.array([[0, 5, 4095, 2048]], dtype=np.uint16)
    garbage = values | np.uint16(0xF000)  # junk above BitsStored 12
    make_slice(tmp_path / "u.dcm", pixels=garbage, bits_stored=12, intercept=0.0)
    with open_series(tmp_path / "u.dcm") as s:
        np.testing.assert_array_equal(s.get_stored_slice(0), values)
    signed12 = np.array([[-2048, -1, 0, 2047]], dtype=np.int16)
    raw = (signed12.view(np.uint16) & 0x0FFF).astype(np.uint16)  # two's complement in 12 bits
    make_slice(tmp_path / "s.dcm", pixels=raw, bits_stored=12, signed=True, intercept=0.0)
    with open_series(tmp_path / "s.dcm") as s:
        assert s.stored_dtype == np.int16
        np.testing.assert_array_equal(s.get_stored_slice(0), signed12)


def test_big_endian_native(tmp_path: Path) -> None:
    make_series(tmp_path, 3, transfer_syntax=ExplicitVRBigEndian)
    with open_series(tmp_path) as s:
        np.testing.assert_array_equal(s.get_stored_slice(1), stored(1))


def test_rgb_planar_configuration_1(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, size=(ROWS, COLS, 3), dtype=np.uint8)
    path = make_slice(tmp_path / "rgb.dcm", pixels=rgb, sop_class=SecondaryCaptureImageStorage)
    ds = pydicom.dcmread(path)
    ds.PlanarConfiguration = 1
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()
    ds.save_as(path)
    with open_series(path) as s:
        assert s.is_color and s.shape == (1, ROWS, COLS, 3)
        np.testing.assert_array_equal(s.get_slice(0), rgb)


def test_pydicom_datasets_and_numpy_arrays(tmp_path: Path) -> None:
    paths = make_series(tmp_path, 3)
    datasets = [pydicom.dcmread(p) for p in reversed(paths)]
    with open_series(datasets) as s:
        np.testing.assert_array_equal(s.get_stored_slice(0), stored(0))
        assert s.slice_files == [None, None, None]
    vol = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    with open_series(vol, spacing=(3.0, 2.0, 1.0), modality="CT") as s:
        assert s.dtype == np.float32 and s.spacing_known
        np.testing.assert_array_equal(s.array, vol.astype(np.float32))
        np.testing.assert_allclose(s.affine, np.diag([1.0, 2.0, 3.0, 1.0]))
        assert s.value_range == (0.0, 23.0)
        assert "Lung" in [w.name for w in s.windows]
    with open_series(np.zeros((5, 6), dtype=bool)) as s:
        assert s.shape == (1, 5, 6) and not s.spacing_known and s.dtype == np.uint8
    aff = np.array([[1.0, 0, 0, 5], [0, 0, 2.0, 6], [0, -1.5, 0, 7], [0, 0, 0, 1]])
    with open_series(np.zeros((2, 3, 4), np.int16), affine=aff) as s:
        assert s.spacing == (2.0, 1.5, 1.0) and s.plane == "coronal"
    sag = np.array([[0, 0, 2.0, 5], [1.0, 0, 0, 6], [0, -1.5, 0, 7], [0, 0, 0, 1]])
    with open_series(np.zeros((2, 3, 4), np.int16), affine=sag) as s:
        assert s.plane == "sagittal"
    with pytest.raises(ValueError, match="does not match"):
        open_series(vol, spacing=(1, 1, 1), affine=np.diag([2.0, 2.0, 2.0, 1.0]))


def test_non_finite_values_of_an_array_are_said() -> None:
    """QA 19b D5 part: NaN or infinite values were accepted without a word; they are counted
    and left out of the value range. Finite arrays open without a warning."""
    values = np.linspace(-100, 300, 3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DicomLoadWarning)
        open_series(values)
    values[0, 0, :2] = np.nan
    values[2, 7, 7] = -np.inf
    with pytest.warns(DicomLoadWarning, match="3 NaN or infinite values \\(of 192\\)"):
        s = open_series(values)
    with s:
        assert s.value_range == (float(values[0, 0, 2]), float(values[2, 7, 6]))
        assert len(s.warnings) == 1


def _float_series(folder: Path, volume: np.ndarray) -> Path:
    """An MR series stored as FloatPixelData (32-bit floats), one file per slice."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    for k, values in enumerate(volume):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.Modality = "MR"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Rows, ds.Columns = values.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = 32
        ds.PixelSpacing = [0.8, 0.8]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0, 0, 2.0 * k]
        ds.InstanceNumber = k + 1
        ds.FloatPixelData = np.ascontiguousarray(values, dtype="<f4").tobytes()
        ds.save_as(folder / f"{k:03d}.dcm", enforce_file_format=True)
    return folder


def test_float_pixel_data_is_read_and_its_non_finite_values_are_said(tmp_path: Path) -> None:
    """FloatPixelData (a parametric or diffusion map) is read as float32, exactly. NaN and
    infinite values were accepted without a word (a NumPy array's are counted): they are
    said once, when the slices the automatic window samples hold them, or else when the
    whole volume is read."""
    volume = np.linspace(-1.5, 4.0, 5 * 12 * 10, dtype=np.float32).reshape(5, 12, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DicomLoadWarning)
        with open_series(_float_series(tmp_path / "fine", volume)) as s:
            assert s.dtype == np.float32 and s.windows[-1].source == "auto"
            np.testing.assert_array_equal(s.array, volume)
            assert s.warnings == []
    sampled = volume.copy()
    sampled[2, 0, :3] = np.nan  # the middle slice, which the automatic window samples
    sampled[4, 1, 1] = np.inf  # not sampled: in the count of the volume, said once only
    with open_series(_float_series(tmp_path / "sampled", sampled)) as s:
        with pytest.warns(DicomLoadWarning, match="slice 2 has 3 NaN or infinite pixel values"):
            window = s.windows[-1]
        assert window.center - window.width / 2 >= -1.5 and np.isfinite(window.width)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DicomLoadWarning)
            np.testing.assert_array_equal(s.array, sampled)  # NaN in the same places
        assert len(s.warnings) == 1
    unsampled = volume.copy()
    unsampled[0, 5, 5] = -np.inf
    with open_series(_float_series(tmp_path / "unsampled", unsampled)) as s:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DicomLoadWarning)
            assert s.windows[-1].source == "auto"
        with pytest.warns(DicomLoadWarning, match="the volume has 1 NaN or infinite pixel"):
            assert s.array.shape == (5, 12, 10)
        assert len(s.warnings) == 1 and "float pixel data" in s.warnings[0]


def test_values_longer_than_their_vr_allows_are_read_without_pydicom_noise(
    tmp_path: Path,
) -> None:
    """QA 19b D10 part: a 72-character SeriesDescription (LO allows 64) made pydicom print a
    bare UserWarning in the cell, naming no file or tag, at open and again in the tags panel.
    The value is read and shown whole, without it."""
    long = "x" * 60 + " <b>twelve</b>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (pydicom says it when the file is written, too)
        make_series(tmp_path, 2, description=long)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        s = open_series(tmp_path)
        meta = s.slice_metadata(0)
    shown = {e["keyword"]: e["value"] for e in meta["elements"] if "keyword" in e}
    assert shown["SeriesDescription"] == long
    assert s.description == long


def test_a_colour_image_array_is_one_rgb_slice() -> None:
    """QA: an (rows, columns, 3) image (skimage's and matplotlib's layout) became `rows` grey
    slices of 3 columns, and a 4th channel was dropped without a word."""
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    with open_series(rgb) as s:
        assert s.shape == (1, 20, 30, 3) and s.is_color
        np.testing.assert_array_equal(s.get_slice(0), rgb)
    rgba = np.concatenate([rgb, np.full((20, 30, 1), 255, np.uint8)], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an opaque alpha is dropped silently
        with open_series(rgba) as s:
            np.testing.assert_array_equal(s.get_slice(0), rgb)
    rgba[0, 0, 3] = 10
    with pytest.warns(DicomLoadWarning, match=r"alpha channel that is not opaque"):
        open_series(rgba[np.newaxis]).close()
    with pytest.raises(DicomLoadError, match=r"\(20, 30, 3\) is read as one RGB image .*float64"):
        open_series(rgb.astype(np.float64))
    # small last axes of a volume stay a volume
    with open_series(np.zeros((2, 3, 4), np.int16)) as s:
        assert s.shape == (2, 3, 4) and not s.is_color


def test_unknown_keyword_and_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        open_series(tmp_path, spacng=(1, 1, 1))  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="spacing"):
        open_series(np.zeros((2, 2, 2)), spacing=(1, -1, 1))
    with pytest.raises(TypeError):
        open_series(42)
    with pytest.raises(DicomLoadError, match="does not exist"):
        open_series(tmp_path / "nope")


# --------------------------------------------------------------------------- geometry


def test_shuffled_files_are_sorted_by_position(tmp_path: Path) -> None:
    make_series(tmp_path, 7, shuffle=True)
    with open_series(tmp_path) as s:
        for k in range(7):
            np.testing.assert_array_equal(s.get_stored_slice(k), stored(k))
            np.testing.assert_allclose(s.affine @ [0, 0, k, 1], [-10.0, -20.0, -40.0 + 2.5 * k, 1])


def test_sort_follows_the_slice_normal_not_z(tmp_path: Path) -> None:
    # sagittal: normal = row x col = (0,1,0) x (0,0,-1) = (-1,0,0): ascending along -x
    for k in range(4):
        make_slice(
            tmp_path / f"s{k}.dcm",
            pixels=stored(k),
            position=(10.0 * k, 0.0, 0.0),
            orientation=(0, 1, 0, 0, 0, -1),
            instance=k + 1,
        )
    with open_series(tmp_path) as s:
        assert s.plane == "sagittal"
        np.testing.assert_array_equal(s.get_stored_slice(0), stored(3))
        np.testing.assert_allclose(s.affine[:3, 2], [-10.0, 0, 0])
        assert np.linalg.det(s.affine[:3, :3]) > 0


def test_missing_slice_warns(tmp_path: Path) -> None:
    make_series(tmp_path, 8, skip=[4])
    with pytest.warns(DicomLoadWarning, match="missing") as record:
        s = open_series(tmp_path)
    with s:
        assert len(s) == 7 and s.spacing[0] == pytest.approx(2.5)
        assert any("missing" in w for w in s.warnings)
    assert "Doe" not in str(record[0].message)


def test_non_uniform_spacing_warns(tmp_path: Path) -> None:
    for k, z in enumerate([0.0, 2.0, 4.0, 6.5, 8.5, 10.5]):
        make_slice(tmp_path / f"{k}.dcm", pixels=stored(k), position=(0, 0, z), instance=k)
    with pytest.warns(DicomLoadWarning, match="not uniform"):
        open_series(tmp_path).close()


def test_duplicate_positions_warn(tmp_path: Path) -> None:
    make_series(tmp_path / "a", 3)
    make_series(tmp_path / "a2", 3, description="synthetic")  # same UIDs and positions
    with pytest.warns(DicomLoadWarning, match="duplicate"):
        s = open_series(tmp_path)
    with s:
        assert len(s) == 6


def test_echoes_sharing_positions_are_separate_stacks(tmp_path: Path) -> None:
    """QA: two echoes of an MR in one series were stacked as one volume (slices interleaved,
    the affine twice as long as the anatomy). Volumes told apart by EchoNumbers (or the
    phase's TemporalPositionIdentifier...) with positions of their own are stacks of their
    own: the first opens, the warning names the others, open_study lists each."""
    make_series(tmp_path / "e1", 4, extra={"EchoNumbers": 1})
    make_series(tmp_path / "e2", 4, extra={"EchoNumbers": 2}, description="synthetic")
    for f in sorted((tmp_path / "e2").iterdir()):  # new SOP instances
        ds = pydicom.dcmread(f)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(f)
    with pytest.warns(DicomLoadWarning) as record:
        s = open_series(tmp_path)
    text = " ".join(str(w.message) for w in record)
    assert "2 volumes, told apart by EchoNumbers 1 (4 slices), 2 (4 slices)" in text
    assert "duplicate" not in text
    with s:
        assert len(s) == 4 and s.spacing[0] == 2.5
        z = [p[2] for p in s.slice_positions]
        assert sorted(z) == [-40.0, -37.5, -35.0, -32.5]
        assert all(str(f).startswith(str(tmp_path / "e1")) for f in s.slice_files)
    study = open_study(tmp_path)
    assert [info.n_slices for info in study.series_info] == [4, 4]
    # a series without such a key keeps the old behaviour (one stack, warned)
    make_series(tmp_path / "same" / "a", 3)
    make_series(tmp_path / "same" / "b", 3, description="synthetic")
    with pytest.warns(DicomLoadWarning, match="duplicate"):
        assert len(open_series(tmp_path / "same")) == 6


def test_gantry_tilt_warns_and_affine_keeps_the_shear(tmp_path: Path) -> None:
    make_series(tmp_path, 5, shift_per_slice=(0.0, 0.8, 0.0), extra={"GantryDetectorTilt": 17.7})
    with pytest.warns(DicomLoadWarning, match="sheared") as record:
        s = open_series(tmp_path)
    assert "GantryDetectorTilt 17.7" in str(record[0].message)
    with s:
        for k in range(5):
            np.testing.assert_allclose(
                s.affine @ [0, 0, k, 1], [-10.0, -20.0 + 0.8 * k, -40.0 + 2.5 * k, 1]
            )
        assert s.spacing[0] == pytest.approx(2.5)


def test_imager_pixel_spacing_and_magnification(tmp_path: Path) -> None:
    path = make_slice(
        tmp_path / "mg.dcm",
        pixels=stored(0),
        position=None,
        orientation=None,
        pixel_spacing=None,
        modality="MG",
        sop_class=DigitalXRayImageStorageForPresentation,
        extra={
            "ImagerPixelSpacing": [0.1, 0.1],
            "EstimatedRadiographicMagnificationFactor": 1.25,
            "PatientOrientation": ["A", "F"],
        },
    )
    with open_series(path) as s:
        assert s.spacing_known and not s.orientation_known
        assert s.spacing[1:] == pytest.approx((0.08, 0.08))
        assert s.plane == "sagittal"  # from PatientOrientation A/F
        assert s.patient_orientation == ("A", "F")  # the page's markers of a radiograph


def test_no_spacing_means_spacing_unknown(tmp_path: Path) -> None:
    path = make_slice(
        tmp_path / "sc.dcm",
        pixels=stored(0),
        position=None,
        orientation=None,
        pixel_spacing=None,
        sop_class=SecondaryCaptureImageStorage,
        modality="OT",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DicomLoadWarning)  # a secondary capture rightly has none
        s = open_series(path)
    with s:
        assert not s.spacing_known and s.spacing == (1.0, 1.0, 1.0)
        assert "spacing unknown" in repr(s)


@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_a_ct_without_pixel_spacing_is_warned_about(tmp_path: Path, modality: str) -> None:
    """QA 19b D8: a CT without PixelSpacing opened without a word in Python (the page showed
    a notice): measurements in pixels, 1 mm assumed for exports."""
    make_series(tmp_path, 3, pixel_spacing=None, modality=modality)
    with pytest.warns(DicomLoadWarning, match=f"no PixelSpacing .* in a {modality} series") as rec:
        s = open_series(tmp_path)
    with s:
        assert not s.spacing_known
        said = [w for w in s.warnings if "PixelSpacing" in w]
        assert len(said) == 1 and "lengths, areas and volumes are in pixels" in said[0], said
    assert len([w for w in rec if "PixelSpacing" in str(w.message)]) == 1
    # given by the caller: nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error", DicomLoadWarning)
        with open_series(tmp_path, spacing=(2.5, 0.5, 0.5)) as given:
            assert given.spacing_known


def test_enhanced_multiframe_uses_per_frame_groups(tmp_path: Path) -> None:
    n = 4
    frames = np.stack([stored(k) for k in range(n)])
    path = make_slice(tmp_path / "mf.dcm", pixels=frames[0], position=None, orientation=None)
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = n
    ds.PixelData = frames[::-1].astype("<u2").tobytes()  # stored in reverse order
    del ds.RescaleSlope, ds.RescaleIntercept, ds.PixelSpacing
    shared = Dataset()
    po, pm = Dataset(), Dataset()
    po.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    pm.PixelSpacing = [0.4, 0.6]
    pm.SliceThickness = 9.0
    shared.PlaneOrientationSequence = [po]
    shared.PixelMeasuresSequence = [pm]
    ds.SharedFunctionalGroupsSequence = [shared]
    per = []
    for i in range(n):
        k = n - 1 - i  # frame i holds slice k
        item, pp, pv = Dataset(), Dataset(), Dataset()
        pp.ImagePositionPatient = [0.0, 0.0, 3.0 * k]
        pv.RescaleSlope, pv.RescaleIntercept, pv.RescaleType = 1, -1000 + k, "HU"
        item.PlanePositionSequence = [pp]
        item.PixelValueTransformationSequence = [pv]
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = per
    ds.save_as(path)
    with open_series(path) as s:
        assert len(s) == n and s.spacing == (3.0, 0.4, 0.6)
        assert s.slice_frames == [3, 2, 1, 0]
        for k in range(n):
            assert s.rescale(k) == (1.0, -1000.0 + k)
            np.testing.assert_array_equal(s.get_slice(k), stored(k).astype(np.int32) - 1000 + k)
        meta = s.slice_metadata(1)
        assert "frame_functional_groups" in meta
        assert any("ImagePositionPatient" in v for v in meta["varying"])


def test_echoes_of_an_enhanced_mr_are_separate_stacks(tmp_path: Path) -> None:
    """QA 19b D1 (its enhanced part): the two echoes of an enhanced MR (one multi-frame file,
    frames at the same positions, EffectiveEchoTime in each frame's MREchoSequence) were
    interleaved into one volume. Each echo is a stack of its own, as for single-frame files."""
    n, echoes = 3, (12.0, 80.0)
    frames = np.stack([stored(k) + 100 * e for e in range(2) for k in range(n)])
    path = make_slice(
        tmp_path / "mr.dcm", pixels=frames[0], position=None, orientation=None, modality="MR"
    )
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = len(frames)
    ds.PixelData = frames.astype("<u2").tobytes()
    del ds.PixelSpacing
    shared, po, pm = Dataset(), Dataset(), Dataset()
    po.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    pm.PixelSpacing = [0.5, 0.5]
    shared.PlaneOrientationSequence = [po]
    shared.PixelMeasuresSequence = [pm]
    ds.SharedFunctionalGroupsSequence = [shared]
    per = []
    for i in range(len(frames)):
        item, pp, echo, content = Dataset(), Dataset(), Dataset(), Dataset()
        pp.ImagePositionPatient = [0.0, 0.0, 4.0 * (i % n)]
        echo.EffectiveEchoTime = echoes[i // n]
        content.DimensionIndexValues = [1 + i // n, 1 + i % n]
        item.PlanePositionSequence = [pp]
        item.MREchoSequence = [echo]
        item.FrameContentSequence = [content]
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = per
    ds.save_as(path)
    with pytest.warns(DicomLoadWarning) as record:
        s = open_series(path)
    text = " ".join(str(w.message) for w in record)
    assert "2 volumes, told apart by EffectiveEchoTime 12.0 (3 slices), 80.0 (3 slices)" in text
    with s:
        assert len(s) == n and s.spacing == (4.0, 0.5, 0.5)
        assert s.slice_frames == [0, 1, 2]
        for k in range(n):
            np.testing.assert_array_equal(s.get_slice(k), stored(k).astype(np.int32) - 1024)
    study = open_study(tmp_path)
    assert [info.n_slices for info in study.series_info] == [n, n]


# --------------------------------------------------------------------------- grouping


def test_mixed_matrix_sizes_are_split_into_stacks(tmp_path: Path) -> None:
    make_series(tmp_path, 5)
    make_slice(
        tmp_path / "localizer.dcm",
        pixels=np.zeros((20, 20), np.uint16),
        position=(0, 0, 0),
        orientation=(1, 0, 0, 0, 0, -1),
    )
    with pytest.warns(DicomLoadWarning) as record:
        s = open_series(tmp_path)
    messages = " ".join(str(w.message) for w in record)
    assert "split into 2 stacks" in messages and "Others:" in messages and "20x20" in messages
    with s:
        assert s.shape == (5, ROWS, COLS)
    with open_study(tmp_path) as study:
        infos = study.series_info
        assert [(i.n_slices, i.stack, i.n_stacks) for i in infos] == [(5, 0, 2), (1, 1, 2)]
        assert infos[0].series_instance_uid == infos[1].series_instance_uid
        with pytest.warns(DicomLoadWarning, match="split"):
            assert study.series[1].shape == (1, 20, 20)
        assert "stack 2/2" in repr(study)


def test_several_series_open_the_largest_or_the_named_one(tmp_path: Path) -> None:
    make_series(tmp_path / "a", 3, series_uid="1.2.3.1", description="small")
    make_series(tmp_path / "b", 5, series_uid="1.2.3.2", description="big")
    with pytest.warns(DicomLoadWarning, match="'small'"):
        s = open_series(tmp_path)
    assert s.description == "big" and len(s) == 5
    s.close()
    with open_series(tmp_path, series_instance_uid="1.2.3.1") as s:
        assert s.description == "small"
    with pytest.raises(DicomLoadError, match="No series"):
        open_series(tmp_path, series_instance_uid="9.9")
    with open_study(tmp_path) as study:
        assert [st.study_instance_uid for st in study.studies] == ["1.2.3.4"]
        assert {i.description for i in study.series_info} == {"small", "big"}
        assert study.open("1.2.3.1").description == "small"


def test_empty_uids_are_substituted_deterministically(tmp_path: Path) -> None:
    make_series(tmp_path / "a", 3, series_uid="", study_uid="")
    make_series(tmp_path / "b", 2, series_uid="", study_uid="", description="other")
    with open_study(tmp_path) as study:
        infos = study.series_info
        assert len(infos) == 2 and all(i.uids_substituted for i in infos)
        assert infos[0].series_instance_uid != infos[1].series_instance_uid
        assert infos[0].study_instance_uid == infos[1].study_instance_uid
    with open_quiet(tmp_path / "a") as s1, open_quiet(tmp_path / "a") as s2:
        assert s1.series_instance_uid == s2.series_instance_uid
        assert {u.keyword for u in s1.uid_substitutions} == {
            "StudyInstanceUID",
            "SeriesInstanceUID",
        }


def test_a_blank_sop_class_uid_comes_from_the_file_meta_for_files_and_datasets(
    tmp_path: Path,
) -> None:
    """De-identified files often blank SOPClassUID; the file meta keeps it. QA: datasets
    opened in memory (a list of pydicom Datasets) got no SOPClassUID, so SEG export failed."""
    paths = make_series(tmp_path, 3)
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.SOPClassUID = ""
        ds.save_as(p)
    datasets = [pydicom.dcmread(p) for p in paths]
    with open_quiet(tmp_path) as from_files, open_quiet(datasets) as from_datasets:
        assert from_files.sop_class_uid == CTImageStorage
        assert from_datasets.sop_class_uid == CTImageStorage


# --------------------------------------------------------------------------- bad input


def test_garbage_file_in_a_folder_is_skipped_with_a_warning(tmp_path: Path) -> None:
    make_series(tmp_path, 4)
    junk = tmp_path / "notes.dcm"
    junk.write_bytes(b"\x00garbage" * 300)
    with pytest.warns(DicomLoadWarning, match="notes.dcm") as record:
        s = open_series(tmp_path)
    with s:
        assert len(s) == 4
        assert any("notes.dcm" in w and "not a DICOM file" in w for w in s.warnings)
    for w in record:  # no patient data in warnings: files are named by path
        assert "Doe" not in str(w.message) and "SECRET" not in str(w.message)


@pytest.mark.parametrize("value", [[0, 0], [-0.5, 0.7], ["NaN", 0.7]])
def test_an_unusable_pixel_spacing_is_said_once(tmp_path: Path, value: list[Any]) -> None:
    """QA: PixelSpacing 0, negative or NaN fell back to 1 mm pixels without a word."""
    make_series(tmp_path, 3, pixel_spacing=value)
    with pytest.warns(DicomLoadWarning, match="not two positive numbers; it is ignored") as rec:
        s = open_series(tmp_path)
    with s:
        assert not s.spacing_known
    said = [w for w in rec if "PixelSpacing" in str(w.message)]
    assert len(said) == 1  # one note for the three files


def test_files_sharing_a_sop_instance_uid_are_warned_about(tmp_path: Path) -> None:
    """QA: two files with one SOPInstanceUID loaded silently; a DICOM SEG then referenced one
    image from two frames."""
    paths = make_series(tmp_path, 4)
    uid = pydicom.dcmread(paths[1]).SOPInstanceUID
    ds = pydicom.dcmread(paths[2])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.save_as(paths[2])
    with pytest.warns(DicomLoadWarning, match=r"2 slices \(slices 1, 2\) share their SOP"):
        open_series(tmp_path).close()


def test_a_single_slice_is_as_deep_as_it_is_thick(tmp_path: Path) -> None:
    """QA: one slice got a 1 mm depth whatever its SliceThickness, so its NIfTI (and any
    volume computed from it) was off by the thickness."""
    make_series(tmp_path / "one", 1, extra={"SliceThickness": "3"})
    with open_quiet(tmp_path / "one") as s:
        assert s.spacing[0] == 3.0
    make_series(tmp_path / "hint", 1, extra={"SliceThickness": "3", "SpacingBetweenSlices": "2"})
    with open_quiet(tmp_path / "hint") as s:
        assert s.spacing[0] == 2.0
    make_series(tmp_path / "many", 3, extra={"SliceThickness": "5"})  # positions say 2.5
    with open_quiet(tmp_path / "many") as s:
        assert s.spacing[0] == 2.5


def test_reorient_must_be_a_boolean(tmp_path: Path) -> None:
    make_series(tmp_path, 2)
    with pytest.raises(TypeError, match="reorient must be True or False, got 'yes'"):
        open_series(tmp_path, reorient="yes")  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_a_folder_is_skipped_not_waited_on(tmp_path: Path) -> None:
    """QA: opening a folder holding a named pipe hung for ever (open() waits for a writer)."""
    make_series(tmp_path, 3)
    os.mkfifo(tmp_path / "pipe")
    with pytest.warns(DicomLoadWarning, match="pipe.*not a regular file"):
        s = open_series(tmp_path)
    with s:
        assert len(s) == 3


def test_truncated_pixel_data(tmp_path: Path) -> None:
    paths = make_series(tmp_path / "series", 4)
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[:-50])
    with pytest.raises(DicomLoadError, match="truncated") as info:
        open_series(paths[2])
    assert str(paths[2]) in str(info.value)
    with pytest.warns(DicomLoadWarning) as record:
        s = open_series(tmp_path / "series")
    with s:
        assert len(s) == 3 and s.spacing[0] == 2.5
    messages = [str(w.message) for w in record]
    assert any("truncated" in m and "img002.dcm" in m for m in messages)
    assert any("missing" in m for m in messages)


def test_truncated_compressed_pixel_data(tmp_path: Path, ct_abdomen_dir: Path) -> None:
    src = sorted(ct_abdomen_dir.glob("*.dcm"))[0]
    data = src.read_bytes()
    # cut inside the compressed frame (fails at decode) and before it (fails at open)
    for cut in (len(data) - 20000, 4830):
        bad = tmp_path / f"cut{cut}.dcm"
        bad.write_bytes(data[:cut])
        with pytest.raises(DicomLoadError, match="truncat") as info, open_quiet(bad) as s:
            s.get_slice(0)
        assert str(bad) in str(info.value)


def test_no_pixel_data_and_not_dicom_are_clear_errors(tmp_path: Path) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    with pytest.raises(DicomLoadError, match=r"no pixel data.*Basic Text SR"):
        open_series(tmp_path / "sr.dcm")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DicomLoadError, match="not a DICOM file"):
        open_series(tmp_path / "x.txt")
    with pytest.raises(DicomLoadError, match="No DICOM image found"):
        open_series(tmp_path)


def test_inconsistent_matrix_size_in_header_is_explained(tmp_path: Path) -> None:
    path = make_slice(tmp_path / "m.dcm", pixels=stored(0))
    ds = pydicom.dcmread(path)
    ds.Rows = ROWS * 4  # header claims more pixels than the file holds
    ds.save_as(path)
    with pytest.raises(DicomLoadError, match=r"truncated pixel data.*need"):
        open_series(path)


def test_missing_decoder_names_the_syntax_and_package(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoPlugins:
        is_available = False
        missing_dependencies = ("pylibjpeg - requires pylibjpeg>=2.0 and pylibjpeg-openjpeg>=2.0",)

    monkeypatch.setattr(decode_module, "get_decoder", lambda uid: NoPlugins())
    monkeypatch.setattr(decode_module, "_decoder_problem_cache", {})
    with pytest.raises(MissingDecoderError) as info:
        open_series(sorted(ct_abdomen_dir.glob("*.dcm"))[0])
    message = str(info.value)
    assert "JPEG 2000" in message and JPEG2000Lossless in message
    assert "pip install pylibjpeg pylibjpeg-openjpeg" in message
    assert "IM0267.dcm" in message


# --------------------------------------------------------------------------- streaming


def test_prefetch_decodes_in_the_requested_order(tmp_path: Path) -> None:
    make_series(tmp_path, 30)
    with open_series(tmp_path) as s:
        seen: list[int] = []
        done = threading.Event()

        def on_decoded(k: int) -> None:
            seen.append(k)
            if len(seen) == 30:
                done.set()

        s.add_decoded_callback(on_decoded)
        order = [15]
        for d in range(1, 16):
            order += [k for k in (15 + d, 15 - d) if 0 <= k < 30]
        with pytest.raises(TypeError, match="order must be a sequence of slice indices"):
            s.prefetch(15)  # type: ignore[arg-type]
        s.prefetch(order)
        assert done.wait(60), seen
        assert seen[0] == 15
        assert seen == order
        assert s.decoded.all()


def test_prefetch_reprioritises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_series(tmp_path, 12)
    gate = threading.Event()
    started = threading.Event()
    real = series_module.decode_local

    def gated(layout: Any, frame: int) -> np.ndarray:
        started.set()
        gate.wait(30)
        return real(layout, frame)

    monkeypatch.setattr(series_module, "decode_local", gated)
    with open_series(tmp_path) as s:
        seen: list[int] = []
        s.add_decoded_callback(seen.append)
        s.prefetch(list(range(12)))
        assert started.wait(30)  # the worker is busy with slice 0
        three = threading.Event()
        s.add_decoded_callback(lambda k: three.set() if {9, 10, 11} <= set(seen) else None)
        s.prefetch([11, 10, 9])  # the user jumped to the end
        gate.set()
        assert three.wait(30), seen
        s.close()
        assert seen[0] == 0
        assert seen[1:4] == [11, 10, 9]
        assert not s.is_decoded(5)


def test_get_slice_while_prefetching_and_from_threads(tmp_path: Path) -> None:
    make_series(tmp_path, 20)
    with open_series(tmp_path) as s:
        s.prefetch(list(range(20)))
        results: dict[int, np.ndarray] = {}
        errors: list[BaseException] = []

        def read(k: int) -> None:
            try:
                results[k] = s.get_slice(k)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(19, -1, -1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        for k in range(20):
            np.testing.assert_array_equal(results[k], stored(k).astype(np.int32) - 1024)
        np.testing.assert_array_equal(s.array[7], results[7])


def test_index_errors(tmp_path: Path) -> None:
    make_series(tmp_path, 3)
    with open_series(tmp_path) as s:
        with pytest.raises(IndexError):
            s.get_slice(3)
        with pytest.raises(TypeError):
            s.get_slice(1.0)  # type: ignore[arg-type]
        np.testing.assert_array_equal(s.get_slice(-1), s.get_slice(2))


def test_long_header_and_large_private_values(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 400  # 100 kB: longer than the bytes parsed from memory
    path = make_slice(tmp_path / "big.dcm", pixels=stored(2))
    ds = pydicom.dcmread(path)
    ds.private_block(0x0011, "ACME", create=True).add_new(0x01, "OB", blob)
    ds.save_as(path)
    with open_series(path) as s:
        np.testing.assert_array_equal(s.get_stored_slice(0), stored(2))
        by_tag = {e["tag"]: e for e in s.metadata["elements"]}
        assert by_tag["(0011,1001)"]["value"] == "<OB, 102400 bytes>"
        assert by_tag["(0011,1001)"]["private"] is True


def test_an_uncompressed_slice_can_be_read_without_keeping_it(tmp_path: Path) -> None:
    """``keep=False`` reads an uncompressed slice for the caller alone: same values, nothing
    decoded in the series; a slice already decoded is the series' own copy."""
    make_series(tmp_path, 5)
    with open_series(tmp_path) as s:
        assert s.rereadable
        once = s.get_stored_slice(2, keep=False)
        assert not s.decoded.any() and not once.flags.writeable
        np.testing.assert_array_equal(once, stored(2))
        kept = s.get_stored_slice(2)
        assert s.is_decoded(2)
        np.testing.assert_array_equal(kept, once)
        assert np.shares_memory(s.get_stored_slice(2, keep=False), kept)


def test_a_compressed_slice_is_kept_whatever_keep_says(ct_abdomen_dir: Path) -> None:
    """Decoding a compressed slice costs more than keeping it: ``keep=False`` keeps it."""
    with open_series(ct_abdomen_dir) as s:
        assert not s.rereadable
        once = s.get_stored_slice(1, keep=False)
        assert s.is_decoded(1)
        assert np.shares_memory(once, s.get_stored_slice(1))


def test_a_broken_uncompressed_slice_read_without_keeping_raises_as_usual(tmp_path: Path) -> None:
    make_series(tmp_path, 3)
    with open_series(tmp_path) as s:
        victim = Path(str(s.slice_files[1]))
        victim.write_bytes(victim.read_bytes()[:-1000])  # pixel data cut short after opening
        with pytest.raises(DicomLoadError, match=r"slice 1|img001"):
            s.get_stored_slice(1, keep=False)
        assert not s.is_decoded(1)


def _write_nifti(path: Path) -> None:
    import nibabel as nib

    data = np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3) - 1000
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))


def test_a_nifti_takes_its_modality_from_its_bids_sidecar(tmp_path: Path) -> None:
    """NIfTI has no modality: a CT converted by dcm2niix opened with no CT presets (and no HU
    readout) unless given modality="CT". Its JSON sidecar says what it is."""
    _write_nifti(tmp_path / "ct.nii.gz")
    assert open_series(tmp_path / "ct.nii.gz").modality == ""  # no sidecar: unknown
    (tmp_path / "ct.json").write_text('{"Modality": "CT", "SeriesDescription": "Abdomen 2mm"}')
    series = open_series(tmp_path / "ct.nii.gz")
    assert series.modality == "CT"
    assert series.description == "Abdomen 2mm"
    assert "Lung" in [w.name for w in series.windows]
    assert open_series(tmp_path / "ct.nii.gz", modality="MR").modality == "MR"  # the argument wins
    _write_nifti(tmp_path / "mr.nii")  # an uncompressed file's sidecar too
    (tmp_path / "mr.json").write_text('{"Modality": "MR"}')
    assert open_series(tmp_path / "mr.nii").modality == "MR"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", b"\xff\xfe{"])
def test_a_nifti_sidecar_that_cannot_be_used_is_named_and_ignored(
    tmp_path: Path, text: str | bytes
) -> None:
    _write_nifti(tmp_path / "ct.nii.gz")
    sidecar = tmp_path / "ct.json"
    if isinstance(text, bytes):
        sidecar.write_bytes(text)
    else:
        sidecar.write_text(text)
    with pytest.warns(DicomLoadWarning, match="Ignored the sidecar .*ct.json"):
        series = open_series(tmp_path / "ct.nii.gz")
    assert series.modality == ""
    assert series.shape == (3, 5, 4)


def test_a_radiograph_presented_inverse_or_by_a_voi_lut(tmp_path: Path) -> None:
    """QA 23a D7: a MONOCHROME2 DX with PresentationLUTShape INVERSE was shown not inverted,
    and a CR whose only display transform is a VOI LUT got an automatic window. The first is
    presented inverted (as MONOCHROME1; the page inverts the window by ``display_inverted``),
    the second offers its LUT as the linear window spanning the LUT's rise."""
    dx = dict(
        position=None,
        orientation=None,
        pixel_spacing=None,
        intercept=0.0,
        modality="DX",
        sop_class=DigitalXRayImageStorageForPresentation,
    )
    shapes = {
        shape: make_slice(
            tmp_path / f"{shape}.dcm", pixels=stored(0), extra={"PresentationLUTShape": shape}, **dx
        )
        for shape in ("INVERSE", "IDENTITY")
    }
    inverse, identity = shapes["INVERSE"], shapes["IDENTITY"]
    with open_quiet(inverse) as s, open_quiet(identity) as t:
        assert s.presentation_lut_shape == "INVERSE" and s.display_inverted
        assert t.presentation_lut_shape == "IDENTITY" and not t.display_inverted
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    x = np.arange(4096)
    item.LUTData = (4095 / (1 + np.exp(-(x - 2000) / 150))).astype("<u2").tobytes()
    item.LUTExplanation = "NORMAL"
    lut = make_slice(tmp_path / "cr.dcm", pixels=stored(0), extra={"VOILUTSequence": [item]}, **dx)
    with open_quiet(lut) as s:
        assert not s.display_inverted
        [window] = [w for w in s.windows if w.source == "dicom"]
        assert window.name == "NORMAL (linear)"
        # the sigmoid rises from 1 % to 99 % over 2000 -+ 150 ln(99)
        half = 150 * np.log(99)
        assert window.center == pytest.approx(2000.5, abs=1)
        assert window.width == pytest.approx(2 * half, abs=2)
        assert s.windows[0] == window  # the header's own window comes first


def test_instance_numbers_follow_the_slices(tmp_path: Path) -> None:
    """QA 23a D6: the image number reports cite, per slice in series (position) order; the
    widget's overlay shows it beside the slice number."""
    make_series(tmp_path / "s", n=5, shuffle=True)  # numbered n - k: head to feet
    with open_quiet(tmp_path / "s") as s:
        assert s.instance_numbers == [5, 4, 3, 2, 1]
    with open_quiet(np.zeros((3, 4, 4), np.int16)) as s:
        assert s.instance_numbers is None


def _cine_loop(path: Path, *, pointer: bool = True) -> Path:
    """A 3-frame ultrasound loop (frames 100 ms apart), no patient orientation."""
    from pydicom.uid import UltrasoundMultiFrameImageStorage

    frames = np.stack([stored(k, np.uint8) for k in range(3)])
    ds = _new_instance(UltrasoundMultiFrameImageStorage, ExplicitVRLittleEndian)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", "1.2.3.4.6"
    ds.Modality = "US"
    ds.NumberOfFrames = 3
    ds.FrameTime = 100
    if pointer:
        ds.FrameIncrementPointer = 0x00181063
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = frames.shape[1:]
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = frames.tobytes()
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("pointer", [True, False])
def test_a_cine_loop_is_moments_not_slices(tmp_path: Path, pointer: bool) -> None:
    """QA 23a D8: an ultrasound loop's frames (times) were offered as coronal and sagittal
    "reformats", and the cine played at 10/s whatever its FrameTime. The loop is temporal
    (FrameIncrementPointer names FrameTime, or a FrameTime without patient orientation): the
    widget refuses its reformats, and its cine speed is its recorded rate."""
    from dicom_annot_widget import DicomAnnotator

    path = _cine_loop(tmp_path / "loop.dcm", pointer=pointer)
    with open_quiet(path) as s:
        assert len(s) == 3 and s.temporal and s.frame_rate == pytest.approx(10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomLoadWarning)
        w = DicomAnnotator(str(path))
    assert w.series_info["temporal"] is True and w.series_info["frame_rate"] == 10.0
    with pytest.raises(WidgetValueError, match="reformat of a cine loop means nothing"):
        w.plane = "coronal"
    assert w.plane == "axial"
    w.close()
    make_series(tmp_path / "ct", 4)  # slices of a CT are places
    with open_quiet(tmp_path / "ct") as s:
        assert not s.temporal and s.frame_rate is None


def test_the_unit_of_the_values_is_read_from_the_header(tmp_path: Path) -> None:
    """A PET's values are in its Units (QA 23a: the readout of a PET in BQML showed no unit,
    only CT's HU was known); a CT's in HU; an MR's in none."""
    from dicom_annot_widget import DicomAnnotator
    from dicom_annot_widget.widget.annotator import series_info

    make_series(tmp_path / "pt", 3, modality="PT", extra={"Units": "BQML"})
    make_series(tmp_path / "ct", 3)
    make_series(tmp_path / "mr", 3, modality="MR")
    with open_quiet(tmp_path / "pt") as pt, open_quiet(tmp_path / "ct") as ct:
        assert (pt.units, ct.units) == ("Bq/mL", "HU")
        assert series_info(pt, "s0")["units"] == "Bq/mL"
    with open_quiet(tmp_path / "mr") as mr:
        assert mr.units == ""
    assert DicomAnnotator(np.zeros((2, 4, 4), np.int16)).series_info["units"] == ""


def test_a_nifti_or_an_array_gets_the_same_uids_whenever_it_is_opened(tmp_path: Path) -> None:
    """Sources without DICOM UIDs get UIDs made from their contents (QA 24b D10: a new random
    UID on each open, so their labels were never found again): the same in another process,
    different for other contents or another way of reading them."""
    import subprocess
    import sys

    _write_nifti(tmp_path / "ct.nii.gz")
    first = open_series(tmp_path / "ct.nii.gz")
    again = open_series(tmp_path / "ct.nii.gz")
    assert first.series_instance_uid == again.series_instance_uid
    assert first.study_instance_uid == again.study_instance_uid
    assert "made from its contents" in first.uid_substitutions[0].reason
    code = (
        "from dicom_annot_widget import open_series; "
        f"print(open_series({str(tmp_path / 'ct.nii.gz')!r}).series_instance_uid)"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other_process == first.series_instance_uid
    assert open_series(tmp_path / "ct.nii.gz", reorient=False).series_instance_uid != (
        first.series_instance_uid
    )
    import nibabel as nib

    data = np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3)  # other values
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(tmp_path / "b.nii.gz"))
    assert open_series(tmp_path / "b.nii.gz").series_instance_uid != first.series_instance_uid
    # an in-memory nibabel image: its header and voxels
    img = nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0]))
    assert open_series(img).series_instance_uid == open_series(img).series_instance_uid
    # arrays: the same values, spacing and modality give the same UIDs
    volume = np.arange(2 * 6 * 7, dtype=np.int16).reshape(2, 6, 7)
    uid = open_series(volume, spacing=(2, 1, 1)).series_instance_uid
    assert open_series(volume.copy(), spacing=(2, 1, 1)).series_instance_uid == uid
    changed = volume.copy()
    changed[1, 2, 3] += 1
    assert open_series(changed, spacing=(2, 1, 1)).series_instance_uid != uid
    assert open_series(volume, spacing=(2.5, 1, 1)).series_instance_uid != uid
    assert open_series(volume, spacing=(2, 1, 1), modality="MR").series_instance_uid != uid


def _blanked(folder: Path, shift: tuple[float, float, float], n: int = 5) -> None:
    """A de-identified CT with every UID empty, its frame of reference and patient id too."""
    blank = {"FrameOfReferenceUID": "", "PatientID": "", "PatientName": ""}
    make_series(folder, n, series_uid="", study_uid="", extra=blank, shift_per_slice=(0, 0, 0))
    for p in sorted(folder.iterdir()):  # the second patient lies elsewhere in the scanner
        ds = pydicom.dcmread(p)
        ds.FrameOfReferenceUID = ""
        ds.ImagePositionPatient = [
            float(v) + d for v, d in zip(ds.ImagePositionPatient, shift, strict=True)
        ]
        ds.save_as(p, enforce_file_format=True)


def test_series_without_uids_or_frame_of_reference_are_not_merged(tmp_path: Path) -> None:
    """QA 24b D5: two patients' de-identified series (UIDs, frame of reference and patient id
    blanked) got one substitute SeriesInstanceUID: merged into one interleaved volume, and one
    patient's labels opened on the other's. Each folder is its own series now, named by its
    images (the same wherever they lie); images of two series in one folder are said not to
    lie on one line."""
    import shutil

    _blanked(tmp_path / "all" / "patient_a", (0.0, 0.0, 0.0))
    _blanked(tmp_path / "all" / "patient_b", (7.0, -4.0, 1.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        both = open_series(tmp_path / "all")
        a = open_series(tmp_path / "all" / "patient_a")
        b = open_series(tmp_path / "all" / "patient_b")
    assert both.shape[0] == 5 and any("holds 2 series" in str(w.message) for w in caught)
    assert a.series_instance_uid != b.series_instance_uid
    sub = next(u for u in a.uid_substitutions if u.keyword == "SeriesInstanceUID")
    assert "FrameOfReferenceUID are empty" in sub.reason
    assert sub.substitute == a.series_instance_uid
    shutil.copytree(tmp_path / "all" / "patient_a", tmp_path / "moved")
    assert open_quiet(tmp_path / "moved").series_instance_uid == a.series_instance_uid
    # both in one folder: taken for one series, but not silently, and not as gantry tilt
    flat = tmp_path / "flat"
    flat.mkdir()
    for who in ("patient_a", "patient_b"):
        for p in (tmp_path / "all" / who).iterdir():
            shutil.copy(p, flat / f"{who}_{p.name}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mixed = open_series(flat)
    said = " ".join(str(w.message) for w in caught)
    assert mixed.shape[0] == 10 and "do not lie on one line" in said and "gantry" not in said
    # a tilted stack's positions do lie on one line: tilt, no scatter
    make_series(tmp_path / "tilt", 6, shift_per_slice=(0.0, 0.6, 0.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_series(tmp_path / "tilt")
    said = " ".join(str(w.message) for w in caught)
    assert "gantry tilt" in said and "one line" not in said


def test_copies_of_a_file_are_one_image_not_more_slices(tmp_path: Path) -> None:
    """QA 24b D2: a repeated download ("img002 (1).dcm": the same SOPInstanceUID, position
    and size) opened as extra slices, and NIfTI and SEG export then refused the series."""
    import shutil

    paths = make_series(tmp_path / "s", 5)
    for p in paths[1:3]:
        shutil.copy(p, p.with_name(p.stem + " (1).dcm"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = open_series(tmp_path / "s")
    assert s.shape[0] == 5
    said = " ".join(str(w.message) for w in caught)
    assert "2 file(s) are copies of other files of this series" in said
    # a file with the same UID at another position is not a copy: still its own slice
    ds = pydicom.dcmread(paths[0])
    ds.ImagePositionPatient = [-10.0, -20.0, 100.0]
    ds.save_as(tmp_path / "s" / "moved.dcm", enforce_file_format=True)
    assert open_quiet(tmp_path / "s").shape[0] == 6
