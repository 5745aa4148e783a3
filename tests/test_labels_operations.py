"""Operations and history: exact inverses, undo/redo, revisions, observers, stamping, replay,
strict parsing of the JSON forms the page sends, and classification range semantics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import LabelDocument, Labels, Ontology, operation_from_dict
from dicom_annot_widget.labels.history import History
from dicom_annot_widget.labels.operations import (
    Batch,
    CreateObject,
    DeleteKeyframe,
    SetDynamic,
    SetFrameClassification,
    SetKeyframe,
    SetStatic,
    UpdateObject,
)

SERIES = {"series_instance_uid": "1.2.3.4", "shape": [30, 40, 50]}


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "polygon")
        .radio(
            "Phase",
            [
                "arterial",
                {
                    "name": "venous",
                    "classifications": [
                        {"name": "Delay", "type": "radio", "options": ["early", "late"]}
                    ],
                },
            ],
            dynamic=True,
        )
        .radio(
            "Size",
            ["small", {"name": "large", "classifications": [{"name": "Diameter", "type": "text"}]}],
        )
        .checklist("Findings", ["cyst", "mass"])
        .object("Spleen", "polygon")
        .object("Lesion", "bounding_box")
        .frame_radio(
            "Quality",
            ["good", {"name": "bad", "classifications": [{"name": "Reason", "type": "text"}]}],
        )
        .build()
    )


TRI = [[1.0, 1.0], [10.0, 1.0], [10.0, 10.0]]


def labels_with_liver() -> tuple[Labels, str]:
    labels = Labels(SERIES, ontology(), author="ana")
    uid = labels.add_polygon("Liver", 5, TRI)
    return labels, uid


def edits(uid: str) -> list[dict[str, Any]]:
    """One JSON op of every kind, as the page would send them."""
    return [
        {"op": "set_keyframe", "uuid": uid, "slice": 6, "geometry": {"points": TRI}},
        {
            "op": "set_keyframe",
            "uuid": uid,
            "slice": 5,
            "geometry": {"points": [[2, 2], [9, 2], [9, 9]]},
        },
        {"op": "delete_keyframe", "uuid": uid, "slice": 5},
        {"op": "set_static", "uuid": uid, "classification": "Size", "answer": "large"},
        {
            "op": "set_static",
            "uuid": uid,
            "classification": "liver.size.large.diameter",
            "answer": "4 cm",
        },
        {"op": "set_static", "uuid": uid, "classification": "Size", "answer": "small"},
        {
            "op": "set_dynamic",
            "uuid": uid,
            "classification": "Phase",
            "answer": "venous",
            "start": 2,
            "end": 9,
        },
        {
            "op": "set_dynamic",
            "uuid": uid,
            "classification": "Delay",
            "answer": "late",
            "start": 3,
            "end": 4,
        },
        {"op": "update_object", "uuid": uid, "changes": {"feature": "Spleen", "confidence": 0.5}},
        {"op": "update_object", "uuid": uid, "changes": {"name": "  right lobe "}},
        {"op": "update_object", "uuid": uid, "changes": {"name": "left lobe"}},
        {
            "op": "create_object",
            "object": {"feature": "Lesion", "keyframes": {"3": {"box": [1, 1, 4, 4]}}},
        },
        {
            "op": "create_object",
            "object": {
                "feature": "Lesion",
                "name": "L2",
                "keyframes": {"4": {"box": [1, 1, 4, 4]}},
            },
        },
        {
            "op": "set_frame_classification",
            "classification": "Quality",
            "answers": {"Quality": "bad", "Reason": "motion"},
            "start": 3,
            "end": 8,
        },
        {
            "op": "set_frame_classification",
            "classification": "Quality",
            "answers": {"Quality": "good"},
            "start": 5,
            "end": 5,
        },
        {
            "op": "set_frame_classification",
            "classification": "quality",
            "answers": None,
            "start": 8,
            "end": 8,
        },
        {
            "op": "add_measurement",
            "measurement": {"kind": "angle", "slice": 2, "points": [[1, 1], [5, 5], [9, 1]]},
        },
        {"op": "delete_object", "uuid": uid},
    ]


def test_every_operation_undoes_and_redoes_exactly() -> None:
    labels, uid = labels_with_liver()
    states = [labels.to_json()]
    revisions = [labels.revision]
    for op in edits(uid):
        labels.apply(op)
        states.append(labels.to_json())
        revisions.append(labels.revision)
    assert revisions == list(range(1, len(states) + 1))

    def content(text: str) -> str:  # the document minus its revision counter
        return text.split('"series"', 1)[1]

    for i in range(len(states) - 1, 0, -1):
        assert labels.undo() is not None
        assert content(labels.to_json()) == content(states[i - 1])
    assert labels.undo() == revisions[-1] + len(edits(uid)) + 1  # undo of the first add_polygon
    assert len(labels) == 0
    assert not labels.can_undo and labels.undo() is None
    labels.redo()
    for i in range(1, len(states)):
        labels.redo()
        assert content(labels.to_json()) == content(states[i])
    assert labels.redo() is None
    # revisions kept increasing through undo and redo
    n = len(edits(uid))
    assert labels.revision == 1 + n + 2 * (n + 1)  # create, edits, then all undone and redone


def test_stamped_operations_replay_to_the_same_document() -> None:
    labels = Labels(SERIES, ontology(), author="ana")
    log: list[dict[str, Any]] = []
    labels.observe(lambda op, rev: log.append(op.to_dict()))
    uid = labels.add_polygon("Liver", 5, TRI)
    for op in edits(uid):
        labels.apply(op)
    labels.undo()
    labels.undo()
    labels.redo()
    # replaying the ops in their journal form on an empty document gives the same labels:
    # uuids, object ids, times and authors were stamped into them
    fresh = LabelDocument(labels.series, labels.ontology)
    for entry in log:
        operation_from_dict(entry).apply(fresh)
    assert fresh.same_content(labels.document)
    assert fresh.to_json().split('"series"')[1] == labels.to_json().split('"series"')[1]


def test_observers_get_the_stamped_op_and_revision() -> None:
    labels = Labels(SERIES, ontology(), author="bo")
    seen: list[tuple[str, int, dict[str, Any]]] = []

    @labels.observe
    def record(op: Any, revision: int) -> None:
        seen.append((op.kind, revision, op.to_dict()))

    uid = labels.add_box("Lesion", 3, (1, 1, 5, 6))
    assert seen[0][0] == "create_object" and seen[0][1] == 1
    created = seen[0][2]["object"]
    assert created["uuid"] == uid and created["object_id"] == 1 and created["author"] == "bo"
    assert created["keyframes"] == {"3": {"manual": True, "box": [1.0, 1.0, 5.0, 6.0]}}
    labels.undo()
    assert seen[-1][:2] == ("delete_object", 2)
    labels.unobserve(record)
    labels.redo()
    assert len(seen) == 2
    with pytest.raises(LabelError, match="is not observing"):
        labels.unobserve(record)


def test_a_failing_observer_warns_but_the_edit_stands() -> None:
    labels = Labels(SERIES, ontology())

    def broken(op: Any, revision: int) -> None:
        raise RuntimeError("boom")

    labels.observe(broken)
    with pytest.warns(RuntimeWarning, match="boom"):
        uid = labels.add_box("Lesion", 3, (1, 1, 5, 6))
    assert uid in labels and labels.revision == 1


BAD_OPS = [
    ({"op": "paint"}, r"operation\.op: unknown operation 'paint'"),
    ({"slice": 3}, r"operation\.op: unknown operation None"),
    ({"op": "set_keyframe", "uuid": "x", "slice": 3}, r"missing required field 'geometry'"),
    (
        {"op": "set_keyframe", "uuid": "x", "slice": 3, "geometry": {}, "colour": 1},
        r"operation: unknown field 'colour'",
    ),
    ({"op": "batch", "ops": [{"op": "nope"}]}, r"operation\.ops\[0\]\.op: unknown operation"),
    ("set_keyframe", r"operation: expected an object"),
]


@pytest.mark.parametrize(("data", "message"), BAD_OPS)
def test_operation_json_is_parsed_strictly(data: Any, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        operation_from_dict(data)


def test_refused_page_operations_leave_the_document_unchanged() -> None:
    labels, uid = labels_with_liver()
    before = labels.to_json()
    bad = [
        (
            {"op": "set_keyframe", "uuid": "0" * 36, "slice": 3, "geometry": {"points": TRI}},
            "set_keyframe.uuid: unknown object",
        ),
        (
            {"op": "set_keyframe", "uuid": uid, "slice": 30, "geometry": {"points": TRI}},
            r"set_keyframe\.slice: slice 30 is out of range \(the plane has slices 0\.\.29\)",
        ),
        (
            {
                "op": "set_keyframe",
                "uuid": uid,
                "slice": 3,
                "geometry": {"points": [[1, 1], [float("nan"), 2], [3, 3]]},
            },
            r"set_keyframe\.geometry\.points\[1\]\[0\]: nan is not a finite number",
        ),
        (
            {"op": "set_keyframe", "uuid": uid, "slice": 3, "geometry": {"box": [1, 1, 2, 2]}},
            r"set_keyframe\.geometry: missing required field 'points'",
        ),
        (
            {
                "op": "set_keyframe",
                "uuid": uid,
                "slice": 3,
                "geometry": {"points": [[1, 1], [2, 2]]},
            },
            "a polygon needs at least 3 distinct vertices",
        ),
        ({"op": "delete_keyframe", "uuid": uid, "slice": 9}, "object 1 has no keyframe on slice 9"),
        (
            {
                "op": "create_object",
                "object": {"feature": "Lesion", "keyframes": {"3": {"box": [1, 1, 1, 4]}}},
            },
            r'keyframes\["3"\]\.box: the box .* has zero area',
        ),
        ({"op": "create_object", "object": {"feature": "Kidney"}}, "unknown object class 'Kidney'"),
        (
            {"op": "update_object", "uuid": uid, "changes": {"feature": "Lesion"}},
            "'lesion' is a bounding_box class; this object is a polygon",
        ),
        (
            {"op": "update_object", "uuid": uid, "changes": {"colour": "red"}},
            r"update_object\.changes: unknown field 'colour'",
        ),
        (
            {"op": "update_object", "uuid": uid, "changes": {"review": "pending"}},
            "only predictions have a review state",
        ),
        (
            {"op": "update_object", "uuid": uid, "changes": {"name": "x" * 201}},
            r"update_object\.changes\.name: is 201 characters long, at most 200 allowed",
        ),
        (
            {"op": "update_object", "uuid": uid, "changes": {"name": 7}},
            r"update_object\.changes\.name: expected a string or null, got 7",
        ),
        (
            {"op": "update_object", "uuid": uid, "changes": {"name": "two\nlines"}},
            r"update_object\.changes\.name: contains the control character U\+000A",
        ),
        (  # what a UTF-16 length cut in the page makes of an emoji
            {"op": "update_object", "uuid": uid, "changes": {"name": "a\U0001f600\ud83d"}},
            r"update_object\.changes\.name: contains the lone surrogate U\+D83D at position 2",
        ),
        (
            {"op": "create_object", "object": {"feature": "Lesion", "name": ["a"]}},
            r"create_object\.object\.name: expected a string or null",
        ),
        (
            {"op": "set_static", "uuid": uid, "classification": "Phase", "answer": "venous"},
            "'liver.phase' is dynamic; use set_dynamic",
        ),
        (
            {"op": "set_static", "uuid": uid, "classification": "Diameter", "answer": "3"},
            "nested classification 'liver.size.large.diameter' needs option 'large'",
        ),
        (
            {
                "op": "set_dynamic",
                "uuid": uid,
                "classification": "Delay",
                "answer": "late",
                "start": 1,
                "end": 2,
            },
            "needs option 'venous' of 'liver.phase' on all of slices 1..2",
        ),
        (
            {
                "op": "set_dynamic",
                "uuid": uid,
                "classification": "Phase",
                "answer": "venous",
                "start": 4,
                "end": 2,
            },
            "range start 4 is after its end 2",
        ),
        (
            {
                "op": "set_frame_classification",
                "classification": "Quality",
                "answers": {"Reason": "x"},
                "start": 1,
                "end": 1,
            },
            "the answer to 'quality' itself",
        ),
        (
            {
                "op": "batch",
                "ops": [
                    {"op": "set_keyframe", "uuid": uid, "slice": 7, "geometry": {"points": TRI}},
                    {"op": "delete_object", "uuid": "nope"},
                ],
            },
            r"batch\.ops\[1\]: delete_object\.uuid",
        ),
    ]
    for op, message in bad:
        with pytest.raises(LabelError, match=message):
            labels.apply(op)
        assert labels.to_json() == before, op
    assert labels.revision == 1 and labels.document.objects[uid].slices == (5,)


def test_a_deeply_nested_value_is_refused_with_a_message() -> None:
    """QA: describing a value nested about a thousand deep overflowed the stack (repr), so the
    edit raised RecursionError and the page got no answer."""
    labels, uid = labels_with_liver()
    deep: Any = [1, 2]
    for _ in range(3000):
        deep = [deep]
    op = {"op": "set_keyframe", "uuid": uid, "slice": 3, "geometry": {"points": [deep] * 3}}
    with pytest.raises(LabelError, match=r"points\[0\]: expected \[x, y\], got \[\[\["):
        labels.apply(op)


def test_batch_rolls_back_when_a_later_op_fails_at_apply_time() -> None:
    labels, uid = labels_with_liver()
    doc = labels.document
    before = doc.to_json()
    batch = Batch(
        (
            SetKeyframe(uid, 8, {"points": TRI}, True, "2024-01-01T00:00:00.000Z"),
            DeleteKeyframe(uid, 5, "2024-01-01T00:00:00.000Z"),
            DeleteKeyframe(uid, 5, "2024-01-01T00:00:00.000Z"),  # already gone
        )
    )
    with pytest.raises(LabelError, match=r"batch\.ops\[2\]: .*no keyframe on slice 5"):
        batch.apply(doc)
    assert doc.to_json() == before


def test_dynamic_ranges_split_merge_and_prune_nested() -> None:
    labels, uid = labels_with_liver()
    labels.set_dynamic(uid, "Phase", "venous", 0, 20)
    labels.set_dynamic(uid, "Delay", "late", 2, 12)
    labels.set_dynamic(uid, "Phase", "arterial", 5, 7)  # splits venous, clips Delay
    obj = labels[uid]
    assert [(d.classification, d.answer, d.start, d.end) for d in obj.dynamic] == [
        ("liver.phase", "venous", 0, 4),
        ("liver.phase", "arterial", 5, 7),
        ("liver.phase", "venous", 8, 20),
        ("liver.phase.venous.delay", "late", 2, 4),
        ("liver.phase.venous.delay", "late", 8, 12),
    ]
    assert labels.dynamic(uid, "Phase", 6) == "arterial"
    assert labels.dynamic(uid, "Delay", 6) is None
    assert obj.answers_at(9) == {"liver.phase": "venous", "liver.phase.venous.delay": "late"}
    labels.set_dynamic(uid, "Phase", "venous", 5, 7)  # touching equal answers merge again
    assert [(d.start, d.end) for d in labels[uid].dynamic if d.classification == "liver.phase"] == [
        (0, 20)
    ]
    labels.clear_dynamic(uid, "Phase", 10, 30 - 1)
    assert [(d.classification, d.start, d.end) for d in labels[uid].dynamic] == [
        ("liver.phase", 0, 9),
        ("liver.phase.venous.delay", 2, 4),
        ("liver.phase.venous.delay", 8, 9),
    ]
    labels.clear_dynamic(uid, "Phase")
    assert labels[uid].dynamic == ()


def test_static_nested_answers_are_cleared_with_their_parent_option() -> None:
    labels, uid = labels_with_liver()
    labels.set_static(uid, "Size", "large")
    labels.set_static(uid, "Diameter", "4 cm")
    assert labels.static(uid) == {"liver.size": "large", "liver.size.large.diameter": "4 cm"}
    labels.set_static(uid, "Size", "small")
    assert labels.static(uid) == {"liver.size": "small"}
    labels.undo()
    assert labels.static(uid)["liver.size.large.diameter"] == "4 cm"
    labels.set_static(uid, "Findings", ["mass", "cyst"])
    assert labels.static(uid)["liver.findings"] == ("cyst", "mass")
    labels.set_static(uid, "Findings", [])  # empty = clear
    assert "liver.findings" not in labels.static(uid)
    with pytest.raises(LabelError, match=r"'liver\.findings' is not answered"):
        labels.clear_static(uid, "Findings")


def test_frame_classification_ranges() -> None:
    labels = Labels(SERIES, ontology())
    bad = labels.set_frame_classification("Quality", "bad", 3, 9, nested={"Reason": "motion"})
    good = labels.set_frame_classification("Quality", "good", 5)  # x: this frame only
    assert good != bad
    again = labels.set_frame_classification("Quality", "bad", 12, 14, nested={"Reason": "motion"})
    assert again == bad  # same answers: the instance gets another range
    fcs = {fc.uuid: fc for fc in labels.frame_classifications}
    assert fcs[bad].ranges == ((3, 4), (6, 9), (12, 14))
    assert fcs[good].ranges == ((5, 5),)
    assert labels.frame_classifications_on_slice(6) == {
        "quality": "bad",
        "quality.bad.reason": "motion",
    }
    assert labels.frame_classifications_on_slice(5) == {"quality": "good"}
    assert labels.frame_classifications_on_slice(10) == {}
    labels.clear_frame_classification("Quality", 5)
    assert {fc.uuid for fc in labels.frame_classifications} == {bad}
    labels.clear_frame_classification("Quality")
    assert labels.frame_classifications == []
    labels.undo()
    labels.undo()
    assert {fc.uuid for fc in labels.frame_classifications} == {bad, good}
    with pytest.raises(LabelError, match=r"set_frame_classification\.start: slice 40"):
        labels.set_frame_classification("Quality", "good", 40)


def test_history_limit_drops_the_oldest() -> None:
    labels = Labels(SERIES, ontology(), history_limit=3)
    for k in range(5):
        labels.add_box("Lesion", k, (1, 1, 3, 3))
    assert sum(1 for _ in iter(lambda: labels.undo(), None)) == 3
    assert len(labels) == 2
    with pytest.raises(ValueError, match="at least 1"):
        History(0)


def test_operation_objects_round_trip_through_json() -> None:
    ops = [
        SetKeyframe("u" * 36, 3, {"points": TRI}, False, "2024-01-01T00:00:00.000Z"),
        DeleteKeyframe("u" * 36, 3, None),
        SetStatic("u" * 36, "liver.size", "small", None),
        SetDynamic("u" * 36, "liver.phase", "venous", 1, 2, None),
        UpdateObject("u" * 36, {"confidence": 0.3}, None),
        CreateObject({"feature": "lesion"}),
        SetFrameClassification("quality", {"quality": "good"}, 1, 2),
        Batch((DeleteKeyframe("u" * 36, 3, None),), label="x"),
    ]
    for op in ops:
        assert operation_from_dict(op.to_dict()) == op
    assert Batch((CreateObject({"uuid": "a"}), SetKeyframe("b", 1, {})), "").object_uuids == (
        "a",
        "b",
    )


def test_renaming_an_object_is_one_undoable_edit_of_user_text() -> None:
    labels, uid = labels_with_liver()
    plain = labels.to_json()
    assert labels[uid].name is None
    assert "name" not in json.loads(plain)["objects"][0]  # unnamed: no field written
    seen: list[dict[str, Any]] = []
    labels.observe(lambda op, rev: seen.append(op.to_dict()))
    labels.apply({"op": "update_object", "uuid": uid, "changes": {"name": "  <b>Left</b> lobe  "}})
    assert labels[uid].name == "<b>Left</b> lobe"  # stripped, kept as text
    assert seen[-1]["changes"] == {"name": "<b>Left</b> lobe"}  # the stamped op is stripped
    assert labels.to_records()[0]["name"] == "<b>Left</b> lobe"
    assert "name='<b>Left</b> lobe'" in repr(labels[uid])
    # the name travels with the document, after the object id
    data = json.loads(labels.to_json())["objects"][0]
    assert list(data)[:3] == ["uuid", "object_id", "name"]
    again = Labels.from_json(labels.to_json())
    assert again[uid].name == "<b>Left</b> lobe"
    assert again.document.same_content(labels.document)
    labels.undo()
    assert (
        labels[uid].name is None
        and labels.to_json().split('"series"')[1] == plain.split('"series"')[1]
    )
    labels.redo()
    assert labels[uid].name == "<b>Left</b> lobe"
    # a blank name removes it; so does None through the Python API
    labels.update_object(uid, name="   ")
    assert labels[uid].name is None
    labels.update_object(uid, name="Segment IV")
    labels.update_object(uid, name=None)
    assert labels[uid].name is None
    labels.undo()
    assert labels[uid].name == "Segment IV"
    # a document whose name is malformed is refused with the path
    bad = json.loads(labels.to_json())
    bad["objects"][0]["name"] = 12
    with pytest.raises(LabelError, match=r"objects\[0\]\.name: expected a string or null"):
        Labels.from_json(json.dumps(bad))


def test_history_keeps_its_bytes_within_its_budget() -> None:
    """QA 23b D1: each bitmask edit keeps its slice's run-length text before and after; 300
    strokes on a speckled 2048 x 2048 mask held 2.4 GB of history. The oldest edits go
    beyond the budget, the newest stays undoable, and undo / redo keep the count right."""
    ont = Ontology.builder().object("Lesion", shape="bitmask").build()
    series = {"series_instance_uid": "1.2.3.4", "shape": [4, 256, 256]}
    budget = 2_000_000
    labels = Labels(series, ont, history_bytes=budget)
    rng = np.random.default_rng(0)
    masks = [rng.random((256, 256)) < 0.5 for _ in range(30)]  # speckle: long run texts
    uuid = labels.add_mask("Lesion", masks[0], slice=1)
    for mask in masks[1:]:
        labels.set_mask_slice(uuid, 1, mask)
    history = labels._history
    one = history.last.nbytes if history.last is not None else 0
    assert one > 200_000  # each edit holds two run texts of this speckle
    assert history.nbytes <= budget
    assert 1 < history.undo_depth < 30
    depth = history.undo_depth
    for i in range(depth):  # the edits kept undo exactly, newest first
        labels.undo()
        assert np.array_equal(labels.get_mask(uuid)[1], masks[-2 - i])
    assert labels.undo() is None
    assert history.nbytes <= budget
    for _ in range(depth):
        labels.redo()
    assert np.array_equal(labels.get_mask(uuid)[1], masks[-1])
    assert history.nbytes == sum(e.nbytes for e in history._undo)
    # an entry bigger than the budget alone is still kept: the last edit can be undone
    small = Labels(series, ont, history_bytes=1000)
    u = small.add_mask("Lesion", masks[0], slice=1)
    small.set_mask_slice(u, 1, masks[1])
    assert small._history.undo_depth == 1
    small.undo()
    assert np.array_equal(small.get_mask(u)[1], masks[0])
    with pytest.raises(ValueError, match="max_bytes must be at least 1"):
        History(10, 0)
