"""Bitmask painting, ``masks`` patches, interpolation and auto-segmentation through the widget,
driven directly with the JSON the page sends (parsed by ``widget/protocol.py``)."""

from __future__ import annotations

import json
import math
import uuid as uuid_module
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.errors import (
    DicomAnnotWarning,
    LabelError,
    ProtocolError,
    WidgetValueError,
)
from dicom_annot_widget.kernels.brush import apply_stroke, stroke_mask, threshold_brush
from dicom_annot_widget.kernels.contours import mask_to_polygons, polygons_to_mask
from dicom_annot_widget.labels import Labels, Ontology
from dicom_annot_widget.widget.masks import mask_crc, mask_to_ring, paint
from dicom_annot_widget.widget.protocol import (
    GetMasks,
    Interpolate,
    Paint,
    parse_page_message,
    parse_strokes,
)

Sent = list[tuple[Any, list[Any]]]

SHAPE = (6, 40, 48)  # slices, rows, columns


def _ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Lesion", "bounding_box")
        .object("Liver", "polygon")
        .object("Tumour", "bitmask")
        .object("Vessel", "bitmask")
        .frame_radio("Phase", ["arterial", "venous"])
        .build()
    )


def _volume() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(-200, 300, size=SHAPE, dtype=np.int16)


def _capture(w: DicomAnnotator) -> Sent:
    """Messages the widget sends the page, but the ``labels_patch`` echo of each change
    (what the labels became is checked in ``w.labels_state``; test_widget_labels.py tests the
    patches themselves)."""
    sent: Sent = []

    def send(content: dict[str, Any], buffers: Any = None) -> None:
        if content.get("type") != "labels_patch":
            sent.append((content, list(buffers or [])))

    w.send = send  # type: ignore[method-assign]
    return sent


@pytest.fixture
def widget() -> tuple[DicomAnnotator, Sent]:
    w = DicomAnnotator(open_series(_volume()), ontology=_ontology())
    return w, _capture(w)


def _new_uuid() -> str:
    return str(uuid_module.uuid4())


def _paint(
    request: int, uuid: str, k: int, strokes: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "type": "paint",
        "series": "s0",
        "request": request,
        "uuid": uuid,
        "slice": k,
        "strokes": strokes,
        **extra,
    }


def _decode(item: dict[str, Any], buffer: Any) -> np.ndarray:
    """The bits of one ``masks`` item, as the page decodes them."""
    if item["box"] is None:
        assert len(bytes(buffer)) == 0
        return np.zeros((0, 0), dtype=bool)
    x0, y0, x1, y1 = item["box"]
    h, w = y1 - y0, x1 - x0
    raw = np.frombuffer(bytes(buffer), dtype=np.uint8)
    assert raw.size == math.ceil(h * w / 8)
    return np.unpackbits(raw, count=h * w).reshape(h, w).astype(bool)


def _slice_mask(w: DicomAnnotator, uuid: str, k: int) -> np.ndarray:
    return w.labels.get_mask(uuid)[k]


STROKE = {"tool": "brush", "radius": 3.5, "points": [[10, 12], [18.3, 15.2], [25, 14]]}


# -- paint -----------------------------------------------------------------------------------


def test_paint_creates_a_bitmask_object_equal_to_the_kernel(widget: Any) -> None:
    w, sent = widget
    u = _new_uuid()
    w._on_page_message(w, _paint(7, u, 2, [STROKE], feature="tumour"), [])
    expected = stroke_mask(STROKE["points"], 3.5, SHAPE[1:])
    assert np.array_equal(_slice_mask(w, u, 2), expected)
    assert w.labels.revision == 1 and w.labels.get(u).shape == "bitmask"
    # masks patch first, then the acknowledgement
    (masks_msg, buffers), (ack, _) = sent
    assert ack == {"type": "edit_ack", "request": 7, "revision": 1}
    assert masks_msg["type"] == "masks" and masks_msg["series"] == "s0"
    assert masks_msg["slice"] == 2 and masks_msg["revision"] == 1
    [item] = masks_msg["items"]
    assert item["uuid"] == u and item["full"] is False and item["area"] == expected.sum()
    x0, y0, x1, y1 = item["box"]
    assert np.array_equal(_decode(item, buffers[0]), expected[y0:y1, x0:x1])
    # the box is the changed region: nothing changed outside it
    outside = expected.copy()
    outside[y0:y1, x0:x1] = False
    assert not outside.any()
    # summarised, never synced as pixels
    [obj] = w.labels_state["objects"]
    crc = mask_crc(w.labels.get(u).keyframes[2].geometry)
    assert obj["keyframes"]["2"] == {
        "manual": True,
        "mask_area": int(expected.sum()),
        "mask_crc": crc,
    }
    assert item["crc"] == crc  # the patch says what the slice's mask is after it


def test_strokes_apply_in_order_as_one_undoable_edit(widget: Any) -> None:
    w, sent = widget
    image = w.series.get_slice(3)
    u = w.labels.add_mask("tumour", np.pad(np.ones((6, 6), bool), ((5, 29), (5, 37))), slice=3)
    before = _slice_mask(w, u, 3).copy()
    strokes = [
        {"tool": "brush", "radius": 4, "points": [[20, 20], [30, 22]]},
        {"tool": "eraser", "radius": 2.2, "points": [[24, 21]]},
        {"tool": "threshold", "radius": 6, "points": [[35, 30], [40, 33]], "range": [0, 120]},
        {"tool": "eraser", "radius": 1.5, "points": [[7, 7], [9, 8]]},
    ]
    w._on_page_message(w, _paint(1, u, 3, strokes), [])
    expected, _ = apply_stroke(before, stroke_mask([[20, 20], [30, 22]], 4, SHAPE[1:]))
    expected, _ = apply_stroke(expected, stroke_mask([[24, 21]], 2.2, SHAPE[1:]), "erase")
    thr = threshold_brush(image, [[35, 30], [40, 33]], 6, 0, 120)
    expected, _ = apply_stroke(expected, thr)
    expected, _ = apply_stroke(expected, stroke_mask([[7, 7], [9, 8]], 1.5, SHAPE[1:]), "erase")
    after = _slice_mask(w, u, 3)
    assert np.array_equal(after, expected)
    assert w.labels.revision == 2  # add_mask, then ONE paint
    # the patch applied to the page's cached mask gives the new mask
    masks_msg, buffers = sent[-2]
    [item] = masks_msg["items"]
    x0, y0, x1, y1 = item["box"]
    cached = before.copy()
    cached[y0:y1, x0:x1] = _decode(item, buffers[0])
    assert np.array_equal(cached, after)
    assert sent[-1][0]["type"] == "edit_ack"
    # one undo restores the mask before the paint
    w._on_page_message(w, {"type": "undo", "series": "s0", "request": 2}, [])
    assert np.array_equal(_slice_mask(w, u, 3), before)
    w._on_page_message(w, {"type": "redo", "series": "s0", "request": 3}, [])
    assert np.array_equal(_slice_mask(w, u, 3), expected)


def test_a_paint_sends_its_patch_before_the_labels_echo_then_the_ack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page that sees the new revision already holds the patch, so it does not ask for the
    slice's masks again (a whole-slice get_masks while the acknowledgement waits)."""
    from tests.test_widget import _record_comms

    log = _record_comms(monkeypatch)
    w = DicomAnnotator(open_series(_volume()), ontology=_ontology())
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])  # a view is there
    del log[:]
    w._on_page_message(w, _paint(4, _new_uuid(), 2, [STROKE], feature="tumour"), [])
    order = []
    for kind, data in log:
        assert kind == "comm_msg"
        if data["method"] == "update":
            keys = set(data["state"]) | {path[0] for path in data.get("buffer_paths", [])}
            order.append("state:" + ",".join(sorted(keys)))
        else:
            order.append(data["content"]["type"])
    assert order == ["masks", "labels_patch", "edit_ack"], order
    assert w.labels.revision == 1


def test_painting_a_slice_empty_removes_the_keyframe_then_the_object(widget: Any) -> None:
    w, sent = widget
    u = _new_uuid()
    w.brush(u, 1, [[10, 10]], 2, feature="tumour")
    w.brush(u, 2, [[10, 10]], 2)
    erase = {"tool": "eraser", "radius": 5, "points": [[10, 10]]}
    w._on_page_message(w, _paint(5, u, 2, [erase]), [])
    assert sorted(w.labels.get(u).keyframes) == [1]
    [item] = sent[-2][0]["items"]
    assert item["area"] == 0 and not _decode(item, sent[-2][1][0]).any()
    w._on_page_message(w, _paint(6, u, 1, [erase]), [])
    assert u not in w.labels
    w.labels.undo()
    assert sorted(w.labels.get(u).keyframes) == [1]


def test_paint_on_an_accepted_prediction_marks_it_edited(widget: Any) -> None:
    """The page's brush on a model's mask: the object is then an edited prediction (its DICOM
    SEG segment SEMIAUTOMATIC), and it says so in the labels the page gets."""
    w, _sent = widget
    model = np.zeros(SHAPE, bool)
    model[2, 8:14, 8:14] = True
    (u,) = w.labels.import_predictions(
        [{"feature": "tumour", "slice": 2, "mask": model[2]}], source="net"
    )
    w.labels.accept(u)
    assert not w.labels.get(u).edited
    w._on_page_message(w, _paint(8, u, 2, [STROKE]), [])
    assert w.labels.get(u).edited
    [obj] = w.labels_state["objects"]
    assert obj["edited"] is True and obj["source"] == "net"


def test_paint_that_changes_nothing_makes_no_edit(widget: Any) -> None:
    w, sent = widget
    u = w.labels.add_mask("tumour", np.pad(np.ones((4, 4), bool), ((0, 36), (0, 44))), slice=0)
    w._on_page_message(
        w, _paint(3, u, 0, [{"tool": "eraser", "radius": 2, "points": [[30, 30]]}]), []
    )
    assert w.labels.revision == 1
    assert sent[-3][0]["items"] == [] and sent[-2][0] == {
        "type": "edit_ack",
        "request": 3,
        "revision": 1,
    }
    # the user is told too, briefly (QA: an eraser stroke beside the mask, then Enter: nothing
    # happened and nothing said so)
    notice = sent[-1][0]
    assert notice["type"] == "error" and notice["notice"] is True and "request" not in notice
    assert "changed nothing" in notice["message"]
    # a script is told (QA: a stroke outside the image returned as if it had painted)
    with pytest.warns(DicomAnnotWarning, match="changed nothing on slice 0"):
        assert w.brush(u, 0, [(5000, 5000)], 3) == 1


def test_threshold_brush_on_the_liver_is_exactly_discs_and_range(ct_abdomen_dir: Path) -> None:
    series = open_series(ct_abdomen_dir)
    onto = Ontology.builder().object("Liver", "bitmask").build()
    w = DicomAnnotator(series, ontology=onto)
    sent = _capture(w)
    k = 10
    hu = np.asarray(series.get_slice(k), dtype=np.float64)
    # a stroke across the liver (left of the image = patient's right), fast: far-apart samples
    points = [[110.0, 250.0], [150.4, 262.7], [190.0, 240.2], [200.5, 300.0]]
    stroke = {"tool": "threshold", "radius": 20, "points": points, "range": [40, 200]}
    u = _new_uuid()
    w._on_page_message(w, _paint(1, u, k, [stroke], feature="liver"), [])
    assert sent[-1][0]["type"] == "edit_ack", sent[-1][0]
    committed = w.labels.get_mask(u)[k]
    discs = stroke_mask(points, 20, hu.shape)
    expected = discs & (hu >= 40) & (hu <= 200)
    assert np.array_equal(committed, expected)
    # the range really cut: some covered voxels were outside it, most liver voxels inside
    assert (discs & ~expected).any() and expected.sum() > 0.5 * discs.sum()
    # the page's patch decodes to the same bits
    masks_msg, buffers = sent[-2]
    [item] = masks_msg["items"]
    x0, y0, x1, y1 = item["box"]
    assert np.array_equal(_decode(item, buffers[0]), committed[y0:y1, x0:x1])
    # no gaps between far-apart samples: the whole segment between them is covered
    t = np.linspace(0, 1, 50)
    xs = np.rint(110 + t * 40.4).astype(int)
    ys = np.rint(250 + t * 12.7).astype(int)
    assert discs[ys, xs].all()


def test_python_threshold_brush_equals_page_paint() -> None:
    volume = _volume()
    a = DicomAnnotator(open_series(volume), ontology=_ontology())
    b = DicomAnnotator(open_series(volume), ontology=_ontology())
    _capture(b)
    u = _new_uuid()
    points = np.array([[5.2, 7.9], [20.0, 30.5], [41.7, 12.3]])
    a.threshold_brush(u, 4, points, 5.5, (-50, 150), feature="tumour")
    stroke = {"tool": "threshold", "radius": 5.5, "points": points.tolist(), "range": [-50, 150]}
    b._on_page_message(b, _paint(1, u, 4, [stroke], feature="tumour"), [])
    assert np.array_equal(a.labels.get_mask(u), b.labels.get_mask(u))
    assert a.labels.get_mask(u)[4].sum() > 0
    # and the same for brush + erase
    a.erase(u, 4, [[20, 30]], 3)
    b._on_page_message(
        b, _paint(2, u, 4, [{"tool": "eraser", "radius": 3, "points": [[20, 30]]}]), []
    )
    assert np.array_equal(a.labels.get_mask(u), b.labels.get_mask(u))


def test_threshold_compares_modality_values_in_float64_like_the_page() -> None:
    volume = np.zeros((2, 8, 8), dtype=np.float32)
    volume[1, 3, 3] = np.float32(40.1)  # 40.09999847... < 40.1 as float64 (the page's view)
    volume[1, 3, 4] = 41.0
    volume[1, 4, 3] = 200.0
    w = DicomAnnotator(open_series(volume), ontology=_ontology())
    u = _new_uuid()
    w.threshold_brush(u, 1, [[3.5, 3.5]], 3, (40.1, 200), feature="tumour")
    got = w.labels.get_mask(u)[1]
    assert not got[3, 3] and got[3, 4] and got[4, 3] and got.sum() == 2
    # rescaled integer data: stored * slope + intercept, in float64 (a minimal series)
    stored = np.zeros((6, 6), dtype=np.int16)
    stored[2, 2] = 3  # 3 * 0.1 = 0.30000000000000004 > 0.3 in float64
    stored[2, 3] = 2  # 2 * 0.1 = 0.2

    class Rescaled:
        spacing = (1.0, 1.0, 1.0)

        def get_stored_slice(self, k: int) -> np.ndarray:
            return stored

        def rescale(self, k: int) -> tuple[float, float]:
            return (0.1, 0.0)

    labels = Labels({"series_instance_uid": "1.2", "shape": [2, 6, 6]}, _ontology())
    stroke = parse_strokes(
        [{"tool": "threshold", "radius": 2, "points": [[2.5, 2]], "range": [0.15, 0.3]}]
    )
    u2 = _new_uuid()
    paint(labels, Rescaled(), u2, 1, stroke, "tumour")
    got2 = labels.get_mask(u2)[1]
    assert got2[2, 3] and not got2[2, 2] and got2.sum() == 1


# -- polygons edited with a brush ---------------------------------------------------------------


def test_a_painted_polygon_stays_a_polygon_with_a_hole(widget: Any) -> None:
    w, sent = widget
    square = [[5.5, 5.5], [30.5, 5.5], [30.5, 30.5], [5.5, 30.5]]
    u = w.labels.add_polygon("liver", 2, square)
    before = polygons_to_mask(np.array(square), SHAPE[1:])
    w._on_page_message(
        w, _paint(1, u, 2, [{"tool": "eraser", "radius": 4, "points": [[18, 18]]}]), []
    )
    assert sent[-1][0] == {"type": "edit_ack", "request": 1, "revision": 2}
    assert sent[-2][0]["items"] == []  # the new outline comes with labels_state
    obj = w.labels.get(u)
    assert obj.shape == "polygon" and list(obj.keyframes) == [2] and len(w.labels) == 1
    ring = np.array(obj.keyframes[2].geometry.points)
    got = polygons_to_mask(ring, SHAPE[1:])
    expected = before & ~stroke_mask([[18, 18]], 4, SHAPE[1:])
    assert not got[18, 18] and not got[15, 18] and got[8, 8] and got[28, 28]
    assert (got != expected).sum() <= 4  # the traced outline is simplified (tolerance 0.5)
    w.labels.undo()
    assert np.array(w.labels.get(u).keyframes[2].geometry.points).tolist() == square


def test_a_polygon_cut_in_two_stays_one_object(widget: Any) -> None:
    w, _ = widget
    u = w.labels.add_polygon("liver", 1, [[5, 5], [40, 5], [40, 20], [5, 20]])
    cut = {"tool": "eraser", "radius": 2, "points": [[22, 0], [22, 30]]}
    grow = {"tool": "brush", "radius": 3, "points": [[10, 30], [14, 30]]}
    w.paint(u, 1, [cut, grow])
    ring = np.array(w.labels.get(u).keyframes[1].geometry.points)
    got = polygons_to_mask(ring, SHAPE[1:])
    assert got[12, 10] and got[12, 35] and got[30, 12]  # three parts kept
    assert not got[12, 22] and not got[25, 12]
    assert len(w.labels) == 1 and w.labels.revision == 2


def test_painting_a_polygon_away_deletes_it(widget: Any) -> None:
    w, _ = widget
    u = w.labels.add_polygon("liver", 1, [[5, 5], [9, 5], [9, 9]])
    w.erase(u, 1, [[7, 7]], 10)
    assert u not in w.labels


def test_mask_to_ring_keeps_holes_and_parts() -> None:
    rng = np.random.default_rng(5)
    from scipy import ndimage as ndi

    n_holes = 0
    for _ in range(40):
        m = ndi.gaussian_filter(rng.random((40, 50)), 2.5) > 0.5
        polys = mask_to_polygons(m)
        if not polys:
            continue
        n_holes += sum(len(p.holes) for p in polys)
        assert np.array_equal(polygons_to_mask(mask_to_ring(polys), m.shape), m)
    assert n_holes > 0
    with pytest.raises(LabelError, match="no polygon"):
        mask_to_ring([])


# -- get_masks -----------------------------------------------------------------------------


def test_get_masks_sends_every_bitmask_of_the_slice_in_full(widget: Any) -> None:
    w, sent = widget
    m1 = stroke_mask([[10, 10], [20, 14]], 3, SHAPE[1:])
    m2 = stroke_mask([[40, 30]], 5, SHAPE[1:])
    u1 = w.labels.add_mask("tumour", m1, slice=3)
    u2 = w.labels.add_mask("vessel", m2, slice=3)
    w.labels.add_polygon("liver", 3, [[1, 1], [5, 1], [5, 5]])
    w.labels.add_mask("tumour", m2, slice=4)
    w._on_page_message(w, {"type": "get_masks", "series": "s0", "slice": 3}, [])
    msg, buffers = sent[-1]
    assert msg["type"] == "masks" and msg["slice"] == 3 and msg["revision"] == 4
    by_uuid = {item["uuid"]: (item, buf) for item, buf in zip(msg["items"], buffers, strict=True)}
    assert set(by_uuid) == {u1, u2}
    for u, m in ((u1, m1), (u2, m2)):
        item, buf = by_uuid[u]
        assert item["full"] is True and item["area"] == m.sum()
        x0, y0, x1, y1 = item["box"]
        full = np.zeros(SHAPE[1:], bool)
        full[y0:y1, x0:x1] = _decode(item, buf)
        assert np.array_equal(full, m)
    w._on_page_message(w, {"type": "get_masks", "series": "s0", "slice": 0}, [])
    assert sent[-1][0]["items"] == [] and sent[-1][1] == []


# -- refused messages -----------------------------------------------------------------------

BAD_PAINTS = [
    ({"strokes": []}, "'strokes' must be a non-empty list"),
    ({"strokes": [{**STROKE, "radius": 0}]}, "radius must be in (0, 512]"),
    ({"strokes": [{**STROKE, "radius": -2}]}, "radius must be in (0, 512]"),
    ({"strokes": [{**STROKE, "radius": 600}]}, "radius must be in (0, 512]"),
    ({"strokes": [{**STROKE, "radius": float("nan")}]}, "radius must be a finite number"),
    ({"strokes": [{**STROKE, "radius": True}]}, "radius must be a number"),
    ({"strokes": [{**STROKE, "points": []}]}, "'points' must be a non-empty list"),
    ({"strokes": [{**STROKE, "points": [[1, float("inf")]]}]}, "points[0][1] must be a finite"),
    ({"strokes": [{**STROKE, "points": [[1, 2], [1, "3"]]}]}, "points[1][1] must be a number"),
    ({"strokes": [{**STROKE, "points": [[1, 2, 3]]}]}, "points[0] must be an [x, y] pair"),
    ({"strokes": [{**STROKE, "points": [[1e9, 2]]}]}, "lies far outside"),
    # JSON integers beyond any float (QA: OverflowError escaped, the page got no answer)
    ({"strokes": [{**STROKE, "points": [[10**400, 2]]}]}, "points[0][0] must be a finite"),
    ({"strokes": [{**STROKE, "radius": 10**400}]}, "radius must be a finite number"),
    (
        {"strokes": [{**STROKE, "tool": "threshold", "range": [0, 10**400]}]},
        "range[1] (hi) must be a finite number",
    ),
    ({"strokes": [{**STROKE, "points": [[[[[[[[[[[[1, 2]]]]]]]]]]]]}]}, "an [x, y] pair"),
    ({"strokes": [{**STROKE, "points": [[1, 2]] * 20_001}]}, "too many points (20001"),
    # QA: 20,000 points at radius 512 kept the kernel busy for 279 s: the work is bounded
    (
        {"strokes": [{**STROKE, "radius": 512, "points": [[1, 2], [3, 2]] * 100}]},
        "would test 209,890,872 voxels (at most 150,000,000",
    ),
    ({"strokes": [{**STROKE, "tool": "spray"}]}, "'tool' must be one of brush, eraser"),
    ({"strokes": [{**STROKE, "colour": 1}]}, "unknown field(s) colour"),
    ({"strokes": [{**STROKE, "tool": "threshold"}]}, "needs 'range': [lo, hi]"),
    ({"strokes": [{**STROKE, "tool": "threshold", "range": [200, 40]}]}, "lo <= hi"),
    ({"strokes": [{**STROKE, "tool": "threshold", "range": [0, None]}]}, "range[1] (hi)"),
    ({"strokes": [{**STROKE, "range": [0, 10]}]}, "'range' is only for the threshold tool"),
    ({"slice": 6}, "slice 6 is out of range (the series has 6 slices)"),
    ({"slice": -1}, "slice -1 is out of range"),
    ({"slice": 1.5}, "slice must be an integer"),
    ({"series": "s9"}, "is not the series shown"),
    ({"uuid": ""}, "uuid must be a non-empty string"),
    ({"uuid": "x" * 200}, "uuid is too long"),
    ({"feature": 3}, "'feature' must be a class id or name"),
    ({"feature": None}, "unknown object"),
    ({"feature": "liver"}, "'liver' is a polygon class; painting creates bitmask objects only"),
    ({"feature": "nope"}, "nope"),
    ({"uuid": "not-a-uuid"}, "is not a UUID"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_PAINTS)
def test_malformed_paints_are_refused_and_change_nothing(
    widget: Any, change: dict[str, Any], reason: str
) -> None:
    w, sent = widget
    w.labels.add_box("lesion", 1, (2, 2, 8, 8))
    before = json.dumps(w.labels_state, sort_keys=True)
    content = _paint(11, _new_uuid(), 1, [STROKE], feature="tumour")
    content.update(change)
    w._on_page_message(w, content, [])
    errors = [m for m, _ in sent if m.get("type") == "error"]
    assert len(errors) == 1 and reason in errors[0]["message"], errors
    assert errors[0]["request"] == 11
    assert not [m for m, _ in sent if m.get("type") in ("edit_ack", "masks")]
    assert json.dumps(w.labels_state, sort_keys=True) == before and w.labels.revision == 1


def test_paints_the_labels_refuse(widget: Any) -> None:
    w, sent = widget
    box = w.labels.add_box("lesion", 1, (2, 2, 8, 8))
    mask = w.labels.add_mask("tumour", np.ones(SHAPE[1:], bool), slice=1)
    cases = [
        (box, {}, "is a bounding_box; only bitmask and polygon objects can be painted"),
        (mask, {"feature": "vessel"}, "is a 'tumour', not a 'vessel'"),
        (_new_uuid(), {}, "give 'feature' (a bitmask class) to create it"),
    ]
    for i, (u, extra, reason) in enumerate(cases):
        w._on_page_message(w, _paint(i, u, 1, [STROKE], **extra), [])
        error = sent[-1][0]
        assert error["type"] == "error" and error["request"] == i and reason in error["message"]
    w.labels.read_only = True
    w._on_page_message(w, _paint(9, mask, 1, [STROKE]), [])
    assert sent[-1][0]["type"] == "error" and "read-only" in sent[-1][0]["message"]
    assert w.labels.revision == 2


def test_paint_messages_parse() -> None:
    msg = parse_page_message(
        _paint(3, "u", 2, [STROKE, {**STROKE, "tool": "threshold", "range": [-5, 5.5]}]),
        series_id="s0",
        n_slices=4,
    )
    assert isinstance(msg, Paint) and msg.request == 3 and msg.slice == 2 and msg.feature is None
    first, second = msg.strokes
    assert first.tool == "brush" and first.range is None
    assert first.points.dtype == np.float64 and first.points.tolist() == STROKE["points"]
    assert second.range == (-5.0, 5.5)
    got = parse_page_message(
        {"type": "get_masks", "series": "s0", "slice": 3}, series_id="s0", n_slices=4
    )
    assert got == GetMasks("s0", 3)
    with pytest.raises(ProtocolError, match="get_masks: slice 4 is out of range"):
        parse_page_message(
            {"type": "get_masks", "series": "s0", "slice": 4}, series_id="s0", n_slices=4
        )
    with pytest.raises(ProtocolError, match="get_masks: unknown series"):
        parse_page_message(
            {"type": "get_masks", "series": "s1", "slice": 0}, series_id="s0", n_slices=4
        )


def test_python_paint_api_validates(widget: Any) -> None:
    w, _ = widget
    with pytest.raises(WidgetValueError, match=r"^brush: radius must be in"):
        w.brush(_new_uuid(), 1, [[3, 3]], 0, feature="tumour")
    with pytest.raises(LabelError, match="slice 9 is out of range"):
        w.brush(_new_uuid(), 9, [[3, 3]], 2, feature="tumour")
    with pytest.raises(WidgetValueError, match="lo <= hi"):
        w.threshold_brush(_new_uuid(), 1, [[3, 3]], 2, (10, 0), feature="tumour")
    with pytest.raises(TypeError, match="range must be"):
        w.threshold_brush(_new_uuid(), 1, [[3, 3]], 2, 10, feature="tumour")  # type: ignore[arg-type]
    assert w.labels.revision == 0
    # one point as (x, y) works
    u = _new_uuid()
    assert w.brush(u, 1, (3, 3), 1, feature="tumour") == 1
    assert w.labels.get_mask(u)[1].sum() == 5


# -- interpolation -------------------------------------------------------------------------


def _interp(request: int, **fields: Any) -> dict[str, Any]:
    return {"type": "interpolate", "series": "s0", "request": request, "uuids": None, **fields}


def test_interpolate_message_fills_derived_keyframes(widget: Any) -> None:
    w, sent = widget
    u = w.labels.add_polygon("liver", 1, [[5, 5], [15, 5], [15, 15], [5, 15]])
    w.labels.add_polygon("liver", 4, [[8, 5], [18, 5], [18, 15], [8, 15]], uuid=u)
    w._on_page_message(w, _interp(4, uuids=[u]), [])
    assert sent[-1][0] == {"type": "edit_ack", "request": 4, "revision": 3}
    frames = w.labels.get(u).keyframes
    assert sorted(frames) == [1, 2, 3, 4]
    assert frames[2].manual is False and frames[3].manual is False
    w._on_page_message(w, {"type": "undo", "series": "s0"}, [])
    assert sorted(w.labels.get(u).keyframes) == [1, 4]


def test_interpolate_message_with_a_range_and_all_objects(widget: Any) -> None:
    w, sent = widget
    u = w.labels.add_polygon("liver", 0, [[5, 5], [15, 5], [15, 15], [5, 15]])
    w.labels.add_polygon("liver", 5, [[8, 5], [18, 5], [18, 15], [8, 15]], uuid=u)
    w._on_page_message(w, _interp(1, start=2, end=3), [])
    assert sent[-1][0]["type"] == "edit_ack"
    assert sorted(w.labels.get(u).keyframes) == [0, 2, 3, 5]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"start": 4, "end": 2}, "start <= end, got 4 > 2"),
        ({"start": 48}, "start slice 48 is out of range"),  # 48 columns: the most of a plane
        ({"end": -1}, "end slice -1 is out of range"),
        ({"start": 1.5}, "start must be an integer"),
        ({"uuids": []}, "non-empty list of object uuids or null"),
        ({"uuids": "abc"}, "non-empty list of object uuids or null"),
        ({"uuids": [3]}, "uuids[0] must be a non-empty string"),
        ({"uuids": [str(uuid_module.uuid4())]}, "interpolate(objects)[0]: unknown object"),
    ],
)
def test_malformed_interpolate_is_refused(widget: Any, fields: dict[str, Any], reason: str) -> None:
    w, sent = widget
    w._on_page_message(w, _interp(8, **fields), [])
    error = sent[-1][0]
    assert error["type"] == "error" and error["request"] == 8 and reason in error["message"]
    assert w.labels.revision == 0


def test_interpolate_without_uuids_field_is_refused() -> None:
    with pytest.raises(ProtocolError, match="'uuids' is missing"):
        parse_page_message(
            {"type": "interpolate", "series": "s0", "request": 1}, series_id="s0", n_slices=3
        )
    msg = parse_page_message(_interp(2, end=2), series_id="s0", n_slices=3)
    assert msg == Interpolate("s0", 2, None, None, 2)


def test_interpolate_takes_label_objects_as_the_labels_model_does(widget: Any) -> None:
    w, _ = widget
    u = w.labels.add_polygon("liver", 1, [[5, 5], [15, 5], [15, 15], [5, 15]])
    w.labels.add_polygon("liver", 4, [[8, 5], [18, 5], [18, 15], [8, 15]], uuid=u)
    obj = w.labels.get(u)
    w.interpolate(obj)
    assert sorted(w.labels.get(u).keyframes) == [1, 2, 3, 4]
    w.labels.undo()
    w.interpolate([obj], start=2, end=2)
    assert sorted(w.labels.get(u).keyframes) == [1, 2, 4]
    with pytest.raises(LabelError, match="unknown object"):
        w.interpolate("not-a-uuid")


def test_interpolate_message_calls_labels_interpolate(widget: Any, monkeypatch: Any) -> None:
    w, sent = widget
    calls: list[Any] = []

    def fake(self: Labels, objects: Any = None, start: Any = None, end: Any = None) -> int:
        calls.append((objects, start, end))
        return 42

    monkeypatch.setattr(Labels, "interpolate", fake)
    u = w.labels.add_polygon("liver", 0, [[5, 5], [15, 5], [15, 15]])
    w._on_page_message(w, _interp(3, uuids=[u], start=1, end=4), [])
    assert [(list(o), a, b) for o, a, b in calls] == [([u], 1, 4)] and sent[-1][0] == {
        "type": "edit_ack",
        "request": 3,
        "revision": 42,
    }
    assert w.interpolate() == 42 and calls[-1] == (None, None, None)


# -- auto-segmentation -----------------------------------------------------------------------


def _disc_series() -> Any:
    volume = np.full((3, 64, 64), 20, dtype=np.int16)
    yy, xx = np.mgrid[:64, :64]
    volume[1][(yy - 32) ** 2 + (xx - 30) ** 2 <= 12**2] = 400
    return open_series(volume)


def test_autosegment_tightens_a_rough_polygon() -> None:
    w = DicomAnnotator(_disc_series(), ontology=_ontology())
    sent = _capture(w)
    truth = np.zeros((64, 64), bool)
    yy, xx = np.mgrid[:64, :64]
    truth[(yy - 32) ** 2 + (xx - 30) ** 2 <= 12**2] = True
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    # a rough outline 3-5 px outside the disc
    radii = 15 + 2 * np.cos(3 * angles)
    rough = np.round(
        np.column_stack([30 + radii * np.cos(angles), 32 + radii * np.sin(angles)]), 3
    ).tolist()
    u = w.labels.add_polygon("liver", 1, rough)

    def dice(points: Any) -> float:
        m = polygons_to_mask(np.array(points, dtype=float), truth.shape)
        return 2 * (m & truth).sum() / (m.sum() + truth.sum())

    w._on_page_message(
        w, {"type": "autosegment", "series": "s0", "request": 5, "uuid": u, "slice": 1}, []
    )
    assert sent[-1][0] == {"type": "edit_ack", "request": 5, "revision": 2}
    tightened = w.labels.get(u).keyframes[1].geometry.points
    assert dice(rough) < 0.85 and dice(tightened) > 0.95
    w.labels.undo()
    assert np.array(w.labels.get(u).keyframes[1].geometry.points).tolist() == rough


def test_autosegment_tightens_a_polygon_drawn_on_a_reformat() -> None:
    """A coronal polygon is tightened on the coronal reformat (the image the page shows): a
    ball's cross-section, not the axial slice of the same number."""
    volume = np.full((64, 64, 64), 20, dtype=np.int16)
    zz, yy, xx = np.mgrid[:64, :64, :64]
    volume[(zz - 30) ** 2 + (yy - 32) ** 2 + (xx - 30) ** 2 <= 12**2] = 400
    w = DicomAnnotator(open_series(volume), ontology=_ontology())
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    radii = 15 + 2 * np.cos(3 * angles)
    # coronal plane coordinates: u = column, v = slice
    rough = np.round(
        np.column_stack([30 + radii * np.cos(angles), 30 + radii * np.sin(angles)]), 3
    ).tolist()
    u = w.labels.add_polygon("liver", 32, rough, plane="coronal")
    truth = volume[:, 32, :] == 400

    def dice(points: Any) -> float:
        m = polygons_to_mask(np.array(points, dtype=float), truth.shape)
        return 2 * (m & truth).sum() / (m.sum() + truth.sum())

    w.autosegment(u, 32)
    tightened = w.labels.get(u).keyframes[32].geometry.points
    assert dice(rough) < 0.85 and dice(tightened) > 0.95


def test_autosegment_refusals(widget: Any) -> None:
    w, sent = widget
    u = w.labels.add_polygon("liver", 1, [[5, 5], [15, 5], [15, 15]])
    m = w.labels.add_mask("tumour", np.ones(SHAPE[1:], bool), slice=1)
    cases = [
        ({"uuid": u, "slice": 2}, "has no keyframe on slice 2"),
        ({"uuid": m, "slice": 1}, "is a bitmask; only polygons can be tightened"),
        ({"uuid": str(uuid_module.uuid4()), "slice": 1}, "unknown object"),
        ({"uuid": u, "slice": 6}, "has no keyframe on slice 6"),
        ({"uuid": u, "slice": True}, "slice must be an integer"),
        ({"uuid": None, "slice": 1}, "uuid must be a non-empty string"),
    ]
    for fields, reason in cases:
        w._on_page_message(w, {"type": "autosegment", "series": "s0", "request": 2, **fields}, [])
        error = sent[-1][0]
        assert error["type"] == "error" and error["request"] == 2, error
        assert reason in error["message"], error
    assert w.labels.revision == 2


# -- labels_state ---------------------------------------------------------------------------


def test_labels_state_carries_frame_classifications_and_object_answers(widget: Any) -> None:
    w, _ = widget
    u = w.labels.add_box("lesion", 1, (2, 2, 8, 8), confidence=0.75, source="model-x")
    w.labels.set_frame_classification("phase", "venous", 1, 3)
    state = w.labels_state
    [fc] = state["frame_classifications"]
    assert fc == w.labels.document.to_dict()["frame_classifications"][0]
    assert fc["classification"] == "phase" and fc["ranges"] == [[1, 3]]
    [obj] = state["objects"]
    assert obj["uuid"] == u and obj["source"] == "model-x" and obj["confidence"] == 0.75
    assert {"static", "dynamic", "review"} <= set(obj)
    json.dumps(state)  # JSON-safe


def test_mistyped_script_arguments_are_named(widget: Any) -> None:
    """Scripts get an error that names the argument, and nothing changes (QA: bare NumPy
    and float errors; truthy values taken as booleans or slice numbers)."""
    w, _ = widget
    before = (w.labels.revision, w.slice, w.flip, w.frameskip, w.read_only)
    with pytest.raises(TypeError, match="points must be one"):
        w.brush(_new_uuid(), 2, None, 3, feature="Tumour")
    with pytest.raises(TypeError, match="points must be one"):
        w.brush(_new_uuid(), 2, "abc", 3, feature="Tumour")
    with pytest.raises(TypeError, match="range must be two numbers"):
        w.threshold_brush(_new_uuid(), 2, [(5, 5)], 3, ("a", "b"), feature="Tumour")
    with pytest.raises(traitlets.TraitError, match="slice must be a slice number"):
        w.slice = True
    with pytest.raises(traitlets.TraitError, match="flip"):
        w.flip = ("no", "no")
    with pytest.raises(traitlets.TraitError, match="frameskip must be a whole number"):
        w.frameskip = True
    with pytest.raises(TypeError, match="read_only must be True or False"):
        w.read_only = "no"  # type: ignore[assignment]
    w.flip = (1, 0)  # 0 / 1 are fine
    assert w.flip == (True, False)
    w.flip = (False, False)
    assert (w.labels.revision, w.slice, w.flip, w.frameskip, w.read_only) == before
    with pytest.raises(TypeError, match=r"window must be \(center, width\), got 5"):
        DicomAnnotator(w.series, window=5)  # type: ignore[arg-type]
    # NumPy scalars, as computations give them, are taken (QA: np.True_ and np.float32 were
    # refused as "not a boolean" / "not a float")
    w.flip = (np.bool_(True), np.bool_(False))
    w.zoom = np.float32(2.0)
    w.window = (np.float32(40), np.int64(400))
    assert (w.flip, w.zoom, w.window) == ((True, False), 2.0, (40.0, 400.0))


def test_labels_of_another_series_are_refused(tmp_path: Path) -> None:
    """Labels made for another series of the same size would show, then refuse every
    export: the widget refuses them at once, naming both series."""
    from dicom_annot_widget import write_phantom_series
    from dicom_annot_widget.labels import Labels

    write_phantom_series(tmp_path / "a", n_slices=4, rows=16, columns=16)
    a = open_series(tmp_path / "a")
    other = {"series_instance_uid": "1.2.3", "shape": [4, 16, 16]}
    with pytest.raises(LabelError, match=r"these labels are for series 1\.2\.3"):
        DicomAnnotator(a, labels=Labels(other, _ontology()))
    DicomAnnotator(a, labels=Labels(a, _ontology())).close()


def test_the_python_brushes_name_their_own_arguments(widget: Any) -> None:
    """QA 22b: w.brush(..., radius=-3) raised "ProtocolError: paint: strokes[0]: radius ...",
    the page protocol's words for a field the caller never wrote. The brushes name their
    own arguments (a ValueError); nothing is painted."""
    w, _ = widget
    new = "9f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
    with pytest.raises(WidgetValueError, match=r"^brush: radius must be in \(0, 512\]"):
        w.brush(new, 2, (10, 10), -3, "Tumour")
    with pytest.raises(WidgetValueError, match=r"^erase: points\[0\]\[0\] must be a finite"):
        w.erase(new, 2, (float("nan"), 10), 3)
    with pytest.raises(WidgetValueError, match=r"^threshold_brush: range needs lo <= hi"):
        w.threshold_brush(new, 2, (10, 10), 3, (250, 100), "Tumour")
    # QA 23b D2: the plane, the slice and the object are named under the caller's name too;
    # a bad plane is a WidgetValueError like every other bad argument; erasing never creates
    with pytest.raises(WidgetValueError, match=r"^brush: plane must be one of axial, coronal"):
        w.brush(new, 2, (10, 10), 3, "Tumour", plane="oblique")
    with pytest.raises(WidgetValueError, match=r"^paint: plane must be one of"):
        w.paint(new, 2, [{"tool": "brush", "radius": 3, "points": [[10, 10]]}], plane="Axial")
    with pytest.raises(LabelError, match=r"^threshold_brush: slice 99 is out of range"):
        w.threshold_brush(new, 99, (10, 10), 3, (0, 100), "Tumour")
    with pytest.raises(LabelError, match=r"^erase: unknown object '.*': there is nothing to"):
        w.erase(new, 2, (10, 10), 3)
    assert w.labels.revision == 0 and len(w.labels) == 0
    w.brush(new, 2, (10, 10), 3, "Tumour")  # and the same call, well formed, paints
    assert w.labels.get(new).keyframes
    with pytest.warns(DicomAnnotWarning, match=r"^erase: the strokes changed nothing") as seen:
        w.erase(new, 2, (40, 30), 2)
    assert seen[0].filename == __file__  # said at the caller's line


def test_a_stroke_starts_from_the_mask_as_it_is_after_undo_redo_and_python_edits(
    widget: Any,
) -> None:
    """A stroke starts from the mask it last painted while that is still the slice's mask
    (QA 23b D1: decoding a speckled 2048 x 2048 mask again took 25 ms of each stroke); after an
    undo, a redo or an edit from Python it must start from the mask as it is then."""
    w, _ = widget
    shape = SHAPE[1:]
    u = _new_uuid()
    disc = {"tool": "brush", "radius": 4, "points": [[20, 20]]}
    w._on_page_message(w, _paint(1, u, 2, [disc], feature="tumour"), [])
    first = stroke_mask([[20, 20]], 4, shape)
    w._on_page_message(w, _paint(2, u, 2, [{**disc, "points": [[30, 25]]}]), [])
    second = first | stroke_mask([[30, 25]], 4, shape)
    assert np.array_equal(_slice_mask(w, u, 2), second)
    w._on_page_message(w, {"type": "undo", "series": "s0", "request": 3}, [])
    w._on_page_message(w, _paint(4, u, 2, [{**disc, "points": [[10, 30]]}]), [])
    third = first | stroke_mask([[10, 30]], 4, shape)
    assert np.array_equal(_slice_mask(w, u, 2), third)
    w._on_page_message(w, {"type": "undo", "series": "s0", "request": 5}, [])
    w._on_page_message(w, {"type": "redo", "series": "s0", "request": 6}, [])
    w._on_page_message(w, _paint(7, u, 2, [{**disc, "tool": "eraser", "points": [[20, 20]]}]), [])
    fourth = third & ~stroke_mask([[20, 20]], 4, shape)
    assert np.array_equal(_slice_mask(w, u, 2), fourth)
    replaced = np.zeros(shape, dtype=bool)
    replaced[0:5, 0:5] = True
    w.labels.set_mask_slice(u, 2, replaced)
    w._on_page_message(w, _paint(8, u, 2, [{**disc, "points": [[40, 30]]}]), [])
    assert np.array_equal(_slice_mask(w, u, 2), replaced | stroke_mask([[40, 30]], 4, shape))


# -- overwrite: one object a voxel ----------------------------------------------------------


def test_overwrite_takes_the_painted_pixels_from_the_other_masks_in_one_edit(
    widget: Any,
) -> None:
    """With ``overwrite`` a stroke's new pixels leave the other bitmask objects on the slice
    (a labelmap's rule: 3D Slicer's "overwrite other segments"); one edit, one undo; the page
    gets the patches of every object changed in one message; an object left empty on its only
    slice goes. Without it masks may overlap."""
    w, sent = widget
    tumour, vessel, small = _new_uuid(), _new_uuid(), _new_uuid()
    w.brush(tumour, 2, [[10, 12], [25, 12]], 5, "tumour")
    w.brush(small, 2, [[18, 14]], 1.5, "tumour")
    w.brush(small, 4, [[30, 20]], 2, "tumour")
    before = {u: _slice_mask(w, u, 2).copy() for u in (tumour, small)}
    # overlapping by default
    w.brush(vessel, 2, [[18, 2], [18, 22]], 3, "vessel")
    assert (_slice_mask(w, vessel, 2) & before[tumour]).any()
    w.labels.undo()
    sent.clear()
    revision = w.labels.revision
    w.brush(vessel, 2, [[18, 2], [18, 22]], 3, "vessel", overwrite=True)
    assert w.labels.revision == revision + 1
    painted = _slice_mask(w, vessel, 2)
    assert np.array_equal(painted, stroke_mask([[18, 2], [18, 22]], 3, SHAPE[1:]))
    assert np.array_equal(_slice_mask(w, tumour, 2), before[tumour] & ~painted)
    # the small object lost its whole mask on slice 2: that keyframe went, slice 4's stays
    assert 2 not in w.labels.get(small).keyframes and 4 in w.labels.get(small).keyframes
    [(msg, buffers)] = [(c, b) for c, b in sent if c["type"] == "masks"]
    items = {item["uuid"]: (item, buf) for item, buf in zip(msg["items"], buffers, strict=True)}
    assert set(items) == {vessel, tumour, small} and msg["slice"] == 2
    item, buf = items[tumour]
    x0, y0, x1, y1 = item["box"]
    assert np.array_equal(_decode(item, buf), _slice_mask(w, tumour, 2)[y0:y1, x0:x1])
    assert item["crc"] == mask_crc(w.labels.get(tumour).keyframes[2].geometry)
    assert items[small][0]["area"] == 0
    # one undo gives everything back
    w.labels.undo()
    assert np.array_equal(_slice_mask(w, tumour, 2), before[tumour])
    assert np.array_equal(_slice_mask(w, small, 2), before[small])
    assert vessel not in w.labels.document.objects
    # from the page: its message says so; the trait is the Python default
    w.mask_overwrite = True
    w.brush(vessel, 2, [[18, 2], [18, 22]], 3, "vessel")
    assert not (_slice_mask(w, tumour, 2) & _slice_mask(w, vessel, 2)).any()
    w.labels.undo()
    w.mask_overwrite = False
    w._on_page_message(w, _paint(9, vessel, 2, [STROKE], feature="vessel", overwrite=True), [])
    assert not (_slice_mask(w, tumour, 2) & _slice_mask(w, vessel, 2)).any()
    with pytest.raises(WidgetValueError, match="brush: overwrite must be True, False or None"):
        w.brush(vessel, 2, [[1, 1]], 2, overwrite="yes")
    with pytest.raises(ProtocolError, match="'overwrite' must be true or false"):
        parse_page_message(_paint(10, vessel, 2, [STROKE], overwrite=1), series_id="s0", n_slices=6)


def test_an_object_emptied_by_overwrite_on_its_only_slice_goes(widget: Any) -> None:
    w, _ = widget
    tumour, vessel = _new_uuid(), _new_uuid()
    w.brush(tumour, 1, [[20, 20]], 2, "tumour")
    w.threshold_brush(vessel, 1, [[20, 20]], 6, (-1000, 1000), "vessel", overwrite=True)
    assert tumour not in w.labels.document.objects
    w.labels.undo()
    assert tumour in w.labels.document.objects
