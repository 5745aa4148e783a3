"""Bitmask tools, the bitmask popup and the automated-labeling drawer in Chromium with the
harness's fake model: strokes preview at once and go out as ONE `paint` message on Apply, the
preview is exactly the kernel's coverage (kernels/brush.py), `masks` patches fill the page's
cache, and the drawer sends `interpolate` / `autosegment` requests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from dicom_annot_widget.kernels.brush import stroke_mask, threshold_brush

from .test_harness_labels import Screen, overlay_pixels, push_labels
from .test_harness_viewer import (  # noqa: F401 (a fixture)
    ct_volume,
    harness,
    model_get,
    mount,
    series,
    wait_model,
)

ROWS, COLUMNS = 48, 64
ONTOLOGY = {
    "objects": [
        {"id": "liver", "name": "Liver", "shape": "polygon", "color": "#e6194b", "hotkey": "1"},
        {"id": "organ", "name": "Organ", "shape": "bitmask", "color": "#3cb44b", "hotkey": "2"},
    ]
}
NO_MASK_ONTOLOGY = {"objects": [ONTOLOGY["objects"][0]]}
POLY_UUID = "5b0a3c1e-1111-4222-8333-444455556666"
MASK_UUID = "6c1b4d2f-1111-4222-8333-444455556666"


@pytest.fixture
def mpage(harness: Any) -> Any:  # noqa: F811
    """The harness page (see test_harness_viewer)."""
    return harness


def state(objects: list[dict[str, Any]] | None = None, revision: int = 0, onto: Any = None) -> Any:
    return {
        "revision": revision,
        "ontology": onto or ONTOLOGY,
        "objects": objects or [],
        "read_only": False,
    }


def polygon(frames: dict[str, bool]) -> dict[str, Any]:
    pts = [[10.0, 10.0], [40.0, 12.0], [30.0, 36.0]]
    return {
        "uuid": POLY_UUID,
        "object_id": 1,
        "feature": "liver",
        "shape": "polygon",
        "plane": "axial",
        "keyframes": {k: {"manual": m, "points": pts} for k, m in frames.items()},
    }


def sent(page: Any, wid: int, kind: str) -> list[dict[str, Any]]:
    return page.evaluate(
        "([i, t]) => window.widgets[i].calls.sent.filter((m) => m.type === t)", [wid, kind]
    )


def wait_sent(page: Any, wid: int, kind: str, n: int) -> list[dict[str, Any]]:
    page.wait_for_function(
        "([i, t, n]) => window.widgets[i].calls.sent.filter((m) => m.type === t).length >= n",
        arg=[wid, kind, n],
    )
    return sent(page, wid, kind)


def message(page: Any, wid: int, content: dict[str, Any], buffers: Sequence[bytes] = ()) -> None:
    page.evaluate(
        """([i, c, bufs]) => window.widgets[i].model._message(c,
             bufs.map((b) => new DataView(new Uint8Array(b).buffer)))""",
        [wid, content, [list(b) for b in buffers]],
    )


HALO_PAD_PX = 5  # js/ui/review.ts HALO_PAD: the halo stands this far outside the shape
REST = (2, ROWS - 2)  # where the pointer rests after a stroke (bottom left)


def mask_alpha(root: Any, _s: Screen | None = None, aspect: float = 1.0) -> np.ndarray:
    """Alpha of the overlay canvas at every voxel centre (rows x columns), 0 near the resting
    pointer (its brush outline; the strokes stay away from there). The layout is measured
    afresh (panels beside the viewport may have changed its size) once the canvas settled.
    ``aspect``: a row's height over a column's width."""
    root.page.wait_for_timeout(150)
    s = Screen(root, aspect=aspect)
    pts = [s.canvas_px(c, r) for r in range(ROWS) for c in range(COLUMNS)]
    alpha = root.get_by_test_id("daw-labels").evaluate(
        """(c, pts) => {
          const dpr = c.width / c.getBoundingClientRect().width;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const at = (x, y) => (Math.round(y * dpr) * c.width + Math.round(x * dpr)) * 4 + 3;
          return pts.map(([x, y]) => d[at(x, y)]);
        }""",
        pts,
    )
    out = np.asarray(alpha).reshape(ROWS, COLUMNS)
    out[ROWS - round(12 / aspect) :, :12] = 0
    return out


def stroke(page: Any, s: Screen, pts: list[tuple[float, float]], steps: int = 3) -> None:
    page.mouse.move(*s.at(*pts[0]))
    page.mouse.down()
    for p in pts[1:]:
        page.mouse.move(*s.at(*p), steps=steps)
    page.mouse.up()
    page.mouse.move(*s.at(*REST))  # the brush outline away from the stroke


def expected(strokes: list[dict[str, Any]], image: np.ndarray) -> np.ndarray:
    """The mask the kernel commits for these strokes on an empty mask (the protocol's rule)."""
    m = np.zeros((ROWS, COLUMNS), bool)
    for st in strokes:
        if st["tool"] == "brush":
            m |= stroke_mask(st["points"], st["radius"], (ROWS, COLUMNS))
        elif st["tool"] == "eraser":
            m &= ~stroke_mask(st["points"], st["radius"], (ROWS, COLUMNS))
        else:
            lo, hi = st["range"]
            m |= threshold_brush(image, st["points"], st["radius"], lo, hi)
    return m


def with_brush(page: Any, vol: np.ndarray, size: int | None = None) -> tuple[int, Any, Screen]:
    """Mount a widget on ``vol`` with no objects, the brush chosen (of ``size``)."""
    wid, root = mount(page, series(vol), state={"labels_state": state()})
    root.focus()
    page.keyboard.press("f")
    if size is not None:
        root.get_by_test_id("daw-mask-size").fill(str(size))
    return wid, root, Screen(root)


def new_mask_object(uuid: str, area: int) -> dict[str, Any]:
    """The object Python creates for a first paint of the "organ" class on slice 6."""
    return {
        "uuid": uuid,
        "object_id": 1,
        "feature": "organ",
        "shape": "bitmask",
        "plane": "axial",
        "keyframes": {"6": {"manual": True, "mask_area": area}},
    }


def test_mask_keys_need_a_bitmask_class(mpage: Any) -> None:
    page = mpage
    wid, root = mount(
        page, series(ct_volume()), state={"labels_state": state(onto=NO_MASK_ONTOLOGY)}
    )
    root.focus()
    page.keyboard.press("f")  # the viewer's fit: no brush without a bitmask class
    expect(root).to_have_attribute("data-tool", "select")
    expect(root.get_by_test_id("daw-tool-brush")).to_be_hidden()
    expect(root.get_by_test_id("daw-maskpop")).to_be_hidden()
    push_labels(page, wid, state(revision=1))
    for key, tool in (("f", "brush"), ("h", "eraser"), ("g", "threshold")):
        page.keyboard.press(key)
        expect(root).to_have_attribute("data-tool", tool)
        expect(root.get_by_test_id("daw-maskpop")).to_be_visible()
    expect(root.get_by_test_id("daw-mask-lo")).to_be_visible()  # the range: threshold only
    page.keyboard.press("f")
    expect(root.get_by_test_id("daw-mask-lo")).to_be_hidden()
    root.get_by_test_id("daw-tool-select").click()
    expect(root.get_by_test_id("daw-maskpop")).to_be_hidden()


def test_the_eraser_and_threshold_keys_give_them_from_another_class(mpage: Any) -> None:
    """QA 21b D1 (high): with a polygon (or box) class active, ``h``, ``g`` and the eraser's
    button gave the brush: telling the model the new tool made the page take the old class
    back (two model changes, each heard at once), whose default tool is the brush. An
    "erase" stroke then painted."""
    page = mpage
    wid, root = mount(page, series(ct_volume()), state={"labels_state": state()})
    get = "([i, key]) => window.widgets[i].model.get(key)"
    root.focus()
    for choose, tool in (
        (lambda: page.keyboard.press("h"), "eraser"),
        (lambda: page.keyboard.press("g"), "threshold"),
        (lambda: root.get_by_test_id("daw-tool-eraser").click(), "eraser"),
    ):
        page.keyboard.press("1")  # Liver, a polygon class: the polygon tool
        expect(root).to_have_attribute("data-tool", "polygon")
        choose()
        expect(root).to_have_attribute("data-tool", tool)
        expect(root.get_by_test_id("daw-class-organ")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate(get, [wid, "tool"]) == tool
        assert page.evaluate(get, [wid, "active_class"]) == "organ"
        root.focus()


def test_the_mask_opacity_is_synced_both_ways(mpage: Any) -> None:
    """QA 20 D9: the mask popup's opacity had no Python equivalent: ``w.mask_opacity``."""
    page = mpage
    wid, root = mount(
        page, series(ct_volume()), state={"labels_state": state(), "mask_opacity": 0.3}
    )
    root.focus()
    page.keyboard.press("f")
    slider = root.get_by_test_id("daw-mask-opacity")
    expect(slider).to_have_value("0.3")  # the widget's value when the popup opens
    page.evaluate("([i]) => window.widgets[i].model._push('mask_opacity', 0.8)", [wid])
    expect(slider).to_have_value("0.8")
    slider.fill("0.45")  # the slider -> the model
    page.wait_for_function(
        "([i]) => window.widgets[i].model.get('mask_opacity') === 0.45", arg=[wid]
    )


def test_brush_and_eraser_pend_until_apply_then_one_paint(mpage: Any) -> None:
    page = mpage
    vol = ct_volume()
    wid, root, s = with_brush(page, vol, 4)
    # a fast stroke: few pointer events far apart
    stroke(page, s, [(14, 18), (36, 30), (50, 42)], steps=2)
    page.keyboard.press("h")
    root.get_by_test_id("daw-mask-size").fill("3")
    stroke(page, s, [(26, 16), (26, 34)])
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "2")
    assert sent(page, wid, "paint") == []  # nothing leaves the page before Apply

    # the preview is the kernel's coverage of the strokes, pixel for pixel (no gaps)
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert paint["series"] == "s0" and paint["slice"] == 6 and paint["feature"] == "organ"
    assert [(st["tool"], st["radius"]) for st in paint["strokes"]] == [("brush", 4), ("eraser", 3)]
    want = expected(paint["strokes"], vol[6])
    assert want.sum() > 200
    got = mask_alpha(root, s) > 0  # still drawn while Python works (the committing edit)
    assert np.array_equal(got, want), np.argwhere(got != want)[:10]

    # Python's answer: the patch, the ack, the labels with the new object
    ys, xs = np.nonzero(want)
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    bits = np.packbits(want[box[1] : box[3], box[0] : box[2]]).tobytes()
    item = {"uuid": paint["uuid"], "box": box, "full": False, "area": int(want.sum())}
    message(
        page,
        wid,
        {"type": "masks", "series": "s0", "slice": 6, "revision": 1, "items": [item]},
        [bits],
    )
    message(page, wid, {"type": "edit_ack", "request": paint["request"], "revision": 1})
    obj = new_mask_object(paint["uuid"], int(want.sum()))
    push_labels(page, wid, state([obj], revision=1))
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "0")
    got = mask_alpha(root) > 0  # now from the cache
    s = Screen(root)  # the side panels may have resized the viewport
    assert np.array_equal(got, want)
    assert sent(page, wid, "get_masks") == []  # the patch kept the slice current
    # the new object is selected: the next stroke adds to it (no feature)
    stroke(page, s, [(20, 40)])
    page.get_by_test_id("daw-mask-apply").click()
    paints = wait_sent(page, wid, "paint", 2)
    assert paints[1]["uuid"] == paint["uuid"] and "feature" not in paints[1]
    refused = {"type": "error", "request": paints[1]["request"], "message": "refused"}
    message(page, wid, refused)

    # a change from Python (new revision): the page asks for the slice again
    push_labels(page, wid, state([obj], revision=3))
    (ask,) = wait_sent(page, wid, "get_masks", 1)
    assert ask == {"type": "get_masks", "series": "s0", "slice": 6}
    empty = {"uuid": paint["uuid"], "box": None, "full": True, "area": 0}
    message(
        page,
        wid,
        {"type": "masks", "series": "s0", "slice": 6, "revision": 3, "items": [empty]},
        [b""],
    )
    page.wait_for_timeout(100)
    assert not (mask_alpha(root, s) > 0).any()


def test_strokes_on_the_next_slice_continue_the_new_object(mpage: Any) -> None:
    """QA 21b D2: a new object's strokes left pending on one slice, then continued on the next
    one, became two objects (one per slice); painting a structure slice after slice makes one,
    as applying on each slice does."""
    page = mpage
    wid, root, s = with_brush(page, ct_volume(), 3)
    stroke(page, s, [(14, 18), (30, 20)])
    page.keyboard.press("ArrowRight")
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-slice", "7")
    stroke(page, s, [(16, 20), (32, 22)])
    page.keyboard.press("Enter")
    first, second = wait_sent(page, wid, "paint", 2)
    assert (first["slice"], second["slice"]) == (6, 7)
    assert first["uuid"] == second["uuid"]
    assert first["feature"] == second["feature"] == "organ"


def test_the_brush_is_round_in_millimetres_on_non_square_pixels(mpage: Any) -> None:
    """QA 21b D7: on the series' own slices of non-square pixels (rows 0.5 mm, columns 1 mm)
    the brush was round in pixels, an ellipse twice as wide as tall in millimetres. The
    preview is now the kernel's disc in millimetres (``plane_spacing``), pixel for pixel."""
    page = mpage
    vol = ct_volume()
    wid, root = mount(page, series(vol, spacing=(2.0, 0.5, 1.0)), state={"labels_state": state()})
    root.focus()
    page.keyboard.press("f")
    s = Screen(root, aspect=0.5)  # rows 0.5 mm, columns 1 mm
    stroke(page, s, [(30, 24)])
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    (dab,) = paint["strokes"]
    assert dab["radius"] >= 3
    want = stroke_mask(dab["points"], dab["radius"], (ROWS, COLUMNS), spacing=(0.5, 1.0))
    rows, columns = np.nonzero(want)
    assert rows.max() - rows.min() > 1.5 * (columns.max() - columns.min())  # round in mm
    got = mask_alpha(root, aspect=0.5) > 0
    assert np.array_equal(got, want), np.argwhere(got != want)[:10]


def test_the_metadata_panel_opens_above_the_mask_popup(mpage: Any) -> None:
    """QA: with the brush on, the DICOM tags panel opened under the popup, which hid its title,
    search box and match count: the user typed into a field they could not see."""
    page = mpage
    _, root = mount(page, series(ct_volume()), state={"labels_state": state()})
    root.focus()
    page.keyboard.press("f")
    expect(root.get_by_test_id("daw-maskpop")).to_be_visible()
    root.get_by_test_id("daw-meta-toggle").click()
    search = root.get_by_test_id("daw-meta-search")
    expect(search).to_be_visible()
    on_top = search.evaluate(
        """(e) => { const r = e.getBoundingClientRect();
          return [0.1, 0.5, 0.9].every((f) => {
            const hit = document.elementFromPoint(r.left + f * r.width, r.top + r.height / 2);
            return hit === e || e.contains(hit); }); }"""
    )
    assert on_top


def test_popup_folds_and_moves_aside_and_keeps_the_pending_edit(mpage: Any) -> None:
    """The popup covers a corner of the image: it folds to its title bar and moves to the
    other side; neither touches the pending strokes, and Apply still commits them."""
    page = mpage
    wid, root = mount(page, series(ct_volume()), state={"labels_state": state()})
    root.focus()
    page.keyboard.press("f")
    pop = root.get_by_test_id("daw-maskpop")
    viewport = root.locator(".daw-viewport").bounding_box()
    box = pop.bounding_box()
    assert box["x"] + box["width"] > viewport["x"] + viewport["width"] / 2  # right side
    tall = box["height"]
    s = Screen(root)
    stroke(page, s, [(14, 18), (36, 30)])
    expect(pop).to_have_attribute("data-pending", "1")

    root.get_by_test_id("daw-mask-fold").click()
    expect(root.get_by_test_id("daw-mask-size")).to_be_hidden()
    expect(root.get_by_test_id("daw-mask-fold")).to_have_attribute("aria-expanded", "false")
    assert pop.bounding_box()["height"] < 0.75 * tall
    expect(root.get_by_test_id("daw-mask-apply")).to_be_visible()  # Apply stays at hand
    root.get_by_test_id("daw-mask-side").click()
    moved = pop.bounding_box()
    assert moved["x"] < viewport["x"] + viewport["width"] / 2  # now on the left
    root.get_by_test_id("daw-mask-fold").click()
    expect(root.get_by_test_id("daw-mask-size")).to_be_visible()

    expect(pop).to_have_attribute("data-pending", "1")
    root.get_by_test_id("daw-mask-apply").click()
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert [st["tool"] for st in paint["strokes"]] == ["brush"]


def test_the_preview_follows_a_stroke_while_it_is_drawn(mpage: Any) -> None:
    """Each pointer move redraws only what the stroke changed (QA 23b D6: a whole compose per
    move cost ~40 ms on 2048 x 2048): mid-stroke, with the button still down, the overlay
    shows exactly the coverage of the strokes so far, an eraser crossing a pending brush
    stroke included (away from the pointer, where the brush outline is drawn)."""
    page = mpage
    vol = ct_volume()
    wid, root, s = with_brush(page, vol, 4)
    stroke(page, s, [(10, 24), (54, 24)], steps=4)
    page.keyboard.press("h")  # the eraser, crossing it while the button is held
    root.get_by_test_id("daw-mask-size").fill("3")
    last = (40, 40)
    page.mouse.move(*s.at(20, 8))
    page.mouse.down()
    for p in [(24, 20), (30, 30), last]:
        page.mouse.move(*s.at(*p), steps=3)
    mid = mask_alpha(root, s) > 0
    page.mouse.up()
    page.mouse.move(*s.at(*REST))
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert [st["tool"] for st in paint["strokes"]] == ["brush", "eraser"]
    want = expected(paint["strokes"], vol[6])
    rows, cols = np.mgrid[0:ROWS, 0:COLUMNS]
    away = np.hypot(cols - last[0], rows - last[1]) > 6  # (the brush outline is there)
    assert want[away].sum() > 150 and (~want[away]).sum() > 150
    assert np.array_equal(mid[away], want[away]), np.argwhere((mid != want) & away)[:10]


def test_overwrite_other_masks_is_synced_and_sent_with_the_paint(mpage: Any) -> None:
    """The popup's "Overwrite other masks" is Python's w.mask_overwrite both ways, hidden for
    the eraser, and a paint applied with it on says so (the kernel takes the pixels from the
    other masks: test_widget_masks)."""
    page = mpage
    wid, root, s = with_brush(page, ct_volume(), 4)
    box = root.get_by_test_id("daw-mask-overwrite")
    expect(box).not_to_be_checked()
    box.check()
    page.wait_for_function("(i) => window.widgets[i].model.get('mask_overwrite') === true", arg=wid)
    stroke(page, s, [(14, 18), (36, 30)])
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert paint["overwrite"] is True
    page.evaluate("(i) => window.widgets[i].model._push('mask_overwrite', false)", wid)
    expect(box).not_to_be_checked()
    root.focus()
    page.keyboard.press("h")  # the eraser gains nothing: no such choice
    expect(box).to_be_hidden()
    page.keyboard.press("f")
    stroke(page, s, [(20, 10), (30, 10)])
    page.keyboard.press("Enter")
    second = wait_sent(page, wid, "paint", 2)[1]
    assert "overwrite" not in second


def test_threshold_brush_previews_only_the_range_and_escape_discards(mpage: Any) -> None:
    page = mpage
    vol = ct_volume()
    wid, root = mount(page, series(vol), state={"labels_state": state()})
    root.focus()
    page.keyboard.press("g")
    root.get_by_test_id("daw-mask-size").fill("6")
    root.get_by_test_id("daw-mask-lo").fill("-200")
    root.get_by_test_id("daw-mask-lo").press("Tab")
    root.get_by_test_id("daw-mask-hi").fill("400")
    root.get_by_test_id("daw-mask-hi").press("Tab")
    s = Screen(root)
    stroke(page, s, [(14, 14), (40, 34)])
    # Escape drops the pending strokes
    root.focus()
    page.keyboard.press("Escape")
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "0")
    assert not (mask_alpha(root, s) > 0).any()
    stroke(page, s, [(14, 14), (40, 34)])
    root.focus()
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    (st,) = paint["strokes"]
    assert st["tool"] == "threshold" and st["range"] == [-200, 400] and st["radius"] == 6
    want = expected(paint["strokes"], vol[6])
    disc = stroke_mask(st["points"], 6, (ROWS, COLUMNS))
    assert 0 < want.sum() < disc.sum()  # the range leaves some covered pixels out
    assert np.array_equal(mask_alpha(root, s) > 0, want)

    # the threshold preview tints the slice's pixels inside the range
    message(page, wid, {"type": "error", "request": paint["request"], "message": "no"})
    page.wait_for_timeout(50)
    root.get_by_test_id("daw-mask-preview").check()
    inside = (vol[6] >= -200) & (vol[6] <= 400)
    tint = mask_alpha(root, s) > 0
    inside[ROWS - 12 :, :12] = False  # under the resting brush outline
    assert np.array_equal(tint, inside)


def test_brush_on_a_selected_polygon_targets_it(mpage: Any) -> None:
    page = mpage
    wid, root = mount(
        page, series(ct_volume()), state={"labels_state": state([polygon({"6": True})])}
    )
    s = Screen(root)
    root.get_by_test_id("daw-tool-select").click()
    page.mouse.click(*s.at(28, 20))
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", POLY_UUID)
    root.focus()
    page.keyboard.press("f")
    expect(root).to_have_attribute("data-tool", "brush")
    stroke(page, s, [(12, 14), (20, 14)])
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "1")
    page.keyboard.press("h")
    stroke(page, s, [(25, 25)])
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert paint["uuid"] == POLY_UUID and "feature" not in paint
    assert [st["tool"] for st in paint["strokes"]] == ["brush", "eraser"]


def test_choosing_a_mask_class_lets_a_polygon_of_another_class_go(mpage: Any) -> None:
    """QA 24a D9: a Liver polygon still selected (as after drawing it), the key of the Organ
    mask class, a stroke, Enter: the stroke went into the polygon and no Organ object was
    made. Choosing a class chooses what the next stroke makes; the brush key alone (f)
    still paints the selected polygon (test_brush_on_a_selected_polygon_targets_it)."""
    page = mpage
    wid, root = mount(
        page, series(ct_volume()), state={"labels_state": state([polygon({"6": True})])}
    )
    page.evaluate(f"(i) => window.widgets[i].model._push('selected', '{POLY_UUID}')", wid)
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", POLY_UUID)
    root.focus()
    page.keyboard.press("2")  # Organ, a bitmask class: the brush
    expect(root).to_have_attribute("data-tool", "brush")
    wait_model(page, wid, "selected", None)
    s = Screen(root)
    stroke(page, s, [(50, 30), (56, 34)])
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert paint["uuid"] != POLY_UUID and paint["feature"] == "organ"


#: Whether the keyboard focus is in the (first) widget, not on the page's body.
FOCUS_IN_WIDGET = "() => document.querySelector('.daw-root').contains(document.activeElement)"


def test_automation_drawer_sends_interpolate_and_autosegment(mpage: Any) -> None:
    page = mpage
    wid, root = mount(
        page,
        series(ct_volume()),
        state={"labels_state": state([polygon({"2": True, "8": True, "5": False})])},
    )
    drawer = root.get_by_test_id("daw-automation")
    root.get_by_test_id("daw-automation-toggle").click()
    expect(root.get_by_test_id("daw-auto-start")).to_have_value("3")  # 1-based slice numbers
    expect(root.get_by_test_id("daw-auto-end")).to_have_value("9")
    expect(root.get_by_test_id("daw-auto-segment")).to_be_disabled()
    root.get_by_test_id("daw-auto-end").fill("7")
    root.get_by_test_id("daw-auto-run").click()
    (req,) = wait_sent(page, wid, "interpolate", 1)
    assert req == {
        "type": "interpolate",
        "series": "s0",
        "request": req["request"],
        "uuids": None,
        "start": 2,
        "end": 6,
    }
    expect(root.get_by_test_id("daw-auto-status")).to_have_text("Interpolating…")
    message(
        page, wid, {"type": "error", "request": req["request"], "message": "needs two keyframes"}
    )
    expect(root.get_by_test_id("daw-auto-status")).to_have_text("needs two keyframes")
    # QA: the Run button, disabled while it ran, dropped the keyboard to the page's body
    assert page.evaluate(FOCUS_IN_WIDGET)

    # the checklist
    root.get_by_test_id("daw-auto-which").select_option("list")
    root.get_by_test_id(f"daw-auto-obj-{POLY_UUID}").check()
    root.get_by_test_id("daw-auto-run").click()
    reqs = wait_sent(page, wid, "interpolate", 2)
    assert reqs[1]["uuids"] == [POLY_UUID] and reqs[1]["start"] == 2 and reqs[1]["end"] == 8
    message(page, wid, {"type": "edit_ack", "request": reqs[1]["request"], "revision": 1})
    frames = {str(k): k in (2, 8) for k in range(2, 9)}
    push_labels(page, wid, state([polygon(frames)], revision=1))
    expect(root.get_by_test_id("daw-auto-status")).to_have_text(
        "Done: 1 object now has 5 interpolated keyframes (1 before)"
    )

    # auto-segment: the selected polygon on this slice
    s = Screen(root)
    root.get_by_test_id("daw-tool-select").click()
    page.mouse.click(*s.at(28, 20))
    expect(root.get_by_test_id("daw-auto-segment")).to_be_enabled()
    root.get_by_test_id("daw-auto-segment").click()
    (seg,) = wait_sent(page, wid, "autosegment", 1)
    assert seg["uuid"] == POLY_UUID and seg["slice"] == 6
    expect(drawer).to_be_visible()


def test_a_stroke_released_outside_the_image_ends_there(mpage: Any) -> None:
    """The button released outside the widget ends the stroke: moving back over the image
    without a button paints nothing (the viewport captures the pointer like every drag)."""
    page = mpage
    wid, root, s = with_brush(page, ct_volume(), 2)
    page.mouse.move(*s.at(10, 10))
    page.mouse.down()
    page.mouse.move(*s.at(20, 12), steps=3)
    outside = root.bounding_box()
    page.mouse.move(outside["x"] + outside["width"] + 40, outside["y"] + 5, steps=3)
    page.mouse.up()
    page.mouse.move(*s.at(40, 36), steps=3)  # back over the image, no button
    page.mouse.move(*s.at(52, 40), steps=3)
    root.focus()
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    (st,) = paint["strokes"]
    pts = np.asarray(st["points"])
    assert len(pts) >= 2
    # nothing from the moves after the release: they all lie far below the stroke's rows
    assert pts[:, 1].max() < 30, pts


def test_enter_on_a_focused_button_presses_that_button(mpage: Any) -> None:
    """Enter on the keyboard-focused Discard button discards (the editor's Enter, Apply, must
    not take the key from the button)."""
    page = mpage
    wid, root, s = with_brush(page, ct_volume())
    stroke(page, s, [(14, 18), (36, 30)])
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_have_attribute("data-pending", "1")
    root.get_by_test_id("daw-mask-discard").focus()
    page.keyboard.press("Enter")
    expect(pop).to_have_attribute("data-pending", "0")
    page.wait_for_timeout(100)
    assert sent(page, wid, "paint") == []


def test_switching_series_sends_the_pending_strokes_first(mpage: Any) -> None:
    """Unapplied strokes are not lost when the user goes to the next series: they go out as
    the `paint` of the series they were drawn on, then the series changes."""
    from .test_harness_viewer import wait_model

    page = mpage
    a = series(ct_volume(n=12), sid="s0", index=0, count=2)
    b = series(ct_volume(n=8, seed=3), sid="s1", index=1, count=2)
    b["info"]["series_index"] = 1
    wid, root = mount(page, a, b, state={"labels_state": state()})
    root.focus()
    page.keyboard.press("f")
    stroke(page, Screen(root), [(14, 18), (36, 30)])
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "1")
    root.get_by_test_id("daw-series-next").click()
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert paint["series"] == "s0" and [st["tool"] for st in paint["strokes"]] == ["brush"]
    wait_model(page, wid, "series_index", 1)
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "0")


def test_undo_before_apply_takes_back_the_last_stroke(mpage: Any) -> None:
    """Ctrl+Z with strokes pending takes back the last one (as it takes back a polygon's
    last vertex) instead of undoing an applied edit under them."""
    page = mpage
    vol = ct_volume()
    wid, root, s = with_brush(page, vol, 3)
    stroke(page, s, [(10, 10), (30, 12)])
    stroke(page, s, [(20, 30), (50, 34)])
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_have_attribute("data-pending", "2")
    root.focus()
    page.keyboard.press("Control+z")
    expect(pop).to_have_attribute("data-pending", "1")
    assert [m for m in sent(page, wid, "undo")] == []  # nothing went to Python
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    assert len(paint["strokes"]) == 1
    want = expected(paint["strokes"], vol[6])
    assert want[10, 20] and not want[32, 35]
    assert np.array_equal(mask_alpha(root, s) > 0, want)  # the preview lost the stroke too


def test_strokes_for_a_deleted_object_are_dropped_with_a_notice(mpage: Any) -> None:
    page = mpage
    wid, root, s = with_brush(page, ct_volume())
    stroke(page, s, [(14, 18), (36, 30)])
    page.keyboard.press("Enter")
    (paint,) = wait_sent(page, wid, "paint", 1)
    message(page, wid, {"type": "edit_ack", "request": paint["request"], "revision": 1})
    push_labels(page, wid, state([new_mask_object(paint["uuid"], 10)], revision=1))
    stroke(page, s, [(20, 40)])  # adds to the new object (selected)
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_have_attribute("data-pending", "1")
    push_labels(page, wid, state([], revision=2))  # the object is deleted (undo, Python...)
    expect(pop).to_have_attribute("data-pending", "0")
    expect(root.locator(".daw-toast")).to_contain_text("their object was deleted")


def test_strokes_pending_when_review_mode_turns_on_are_dropped_with_a_notice(mpage: Any) -> None:
    """QA: Python set ``w.read_only = True`` while strokes were pending; they vanished without
    a word, and Enter then refused strokes the user could no longer see."""
    page = mpage
    wid, root, s = with_brush(page, ct_volume())
    stroke(page, s, [(14, 18), (36, 30)])
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_have_attribute("data-pending", "1")
    push_labels(page, wid, {**state([], revision=1), "read_only": True})
    expect(root.locator(".daw-toast")).to_contain_text(
        "1 unapplied stroke(s) discarded: the labels are read-only now"
    )
    expect(pop).to_be_hidden()
    root.focus()
    page.keyboard.press("Enter")
    assert sent(page, wid, "paint") == []


def test_the_image_stays_put_when_tools_and_panels_change(mpage: Any) -> None:
    """Choosing a tool (the polygon's free-hand control) or a panel growing in the side
    column (a selection's classes) never moves or resizes the image under the pointer."""
    page = mpage
    wid, root = mount(page, series(ct_volume()), state={"labels_state": state()})
    viewport = root.get_by_test_id("daw-viewport")
    before = viewport.bounding_box()
    push_labels(page, wid, state([polygon({"6": True})], revision=1))  # the first object
    expect(root.get_by_test_id("daw-side")).to_be_visible()
    page.wait_for_timeout(100)
    assert viewport.bounding_box() == before
    root.focus()
    for key in ["1", "f", "Escape"]:  # the polygon class (its tool), the brush, back
        page.keyboard.press(key)
        page.wait_for_timeout(50)
        assert viewport.bounding_box() == before, key
    # a side panel much taller than the image: the column scrolls, the image keeps its box
    side = root.get_by_test_id("daw-side")
    side.evaluate(
        "(s) => { const d = document.createElement('div'); d.style.height = '2000px';"
        " d.className = 'daw-test-tall'; s.append(d); }"
    )
    page.wait_for_timeout(100)
    assert viewport.bounding_box() == before
    assert side.bounding_box()["height"] <= before["height"] + 1


def test_clicking_a_mask_selects_its_object(mpage: Any) -> None:
    """With the select tool, a click on painted mask pixels selects that bitmask object (as
    a click inside a polygon selects the polygon); a click beside it selects nothing."""
    page = mpage
    obj = new_mask_object(MASK_UUID, 120)
    wid, root = mount(page, series(ct_volume()), state={"labels_state": state([obj], 1)})
    wait_sent(page, wid, "get_masks", 1)
    mask = np.zeros((ROWS, COLUMNS), bool)
    mask[20:30, 30:42] = True
    box = [30, 20, 42, 30]
    bits = np.packbits(mask[20:30, 30:42]).tobytes()
    item = {"uuid": MASK_UUID, "box": box, "full": True, "area": int(mask.sum())}
    message(
        page,
        wid,
        {"type": "masks", "series": "s0", "slice": 6, "revision": 1, "items": [item]},
        [bits],
    )
    s = Screen(root)
    labels = root.get_by_test_id("daw-labels")
    expect(root).to_have_attribute("data-tool", "select")
    page.mouse.click(*s.at(35, 25))
    expect(labels).to_have_attribute("data-selected", MASK_UUID)
    page.mouse.click(*s.at(10, 10))
    expect(labels).not_to_have_attribute("data-selected", MASK_UUID)


def test_the_mask_popup_stays_inside_a_narrow_view(mpage: Any) -> None:
    """QA: in a narrow notebook (a 220 px image) the 230 px popup was cut off on its left,
    hiding its labels and the start of the range slider. A narrow view now starts with the
    popup folded to its title line, which names the tool, size and range; unfolded, it stays
    inside the view. While a stroke is drawn the popup is see-through. (In a widget of 650 px
    the image beside the objects panel is under 420 px wide; a narrower widget docks the
    popup below the image.)"""
    page = mpage
    _, root = mount(page, series(ct_volume()), state={"labels_state": state()}, width=650)
    root.focus()
    page.keyboard.press("g")
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_be_visible()
    view = root.get_by_test_id("daw-viewport").bounding_box()
    assert view is not None
    assert view["width"] < 420, view  # the case
    side = root.locator(".daw-side").bounding_box()
    assert side is not None and side["x"] >= view["x"] + view["width"], (side, view)  # beside
    fold = root.get_by_test_id("daw-mask-fold")
    expect(fold).to_have_attribute("aria-expanded", "false")
    expect(root.get_by_test_id("daw-mask-lo")).to_be_hidden()
    expect(pop).to_contain_text("Threshold 8 px · 40…200 HU")
    # [ and ] change the brush size (the slider follows)
    page.keyboard.press("]")
    expect(pop).to_contain_text("Threshold 9 px")
    page.keyboard.press("[")
    page.keyboard.press("[")
    expect(pop).to_contain_text("Threshold 7 px")
    expect(root.get_by_test_id("daw-mask-size")).to_have_value("7")
    folded = pop.bounding_box()
    assert folded is not None and folded["height"] < 0.25 * view["height"], (folded, view)
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "true")
    expect(pop).to_contain_text("Threshold brush")
    box = pop.bounding_box()
    assert box is not None
    assert box["x"] >= view["x"] and box["x"] + box["width"] <= view["x"] + view["width"] + 0.5
    lo = root.get_by_test_id("daw-mask-lo").bounding_box()
    assert lo is not None and lo["x"] >= view["x"], (lo, view)
    # the user's choice stands (not folded again on the next frames)
    page.wait_for_timeout(200)
    expect(fold).to_have_attribute("aria-expanded", "true")
    # a stroke drawn under the popup: it is see-through meanwhile
    x, y = view["x"] + 20, view["y"] + view["height"] - 20
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y - 5, steps=3)
    expect(pop).to_have_css("opacity", "0.25")
    page.mouse.up()
    expect(pop).to_have_css("opacity", "1")
    # QA: folded with a stroke pending, its title was cut ("Threshold 8 p…") and Discard
    # overflowed its button: the title wraps, the buttons keep their text
    expect(pop).to_have_attribute("data-pending", "1")
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "false")
    expect(pop).to_contain_text("Threshold 7 px · 40…200 HU · 1 pending")
    title = pop.locator(".daw-maskpop-title")
    for part in (
        title,
        root.get_by_test_id("daw-mask-discard"),
        root.get_by_test_id("daw-mask-apply"),
    ):
        expect(part).to_be_visible()
        assert part.evaluate("(e) => e.scrollWidth <= e.clientWidth"), part.inner_text()
    box = pop.bounding_box()
    assert box is not None and box["x"] + box["width"] <= view["x"] + view["width"] + 0.5


def test_a_tall_image_in_a_narrow_widget_leaves_the_docked_popup_on_screen(mpage: Any) -> None:
    """QA: in a narrow widget a portrait image took 72 % of the window's height, and the brush
    popup docked below it was below the fold when the widget's top was at the window's top.
    The image of a narrow widget takes at most 60 %: the popup's head shows with it."""
    page = mpage
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        vol = ct_volume(rows=96, columns=48)  # twice as tall as wide
        _, root = mount(page, series(vol), state={"labels_state": state()}, width=560)
        expect(root).to_have_class(re.compile("daw-narrow"))
        root.evaluate("(r) => r.scrollIntoView({block: 'start'})")
        root.focus()
        page.keyboard.press("g")
        pop = root.get_by_test_id("daw-maskpop")
        expect(pop).to_have_class(re.compile("daw-maskpop-docked"))
        view = root.get_by_test_id("daw-viewport").bounding_box()
        head = root.get_by_test_id("daw-mask-fold").bounding_box()
        assert view is not None and head is not None
        assert view["height"] <= 0.6 * 800 + 1, view
        assert head["y"] + head["height"] <= 800, (head, view)  # on screen, below the image
        assert head["y"] >= view["y"] + view["height"] - 1, (head, view)
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})


def test_a_docked_popup_opening_below_the_window_is_scrolled_into_view(mpage: Any) -> None:
    """QA: in three views side by side (tool bars of five rows) the docked popup opened below
    the window and nothing showed it. Opening, its title line is scrolled into view, as
    little as needed (the image stays mostly on screen)."""
    page = mpage
    page.set_viewport_size({"width": 1280, "height": 420})
    try:
        _, root = mount(page, series(ct_volume()), state={"labels_state": state()}, width=380)
        expect(root).to_have_class(re.compile("daw-narrow"))
        page.evaluate("document.body.style.paddingBottom = '1500px'")
        root.evaluate("(r) => r.scrollIntoView({block: 'start'})")
        before = page.evaluate("window.scrollY")
        head = root.get_by_test_id("daw-mask-fold")
        root.focus()
        page.keyboard.press("g")
        expect(root.get_by_test_id("daw-maskpop")).to_have_class(re.compile("daw-maskpop-docked"))
        page.wait_for_function("(y) => window.scrollY > y", arg=before)
        box = head.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 420 + 0.5, box
        # as little as needed: the title line at the window's bottom
        assert box["y"] + box["height"] >= 420 - 2, box
    finally:
        page.evaluate("document.body.style.paddingBottom = ''; window.scrollTo(0, 0)")
        page.set_viewport_size({"width": 1280, "height": 1000})


def test_in_a_narrow_widget_the_mask_popup_docks_below_the_image(mpage: Any) -> None:
    """QA: in a narrow view (three side by side) the unfolded popup covered the whole image,
    and a stroke landed on it. A widget narrower than 640 px has its objects panel below the
    image; the popup docks at the top of it, unfolded, and every pixel of the image takes
    strokes. Made wider, the widget puts it back over the image."""
    page = mpage
    _, root = mount(page, series(ct_volume()), state={"labels_state": state()}, width=300)
    root.focus()
    page.keyboard.press("g")
    pop = root.get_by_test_id("daw-maskpop")
    expect(pop).to_be_visible()
    expect(pop).to_have_class(re.compile("daw-maskpop-docked"))
    view = root.get_by_test_id("daw-viewport").bounding_box()
    box = pop.bounding_box()
    assert view is not None and box is not None
    assert box["y"] >= view["y"] + view["height"] - 1, (box, view)  # below the image
    expect(root.get_by_test_id("daw-mask-fold")).to_have_attribute("aria-expanded", "true")
    expect(root.get_by_test_id("daw-mask-lo")).to_be_visible()
    expect(root.get_by_test_id("daw-mask-side")).to_be_hidden()
    for field in ("daw-mask-lo", "daw-mask-hi"):
        f = root.get_by_test_id(field)
        assert f.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1"), field
    # a stroke across the top right of the image, where the popup used to be, is a stroke
    s = Screen(root)
    page.mouse.move(*s.at(54, 4))
    page.mouse.down()
    page.mouse.move(*s.at(60, 10), steps=3)
    page.mouse.up()
    expect(pop).to_have_attribute("data-pending", "1")
    expect(pop).not_to_have_class(re.compile("daw-maskpop-stroking"))
    # wider: over the image again, with the pending stroke
    root.evaluate("(r) => { r.closest('.cell').style.width = '900px'; }")
    expect(pop).not_to_have_class(re.compile("daw-maskpop-docked"))
    view = root.get_by_test_id("daw-viewport").bounding_box()
    box = pop.bounding_box()
    assert view is not None and box is not None
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
    expect(pop).to_have_attribute("data-pending", "1")


def test_a_mask_prediction_has_the_halo_and_tag_of_a_prediction(mpage: Any) -> None:
    """QA: masks imported from a model (NIfTI, SEG) looked like manual masks on the image;
    only boxes and outlines got the dashed halo and the "model 0.87" tag."""
    page = mpage
    obj = {
        **new_mask_object(MASK_UUID, 16 * 20),
        "source": "unet",
        "confidence": 0.87,
        "review": "pending",
    }
    wid, root = mount(page, series(ct_volume()), state={"labels_state": state([obj], revision=1)})
    mask = np.zeros((16, 20), dtype=bool)
    mask[:, :] = True
    item = {"uuid": MASK_UUID, "box": [10, 10, 30, 26], "full": True, "area": 320}
    message(
        page,
        wid,
        {"type": "masks", "series": "s0", "slice": 6, "revision": 1, "items": [item]},
        [np.packbits(mask).tobytes()],
    )
    page.wait_for_timeout(150)
    s = Screen(root)
    green = (0x3C, 0xB4, 0x4B)
    # above the mask's top edge (y = 9.5), outside its pixels: the dashed halo, in its colour
    x, y = s.canvas_px(20, 9.5)
    above = overlay_pixels(root, x, y - HALO_PAD_PX, r=3)
    assert any(
        p[3] > 150 and all(abs(a - b) < 60 for a, b in zip(p[:3], green, strict=True))
        for p in above
    )
    # below its bottom edge: the tag's dark background
    x, y = s.canvas_px(10, 25.5)
    below = overlay_pixels(root, x - HALO_PAD_PX + 4, y + HALO_PAD_PX + 2 + 7, r=1)
    assert max(p[3] for p in below) > 100


def test_the_brush_outline_goes_when_the_pointer_leaves_the_image(mpage: Any) -> None:
    """QA: the outline stayed on the image when the pointer moved onto the popup or out of
    the view."""
    page = mpage
    _, root, s = with_brush(page, ct_volume(), 6)

    def outline() -> int:
        page.wait_for_timeout(150)
        alpha = root.get_by_test_id("daw-labels").evaluate(
            "(c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
            ".filter((v, i) => i % 4 === 3 && v > 0).length"
        )
        return int(alpha)

    page.mouse.move(*s.at(20, 24))
    assert outline() > 0
    pop = root.get_by_test_id("daw-maskpop").bounding_box()
    page.mouse.move(pop["x"] + pop["width"] / 2, pop["y"] + 5)
    assert outline() == 0
    page.mouse.move(*s.at(20, 24))
    assert outline() > 0
    view = root.get_by_test_id("daw-viewport").bounding_box()
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] + 40)
    assert outline() == 0


def test_the_keyboard_shortcuts_card_lists_the_keys_with_the_ontologys(mpage: Any) -> None:
    """`?` (or the keyboard button) shows every key the widget answers, the ontology's class
    keys among them (names as text); with a bitmask class, F / H / G are the mask tools.
    Escape or `?` closes it; the keys stay in the widget."""
    page = mpage
    onto = {
        "objects": [*ONTOLOGY["objects"], {"id": "x", "name": "<i>Cyst</i>", "shape": "polygon"}]
    }
    _, root = mount(page, series(ct_volume()), state={"labels_state": state(onto=onto)})
    card = root.get_by_test_id("daw-shortcuts")
    expect(card).to_be_hidden()
    root.focus()
    page.keyboard.press("?")
    expect(card).to_be_visible()
    expect(root.get_by_test_id("daw-shortcuts-toggle")).to_have_attribute("aria-pressed", "true")
    for text in ("cine: play / stop", "class Liver (and its tool)", "class Organ", "F / H / G"):
        expect(card).to_contain_text(text)
    expect(card).to_contain_text("class <i>Cyst</i> (and its tool)")  # text, not HTML
    assert card.locator("i").count() == 0
    expect(card).not_to_contain_text("fit the image")  # F is the brush here
    # QA 21a D1: every action can be read: no cell past the card's edge, none squeezed (in a
    # widget wide enough for the card's two columns, as in JupyterLab)
    root.evaluate("(r) => { r.style.width = '1000px'; }")
    page.wait_for_function(
        "(c) => c.getBoundingClientRect().width >= 550", arg=card.element_handle()
    )
    cells = card.evaluate(
        """(c) => { const right = c.getBoundingClientRect().right;
          return [...c.querySelectorAll('td')].map((td) => {
            const r = td.getBoundingClientRect();
            return [td.textContent, r.right - right, r.width, td.scrollWidth - td.clientWidth];
          }); }"""
    )
    assert len(cells) > 30
    assert not [c for c in cells if c[1] > 0.5 or c[3] > 0], cells
    assert min(c[2] for c in cells[1::2]) >= 80, cells  # the actions' column
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    root.get_by_test_id("daw-shortcuts-toggle").click()
    expect(card).to_be_visible()
    root.focus()
    page.keyboard.press("?")
    expect(card).to_be_hidden()
    expect(root.get_by_test_id("daw-shortcuts-toggle")).to_have_attribute("aria-pressed", "false")


def test_a_large_image_gets_a_large_brush_and_the_popup_buttons_their_names(mpage: Any) -> None:
    """QA 23b D6: the brush's size stopped at 100 px whatever the image (5 % of a 2048 px
    radiograph; Python takes 512): it reaches a quarter of the image's longer side. D4: the
    popup's fold and move buttons were announced by their symbols."""
    page = mpage
    vol = np.zeros((1, 1024, 768), np.int16)
    _wid, root, _s = with_brush(page, vol)
    size = root.get_by_test_id("daw-mask-size")
    expect(size).to_have_attribute("max", "256")
    size.fill("250")
    expect(size).to_have_value("250")
    root.focus()
    page.keyboard.press("]")
    expect(size).to_have_value("256")  # 250 + 15 %, within the image's reach
    for testid, name in [
        ("daw-mask-side", "Move this panel to the other side of the image"),
        ("daw-mask-fold", "Collapse or expand this panel"),
    ]:
        expect(root.get_by_test_id(testid)).to_have_attribute("aria-label", name)
        expect(root.get_by_role("button", name=name)).to_have_count(1)


def test_a_selection_and_class_set_before_the_page_is_up_are_kept(mpage: Any) -> None:
    """QA 23b D8: w.selected (and w.active_class) set in the cell that made the widget were
    told back to Python as None by the page, which took the labels before Python's choices:
    the next stroke meant for the liver made a new object."""
    page = mpage
    uuid = "7d0c8a1e-2b3c-4d5e-8f90-a1b2c3d4e5f6"
    labels = state([new_mask_object(uuid, 40)], revision=1)
    wid, root = mount(
        page,
        series(ct_volume()),
        state={"labels_state": labels, "selected": uuid, "active_class": "organ"},
    )
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", uuid)
    page.wait_for_timeout(300)
    assert model_get(page, wid, "selected") == uuid
    assert model_get(page, wid, "active_class") == "organ"
