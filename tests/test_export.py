"""Exports (NIfTI label maps, DICOM SEG) re-read with nibabel / the project's reader /
highdicom / pydicom and compared voxel by voxel with independently built masks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
import pytest
from skimage.draw import polygon as sk_polygon

import dicom_annot_widget as daw
from dicom_annot_widget import Labels, Ontology, open_series, write_phantom_series
from dicom_annot_widget.export import (
    ExportError,
    LabelImportError,
    from_dicom_seg,
    object_masks,
    to_dicom_seg,
    to_nifti,
)

from .conftest import phantom_series

SHAPE = (12, 64, 64)  # slices, rows, columns

# polygon keyframes: slice -> vertices (x = column, y = row); no vertex or edge on a pixel centre
POLYGONS = {
    4: [(20.3, 20.2), (40.6, 22.1), (30.2, 40.7)],
    5: [(21.3, 20.2), (41.6, 23.1), (29.2, 42.7), (18.4, 30.6)],
    7: [(22.3, 18.2), (44.6, 22.1), (30.2, 46.7)],
}


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> daw.Series:
    return phantom_series(tmp_path_factory.mktemp("phantom"), SHAPE)


def _ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "bitmask")
        .object("Lesion", "polygon")
        .object("Marker", "bounding_box")
        .object("Dot", "point")
        .object("Line", "polyline")
        .build()
    )


def _polygon_mask(points: list[tuple[float, float]]) -> np.ndarray:
    """Independent reference: scikit-image's point-in-polygon by pixel centre."""
    out = np.zeros(SHAPE[1:], dtype=bool)
    xy = np.asarray(points)
    rr, cc = sk_polygon(xy[:, 1], xy[:, 0], SHAPE[1:])
    out[rr, cc] = True
    return out


@pytest.fixture
def doc(phantom: daw.Series) -> tuple[Labels, dict[str, Any]]:
    """Labels with a painted bitmask, a polygon track, a box, a point and a polyline; plus the
    expected masks by uuid (built without the export code)."""
    labels = Labels(phantom, _ontology())
    liver = np.zeros(SHAPE, dtype=bool)
    liver[2:6, 8:30, 10:40] = True
    u_liver = labels.add_mask("Liver", liver)
    painted = np.zeros(SHAPE[1:], dtype=bool)
    painted[40:50, 5:20] = True
    labels.set_mask_slice(u_liver, 9, painted)  # a brush stroke on another slice
    liver[9] = painted
    labels.set_mask_slice(u_liver, 2, np.zeros(SHAPE[1:], dtype=bool))  # erased
    liver[2] = False

    lesion = np.zeros(SHAPE, dtype=bool)
    u_lesion = ""
    for k, pts in POLYGONS.items():
        u_lesion = labels.add_polygon("Lesion", k, pts, uuid=u_lesion or None)
        lesion[k] = _polygon_mask(pts)

    marker = np.zeros(SHAPE, dtype=bool)
    u_marker = labels.add_box("Marker", 5, (30, 25, 45, 35))  # integer corners
    marker[5, 25:35, 30:45] = True  # rows y0..y1-1, columns x0..x1-1
    labels.add_box("Marker", 6, (9.5, 9.5, 20.5, 24.5), uuid=u_marker)  # on pixel edges
    marker[6, 10:25, 10:21] = True

    u_dot = labels.add_point("Dot", 5, (3, 3))
    u_line = labels.add_polyline("Line", 5, [(1, 1), (10, 10)])
    expected = {u_liver: liver, u_lesion: lesion, u_marker: marker}
    return labels, {"masks": expected, "dot": u_dot, "line": u_line}


def _expected_label_map(labels: Labels, masks: dict[str, np.ndarray], value_of: Any) -> np.ndarray:
    out = np.zeros(SHAPE, dtype=np.uint8)
    for obj in sorted((labels.get(u) for u in masks), key=lambda o: o.object_id):
        out[masks[obj.uuid]] = value_of(obj)
    return out


# ---------------------------------------------------------------------------- masks


def test_object_masks_match_independent_rasterisation(doc: tuple[Labels, dict[str, Any]]) -> None:
    labels, info = doc
    masks = object_masks(labels)
    assert list(masks) == list(info["masks"])  # object_id order, area shapes only
    for uuid, expected in info["masks"].items():
        got = masks[uuid]
        assert got.shape == SHAPE and got.dtype == bool
        np.testing.assert_array_equal(got, expected, err_msg=labels.get(uuid).feature)
    skipped = {s.uuid: s for s in masks.skipped}
    assert set(skipped) == {info["dot"], info["line"]}
    assert skipped[info["dot"]].reason == "a point has no area"
    assert skipped[info["line"]].shape == "polyline"


def test_the_exports_slice_masks_are_the_object_masks(doc: tuple[Labels, dict[str, Any]]) -> None:
    """The exports write each object slice by slice (a full volume per object cost minutes
    with thousands of objects): the slices put back together are the object's volume, for
    every shape, and for a mask drawn on a reformat too."""
    from dicom_annot_widget.export.masks import object_slice_masks

    labels, info = doc
    coronal = np.zeros(SHAPE, dtype=bool)
    coronal[3:7, 20, 5:9] = True  # row 20 of four slices: a mask on coronal slice 20
    u_coronal = labels.add_mask("Liver", coronal[:, 20, :], slice=20, plane="coronal")
    for uuid, expected in [*info["masks"].items(), (u_coronal, coronal)]:
        got = np.zeros(SHAPE, dtype=bool)
        for k, plane in object_slice_masks(labels, labels.get(uuid)):
            got[k] |= plane
        np.testing.assert_array_equal(got, expected, err_msg=labels.get(uuid).feature)


def test_object_masks_selection_and_bad_input(doc: tuple[Labels, dict[str, Any]]) -> None:
    labels, info = doc
    lesion = next(u for u in info["masks"] if labels.get(u).shape == "polygon")
    assert list(object_masks(labels, objects=[labels.get(lesion).object_id])) == [lesion]
    with pytest.raises(ExportError, match="unknown object"):
        object_masks(labels, objects=["00000000-0000-4000-8000-000000000000"])
    with pytest.raises(ExportError, match="no area"):
        object_masks(labels, objects=[info["dot"]])
    with pytest.raises(ExportError, match="nothing to export"):
        object_masks(labels, objects=[])
    with pytest.raises(ExportError, match="expected object uuids"):
        object_masks(labels, objects=[1.5])


def test_pending_predictions_are_left_out_unless_asked(phantom: daw.Series) -> None:
    labels = Labels(phantom, _ontology())
    manual = labels.add_box("Marker", 3, (10, 10, 20, 20))
    predicted = labels.add_box("Marker", 4, (12, 12, 22, 22), source="model-x", confidence=0.7)
    masks = object_masks(labels)
    assert list(masks) == [manual]
    assert [s.uuid for s in masks.skipped] == [predicted]
    assert "pending" in masks.skipped[0].reason
    assert list(object_masks(labels, include_pending=True)) == [manual, predicted]
    with pytest.raises(ExportError, match="pending prediction"):
        object_masks(labels, objects=[predicted])
    labels.accept(predicted)
    assert list(object_masks(labels)) == [manual, predicted]


def test_objects_drawn_on_reformats_are_exported_through_the_volume(phantom: daw.Series) -> None:
    """QA: one coronal box made every mask export refuse the whole document. A shape drawn on
    a reformat now fills the voxels of its plane image: row 30 for a coronal one, column 12
    for a sagittal one."""
    from dicom_annot_widget.kernels import polygons_to_mask

    labels = Labels(phantom, _ontology())
    labels.add_box("Marker", 3, (10, 10, 20, 20))
    triangle = [(5, 1), (20, 2), (12, 8)]
    coronal = labels.add_polygon("Lesion", 30, triangle, plane="coronal")
    sagittal = labels.add_polygon("Lesion", 12, triangle, plane="sagittal")
    slices, rows, columns = phantom.shape[:3]
    masks = object_masks(labels)
    expected = np.zeros((slices, rows, columns), bool)
    expected[:, 30, :] = polygons_to_mask(np.array(triangle, float), (slices, columns))
    assert expected.sum() > 20
    np.testing.assert_array_equal(masks[coronal], expected)
    expected_sag = np.zeros((slices, rows, columns), bool)
    expected_sag[:, :, 12] = polygons_to_mask(np.array(triangle, float), (slices, rows))
    np.testing.assert_array_equal(masks[sagittal], expected_sag)
    # the NIfTI label map has them where object_masks says (by object: values 1, 2, 3;
    # nibabel's data is (column, row, slice))
    image, legend = to_nifti(labels, phantom, by="object")
    data = np.asarray(image.dataobj).transpose(2, 1, 0)
    assert legend.value_of(coronal) == 2 and legend.value_of(sagittal) == 3
    np.testing.assert_array_equal(data == 3, expected_sag)
    np.testing.assert_array_equal(data == 2, expected & ~expected_sag)


def test_labels_without_any_area_object(phantom: daw.Series) -> None:
    labels = Labels(phantom, _ontology())
    with pytest.raises(ExportError, match="no objects"):
        to_nifti(labels, phantom)
    labels.add_point("Dot", 2, (4, 4))
    with pytest.raises(ExportError, match="object 1: a point has no area"):
        to_nifti(labels, phantom)


# ---------------------------------------------------------------------------- NIfTI


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_nifti_by_class_reread_voxel_exact(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path, suffix: str
) -> None:
    labels, info = doc
    path = tmp_path / f"labels{suffix}"
    image, legend = to_nifti(labels, phantom, path)
    class_value = {"liver": 1, "lesion": 2, "marker": 3}  # ontology order
    expected = _expected_label_map(labels, info["masks"], lambda o: class_value[o.feature])

    assert [(e.value, e.feature, e.name) for e in legend] == [
        (1, "liver", "Liver"),
        (2, "lesion", "Lesion"),
        (3, "marker", "Marker"),
    ]
    assert legend.by == "class"
    assert {s.uuid for s in legend.skipped} == {info["dot"], info["line"]}
    for uuid in info["masks"]:
        assert legend.value_of(uuid) == class_value[labels.get(uuid).feature]
    # the objects (one per class) overlap in places: the later one wins (the expected map
    # is painted in object_id order), and the legend counts those voxels
    covered = np.sum([m.astype(int) for m in info["masks"].values()], axis=0)
    assert legend.overlap_voxels == int((covered > 1).sum()) > 0

    # nibabel: data (column, row, slice), RAS affine = diag(-1, -1, 1, 1) @ LPS affine
    img = nib.load(path)
    assert img.get_data_dtype() == np.uint8
    data = np.asarray(img.dataobj)
    assert data.shape == (SHAPE[2], SHAPE[1], SHAPE[0])
    np.testing.assert_array_equal(data.transpose(2, 1, 0), expected)
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ phantom.affine
    np.testing.assert_allclose(img.affine, ras, atol=1e-5)
    np.testing.assert_allclose(img.get_qform(), ras, atol=1e-5)
    assert int(img.header["sform_code"]) == 1 and int(img.header["qform_code"]) == 1
    # every labelled voxel lands at the same patient position as the CT voxel it labels
    k, r, c = np.argwhere(expected == 2)[0]
    lps = phantom.affine @ [c, r, k, 1]
    assert np.allclose(img.affine @ [c, r, k, 1], [-lps[0], -lps[1], lps[2], 1])

    # the project's own reader: same grid, same geometry, same voxels
    reread = open_series(path)
    assert reread.shape == SHAPE
    np.testing.assert_allclose(reread.affine, phantom.affine, atol=1e-5)
    np.testing.assert_array_equal(reread.array, expected)
    # the returned image is the written one
    np.testing.assert_array_equal(np.asarray(image.dataobj), data)


def test_nifti_by_object_and_selection(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series
) -> None:
    labels, info = doc
    uuids = list(info["masks"])
    image, legend = to_nifti(labels, phantom, by="object")
    assert [(e.value, e.uuids, e.object_ids) for e in legend] == [
        (i, (u,), (labels.get(u).object_id,)) for i, u in enumerate(uuids, start=1)
    ]
    expected = _expected_label_map(labels, info["masks"], lambda o: uuids.index(o.uuid) + 1)
    np.testing.assert_array_equal(np.asarray(image.dataobj).transpose(2, 1, 0), expected)

    # a selection, given in any order: values follow object_id order
    image, legend = to_nifti(labels, phantom, by="object", objects=[uuids[2], uuids[1]])
    assert [e.uuids[0] for e in legend] == [uuids[1], uuids[2]]
    assert legend.skipped == ()
    data = np.asarray(image.dataobj).transpose(2, 1, 0)
    sub = {u: info["masks"][u] for u in uuids[1:]}
    np.testing.assert_array_equal(
        data, _expected_label_map(labels, sub, lambda o: uuids.index(o.uuid))
    )
    assert json.loads(legend.to_json())["entries"][0]["uuids"] == [uuids[1]]


def test_nifti_uses_uint16_beyond_255_values(phantom: daw.Series) -> None:
    labels = Labels(phantom, _ontology())
    for i in range(300):
        k, row, col = divmod(i, 25 * 2)[0], (i % 50) // 2 * 2, (i % 2) * 30
        labels.add_box("Marker", k, (col, row, col + 2, row + 2))
    image, legend = to_nifti(labels, phantom, by="object")
    data = np.asarray(image.dataobj)
    assert image.get_data_dtype() == np.uint16 and data.dtype == np.uint16
    assert len(legend) == 300 and int(data.max()) == 300
    assert len(np.unique(data)) == 301  # every object kept its voxels (no overlaps)
    _, by_class = to_nifti(labels, phantom)
    assert len(by_class) == 1 and len(by_class[1].uuids) == 300


def test_nifti_bad_input(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, _ = doc
    with pytest.raises(ExportError, match="by: expected 'class' or 'object'"):
        to_nifti(labels, phantom, by="segment")
    with pytest.raises(ExportError, match=r"must end in \.nii or \.nii\.gz"):
        to_nifti(labels, phantom, tmp_path / "labels.nrrd")
    with pytest.raises(ExportError, match="does not exist"):
        to_nifti(labels, phantom, tmp_path / "missing" / "labels.nii")
    with pytest.raises(TypeError, match="expected a Series"):
        to_nifti(labels, np.zeros(SHAPE))  # type: ignore[arg-type]
    other = open_series(np.zeros((12, 64, 32), dtype=np.int16))
    with pytest.raises(ExportError, match="shape"):
        to_nifti(labels, other)
    stranger = Labels({"series_instance_uid": "1.2.3.4", "shape": SHAPE}, _ontology())
    stranger.add_box("Marker", 1, (2, 2, 8, 8))
    with pytest.raises(ExportError, match="belong to another series"):
        to_nifti(stranger, phantom)
    assert not list(tmp_path.iterdir())  # nothing half-written


# ---------------------------------------------------------------------------- DICOM SEG


def _seg_volumes(path: Path, series: daw.Series) -> dict[int, np.ndarray]:
    """Segment number -> (slices, rows, columns) mask, by mapping each frame back to its slice
    with the referenced SOP instance and (independently) ImagePositionPatient."""
    ds = pydicom.dcmread(path)
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    by_uid = {uid: k for k, uid in enumerate(series.sop_instance_uids)}
    inverse = np.linalg.inv(series.affine)
    out: dict[int, np.ndarray] = {
        int(s.SegmentNumber): np.zeros(series.shape, dtype=bool) for s in ds.SegmentSequence
    }
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        ref = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        k = by_uid[ref]
        ipp = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
        voxel = inverse @ [*ipp, 1.0]
        np.testing.assert_allclose(voxel[:3], [0, 0, k], atol=1e-3)
        assert frames[i].any()  # empty frames are omitted
        out[number][k] = frames[i].astype(bool)
    return out


def test_seg_by_class_reread(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, info = doc
    path = tmp_path / "labels.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the phantom has every UID: no substitution warning
        seg, legend = to_dicom_seg(labels, phantom, path)
    assert [(e.value, e.name) for e in legend] == [(1, "Liver"), (2, "Lesion"), (3, "Marker")]
    assert {s.uuid for s in legend.skipped} == {info["dot"], info["line"]}
    by_feature: dict[str, np.ndarray] = {}
    for uuid, mask in info["masks"].items():  # segments may overlap: unions per class
        feature = labels.get(uuid).feature
        by_feature[feature] = by_feature.get(feature, np.zeros(SHAPE, bool)) | mask
    volumes = _seg_volumes(path, phantom)
    assert set(volumes) == {1, 2, 3}
    # the classes overlap in places: a SEG keeps those voxels in each, and the legend counts
    # them as the NIfTI legend does (QA 22a: it said 0)
    covered = np.sum([m.astype(int) for m in by_feature.values()], axis=0)
    assert legend.overlap_voxels == int((covered > 1).sum()) > 0
    for entry in legend:
        np.testing.assert_array_equal(volumes[entry.value], by_feature[entry.feature])

    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage
    assert ds.SegmentationType == "BINARY"
    first = pydicom.dcmread(phantom.slice_files[0], stop_before_pixels=True)
    # patient / study / frame of reference come from the source, nothing more
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "FrameOfReferenceUID"):
        assert ds[keyword].value == first[keyword].value, keyword
    assert ds.SeriesInstanceUID != first.SeriesInstanceUID
    seg_item = ds.SegmentSequence[1]
    assert seg_item.SegmentLabel == "Lesion"
    lesion_color = labels.ontology.feature("lesion").color
    assert [int(v) for v in seg_item.RecommendedDisplayCIELabValue] == list(
        hd.color.CIELabColor.from_string(lesion_color).value
    )
    assert seg_item.SegmentAlgorithmType == "MANUAL"
    assert seg_item.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "85756007"
    assert seg_item.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator == "SCT"
    referenced = {
        item.ReferencedSOPInstanceUID
        for s in ds.ReferencedSeriesSequence
        for item in s.ReferencedInstanceSequence
    }
    assert referenced == set(phantom.sop_instance_uids)

    # highdicom reads it back the same way
    reread = hd.seg.segread(path)
    assert reread.get_segment_numbers() == [1, 2, 3]
    pixels = reread.get_pixels_by_source_instance(
        source_sop_instance_uids=phantom.sop_instance_uids,
        segment_numbers=[1, 2, 3],
        combine_segments=False,
    )
    for entry in legend:
        np.testing.assert_array_equal(
            pixels[..., entry.value - 1].astype(bool), by_feature[entry.feature]
        )
    # the returned dataset is what was written
    assert seg.SOPInstanceUID == ds.SOPInstanceUID


def test_a_seg_of_overlapping_objects_too_big_for_the_memory_is_refused_first(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA 22a: by="object" with overlapping objects needs one boolean volume per object
    (600 objects of a 300-slice CT: 47 GB); the kernel was killed with no word. What does
    not fit in half the memory available is refused before any is taken, saying how much
    and what to do."""
    from dicom_annot_widget.export import seg as seg_module

    labels, _ = doc
    _, legend = to_dicom_seg(labels, phantom, by="object")  # overlapping: a volume each
    n = len(legend.entries)
    volume = int(np.prod(SHAPE))
    monkeypatch.setattr(seg_module, "available_memory", lambda: 2 * volume * n - 1)
    with pytest.raises(
        ExportError, match=rf"some of the {n} segments overlap.*at most {n - 1} segments fit"
    ):
        to_dicom_seg(labels, phantom, by="object")
    monkeypatch.setattr(seg_module, "available_memory", lambda: None)  # unknown: tried
    assert len(to_dicom_seg(labels, phantom, by="object")[1].entries) == n


def test_a_seg_opened_as_a_series_says_what_it_is(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path
) -> None:
    """QA 22b: open_series on a DICOM SEG (the export's own file) opened its frames as an
    "image" with position warnings. It says what the file is and how to use it; beside the
    series in a folder it is passed over, as other non-image objects are."""
    labels, _ = doc
    path = tmp_path / "labels.seg.dcm"
    to_dicom_seg(labels, phantom, path)
    with pytest.raises(daw.DicomLoadError, match=r"is a DICOM Segmentation .*import_seg"):
        open_series(path)
    with pytest.raises(daw.DicomLoadError, match="DICOM Segmentation"):
        open_series(pydicom.dcmread(path))
    folder = tmp_path / "study"
    folder.mkdir()
    for f in phantom.slice_files:
        assert f is not None
        (folder / Path(f).name).write_bytes(Path(f).read_bytes())
    (folder / "labels.seg.dcm").write_bytes(path.read_bytes())
    opened = open_series(folder)  # the non-image objects of a folder are passed over
    assert opened.shape == phantom.shape
    assert len(daw.open_study(folder).series) == 1


def test_seg_by_object_codes_and_tracking(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, info = doc
    path = tmp_path / "objects.dcm"
    liver_code = ("10200004", "SCT", "Liver")
    codes = {"Liver": {"category": ("91723000", "SCT", "Anatomical Structure"), "type": liver_code}}
    _, legend = to_dicom_seg(labels, phantom, path, by="object", codes=codes)
    uuids = list(info["masks"])
    assert [e.uuids for e in legend] == [(u,) for u in uuids]
    volumes = _seg_volumes(path, phantom)
    for entry in legend:
        np.testing.assert_array_equal(volumes[entry.value], info["masks"][entry.uuids[0]])
    ds = pydicom.dcmread(path)
    liver = ds.SegmentSequence[0]
    assert liver.SegmentedPropertyTypeCodeSequence[0].CodeValue == "10200004"
    assert liver.SegmentedPropertyCategoryCodeSequence[0].CodeMeaning == "Anatomical Structure"
    assert ds.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0].CodeValue == "85756007"
    for item, entry in zip(ds.SegmentSequence, legend, strict=True):
        obj = labels.get(entry.uuids[0])
        assert item.TrackingID == f"object {obj.object_id}"
        assert item.TrackingUID == f"2.25.{int(obj.uuid.replace('-', ''), 16)}"
        assert item.SegmentLabel == f"{labels.ontology.feature(obj.feature).name} {obj.object_id}"


def test_seg_bad_input(
    doc: tuple[Labels, dict[str, Any]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, _ = doc
    with pytest.raises(ExportError, match="by: expected"):
        to_dicom_seg(labels, phantom, by="voxel")
    with pytest.raises(ExportError, match="unknown object"):
        to_dicom_seg(labels, phantom, objects=["00000000-0000-4000-8000-000000000000"])
    with pytest.raises(ExportError, match="nothing to export"):
        to_dicom_seg(labels, phantom, objects=[])
    with pytest.raises(ExportError, match="codes"):
        to_dicom_seg(labels, phantom, codes={"Liver": "liver"})
    # a misspelt class would put the placeholder code into a file meant for a PACS
    liver = (("91723000", "SCT", "Anatomical Structure"), ("10200004", "SCT", "Liver"))
    with pytest.raises(ExportError, match="no object class is called 'Livr'"):
        to_dicom_seg(labels, phantom, codes={"Livr": liver})

    # a series read from NIfTI has no DICOM source images
    nifti = tmp_path / "ct.nii.gz"
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ phantom.affine
    nib.save(nib.Nifti1Image(phantom.array.transpose(2, 1, 0).astype(np.int16), ras), nifti)
    from_nifti = open_series(nifti)
    nifti_labels = Labels(from_nifti, _ontology())
    nifti_labels.add_box("Marker", 3, (10, 10, 20, 20))
    with pytest.raises(ExportError, match=r"not read from DICOM files.*to_nifti"):
        to_dicom_seg(nifti_labels, from_nifti)
    to_nifti(nifti_labels, from_nifti)  # NIfTI export still works for it


def _marked_series_with(
    tmp_path: Path, edit: Any, which: slice = slice(None)
) -> tuple[Labels, daw.Series]:
    """A 3-slice phantom series whose files ``which`` were changed by ``edit(ds)``, opened
    (its warnings ignored), with labels holding one box."""
    files = write_phantom_series(tmp_path / "series", n_slices=3, rows=16, columns=16)
    for f in files[which]:
        ds = pydicom.dcmread(f)
        edit(ds)
        ds.save_as(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(tmp_path / "series")
    labels = Labels(series, _ontology())
    labels.add_box("Marker", 1, (2, 2, 8, 8))
    return labels, series


def test_seg_refuses_sources_without_geometry(tmp_path: Path) -> None:
    labels, series = _marked_series_with(tmp_path, lambda ds: delattr(ds, "FrameOfReferenceUID"))
    with pytest.raises(ExportError, match=r"missing: FrameOfReferenceUID \(slices 0, 1, 2\)"):
        to_dicom_seg(labels, series)


@pytest.mark.parametrize(
    ("keyword", "value", "said"),
    [
        ("PixelSpacing", "0.7", r"PixelSpacing '0.7' is not 2 numbers \(slice 1\)"),
        ("PixelSpacing", [0, 0], r"PixelSpacing '0.0\\0.0' is not two positive numbers"),
        ("ImagePositionPatient", [0, 0], r"ImagePositionPatient '0.0\\0.0' is not 3 numbers"),
        (
            "ImageOrientationPatient",
            [2, 0, 0, 0, 2, 0],
            r"ImageOrientationPatient '2.0\\0.0.* is not two orthogonal unit vectors",
        ),
    ],
)
def test_seg_refuses_unusable_geometry_values(
    tmp_path: Path, keyword: str, value: Any, said: str
) -> None:
    """QA 24b D6: values the loader had ignored crashed in highdicom (a one-value
    PixelSpacing, a two-value position) or went into a SEG validators reject (zero spacing)."""
    # (an orientation of its own would make slice 1 a stack of its own)
    which = slice(None) if keyword == "ImageOrientationPatient" else slice(1, 2)
    labels, series = _marked_series_with(tmp_path, lambda ds: setattr(ds, keyword, value), which)
    with pytest.raises(ExportError, match="needs usable geometry in every source image: " + said):
        to_dicom_seg(labels, series)


def test_seg_checks_its_own_attributes_first(phantom: daw.Series) -> None:
    """QA 24b D12: a content label that is not a code string failed in highdicom after every
    mask was computed, naming neither the argument nor the value."""
    labels = Labels(phantom, _ontology())
    labels.add_box("Marker", 1, (2, 2, 8, 8))
    with pytest.raises(ExportError, match=r"content_label: 'Liver seg' .* e.g. 'LIVER SEG'"):
        to_dicom_seg(labels, phantom, content_label="Liver seg")
    with pytest.raises(ExportError, match=r"series_number: expected a positive integer"):
        to_dicom_seg(labels, phantom, series_number=0)
    seg, _ = to_dicom_seg(labels, phantom, content_label="LIVER_SEG 2")
    assert seg.ContentLabel == "LIVER_SEG 2"


# ---------------------------------------------------------------------------- real data


def test_real_ct_organs_round_trip(
    ct_abdomen_dir: Path, ct_abdomen_segmentation_npz: Path, tmp_path: Path
) -> None:
    """Two ground-truth organs as bitmask objects, exported to SEG and NIfTI and re-read:
    exactly the ground truth, on the right slices (the files have blanked UIDs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", daw.DicomLoadWarning)
        series = open_series(ct_abdomen_dir)
    gt = np.load(ct_abdomen_segmentation_npz)
    # the npz is in file order; the series is sorted by position
    order = [list(gt["media_storage_sop_instance_uid"]).index(u) for u in series.sop_instance_uids]
    truth = gt["labels"][order]
    assert truth.shape == series.shape
    organs = {"Liver": 5, "Aorta": 52}
    ontology = Ontology.builder().object("Liver", "bitmask").object("Aorta", "bitmask").build()
    labels = Labels(series, ontology)
    for name, value in organs.items():
        labels.add_mask(name, truth == value)

    header_before = series.slice_metadata(0)
    seg_path = tmp_path / "organs.dcm"
    with pytest.warns(daw.DicomAnnotWarning, match="SOPInstanceUID"):
        _, legend = to_dicom_seg(labels, series, seg_path)
    volumes = _seg_volumes(seg_path, series)
    for entry in legend:
        np.testing.assert_array_equal(volumes[entry.value], truth == organs[entry.name])
    ds = pydicom.dcmread(seg_path)
    # frames reference the real SOP instance UIDs (from the file meta)
    metas = {
        pydicom.dcmread(f, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID
        for f in series.slice_files
        if f is not None
    }
    refs = {
        item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        for item in ds.PerFrameFunctionalGroupsSequence
    }
    assert refs <= metas and len(refs) > 1
    assert series.slice_metadata(0) == header_before  # the reader's headers are untouched

    nii_path = tmp_path / "organs.nii.gz"
    _, nlegend = to_nifti(labels, series, nii_path)
    expected = np.zeros(series.shape, dtype=np.uint8)
    for entry in nlegend:
        expected[truth == organs[entry.name]] = entry.value
    np.testing.assert_array_equal(
        np.asarray(nib.load(nii_path).dataobj).transpose(2, 1, 0), expected
    )
    reread = open_series(nii_path)
    np.testing.assert_allclose(reread.affine, series.affine, atol=1e-4)
    np.testing.assert_array_equal(reread.array, expected)
    # and it lines up with the model's own NIfTI of the same labels in patient space: the
    # model's voxel (i, j, k) is (column, 511 - row, slice)
    model = nib.load(ct_abdomen_dir.parent / "segmentation.nii.gz")
    ours = nib.load(nii_path)
    ours_to_model = np.linalg.inv(model.affine) @ ours.affine
    flip_rows = np.array([[1, 0, 0, 0], [0, -1, 0, 511], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(ours_to_model, flip_rows, atol=1e-3)
    model_data = np.asarray(model.dataobj)[:, ::-1, :]
    ours_data = np.asarray(ours.dataobj)
    for entry in nlegend:
        np.testing.assert_array_equal(ours_data == entry.value, model_data == organs[entry.name])


def test_public_api() -> None:
    for name in ("to_nifti", "to_dicom_seg", "object_masks"):
        assert name in daw.__all__ and callable(getattr(daw, name))
    assert issubclass(ExportError, daw.LabelError)
    # named in the docs, caught by users: importable where the functions are (QA 24b)
    assert daw.ExportError is ExportError and issubclass(daw.LabelImportError, daw.LabelError)


# ---------------------------------------------------------------------------- widget


def test_widget_exports_what_the_page_painted(phantom: daw.Series, tmp_path: Path) -> None:
    """`w.export_nifti` / `w.export_seg`: a mask painted through the widget's own paint path
    (the page's message handler) comes back, voxel for voxel, from both files."""
    onto = Ontology.builder().object("Liver", "bitmask").object("Lesion", "polygon").build()
    w = daw.DicomAnnotator(phantom, ontology=onto)
    try:
        uuid = "5b0a3c1e-1111-4222-8333-444455556666"
        w.brush(uuid, 6, [(20, 20), (40, 30)], radius=5, feature="Liver")
        lesion = w.labels.add_polygon("Lesion", 3, POLYGONS[4])
        expected_liver = w.labels.get_mask(uuid)
        assert expected_liver[6].sum() > 100

        image, legend = w.export_nifti(tmp_path / "w.nii.gz", by="object")
        data = np.asarray(nib.load(tmp_path / "w.nii.gz").dataobj).transpose(2, 1, 0)
        assert np.array_equal(data, np.asarray(image.dataobj).transpose(2, 1, 0))
        liver_value = next(e.value for e in legend.entries if uuid in e.uuids)
        lesion_value = next(e.value for e in legend.entries if lesion in e.uuids)
        assert np.array_equal(data == liver_value, expected_liver)
        assert np.array_equal(data[3] == lesion_value, _polygon_mask(POLYGONS[4]))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # highdicom's notes about optional attributes
            w.export_seg(tmp_path / "w.dcm", objects=[uuid])
        seg = hd.seg.segread(tmp_path / "w.dcm")
        sop = [phantom.slice_dataset(k).SOPInstanceUID for k in range(len(phantom))]  # type: ignore[union-attr]
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=sop, segment_numbers=[1], ignore_spatial_locations=True
        )
        assert np.array_equal(pixels[..., 0].astype(bool), expected_liver)
    finally:
        w.close()


# ---------------------------------------------------------------------------- QA fixes


def _small_series(folder: Path, n_slices: int = 8, drop: str | None = None) -> daw.Series:
    """A 16 x 16 phantom series; ``drop`` names a file to delete (a missing slice)."""
    files = write_phantom_series(folder, n_slices=n_slices, rows=16, columns=16)
    if drop is not None:
        (folder / drop).unlink()
        assert len(files) == n_slices
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reader's warning about the gap
        return open_series(folder)


def test_nifti_refuses_a_series_with_a_missing_slice(tmp_path: Path) -> None:
    """The NIfTI affine (one slice spacing) cannot place the slices beyond a gap: refused
    with the facts, or written on request with a warning; DICOM SEG is the way out."""
    # CT000004 is the 4th file from the top: sorted slices 0-3 lie below the gap, 4-6 above
    series = _small_series(tmp_path / "gap", drop="CT000004.dcm")
    assert len(series) == 7
    labels = Labels(series, _ontology())
    labels.add_box("Marker", 6, (2, 2, 8, 8))
    out = tmp_path / "gap.nii.gz"
    with pytest.raises(ExportError) as info:
        to_nifti(labels, series, out)
    message = str(info.value)
    assert "Synthetic abdomen phantom" in message  # the series
    assert "slices 4-6" in message  # the slices off the affine
    assert "2 mm" in message  # the size of the mismatch
    assert "ImagePositionPatient" in message
    assert "to_dicom_seg" in message and "allow_irregular_slices=True" in message
    assert not out.exists()

    with pytest.warns(daw.DicomAnnotWarning, match=r"slices 4-6.*2 mm"):
        image, _ = to_nifti(labels, series, out, allow_irregular_slices=True)
    assert out.exists() and image.shape == (16, 16, 7)

    # a regular series (and a slice range that is regular) passes silently
    regular = _small_series(tmp_path / "regular")
    regular_labels = Labels(regular, _ontology())
    regular_labels.add_box("Marker", 6, (2, 2, 8, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_nifti(regular_labels, regular)


def test_nifti_position_check_reads_every_slice_header(tmp_path: Path) -> None:
    """A single slice moved along its normal by more than the tolerance is named."""
    folder = tmp_path / "moved"
    files = write_phantom_series(folder, n_slices=8, rows=16, columns=16)
    # shift slice 3 by 0.5 mm along z (a quarter slice): still sorted the same
    ds = pydicom.dcmread(files[3])  # files are in slice order
    ds.ImagePositionPatient = [
        *ds.ImagePositionPatient[:2],
        float(ds.ImagePositionPatient[2]) + 0.5,
    ]
    ds.save_as(files[3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(folder)
    labels = Labels(series, _ontology())
    labels.add_box("Marker", 1, (2, 2, 8, 8))
    with pytest.raises(
        ExportError, match=r"puts slice 3 0\.5 mm .*slice 3: \(-6, -6, -7\.5\) mm in its header"
    ):
        to_nifti(labels, series)


def test_exports_name_slices_that_share_a_position(tmp_path: Path) -> None:
    """A second volume in one series (a slice repeated at the same ImagePositionPatient): SEG
    (highdicom refuses it with a bare ValueError) and NIfTI both refuse it with an
    ExportError naming the slices, the position and the cause, not "missing slices"."""
    folder = tmp_path / "twice"
    files = write_phantom_series(folder, n_slices=6, rows=16, columns=16)
    ds = pydicom.dcmread(files[2])
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.InstanceNumber = 99
    ds.save_as(folder / "copy.dcm")
    with pytest.warns(daw.DicomLoadWarning, match="duplicate"):
        series = open_series(folder)
    assert len(series) == 7
    labels = Labels(series, _ontology())
    labels.add_box("Marker", 1, (2, 2, 8, 8))
    z = float(ds.ImagePositionPatient[2])
    with pytest.raises(ExportError) as info:
        to_dicom_seg(labels, series, tmp_path / "seg.dcm")
    message = str(info.value)
    assert "a DICOM SEG" in message and "Synthetic abdomen phantom" in message
    assert "2 slices share their ImagePositionPatient" in message
    assert f"slices 2 and 3 at (-6, -6, {z:g}) mm" in message
    assert "AcquisitionNumber" in message
    assert not (tmp_path / "seg.dcm").exists()

    with pytest.raises(ExportError) as info:
        to_nifti(labels, series, tmp_path / "x.nii.gz")
    message = str(info.value)
    assert "slices 2 and 3" in message and "missing slices" not in message
    assert "allow_irregular_slices=True" in message
    with pytest.warns(daw.DicomAnnotWarning, match=r"slices 2 and 3 .*written anyway"):
        image, _ = to_nifti(labels, series, allow_irregular_slices=True)
    assert image.shape == (16, 16, 7)


def _latin1_series(folder: Path) -> daw.Series:
    """A phantom series whose files say ISO_IR 100 (Latin-1), as many scanners write."""
    files = write_phantom_series(folder, n_slices=6, rows=16, columns=16)
    for f in files:
        ds = pydicom.dcmread(f)
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "Müller^Jörg"
        ds.save_as(f)
    return open_series(folder)


def _dciodvfy_errors(path: Path) -> list[str]:
    """dciodvfy's error lines (empty when dicom3tools is not installed)."""
    import shutil
    import subprocess

    if shutil.which("dciodvfy") is None:
        return []
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    return [line for line in result.stderr.splitlines() if line.startswith("Error")]


def test_seg_class_names_in_any_script_round_trip(tmp_path: Path) -> None:
    """Names outside the source's character set (Latin-1 here) survive: the SEG is UTF-8."""
    series = _latin1_series(tmp_path / "latin1")
    names = ["Печень", "Leber €", "肝臓", "Müller"]
    onto = Ontology.from_dict(
        {"objects": [{"id": f"c{i}", "name": n, "shape": "bitmask"} for i, n in enumerate(names)]}
    )
    labels = Labels(series, onto)
    for i in range(len(names)):
        mask = np.zeros(series.shape, dtype=bool)
        mask[i + 1, 2:6, 2:6] = True
        labels.add_mask(f"c{i}", mask)
    path = tmp_path / "seg.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Failed to encode" from pydicom
        warnings.filterwarnings("ignore", module="highdicom")
        warnings.filterwarnings("ignore", message=".*[Ss]ubstitut")
        to_dicom_seg(labels, series, path, content_creator_name="Müller^Hans")
    ds = pydicom.dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert [s.SegmentLabel for s in ds.SegmentSequence] == names
    assert str(ds.PatientName) == "Müller^Jörg"  # the source's Latin-1 text, re-encoded
    assert str(ds.ContentCreatorName) == "Müller^Hans"
    assert _dciodvfy_errors(path) == []
    target = Labels(series, onto)
    uuids = from_dicom_seg(target, series, path)
    assert [target.get(u).feature for u in uuids] == ["c0", "c1", "c2", "c3"]


def test_seg_labels_are_single_valid_unique_lo_values(tmp_path: Path) -> None:
    """Backslashes and control characters are replaced, long names are cut before the
    object number, and every label reads back to its class."""
    series = _small_series(tmp_path / "series", n_slices=6)
    long_a, long_b = "A" * 70 + " one", "A" * 70 + " two"
    names = ["left\\right", "tab\there", long_a, long_b, "Печень" * 12]
    onto = Ontology.from_dict(
        {"objects": [{"id": f"c{i}", "name": n, "shape": "bitmask"} for i, n in enumerate(names)]}
    )
    labels = Labels(series, onto)
    for i in range(len(names)):
        mask = np.zeros(series.shape, dtype=bool)
        mask[i % 6, 2 + i : 5 + i, 2:6] = True
        labels.add_mask(f"c{i}", mask)
        labels.add_mask(f"c{i}", mask)  # two objects per class
    for by in ("class", "object"):
        path = tmp_path / f"{by}.dcm"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, legend = to_dicom_seg(labels, series, path, by=by)
        ds = pydicom.dcmread(path)
        got = [s["SegmentLabel"] for s in ds.SegmentSequence]
        assert all(e.VM == 1 for e in got)
        texts = [str(e.value) for e in got]
        assert all(len(t.encode("utf-8")) <= 64 for t in texts)
        assert all(t.isprintable() for t in texts)
        assert len({t.casefold() for t in texts}) == len(texts)  # unique
        if by == "class":
            assert texts[:2] == ["left/right", "tab here"]
            assert texts[2] == long_a[:64]
            assert texts[3] == "c3"  # cut to 64 it would be long_a's label: the class id
        else:
            assert texts[:4] == ["left/right 1", "left/right 2", "tab here 3", "tab here 4"]
            assert texts[4] == long_a[:62] + " 5" and texts[6] == "c3 7"
            assert texts[9].endswith(" 10") and len(texts[9].encode("utf-8")) <= 64
        assert _dciodvfy_errors(path) == []
        target = Labels(series, onto)
        uuids = from_dicom_seg(target, series, path)
        assert [target.get(u).feature for u in uuids] == [e.feature for e in legend]

    # names that differ only beyond the cut: the object labels cannot tell the classes apart
    onto = Ontology.from_dict(
        {"objects": [{"name": "A" * 63 + x, "shape": "bitmask"} for x in "xy"]}
    )
    labels = Labels(series, onto)
    for i, cls in enumerate(onto.objects):
        mask = np.zeros(series.shape, dtype=bool)
        mask[i, 2:5, 2:6] = True
        labels.add_mask(cls.id, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to_dicom_seg(labels, series, tmp_path / "cut.dcm", by="object")
    ds = pydicom.dcmread(tmp_path / "cut.dcm")
    assert [s.SegmentLabel for s in ds.SegmentSequence] == ["A" * 62 + " 1", "A" * 62 + " 2"]
    with pytest.raises(LabelImportError, match=r"segment 1 .*matches 2 object classes"):
        from_dicom_seg(Labels(series, onto), series, tmp_path / "cut.dcm")

    # 'X' clashes with 'x' (case) and its id 'x' is that label too: refused by class
    onto = Ontology.from_dict(
        {
            "objects": [
                {"id": "a", "name": "x", "shape": "bitmask"},
                {"id": "x", "name": "X", "shape": "bitmask"},
            ]
        }
    )
    labels = Labels(series, onto)
    labels.add_mask("x", np.ones(series.shape, dtype=bool))
    with pytest.raises(ExportError, match=r"object class 'X' \(id 'x'\).*same as that of 'x'"):
        to_dicom_seg(labels, series)


def test_empty_selection_and_folder_path_are_refused_first(
    doc: tuple[Labels, dict[str, Any]],
    phantom: daw.Series,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels, _ = doc
    with pytest.raises(ExportError, match="nothing to export") as info:
        to_nifti(labels, phantom, objects=[])
    assert "empty selection" in str(info.value)
    assert "have no objects" not in str(info.value)

    folder = tmp_path / "labels.nii"
    folder.mkdir()
    import dicom_annot_widget.export.nifti as nifti_module
    import dicom_annot_widget.export.seg as seg_module

    def fail(*args: Any) -> Any:
        raise AssertionError("the export was computed before the path was checked")

    monkeypatch.setattr(nifti_module, "object_slice_masks", fail)
    monkeypatch.setattr(seg_module, "object_slice_masks", fail)
    with pytest.raises(ExportError, match=r"path: .*labels\.nii' is a folder"):
        to_nifti(labels, phantom, folder)
    with pytest.raises(ExportError, match=r"path: .*labels\.nii' is a folder"):
        to_dicom_seg(labels, phantom, folder)


def test_nifti_reread_with_reorient_false_is_the_series_grid(tmp_path: Path) -> None:
    """docs/export.md: open_series(path, reorient=False) gives back the series' array and
    affine for any orientation; the default reorient=True turns a prone series' axes."""
    folder = tmp_path / "prone"
    files = write_phantom_series(folder, n_slices=4, rows=16, columns=12)
    for f in files:  # prone: columns run to the patient's right, rows to anterior
        ds = pydicom.dcmread(f)
        ds.ImageOrientationPatient = [-1, 0, 0, 0, -1, 0]
        ds.save_as(f)
    series = open_series(folder)
    labels = Labels(series, _ontology())
    labels.add_box("Marker", 1, (1, 2, 5, 9))
    path = tmp_path / "prone.nii.gz"
    image, _ = to_nifti(labels, series, path)
    expected = np.asarray(image.dataobj).transpose(2, 1, 0)

    same = open_series(path, reorient=False)
    np.testing.assert_allclose(same.affine, series.affine, atol=1e-5)
    np.testing.assert_array_equal(same.array, expected)
    turned = open_series(path)  # display orientation: rows and columns flipped
    assert not np.allclose(turned.affine, series.affine, atol=1e-5)
    np.testing.assert_array_equal(turned.array, expected[:, ::-1, ::-1])


def test_nifti_position_check_on_an_enhanced_multiframe_series(tmp_path: Path) -> None:
    """Slices of one multi-frame file: positions come from the per-frame functional groups."""
    from pydicom.uid import generate_uid

    files = write_phantom_series(tmp_path / "frames", n_slices=6, rows=16, columns=16)
    for drop, refused in ((None, False), (2, True)):
        datasets = [pydicom.dcmread(f) for i, f in enumerate(files) if i != drop]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enhanced = hd.legacy.LegacyConvertedEnhancedCTImage(
                datasets,
                series_instance_uid=generate_uid(),
                series_number=5,
                sop_instance_uid=generate_uid(),
                instance_number=1,
            )
            path = tmp_path / f"enhanced_{drop}.dcm"
            enhanced.save_as(path)
            series = open_series(path)
        assert all(f is not None for f in series.slice_frames)
        labels = Labels(series, _ontology())
        labels.add_box("Marker", len(series) - 1, (2, 2, 5, 5))
        if refused:
            with pytest.raises(ExportError, match=r"slices 2-4 up to 2 mm"):
                to_nifti(labels, series)
        else:
            to_nifti(labels, series)


def test_nifti_codes_say_what_the_affine_is(tmp_path: Path) -> None:
    """sform/qform codes (NIfTI-1): scanner coordinates where the series has them; a qform
    cannot hold a gantry tilt's shear (QA 24b D1: it held another geometry, up to 6 mm off);
    an assumed pixel size or orientation is not the scanner's (QA 24b D7). Each said."""
    onto = Ontology.builder().object("Lesion", shape="bitmask").build()

    def export(series: daw.Series) -> tuple[Any, list[str]]:
        labels = Labels(series, onto)
        labels.add_mask("lesion", np.ones(series.shape, bool))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            to_nifti(labels, series, tmp_path / "x.nii.gz")
        reread = nib.load(tmp_path / "x.nii.gz")
        assert np.allclose(reread.affine, np.diag([-1.0, -1, 1, 1]) @ series.affine)
        header = reread.header
        return (int(header["sform_code"]), int(header["qform_code"])), [
            str(w.message) for w in caught
        ]

    volume = np.zeros((4, 6, 5), np.int16)
    known = np.diag([0.7, 0.8, 2.0, 1.0])
    assert export(open_series(volume, affine=known)) == ((1, 1), [])
    tilted = known.copy()
    tilted[1, 2] = 0.5  # each slice shifted along y: sheared
    codes, said = export(open_series(volume, affine=tilted))
    assert codes == (1, 0) and "sheared by 14.04 deg" in said[0]
    codes, said = export(open_series(volume))  # no spacing, no orientation
    assert codes == (2, 0) and "pixel size (1 mm) and orientation (axial) is assumed" in said[0]
    codes, said = export(open_series(volume, spacing=(2, 0.8, 0.7)))
    assert codes == (2, 0) and "orientation (axial) is assumed" in said[0]


def test_labels_of_a_nifti_ct_are_written_on_the_files_own_grid(tmp_path: Path) -> None:
    """QA 24b D3: a RAS-stored CT (as dcm2niix, TotalSegmentator, nnU-Net write them) opens
    reoriented to DICOM's order, and its labels were written on that grid: the (CT, labels)
    pair no longer lined up voxel for voxel. They are written on the file's grid now."""
    rng = np.random.default_rng(4)
    ct = rng.integers(-200, 300, size=(12, 9, 5)).astype(np.int16)
    ras = np.array([[0.8, 0, 0, -40], [0, 0.9, 0, -30], [0, 0, 2.5, 0], [0, 0, 0, 1.0]])
    nib.save(nib.Nifti1Image(ct, ras), tmp_path / "ct.nii.gz")
    series = open_series(tmp_path / "ct.nii.gz")
    assert series.nifti_file_grid is not None
    labels = Labels(series, Ontology.builder().object("Bright", shape="bitmask").build())
    labels.add_mask("bright", series.array > 150)  # in the series' (reoriented) order
    to_nifti(labels, series, tmp_path / "labels.nii.gz")
    reread = nib.load(tmp_path / "labels.nii.gz")
    assert reread.shape == ct.shape and np.allclose(reread.affine, ras)
    np.testing.assert_array_equal(np.asarray(reread.dataobj) > 0, ct > 150)
    # and back: the file imports onto the series as it was
    target = Labels(series, labels.ontology)
    (uuid,) = daw.from_nifti(target, series, tmp_path / "labels.nii.gz", classes={1: "bright"})
    np.testing.assert_array_equal(target.get_mask(uuid), series.array > 150)
    # a file stored in DICOM's order already, or opened as stored: its grid, as before
    assert open_series(tmp_path / "ct.nii.gz", reorient=False).nifti_file_grid is None


def test_export_warnings_point_at_the_users_line(tmp_path: Path) -> None:
    """QA 24b observation: w.export_seg's warnings pointed at a line inside the package
    (widget/annotator.py), not at the notebook cell that called it."""
    onto = Ontology.builder().object("Lesion", shape="bitmask").build()
    w = daw.DicomAnnotator(open_series(np.zeros((4, 8, 8), np.int16)), ontology=onto)
    w.labels.add_mask("lesion", np.ones((4, 8, 8), bool))
    with pytest.warns(daw.DicomAnnotWarning, match="is assumed") as caught:
        w.export_nifti(tmp_path / "x.nii.gz")
    assert caught[0].filename == __file__
