"""Painting bitmasks on coronal and sagittal reformats: the strokes edit where the plane cuts the
object's masks (kept on the series' own slices), with the brush round in millimetres, from the
page's ``paint`` message and from Python alike."""

from __future__ import annotations

import json
import uuid as uuid_module
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.errors import LabelError, ProtocolError
from dicom_annot_widget.kernels import plane_image
from dicom_annot_widget.kernels.brush import stroke_mask, threshold_brush
from dicom_annot_widget.widget.masks import mask_crc, plane_spacing
from dicom_annot_widget.widget.protocol import Paint, parse_page_message
from tests.test_widget_masks import Sent, _capture, _decode, _ontology
from tests.test_widget_masks import _paint as _axial_paint

SHAPE = (12, 30, 40)  # slices, rows, columns
SPACING = (2.5, 0.8, 1.25)  # mm: slices 2.5 apart, rows 0.8, columns 1.25


def _widget() -> tuple[DicomAnnotator, Sent]:
    """A widget on an anisotropic volume with the bitmask classes of test_widget_masks, and
    the messages it sends the page (but the labels echo)."""
    volume = np.random.default_rng(7).integers(-200, 300, size=SHAPE, dtype=np.int16)
    w = DicomAnnotator(open_series(volume, spacing=SPACING), ontology=_ontology())
    return w, _capture(w)


def _uuid() -> str:
    return str(uuid_module.uuid4())


def _paint(request: int, uuid: str, plane: Any, k: int, strokes: list[Any], **extra: Any) -> Any:
    """test_widget_masks' paint message, on ``plane``."""
    return _axial_paint(request, uuid, k, strokes, plane=plane, **extra)


def _cut_into(volume: np.ndarray, plane: str, k: int, image: np.ndarray) -> None:
    """Write a plane image (one row per slice) into the volume where the plane cuts it."""
    if plane == "coronal":
        volume[:, k, :] = image
    else:
        volume[:, :, k] = image


STROKE: dict[str, Any] = {"tool": "brush", "radius": 4.0, "points": [[6, 3.5], [20.5, 6], [31, 5]]}


def test_the_brush_is_round_in_millimetres_on_every_plane() -> None:
    """On a reformat, and on the series' own slices of non-square pixels (QA 21b D7: an
    ellipse twice as wide as tall in millimetres there); square pixels keep the plain disc."""
    w, _ = _widget()
    # coronal images: columns 1.25 mm wide, rows (slices) 2.5 mm apart
    assert plane_spacing(w.series, "coronal") == (2.0, 1.0)
    assert plane_spacing(w.series, "sagittal") == (2.5 / 0.8, 1.0)
    assert plane_spacing(w.series, "axial") == (0.8 / 1.25, 1.0)
    square = open_series(np.zeros((3, 8, 8), np.int16), spacing=(3.0, 0.7, 0.7))
    assert plane_spacing(square, "axial") is None
    # one dab of radius 4 (column pixels: 5 mm) on slice 5 reaches 5 mm both ways
    u = _uuid()
    dab = {"tool": "brush", "radius": 4.0, "points": [[20, 15]]}
    w._on_page_message(w, _axial_paint(5, u, 5, [dab], feature="tumour"), [])
    rows, columns = np.nonzero(w.labels.get_mask(u)[5])
    half_width = (columns.max() - columns.min() + 1) * 1.25 / 2
    half_height = (rows.max() - rows.min() + 1) * 0.8 / 2
    assert abs(half_width - half_height) <= 0.8, (half_width, half_height)


@pytest.mark.parametrize("plane, k", [("coronal", 17), ("sagittal", 9)])
def test_a_stroke_on_a_reformat_paints_the_cut_of_every_slice_it_reaches(
    plane: str, k: int
) -> None:
    w, sent = _widget()
    u = _uuid()
    w._on_page_message(w, _paint(5, u, plane, k, [STROKE], feature="tumour"), [])
    width, height, _ = w.labels.document.plane_size(plane)
    spacing = plane_spacing(w.series, plane)
    cut = stroke_mask(STROKE["points"], 4.0, (height, width), spacing=spacing)
    expected = np.zeros(SHAPE, dtype=bool)
    _cut_into(expected, plane, k, cut)
    assert np.array_equal(w.labels.get_mask(u), expected)
    # round in mm: 4 column pixels reach 4 / 2 = 2 slices on coronal, fewer on sagittal
    touched = np.flatnonzero(cut.any(axis=1))
    assert touched.size < 12 and touched.size == len(w.labels.get(u).keyframes)
    obj = w.labels.get(u)
    assert obj.plane == "axial" and all(kf.manual for kf in obj.keyframes.values())
    assert w.labels.revision == 1
    # one masks patch per slice changed, then the ack; the patches rebuild the volume
    patches = [(m, b) for m, b in sent if m["type"] == "masks"]
    assert sorted(m["slice"] for m, _ in patches) == touched.tolist()
    rebuilt = np.zeros(SHAPE, dtype=bool)
    for msg, buffers in patches:
        assert msg["revision"] == 1
        [item] = msg["items"]
        x0, y0, x1, y1 = item["box"]
        rebuilt[msg["slice"], y0:y1, x0:x1] = _decode(item, buffers[0])
        assert item["area"] == expected[msg["slice"]].sum()
        # the checksum of the slice's whole mask after the paint, as labels_state has it
        crc = w.labels_state["objects"][0]["keyframes"][str(msg["slice"])]["mask_crc"]
        assert item["crc"] == crc == mask_crc(obj.keyframes[msg["slice"]].geometry)
    assert np.array_equal(rebuilt, expected)
    assert sent[-1][0] == {"type": "edit_ack", "request": 5, "revision": 1}


def test_a_reformat_stroke_keeps_what_the_plane_does_not_cut_and_is_one_undo() -> None:
    w, _ = _widget()
    blob = np.zeros(SHAPE, dtype=bool)
    blob[3:9, 8:20, 10:30] = True
    u = w.labels.add_mask("tumour", blob)
    before = w.labels.get_mask(u)
    eraser = {"tool": "eraser", "radius": 3.0, "points": [[12, 2], [12, 11]]}
    brush = {"tool": "brush", "radius": 2.0, "points": [[33, 6]]}
    w._on_page_message(w, _paint(1, u, "coronal", 10, [eraser, brush]), [])
    cut = before[:, 10, :].copy()
    cut &= ~stroke_mask(eraser["points"], 3.0, (12, 40), spacing=(2.0, 1.0))
    cut |= stroke_mask(brush["points"], 2.0, (12, 40), spacing=(2.0, 1.0))
    expected = before.copy()
    expected[:, 10, :] = cut
    assert np.array_equal(w.labels.get_mask(u), expected)
    assert w.labels.revision == 2  # add_mask, then ONE paint
    w._on_page_message(w, {"type": "undo", "series": "s0", "request": 2}, [])
    assert np.array_equal(w.labels.get_mask(u), before)
    w._on_page_message(w, {"type": "redo", "series": "s0", "request": 3}, [])
    assert np.array_equal(w.labels.get_mask(u), expected)


def test_overwrite_on_a_reformat_takes_the_cut_from_the_other_masks() -> None:
    """A stroke on a coronal reformat with ``overwrite``: each slice it reaches loses the
    painted row from the other bitmask objects, in the same edit; the page gets every changed
    object's patch; an object left without keyframes goes."""
    w, sent = _widget()
    blob = np.zeros(SHAPE, dtype=bool)
    blob[2:10, 5:20, 5:35] = True
    other = w.labels.add_mask("tumour", blob)
    thin = np.zeros(SHAPE, dtype=bool)
    thin[6, 10, 30:34] = True  # on one slice only, in the row the stroke paints
    gone = w.labels.add_mask("tumour", thin)
    u = _uuid()
    sent.clear()
    w._on_page_message(
        w, _paint(1, u, "coronal", 10, [STROKE], feature="vessel", overwrite=True), []
    )
    painted = w.labels.get_mask(u)
    assert painted[:, 10, :].any() and not painted[:, :10, :].any()
    assert np.array_equal(w.labels.get_mask(other), blob & ~painted)
    assert gone not in w.labels.document.objects
    by_slice: dict[int, set[str]] = {}
    for content, _buffers in sent:
        if content["type"] == "masks":
            by_slice.setdefault(content["slice"], set()).update(i["uuid"] for i in content["items"])
    assert by_slice[6] == {u, other, gone}
    w.labels.undo()
    assert np.array_equal(w.labels.get_mask(other), blob)
    assert np.array_equal(w.labels.get_mask(gone), thin)
    assert u not in w.labels.document.objects


def test_erasing_a_reformat_empties_slices_and_then_the_object() -> None:
    w, _ = _widget()
    blob = np.zeros(SHAPE, dtype=bool)
    blob[4:6, 10, 5:9] = True  # two slices, one row each: all in coronal 10
    u = w.labels.add_mask("tumour", blob)
    w.erase(u, 10, [[6, 4]], 2.5, plane="coronal")  # reaches slices 3-5, columns 4-8
    left = w.labels.get_mask(u)
    gone = stroke_mask([[6, 4]], 2.5, (12, 40), spacing=(2.0, 1.0))
    expected = blob.copy()
    expected[:, 10, :] &= ~gone
    assert np.array_equal(left, expected)
    assert set(w.labels.get(u).keyframes) == {z for z in (4, 5) if expected[z].any()}
    w.erase(u, 10, [[4, 4.5], [9, 4.5]], 3, plane="coronal")
    assert u not in w.labels.document.objects


def test_the_threshold_brush_on_a_reformat_compares_the_reformats_values() -> None:
    w, _ = _widget()
    u = _uuid()
    points = [[3.2, 1.5], [25.0, 9.0]]
    w.threshold_brush(u, 22, points, 5.5, (-50, 150), feature="tumour", plane="sagittal")
    image = plane_image(w.series.array, "sagittal", 22)
    spacing = plane_spacing(w.series, "sagittal")
    cut = threshold_brush(image, points, 5.5, -50, 150, spacing=spacing)
    assert cut.any() and not cut.all()
    expected = np.zeros(SHAPE, dtype=bool)
    _cut_into(expected, "sagittal", 22, cut)
    assert np.array_equal(w.labels.get_mask(u), expected)


def test_python_and_the_page_paint_a_reformat_alike() -> None:
    a, _ = _widget()
    b, _ = _widget()
    u = _uuid()
    a.brush(u, 12, STROKE["points"], 4.0, feature="vessel", plane="coronal")
    b._on_page_message(b, _paint(1, u, "coronal", 12, [STROKE], feature="vessel"), [])
    assert np.array_equal(a.labels.get_mask(u), b.labels.get_mask(u))
    assert a.labels.get_mask(u).any()


def test_a_polygon_is_painted_in_its_own_plane_only() -> None:
    w, sent = _widget()
    ring = [[5, 2], [25, 2], [25, 9], [5, 9]]
    p = w.labels.add_polygon("liver", 14, ring, plane="coronal")
    w.brush(p, 14, [[30, 5]], 3, plane="coronal")
    obj = w.labels.get(p)
    assert obj.shape == "polygon" and obj.plane == "coronal"
    xs = [x for x, _ in obj.keyframes[14].geometry.points]
    assert max(xs) > 30  # the outline grew to the right
    with pytest.raises(LabelError, match="drawn in the coronal plane; paint it there"):
        w.brush(p, 14, [[30, 5]], 3, plane="sagittal")
    axial = w.labels.add_polygon("liver", 2, [[5, 5], [15, 5], [15, 15]])
    w._on_page_message(w, _paint(8, axial, "coronal", 5, [STROKE]), [])
    assert "drawn in the axial plane" in sent[-1][0]["message"]


def test_bad_planes_and_slices_are_refused_and_change_nothing() -> None:
    w, sent = _widget()
    u = w.labels.add_mask("tumour", np.ones(SHAPE, bool))
    before = json.dumps(w.labels_state, sort_keys=True)
    cases = [
        (_paint(1, u, "oblique", 3, [STROKE]), "'plane' must be one of axial, coronal, sagittal"),
        (_paint(2, u, "sagittal", 40, [STROKE]), "its largest plane has 40 slices"),
        (_paint(5, u, "coronal", 35, [STROKE]), "the coronal plane has 30 slices"),
        (_paint(3, u, "coronal", -1, [STROKE]), "out of range"),
        (_paint(4, u, "axial", 12, [STROKE]), "the series has 12 slices"),
    ]
    for content, reason in cases:
        del sent[:]
        w._on_page_message(w, content, [])
        errors = [m for m, _ in sent if m.get("type") == "error"]
        assert len(errors) == 1 and reason in errors[0]["message"], errors
        assert "paint: paint" not in errors[0]["message"] and "refused: paint:" not in str(errors)
        assert not [m for m, _ in sent if m.get("type") in ("edit_ack", "masks")]
    assert json.dumps(w.labels_state, sort_keys=True) == before
    with pytest.raises(ValueError, match="plane must be one of"):
        w.brush(u, 3, [[1, 1]], 2, plane="oblique")
    with pytest.raises(LabelError, match=r"slice 30 is out of range \(the coronal plane has 30"):
        w.brush(u, 30, [[1, 1]], 2, plane="coronal")
    with pytest.raises(LabelError, match=r"slice 12 is out of range \(the series has 12 slices"):
        w.brush(u, 12, [[1, 1]], 2)
    w.labels.read_only = True
    with pytest.raises(LabelError, match="read-only"):
        w.brush(u, 3, [[1, 1]], 2, plane="coronal")


def test_a_paint_message_names_its_plane() -> None:
    msg = parse_page_message(
        _paint(3, "u", "sagittal", 30, [STROKE]), series_id="s0", n_slices=12, plane_slices=40
    )
    assert isinstance(msg, Paint) and msg.plane == "sagittal" and msg.slice == 30
    plain = dict(_paint(3, "u", "axial", 2, [STROKE]))
    del plain["plane"]
    got = parse_page_message(plain, series_id="s0", n_slices=12)
    assert isinstance(got, Paint) and got.plane == "axial"
    with pytest.raises(ProtocolError, match="'plane' must be one of"):
        parse_page_message(_paint(3, "u", 7, 2, [STROKE]), series_id="s0", n_slices=12)


def test_a_reformat_stroke_keeps_the_interpolated_keyframes_it_was_drawn_on() -> None:
    """QA: a stroke on a reformat reaching one slice of an interpolated stretch made that slice
    manual, and the others were recomputed: rows of the reformat the stroke never touched
    changed after Enter, unlike the preview. Now the object's interpolated keyframes become
    manual as they are, in the same edit (one undo restores them as interpolated)."""
    w, sent = _widget()
    yy, xx = np.mgrid[: SHAPE[1], : SHAPE[2]]
    blob = np.zeros(SHAPE, dtype=bool)
    blob[1] = (yy - 15) ** 2 + (xx - 20) ** 2 <= 4**2
    blob[10] = (yy - 15) ** 2 + (xx - 20) ** 2 <= 10**2
    u = w.labels.add_mask("tumour", blob)
    w.labels.interpolate(u)
    derived = sorted(z for z, kf in w.labels.get(u).keyframes.items() if not kf.manual)
    assert derived == list(range(2, 10))
    before = w.labels.get_mask(u)
    stroke = {"tool": "brush", "radius": 2.0, "points": [[3, 5.2], [6, 5.2]]}
    w._on_page_message(w, _paint(1, u, "coronal", 15, [stroke]), [])
    after = w.labels.get_mask(u)
    cut = stroke_mask(stroke["points"], 2.0, (SHAPE[0], SHAPE[2]), spacing=(2.0, 1.0))
    touched = np.flatnonzero(cut.any(axis=1)).tolist()
    assert touched == [5, 6]  # two of the interpolated slices
    expected = before.copy()
    expected[:, 15, :] |= cut
    assert np.array_equal(after, expected)  # nothing off the stroke changed
    assert all(kf.manual for kf in w.labels.get(u).keyframes.values())
    assert [m["slice"] for m, _ in sent if m["type"] == "masks"] == touched
    w.labels.undo()
    assert np.array_equal(w.labels.get_mask(u), before)
    assert sorted(z for z, kf in w.labels.get(u).keyframes.items() if not kf.manual) == derived


def test_a_stroke_from_python_sends_the_page_its_patches_before_the_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA: a Python stroke on a reformat made the page ask for every slice it changed (36
    get_masks for one stroke): it now sends the patches as for the page's own strokes, before
    the new revision, so the page's masks are current when it sees that revision."""
    from tests.test_widget import _record_comms

    log = _record_comms(monkeypatch)
    volume = np.zeros(SHAPE, dtype=np.int16)
    w = DicomAnnotator(open_series(volume, spacing=SPACING), ontology=_ontology())
    w._on_page_message(w, {"type": "get_labels", "series": "s0"}, [])  # a view is there
    del log[:]
    w.brush(_uuid(), 17, STROKE["points"], 4.0, feature="tumour", plane="coronal")
    order = [
        data["content"]["type"] if data["method"] == "custom" else "state"
        for kind, data in log
        if kind == "comm_msg"
    ]
    touched = len(w.labels.get(next(iter(w.labels)).uuid).keyframes)
    assert order == ["masks"] * touched + ["labels_patch"], order
