"""The widget as a label editor (Python side): the synced ``labels_state`` and the page's
``edit`` / ``undo`` / ``redo`` messages, driven directly with the JSON the page sends."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.errors import LabelError, ProtocolError, WidgetValueError
from dicom_annot_widget.labels import Labels, Mask, Ontology
from dicom_annot_widget.widget.annotator import compact_labels_state
from dicom_annot_widget.widget.protocol import Edit, Redo, Undo, parse_page_message

Sent = list[tuple[Any, list[Any]]]

SHAPE = (6, 16, 20)  # slices, rows, columns


def _ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Lesion", "bounding_box")
        .object("Liver", "polygon")
        .object("Tumour", "bitmask")
        .build()
    )


def _series() -> Any:
    rng = np.random.default_rng(0)
    volume = rng.integers(-1000, 2000, size=SHAPE, dtype=np.int16)
    return open_series(volume, spacing=(2.0, 0.5, 0.7))


def _capture(w: DicomAnnotator) -> Sent:
    """Messages the widget sends the page, but the ``labels_patch`` echo of each change
    (what the labels became is checked in ``w.labels_state``; test_widget_labels.py tests the
    patches themselves)."""
    sent: Sent = []

    def send(content: dict[str, Any], buffers: Any = None) -> None:
        if content.get("type") != "labels_patch":
            sent.append((content, buffers or []))

    w.send = send  # type: ignore[method-assign]
    return sent


@pytest.fixture
def widget() -> tuple[DicomAnnotator, Sent]:
    w = DicomAnnotator(_series(), ontology=_ontology())
    return w, _capture(w)


def _box_edit(request: int, box: list[Any], feature: str = "lesion", k: int = 2) -> dict[str, Any]:
    return {
        "type": "edit",
        "series": "s0",
        "request": request,
        "op": {
            "op": "create_object",
            "object": {"feature": feature, "keyframes": {str(k): {"box": box}}},
        },
    }


def _messages(sent: Sent) -> list[dict[str, Any]]:
    return [m for m, _ in sent]


def test_without_ontology_the_widget_is_a_viewer_with_empty_labels() -> None:
    w = DicomAnnotator(_series())
    assert w.labels_state == {
        "revision": 0,
        "ontology": None,
        "objects": [],
        "frame_classifications": [],
        "measurements": [],
        "read_only": False,
        "can_undo": False,
        "can_redo": False,
    }
    assert isinstance(w.labels, Labels) and w.labels.path is None


def test_ontology_is_synced_in_labels_state(widget: Any) -> None:
    w, _ = widget
    state = w.labels_state
    assert set(state) == {
        "revision",
        "ontology",
        "objects",
        "frame_classifications",
        "measurements",
        "read_only",
        "can_undo",
        "can_redo",
    }
    assert [c["id"] for c in state["ontology"]["objects"]] == ["lesion", "liver", "tumour"]
    assert state["ontology"] == _ontology().to_dict()
    # an ontology given as a dict works the same
    w2 = DicomAnnotator(_series(), ontology=_ontology().to_dict())
    assert w2.labels_state["ontology"] == state["ontology"]


def test_edit_creates_a_box_and_is_acknowledged(widget: Any) -> None:
    w, sent = widget
    w._on_page_message(w, _box_edit(7, [3, 4, 12.5, 9]), [])
    assert _messages(sent) == [{"type": "edit_ack", "request": 7, "revision": 1}]
    state = w.labels_state
    assert state["revision"] == 1
    [obj] = state["objects"]
    assert obj["feature"] == "lesion" and obj["shape"] == "bounding_box"
    assert obj["keyframes"] == {"2": {"manual": True, "box": [3.0, 4.0, 12.5, 9.0]}}
    # exactly the object of the dicom-annot/1 document
    assert obj == w.labels.to_dict()["objects"][0]
    assert json.loads(json.dumps(state)) == state


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        (
            {
                "op": "create_object",
                "object": {
                    "feature": "lesion",
                    "keyframes": {"2": {"box": [float("nan"), 1, 5, 5]}},
                },
            },
            "nan is not a finite number",
        ),
        (  # JSON.stringify turns NaN into null
            {
                "op": "set_keyframe",
                "uuid": "UUID",
                "slice": 3,
                "geometry": {"box": [None, 1, 5, 5]},
                "manual": True,
            },
            "box[0]",
        ),
        (
            {
                "op": "create_object",
                "object": {"feature": "kidney", "keyframes": {"2": {"box": [1, 1, 5, 5]}}},
            },
            "kidney",
        ),
        (
            {
                "op": "create_object",
                "object": {"feature": "liver", "keyframes": {"2": {"points": [[1, 1], [5, 5]]}}},
            },
            "at least 3 distinct vertices, got 2",
        ),
        ({"op": "delete_object", "uuid": "3f1c1d6e-0000-4000-8000-000000000000"}, "unknown object"),
        ({"op": "explode"}, "unknown operation 'explode'"),
        ({"op": "delete_object"}, "uuid"),
    ],
)
def test_refused_edits_answer_an_error_and_change_nothing(
    widget: Any, op: dict[str, Any], reason: str
) -> None:
    w, sent = widget
    w._on_page_message(w, _box_edit(1, [1, 1, 5, 5]), [])
    before = json.dumps(w.labels_state, sort_keys=True)
    doc_before = w.labels.to_json()
    sent.clear()
    if op.get("uuid") == "UUID":
        op = {**op, "uuid": w.labels_state["objects"][0]["uuid"]}
    resent: list[Any] = []
    w.send_state = lambda key=None: resent.append(key)  # type: ignore[method-assign]
    w._on_page_message(w, {"type": "edit", "series": "s0", "request": 2, "op": op}, [])
    assert resent == ["labels_state"]  # for a page that showed the edit optimistically
    [msg] = _messages(sent)
    assert msg["type"] == "error" and msg["request"] == 2
    assert reason in msg["message"], msg["message"]
    assert json.dumps(w.labels_state, sort_keys=True) == before
    assert w.labels.to_json() == doc_before


@pytest.mark.parametrize(
    ("content", "reason", "answer_request"),
    [
        ({"type": "edit", "series": "s0", "op": {"op": "delete_object"}}, "'request'", None),
        ({"type": "edit", "series": "s0", "request": 1.5, "op": {}}, "request must be", None),
        ({"type": "edit", "series": "s0", "request": -1, "op": {}}, "request must be in", None),
        ({"type": "edit", "series": "s0", "request": 3, "op": [1]}, "'op' must be", 3),
        ({"type": "edit", "series": "s0", "request": 3, "op": {"uuid": "x"}}, "op.op", 3),
        ({"type": "edit", "series": "s9", "request": 4, "op": {"op": "x"}}, "'s9'", 4),
        ({"type": "undo", "series": "nope"}, "undo: series 'nope'", None),
    ],
)
def test_malformed_label_messages_are_refused(
    widget: Any, content: dict[str, Any], reason: str, answer_request: int | None
) -> None:
    w, sent = widget
    before = dict(w.labels_state)
    w._on_page_message(w, content, [])
    [msg] = _messages(sent)
    assert msg["type"] == "error" and reason in msg["message"], msg
    assert msg.get("request") == answer_request
    if content["type"] == "edit":
        assert "request" in msg  # the page can always match an edit's error to it
    assert w.labels_state == before and w.labels.revision == 0


def test_parse_edit_undo_redo() -> None:
    op = {"op": "delete_object", "uuid": "u"}
    assert parse_page_message(
        {"type": "edit", "series": "s0", "request": 5, "op": op}, series_id="s0", n_slices=3
    ) == Edit(series="s0", request=5, op=op)
    assert parse_page_message({"type": "undo", "series": "s0"}, series_id="s0", n_slices=3) == Undo(
        "s0"
    )
    assert parse_page_message(
        {"type": "redo", "series": "s0", "request": 2}, series_id="s0", n_slices=3
    ) == Redo("s0", 2)
    with pytest.raises(ProtocolError, match="request"):
        parse_page_message({"type": "edit", "series": "s0", "op": op}, series_id="s0", n_slices=3)


def test_undo_and_redo_through_messages(widget: Any) -> None:
    w, sent = widget
    w._on_page_message(w, {"type": "undo", "series": "s0"}, [])
    assert _messages(sent) == [
        {"type": "error", "message": "undo: nothing to undo", "notice": True}
    ]
    sent.clear()
    w._on_page_message(w, _box_edit(1, [1, 1, 5, 5]), [])
    created = w.labels_state["objects"]
    assert len(created) == 1
    # the page's buttons follow the history's ends
    assert (w.labels_state["can_undo"], w.labels_state["can_redo"]) == (True, False)
    w._on_page_message(w, {"type": "undo", "series": "s0"}, [])
    assert w.labels_state["objects"] == [] and w.labels_state["revision"] == 2
    assert (w.labels_state["can_undo"], w.labels_state["can_redo"]) == (False, True)
    w._on_page_message(w, {"type": "redo", "series": "s0", "request": 9}, [])
    assert w.labels_state["objects"] == created and w.labels_state["revision"] == 3
    assert (w.labels_state["can_undo"], w.labels_state["can_redo"]) == (True, False)
    assert _messages(sent)[-1] == {"type": "edit_ack", "request": 9, "revision": 3}
    sent.clear()
    w._on_page_message(w, {"type": "redo", "series": "s0", "request": 10}, [])
    assert _messages(sent) == [
        {"type": "error", "message": "redo: nothing to redo", "notice": True, "request": 10}
    ]
    assert w.labels_state["revision"] == 3


def test_scripted_edits_show_up_in_labels_state(widget: Any) -> None:
    w, sent = widget
    seen: list[int] = []
    w.observe(lambda ch: seen.append(ch["new"]["revision"]), names=["labels_state"])
    u = w.labels.add_box("Lesion", 4, (2, 3, 8, 9))
    assert [o["uuid"] for o in w.labels_state["objects"]] == [u]
    assert w.labels_state["revision"] == 1 and seen == [1]
    w.labels.undo()
    assert w.labels_state["objects"] == [] and seen == [1, 2]
    assert sent == []  # the state trait is the echo; no extra messages


def test_labels_state_reuses_unchanged_objects_and_equals_a_fresh_build(widget: Any) -> None:
    """Each edit rebuilds only the objects it changed; the state is still exactly what building
    it from scratch gives, after creations, keyframe edits, masks, deletions and undo."""
    w, _ = widget
    a = w.labels.add_box("Lesion", 1, (2, 3, 8, 9))
    b = w.labels.add_polygon("Liver", 2, [(1, 1), (10, 2), (5, 9)])
    mask = np.zeros(SHAPE, dtype=bool)
    mask[3, 2:6, 2:6] = True
    c = w.labels.add_mask("Tumour", mask)
    before = {o["uuid"]: o for o in w.labels_state["objects"]}
    w.labels.set_keyframe(b, 3, {"points": [[2, 2], [11, 3], [6, 10]]})
    after = {o["uuid"]: o for o in w.labels_state["objects"]}
    assert after[a] is before[a] and after[c] is before[c]  # untouched: reused
    assert after[b] is not before[b] and set(after[b]["keyframes"]) == {"2", "3"}
    mask[4, 1:3, 1:3] = True
    w.labels.set_mask_slice(c, 4, mask[4])
    w.labels.delete_object(a)
    w.labels.undo()
    w.labels.undo()
    fresh = compact_labels_state(w.labels)
    assert w.labels_state == fresh
    assert [o["uuid"] for o in w.labels_state["objects"]] == [a, b, c]
    [summary] = w.labels_state["objects"][2]["keyframes"].values()
    assert list(w.labels_state["objects"][2]["keyframes"]) == ["3"]
    assert summary["manual"] is True and summary["mask_area"] == 16


def test_masks_are_summarised_not_synced(widget: Any) -> None:
    w, _ = widget
    mask = np.zeros(SHAPE, dtype=bool)
    mask[2, 3:8, 4:10] = True
    u = w.labels.add_mask("Tumour", mask)
    [obj] = w.labels_state["objects"]
    assert obj["uuid"] == u
    rle = w.labels[u].keyframes[2].geometry
    assert isinstance(rle, Mask)
    # the area, and a checksum of the content (the page asks for a slice's masks again only
    # when it changes): never the run-length text
    assert obj["keyframes"] == {
        "2": {"manual": True, "mask_area": 30, "mask_crc": zlib.crc32(rle.rle.encode())}
    }
    assert rle.rle not in json.dumps(w.labels_state)
    assert w.labels.to_dict()["objects"][0]["keyframes"]["2"]["mask"] == rle.rle
    mask[2, 3, 4] = False
    w.labels.set_mask_slice(u, 2, mask[2])
    [obj] = w.labels_state["objects"]
    assert obj["keyframes"]["2"]["mask_crc"] != zlib.crc32(rle.rle.encode())


def test_read_only_labels_refuse_page_edits(widget: Any) -> None:
    w, sent = widget
    w.read_only = True
    assert w.labels.read_only and w.labels_state["read_only"] is True
    w._on_page_message(w, _box_edit(3, [1, 1, 5, 5]), [])
    [msg] = _messages(sent)
    assert msg["type"] == "error" and msg["request"] == 3 and "read-only" in msg["message"]
    assert w.labels_state["objects"] == [] and w.labels.revision == 0
    sent.clear()
    w._on_page_message(w, {"type": "undo", "series": "s0"}, [])
    assert "read-only" in _messages(sent)[0]["message"]
    # set on the labels directly: the page is told at once (QA: turning it off on the labels
    # left the page in review mode)
    w.read_only = False
    assert w.labels_state["read_only"] is False
    w.labels.read_only = True
    assert w.labels_state["read_only"] is True
    w._on_page_message(w, _box_edit(4, [1, 1, 5, 5]), [])
    assert w.labels_state["read_only"] is True
    w.labels.read_only = False
    assert w.labels_state["read_only"] is False


def test_two_widgets_do_not_share_labels() -> None:
    series = _series()
    a = DicomAnnotator(series, ontology=_ontology())
    b = DicomAnnotator(series, ontology=_ontology())
    _capture(a)
    _capture(b)
    assert a.labels is not b.labels
    a._on_page_message(a, _box_edit(1, [1, 1, 5, 5]), [])
    assert len(a.labels_state["objects"]) == 1
    assert b.labels_state["objects"] == [] and len(b.labels) == 0


def test_existing_labels_are_shown_and_edited(widget: Any) -> None:
    series = _series()
    labels = Labels(series, _ontology())
    u = labels.add_box("Lesion", 1, (1, 1, 4, 4))
    w = DicomAnnotator(series, labels=labels)
    sent = _capture(w)
    assert w.labels is labels
    assert [o["uuid"] for o in w.labels_state["objects"]] == [u]
    w._on_page_message(
        w,
        {"type": "edit", "series": "s0", "request": 1, "op": {"op": "delete_object", "uuid": u}},
        [],
    )
    assert _messages(sent) == [{"type": "edit_ack", "request": 1, "revision": 2}]
    assert len(labels) == 0 and w.labels_state["objects"] == []
    w.close()
    labels.add_box("Lesion", 1, (1, 1, 4, 4))  # the caller's labels stay open
    assert w.labels_state["objects"] == []  # and the closed widget no longer listens
    assert labels._observers == []


def test_bad_arguments_are_refused() -> None:
    series = _series()
    wrong = Labels({"series_instance_uid": "1.2.3", "shape": [6, 16, 21]}, _ontology())
    with pytest.raises(LabelError, match="shape"):
        DicomAnnotator(series, labels=wrong)
    with pytest.raises(TypeError, match="either labels"):
        DicomAnnotator(series, labels=Labels(series, _ontology()), ontology=_ontology())
    with pytest.raises(TypeError, match="Labels object"):
        DicomAnnotator(series, labels={"objects": []})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ontology must be"):
        DicomAnnotator(series, ontology=42)  # type: ignore[arg-type]


def test_label_path_makes_edits_durable(tmp_path: Path) -> None:
    series = _series()
    path = tmp_path / "labels.json"
    w = DicomAnnotator(series, ontology=_ontology(), label_path=path)
    _capture(w)
    assert w.labels.path == path
    w._on_page_message(w, _box_edit(1, [1, 1, 5, 5]), [])
    uid = w.labels_state["objects"][0]["uuid"]
    w.close()  # closes the label file it opened
    # the message names the argument (QA: it said "crosshair slice")
    with pytest.raises(Exception, match=r"^slice=99: expected an axial slice number in \[0, \d+\]"):
        DicomAnnotator(series, label_path=path, slice=99)  # refused before the file opens
    for bad in (True, "3", 2.5, -1):
        with pytest.raises(Exception, match=rf"^slice={bad!r}: expected an axial slice number"):
            DicomAnnotator(series, label_path=path, slice=bad)
    # a ValueError as well as a TraitError and the package's own (QA: `except ValueError`
    # missed it), with a huge number cut short
    with pytest.raises(ValueError, match=r"slice=100000000000\.\.\. \(an integer of 309 digits\)"):
        DicomAnnotator(series, label_path=path, slice=10**308)
    again = DicomAnnotator(series, label_path=path)
    assert [o["uuid"] for o in again.labels_state["objects"]] == [uid]
    assert again.labels_state["ontology"] == _ontology().to_dict()
    again.close()


def test_rerunning_the_cell_takes_the_label_file_over(tmp_path: Path) -> None:
    """QA 21b D3: re-running ``w = DicomAnnotator(series, ontology=..., label_path=...)``
    while the previous widget (still bound to ``w``) holds the file failed with "is open in
    another session". The new widget takes the file over with every label (boxes, a mask);
    the old widget's edits are then refused with a message saying so."""
    series = _series()
    path = tmp_path / "labels.json"
    old = DicomAnnotator(series, ontology=_ontology(), label_path=path)
    old_sent = _capture(old)
    old._on_page_message(old, _box_edit(1, [1, 1, 5, 5]), [])  # drawn in the page
    box = old.labels_state["objects"][0]["uuid"]
    polygon = old.labels.add_polygon("Liver", 3, [(2, 2), (9, 2), (9, 8)])
    with pytest.raises(WidgetValueError, match="slice=99"):  # a re-run that fails...
        DicomAnnotator(series, ontology=_ontology(), label_path=path, slice=99)
    mask = np.zeros(SHAPE, dtype=bool)  # ...leaves the file with the old widget
    mask[2, 4:9, 5:11] = True
    mask[3, 6:8, 6:12] = True
    tumour = old.labels.add_mask("Tumour", mask)
    old_text, old_revision = old.labels.to_json(), old.labels.revision

    new = DicomAnnotator(series, ontology=_ontology(), label_path=path)  # the re-run
    _capture(new)
    assert new.labels.to_json() == old_text and new.labels.revision == old_revision
    assert {o["uuid"] for o in new.labels_state["objects"]} == {box, polygon, tumour}
    assert np.array_equal(new.labels.get_mask(tumour), mask)

    taken = rf"label file {re.escape(str(path))} was taken over by a newer Labels"
    with pytest.raises(LabelError, match=taken):
        old.labels.add_box("Lesion", 4, (1, 1, 5, 5))
    old._on_page_message(old, _box_edit(2, [2, 2, 6, 6]), [])  # the old page's edit
    error = _messages(old_sent)[-1]
    assert error["type"] == "error" and error["request"] == 2
    assert re.search(taken, error["message"])
    assert old.labels.to_json() == old_text  # nothing half-applied

    old.close()  # must not close (or unlock) the new widget's file
    new.labels.add_box("Lesion", 5, (1, 1, 5, 5))
    new.close()
    with Labels.open(series, None, path, idle_snapshot=None) as reopened:
        assert len(reopened) == 4 and reopened.revision == old_revision + 1
        assert np.array_equal(reopened.get_mask(tumour), mask)


def test_page_cannot_overwrite_labels_state(widget: Any) -> None:
    w, _sent = widget
    w.labels.add_box("Lesion", 4, (2, 3, 8, 9))
    before = dict(w.labels_state)
    w.set_state({"labels_state": {"revision": 99, "objects": [], "ontology": None}})
    assert w.labels_state == before


def test_each_series_has_its_own_labels() -> None:
    w = DicomAnnotator([_series(), _series()], ontology=_ontology())
    sent = _capture(w)
    w._on_page_message(w, _box_edit(1, [1, 1, 5, 5]), [])
    first = w.labels
    w.series_index = 1
    assert w.labels is not first and w.labels_state["objects"] == []
    w._on_page_message(w, _box_edit(2, [1, 1, 5, 5], k=0).copy() | {"series": "s0"}, [])
    assert _messages(sent)[-1]["type"] == "error"  # not silently dropped
    assert len(first) == 1
    w.series_index = 0
    assert len(w.labels_state["objects"]) == 1
    first.add_box("Lesion", 3, (1, 1, 4, 4))
    assert len(w.labels_state["objects"]) == 2  # scripted edits of the series shown
    w.series_index = 1
    first.add_box("Lesion", 4, (1, 1, 4, 4))  # labels of a series not shown: no echo
    assert w.labels_state["objects"] == []


def test_hold_labels_sends_the_labels_once_at_the_end(widget: Any) -> None:
    """A script's many edits inside ``hold_labels`` reach the page as one labels_state."""
    w, _ = widget
    syncs: list[int] = []
    w.observe(lambda change: syncs.append(change["new"]["revision"]), names="labels_state")
    with w.hold_labels() as labels:
        uuid = labels.add_box("lesion", 0, [1, 1, 5, 5])
        with w.hold_labels():  # nested: still held
            for k in (1, 2):
                labels.add_box("lesion", k, [1, 1, 5 + k, 5], uuid=uuid)
        assert syncs == []
        assert labels.revision == 3  # the edits themselves are applied at once
    assert syncs == [3]
    assert len(w.labels_state["objects"]) == 1
    w.labels.undo()  # undoable one by one, as usual
    assert syncs == [3, 4] and sorted(w.labels.get(uuid).keyframes) == [0, 1]
    with w.hold_labels():
        pass
    assert syncs == [3, 4]  # nothing changed: nothing sent


def test_a_hold_in_another_thread_does_not_hold_the_pages_edits(widget: Any) -> None:
    """QA 22a D6: a script thread inside ``hold_labels`` held every echo, the page's own
    edits too: a reviewer's accept showed nothing until the script's block ended (4.6 s),
    and a second click decided it again. The hold is the thread's own."""
    import threading

    w, _ = widget
    syncs: list[int] = []
    w.observe(lambda change: syncs.append(change["new"]["revision"]), names="labels_state")
    inside, release = threading.Event(), threading.Event()

    def script() -> None:
        with w.hold_labels() as labels:
            labels.add_box("lesion", 0, [1, 1, 5, 5])
            inside.set()
            release.wait(10)
            labels.add_box("lesion", 1, [1, 1, 5, 5])

    thread = threading.Thread(target=script)
    thread.start()
    assert inside.wait(10)
    assert syncs == []  # the script's edit waits for its block
    # an edit from the page meanwhile (the kernel's main thread) is echoed at once
    w._on_page_message(w, _box_edit(7, [2, 2, 9, 9], k=3), [])
    assert syncs == [2] and len(w.labels_state["objects"]) == 2
    release.set()
    thread.join(10)
    assert syncs == [2, 3] and len(w.labels_state["objects"]) == 3


# -- the echo as patches --------------------------------------------------------------------


def _comm_log(monkeypatch: pytest.MonkeyPatch) -> tuple[DicomAnnotator, list[tuple[str, Any]]]:
    """A widget whose comm messages to the page (with their buffers) are recorded."""
    import comm
    from comm.base_comm import BaseComm

    log: list[tuple[str, Any]] = []

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kw: Any) -> None:
            if data and "state" in data and "series_info" in data.get("state", {}):
                self.ours = True
            if getattr(self, "ours", False):
                log.append((msg_type, {**data, "buffers": list(kw.get("buffers") or [])}))

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    w = DicomAnnotator(_series(), ontology=_ontology())
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])  # a view is there
    del log[:]
    return w, log


def _sent(log: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """(kind, payload) of what went to the page: ("state", keys) or (type, decoded patch)."""
    out: list[tuple[str, Any]] = []
    for _, data in log:
        if data["method"] == "update":
            keys = set(data["state"]) | {path[0] for path in data.get("buffer_paths", [])}
            if keys == {"labels_state"} and data["buffers"]:
                value = json.loads(bytes(data["buffers"][0]))
                if set(value) == {"kept"}:  # the marker that follows a whole state
                    out.append(("kept", value["kept"]))
                    continue
            out.append(("state", sorted(keys)))
        else:
            content = data["content"]
            body = content["type"]
            if body == "labels_patch":
                out.append((body, json.loads(bytes(data["buffers"][0]))))
            else:
                out.append((body, content))
    return out


def test_an_edit_among_many_objects_goes_to_the_page_as_a_patch_of_that_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA: each edit sent the whole labels_state again (4 MB with 5,000 objects). The page now
    gets the objects that changed; Python's labels_state stays whole (observers see it)."""
    w, log = _comm_log(monkeypatch)
    with w.hold_labels():
        made = [w.labels.add_box("Lesion", k % 6, (1, 1, 5 + k % 9, 6)) for k in range(300)]
    assert [k for k, _ in _sent(log)] == ["labels_patch"]  # 300 new objects, one patch
    seen: list[int] = []
    w.observe(lambda change: seen.append(change["new"]["revision"]), names="labels_state")
    del log[:]
    w.labels.add_box("Lesion", 2, (2, 2, 9, 9), uuid=made[7])  # one object changes
    ((kind, patch),) = _sent(log)
    assert kind == "labels_patch"
    assert patch["base"] == w.labels.revision - 1 and patch["revision"] == w.labels.revision
    assert [o["uuid"] for o in patch["upsert"]] == [made[7]] and patch["remove"] == []
    assert "frame_classifications" not in patch and "measurements" not in patch  # unchanged
    assert seen == [w.labels.revision] and len(w.labels_state["objects"]) == 300
    full = len(json.dumps(w.labels_state))
    assert len(json.dumps(patch)) * 50 < full  # kilobytes, not the document
    del log[:]
    w.labels.delete_object(made[0])
    ((kind, patch),) = _sent(log)
    assert patch["remove"] == [made[0]] and patch["upsert"] == []


def test_measurements_go_to_the_page_in_the_state_and_in_patches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measurements added from Python reach the page (which draws them): in labels_state, and
    in a patch when they change (all of them: there are few)."""
    w, log = _comm_log(monkeypatch)
    uuid = w.labels.add_measurement("distance", 2, [(1, 1), (4, 5)], label="<b>d1</b>")
    ((kind, patch),) = _sent(log)
    assert kind == "labels_patch" and patch["upsert"] == [] and patch["remove"] == []
    [m] = patch["measurements"]
    assert m["uuid"] == uuid and m["points"] == [[1, 1], [4, 5]] and m["label"] == "<b>d1</b>"
    assert w.labels_state["measurements"] == [m]
    del log[:]
    w.labels.add_box("Lesion", 1, (1, 1, 5, 5))
    ((kind, patch),) = _sent(log)
    assert "measurements" not in patch  # unchanged: left out
    del log[:]
    w.labels.delete_measurement(uuid)
    ((kind, patch),) = _sent(log)
    assert patch["measurements"] == [] and w.labels_state["measurements"] == []


@pytest.mark.parametrize(
    ("measurement", "reason"),
    [
        ({"kind": "distance", "slice": 2, "points": [[1, 1]]}, "needs 2 points, got 1"),
        ({"kind": "ruler", "slice": 2, "points": [[1, 1], [2, 2]]}, "'ruler' is not one of"),
        ({"kind": "distance", "slice": -1, "points": [[1, 1], [2, 2]]}, "slice"),
        ({"kind": "distance", "slice": 2, "points": [[1, 1], [1e9, 2]]}, "outside the image"),
        ({"kind": "area", "slice": 2, "points": [[1, 1], [2, 2], [3, 3]]}, "has no area"),
        ({"kind": "distance", "slice": 2, "points": [[1, 1], [2, 2]], "label": 7}, "label"),
    ],
)
def test_malformed_measurements_from_the_page_are_refused(
    widget: Any, measurement: dict[str, Any], reason: str
) -> None:
    """A measurement edit the labels refuse: an error naming the field and why, for the
    request; nothing changes."""
    w, sent = widget
    op = {"op": "add_measurement", "measurement": {"plane": "axial", **measurement}}
    w._on_page_message(w, {"type": "edit", "series": "s0", "request": 9, "op": op}, [])
    [msg] = _messages(sent)
    assert msg["type"] == "error" and msg["request"] == 9
    assert "add_measurement.measurement" in msg["message"] and reason in msg["message"]
    assert w.labels.measurements == [] and w.labels.revision == 0
    assert w.labels_state["measurements"] == []


def test_a_large_change_and_a_page_that_asks_get_the_whole_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dicom_annot_widget.widget import annotator

    w, log = _comm_log(monkeypatch)
    monkeypatch.setattr(annotator, "PATCH_MAX_OBJECTS", 2)
    w.labels.add_box("Lesion", 1, (1, 1, 5, 5))  # from no objects: a patch of one
    assert [k for k, _ in _sent(log)] == ["labels_patch"]
    del log[:]
    with w.hold_labels():
        for k in range(3):
            w.labels.add_box("Lesion", k, (1, 1, 6, 6))
    # more than 2 changed: whole (then the marker that takes its place in the page's model)
    assert _sent(log) == [("state", ["labels_state"]), ("kept", w._whole_labels_sent)]
    # a page whose patch did not fit asks for the whole state
    del log[:]
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])
    assert _sent(log) == [("state", ["labels_state"]), ("kept", w._whole_labels_sent)]
    with pytest.raises(ProtocolError, match="get_labels: unknown series 's9'"):
        parse_page_message({"type": "get_labels", "series": "s9"}, series_id="s0", n_slices=6)


def test_edits_before_any_view_asked_update_the_synced_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Edits made before the widget is shown (in the cell that makes it) reach no view as
    patches: until a view has asked for the labels, each change updates the synced trait, so
    the view made later starts from it (QA of the patches: a Lab test saw no objects)."""
    import comm
    from comm.base_comm import BaseComm

    log: list[str] = []

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kw: Any) -> None:
            if data and data.get("method") == "update":
                log.extend(data["state"])
                log.extend(path[0] for path in data.get("buffer_paths", []))
            elif data and data.get("method") == "custom":
                log.append(data["content"]["type"])

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    w = DicomAnnotator(_series(), ontology=_ontology())
    del log[:]
    w.labels.add_box("Lesion", 1, (1, 1, 5, 5))
    assert log == ["labels_state"]
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])
    del log[:]
    w.labels.add_box("Lesion", 2, (1, 1, 5, 5))
    assert log == ["labels_patch"]


def test_a_whole_state_in_the_pages_model_is_replaced_by_a_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA 22a D2: the views follow the labels by patches the page's model never sees, and
    JupyterLab saves the model's values in the notebook: the saved notebook held the labels
    as they were when first sent (604 predictions to review, long after they had been
    accepted or rejected). Each whole state sent to views that asked is followed by a marker
    naming it, which takes its place in the page's model; Python's labels_state is whole."""
    w, log = _comm_log(monkeypatch)  # a view has asked
    w.labels.add_box("Lesion", 1, (1, 1, 5, 5))
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])
    (_, whole), (_, marker) = log[-2:]
    sent = json.loads(bytes(whole["buffers"][0]))
    assert len(sent["objects"]) == 1 and sent["sent"] == w._whole_labels_sent
    assert marker["state"] == {} and marker["buffer_paths"] == [["labels_state"]]
    assert json.loads(bytes(marker["buffers"][0])) == {"kept": sent["sent"]}
    assert len(w.labels_state["objects"]) == 1  # Python keeps the document
    # a series switched to, a refused edit: a whole state, then its marker
    del log[:]
    w._on_page_message(w, {"type": "edit", "series": "s0", "request": 3, "op": {"op": "x"}}, [])
    assert [k for k, _ in _sent(log)][-2:] == ["state", "kept"]
    # before any view asked (the cell that makes the widget), no marker: a view made later
    # starts from the whole state in the model
    w2 = DicomAnnotator(_series(), ontology=_ontology())
    del log[:]
    w2.labels.add_box("Lesion", 1, (1, 1, 5, 5))
    assert [k for k, _ in _sent(log)] == ["state"]


def test_each_whole_state_sent_reads_as_new_to_the_page() -> None:
    """The page keeps the last whole state and patches its copy; its model ignores a value
    equal to the one it holds, so equal whole states (an empty series switched to, an answer
    to get_labels) must differ on the wire (QA: a switch kept the labels of the series
    before). Python's labels_state is unchanged by it."""
    from dicom_annot_widget.widget.annotator import _labels_state_to_json

    w = DicomAnnotator(_series(), ontology=_ontology())
    first, second = (json.loads(bytes(_labels_state_to_json(w.labels_state, w))) for _ in "ab")
    assert first["sent"] != second["sent"]
    assert {k: v for k, v in first.items() if k != "sent"} == json.loads(json.dumps(w.labels_state))
    assert "sent" not in w.labels_state


def test_selection_hidden_objects_tool_and_class_from_python(
    widget: tuple[DicomAnnotator, Sent],
) -> None:
    """QA 20 D9: what the page's objects panel and tool bar choose has a Python equivalent:
    ``selected``, ``hidden``, ``tool`` and ``active_class`` (synced both ways). Wrong values
    from Python are refused naming them; a uuid the page names that has gone meanwhile is
    dropped, not refused; objects that go leave both."""
    w, sent = widget
    box = w.labels.add_box("Lesion", 2, (1, 1, 6, 6))
    liver = w.labels.add_polygon("Liver", 3, [(1, 1), (9, 1), (9, 9)])
    assert (w.selected, w.hidden, w.tool, w.active_class) == (None, [], "select", None)
    assert w.mask_opacity == 0.5
    w.mask_opacity = 0.8
    w.selected = box
    w.hidden = [liver, liver]
    assert w.selected == box and w.hidden == [liver]
    w.hidden = [box]  # hiding the selected object unselects it, as in the page
    assert w.selected is None
    # a drawing tool brings a class of its shape; a class brings its tool
    w.tool = "brush"
    assert w.active_class == "tumour"
    w.active_class = "Liver"  # a name (or hotkey) is taken: the id is kept
    assert (w.tool, w.active_class) == ("polygon", "liver")
    w.tool = "eraser"
    assert w.active_class == "tumour"
    w.tool = "measure"  # no class needed: the class stays
    assert w.active_class == "tumour"
    for name, value, message in (
        ("selected", "no-such-uuid", "selected: no object 'no-such-uuid'"),
        ("hidden", [box, "x"], "hidden: no object 'x'"),
        ("tool", "pen", "tool must be one of select, box, polygon"),
        ("active_class", "Kidney", "active_class: no object class 'Kidney'"),
        ("mask_opacity", 1.5, "mask_opacity must be in \\[0, 1\\], got 1.5"),
        ("mask_opacity", float("nan"), "mask_opacity must be in"),
    ):
        before = getattr(w, name)
        with pytest.raises(WidgetValueError, match=message):
            setattr(w, name, value)
        assert getattr(w, name) == before
    # from the page: a uuid deleted meanwhile is dropped, with no error to the page
    w.set_state({"selected": "gone", "hidden": [box, "gone"]})
    assert w.selected is None and w.hidden == [box]
    assert not [c for c, _ in sent if c.get("type") == "error"]
    # objects that go leave both
    w.selected = liver
    w.labels.delete_object(liver)
    w.labels.delete_object(box)
    assert w.selected is None and w.hidden == []
    # review mode: no drawing tool
    w.tool = "select"
    w.read_only = True
    with pytest.raises(WidgetValueError, match="read-only"):
        w.tool = "box"


def test_another_series_leaves_selection_and_hidden_objects_behind() -> None:
    """``selected`` and ``hidden`` name objects of the labels shown: switching to another
    series (its own labels) empties both, and coming back does not bring back uuids that the
    page no longer lists."""
    w = DicomAnnotator([_series(), _series()], ontology=_ontology())
    box = w.labels.add_box("Lesion", 2, (1, 1, 6, 6))
    liver = w.labels.add_polygon("Liver", 3, [(1, 1), (9, 1), (9, 9)])
    w.selected, w.hidden = box, [liver]
    first = w.labels
    w.series_index = 1
    assert w.labels is not first and w.labels.objects() == []
    assert w.selected is None and w.hidden == []
    with pytest.raises(WidgetValueError, match=f"selected: no object '{box}'"):
        w.selected = box  # another series' object is not one of these labels
    other = w.labels.add_box("Lesion", 1, (2, 2, 5, 5))
    w.selected = other
    w.series_index = 0
    assert w.labels is first and w.selected is None and w.hidden == []
    w.selected, w.hidden = liver, [box]
    assert (w.selected, w.hidden) == (liver, [box])


def test_a_tool_without_a_class_of_its_shape_is_refused() -> None:
    w = DicomAnnotator(_series(), ontology=Ontology.builder().object("Liver", "polygon").build())
    with pytest.raises(WidgetValueError, match="tool 'box' draws bounding_box objects"):
        w.tool = "box"
    w.tool = "polygon"
    assert w.active_class == "liver"


def test_a_nifti_widget_finds_its_label_file_in_the_next_session(tmp_path: Path) -> None:
    """QA 24b D10: after a kernel restart the same cell refused its own label file ("belongs
    to series ...": a NIfTI got a new UID on every open)."""
    import nibabel as nib

    data = np.random.default_rng(1).integers(-100, 100, size=(16, 12, 6), dtype=np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(tmp_path / "ct.nii.gz"))
    path = tmp_path / "ct.labels.json"
    w = DicomAnnotator(tmp_path / "ct.nii.gz", ontology=_ontology(), label_path=path)
    _capture(w)
    w._on_page_message(w, _box_edit(1, [1, 1, 5, 5]), [])
    uid = w.labels_state["objects"][0]["uuid"]
    w.close()
    again = DicomAnnotator(tmp_path / "ct.nii.gz", ontology=_ontology(), label_path=path)
    assert [o["uuid"] for o in again.labels_state["objects"]] == [uid]
    again.close()


def test_interpolate_names_the_objects_own_plane_in_its_errors() -> None:
    """QA 24a observation: w.interpolate(u, start=-3) said "its largest plane has 48 slices"
    for a 20-slice series, and w.interpolate(u, 3.5) raised a TypeError where the labels raise
    a LabelError; labels.interpolate(None, 0, 99) passed silently without objects."""
    onto = Ontology.builder().object("Lesion", "bounding_box").build()
    w = DicomAnnotator(open_series(np.zeros((20, 48, 40), np.int16)), ontology=onto)
    with pytest.raises(LabelError, match=r"out of range \(no plane of the series has more"):
        w.interpolate(None, 0, 99)
    u = w.labels.add_box("lesion", 2, (1, 1, 5, 5))
    w.labels.add_box("lesion", 8, (1, 1, 5, 5), uuid=u)
    with pytest.raises(LabelError, match=r"drawn on the axial plane \(slices 0\.\.19\)"):
        w.interpolate(u, 0, 30)
    with pytest.raises(LabelError, match=r"interpolate\(start\): expected an integer, got 3.5"):
        w.interpolate(u, 3.5)
    assert w.interpolate(u, 0, 19) == w.labels.revision
