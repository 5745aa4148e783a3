"""Classifications in a real JupyterLab (server + kernel + Chromium): answers given in the page
with buttons and hotkeys go through the kernel's `Labels` and are read back from `w.labels`;
frame classifications are set with the c / v / m and z keys; ctrl+z undoes the last one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import kernel_eventually, notebook, open_widget

N_SLICES, COLUMNS, ROWS = 12, 64, 48
PHASE = "lesion.phase"


def go_to(page: Any, root: Any, k: int) -> None:
    """Move to slice `k` (0-based) with the arrow keys."""
    root.focus()
    label = root.get_by_test_id("daw-slice-label")
    while True:
        now = int(label.inner_text().split("/")[0]) - 1
        if now == k:
            return
        page.keyboard.press("ArrowRight" if k > now else "ArrowLeft")
        expect(label).not_to_have_text(f"{now + 1} / {N_SLICES}")


def test_classifications_reach_python(lab_each: Any, page: Any, tmp_path: Path) -> None:
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=N_SLICES, rows=ROWS, columns=COLUMNS)
    nb = notebook(
        "import json\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = (Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1)\n"
        "        .radio('Phase', [{'name': 'arterial', 'hotkey': 'a'},\n"
        "                         {'name': 'venous', 'hotkey': 's'}], dynamic=True)\n"
        "        .checklist('Flags', ['calcified', 'cystic'])\n"
        "        .text('Note')\n"
        "        .frame_radio('Quality', ['good', 'bad']).build())\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        "u = w.labels.add_box('lesion', 2, [4, 4, 60, 44])\n"
        "for k in (6, 9):\n"
        "    w.labels.set_keyframe(u, k, {'box': [4, 4, 60, 44]})\n"
        "def phase():\n"
        f"    print(json.dumps([w.labels.dynamic(u, 'Phase', k) for k in range({N_SLICES})]))\n"
        "def quality():\n"
        "    print(json.dumps([w.labels.frame_classifications_on_slice(k).get('quality')\n"
        f"                      for k in range({N_SLICES})]))\n"
        "def static():\n"
        "    print(json.dumps({k: list(v) if isinstance(v, tuple) else v\n"
        "                      for k, v in sorted(w.labels.static(u).items())}))\n"
        "w"
    )
    root = open_widget(page, lab_each, "classifications.ipynb", nb, workspace="classifications")
    expect(page.get_by_test_id("daw-labels")).to_have_attribute("data-count", "1", timeout=30_000)

    # select the box (it covers most of the image) on slice 6
    view = page.get_by_test_id("daw-view").bounding_box()
    page.mouse.click(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    expect(root.get_by_test_id("daw-cls-object")).to_be_visible()
    applies = root.get_by_test_id("daw-cls-applies")
    expect(applies).to_have_attribute("data-start", "6")
    expect(applies).to_have_attribute("data-end", "9")

    # dynamic: hotkey a from here to the end of the track (6..9)
    root.focus()
    page.keyboard.press("a")
    want = [None] * 6 + ["arterial"] * 4 + [None] * 2
    assert json.loads(kernel_eventually(page, "phase()", json.dumps(want))) == want
    # the range shows on the bar under the slice bar
    seg = root.get_by_test_id(f"daw-cls-bar-{PHASE}-seg")
    expect(seg).to_have_attribute("data-start", "6", timeout=30_000)
    expect(seg).to_have_attribute("data-end", "9")
    # "this slice" on slice 3, with the venous button
    go_to(page, root, 3)
    root.get_by_test_id("daw-cls-mode-slice").click()
    root.get_by_test_id(f"daw-cls-opt-{PHASE}-venous").click()
    want[3] = "venous"
    assert json.loads(kernel_eventually(page, "phase()", json.dumps(want))) == want
    # an edited range 1..2 (start typed, end = here) with hotkey s
    go_to(page, root, 2)
    root.get_by_test_id("daw-cls-start").fill("2")
    root.get_by_test_id("daw-cls-start").press("Enter")
    root.get_by_test_id("daw-cls-end-here").click()
    expect(applies).to_have_attribute("data-start", "1")
    expect(applies).to_have_attribute("data-end", "2")
    root.focus()
    page.keyboard.press("s")
    want[1:3] = ["venous", "venous"]
    assert json.loads(kernel_eventually(page, "phase()", json.dumps(want))) == want

    # edit range: drag the end of the arterial range (6..9) on its bar to slice 11
    bar = root.get_by_test_id(f"daw-cls-bar-{PHASE}")
    expect(seg).to_have_count(2, timeout=30_000)
    handle = root.get_by_test_id(f"daw-cls-bar-{PHASE}-end").nth(1).bounding_box()
    box = bar.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 11.5 / N_SLICES * box["width"], handle["y"], steps=5)
    page.mouse.up()
    want[10:12] = ["arterial", "arterial"]
    assert json.loads(kernel_eventually(page, "phase()", json.dumps(want))) == want

    # static checklist and text
    root.get_by_test_id("daw-cls-opt-lesion.flags-cystic").click()
    expect(root.get_by_test_id("daw-cls-opt-lesion.flags-cystic")).to_have_attribute(
        "aria-pressed", "true", timeout=30_000
    )
    root.get_by_test_id("daw-cls-opt-lesion.flags-calcified").click()
    note = root.get_by_test_id("daw-cls-text-lesion.note")
    note.fill("rim enhancing")
    note.press("Enter")
    want_static = {"lesion.flags": ["calcified", "cystic"], "lesion.note": "rim enhancing"}
    got = kernel_eventually(page, "static()", json.dumps(want_static))
    assert json.loads(got) == want_static

    # frame classification: choose "bad", then c on 4, v on 7, m
    root.get_by_test_id("daw-frames-opt-quality-bad").click()
    expect(root.get_by_test_id("daw-frames")).to_have_attribute("data-active", "true")
    go_to(page, root, 4)
    page.keyboard.press("c")
    go_to(page, root, 7)
    page.keyboard.press("v")
    page.keyboard.press("m")
    frames = [None] * 4 + ["bad"] * 4 + [None] * 4
    assert json.loads(kernel_eventually(page, "quality()", json.dumps(frames))) == frames
    # z: this slice only, and save ("good" on 10)
    root.get_by_test_id("daw-frames-opt-quality-good").click()
    go_to(page, root, 10)
    page.keyboard.press("z")
    frames[10] = "good"
    assert json.loads(kernel_eventually(page, "quality()", json.dumps(frames))) == frames
    expect(root.get_by_test_id("daw-frames-inst")).to_have_count(2, timeout=30_000)

    # ctrl+z reverts the last one (z on slice 10), the earlier range stays
    root.focus()
    page.keyboard.press("Control+z")
    frames[10] = None
    assert json.loads(kernel_eventually(page, "quality()", json.dumps(frames))) == frames
    expect(root.get_by_test_id("daw-frames-inst")).to_have_count(1, timeout=30_000)
    # and the answers given before are all still there
    assert json.loads(kernel_eventually(page, "phase()", json.dumps(want))) == want
