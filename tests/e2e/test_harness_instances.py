"""The instances panel, copy/paste between slices and the predictions review in Chromium with
the harness's fake model: what the page shows for a pushed labels_state, and the edit messages
it sends (each checked against a real `Labels`, so Python accepts exactly what the page
sends)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .test_harness_labels import (
    LESION_RGB,
    Screen,
    apply_in_python,
    drag,
    edits,
    labels_state,
    lpage,  # noqa: F401 (a fixture)
    mount_labels,
    overlay_pixels,
    push_labels,
    wait_edits,
)
from .test_harness_viewer import (
    ct_volume,
    harness,  # noqa: F401 (a fixture)
    mount,
    series,
)

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"
P1 = "44444444-4444-4444-8444-444444444444"
P2 = "55555555-5555-4555-8555-555555555555"
P3 = "66666666-6666-4666-8666-666666666666"


def box(uuid: str, object_id: int, frames: dict[int, list[float]], **extra: Any) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "object_id": object_id,
        "feature": "lesion",
        "shape": "bounding_box",
        "plane": "axial",
        "source": "manual",
        "review": None,
        "keyframes": {str(k): {"manual": True, "box": b} for k, b in frames.items()},
        **extra,
    }


def polygon(uuid: str, object_id: int, k: int, points: list[list[float]]) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "object_id": object_id,
        "feature": "liver",
        "shape": "polygon",
        "plane": "axial",
        "source": "manual",
        "review": None,
        "keyframes": {str(k): {"manual": True, "points": points}},
    }


def prediction(
    uuid: str, object_id: int, feature: str, k: int, geo: dict[str, Any]
) -> dict[str, Any]:
    shape = {"lesion": "bounding_box", "liver": "polygon"}[feature]
    return {
        "uuid": uuid,
        "object_id": object_id,
        "feature": feature,
        "shape": shape,
        "plane": "axial",
        "source": "detector",
        "review": "pending",
        "confidence": 0.87,
        "keyframes": {str(k): {"manual": True, **geo}},
    }


def create_op(obj: dict[str, Any]) -> dict[str, Any]:
    """The create_object op that puts `obj` into a real Labels."""
    keep = ("uuid", "object_id", "feature", "plane", "source", "review", "confidence", "keyframes")
    return {"op": "create_object", "object": {k: obj[k] for k in keep if k in obj}}


def row(root: Any, uuid: str) -> Any:
    return root.locator(f'[data-testid="daw-inst-row"][data-uuid="{uuid}"]')


def action(root: Any, uuid: str, name: str) -> Any:
    """A row's button, as a user reaches it: the pointer on the row shows its buttons."""
    r = row(root, uuid)
    r.hover()
    return r.locator(f'[data-action="{name}"]')


def test_instances_panel_lists_selects_hides_jumps_and_deletes(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [
        box(U1, 1, {6: [12, 8, 30, 24], 9: [12, 8, 30, 24]}),
        polygon(U2, 2, 3, [[40, 5], [60, 5], [52, 25]]),
        box(U3, 3, {6: [40, 30, 55, 44]}),
    ]
    objects[0]["keyframes"]["7"] = {"manual": False, "box": [12, 8, 30, 24]}
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    panel = root.get_by_test_id("daw-instances")
    expect(panel).to_contain_text("Objects (3)")
    rows = root.get_by_test_id("daw-inst-row")
    expect(rows).to_have_count(3)
    # class name, id, in object_id order
    assert [r.get_attribute("data-object-id") for r in rows.all()] == ["1", "2", "3"]
    expect(rows.nth(0)).to_contain_text("#1")
    expect(rows.nth(0)).to_contain_text("Lesion")
    expect(rows.nth(1)).to_contain_text("Liver")
    # the track bar says where the keyframes are (1-based slices)
    track = row(root, U1).locator("canvas")
    assert track.get_attribute("title") == "keyframes on slices 7, 10; interpolated: 8"
    # the bar is drawn: manual ticks are opaque
    alpha = track.evaluate(
        """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] === 255) n++; return n; }"""
    )
    assert alpha > 0

    labels = root.get_by_test_id("daw-labels")
    s = Screen(root)
    # a click on the canvas selects the object and highlights its row
    page.mouse.click(*s.at(47, 37))
    expect(labels).to_have_attribute("data-selected", U3)
    expect(row(root, U3)).to_have_attribute("aria-selected", "true")
    expect(row(root, U1)).to_have_attribute("aria-selected", "false")
    # a click on a row of an object not drawn here goes to its slice and selects it
    row(root, U2).locator(".daw-inst-name").click()
    expect(labels).to_have_attribute("data-slice", "3")
    expect(labels).to_have_attribute("data-selected", U2)
    expect(row(root, U2)).to_have_attribute("aria-selected", "true")
    # jump: to the nearest keyframe of #1 (slice 6 from slice 3)
    action(root, U1, "jump").click()
    expect(labels).to_have_attribute("data-slice", "6")
    expect(labels).to_have_attribute("data-count", "2")
    # a click on the track bar goes to the keyframe nearest to that slice (10 of 12 slices: 9)
    bar = row(root, U1).locator(".daw-inst-bar").bounding_box()
    page.mouse.click(bar["x"] + bar["width"] * 10.5 / 12, bar["y"] + bar["height"] / 2)
    expect(labels).to_have_attribute("data-slice", "9")
    action(root, U1, "jump").click()  # already on a keyframe: stays
    expect(labels).to_have_attribute("data-slice", "9")
    page.mouse.click(bar["x"] + bar["width"] * 5.5 / 12, bar["y"] + bar["height"] / 2)
    expect(labels).to_have_attribute("data-slice", "6")
    # visibility toggle: hidden from the canvas, shown again
    hide = action(root, U3, "hide")
    hide.click()
    expect(hide).to_have_attribute("aria-pressed", "true")
    expect(labels).to_have_attribute("data-count", "1")
    hide.click()
    expect(labels).to_have_attribute("data-count", "2")
    # delete sends delete_object for that uuid (nothing else was sent so far)
    assert edits(page, wid) == []
    action(root, U3, "delete").click()
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"] == {"op": "delete_object", "uuid": U3}
    assert U3 not in apply_in_python(*map(create_op, objects), msg["op"]).document.objects
    expect(labels).to_have_attribute("data-count", "1")  # hidden at once (optimistic)


def test_selection_hidden_objects_tool_and_class_are_synced_both_ways(lpage: Any) -> None:  # noqa: F811
    """QA 20 D9: selecting, hiding, the tool and the class had no Python equivalent. The
    model's ``selected``, ``hidden``, ``tool`` and ``active_class`` follow the page, and the
    page follows them."""
    page = lpage
    objects = [box(U1, 1, {6: [12, 8, 30, 24]}), box(U3, 3, {6: [40, 30, 55, 44]})]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    labels = root.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-count", "2")
    get = "([i, key]) => window.widgets[i].model.get(key)"
    push = "([i, key, value]) => window.widgets[i].model._push(key, value)"
    # the page -> the model
    page.mouse.click(*Screen(root).at(47, 37))
    expect(labels).to_have_attribute("data-selected", U3)
    page.wait_for_function(f"({get})([{wid}, 'selected']) === '{U3}'")
    action(root, U1, "hide").click()
    page.wait_for_function(f"JSON.stringify(({get})([{wid}, 'hidden'])) === '[\"{U1}\"]'")
    expect(labels).to_have_attribute("data-count", "1")
    root.focus()
    page.keyboard.press("2")  # the Lesion class (a box class): the box tool with it
    expect(root).to_have_attribute("data-tool", "box")
    page.wait_for_function(f"({get})([{wid}, 'tool']) === 'box'")
    page.wait_for_function(f"({get})([{wid}, 'active_class']) === 'lesion'")
    # the model (Python) -> the page
    page.evaluate(push, [wid, "hidden", []])
    expect(labels).to_have_attribute("data-count", "2")
    expect(row(root, U1).locator('[data-action="hide"]')).to_have_attribute("aria-pressed", "false")
    page.evaluate(push, [wid, "selected", U1])
    expect(labels).to_have_attribute("data-selected", U1)
    expect(row(root, U1)).to_have_attribute("aria-selected", "true")
    page.evaluate(push, [wid, "selected", None])
    expect(labels).not_to_have_attribute("data-selected", re.compile("."))
    page.evaluate(push, [wid, "tool", "select"])
    expect(root).to_have_attribute("data-tool", "select")
    page.evaluate(push, [wid, "active_class", "liver"])  # a polygon class: the polygon tool
    expect(root).to_have_attribute("data-tool", "polygon")
    expect(root.get_by_test_id("daw-class-liver")).to_have_attribute("aria-pressed", "true")
    # a uuid the page does not list yet is selected when its object comes
    page.evaluate(push, [wid, "selected", U2])
    expect(labels).not_to_have_attribute("data-selected", U2)
    objects.append(box(U2, 2, {6: [20, 30, 30, 40]}))
    page.evaluate(push, [wid, "labels_state", labels_state(objects, revision=4)])
    expect(labels).to_have_attribute("data-selected", U2)


def test_hotkey_q_continues_the_first_instance_of_the_class(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [
        polygon(U2, 1, 6, [[40, 5], [60, 5], [52, 25]]),
        box(U1, 2, {6: [12, 8, 30, 24]}),
        box(U3, 3, {6: [40, 30, 55, 44]}),
    ]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    root.focus()
    page.keyboard.press("2")  # Lesion: q = #2, w = #3
    expect(row(root, U1).locator(".daw-inst-key")).to_have_text("q")
    expect(row(root, U3).locator(".daw-inst-key")).to_have_text("w")
    expect(row(root, U2).locator(".daw-inst-key")).to_have_text("")
    page.keyboard.press("ArrowRight")
    labels = root.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-slice", "7")
    page.keyboard.press("q")
    expect(root).to_have_attribute("data-continuing", U1)
    expect(root.get_by_test_id("daw-inst-continuing")).to_contain_text(
        "Next shape continues #2 Lesion"
    )
    expect(root.get_by_test_id("daw-continue-badge")).to_have_text("→ continues #2")
    expect(row(root, U1)).to_have_class("daw-inst-row daw-inst-continuing")
    expect(root).to_have_attribute("data-tool", "box")
    s = Screen(root)
    page.mouse.move(*s.at(14, 10))
    page.mouse.down()
    page.mouse.move(*s.at(33, 26), steps=4)
    page.mouse.up()
    (msg,) = wait_edits(page, wid, 1)
    op = msg["op"]
    assert op["op"] == "set_keyframe" and op["uuid"] == U1 and op["slice"] == 7
    assert op["manual"] is True
    assert all(
        abs(a - b) <= 0.5 for a, b in zip(op["geometry"]["box"], [14, 10, 33, 26], strict=True)
    )
    obj = apply_in_python(*map(create_op, objects), op).document.objects[U1]
    assert sorted(obj.keyframes) == [6, 7]
    # used once: the badge goes away
    expect(root).not_to_have_attribute("data-continuing", U1)
    expect(root.get_by_test_id("daw-continue-badge")).to_be_hidden()
    # w continues #3; the panel's cancel button (or Escape) stops it
    page.keyboard.press("w")
    expect(root).to_have_attribute("data-continuing", U3)
    root.get_by_test_id("daw-inst-continue-cancel").click()
    expect(root.get_by_test_id("daw-inst-continuing")).to_be_hidden()
    # the row's continue button does the same as the hotkey
    action(root, U3, "continue").click()
    expect(root).to_have_attribute("data-continuing", U3)
    root.focus()
    page.keyboard.press("Escape")
    expect(root).not_to_have_attribute("data-continuing", U3)
    # an object of another class (QA 21b: its class and tool came, the continuing went)
    expect(root).to_have_attribute("data-tool", "box")
    action(root, U2, "continue").click()
    expect(root).to_have_attribute("data-tool", "polygon")
    expect(root).to_have_attribute("data-continuing", U2)
    assert len(edits(page, wid)) == 1
    # deleted meanwhile (from Python): the continuing ends, and the page says so
    rest = [o for o in objects if o["uuid"] != U2]
    page.evaluate(
        "([i, s]) => window.widgets[i].model._push('labels_state', s)",
        [wid, labels_state(rest, revision=9)],
    )
    expect(root).not_to_have_attribute("data-continuing", U2)
    expect(root.locator(".daw-toast")).to_contain_text("being continued was deleted")


def test_copy_paste_keeps_the_track(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [box(U1, 1, {6: [12.5, 8.25, 30, 24]}), box(U3, 2, {7: [40, 30, 55, 44]})]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    page.evaluate(
        "() => { window.leaked = []; for (const t of ['keydown', 'keyup', 'keypress'])"
        " document.body.addEventListener(t, (e) => window.leaked.push(e.key)); }"
    )
    s = Screen(root)
    labels = root.get_by_test_id("daw-labels")
    page.mouse.click(*s.at(20, 15))
    expect(labels).to_have_attribute("data-selected", U1)
    page.keyboard.press("Control+c")
    expect(root.locator(".daw-toast")).to_contain_text("Copied #1")
    page.keyboard.press("ArrowRight")
    expect(labels).to_have_attribute("data-slice", "7")
    page.keyboard.press("Control+v")
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"] == {
        "op": "set_keyframe",
        "uuid": U1,
        "slice": 7,
        "geometry": {"box": [12.5, 8.25, 30, 24]},
        "manual": True,
    }
    expect(root.locator(".daw-toast")).to_contain_text("Pasted #1 on slice 8")
    expect(labels).to_have_attribute("data-count", "2")  # the preview, before any echo
    doc = apply_in_python(*map(create_op, objects), msg["op"]).document
    assert sorted(doc.objects[U1].keyframes) == [6, 7]
    # pasting where the object already has a keyframe replaces it, and says so
    objects[0]["keyframes"]["7"] = {"manual": True, "box": [1, 1, 5, 5]}
    push_labels(page, wid, labels_state(objects, revision=4))
    expect(labels).to_have_attribute("data-revision", "4")
    page.keyboard.press("Meta+v")
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"]["uuid"] == U1 and msgs[1]["op"]["slice"] == 7
    expect(root.locator(".daw-toast")).to_contain_text("replaces the keyframe")
    assert page.evaluate("window.leaked") == []


def test_predictions_are_marked_and_reviewed(lpage: Any) -> None:  # noqa: F811
    page = lpage
    manual = box(U1, 1, {6: [40, 30, 55, 44]})
    p1 = prediction(P1, 2, "lesion", 6, {"box": [10, 10, 20, 20]})
    p2 = prediction(P2, 3, "liver", 6, {"points": [[30, 5], [45, 5], [38, 20]]})
    p3 = prediction(P3, 4, "liver", 8, {"points": [[30, 5], [45, 5], [38, 20]]})
    objects = [manual, p1, p2, p3]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    review = root.get_by_test_id("daw-review")
    expect(review).to_contain_text("Predictions (3 to review)")
    expect(root.get_by_test_id("daw-review-class-lesion")).to_contain_text("Lesion (1)")
    expect(root.get_by_test_id("daw-review-class-liver")).to_contain_text("Liver (2)")
    expect(review.get_by_test_id("daw-review-row").first).to_contain_text("detector 0.87")
    expect(row(root, P1).locator(".daw-inst-tag")).to_have_text("0.87")
    expect(row(root, P1).locator(".daw-inst-tag")).to_have_attribute(
        "title", "prediction awaiting review: detector 0.87"
    )
    # on the canvas: a tag under the prediction's dashed halo; none under the manual box
    s = Screen(root)

    def tag_alpha(x0: float, y1: float) -> int:
        x, y = s.canvas_px(x0, y1)
        # the tag's dark background starts 5 + 2 px below the halo, at its left edge
        return max(p[3] for p in overlay_pixels(root, x - 5 + 3, y + 5 + 2 + 9, r=1))

    assert tag_alpha(10, 20) > 100
    assert tag_alpha(40, 44) == 0
    # dashed halo around the prediction, in the class colour
    hx, hy = s.canvas_px(15, 10)
    halo = overlay_pixels(root, hx, hy - 5, r=3)
    assert any(p[3] > 150 and abs(p[1] - LESION_RGB[1]) < 60 for p in halo), halo

    # a click on a prediction's row selects it and shows its slice
    review.locator(f'[data-testid="daw-review-row"][data-uuid="{P3}"]').click()
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-slice", "8")
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", P3)
    expect(review.locator(f'[data-uuid="{P3}"]').first).to_have_attribute("aria-selected", "true")
    root.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-slice", "6")
    # accept one (its row's ✓): a batch of update_object, as Labels.accept sends
    review.locator(f'[data-testid="daw-review-accept"][data-uuid="{P1}"]').click()
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"] == {
        "op": "batch",
        "label": "accept predictions",
        "ops": [{"op": "update_object", "uuid": P1, "changes": {"review": "accepted"}}],
    }
    # reject a class: one batch deleting both liver predictions (one undo step)
    root.get_by_test_id("daw-review-class-liver").get_by_test_id("daw-review-reject-class").click()
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"] == {
        "op": "batch",
        "label": "reject predictions",
        "ops": [{"op": "delete_object", "uuid": P2}, {"op": "delete_object", "uuid": P3}],
    }
    labels = apply_in_python(*map(create_op, objects), msg["op"], msgs[1]["op"])
    doc = labels.document
    assert sorted(doc.objects) == sorted([U1, P1])
    assert doc.objects[P1].review == "accepted" and doc.objects[P1].source == "detector"
    labels.undo()
    assert len(labels.document.objects) == 4  # the class rejection was one step
    # the kernel's answers (revisions 4 and 5), then its state after the undo (revision 6):
    # the accepted prediction loses its marks and leaves the list
    for m, revision in ((msg, 4), (msgs[1], 5)):
        page.evaluate(
            "([i, r, v]) => window.widgets[i].model._message({type: 'edit_ack', request: r, "
            "revision: v})",
            [wid, m["request"], revision],
        )
    p1["review"] = "accepted"
    push_labels(page, wid, labels_state([manual, p1, p2, p3], revision=6))
    expect(review).to_contain_text("Predictions (2 to review)")
    expect(root.get_by_test_id("daw-review-class-lesion")).to_have_count(0)
    page.wait_for_function("() => true")
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-revision", "6")
    assert tag_alpha(10, 20) == 0
    # accept all
    root.get_by_test_id("daw-review-accept-all").click()
    msgs = wait_edits(page, wid, 3)
    assert [o["uuid"] for o in msgs[2]["op"]["ops"]] == [P2, P3]


def test_a_double_click_on_a_review_button_decides_once(lpage: Any) -> None:  # noqa: F811
    """QA 22a: a double-click (or a second click before the kernel's answer) on a review
    button sent the same batch twice: two undo steps, so one ctrl+z "undid" nothing, and a
    double-clicked reject showed "edit refused: unknown object". A prediction with a decision
    on its way is not decided again; once refused, it can be decided anew."""
    page = lpage
    p1 = prediction(P1, 2, "lesion", 6, {"box": [10, 10, 20, 20]})
    p2 = prediction(P2, 3, "liver", 6, {"points": [[30, 5], [45, 5], [38, 20]]})
    p3 = prediction(P3, 4, "liver", 6, {"points": [[30, 25], [45, 25], [38, 40]]})
    wid, root = mount_labels(page, labels_state([p1, p2, p3], revision=3))
    review = root.get_by_test_id("daw-review")
    expect(review).to_contain_text("Predictions (3 to review)")

    def answer(msg: dict[str, Any], revision: int | None) -> None:
        reply = (
            {"type": "edit_ack", "request": msg["request"], "revision": revision}
            if revision is not None
            else {"type": "error", "request": msg["request"], "message": "refused"}
        )
        page.evaluate("([i, m]) => window.widgets[i].model._message(m)", [wid, reply])

    accept_liver = root.get_by_test_id("daw-review-class-liver").get_by_test_id(
        "daw-review-accept-class"
    )
    accept_liver.dblclick()
    (msg,) = wait_edits(page, wid, 1)
    assert [o["uuid"] for o in msg["op"]["ops"]] == [P2, P3]
    # answered, but the labels state of revision 4 has not come yet: still decided
    answer(msg, 4)
    accept_liver.click()
    reject_one = review.locator(f'[data-testid="daw-review-reject"][data-uuid="{P1}"]')
    reject_one.dblclick()
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"] == {
        "op": "batch",
        "label": "reject predictions",
        "ops": [{"op": "delete_object", "uuid": P1}],
    }
    page.wait_for_timeout(300)  # a second edit would have been sent by now
    assert len(edits(page, wid)) == 2
    # refused: the prediction can be decided again
    answer(msgs[1], None)
    reject_one.click()
    msgs = wait_edits(page, wid, 3)
    assert msgs[2]["op"]["ops"] == [{"op": "delete_object", "uuid": P1}]
    # the state of the accepted liver predictions comes: they leave the list
    accepted = [{**p, "review": "accepted"} for p in (p2, p3)]
    push_labels(page, wid, labels_state([p1, *accepted], revision=4))
    expect(review).to_contain_text("Predictions (1 to review)")
    assert len(edits(page, wid)) == 3


def test_the_review_list_of_thousands_of_predictions_is_virtual(lpage: Any) -> None:  # noqa: F811
    """QA 22a D3: the review list built a row for every prediction on every change: with
    3,000 predictions an accept blocked the page for 0.3 s, and a script streaming
    predictions kept it busy. The list renders the items in view only (a class's head, then
    its predictions); scrolling, Tab and the buttons reach every one of them."""
    page = lpage
    n_lesion, n_liver = 600, 400
    uid = "{:08d}-0000-4000-8000-000000000000".format
    objects = [
        prediction(uid(i), i + 1, "lesion", i % 12, {"box": [10, 10, 20, 20]})
        for i in range(n_lesion)
    ] + [
        prediction(uid(i), i + 1, "liver", i % 12, {"points": [[30, 5], [45, 5], [38, 20]]})
        for i in range(n_lesion, n_lesion + n_liver)
    ]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    review = root.get_by_test_id("daw-review")
    listing = review.get_by_test_id("daw-review-list")
    expect(review).to_contain_text("Predictions (1000 to review)")
    rows = review.get_by_test_id("daw-review-row")

    def in_list(item: Any) -> bool:
        """Within the list's scrolled box (the list itself may be below the page's fold)."""
        box, outer = item.bounding_box(), listing.bounding_box()
        return bool(
            outer["y"] - 1 <= box["y"]
            and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1
        )

    assert 5 <= rows.count() <= 25
    assert listing.bounding_box()["height"] <= 11 * 24 + 1
    # liver first, as in the ontology
    expect(root.get_by_test_id("daw-review-class-liver")).to_contain_text("Liver (400)")
    # the end of the list: the last lesion prediction
    listing.evaluate("(l) => { l.scrollTop = l.scrollHeight; }")
    last = review.locator(f'[data-testid="daw-review-row"][data-uuid="{uid(n_lesion - 1)}"]')
    expect(last).to_contain_text(f"#{n_lesion}")
    assert in_list(last)
    assert rows.count() <= 25
    # its ✕ rejects that one prediction
    last.get_by_test_id("daw-review-reject").click()
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["ops"] == [{"op": "delete_object", "uuid": uid(n_lesion - 1)}]
    # the lesion head, in the middle of the list
    listing.evaluate("(l) => { l.scrollTop = 401 * 24 - 100; }")
    expect(root.get_by_test_id("daw-review-class-lesion")).to_contain_text("Lesion (600)")
    # Tab walks the items in order past those rendered: from the liver head's Accept, one
    # Tab to its Reject, then two a prediction (its ✓ and ✕)
    listing.evaluate("(l) => { l.scrollTop = 0; }")
    liver = root.get_by_test_id("daw-review-class-liver")
    liver.get_by_test_id("daw-review-accept-class").focus()
    for _ in range(2 + 2 * 29):
        page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.dataset.uuid, document.activeElement.dataset.action]"
    )
    assert focused == [uid(n_lesion + 29), "accept"]
    thirtieth = review.locator(f'[data-testid="daw-review-row"][data-uuid="{uid(n_lesion + 29)}"]')
    assert in_list(thirtieth)
    assert rows.count() <= 25
    assert len(edits(page, wid)) == 1  # Tab decided nothing
    # a prediction selected elsewhere (from Python, the image, the objects list) comes into
    # view in the list
    push = "([i, k, v]) => window.widgets[i].model._push(k, v)"
    page.evaluate(push, [wid, "selected", uid(300)])
    chosen = review.locator(f'[data-testid="daw-review-row"][data-uuid="{uid(300)}"]')
    expect(chosen).to_have_attribute("aria-selected", "true")
    assert in_list(chosen)


def test_a_model_ontology_of_a_hundred_classes_leaves_the_image_in_view(lpage: Any) -> None:  # noqa: F811
    """QA 22a D7: the 117 classes of a segmentation model's ontology took a class bar 484 px
    high, the image below the fold; a long class name squeezed a prediction's confidence to
    "0...". The bar shows three rows and scrolls (the chosen class comes into view); the
    name gives way to the confidence."""
    page = lpage
    classes = [
        {
            "id": f"c{i}",
            "name": f"adrenal_gland_right_{i}",
            "shape": "bounding_box",
            "color": "#3cb44b",
        }
        for i in range(117)
    ]
    pred = {**prediction(P1, 1, "lesion", 6, {"box": [10, 10, 20, 20]}), "feature": "c116"}
    state = {**labels_state([pred], revision=1), "ontology": {"objects": classes}}
    wid, root = mount_labels(page, state)
    bar = root.get_by_test_id("daw-classes")
    expect(root.get_by_test_id("daw-class-c0")).to_be_visible()
    assert bar.bounding_box()["height"] <= 100
    assert bar.evaluate("(b) => b.scrollHeight > b.clientHeight")  # the rest scrolls
    top_of_image = root.get_by_test_id("daw-view").bounding_box()["y"]
    assert top_of_image - root.bounding_box()["y"] < 260
    # the last class chosen (from Python): its button comes into view in the bar
    push = "([i, k, v]) => window.widgets[i].model._push(k, v)"
    page.evaluate(push, [wid, "active_class", "c116"])
    last = root.get_by_test_id("daw-class-c116")
    expect(last).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => true")
    b, outer = last.bounding_box(), bar.bounding_box()
    assert outer["y"] - 1 <= b["y"] and b["y"] + b["height"] <= outer["y"] + outer["height"] + 1
    # the prediction's row: the confidence whole, the long class name cut
    tag = row(root, P1).locator(".daw-inst-tag")
    expect(tag).to_have_text("0.87")
    assert tag.evaluate("(t) => t.scrollWidth <= t.clientWidth")


def test_predictions_are_reviewed_by_keys(lpage: Any) -> None:  # noqa: F811
    """QA 22a: hundreds of predictions were reviewed by the mouse only. `.` / `,` select the
    next / previous prediction to review and show its slice; `a` accepts the selected one
    and goes on to the next; Shift+Delete rejects (deletes) it."""
    page = lpage
    manual = box(U1, 1, {6: [40, 30, 55, 44]})
    p1 = prediction(P1, 2, "lesion", 3, {"box": [10, 10, 20, 20]})
    p2 = prediction(P2, 3, "lesion", 8, {"box": [12, 10, 22, 20]})
    p3 = prediction(P3, 4, "liver", 9, {"points": [[30, 5], [45, 5], [38, 20]]})
    wid, root = mount_labels(page, labels_state([manual, p1, p2, p3], revision=3))
    labels = root.get_by_test_id("daw-labels")
    root.focus()
    page.keyboard.press(".")  # the first in the list (liver first, as in the ontology)
    expect(labels).to_have_attribute("data-selected", P3)
    expect(labels).to_have_attribute("data-slice", "9")
    page.keyboard.press(".")
    expect(labels).to_have_attribute("data-selected", P1)
    expect(labels).to_have_attribute("data-slice", "3")
    page.keyboard.press("a")  # accept #2, on to #3
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["ops"] == [
        {"op": "update_object", "uuid": P1, "changes": {"review": "accepted"}}
    ]
    expect(labels).to_have_attribute("data-selected", P2)
    expect(labels).to_have_attribute("data-slice", "8")
    page.keyboard.press("a")  # no double decision while the first is on its way
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"]["ops"] == [
        {"op": "update_object", "uuid": P2, "changes": {"review": "accepted"}}
    ]
    expect(labels).to_have_attribute("data-selected", P3)
    page.keyboard.press(",")  # back: the decided ones are passed over
    expect(labels).to_have_attribute("data-selected", P3)
    page.keyboard.press("Shift+Delete")  # reject it
    msgs = wait_edits(page, wid, 3)
    assert msgs[2]["op"] == {"op": "delete_object", "uuid": P3}
    # a manual object selected: `a` accepts nothing
    root.get_by_test_id("daw-inst-list").locator(f'[data-uuid="{U1}"]').first.click()
    expect(labels).to_have_attribute("data-selected", U1)
    root.focus()
    page.keyboard.press("a")
    page.wait_for_timeout(200)
    assert len(edits(page, wid)) == 3
    # the keys are on the shortcuts card
    page.keyboard.press("?")
    card = root.get_by_test_id("daw-shortcuts")
    expect(card).to_contain_text("previous / next prediction to review")
    expect(card).to_contain_text("accept the selected prediction, then the next")


def test_read_only_review_mode_blocks_every_edit(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [
        box(U1, 1, {6: [12, 8, 30, 24]}),
        prediction(P1, 2, "lesion", 6, {"box": [40, 30, 55, 44]}),
    ]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    badge = root.get_by_test_id("daw-readonly-badge")
    expect(badge).to_be_hidden()
    expect(action(root, U1, "delete")).to_be_enabled()
    push_labels(page, wid, labels_state(objects, revision=3, read_only=True))
    expect(badge).to_be_visible()
    expect(badge).to_have_text("Review mode: read-only")
    for name in ("delete", "continue"):
        expect(action(root, U1, name)).to_be_disabled()
    expect(action(root, U1, "jump")).to_be_enabled()  # not an edit
    for testid in ("daw-review-accept-all", "daw-review-reject-all"):
        expect(root.get_by_test_id(testid)).to_be_disabled()
    expect(root.get_by_test_id("daw-review-accept")).to_be_disabled()
    expect(root.get_by_test_id("daw-review-reject-class")).to_be_disabled()
    expect(row(root, U1).locator(".daw-inst-key")).to_have_text("")
    s = Screen(root)
    page.mouse.click(*s.at(20, 15))
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", U1)
    page.keyboard.press("Control+c")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+v")
    expect(root.get_by_test_id("daw-error")).to_contain_text("read-only")
    page.keyboard.press("q")
    expect(root).not_to_have_attribute("data-continuing", U1)
    action(root, U1, "delete").click(force=True)
    assert edits(page, wid) == []
    # back to editing: the badge goes, the controls come back
    push_labels(page, wid, labels_state(objects, revision=4))
    expect(badge).to_be_hidden()
    expect(action(root, U1, "delete")).to_be_enabled()


def test_rows_give_names_the_room_and_show_buttons_where_the_pointer_is(
    lpage: Any,  # noqa: F811
) -> None:
    """QA: five buttons on every row left "#3 Le..." of a class name even at full width. At
    rest a row shows its eye only; the pointer (or the keyboard, or the selection) brings the
    others."""
    page = lpage
    objects = [
        box(U1, 1, {6: [12, 8, 30, 24]}),
        prediction(P1, 2, "lesion", 6, {"box": [40, 30, 55, 44]}),
    ]
    _, root = mount_labels(page, labels_state(objects, revision=3))
    page.mouse.move(1, 1)  # away from the list
    for uuid in (U1, P1):
        name = row(root, uuid).locator(".daw-inst-name")
        whole = name.evaluate("(e) => e.scrollWidth <= e.clientWidth")
        assert whole, f"{name.text_content()!r} is cut"
        expect(row(root, uuid).locator('[data-action="hide"]')).to_be_visible()
        expect(row(root, uuid).locator('[data-action="delete"]')).to_be_hidden()
    row(root, U1).hover()
    for name in ("jump", "continue", "rename", "delete"):
        expect(row(root, U1).locator(f'[data-action="{name}"]')).to_be_visible()
    expect(row(root, P1).locator('[data-action="delete"]')).to_be_hidden()
    # the keyboard reaches them too: a focused button keeps its row's buttons shown
    page.mouse.move(1, 1)
    row(root, U1).locator('[data-action="hide"]').focus()
    expect(row(root, U1).locator('[data-action="delete"]')).to_be_visible()
    # ... backwards as well (QA: Shift+Tab skipped the hidden buttons of the row above)
    row(root, P1).locator('[data-action="jump"]').focus()
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate(
        "() => [document.activeElement.dataset.action,"
        " document.activeElement.closest('[data-uuid]')?.dataset.uuid]"
    )
    assert focused == ["hide", U1]
    page.keyboard.press("Shift+Tab")
    expect(row(root, U1).locator('[data-action="delete"]')).to_be_focused()
    expect(row(root, U1).locator('[data-action="delete"]')).to_be_visible()


def test_a_click_as_the_pointer_comes_onto_a_row_selects_it(lpage: Any) -> None:  # noqa: F811
    """QA: a click in the middle of a row hid the object: as the pointer came onto the row
    its buttons appeared and slid the eye under it. The eye now stays where it is, and
    buttons that have just appeared take no click: the click selects the row."""
    page = lpage
    objects = [box(U1, 1, {6: [12, 8, 30, 24]}), box(U2, 2, {6: [40, 30, 55, 44]})]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    page.mouse.move(1, 1)
    eye = row(root, U1).locator('[data-action="hide"]')
    at_rest = eye.bounding_box()
    row(root, U1).hover()
    expect(row(root, U1).locator('[data-action="delete"]')).to_be_visible()
    assert eye.bounding_box() == at_rest  # the eye did not move
    # where U2's delete button shows once the pointer is on its row
    row(root, U2).hover()
    delete = row(root, U2).locator('[data-action="delete"]')
    expect(delete).to_be_visible()
    d = delete.bounding_box()
    page.mouse.move(1, 1)
    expect(delete).to_be_hidden()
    page.mouse.click(d["x"] + d["width"] / 2, d["y"] + d["height"] / 2)  # arrives and clicks
    expect(row(root, U2)).to_have_attribute("aria-selected", "true")
    # the middle of U1's row, the same way
    page.mouse.move(1, 1)
    b = row(root, U1).bounding_box()
    page.mouse.click(b["x"] + b["width"] / 2, b["y"] + 8)
    expect(row(root, U1)).to_have_attribute("aria-selected", "true")
    expect(row(root, U1)).not_to_have_class(re.compile("daw-inst-hidden"))
    assert edits(page, wid) == []
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (2)")
    # a button shown for a moment takes clicks as usual
    row(root, U2).hover()
    page.wait_for_timeout(400)
    row(root, U2).locator('[data-action="hide"]').click()
    expect(row(root, U2)).to_have_class(re.compile("daw-inst-hidden"))


def test_the_review_list_follows_the_plane_and_marks_edited_predictions(lpage: Any) -> None:  # noqa: F811
    """QA: predictions imported while a reformat was shown left the review section hidden on
    the axial plane (the list was rebuilt on labels changes only, for the plane shown then),
    and a prediction a person had changed looked untouched."""
    page = lpage
    p1 = prediction(P1, 1, "lesion", 6, {"box": [10, 10, 20, 20]})
    wid, root = mount_labels(page, labels_state([p1], revision=1))
    review = root.get_by_test_id("daw-review")
    expect(review).to_contain_text("Predictions (1 to review)")
    root.get_by_test_id("daw-plane-coronal").click()
    expect(review).to_have_attribute("data-count", "0")
    expect(review).to_contain_text("Predictions: 1 on other planes to review")
    # imported while the coronal plane is shown (one of them edited by a person since)
    p2 = {**prediction(P2, 2, "liver", 7, {"points": [[30, 5], [45, 5], [38, 20]]}), "edited": True}
    push_labels(page, wid, labels_state([p1, p2], revision=2))
    expect(review).to_contain_text("Predictions: 2 on other planes to review")
    root.get_by_test_id("daw-plane-axial").click()
    expect(review).to_be_visible()
    expect(review).to_contain_text("Predictions (2 to review)")
    expect(review.get_by_test_id("daw-review-row")).to_have_count(2)
    edited = review.locator(f'[data-testid="daw-review-row"][data-uuid="{P2}"]')
    expect(edited).to_contain_text("detector 0.87 · edited")
    accept_all = root.get_by_test_id("daw-review-accept-all")
    reject_all = root.get_by_test_id("daw-review-reject-all")
    expect(accept_all).to_have_attribute("title", "Accept every prediction")
    # with predictions on another plane, the buttons say they decide this plane's (QA 22a D4)
    p3 = {**prediction(P3, 3, "lesion", 20, {"box": [10, 2, 20, 4]}), "plane": "coronal"}
    push_labels(page, wid, labels_state([p1, p2, p3], revision=3))
    expect(review).to_contain_text("Predictions (2 to review; 1 on other planes)")
    these = "the 2 predictions of this plane (1 more on other planes are listed there)"
    expect(accept_all).to_have_attribute("title", f"Accept {these}")
    expect(reject_all).to_have_attribute("title", f"Reject (delete) {these}")
    expect(review.locator(f'[data-testid="daw-review-row"][data-uuid="{P1}"]')).not_to_contain_text(
        "edited"
    )
    expect(row(root, P2).locator(".daw-inst-tag")).to_have_text("✎ 0.87")
    expect(row(root, P2).locator(".daw-inst-tag")).to_have_attribute(
        "title", "prediction awaiting review, edited by a person: detector 0.87 · edited"
    )


def test_objects_on_reformats_are_said_not_silently_dropped(lpage: Any) -> None:  # noqa: F811
    """QA: an object on a coronal reformat (from Python, or a file from before the page drew
    every shape on the series' own slices) vanished from the panel without a word."""
    page = lpage
    coronal = {**box(P1, 2, {20: [12, 2, 30, 6]}), "plane": "coronal"}
    _, root = mount_labels(page, labels_state([box(U1, 1, {6: [12, 8, 30, 24]}), coronal]))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (1)")
    note = root.get_by_test_id("daw-inst-other")
    expect(note).to_be_visible()
    expect(note).to_contain_text("1 object on other planes (1 coronal) not listed here")
    # and the coronal plane lists it (the note names the axial one there)
    root.get_by_test_id("daw-plane-coronal").click()
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (1)")
    expect(note).to_contain_text("1 object on other planes (1 axial)")


def test_a_plane_without_objects_does_not_say_the_document_has_none(lpage: Any) -> None:  # noqa: F811
    """QA: a reformat showing masks listed on the axial plane said "No objects yet"."""
    page = lpage
    coronal = {**box(P1, 2, {20: [12, 2, 30, 6]}), "plane": "coronal"}
    _, root = mount_labels(page, labels_state([coronal]))
    panel = root.get_by_test_id("daw-instances")
    expect(panel).to_contain_text("Objects (0)")
    empty = panel.locator(".daw-inst-empty")
    expect(empty).to_have_text("No objects on this plane.")
    expect(root.get_by_test_id("daw-inst-other")).to_contain_text("1 object on other planes")
    root.get_by_test_id("daw-plane-coronal").click()
    expect(panel).to_contain_text("Objects (1)")
    expect(empty).to_be_hidden()
    # a document without objects still invites the first one
    _, root = mount_labels(page, labels_state([]))
    expect(root.get_by_test_id("daw-instances").locator(".daw-inst-empty")).to_have_text(
        "No objects yet: draw one, or add it from Python."
    )


def test_hundreds_of_objects_render_only_the_rows_in_view(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [
        box(
            f"{i:08d}-0000-4000-8000-000000000000", i + 1, {6: [1 + i % 50, 2, 1 + i % 50 + 0.5, 3]}
        )
        for i in range(299)
    ]
    target = box(U1, 300, {6: [20, 20, 40, 40]})
    wid, root = mount_labels(page, labels_state([*objects, target], revision=3))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (300)")
    rows = root.get_by_test_id("daw-inst-row")
    expect(rows.first).to_have_attribute("data-object-id", "1")
    assert 5 <= rows.count() <= 30  # a virtual list: the rows in view, not 300
    # picking the last object on the canvas scrolls its row into view and highlights it
    s = Screen(root)
    page.mouse.click(*s.at(30, 30))
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", U1)
    expect(row(root, U1)).to_have_attribute("aria-selected", "true")
    expect(row(root, U1)).to_be_in_viewport()
    list_box = root.get_by_test_id("daw-inst-list").bounding_box()
    row_box = row(root, U1).bounding_box()
    assert list_box["y"] <= row_box["y"] and row_box["y"] + row_box["height"] <= (
        list_box["y"] + list_box["height"] + 1
    )
    assert rows.count() <= 30
    assert edits(page, wid) == []
    # an object just drawn is selected before Python lists it: its row comes into view once
    # listed (QA: the list stayed where it was)
    root.get_by_test_id("daw-inst-list").evaluate("(l) => { l.scrollTop = 0; }")
    expect(rows.first).to_have_attribute("data-object-id", "1")
    root.focus()
    page.keyboard.press("2")
    drag(page, s.at(5, 30), s.at(15, 40), steps=4)
    (msg,) = wait_edits(page, wid, 1)
    drawn = {**msg["op"]["object"], "object_id": 301, "shape": "bounding_box"}
    page.evaluate(
        "([i, r]) => window.widgets[i].model._message({type: 'edit_ack', request: r, revision: 4})",
        [wid, msg["request"]],
    )
    push_labels(page, wid, labels_state([*objects, target, drawn], revision=4))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (301)")
    expect(row(root, drawn["uuid"])).to_have_attribute("aria-selected", "true")
    expect(row(root, drawn["uuid"])).to_be_in_viewport()


def test_tab_and_shift_tab_walk_a_long_list_in_order(lpage: Any) -> None:  # noqa: F811
    """QA: the list has only the rows in view in the page; Shift+Tab from the top one left
    the list half way (to the toolbar) and came back out of order. Tab and Shift+Tab go
    through every row's buttons in order, bringing each row into view."""
    page = lpage
    n = 40
    objects = [
        box(f"{i:08d}-0000-4000-8000-000000000000", i + 1, {6: [1 + i, 2, 2 + i, 3]})
        for i in range(n)
    ]
    _, root = mount_labels(page, labels_state(objects, revision=3))
    expect(root.get_by_test_id("daw-instances")).to_contain_text(f"Objects ({n})")
    where = (
        "() => { const b = document.activeElement;"
        " return [b.closest('[data-object-id]')?.dataset.objectId, b.dataset.action]; }"
    )
    first = root.get_by_test_id("daw-inst-row").first.locator('[data-action="jump"]')
    first.focus()
    seen = []
    for _ in range(5 * n - 1):
        page.keyboard.press("Tab")
        seen.append(tuple(page.evaluate(where)))
    ids = [int(i) for i, _ in seen]
    assert ids == sorted(ids) and ids[-1] == n and len(set(seen)) == len(seen), seen[-8:]
    back = []
    for _ in range(5 * n - 1):
        page.keyboard.press("Shift+Tab")
        back.append(tuple(page.evaluate(where)))
    ids = [int(i) for i, _ in back]
    assert ids == sorted(ids, reverse=True) and ids[-1] == 1, back[-8:]
    assert back[-1] == ("1", "jump")


def test_a_new_labels_state_keeps_unchanged_rows_and_follows_the_scroll(lpage: Any) -> None:  # noqa: F811
    page = lpage
    uid = "{:08d}-0000-4000-8000-000000000000".format
    objects = [box(uid(i), i + 1, {6: [1 + i % 50, 2, 1 + i % 50 + 0.5, 3]}) for i in range(200)]
    wid, root = mount_labels(page, labels_state(objects, revision=1))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (200)")
    first = row(root, uid(0))
    first.evaluate("(r) => { r.dataset.mark = 'kept'; }")
    # an edit of another object elsewhere, and one more object: the first row is the same node
    changed = [*objects[:1], box(uid(1), 2, {6: [1, 2, 1.5, 3], 8: [1, 2, 1.5, 3]}), *objects[2:]]
    added = box(U1, 201, {6: [20, 20, 40, 40]})
    push_labels(page, wid, labels_state([*changed, added], revision=2))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (201)")
    expect(first).to_have_attribute("data-mark", "kept")
    # the changed object's row was made again: its track shows the new keyframe
    expect(row(root, uid(1))).not_to_have_attribute("data-mark", "kept")
    track = row(root, uid(1)).locator("canvas")
    expect(track).to_have_attribute("title", "keyframes on slices 7, 9")
    # scrolled to the end, a new labels_state renders the rows in view there
    root.get_by_test_id("daw-inst-list").evaluate("(l) => { l.scrollTop = l.scrollHeight; }")
    expect(row(root, U1)).to_be_visible()
    moved = box(U1, 201, {6: [20, 20, 41, 41]})
    push_labels(page, wid, labels_state([*changed, moved], revision=3))
    expect(row(root, U1)).to_be_in_viewport()
    expect(row(root, uid(199))).to_be_in_viewport()
    # objects removed from the top: the list is shorter and still shows the rows in view
    push_labels(page, wid, labels_state(changed[150:], revision=4))
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (50)")
    expect(row(root, uid(199))).to_be_in_viewport()
    expect(root.get_by_test_id("daw-inst-row")).not_to_have_count(0)
    assert edits(page, wid) == []


def test_rename_an_object_and_see_a_polygon_area(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [
        box(U1, 1, {6: [12, 8, 30, 24]}),
        polygon(U2, 2, 6, [[40, 5], [60, 5], [60, 25], [40, 25]]),
    ]
    wid, root = mount_labels(page, labels_state(objects, revision=3))
    page.evaluate(
        "() => { window.leaked = []; for (const t of ['keydown', 'keyup', 'keypress'])"
        " document.body.addEventListener(t, (e) => window.leaked.push(e.key)); }"
    )
    labels = root.get_by_test_id("daw-labels")
    overlay = root.get_by_test_id("daw-overlay")
    tool = root.get_attribute("data-tool")
    expect(overlay).to_be_visible()
    # double-click the name: an input for the name, empty (no name yet), the class as a hint
    row(root, U1).locator(".daw-inst-name").dblclick()
    field = row(root, U1).get_by_test_id("daw-inst-rename")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    assert field.get_attribute("placeholder") == "Lesion"
    # keys typed there stay there: q (continue #1), 2 (class), i (overlay), f, arrows, Delete
    field.press_sequentially("  qi2 <b>f</b>")
    for key in ("ArrowLeft", "ArrowRight", "Delete", "Home", "End"):
        page.keyboard.press(key)
    expect(field).to_have_value("  qi2 <b>f</b>")
    assert root.get_attribute("data-continuing") is None
    assert root.get_attribute("data-tool") == tool
    expect(overlay).to_be_visible()
    expect(labels).to_have_attribute("data-slice", "6")
    assert page.evaluate("window.leaked") == []
    # Enter sends the name (trimmed) as an update_object edit, which Python accepts
    page.keyboard.press("Enter")
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"] == {"op": "update_object", "uuid": U1, "changes": {"name": "qi2 <b>f</b>"}}
    kernel = apply_in_python(*map(create_op, objects), msg["op"])
    assert kernel[U1].name == "qi2 <b>f</b>"
    expect(row(root, U1).get_by_test_id("daw-inst-rename")).to_have_count(0)
    expect(root).to_be_focused()  # keys go to the widget again
    # Python's echo: the name as text (never HTML), the class beside it
    objects[0]["name"] = kernel[U1].name
    push_labels(page, wid, labels_state(objects, revision=4))
    expect(row(root, U1).locator(".daw-inst-name")).to_have_text("qi2 <b>f</b>")
    expect(row(root, U1).locator(".daw-inst-cls")).to_have_text("Lesion")
    assert row(root, U1).locator("b").count() == 0
    # Escape cancels (the rename button opens the same input)
    action(root, U1, "rename").click()
    field = row(root, U1).get_by_test_id("daw-inst-rename")
    expect(field).to_have_value("qi2 <b>f</b>")
    field.fill("nope")
    page.keyboard.press("Escape")
    expect(row(root, U1).get_by_test_id("daw-inst-rename")).to_have_count(0)
    expect(row(root, U1).locator(".daw-inst-name")).to_have_text("qi2 <b>f</b>")
    # leaving the input commits it; a blank name removes the name
    row(root, U2).locator(".daw-inst-name").dblclick()
    row(root, U2).get_by_test_id("daw-inst-rename").fill("Segment IV")
    root.get_by_test_id("daw-instances").locator(".daw-panel-title").click()
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"] == {
        "op": "update_object",
        "uuid": U2,
        "changes": {"name": "Segment IV"},
    }
    row(root, U1).locator(".daw-inst-name").dblclick()
    row(root, U1).get_by_test_id("daw-inst-rename").fill("   ")
    page.keyboard.press("Enter")
    msgs = wait_edits(page, wid, 3)
    assert msgs[2]["op"]["changes"] == {"name": None}
    assert apply_in_python(*map(create_op, objects), msgs[2]["op"])[U1].name is None
    assert len(edits(page, wid)) == 3
    assert page.evaluate("window.leaked") == []
    # the selected object's area on this slice (the double-click selected #1): a box of 18 x 16
    # pixels of 0.7 x 0.7 mm, and its volume (slices 2 mm apart: 288 voxels of 0.98 mm³),
    # with the name the page last heard from Python; the voxel count states the volume's basis
    # (voxel centres inside, not the outline's area times the slice thickness)
    area = root.get_by_test_id("daw-inst-area")
    expect(labels).to_have_attribute("data-selected", U1)
    expect(area).to_have_text(
        "area 141.1 mm² on slice 7 · volume 282 mm³ (288 voxels) · #1 qi2 <b>f</b>"
    )
    # the row is narrow: the whole name is in its tooltip
    expect(row(root, U1).locator(".daw-inst-name")).to_have_attribute(
        "title", re.compile(r"^qi2 <b>f</b> \(.+\): double-click to rename$")
    )
    # the polygon: 20 x 20 pixels
    row(root, U2).locator(".daw-inst-id").click()
    expect(labels).to_have_attribute("data-selected", U2)
    expect(area).to_have_text("area 196.0 mm² on slice 7 · volume 392 mm³ (400 voxels) · #2 Liver")
    page.keyboard.press("ArrowRight")  # no keyframe on slice 8: the volume alone
    expect(area).to_have_text("volume 392 mm³ (400 voxels) · #2 Liver")
    # without a pixel spacing: in px², and it says so
    wid2, root2 = mount(
        page,
        series(ct_volume(), spacing_known=False),
        state={"labels_state": labels_state(objects, revision=3)},
    )
    row(root2, U2).locator(".daw-inst-id").click()
    expect(root2.get_by_test_id("daw-inst-area")).to_have_text(
        "area 400.0 px² (pixel spacing unknown) on slice 7 · 400 voxels · #2 Liver"
    )
    assert edits(page, wid2) == []


def test_renaming_is_off_in_review_mode(lpage: Any) -> None:  # noqa: F811
    page = lpage
    objects = [box(U1, 1, {6: [12, 8, 30, 24]})]
    wid, root = mount_labels(page, labels_state(objects, revision=3, read_only=True))
    expect(action(root, U1, "rename")).to_be_disabled()
    row(root, U1).locator(".daw-inst-name").dblclick()
    expect(row(root, U1).get_by_test_id("daw-inst-rename")).to_have_count(0)
    assert edits(page, wid) == []
