"""The Python API (``w.labels``): drawing every shape, tracks, queries, classifications,
predictions, review mode, masks and the table export."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import Box, Labels, Ontology, ReadOnlyError
from dicom_annot_widget.labels.table import COLUMNS

SERIES = {"series_instance_uid": "1.2.3.4.5", "shape": [24, 40, 60]}  # slices, rows, columns


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "polygon")
        .radio("Phase", ["arterial", "venous"], dynamic=True)
        .checklist("Findings", ["cyst", "mass"])
        .object("Lesion", "bounding_box")
        .object("Vessel", "polyline")
        .object("Landmark", "point")
        .object("Pose", "primitive", nodes=["a", "b", "c"], edges=[["a", "b"], ["b", "c"]])
        .object("Tumour", "bitmask")
        .frame_radio("Quality", ["good", "bad"])
        .build()
    )


@pytest.fixture
def labels() -> Labels:
    return Labels(SERIES, ontology(), author="ana")


TRI = [(1, 1), (10, 1), (10, 10)]


def test_add_every_shape_and_read_it_back(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 3, TRI)
    lesion = labels.add_box("Lesion", 3, (20, 30, 5, 6))
    vessel = labels.add_polyline("Vessel", 4, [(0, 0), (3, 4)])
    point = labels.add_point("Landmark", 3, (7.25, 8.5))
    pose = labels.add_primitive("Pose", 3, [(1, 1), (2, 2), (3, 1)], edges=["visible", "invisible"])
    assert [o.object_id for o in labels] == [1, 2, 3, 4, 5]
    assert labels[lesion].keyframes[3].geometry == Box(5.0, 6.0, 20.0, 30.0)
    assert labels[liver].shape == "polygon" and labels[liver].author == "ana"
    assert labels[vessel].keyframes[4].geometry.length == 5.0
    assert labels[point].keyframes[3].geometry.vertices == ((7.25, 8.5),)
    assert labels[pose].keyframes[3].geometry.edges == ("visible", "invisible")
    assert labels.by_object_id(2).uuid == lesion
    assert [o.uuid for o in labels.objects_on_slice(3)] == [liver, lesion, point, pose]
    assert [o.uuid for o in labels.objects("Liver")] == [liver]
    assert labels.objects(source="manual", slice=4) == [labels[vessel]]
    assert labels.objects(plane="coronal") == []
    # answers can be given when drawing, by name; classes can be named by hotkey
    found = labels.add_polygon("Liver", 6, TRI, static={"Findings": ["cyst"]})
    assert labels[found].static == {"liver.findings": ("cyst",)}
    assert labels.objects("1") == [labels[liver], labels[found]]
    # a geometry object can be passed back in
    assert labels.add("Lesion", 5, labels[lesion].keyframes[3].geometry) != lesion


def test_a_shape_with_too_many_vertices_is_refused(labels: Labels) -> None:
    """QA 19b D9: a polygon of 1,000,000 vertices was taken (8 s) and made the page's
    labels_state 25 MB, sent again on every later edit. New shapes may have MAX_VERTICES; a
    label file read back is not held to it."""
    from dicom_annot_widget.labels.geometry import MAX_VERTICES

    n = MAX_VERTICES + 1
    # a star: every vertex distinct from the next after rounding to DECIMALS
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.where(np.arange(n) % 2, 15.0, 5.0)
    ring = np.stack([30 + r * np.cos(t), 20 + r * np.sin(t)], axis=1)
    liver = labels.add_polygon("Liver", 3, TRI)
    revision = labels.revision
    for add in (
        lambda: labels.add_polygon("Liver", 4, ring),
        lambda: labels.add_polyline("Vessel", 4, ring.tolist()),
        lambda: labels.set_keyframe(liver, 3, ring),
    ):
        with pytest.raises(LabelError, match=f"{n:,} vertices is more than the {MAX_VERTICES:,}"):
            add()
    assert labels.revision == revision and len(labels) == 1
    assert labels[liver].keyframes[3].geometry.vertices == tuple(
        (float(x), float(y)) for x, y in TRI
    )
    # at the limit: taken; and a document holding a longer one still opens
    ok = labels.add_polygon("Liver", 5, ring[:MAX_VERTICES])
    assert len(labels[ok].keyframes[5].geometry.vertices) == MAX_VERTICES
    doc = json.loads(labels.to_json())
    keyframe = next(o for o in doc["objects"] if o["uuid"] == ok)["keyframes"]["5"]
    keyframe["points"] = [*keyframe["points"], [59.0, 39.0]]
    again = Labels.from_json(json.dumps(doc))
    assert len(again[ok].keyframes[5].geometry.vertices) == MAX_VERTICES + 1


def test_wrong_arguments_to_masks_reads_and_deletes_are_refused(labels: Labels) -> None:
    """QA 20: set_mask_slice with an empty mask skipped every check (a (10, 10) or [] "mask"
    deleted a keyframe; slice 99 and "5" passed); dynamic() and frame_classifications_on_slice()
    answered "nothing" for any slice or plane; delete_objects("<uuid>") took the uuid's
    characters as uuids; interpolate's range was not held to the object's plane. Each now
    raises a LabelError naming the argument, and the labels stay as they were."""
    volume = np.zeros((24, 40, 60), bool)
    volume[3:6, 10:20, 10:20] = True
    tumour = labels.add_mask("Tumour", volume)
    liver = labels.add_polygon("Liver", 3, TRI)
    labels.add_polygon("Liver", 7, TRI, uuid=liver)
    labels.set_dynamic(liver, "Phase", "venous", 3, 7)
    revision = labels.revision
    refused = [
        (lambda: labels.set_mask_slice(tumour, 3, np.zeros((10, 10), bool)), "shape \\(10, 10\\)"),
        (lambda: labels.set_mask_slice(tumour, 4, []), "shape \\(0,\\)"),
        (lambda: labels.set_mask_slice(tumour, 99, np.zeros((40, 60), bool)), "slice 99"),
        (lambda: labels.set_mask_slice(tumour, "5", np.zeros((40, 60), bool)), "'5'"),
        (lambda: labels.dynamic(liver, "Phase", 99), "slice 99"),
        (lambda: labels.dynamic(liver, "Phase", -5), "slice -5"),
        (lambda: labels.frame_classifications_on_slice(99), "slice 99"),
        (lambda: labels.frame_classifications_on_slice("3"), "'3'"),
        (lambda: labels.frame_classifications_on_slice(3, plane="oblique"), "'oblique'"),
        (lambda: labels.interpolate(liver, start=30, end=40), "start\\): slice 30"),
        (lambda: labels.interpolate(liver, start=2, end=5000), "end\\): slice 5000"),
    ]
    for call, message in refused:
        with pytest.raises(LabelError, match=message):
            call()
    assert labels.revision == revision
    assert labels[tumour].slices == (3, 4, 5)
    assert labels.dynamic(liver, "Phase", 5) == "venous"
    # a sagittal object's range is its plane's (60 slices), not the axial one's (24)
    lesion = labels.add_box("Lesion", 40, (1, 1, 4, 4), plane="sagittal")
    labels.add_box("Lesion", 50, (1, 1, 4, 4), plane="sagittal", uuid=lesion)
    labels.interpolate(lesion, start=30, end=55)
    assert labels[lesion].slices == tuple(range(40, 51))
    # one uuid alone is one object, not its characters
    labels.delete_objects(tumour)
    assert tumour not in labels and liver in labels


def test_deleting_the_last_keyframe_deletes_the_object(labels: Labels) -> None:
    """QA 20: from Python an object whose last keyframe went stayed, empty, in the objects
    list, the statistics and the exports; the page and w.erase delete it. One undo brings it
    back with its keyframe."""
    box = labels.add_box("Lesion", 3, (1, 1, 6, 6))
    labels.add_box("Lesion", 5, (1, 1, 6, 6), uuid=box)
    labels.delete_keyframe(box, 5)
    assert labels[box].slices == (3,)
    labels.delete_keyframe(box, 3)
    assert box not in labels
    labels.undo()
    assert labels[box].slices == (3,)
    volume = np.zeros((24, 40, 60), bool)
    volume[4, 10:20, 10:20] = True
    tumour = labels.add_mask("Tumour", volume)
    labels.set_mask_slice(tumour, 4, np.zeros((40, 60), bool))
    assert tumour not in labels


def test_instantiate_existing_keeps_identity_and_copy_paste(labels: Labels) -> None:
    uid = labels.add_polygon("Liver", 3, TRI)
    assert labels.add_polygon("Liver", 7, [(2, 2), (9, 2), (9, 9)], uuid=uid) == uid
    labels.copy_keyframe(uid, 7, 8)
    obj = labels[uid]
    assert obj.slices == (3, 7, 8) and obj.object_id == 1 and len(labels) == 1
    assert obj.keyframes[8] == obj.keyframes[7]
    with pytest.raises(LabelError, match="already has a keyframe on slice 8"):
        labels.copy_keyframe(uid, 3, 8)
    labels.copy_keyframe(uid, 3, 8, overwrite=True)
    assert labels[uid].keyframes[8].geometry == labels[uid].keyframes[3].geometry
    with pytest.raises(LabelError, match="no keyframe on slice 5"):
        labels.copy_keyframe(uid, 5, 6)
    labels.delete_keyframe(uid, 3)
    assert labels[uid].slices == (7, 8)
    with pytest.raises(LabelError, match="is a 'liver', not a 'lesion'"):
        labels.add_box("Lesion", 4, (1, 1, 2, 2), uuid=uid)
    with pytest.raises(LabelError, match="object 1 is drawn in the axial plane, not coronal"):
        labels.add_polygon("Liver", 4, TRI, uuid=uid, plane="coronal")
    with pytest.raises(LabelError, match="confidence can only be given for a new object"):
        labels.add_polygon("Liver", 4, TRI, uuid=uid, confidence=0.2)


def test_wrong_shape_unknown_things_and_bad_input(labels: Labels) -> None:
    with pytest.raises(
        LabelError,
        match=r"'Liver' is a polygon class, not a bounding_box class; "
        r"use add_polygon\(\)",
    ):
        labels.add_box("Liver", 3, (1, 1, 2, 2))
    with pytest.raises(LabelError, match="unknown object class 'Kidney'"):
        labels.add_polygon("Kidney", 3, TRI)
    with pytest.raises(LabelError, match=r"slice: slice 24 is out of range"):
        labels.add_polygon("Liver", 24, TRI)
    with pytest.raises(LabelError, match=r"slice: slice 45 is out of range .*slices 0\.\.39\)"):
        labels.add_polygon("Liver", 45, TRI, plane="coronal")  # coronal slices are the 40 rows
    with pytest.raises(LabelError, match=r"polygon\[1\]\[0\]: nan is not a finite number"):
        labels.add_polygon("Liver", 3, [(1, 1), (math.nan, 2), (3, 3)])
    with pytest.raises(LabelError, match=r"box: \(1\.0, 1\.0\) lies outside|has zero area"):
        labels.add_box("Lesion", 3, (1, 1, 1, 9))
    with pytest.raises(LabelError, match="unknown object '0000'"):
        labels.delete_object("0000")
    with pytest.raises(TypeError, match="unknown keyword colour"):
        labels.update_object("x", colour="red")
    assert len(labels) == 0 and labels.revision == 0


HUGE = 10**400  # more than any float: float(HUGE) raises OverflowError


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda la, _: la.add_polygon("Liver", 3, [(HUGE, 1), (2, 3), (4, 1)]), r"\[0\]\[0\]"),
        (lambda la, _: la.add_box("Lesion", 3, (0, 0, HUGE, 3)), r"box\[2\]"),
        (lambda la, _: la.add_box("Lesion", 3, ((0, 0), (3, -HUGE))), r"box\[1\]\[1\]"),
        (lambda la, _: la.add_polyline("Vessel", 3, [(0, 0), (HUGE, 4)]), r"\[1\]\[0\]"),
        (lambda la, _: la.add_point("Landmark", 3, (1, HUGE)), r"point\[1\]"),
        (lambda la, _: la.add_primitive("Pose", 3, [(1, 1), (HUGE, 2), (3, 1)]), r"\['b'\]\[0\]"),
        (lambda la, _: la.add_measurement("distance", 1, [(0, 0), (HUGE, 4)]), r"points\[1\]\[0\]"),
        (lambda la, uid: la.update_object(uid, confidence=HUGE), r"confidence"),
        (
            lambda la, _: la.import_predictions(
                [{"feature": "Lesion", "slice": 7, "box": [1, 1, 5, 5], "confidence": HUGE}],
                source="model-a",
            ),
            r"confidence",
        ),
        (lambda la, _: la.add_polygon("Liver", 10**5000, TRI), r"slice"),
    ],
    ids=[
        "polygon",
        "box",
        "box-corners",
        "polyline",
        "point",
        "primitive",
        "measurement",
        "update-confidence",
        "prediction-confidence",
        "slice",
    ],
)
def test_huge_numbers_are_refused_as_out_of_range(
    labels: Labels, edit: Callable[[Labels, str], Any], where: str
) -> None:
    uid = labels.add_box("Lesion", 3, (1, 1, 5, 5))
    before = labels.to_json()
    with pytest.raises(LabelError, match=rf"{where}: .*\bis out of range\b"):
        edit(labels, uid)
    assert labels.to_json() == before


def test_load_json_with_a_huge_coordinate_leaves_the_labels_as_they_are(labels: Labels) -> None:
    labels.add_polygon("Liver", 3, TRI)
    data = json.loads(labels.to_json())
    data["objects"][0]["keyframes"]["3"]["points"][0][0] = 10**400
    before = labels.to_json()
    for load in (Labels.from_json, labels.load_json):
        with pytest.raises(LabelError, match=r'keyframes\["3"\]\.points\[0\]\[0\]: .*out of range'):
            load(json.dumps(data))
    assert labels.to_json() == before


def test_update_object_and_delete(labels: Labels) -> None:
    uid = labels.add_box("Lesion", 3, (1, 1, 5, 5))
    labels.update_object(uid, confidence=0.4, author="bo")
    assert labels[uid].confidence == 0.4 and labels[uid].author == "bo"
    labels.update_object(uid, source="model-x")
    assert labels[uid].pending and labels[uid].is_prediction
    labels.update_object(uid, source="manual")
    assert labels[uid].review is None
    other = labels.add_box("Lesion", 4, (1, 1, 5, 5))
    labels.delete_objects([uid, other])
    assert len(labels) == 0
    labels.undo()
    assert len(labels) == 2


def test_measurements(labels: Labels) -> None:
    m = labels.add_measurement("distance", 3, [(1, 1), (4, 5)], label="a")
    assert labels.measurements[0].points == ((1.0, 1.0), (4.0, 5.0))
    with pytest.raises(LabelError, match="an angle measurement needs 3 points, got 2"):
        labels.add_measurement("angle", 3, [(1, 1), (4, 5)])
    with pytest.raises(LabelError, match="kind: 'volume' is not one of"):
        labels.add_measurement("volume", 3, [(1, 1)])
    with pytest.raises(LabelError, match="an arm of the angle has no length"):
        labels.add_measurement("angle", 3, [(1, 1), (1, 1), (4, 5)])
    with pytest.raises(LabelError, match=r"has no area \(its corners are on a line\)"):
        labels.add_measurement("area", 3, [(1, 1), (2, 2), (3, 3)])
    with pytest.raises(LabelError, match="points: expected a list of \\(x, y\\) points, got 5"):
        labels.add_measurement("distance", 3, 5)
    with pytest.raises(LabelError, match="points: expected a list of"):
        labels.add_measurement("distance", 3, [1, 2])
    created = labels.measurements[0].created
    labels.set_measurement(m, points=[(2, 2), (8, 10)])  # (what dragging it in the page does)
    (moved,) = labels.measurements
    assert moved.uuid == m and moved.points == ((2.0, 2.0), (8.0, 10.0)) and moved.label == "a"
    assert moved.created == created  # the same measurement, in the same place in the order
    with pytest.raises(LabelError, match=r"^set_measurement\.label: expected a string"):
        labels.set_measurement(m, label=5)  # type: ignore[arg-type]
    labels.set_measurement(m, label="renamed")
    assert labels.measurements[0].label == "renamed"
    labels.undo()
    assert labels.measurements[0].label == "a"
    with pytest.raises(LabelError, match="unknown measurement"):
        labels.set_measurement("nope", label="x")
    with pytest.raises(LabelError, match="lies outside the image"):
        labels.set_measurement(m, points=[(2, 2), (800, 10)])
    assert labels.measurements[0].points == ((2.0, 2.0), (8.0, 10.0))  # unchanged
    labels.delete_measurement(m)
    assert labels.measurements == []


# ------------------------------------------------------------------ predictions

PREDICTIONS = [
    {"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "confidence": 0.9, "track": "t1"},
    {"feature": "Lesion", "slice": 4, "box": [1, 1, 6, 7], "confidence": 0.7, "track": "t1"},
    {"feature": "lesion", "slice": 9, "x0": 2, "y0": 2, "x1": 8, "y1": 8},
    {"feature": "Liver", "slice": 5, "points": [[1, 1], [9, 1], [9, 9]], "confidence": 0.5},
    {"feature": "Landmark", "slice": 5, "x": 3, "y": 4, "source": "other-model"},
]


def test_import_predictions_from_records_json_and_path(labels: Labels, tmp_path: Path) -> None:
    manual = labels.add_box("Lesion", 3, (1, 1, 2, 2))
    uids = labels.import_predictions(PREDICTIONS, source="model-a")
    assert len(uids) == 4  # the two t1 rows are one track
    track = labels[uids[0]]
    assert track.slices == (3, 4) and track.confidence == pytest.approx(0.8)
    assert track.source == "model-a" and track.pending
    assert labels[uids[3]].source == "other-model"
    assert labels.objects(pending=True) == [labels[u] for u in uids]
    assert labels.objects(pending=False) == [labels[manual]]
    labels.undo()  # one edit
    assert len(labels) == 1
    text = json.dumps({"predictions": PREDICTIONS})
    assert len(labels.import_predictions(text, source="m")) == 4
    path = tmp_path / "pred.json"
    path.write_text(json.dumps(PREDICTIONS))
    assert len(labels.import_predictions(path, source="m")) == 4


def test_import_predictions_from_a_dataframe(labels: Labels) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(PREDICTIONS)  # missing cells become NaN and count as absent
    assert len(labels.import_predictions(frame, source="df-model")) == 4


BAD_PREDICTIONS: list[tuple[Any, str]] = [
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6]}],
        r"predictions\[0\]\.source: missing",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "source": "manual"}],
        r"predictions\[0\]\.source: 'manual' is reserved",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "confidence": 2, "source": "m"}],
        r"predictions\[0\]\.confidence: 2\.0 is not between 0 and 1",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "points": [[1, 1]], "source": "m"}],
        r"predictions\[0\]: 'lesion' is a bounding_box class; its geometry needs box or x0\+x1",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "x": 1, "source": "m"}],
        r"predictions\[0\]: field 'x' does not apply to 'lesion'",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, math.inf], "source": "m"}],
        r"predictions\[0\]\.geometry\[3\]: inf is not a finite number",
    ),
    (
        [{"feature": "Lesion", "slice": 99, "box": [1, 1, 6, 6], "source": "m"}],
        r"predictions\[0\]\.slice: slice 99 is out of range",
    ),
    (
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "source": "m", "scor": 1}],
        r"predictions\[0\]: unknown field 'scor'",
    ),
    (
        [{"feature": "Kidney", "slice": 3, "box": [1, 1, 6, 6], "source": "m"}],
        r"predictions\[0\]\.feature: unknown object class 'Kidney'",
    ),
    (
        [
            {"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "source": "m", "track": 1},
            {"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "source": "m", "track": 1},
        ],
        r"predictions\[1\]\.slice: track 1 already has a keyframe on slice 3",
    ),
    ("not json", r"predictions: not valid JSON"),
    (42, r"predictions: expected a list of records"),
]


@pytest.mark.parametrize(("data", "message"), BAD_PREDICTIONS)
def test_bad_predictions_are_refused(labels: Labels, data: Any, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        labels.import_predictions(data)
    assert len(labels) == 0 and labels.revision == 0


def test_one_bad_prediction_imports_nothing(labels: Labels) -> None:
    good = {"feature": "Lesion", "slice": 1, "box": [1, 1, 6, 6]}
    bad = {"feature": "Lesion", "slice": 2, "box": [1, 1, 6, math.nan]}
    with pytest.raises(LabelError, match=r"predictions\[1\]\.geometry\[3\]: nan is not a finite"):
        labels.import_predictions([good, bad], source="m")
    assert len(labels) == 0 and labels.revision == 0


def test_accept_and_reject_one_a_class_or_all(labels: Labels) -> None:
    uids = labels.import_predictions(PREDICTIONS, source="model-a")
    manual = labels.add_box("Lesion", 3, (1, 1, 2, 2))
    # uids: the t1 lesion track, the slice-9 lesion, the liver, the other model's landmark
    assert labels.accept(uids[3]) == 1
    assert labels[uids[3]].review == "accepted" and labels[uids[3]].source == "other-model"
    with pytest.raises(LabelError, match="is not a pending prediction"):
        labels.accept(uids[3])
    with pytest.raises(LabelError, match="is not a pending prediction"):
        labels.reject(manual)
    assert labels.reject(feature="Lesion") == 2
    assert [o.uuid for o in labels.objects(pending=True)] == [uids[2]]
    labels.undo()
    assert len(labels.objects(pending=True)) == 3
    assert labels.accept() == 3  # all
    assert labels.objects(pending=True) == [] and labels.accept() == 0
    labels.undo()
    assert labels.reject(feature="Liver", source="model-a") == 1
    assert labels.reject() == 2
    assert {o.uuid for o in labels} == {uids[3], manual}


# ------------------------------------------------------------------ review mode

EDITS: list[Callable[[Labels, str], Any]] = [
    lambda lb, u: lb.add_polygon("Liver", 3, TRI),
    lambda lb, u: lb.add_box("Lesion", 3, (1, 1, 4, 4)),
    lambda lb, u: lb.set_keyframe(u, 4, TRI),
    lambda lb, u: lb.delete_keyframe(u, 3),
    lambda lb, u: lb.copy_keyframe(u, 3, 4),
    lambda lb, u: lb.update_object(u, confidence=0.1),
    lambda lb, u: lb.delete_object(u),
    lambda lb, u: lb.set_static(u, "Findings", ["cyst"]),
    lambda lb, u: lb.set_dynamic(u, "Phase", "venous", 1, 3),
    lambda lb, u: lb.clear_dynamic(u, "Phase"),
    lambda lb, u: lb.set_frame_classification("Quality", "good", 1),
    lambda lb, u: lb.clear_frame_classification("Quality"),
    lambda lb, u: lb.add_measurement("distance", 3, [(1, 1), (2, 2)]),
    lambda lb, u: lb.import_predictions(PREDICTIONS, source="m"),
    lambda lb, u: lb.accept(),
    lambda lb, u: lb.reject(),
    lambda lb, u: lb.load_json(lb.to_json()),
    lambda lb, u: lb.apply({"op": "delete_object", "uuid": u}),
    lambda lb, u: lb.undo(),
    lambda lb, u: lb.redo(),
]


@pytest.mark.parametrize("edit", EDITS)
def test_review_mode_refuses_every_edit(labels: Labels, edit: Callable[[Labels, str], Any]) -> None:
    uid = labels.add_polygon("Liver", 3, TRI)
    labels.import_predictions(PREDICTIONS[:1], source="m")
    labels.undo()
    labels.redo()
    labels.read_only = True
    before = labels.to_json()
    with pytest.raises(ReadOnlyError, match="read-only review mode"):
        edit(labels, uid)
    assert labels.to_json() == before
    # reading still works
    assert labels.objects_on_slice(3)[0].uuid == uid and labels.to_records()
    labels.read_only = False
    edit(labels, uid)


# ------------------------------------------------------------------ masks


def test_masks_in_every_plane(labels: Labels) -> None:
    volume = np.zeros((24, 40, 60), dtype=bool)
    volume[4:7, 10:20, 30:45] = True
    axial = labels.add_mask("Tumour", volume)
    assert labels[axial].slices == (4, 5, 6)
    assert np.array_equal(labels.get_mask(axial), volume)
    coronal = labels.add_mask("Tumour", volume, plane="coronal")
    assert labels[coronal].slices == tuple(range(10, 20))
    assert np.array_equal(labels.get_mask(coronal), volume)
    sagittal = labels.add_mask("Tumour", volume, plane="sagittal")
    assert labels[sagittal].slices == tuple(range(30, 45))
    assert np.array_equal(labels.get_mask(sagittal), volume)
    # paint one more slice, erase one
    extra = np.zeros((40, 60), dtype=np.uint8)
    extra[1:3, 1:4] = 1
    labels.set_mask_slice(axial, 10, extra)
    labels.set_mask_slice(axial, 4, np.zeros((40, 60)))
    assert labels[axial].slices == (5, 6, 10)
    assert labels.get_mask(axial)[10].sum() == 6
    single = labels.add_mask("Tumour", extra, slice=2)
    assert labels[single].slices == (2,)
    with pytest.raises(LabelError, match=r"shape \(2, 2, 2\) is not the volume's"):
        labels.add_mask("Tumour", np.ones((2, 2, 2)))
    with pytest.raises(LabelError, match="the mask is empty"):
        labels.add_mask("Tumour", np.zeros((24, 40, 60)))
    with pytest.raises(LabelError, match="is a polygon, not a bitmask"):
        labels.get_mask(labels.add_polygon("Liver", 3, TRI))


# ------------------------------------------------------------------ table export


def test_records_in_voxel_and_patient_coordinates(labels: Labels) -> None:
    # 0.5 mm columns, 0.8 mm rows, 2 mm slices, shifted origin (LPS)
    affine = np.array(
        [[0.5, 0, 0, -10.0], [0, 0.8, 0, 20.0], [0, 0, 2.0, 100.0], [0, 0, 0, 1]], dtype=float
    )
    liver = labels.add_polygon("Liver", 3, [(0, 0), (10, 0), (10, 10), (0, 10)])
    labels.set_dynamic(liver, "Phase", "venous", 3, 3)
    labels.add_polyline("Vessel", 5, [(0, 0), (3, 0), (3, 4)], plane="coronal")
    labels.add_mask("Tumour", np.pad(np.ones((2, 2, 2), bool), [(1, 21), (1, 37), (1, 57)]))
    rows = labels.to_records(affine)
    assert [r["shape"] for r in rows] == ["polygon", "polyline", "bitmask", "bitmask"]
    assert set(rows[0]) == set(COLUMNS)
    poly = rows[0]
    assert poly["points_voxel"][2] == (10.0, 10.0, 3.0)
    assert poly["points_mm"][2] == pytest.approx((-5.0, 28.0, 106.0))
    assert poly["area_px"] == 100.0 and poly["area_mm2"] == pytest.approx(100 * 0.5 * 0.8)
    assert poly["answers"] == {"liver.phase": "venous"}
    line = rows[1]  # coronal: u = column, v = slice, the object's slice is a row
    assert line["points_voxel"][2] == (3.0, 5.0, 4.0)
    assert line["length_px"] == 7.0
    assert line["length_mm"] == pytest.approx(3 * 0.5 + 4 * 2.0)
    assert rows[2]["area_px"] == 4 and rows[2]["area_mm2"] == pytest.approx(4 * 0.4)
    assert rows[2]["points_voxel"] is None
    plain = labels.to_records()
    assert plain[0]["points_mm"] is None and plain[0]["area_mm2"] is None
    labels.affine = affine
    assert labels.to_records()[0]["points_mm"] == poly["points_mm"]
    with pytest.raises(LabelError, match=r"affine: the last row must be \[0, 0, 0, 1\]"):
        labels.to_records(np.eye(4) * 2)
    with pytest.raises(LabelError, match=r"affine\[0\]: nan is not a finite number"):
        labels.to_records([[math.nan, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    with pytest.raises(LabelError, match=r"affine\[1\]: 100000000000\.\.\. \(an integer of 401"):
        labels.to_records([[1, 0, 0, 0], [0, 10**400, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


def test_to_dataframe_or_a_clear_import_error(
    labels: Labels, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels.add_box("Lesion", 3, (1, 1, 4, 4))
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    else:
        frame = labels.to_dataframe()
        assert list(frame.columns) == list(COLUMNS) and len(frame) == 1
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"to_dataframe\(\) needs pandas.*to_records\(\)"):
        labels.to_dataframe()


# ------------------------------------------------------------------ json


def test_from_json_load_json_and_save(labels: Labels, tmp_path: Path) -> None:
    uid = labels.add_polygon("Liver", 3, TRI)
    text = labels.to_json()
    copy = Labels.from_json(text)
    assert copy[uid] == labels[uid] and copy.to_json() == text
    other = Labels(SERIES, ontology())
    other.add_box("Lesion", 1, (1, 1, 3, 3))
    other.load_json(text)  # one undoable edit
    assert [o.uuid for o in other] == [uid]
    other.undo()
    assert [o.shape for o in other] == ["bounding_box"]
    wrong = Labels({"series_instance_uid": "9.9", "shape": [24, 40, 60]}, ontology())
    with pytest.raises(
        LabelError, match=r"the labels belong to series '1\.2\.3\.4\.5', not '9\.9'"
    ):
        wrong.load_json(text)
    saved = labels.save(tmp_path / "export.json")
    assert saved.read_text() == labels.to_json()
    with pytest.raises(LabelError, match="invalid JSON"):
        Labels.from_json(text[:-3])
    assert "objects=1" in repr(labels) and "1.2.3.4.5" in repr(labels)


def test_a_prediction_a_person_edits_is_marked_edited(labels: Labels, tmp_path: Path) -> None:
    """``edited``: a person drew or deleted a keyframe of a prediction, or changed its class.
    Interpolating it is no edit; undo restores the flag; it survives JSON and the durable
    file; objects people drew never carry it."""
    (box, liver) = labels.import_predictions(
        [
            {"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6], "track": "t"},
            {"feature": "Lesion", "slice": 9, "box": [3, 3, 8, 8], "track": "t"},
            {"feature": "Liver", "slice": 5, "points": [[1, 1], [9, 1], [9, 9]], "track": "l"},
            {"feature": "Liver", "slice": 6, "points": [[1, 1], [9, 1], [9, 9]], "track": "l"},
        ],
        source="net",
    )
    labels.accept()
    assert not labels[box].edited and "edited" not in labels[box].to_json()
    labels.interpolate(box)  # derived keyframes: still the model's shapes
    assert len(labels[box].slices) == 7 and not labels[box].edited
    labels.set_keyframe(box, 3, Box(1, 1, 7, 7))  # a person moves a corner
    assert labels[box].edited and labels[box].to_json()["edited"] is True
    assert {r["uuid"]: r["edited"] for r in labels.to_records()} == {box: True, liver: False}
    labels.undo()
    assert not labels[box].edited and labels[box].keyframes[3].geometry == Box(1, 1, 6, 6)
    labels.redo()
    assert labels[box].edited
    labels.delete_keyframe(liver, 5)
    assert labels[liver].edited
    labels.undo()
    assert not labels[liver].edited
    labels.update_object(liver, name="left lobe")  # a name is no edit of the model's output
    assert not labels[liver].edited
    labels.update_object(box, source="manual")  # no prediction any more: nothing to mark
    assert not labels[box].edited
    labels.undo()
    assert labels[box].edited
    # the flag survives the JSON document and the durable file
    again = Labels.from_json(labels.to_json())
    assert again[box].edited and not again[liver].edited
    durable = Labels.open(SERIES, ontology(), tmp_path / "l.json")
    durable.load_json(labels.to_json())
    durable.delete_keyframe(liver, 5)
    durable.close()
    reopened = Labels.open(SERIES, path=tmp_path / "l.json")
    assert reopened[box].edited and reopened[liver].edited
    reopened.close()
    # people's objects are never edited predictions
    drawn = labels.add_box("Lesion", 4, (1, 1, 2, 2))
    labels.set_keyframe(drawn, 4, Box(1, 1, 3, 3))
    assert not labels[drawn].edited
    with pytest.raises(LabelError, match=r"set_keyframe\.edited: only predictions"):
        labels.apply(
            {
                "op": "set_keyframe",
                "uuid": drawn,
                "slice": 4,
                "geometry": {"box": [1, 1, 3, 3]},
                "edited": True,
            }
        )


def test_a_new_class_for_a_prediction_marks_it_edited() -> None:
    onto = Ontology.builder().object("Lesion", "bounding_box").object("Cyst", "bounding_box")
    labels = Labels(SERIES, onto.build())
    (box,) = labels.import_predictions(
        [{"feature": "Lesion", "slice": 3, "box": [1, 1, 6, 6]}], source="net"
    )
    labels.update_object(box, feature="Cyst")  # the model said lesion; a person says cyst
    assert labels[box].edited
    labels.undo()
    assert not labels[box].edited and labels[box].feature == "lesion"  # (the class id)


def test_a_frame_answer_of_none_points_to_clearing(labels: Labels) -> None:
    """QA 24a observation: None was refused as "None is not an option of 'quality'", while
    set_static / set_dynamic clear on None; the method that clears is named now."""
    labels.set_frame_classification("Quality", "good", 1, 3)
    with pytest.raises(
        LabelError, match=r"use clear_frame_classification\('Quality', start, end\)"
    ):
        labels.set_frame_classification("Quality", None, 1, 3)
    labels.clear_frame_classification("Quality", 1, 3)
    assert labels.frame_classifications == []
