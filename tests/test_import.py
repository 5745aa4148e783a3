"""Segmentations read back (NIfTI label maps, DICOM SEG -> bitmask objects): round trips
through the project's own exports, other orientations of the same grid, pending predictions,
one undo step, and refusals of anything that is not on the series' grid."""

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
from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform
from pydicom.sr.coding import Code

import dicom_annot_widget as daw
from dicom_annot_widget import Labels, Ontology, open_series, write_phantom_series
from dicom_annot_widget.export import (
    LabelImportError,
    from_dicom_seg,
    from_nifti,
    to_dicom_seg,
    to_nifti,
)

from .conftest import phantom_series

SHAPE = (10, 48, 40)  # slices, rows, columns (rows != columns: permutations show)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> daw.Series:
    return phantom_series(tmp_path_factory.mktemp("phantom"), SHAPE)


def _ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "bitmask")
        .object("Lesion", "polygon")
        .object("Spleen", "bitmask")
        .build()
    )


def _masks() -> dict[str, np.ndarray]:
    """Three non-overlapping, asymmetric masks (two livers, one spleen)."""
    a = np.zeros(SHAPE, dtype=bool)
    a[2:5, 5:20, 3:15] = True
    a[3, 30:33, 1:4] = True
    b = np.zeros(SHAPE, dtype=bool)
    b[6:8, 25:40, 20:38] = True
    c = np.zeros(SHAPE, dtype=bool)
    c[1:9, 10:12, 25:30] = True
    c[9, 0, 0] = True  # a corner voxel: flips must land it exactly
    return {"liver_a": a, "liver_b": b, "spleen": c}


@pytest.fixture
def source(phantom: daw.Series) -> tuple[Labels, dict[str, np.ndarray]]:
    """Labels holding the three masks; expected masks by uuid."""
    labels = Labels(phantom, _ontology())
    masks = _masks()
    out = {
        labels.add_mask("Liver", masks["liver_a"]): masks["liver_a"],
        labels.add_mask("Liver", masks["liver_b"]): masks["liver_b"],
        labels.add_mask("Spleen", masks["spleen"]): masks["spleen"],
    }
    return labels, out


def _fresh(phantom: daw.Series) -> Labels:
    return Labels(phantom, _ontology())


def _by_feature(labels: Labels, uuids: list[str]) -> dict[str, np.ndarray]:
    return {labels.get(u).feature: labels.get_mask(u) for u in uuids}


def _class_unions(labels: Labels, masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for uuid, mask in masks.items():
        feature = labels.get(uuid).feature
        out[feature] = out.get(feature, np.zeros(SHAPE, bool)) | mask
    return out


# ---------------------------------------------------------------------------- NIfTI


def test_nifti_round_trip_by_class(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    path = tmp_path / "classes.nii.gz"
    _, legend = to_nifti(labels, phantom, path)
    expected = _class_unions(labels, masks)

    with_legend = _fresh(phantom)
    uuids = from_nifti(with_legend, phantom, path, legend=legend)
    assert [with_legend.get(u).feature for u in uuids] == ["liver", "spleen"]
    for feature, mask in _by_feature(with_legend, uuids).items():
        np.testing.assert_array_equal(mask, expected[feature], err_msg=feature)
    for u in uuids:
        obj = with_legend.get(u)
        assert obj.shape == "bitmask" and obj.plane == "axial"
        assert obj.source == "manual" and not obj.pending

    # no legend: values 1..2 and two bitmask classes -> in ontology order
    default = _fresh(phantom)
    got = _by_feature(default, from_nifti(default, phantom, path))
    assert set(got) == {"liver", "spleen"}
    for feature, mask in got.items():
        np.testing.assert_array_equal(mask, expected[feature], err_msg=feature)

    # classes= by name / hotkey-free ids, and a nibabel image as source
    explicit = _fresh(phantom)
    got = _by_feature(
        explicit, from_nifti(explicit, phantom, nib.load(path), classes={1: "Liver", 2: "spleen"})
    )
    np.testing.assert_array_equal(got["spleen"], expected["spleen"])


def test_nifti_round_trip_by_object_with_legend_file(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    named = sorted(labels, key=lambda o: o.object_id)[0].uuid
    labels.update_object(named, name="Lesion A")
    path = tmp_path / "objects.nii"
    _, legend = to_nifti(labels, phantom, path, by="object")
    legend_path = tmp_path / "objects.json"
    legend_path.write_text(legend.to_json())
    for given in (legend, legend.to_dict(), legend.to_json(), legend_path, str(legend_path)):
        target = _fresh(phantom)
        uuids = from_nifti(target, phantom, path, legend=given)
        assert len(uuids) == 3
        for entry, uuid in zip(legend, uuids, strict=True):
            original = entry.uuids[0]
            assert target.get(uuid).feature == labels.get(original).feature
            np.testing.assert_array_equal(target.get_mask(uuid), masks[original])
            # the name the object had comes back with it (the legend lists it)
            assert target.get(uuid).name == labels.get(original).name


@pytest.mark.parametrize("codes", [("I", "L", "A"), ("S", "P", "R"), ("L", "A", "I")])
def test_nifti_in_another_orientation_imports_the_same(
    source: tuple[Labels, dict[str, np.ndarray]],
    phantom: daw.Series,
    tmp_path: Path,
    codes: tuple[str, str, str],
) -> None:
    """The same grid stored with flipped and permuted axes (as other tools write it)."""
    labels, masks = source
    image, legend = to_nifti(labels, phantom, by="object")
    transform = ornt_transform(io_orientation(image.affine), axcodes2ornt(codes))
    moved = image.as_reoriented(transform)
    assert nib.aff2axcodes(moved.affine) == codes
    assert codes != nib.aff2axcodes(image.affine)
    path = tmp_path / "moved.nii.gz"
    nib.save(moved, path)
    target = _fresh(phantom)
    uuids = from_nifti(target, phantom, path, legend=legend)
    for entry, uuid in zip(legend, uuids, strict=True):
        np.testing.assert_array_equal(target.get_mask(uuid), masks[entry.uuids[0]])


def test_nifti_off_grid_is_refused(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, _ = source
    image, legend = to_nifti(labels, phantom)
    data = np.asarray(image.dataobj)
    target = _fresh(phantom)

    shifted = image.affine.copy()
    shifted[:3, 3] += 0.5 * shifted[:3, 0]  # half a column
    with pytest.raises(LabelImportError, match=r"not on the series' voxel grid.*0\.5 voxels"):
        from_nifti(target, phantom, nib.Nifti1Image(data, shifted), legend=legend)

    spaced = image.affine.copy()
    spaced[:3, 2] *= 1.5  # other slice spacing, same shape
    with pytest.raises(LabelImportError, match=r"spacing .*the series"):
        from_nifti(target, phantom, nib.Nifti1Image(data, spaced), legend=legend)

    resampled = image.affine.copy()
    resampled[:3, :3] *= 2  # half the voxels, twice the spacing: the same field of view
    with pytest.raises(LabelImportError, match=r"shape differs.*shape \(20, 24, 5\)"):
        from_nifti(target, phantom, nib.Nifti1Image(data[::2, ::2, ::2], resampled))

    with pytest.raises(LabelImportError, match="not a 3D label map"):
        from_nifti(target, phantom, nib.Nifti1Image(np.stack([data, data], -1), image.affine))
    assert len(target) == 0  # nothing was created


def test_a_label_maps_negative_ignore_value_is_left_out_when_asked(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series
) -> None:
    """QA 24b D13: a label map marking "ignore" voxels with -1 was refused whatever the
    arguments; ignore_unlisted=True leaves them out like any value not listed."""
    labels, _ = source
    image, _legend = to_nifti(labels, phantom)
    data = np.asarray(image.dataobj).astype(np.int16)
    data[0:5, 0:5, :] = -1
    marked = nib.Nifti1Image(data, image.affine)
    target = _fresh(phantom)
    with pytest.raises(
        LabelImportError, match=r"negative label values \[-1\].*ignore_unlisted=True"
    ):
        from_nifti(target, phantom, marked, classes={1: "Liver", 2: "spleen"})
    uuids = from_nifti(
        target, phantom, marked, classes={1: "Liver", 2: "spleen"}, ignore_unlisted=True
    )
    assert sorted(target.get(u).feature for u in uuids) == ["liver", "spleen"]


def test_a_label_map_seg_is_named_as_not_supported_yet(phantom: daw.Series) -> None:
    """QA 24b D8: a LABELMAP SEG (DICOM 2024) was "not a DICOM SEG" here while open_series
    sent the user to import it here."""
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.7"
    with pytest.raises(LabelImportError, match=r"Label Map Segmentation .* not supported yet"):
        from_dicom_seg(_fresh(phantom), phantom, ds)


def test_pending_predictions_accept_reject_and_one_undo(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    path = tmp_path / "pred.nii.gz"
    _, legend = to_nifti(labels, phantom, path, by="object")
    target = _fresh(phantom)
    manual = target.add_mask("Spleen", np.ones(SHAPE, bool)[:, :2].repeat(24, 1))
    revision = target.revision
    uuids = from_nifti(target, phantom, path, legend=legend, source_name="unet-v2", confidence=0.8)
    assert target.revision == revision + 1  # one edit
    assert len(target) == 4
    for uuid in uuids:
        obj = target.get(uuid)
        assert obj.pending and obj.source == "unet-v2" and obj.confidence == 0.8
    assert target.accept(uuids[0]) == 1
    assert target.reject(uuids[1]) == 1
    assert not target.get(uuids[0]).pending and target.get(uuids[0]).source == "unet-v2"
    assert uuids[1] not in target and target.get(uuids[2]).pending
    target.undo()  # the reject
    target.undo()  # the accept
    target.undo()  # the whole import
    assert [o.uuid for o in target] == [manual]
    target.redo()
    assert [o.uuid for o in target][1:] == uuids
    np.testing.assert_array_equal(target.get_mask(uuids[2]), masks[legend[3].uuids[0]])


def test_nifti_bad_input(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    path = tmp_path / "objects.nii.gz"
    _, legend = to_nifti(labels, phantom, path, by="object")  # values 1, 2, 3
    target = _fresh(phantom)
    with pytest.raises(LabelImportError, match=r"classes\[1\]: unknown object class 'Kidney'"):
        from_nifti(target, phantom, path, classes={1: "Kidney", 2: "Liver", 3: "Liver"})
    with pytest.raises(LabelImportError, match=r"'Lesion' is a polygon class.*bitmask"):
        from_nifti(target, phantom, path, classes={1: "Lesion", 2: "Liver", 3: "Liver"})
    with pytest.raises(LabelImportError, match=r"label values \[2, 3\] are not in classes"):
        from_nifti(target, phantom, path, classes={1: "Liver"})
    with pytest.raises(LabelImportError, match=r"values \[1, 2, 3\].*2 bitmask classes.*classes="):
        from_nifti(target, phantom, path)  # 3 values, 2 bitmask classes: ambiguous
    with pytest.raises(LabelImportError, match="0 is the background"):
        from_nifti(target, phantom, path, classes={0: "Liver"})
    with pytest.raises(LabelImportError, match="either classes= or legend="):
        from_nifti(target, phantom, path, classes={1: "Liver"}, legend=legend)
    with pytest.raises(LabelImportError, match="source_name: 'manual' is reserved"):
        from_nifti(target, phantom, path, legend=legend, source_name="manual")
    with pytest.raises(LabelImportError, match=r"confidence: 1\.5 is not between 0 and 1"):
        from_nifti(target, phantom, path, legend=legend, source_name="m", confidence=1.5)
    with pytest.raises(LabelImportError, match="does not exist"):
        from_nifti(target, phantom, tmp_path / "missing.nii.gz", legend=legend)
    with pytest.raises(TypeError, match="NIfTI file path or a nibabel image"):
        from_nifti(target, phantom, np.zeros(SHAPE), legend=legend)
    image = nib.load(path)
    probabilities = nib.Nifti1Image(np.asarray(image.dataobj) * 0.3, image.affine)
    with pytest.raises(LabelImportError, match="whole numbers"):
        from_nifti(target, phantom, probabilities, classes={1: "Liver"}, ignore_unlisted=True)
    other = open_series(np.zeros((4, 8, 8), np.int16))
    with pytest.raises(LabelImportError, match="belong to another series"):
        from_nifti(target, other, path, legend=legend)
    # a legend value of a polygon class cannot come back as a bitmask
    labels.add_polygon("Lesion", 4, [(2.5, 2.5), (10.5, 2.5), (6.5, 9.5)])
    _, with_polygon = to_nifti(labels, phantom, path, by="class")
    with pytest.raises(LabelImportError, match=r"legend\[2\]: 'Lesion' is a polygon class"):
        from_nifti(target, phantom, path, legend=with_polygon)
    assert len(target) == 0  # nothing was created by any of these

    # unlisted values may be left out on purpose
    _, legend = to_nifti(labels, phantom, path, by="object", objects=list(masks))
    only_first = from_nifti(target, phantom, path, classes={1: "Liver"}, ignore_unlisted=True)
    assert len(only_first) == 1 and len(target) == 1
    np.testing.assert_array_equal(
        target.get_mask(only_first[0]), labels.get_mask(legend[1].uuids[0])
    )


def test_float_label_map_with_whole_values_is_accepted(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series
) -> None:
    labels, masks = source
    image, legend = to_nifti(labels, phantom, by="object")
    as_float = nib.Nifti1Image(np.asarray(image.dataobj).astype(np.float32), image.affine)
    target = _fresh(phantom)
    uuids = from_nifti(target, phantom, as_float, legend=legend)
    np.testing.assert_array_equal(target.get_mask(uuids[0]), masks[legend[1].uuids[0]])


# ---------------------------------------------------------------------------- DICOM SEG


def _seg(labels: Labels, series: daw.Series, path: Path, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # highdicom's notes on optional attributes
        return to_dicom_seg(labels, series, path, **kw)


def test_seg_round_trip_by_class_and_by_object(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    expected = _class_unions(labels, masks)
    _seg(labels, phantom, tmp_path / "classes.dcm")
    target = _fresh(phantom)
    uuids = from_dicom_seg(target, phantom, tmp_path / "classes.dcm")  # labels = class names
    got = _by_feature(target, uuids)
    assert list(got) == ["liver", "spleen"]
    for feature, mask in got.items():
        np.testing.assert_array_equal(mask, expected[feature], err_msg=feature)

    _, legend = _seg(labels, phantom, tmp_path / "objects.dcm", by="object")
    for given in (tmp_path / "objects.dcm", pydicom.dcmread(tmp_path / "objects.dcm")):
        target = _fresh(phantom)
        uuids = from_dicom_seg(target, phantom, given)  # labels "Liver 1": number stripped
        assert len(uuids) == 3
        for entry, uuid in zip(legend, uuids, strict=True):
            assert target.get(uuid).feature == entry.feature
            np.testing.assert_array_equal(target.get_mask(uuid), masks[entry.uuids[0]])

    # classes= by segment number and by segment label; pending with source_name
    target = _fresh(phantom)
    uuids = from_dicom_seg(
        target,
        phantom,
        tmp_path / "objects.dcm",
        classes={1: "Spleen", "liver 2": "Liver", "Spleen 3": "spleen"},
        source_name="seg-model",
    )
    assert [target.get(u).feature for u in uuids] == ["spleen", "liver", "spleen"]
    assert all(target.get(u).pending for u in uuids)
    target.undo()
    assert len(target) == 0


def test_seg_frames_placed_by_position_when_uids_differ(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    """A SEG whose frames reference other images of the same frame of reference (e.g. another
    copy of the series) is placed by ImagePositionPatient."""
    labels, masks = source
    _, legend = _seg(labels, phantom, tmp_path / "objects.dcm", by="object")
    ds = pydicom.dcmread(tmp_path / "objects.dcm")
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        ref = item.DerivationImageSequence[0].SourceImageSequence[0]
        ref.ReferencedSOPInstanceUID = f"1.2.3.4.{i}"
    target = _fresh(phantom)
    uuids = from_dicom_seg(target, phantom, ds)
    for entry, uuid in zip(legend, uuids, strict=True):
        np.testing.assert_array_equal(target.get_mask(uuid), masks[entry.uuids[0]])

    # within half a slice along the normal: still that slice
    normal = phantom.affine[:3, 2]
    frames = ds.PerFrameFunctionalGroupsSequence
    for item in frames:
        plane = item.PlanePositionSequence[0]
        plane.ImagePositionPatient = [
            float(v) for v in np.add(plane.ImagePositionPatient, 0.4 * normal)
        ]
    target = _fresh(phantom)
    uuids = from_dicom_seg(target, phantom, ds)
    for entry, uuid in zip(legend, uuids, strict=True):
        np.testing.assert_array_equal(target.get_mask(uuid), masks[entry.uuids[0]])
    # a frame moved off the slices, or two frames of a segment on one slice: refused
    first = frames[0].PlanePositionSequence[0]
    at = [float(v) for v in first.ImagePositionPatient]
    first.ImagePositionPatient = [float(v) for v in np.add(at, -5 * normal)]
    with pytest.raises(LabelImportError, match=r"frame 1 .* is on no slice of the series"):
        from_dicom_seg(_fresh(phantom), phantom, ds)
    # frames run down the slices: frame 1 is on the highest, frame 2 one below
    first.ImagePositionPatient = [float(v) for v in np.add(at, -1.0 * normal)]
    with pytest.raises(LabelImportError, match=r"frames 1 and 2 of segment 1 both fall on slice"):
        from_dicom_seg(_fresh(phantom), phantom, ds)
    first.ImagePositionPatient = at
    shifted = [float(v) for v in np.add(at, 0.5 * phantom.affine[:3, 0])]
    first.ImagePositionPatient = shifted  # half a column: not on the series' grid
    with pytest.raises(LabelImportError, match=r"frame 1 .* is on no slice"):
        from_dicom_seg(_fresh(phantom), phantom, ds)


def test_seg_frames_beyond_a_missing_slice_land_where_their_positions_say(
    tmp_path: Path,
) -> None:
    """QA: a SEG of the complete series imported on a copy missing slice 4 put every frame
    beyond the gap one slice off (placed through the evenly spaced affine); a frame on the
    missing slice itself was put on a neighbour instead of being refused."""
    from tests.test_io_synthetic import make_series, open_quiet

    make_series(tmp_path / "full", 8)
    make_series(tmp_path / "gap", 8, skip=[4])  # other SOP instances, same frame of reference
    full, gap = open_quiet(tmp_path / "full"), open_quiet(tmp_path / "gap")
    mask = np.zeros(full.shape, bool)
    for k in (3, 5, 6):
        mask[k, k : k + 3, 2:6] = True  # a different row band on each slice
    labels = _fresh(full)
    labels.add_mask("Liver", mask)
    # the synthetic files lack PatientBirthDate and SliceThickness (de-identification tools
    # remove such attributes too): the SEG has them empty / as the slice spacing, with a note
    with pytest.warns(daw.DicomAnnotWarning, match=r"no SliceThickness; .* spacing, 2\.5 mm"):
        to_dicom_seg(labels, full, tmp_path / "full.dcm")
    written = pydicom.dcmread(tmp_path / "full.dcm")
    assert written.PatientBirthDate == "" and written.StudyDate == ""
    measures = written.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert float(measures.SliceThickness) == 2.5
    target = _fresh(gap)
    (uuid,) = from_dicom_seg(target, gap, tmp_path / "full.dcm")
    got = target.get_mask(uuid)
    for k_gap, k_full in ((3, 3), (4, 5), (5, 6)):  # gap slices 4.. are full slices 5..
        np.testing.assert_array_equal(got[k_gap], mask[k_full])
    assert got.sum() == mask.sum()

    mask[4, 1:3, 1:3] = True  # a frame on the slice the copy lacks: refused, not moved
    labels = _fresh(full)
    labels.add_mask("Liver", mask)
    _seg(labels, full, tmp_path / "full4.dcm")
    target = _fresh(gap)
    with pytest.raises(LabelImportError, match=r"is on no slice of the series: the nearest"):
        from_dicom_seg(target, gap, tmp_path / "full4.dcm")
    assert len(target) == 0


def _model_spleen(phantom: daw.Series, tmp_path: Path) -> Labels:
    """Labels holding the spleen as a pending prediction of model "net-7" (read from a SEG)."""
    spleen_only = _fresh(phantom)
    spleen_only.add_mask("Spleen", _masks()["spleen"])
    _seg(spleen_only, phantom, tmp_path / "model.dcm")
    target = _fresh(phantom)
    from_dicom_seg(target, phantom, tmp_path / "model.dcm", source_name="net-7")
    return target


def test_seg_segments_say_who_made_them(phantom: daw.Series, tmp_path: Path) -> None:
    """QA: model predictions were written as MANUAL segments with no algorithm. Drawn by
    people: MANUAL; a model's: AUTOMATIC naming the model; interpolated keyframes:
    SEMIAUTOMATIC naming the interpolation."""
    masks = _masks()
    target = _model_spleen(phantom, tmp_path)
    target.add_mask("Liver", masks["liver_a"])  # drawn
    track = np.zeros(SHAPE, bool)  # keyframes on slices 1 and 5, the rest interpolated
    track[1, 30:36, 5:11] = True
    track[5, 32:40, 7:15] = True
    interpolated = target.add_mask("Liver", track)
    target.interpolate(interpolated)
    _seg(target, phantom, tmp_path / "mixed.dcm", by="object", include_pending=True)
    ds = pydicom.dcmread(tmp_path / "mixed.dcm")
    found = {}
    for segment in ds.SegmentSequence:
        algo = segment.get("SegmentationAlgorithmIdentificationSequence")
        found[str(segment.SegmentLabel)] = (
            segment.SegmentAlgorithmType,
            str(algo[0].AlgorithmName) if algo else None,
        )
    assert sorted(found.values(), key=str) == sorted(
        [
            ("AUTOMATIC", "net-7"),
            ("MANUAL", None),
            ("SEMIAUTOMATIC", "dicom_annot_widget interpolation"),
        ],
        key=str,
    )
    # by class: the livers (one drawn, one interpolated) are one SEMIAUTOMATIC segment
    _seg(target, phantom, tmp_path / "classes.dcm", include_pending=True)
    ds = pydicom.dcmread(tmp_path / "classes.dcm")
    types = {str(s.SegmentLabel): s.SegmentAlgorithmType for s in ds.SegmentSequence}
    assert types == {"Liver": "SEMIAUTOMATIC", "Spleen": "AUTOMATIC"}
    # read back by highdicom: the file is valid
    assert len(hd.seg.segread(tmp_path / "mixed.dcm").SegmentSequence) == 3


def test_seg_fractional_threshold(phantom: daw.Series, tmp_path: Path) -> None:
    """FRACTIONAL: a voxel is inside when its fraction is >= 0.5."""
    fractions = np.zeros(SHAPE, dtype=np.float32)
    fractions[3, 10:20, 10:20] = 0.3
    fractions[3, 12:16, 12:16] = 0.5
    fractions[4, 5:9, 5:9] = 0.9
    sources = [phantom.slice_dataset(k) for k in range(SHAPE[0])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=fractions,
            segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
            segment_descriptions=[
                hd.seg.SegmentDescription(
                    segment_number=1,
                    segment_label="probability of spleen",
                    segmented_property_category=Code("85756007", "SCT", "T"),
                    segmented_property_type=Code("85756007", "SCT", "T"),
                    algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                    algorithm_identification=hd.AlgorithmIdentificationSequence(
                        name="model", version="1", family=hd.sr.CodedConcept("1", "99X", "x")
                    ),
                )
            ],
            series_instance_uid=pydicom.uid.generate_uid(),
            series_number=5,
            sop_instance_uid=pydicom.uid.generate_uid(),
            instance_number=1,
            manufacturer="test",
            manufacturer_model_name="test",
            software_versions="1",
            device_serial_number="1",
        )
    target = _fresh(phantom)
    with pytest.raises(LabelImportError, match=r"segment 1 'probability of spleen'"):
        from_dicom_seg(target, phantom, seg)
    (uuid,) = from_dicom_seg(
        target, phantom, seg, classes={"probability of spleen": "Spleen"}, source_name="m"
    )
    np.testing.assert_array_equal(target.get_mask(uuid), fractions >= 0.5)
    assert target.get_mask(uuid).sum() == 16 + 16


def test_a_by_class_seg_with_a_polygon_class_comes_back_with_ignore_unlisted(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    """QA 20: this package's by-class SEG of labels with a polygon class could not be imported
    back even with ignore_unlisted=True (the 'Lesion' segment matched a polygon class), and the
    error did not say how to leave it out."""
    labels, masks = source
    labels.add_polygon("Lesion", 4, [(5, 5), (20, 5), (20, 20)])
    _seg(labels, phantom, tmp_path / "classes.dcm")
    target = _fresh(phantom)
    with pytest.raises(
        LabelImportError, match=r"'Lesion' is a polygon class.*or pass ignore_unlisted=True"
    ):
        from_dicom_seg(target, phantom, tmp_path / "classes.dcm")
    assert len(target) == 0
    uuids = from_dicom_seg(target, phantom, tmp_path / "classes.dcm", ignore_unlisted=True)
    assert sorted(target.get(u).feature for u in uuids) == ["liver", "spleen"]
    for got, want in _class_unions(labels, masks).items():
        np.testing.assert_array_equal(_by_feature(target, uuids)[got], want)


def test_seg_bad_input(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, _ = source
    _seg(labels, phantom, tmp_path / "objects.dcm", by="object")
    path = tmp_path / "objects.dcm"
    target = _fresh(phantom)
    with pytest.raises(LabelImportError, match=r"the SEG has no segment 7 \(segments: \[1, 2, 3\]"):
        from_dicom_seg(target, phantom, path, classes={7: "Liver"})
    with pytest.raises(LabelImportError, match=r"no segment is labelled 'Kidney'.*'Liver 1'"):
        from_dicom_seg(target, phantom, path, classes={"Kidney": "Liver"})
    with pytest.raises(LabelImportError, match=r"segments not in classes: 2 'Liver 2', 3"):
        from_dicom_seg(target, phantom, path, classes={1: "Liver"})
    with pytest.raises(LabelImportError, match=r"'Lesion' is a polygon class"):
        from_dicom_seg(target, phantom, path, classes={1: "Lesion"}, ignore_unlisted=True)
    with pytest.raises(LabelImportError, match="unknown object class 'Kidney'"):
        from_dicom_seg(target, phantom, path, classes={1: "Kidney"}, ignore_unlisted=True)
    with pytest.raises(LabelImportError, match="not Segmentation Storage"):
        from_dicom_seg(target, phantom, phantom.slice_files[0])

    # a SEG made on another series in another frame of reference
    folder = tmp_path / "other"
    write_phantom_series(
        folder, n_slices=SHAPE[0], rows=SHAPE[1], columns=SHAPE[2], seed=3, series_number=7
    )
    other = open_series(folder)
    assert other.frame_of_reference_uid != phantom.frame_of_reference_uid
    other_labels = Labels(other, _ontology())
    other_labels.add_mask("Liver", _masks()["liver_a"])
    _seg(other_labels, other, tmp_path / "other.dcm")
    with pytest.raises(LabelImportError, match="belongs to another series") as info:
        from_dicom_seg(target, phantom, tmp_path / "other.dcm")
    message = str(info.value)
    for uid in (
        other.series_instance_uid,
        other.frame_of_reference_uid,
        phantom.series_instance_uid,
        phantom.frame_of_reference_uid,
    ):
        assert uid in message
    assert len(target) == 0

    # ... and of another size (QA 20: said only that the frames do not fit)
    folder = tmp_path / "other_size"
    write_phantom_series(folder, n_slices=SHAPE[0], rows=32, columns=32, seed=4, series_number=8)
    small = open_series(folder)
    small_labels = Labels(small, _ontology())
    small_mask = np.zeros(small.shape, bool)
    small_mask[2:4, 5:9, 5:9] = True
    small_labels.add_mask("Liver", small_mask)
    _seg(small_labels, small, tmp_path / "small.dcm")
    with pytest.raises(LabelImportError, match="belongs to another series") as info:
        from_dicom_seg(target, phantom, tmp_path / "small.dcm")
    message = str(info.value)
    assert "frames of 32 x 32 pixels do not fit the series' 48 x 40 slices" in message
    for uid in (small.series_instance_uid, phantom.series_instance_uid):
        assert uid in message
    assert len(target) == 0

    # a series not read from DICOM (no frame of reference) cannot place a SEG
    no_dicom = open_series(np.zeros(SHAPE, np.int16))
    with pytest.raises(LabelImportError, match="belongs to another series"):
        from_dicom_seg(Labels(no_dicom, _ontology()), no_dicom, path)


# ---------------------------------------------------------------------------- real data


def test_real_ct_small_nifti_labels(ct_small_nifti: Path) -> None:
    """The model's label NIfTI of a real CT, imported for two organs onto the CT as
    open_series shows it (reoriented), equals the label array voxel for voxel."""
    folder = ct_small_nifti.parent
    seg_path = folder / "segmentation.nii.gz"
    if not seg_path.exists():
        pytest.skip(f"test data not available: {seg_path}")
    names = {int(k): v for k, v in json.loads((folder / "labels.json").read_text()).items()}
    value = {v: k for k, v in names.items()}
    series = open_series(ct_small_nifti)
    ontology = Ontology.builder().object("liver", "bitmask").object("spleen", "bitmask").build()
    labels = Labels(series, ontology)
    uuids = from_nifti(
        labels,
        series,
        seg_path,
        classes={value["liver"]: "liver", value["spleen"]: "spleen"},
        ignore_unlisted=True,
    )
    assert [labels.get(u).feature for u in uuids] == sorted(
        ["liver", "spleen"], key=lambda n: value[n]
    )
    # reference: the label file in the CT's voxel order, derived from the raw disk arrays
    ct, seg = nib.load(ct_small_nifti), nib.load(seg_path)
    np.testing.assert_allclose(ct.affine, seg.affine, atol=1e-4)
    raw = np.asarray(seg.dataobj)
    reference = open_series(seg_path)  # the io layer's own reorientation of the label file
    assert reference.shape == series.shape
    for uuid in uuids:
        feature = labels.get(uuid).feature
        mask = labels.get_mask(uuid)
        assert mask.sum() == (raw == value[feature]).sum() > 100
        np.testing.assert_array_equal(mask, reference.array == value[feature], err_msg=feature)


def test_real_ct_abdomen_model_nifti_onto_dicom(
    ct_abdomen_dir: Path,
    ct_abdomen_segmentation_npz: Path,
    ct_abdomen_segmentation_nifti: Path,
    tmp_path: Path,
) -> None:
    """A model's NIfTI (RAS, rows flipped relative to the DICOM) imported onto the DICOM CT
    it was made from, and a SEG round trip on the same series (blanked UIDs): both equal the
    ground truth voxel for voxel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", daw.DicomLoadWarning)
        series = open_series(ct_abdomen_dir)
    gt = np.load(ct_abdomen_segmentation_npz)
    order = [list(gt["media_storage_sop_instance_uid"]).index(u) for u in series.sop_instance_uids]
    truth = gt["labels"][order]
    ontology = Ontology.builder().object("Liver", "bitmask").object("Aorta", "bitmask").build()
    labels = Labels(series, ontology)
    uuids = from_nifti(
        labels,
        series,
        ct_abdomen_segmentation_nifti,
        classes={5: "Liver", 52: "Aorta"},
        ignore_unlisted=True,
        source_name="TotalSegmentator",
    )
    organs = {"liver": 5, "aorta": 52}
    for uuid in uuids:
        feature = labels.get(uuid).feature
        np.testing.assert_array_equal(labels.get_mask(uuid), truth == organs[feature])
    # segment statistics of the real organs: voxels x 0.977 x 0.977 x 2 mm (the slices are
    # 2 mm apart, though SliceThickness says 3), and the HU inside as NumPy has them
    stats = {labels.get(r["uuid"]).feature: r for r in labels.statistics_to_records()}
    hu = series.array.astype(np.float64)
    voxel_mm3 = float(np.prod(series.spacing))
    assert series.spacing == pytest.approx((2.0, 0.977, 0.977), abs=1e-3)
    for feature, value in organs.items():
        inside = truth == value
        assert stats[feature]["voxels"] == inside.sum()
        assert stats[feature]["volume_ml"] == pytest.approx(inside.sum() * voxel_mm3 / 1e3)
        assert stats[feature]["mean"] == pytest.approx(hu[inside].mean())
        assert stats[feature]["median"] == pytest.approx(np.median(hu[inside]))
    assert 80 < stats["liver"]["mean"] < 100 and 160 < stats["aorta"]["mean"] < 195

    labels.accept()
    with pytest.warns(daw.DicomAnnotWarning, match="SOPInstanceUID"):
        to_dicom_seg(labels, series, tmp_path / "organs.dcm")
    again = Labels(series, ontology)
    for uuid in from_dicom_seg(again, series, tmp_path / "organs.dcm"):
        feature = again.get(uuid).feature
        np.testing.assert_array_equal(again.get_mask(uuid), truth == organs[feature])


# ---------------------------------------------------------------------------- widget and API


def test_widget_import_nifti_and_seg(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    labels, masks = source
    _, legend = to_nifti(labels, phantom, tmp_path / "o.nii.gz", by="object")
    _seg(labels, phantom, tmp_path / "o.dcm", by="object")
    w = daw.DicomAnnotator(phantom, ontology=_ontology())
    try:
        uuids = w.import_nifti(tmp_path / "o.nii.gz", legend=legend, source_name="net")
        state = {o["uuid"]: o for o in w.labels_state["objects"]}
        assert set(uuids) <= set(state) and len(uuids) == 3
        assert all(state[u]["source"] == "net" for u in uuids)
        for entry, uuid in zip(legend, uuids, strict=True):
            np.testing.assert_array_equal(w.labels.get_mask(uuid), masks[entry.uuids[0]])
        more = w.import_seg(tmp_path / "o.dcm")
        state = {o["uuid"]: o for o in w.labels_state["objects"]}
        assert set(more) <= set(state) and len(state) == 6
        with pytest.raises(LabelImportError, match="not on the series' voxel grid"):
            w.import_nifti(nib.Nifti1Image(np.zeros((4, 4, 4), np.uint8), np.eye(4)))
        assert len(w.labels_state["objects"]) == 6
    finally:
        w.close()


def test_public_api() -> None:
    for name in ("from_nifti", "from_dicom_seg"):
        assert name in daw.__all__ and getattr(daw, name) is getattr(daw.export, name)
    assert issubclass(LabelImportError, daw.LabelError)


# ---------------------------------------------------------------------------- QA fixes


def test_non_seg_dicom_names_its_sop_class(phantom: daw.Series, tmp_path: Path) -> None:
    target = _fresh(phantom)
    with pytest.raises(LabelImportError, match=r"CT Image Storage.*not Segmentation Storage"):
        from_dicom_seg(target, phantom, phantom.slice_files[0])
    # de-identified files with an empty SOPClassUID: say so, with what the file meta says
    ds = pydicom.dcmread(phantom.slice_files[0])  # type: ignore[arg-type]
    ds.SOPClassUID = ""
    with pytest.raises(LabelImportError) as info:
        from_dicom_seg(target, phantom, ds)
    message = str(info.value)
    assert "SOPClassUID is empty" in message and "CT Image Storage" in message
    assert "SOPClassUID  is" not in message
    del ds.SOPClassUID
    del ds.file_meta.MediaStorageSOPClassUID
    with pytest.raises(LabelImportError, match="has no SOPClassUID"):
        from_dicom_seg(target, phantom, ds)


def test_nan_in_a_label_map_is_called_nan(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series
) -> None:
    labels, _ = source
    image, _ = to_nifti(labels, phantom)
    data = np.asarray(image.dataobj).astype(np.float32)
    data[3, 4, 5] = np.nan  # column 3, row 4, slice 5
    with pytest.raises(LabelImportError, match=r"slice 5 has NaN") as info:
        from_nifti(_fresh(phantom), phantom, nib.Nifti1Image(data, image.affine))
    assert "probability" not in str(info.value)
    data[3, 4, 5] = np.inf
    with pytest.raises(LabelImportError, match=r"slice 5 has infinite"):
        from_nifti(_fresh(phantom), phantom, nib.Nifti1Image(data, image.affine))


def test_legend_with_polygon_classes_says_how_to_proceed(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    """docs/export.md: a legend brings back the bitmask objects; polygon or box values cannot
    come back into their own class, and the error says what to do instead."""
    labels, masks = source
    labels.add_polygon("Lesion", 0, [(2.5, 2.5), (10.5, 2.5), (6.5, 9.5)])  # overlaps none
    path = tmp_path / "objects.nii.gz"
    _, legend = to_nifti(labels, phantom, path, by="object")
    assert [e.feature for e in legend] == ["liver", "liver", "spleen", "lesion"]
    with pytest.raises(LabelImportError) as info:
        from_nifti(_fresh(phantom), phantom, path, legend=legend)
    message = str(info.value)
    assert "legend[4]: 'Lesion' is a polygon class" in message
    assert "objects=" in message and "classes=" in message and "ignore_unlisted" in message
    # what the message proposes works
    classes = {e.value: e.feature for e in legend if e.feature != "lesion"}
    target = _fresh(phantom)
    uuids = from_nifti(target, phantom, path, classes=classes, ignore_unlisted=True)
    assert len(uuids) == 3
    for entry, uuid in zip(legend, uuids, strict=False):
        np.testing.assert_array_equal(target.get_mask(uuid), masks[entry.uuids[0]])


def test_object_names_travel_through_dicom_seg_and_the_legend(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    """A named object's name is its segment's TrackingID (``by="object"``) and comes back as
    the object's name; unnamed objects keep ``"object <n>"`` and come back unnamed."""
    labels, _ = source
    first, second = sorted(labels, key=lambda o: o.object_id)[:2]
    labels.update_object(first.uuid, name="Lesion A \\ segment IV")
    _, legend = _seg(labels, phantom, tmp_path / "named.dcm", by="object")
    by_uuid = {e.uuids[0]: e for e in legend}
    assert by_uuid[first.uuid].object_names == ("Lesion A \\ segment IV",)
    assert by_uuid[second.uuid].object_names == (None,)
    entries = {e["uuids"][0]: e for e in legend.to_dict()["entries"]}
    assert entries[first.uuid]["object_names"] == ["Lesion A \\ segment IV"]
    ds = pydicom.dcmread(tmp_path / "named.dcm")
    tracking = {str(item.TrackingUID): str(item.TrackingID) for item in ds.SegmentSequence}
    # TrackingID is UT: the name as it is, backslash included (QA 20: was cut to LO's 64
    # bytes, its backslash made "/"); a 200-character name comes back whole
    assert tracking[f"2.25.{int(first.uuid.replace('-', ''), 16)}"] == "Lesion A \\ segment IV"
    assert tracking[f"2.25.{int(second.uuid.replace('-', ''), 16)}"] == f"object {second.object_id}"
    target = _fresh(phantom)
    uuids = from_dicom_seg(target, phantom, tmp_path / "named.dcm")
    names = sorted((target.get(u).name or "") for u in uuids)
    assert names[-1] == "Lesion A \\ segment IV"
    assert names.count("") == len(uuids) - 1
    long_name = "x" * 150 + " \\ " + "y" * 47
    labels.update_object(first.uuid, name=long_name)
    _seg(labels, phantom, tmp_path / "long.dcm", by="object")
    again = _fresh(phantom)
    back = from_dicom_seg(again, phantom, tmp_path / "long.dcm")
    assert long_name in [again.get(u).name for u in back]


def test_seg_a_prediction_a_person_edited_is_semiautomatic(
    phantom: daw.Series, tmp_path: Path
) -> None:
    """Accepted as the model made it: AUTOMATIC. Once a person has painted on it, the segment
    is no longer the model's output alone: SEMIAUTOMATIC, still naming the model. Undo gives
    the model's output back, and AUTOMATIC with it."""
    masks = _masks()
    target = _model_spleen(phantom, tmp_path)
    target.accept()
    (obj,) = target.objects()
    k = obj.slices[0]

    def algorithm(name: str) -> tuple[str, str]:
        _seg(target, phantom, tmp_path / name)
        (segment,) = pydicom.dcmread(tmp_path / name).SegmentSequence
        algo = segment.SegmentationAlgorithmIdentificationSequence[0]
        return str(segment.SegmentAlgorithmType), str(algo.AlgorithmName)

    assert algorithm("accepted.dcm") == ("AUTOMATIC", "net-7")
    painted = masks["spleen"][k].copy()
    painted[0:3, 0:3] = True  # a person adds a few pixels
    target.set_keyframe(obj.uuid, k, painted)
    assert target.get(obj.uuid).edited
    assert algorithm("edited.dcm") == ("SEMIAUTOMATIC", "net-7")
    target.undo()
    assert not target.get(obj.uuid).edited
    assert algorithm("undone.dcm") == ("AUTOMATIC", "net-7")


def test_a_label_map_on_an_oblique_series_grid_with_tied_axes_imports() -> None:
    """QA 24b D4: for an orientation whose column and normal directions tie (equal |y| and
    |z|), two practically equal affines (DICOM positions rounded to 4 decimals) got other
    axes from nibabel's io_orientation, and an on-grid label map was refused as "shape
    differs" with equal shapes."""
    c = np.sqrt(0.5)
    lps = np.eye(4)
    lps[:3, 0] = [0.8, 0.0, 0.0]  # columns along x
    lps[:3, 1] = [0.0, 0.6 * c, 0.6 * c]  # rows: y and z alike
    lps[:3, 2] = [0.0, -2.5 * c, 2.5 * c]  # slices: y and z alike
    lps[:3, 3] = [30.0, 40.0, 100.0]
    series = open_series(np.zeros((12, 64, 80), np.int16), affine=lps)
    mask = np.zeros(series.shape, bool)
    mask[3:7, 10:30, 20:50] = True
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    ras[:3, 3] += 3.5e-5  # rounded positions...
    ras[1, 1] += 1e-6  # ... and directions: the tie goes the other way
    assert io_orientation(ras).tolist() != io_orientation(np.diag([-1.0, -1, 1, 1]) @ lps).tolist()
    image = nib.Nifti1Image(mask.transpose(2, 1, 0).astype(np.uint8), ras)
    target = Labels(series, Ontology.builder().object("Lesion", shape="bitmask").build())
    (uuid,) = from_nifti(target, series, image, classes={1: "Lesion"})
    np.testing.assert_array_equal(target.get_mask(uuid), mask)


def test_a_label_map_of_a_series_with_a_missing_slice(tmp_path: Path) -> None:
    """QA 24b D14: SimpleITK writes a label map of a series with a missing slice with one label
    slice per image, spaced by the mean step; it was refused as off-grid without a word of the
    gap, and no option imported it."""
    files = write_phantom_series(tmp_path / "s", n_slices=8, rows=16, columns=12)
    files[4].unlink()  # slice 4 missing: 7 images, a 2-slice gap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(tmp_path / "s")
    n = series.shape[0]
    positions = np.array([series.slice_dataset(k).ImagePositionPatient for k in range(n)], float)
    lps = series.affine.copy()
    lps[:3, 2] = (positions[-1] - positions[0]) / (n - 1)  # SimpleITK's mean step
    mask = np.zeros(series.shape, bool)
    mask[:, 4:9, 3:7] = True
    mask[5] = False
    image = nib.Nifti1Image(
        mask.transpose(2, 1, 0).astype(np.uint8), np.diag([-1.0, -1, 1, 1]) @ lps
    )
    target = Labels(series, Ontology.builder().object("Lesion", shape="bitmask").build())
    with pytest.raises(LabelImportError, match=r"the series' are not .*missing slices.*allow_irr"):
        from_nifti(target, series, image, classes={1: "Lesion"})
    with pytest.warns(daw.DicomAnnotWarning, match="slice k was placed on the series' slice k"):
        (uuid,) = from_nifti(
            target, series, image, classes={1: "Lesion"}, allow_irregular_slices=True
        )
    np.testing.assert_array_equal(target.get_mask(uuid), mask)
    # another in-plane grid is refused all the same
    shifted = np.diag([-1.0, -1, 1, 1]) @ lps
    shifted[:3, 3] += shifted[:3, 0]
    with pytest.raises(LabelImportError, match="not on the series' voxel grid"):
        from_nifti(
            target,
            series,
            nib.Nifti1Image(np.asarray(image.dataobj), shifted),
            classes={1: "Lesion"},
            allow_irregular_slices=True,
        )


def test_a_seg_whose_image_was_left_out_of_the_series_says_so(
    source: tuple[Labels, dict[str, np.ndarray]], phantom: daw.Series, tmp_path: Path
) -> None:
    """QA 24b D11: the SEG of a complete series, imported on the series opened without one of
    its files (skipped as damaged), was refused with "on no slice", not saying that the
    frame's image is not in the series."""
    import shutil

    labels, _ = source
    _seg(labels, phantom, tmp_path / "classes.dcm")
    folder = Path(phantom.source)
    partial = tmp_path / "partial"
    shutil.copytree(folder, partial)
    gone = sorted(partial.iterdir())[3]
    keep = {Path(f).name for f in phantom.slice_files if f}
    assert gone.name in keep
    gone.write_bytes(b"DICM but not really")  # damaged: skipped when opened
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smaller = open_series(partial)
    assert smaller.shape[0] == phantom.shape[0] - 1
    target = Labels(smaller, labels.ontology)
    with pytest.raises(LabelImportError, match=r"which is not in the series, while \d+ of its"):
        from_dicom_seg(target, smaller, tmp_path / "classes.dcm")
