"""io layer on real data: the de-identified JPEG 2000 CT series and its segmentations."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from dicom_annot_widget.io import open_series, open_study, shutdown_workers


@pytest.fixture(scope="module")
def ct(ct_abdomen_dir: Path):
    series = open_series(ct_abdomen_dir)
    yield series
    series.close()
    shutdown_workers()


@pytest.fixture(scope="module")
def labels_in_series_order(ct, ct_abdomen_segmentation_npz: Path) -> np.ndarray:
    """segmentation.npz labels reordered to the series' sorted slice order (by SOP UID)."""
    npz = np.load(ct_abdomen_segmentation_npz)
    index = {str(u): i for i, u in enumerate(npz["media_storage_sop_instance_uid"])}
    order = [index[u] for u in ct.sop_instance_uids]
    return npz["labels"][order]


def test_ct_abdomen_decodes_as_int16_hu(ct) -> None:
    arr = ct.array
    assert arr.shape == (20, 512, 512) == ct.shape
    assert arr.dtype == np.int16 == ct.dtype
    assert ct.stored_dtype == np.uint16
    assert int(arr.min()) >= -1024
    assert not arr.flags.writeable


def test_ct_abdomen_matches_pydicom_decode(ct) -> None:
    # slices decoded by worker processes and in-process equal pydicom's own decode
    arr = ct.array
    for k in (0, 7, 19):
        ds = pydicom.dcmread(ct.slice_files[k])
        expected = ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
        np.testing.assert_array_equal(arr[k], expected)
        np.testing.assert_array_equal(ct.get_stored_slice(k), ds.pixel_array)
        assert ct.rescale(k) == (1.0, -1024.0)


def test_ct_abdomen_aligns_with_segmentation(ct, labels_in_series_order: np.ndarray) -> None:
    arr = ct.array
    liver = arr[labels_in_series_order == 5].mean()
    aorta = arr[labels_in_series_order == 52].mean()
    assert abs(liver - 89) <= 2, liver
    assert abs(aorta - 177) <= 3, aorta


def test_ct_abdomen_geometry(ct) -> None:
    assert ct.plane == "axial"
    assert ct.spacing_known and ct.orientation_known
    np.testing.assert_allclose(ct.spacing, (2.0, 0.977, 0.977), atol=1e-3)
    affine = ct.affine
    zs = []
    for k, path in enumerate(ct.slice_files):
        ipp = [
            float(v) for v in pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient
        ]
        np.testing.assert_allclose(affine @ [0, 0, k, 1], [*ipp, 1.0], atol=1e-6)
        zs.append(ipp[2])
    # sorted ascending along the slice normal (+z for this orientation), not by file name
    assert zs == sorted(zs)
    assert Path(ct.slice_files[0]).name == "IM0286.dcm"
    # column index moves along +x (patient left), row index along +y (posterior)
    np.testing.assert_allclose(affine[:3, 0], [0.9765625, 0, 0])
    np.testing.assert_allclose(affine[:3, 1], [0, 0.9765625, 0])


def test_ct_abdomen_reports_uid_substitutions(ct, ct_abdomen_segmentation_npz: Path) -> None:
    subs = {s.keyword: s for s in ct.uid_substitutions}
    assert {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"} <= set(subs)
    assert subs["SeriesInstanceUID"].substitute == ct.series_instance_uid
    assert subs["StudyInstanceUID"].substitute == ct.study_instance_uid
    assert "MediaStorageSOPInstanceUID" in subs["SOPInstanceUID"].reason
    assert all(s.count == 20 for s in subs.values())
    npz = np.load(ct_abdomen_segmentation_npz)
    assert set(ct.sop_instance_uids) == {str(u) for u in npz["media_storage_sop_instance_uid"]}
    # deterministic: opening again gives the same substitutes
    with open_series(Path(ct.slice_files[0]).parent) as again:
        assert again.series_instance_uid == ct.series_instance_uid
        assert again.study_instance_uid == ct.study_instance_uid


def test_ct_abdomen_windows_and_range(ct) -> None:
    names = [w.name for w in ct.windows]
    assert names[:2] == ["WINDOW1", "WINDOW2"]
    assert (ct.windows[0].center, ct.windows[0].width) == (40.0, 300.0)
    assert {"Soft tissue", "Lung", "Bone", "Brain", "Liver", "Mediastinum"} <= set(names)
    assert ct.default_window == ct.windows[0]
    assert ct.value_range == (-1024.0, 3071.0)


def test_ct_abdomen_metadata_is_json_safe(ct) -> None:
    meta = ct.metadata
    json.dumps(meta)
    by_tag = {e["tag"]: e for e in meta["elements"]}
    assert by_tag["(0028,0030)"]["keyword"] == "PixelSpacing"
    assert by_tag["(0028,0030)"]["vr"] == "DS"
    assert by_tag["(0028,0030)"]["value"] == [0.9765625, 0.9765625]
    assert "(7FE0,0010)" not in by_tag  # pixel data excluded
    assert by_tag["(0019,1092)"]["private"] is True  # private tags included
    csa = by_tag["(0029,1010)"]
    assert csa["value"] == "<OB, 1336 bytes>"  # binary summarised, not dumped
    seq = by_tag["(0008,1032)"]
    assert seq["vr"] == "SQ" and isinstance(seq["value"][0], list)
    assert {"ImagePositionPatient", "InstanceNumber", "SliceLocation"} <= set(meta["varying"])
    assert not {"PixelSpacing", "SeriesDescription", "WindowCenterWidthExplanation"} & set(
        meta["varying"]
    )
    assert ct.slice_metadata(5)["slice"] == 5
    file_meta = {e["keyword"]: e["value"] for e in meta["file_meta"]}
    assert file_meta["MediaStorageSOPInstanceUID"] == ct.sop_instance_uids[0]


def test_open_study_lists_the_series(ct_abdomen_dir: Path) -> None:
    study = open_study(ct_abdomen_dir.parent)
    with study:
        assert len(study) == 1
        info = study.series_info[0]
        assert (info.modality, info.n_slices, info.rows, info.columns) == ("CT", 20, 512, 512)
        assert info.description == "CT Body 3.0" and info.uids_substituted
        text = repr(study)
        assert "CT Body 3.0" in text and "20" in text
        # .nii.gz / .npz / .json beside the folder are skipped, not fatal
        assert any("segmentation.npz" in p for p, _ in study.skipped)
        series = study.series[0]
        assert study.open(info.series_instance_uid) is series
        assert not series.decoded.any()


def test_nifti_ct_affine_is_lps(ct_small_nifti: Path) -> None:
    img = nib.load(ct_small_nifti)
    data = np.asanyarray(img.dataobj)
    inv = np.linalg.inv(img.affine)
    with open_series(ct_small_nifti, modality="CT") as s:
        assert s.shape[0] * s.shape[1] * s.shape[2] == data.size
        assert s.dtype == np.int16
        arr = s.array
        rng = np.random.default_rng(0)
        for _ in range(20):
            k, r, c = (int(rng.integers(0, n)) for n in s.shape)
            lps = s.affine @ [c, r, k, 1.0]
            ras = lps * [-1, -1, 1, 1]
            i, j, kk = np.rint(inv @ ras)[:3].astype(int)
            assert arr[k, r, c] == data[i, j, kk]
        assert "Soft tissue" in [w.name for w in s.windows]
    with open_series(ct_small_nifti, reorient=False) as raw:
        np.testing.assert_allclose(raw.affine, np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine)
        np.testing.assert_array_equal(raw.array, data.transpose(2, 1, 0))
        np.testing.assert_allclose(raw.spacing, img.header.get_zooms()[::-1])


def test_nifti_segmentation_lands_on_the_dicom_grid(
    ct, ct_abdomen_segmentation_nifti: Path, labels_in_series_order: np.ndarray
) -> None:
    img = nib.load(ct_abdomen_segmentation_nifti)
    with open_series(ct_abdomen_segmentation_nifti) as seg:
        assert seg.plane == "axial"
        # reoriented like DICOM: same voxel grid, same affine, same labels
        np.testing.assert_array_equal(seg.array, labels_in_series_order)
        np.testing.assert_allclose(seg.affine, ct.affine, atol=1e-3)
        # and the world coordinate of a voxel is nibabel's RAS one with x, y negated
        c, r, k = 100, 200, 3
        lps = seg.affine @ [c, r, k, 1.0]
        ijk = np.rint(np.linalg.inv(img.affine) @ (lps * [-1, -1, 1, 1]))[:3].astype(int)
        assert np.asanyarray(img.dataobj)[tuple(ijk)] == seg.array[k, r, c]
