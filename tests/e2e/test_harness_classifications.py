"""Classification panels in Chromium with the harness's fake model, the kernel's part played by a
real `Labels` in this test: every edit the page sends is applied by Python's label model (so it
must be valid) and the resulting `labels_state` pushed back, as the widget does."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from dicom_annot_widget.labels import Labels, Ontology
from dicom_annot_widget.widget.annotator import compact_labels_state

from .test_harness_labels import Screen, edits, mount_labels, push_labels, wait_edits
from .test_harness_masks import FOCUS_IN_WIDGET
from .test_harness_viewer import harness  # noqa: F401 (a fixture)

ONTOLOGY = (
    Ontology.builder()
    .object("Lesion", shape="bounding_box", hotkey=1)
    .radio(
        "Phase",
        [{"name": "arterial", "hotkey": "a"}, {"name": "venous", "hotkey": "s"}],
        dynamic=True,
    )
    .checklist("Flags", ["calcified", "cystic", "necrotic"], required=True)
    .text("Note")
    .radio(
        "Kind",
        [
            {
                "name": "solid",
                "classifications": [{"name": "Grade", "type": "radio", "options": ["low", "high"]}],
            },
            "mixed",
        ],
    )
    .frame_radio("Quality", ["good", "bad"])
    .build()
)
PHASE = "lesion.phase"


class Kernel:
    """Python's side: applies the page's edits to a real `Labels`, pushes `labels_state`."""

    def __init__(self, page: Any, wid: int) -> None:
        self.page, self.wid = page, wid
        self.labels = Labels({"series_instance_uid": "1.2.3", "shape": [12, 48, 64]}, ONTOLOGY)
        self.seen = 0

    def push(self) -> None:
        push_labels(self.page, self.wid, compact_labels_state(self.labels))

    def take(self, n: int = 1) -> list[dict[str, Any]]:
        """Wait for `n` more edits from the page, apply them in Python and push the result."""
        msgs = wait_edits(self.page, self.wid, self.seen + n)[self.seen :]
        assert len(msgs) == n, msgs
        self.seen += n
        ops = []
        for m in msgs:
            assert m["type"] == "edit", m
            self.labels.apply(m["op"])
            ops.append(m["op"])
        self.push()
        return ops

    def no_more(self) -> None:
        assert len(edits(self.page, self.wid)) == self.seen


@pytest.fixture
def setup(harness: Any) -> tuple[Any, Any, Kernel, str]:  # noqa: F811
    page = harness
    wid, root = mount_labels(page)
    kernel = Kernel(page, wid)
    uuid = kernel.labels.add_box("lesion", 2, [10, 10, 30, 30])
    for k in (6, 9):
        kernel.labels.set_keyframe(uuid, k, {"box": [10, 10, 30, 30]})
    kernel.push()
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-count", "1")
    return page, root, kernel, uuid


def select_box(page: Any, root: Any) -> None:
    s = Screen(root)
    page.mouse.click(*s.at(20, 20))
    expect(root.get_by_test_id("daw-cls-object")).to_be_visible()


def go_to(page: Any, root: Any, k: int) -> None:
    """Move to slice `k` (0-based) with the arrow keys."""
    root.focus()
    label = root.get_by_test_id("daw-slice-label")
    while True:
        now = int(label.inner_text().split("/")[0]) - 1
        if now == k:
            return
        page.keyboard.press("ArrowRight" if k > now else "ArrowLeft")
        expect(label).not_to_have_text(f"{now + 1} / 12")


def choose_slices_3_to_5(page: Any, root: Any) -> Any:
    """c on slice 3, v on slice 5 (the frame keys); returns the draft line."""
    draft = root.get_by_test_id("daw-frames-draft")
    go_to(page, root, 3)
    page.keyboard.press("c")
    go_to(page, root, 5)
    page.keyboard.press("v")
    expect(draft).to_have_attribute("data-ranges", "[[3,5]]")
    return draft


def segments(root: Any, testid: str) -> list[tuple[int, int]]:
    segs = root.get_by_test_id(testid).locator(".daw-cls-seg:not(.daw-cls-seg-draft)")
    return [
        (int(s.get_attribute("data-start")), int(s.get_attribute("data-end"))) for s in segs.all()
    ]


def test_dynamic_answers_by_range_buttons_hotkeys_and_drag(setup: Any) -> None:
    page, root, kernel, uuid = setup
    # nothing selected: no object section, and a hotkey of an option does nothing
    expect(root.get_by_test_id("daw-cls-object")).to_be_hidden()
    root.focus()
    page.keyboard.press("a")
    kernel.no_more()
    select_box(page, root)
    expect(root.get_by_test_id("daw-cls-title")).to_have_text("#1 Lesion")
    # default: from this slice (6) to the end of the track (9); key a = arterial
    applies = root.get_by_test_id("daw-cls-applies")
    expect(applies).to_have_attribute("data-start", "6")
    expect(applies).to_have_attribute("data-end", "9")
    expect(root.get_by_test_id("daw-cls-mode-toEnd")).to_have_attribute("aria-pressed", "true")
    root.focus()
    page.keyboard.press("a")
    (op,) = kernel.take()
    assert op == {
        "op": "set_dynamic",
        "uuid": uuid,
        "classification": PHASE,
        "answer": "arterial",
        "start": 6,
        "end": 9,
    }
    got = [kernel.labels.dynamic(uuid, PHASE, k) for k in range(12)]
    assert got == [None] * 6 + ["arterial"] * 4 + [None] * 2
    # the answer on this slice is shown, and the range on the bar under the slice bar
    expect(root.get_by_test_id(f"daw-cls-opt-{PHASE}-arterial")).to_have_attribute(
        "aria-pressed", "true"
    )
    bar = f"daw-cls-bar-{PHASE}"
    expect(root.get_by_test_id(f"{bar}-seg")).to_have_attribute("data-end", "9")
    seg = root.get_by_test_id(f"{bar}-seg")
    assert "arterial" in seg.get_attribute("title") and "7–10" in seg.get_attribute("title")
    # the bar has the slice bar's width and position: slices map alike (bounding_box does not
    # wait: under load the bar may be laid out a frame later)
    expect(root.get_by_test_id(bar)).to_be_visible()
    sb = root.get_by_test_id("daw-slicebar").bounding_box()
    bb = root.get_by_test_id(bar).bounding_box()
    assert abs(sb["x"] - bb["x"]) < 1 and abs(sb["width"] - bb["width"]) < 1
    expect(seg).to_be_visible()
    sg = seg.bounding_box()
    assert abs(sg["x"] - (bb["x"] + 1 + 6 / 12 * (bb["width"] - 2))) < 2

    # "this slice" on slice 4 (off the keyframes, the selection stays): the venous button
    go_to(page, root, 4)
    root.get_by_test_id("daw-cls-mode-slice").click()
    expect(applies).to_have_attribute("data-end", "4")
    root.get_by_test_id(f"daw-cls-opt-{PHASE}-venous").click()
    (op,) = kernel.take()
    assert (op["answer"], op["start"], op["end"]) == ("venous", 4, 4)

    # an edited range: typed start, "end = here"
    go_to(page, root, 1)
    root.get_by_test_id("daw-cls-start").fill("1")
    root.get_by_test_id("daw-cls-start").press("Enter")
    expect(root.get_by_test_id("daw-cls-mode-custom")).to_have_attribute("aria-pressed", "true")
    go_to(page, root, 2)
    root.get_by_test_id("daw-cls-end-here").click()
    expect(applies).to_have_attribute("data-start", "0")
    expect(applies).to_have_attribute("data-end", "2")
    root.focus()
    page.keyboard.press("s")
    (op,) = kernel.take()
    assert (op["answer"], op["start"], op["end"]) == ("venous", 0, 2)
    got = [kernel.labels.dynamic(uuid, PHASE, k) for k in range(12)]
    assert got == ["venous"] * 3 + [None, "venous", None] + ["arterial"] * 4 + [None] * 2
    expect(root.get_by_test_id(f"{bar}-seg")).to_have_count(3)
    assert segments(root, bar) == [(0, 2), (4, 4), (6, 9)]

    # edit range: drag the end of 6..9 to slice 11, then its start to slice 8
    def drag(handle: Any, k: int) -> None:
        expect(handle).to_be_visible()
        box = root.get_by_test_id(bar).bounding_box()
        h = handle.bounding_box()
        page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
        page.mouse.down()
        x = box["x"] + (k + 0.5) / 12 * box["width"]
        page.mouse.move(x, h["y"] + h["height"] / 2, steps=5)
        page.mouse.up()

    drag(root.get_by_test_id(f"{bar}-end").nth(2), 11)
    (op,) = kernel.take()
    assert (op["op"], op["answer"], op["start"], op["end"]) == ("set_dynamic", "arterial", 6, 11)
    expect(root.get_by_test_id(f"{bar}-seg").nth(2)).to_have_attribute("data-end", "11")
    drag(root.get_by_test_id(f"{bar}-start").nth(2), 8)
    (op,) = kernel.take()
    assert op["op"] == "batch"
    assert [(o["answer"], o["start"], o["end"]) for o in op["ops"]] == [
        (None, 6, 7),
        ("arterial", 8, 11),
    ]
    got = [kernel.labels.dynamic(uuid, PHASE, k) for k in range(12)]
    assert got == ["venous"] * 3 + [None, "venous", None, None, None] + ["arterial"] * 4
    # one undo reverts the whole drag
    kernel.labels.undo()
    assert [kernel.labels.dynamic(uuid, PHASE, k) for k in range(6, 12)] == ["arterial"] * 6


def test_static_checklist_text_and_nested_answers(setup: Any) -> None:
    page, root, kernel, uuid = setup
    select_box(page, root)
    # a required question says so, more strongly while unanswered (QA: never shown)
    required = root.get_by_test_id("daw-cls-required-lesion.flags")
    expect(required).to_have_text("required")
    expect(required).to_have_attribute("data-answered", "false")
    expect(root.get_by_test_id("daw-cls-required-lesion.note")).to_have_count(0)
    root.get_by_test_id("daw-cls-opt-lesion.flags-cystic").click()
    kernel.take()
    expect(required).to_have_attribute("data-answered", "true")
    root.get_by_test_id("daw-cls-opt-lesion.flags-calcified").click()
    (op,) = kernel.take()
    assert op == {
        "op": "set_static",
        "uuid": uuid,
        "classification": "lesion.flags",
        "answer": ["calcified", "cystic"],
    }
    assert kernel.labels.static(uuid)["lesion.flags"] == ("calcified", "cystic")
    expect(root.get_by_test_id("daw-cls-opt-lesion.flags-cystic")).to_have_attribute(
        "aria-pressed", "true"
    )
    # text: committed on Enter; HTML stays text
    note = root.get_by_test_id("daw-cls-text-lesion.note")
    note.fill("<b>rim</b> enhancing")
    note.press("Enter")
    kernel.take()
    assert kernel.labels.static(uuid)["lesion.note"] == "<b>rim</b> enhancing"
    expect(root.get_by_test_id("daw-cls-text-lesion.note")).to_have_value("<b>rim</b> enhancing")
    assert root.locator("b").count() == 0
    # nested: Grade shows once Kind = solid, indented
    grade = "lesion.kind.solid.grade"
    expect(root.get_by_test_id(f"daw-cls-q-{grade}")).to_have_count(0)
    root.get_by_test_id("daw-cls-opt-lesion.kind-solid").click()
    kernel.take()
    expect(root.get_by_test_id(f"daw-cls-q-{grade}")).to_have_class("daw-cls-q daw-cls-nested")
    root.get_by_test_id(f"daw-cls-opt-{grade}-high").click()
    kernel.take()
    assert kernel.labels.static(uuid)[grade] == "high"
    # the static answers are per object: the same on every slice
    go_to(page, root, 2)
    expect(root.get_by_test_id(f"daw-cls-opt-{grade}-high")).to_have_attribute(
        "aria-pressed", "true"
    )
    # unticking the last checklist option clears the answer; the chosen radio clears it too
    root.get_by_test_id("daw-cls-opt-lesion.flags-cystic").click()
    kernel.take()
    root.get_by_test_id("daw-cls-opt-lesion.flags-calcified").click()
    (op,) = kernel.take()
    assert op["answer"] is None and "lesion.flags" not in kernel.labels.static(uuid)
    root.get_by_test_id("daw-cls-opt-lesion.kind-solid").click()
    kernel.take()
    assert "lesion.kind" not in kernel.labels.static(uuid)
    assert grade not in kernel.labels.static(uuid)


def test_frame_classification_keys_list_and_bar(setup: Any) -> None:
    page, root, kernel, _uuid = setup
    frames = root.get_by_test_id("daw-frames")
    expect(frames).to_be_visible()
    expect(frames).to_have_attribute("data-active", "false")
    # the keys are off until the section is active: c does nothing
    root.focus()
    page.keyboard.press("c")
    page.keyboard.press("m")
    kernel.no_more()
    root.get_by_test_id("daw-frames-opt-quality-bad").click()  # using the section activates it
    expect(frames).to_have_attribute("data-active", "true")
    expect(frames).to_have_class("daw-cls daw-frames daw-active")
    # QA: the answer button is rebuilt by its click; the keyboard stays in the widget, so a key
    # right after it works (it went to the page's body)
    page.wait_for_function(FOCUS_IN_WIDGET)
    page.keyboard.press("z")
    (op,) = kernel.take()
    assert (op["op"], op["answers"], op["start"], op["end"]) == (
        "set_frame_classification",
        {"quality": "bad"},
        6,
        6,
    )
    root.get_by_test_id("daw-frames-del").first.click()
    (op,) = kernel.take()
    assert (op["answers"], op["start"], op["end"]) == (None, 6, 6)
    page.wait_for_function(FOCUS_IN_WIDGET)
    # the selected object's option hotkeys still work (a is not a frame key)
    select_box(page, root)
    root.focus()
    page.keyboard.press("a")
    (op,) = kernel.take()
    assert (op["op"], op["answer"]) == ("set_dynamic", "arterial")
    draft = choose_slices_3_to_5(page, root)
    page.keyboard.press("n")
    go_to(page, root, 8)
    page.keyboard.press("x")
    expect(draft).to_have_attribute("data-ranges", "[[3,5],[8,8]]")
    page.keyboard.press("m")
    (op,) = kernel.take()
    assert op["op"] == "batch"
    assert [(o["op"], o["answers"], o["start"], o["end"]) for o in op["ops"]] == [
        ("set_frame_classification", {"quality": "bad"}, 3, 5),
        ("set_frame_classification", {"quality": "bad"}, 8, 8),
    ]
    on = [kernel.labels.frame_classifications_on_slice(k).get("quality") for k in range(12)]
    assert on == [None] * 3 + ["bad"] * 3 + [None, None, "bad"] + [None] * 3
    expect(draft).to_have_attribute("data-ranges", "[]")
    # z: this slice and save, with another answer
    root.get_by_test_id("daw-frames-opt-quality-good").click()
    go_to(page, root, 10)
    page.keyboard.press("z")
    (op,) = kernel.take()
    assert (op["op"], op["answers"], op["start"], op["end"]) == (
        "set_frame_classification",
        {"quality": "good"},
        10,
        10,
    )
    # listed: two instances; the bar shows their ranges
    expect(root.get_by_test_id("daw-frames-inst")).to_have_count(2)
    assert segments(root, "daw-frames-bar-quality") == [(3, 5), (8, 8), (10, 10)]
    # edit range on the frame bar: drag the start of 3..5 to slice 1 (same instance, extended)
    fbar = root.get_by_test_id("daw-frames-bar-quality")
    h = root.get_by_test_id("daw-frames-bar-quality-start").first.bounding_box()
    fb = fbar.bounding_box()
    page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
    page.mouse.down()
    page.mouse.move(fb["x"] + 1.5 / 12 * fb["width"], h["y"], steps=4)
    page.mouse.up()
    (op,) = kernel.take()
    assert (op["op"], op["answers"], op["start"], op["end"]) == (
        "set_frame_classification",
        {"quality": "bad"},
        1,
        5,
    )
    expect(root.get_by_test_id("daw-frames-inst")).to_have_count(2)
    assert segments(root, "daw-frames-bar-quality") == [(1, 5), (8, 8), (10, 10)]
    # delete a range from the list, jump to another
    root.get_by_test_id("daw-frames-del").nth(1).click()  # bad 8..8
    (op,) = kernel.take()
    assert (op["answers"], op["start"], op["end"]) == (None, 8, 8)
    root.get_by_test_id("daw-frames-jump").first.click()
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("2 / 12")
    # change an instance's answer: good -> bad on its ranges
    root.get_by_test_id("daw-frames-opt-quality-bad").click()
    good = root.get_by_test_id("daw-frames-inst").filter(has_text="good")
    good.get_by_test_id("daw-frames-apply").click()
    kernel.take()
    on = [kernel.labels.frame_classifications_on_slice(k).get("quality") for k in range(12)]
    assert on == [None] + ["bad"] * 5 + [None] * 4 + ["bad", None]
    # Escape leaves: the keys are off again
    root.focus()
    page.keyboard.press("Escape")
    expect(frames).to_have_attribute("data-active", "false")
    page.keyboard.press("z")
    kernel.no_more()
    # saving without an answer is refused on the page
    root.get_by_test_id("daw-frames-keys").click()
    root.get_by_test_id("daw-frames-opt-quality-bad").click()  # un-choose
    root.focus()
    page.keyboard.press("z")
    expect(root.get_by_test_id("daw-error")).to_contain_text("choose an answer")
    kernel.no_more()


def test_on_a_reformat_an_object_of_the_axial_slices_takes_no_slice_keyed_edit(
    setup: Any,
) -> None:
    """QA 24a D4, D5: an axial object selected while the coronal reformat is shown (a mask
    stays selected there; Python may select anything): Delete deleted its keyframe on the
    axial slice numbered as the coronal one, and a per-slice answer went to that axial slice.
    Both are refused with the reason; shift+Delete still deletes it everywhere."""
    page, root, kernel, uuid = setup
    root.focus()
    page.keyboard.press("Alt+c")
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", "coronal")
    go_to(page, root, 6)
    wid = kernel.wid
    page.evaluate(f"(i) => window.widgets[i].model._push('selected', '{uuid}')", wid)
    expect(root.get_by_test_id("daw-cls-applies")).to_contain_text("own (axial) slices")
    root.focus()
    page.keyboard.press("a")  # arterial, per slice
    expect(root.get_by_test_id("daw-error")).to_contain_text("given on its own (axial) slices")
    page.keyboard.press("Delete")
    expect(root.get_by_test_id("daw-error")).to_contain_text("is drawn on the axial plane")
    page.wait_for_timeout(100)
    kernel.no_more()
    assert sorted(kernel.labels.get(uuid).keyframes) == [2, 6, 9]
    page.keyboard.press("Shift+Delete")
    (op,) = kernel.take()
    assert op["op"] == "delete_object" and op["uuid"] == uuid


def test_a_frame_range_chosen_on_one_plane_is_not_saved_on_another(setup: Any) -> None:
    """QA 24a D7: slices chosen with c / v on the axial slices, then m on the coronal
    reformat, saved the coronal rows of those numbers. The draft belongs to its plane: a plane
    change drops it, saying so."""
    page, root, kernel, _uuid = setup
    root.get_by_test_id("daw-frames-opt-quality-bad").click()  # activates the section
    page.wait_for_function(FOCUS_IN_WIDGET)
    draft = choose_slices_3_to_5(page, root)
    page.keyboard.press("Alt+c")
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", "coronal")
    expect(draft).to_have_attribute("data-ranges", "[]")
    expect(root.locator(".daw-toast")).to_contain_text("chosen on the axial plane")
    root.focus()
    page.keyboard.press("m")
    expect(root.get_by_test_id("daw-error")).to_contain_text("choose slices first")
    page.wait_for_timeout(100)
    kernel.no_more()


def test_a_class_key_wins_over_an_option_with_the_same_key(harness: Any) -> None:  # noqa: F811
    """QA 24a D8: with option hotkeys 1 and 2 beside the class keys 1 and 2, pressing 2 (class
    Liver) with a lesion selected answered its grade instead, and the class stayed."""
    import warnings

    page = harness
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the ontology says so)
        onto = (
            Ontology.builder()
            .object("Lesion", shape="bounding_box", hotkey=1)
            .radio("Grade", [{"name": "G1", "hotkey": "1"}, {"name": "G2", "hotkey": "2"}])
            .object("Liver", shape="polygon", hotkey=2)
            .build()
        )
    labels = Labels({"series_instance_uid": "1.2.3", "shape": [12, 48, 64]}, onto)
    uuid = labels.add_box("lesion", 6, [10, 10, 30, 30])
    wid, root = mount_labels(page, compact_labels_state(labels))
    page.evaluate(f"(i) => window.widgets[i].model._push('selected', '{uuid}')", wid)
    expect(root.get_by_test_id("daw-cls-title")).to_have_text("#1 Lesion")
    root.focus()
    page.keyboard.press("2")
    expect(root).to_have_attribute("data-tool", "polygon")
    page.wait_for_timeout(100)
    assert edits(page, wid) == []
