"""Instances, tracks, copy/paste and predictions review in a real JupyterLab: what the page
does with the mouse and keys is read back from `w.labels` in the kernel, and what Python does
shows up in the page. One notebook (one kernel) for the whole story, to keep it quick."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import kernel_eventually, notebook, open_widget, run_probe, shutdown_kernels

COLUMNS, ROWS = 64, 48
EVENTUALLY = 30  # s


class Screen:
    """Page coordinates of voxel points in the fitted, centred view (pixel centres at integers)."""

    def __init__(self, root: Any) -> None:
        box = root.get_by_test_id("daw-view").bounding_box()
        self.scale = min(box["width"] / COLUMNS, box["height"] / ROWS)
        self.x0 = box["x"] + (box["width"] - COLUMNS * self.scale) / 2
        self.y0 = box["y"] + (box["height"] - ROWS * self.scale) / 2

    def at(self, col: float, row: float) -> tuple[float, float]:
        return self.x0 + (col + 0.5) * self.scale, self.y0 + (row + 0.5) * self.scale

    def voxel(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) / self.scale - 0.5, (y - self.y0) / self.scale - 0.5


def eventually(page: Any, src: str, expected: str) -> None:
    out = kernel_eventually(page, src, expected, timeout=EVENTUALLY)
    assert out == expected, out


def drag(page: Any, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=6)
    page.mouse.up()


def test_tracks_copy_paste_and_predictions_review(lab_each: Any, page: Any, tmp_path: Path) -> None:
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=12, rows=ROWS, columns=COLUMNS)
    nb = notebook(
        "import json\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = (Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1)\n"
        "        .object('Liver', shape='polygon', hotkey=2).build())\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        "w"
    )
    root = open_widget(page, lab_each, "instances.ipynb", nb, workspace="instances")
    labels = page.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-slice", "6")

    # -- an object created in Python is drawn and listed -----------------------------------
    uuid = run_probe(page, "u = w.labels.add_box('lesion', 6, [10, 8, 30, 24]); print(u)").strip()
    assert len(uuid) == 36, uuid
    expect(labels).to_have_attribute("data-count", "1", timeout=EVENTUALLY * 1000)
    row = root.locator(f'[data-testid="daw-inst-row"][data-uuid="{uuid}"]')
    expect(row).to_contain_text("#1")
    expect(row).to_contain_text("Lesion")
    expect(root.get_by_test_id("daw-instances")).to_contain_text("Objects (1)")

    # -- continue the track on slice 7 with hotkey q, by drawing a box ----------------------
    root.focus()
    page.keyboard.press("1")
    expect(row.locator(".daw-inst-key")).to_have_text("q")
    page.keyboard.press("ArrowRight")
    expect(labels).to_have_attribute("data-slice", "7")
    page.keyboard.press("q")
    expect(root).to_have_attribute("data-continuing", uuid)
    expect(root.get_by_test_id("daw-continue-badge")).to_have_text("→ continues #1")
    s = Screen(root)
    drag(page, s.at(14, 10), s.at(34, 26))
    keyframes = "o = w.labels.get(u); print(json.dumps([len(list(w.labels)), sorted(o.keyframes)]))"
    eventually(page, keyframes, "[1, [6, 7]]")
    expect(root.get_by_test_id("daw-continue-badge")).to_be_hidden()
    box7 = json.loads(
        run_probe(page, "print(json.dumps(w.labels.to_dict()['objects'][0]['keyframes']['7']))")
    )
    assert box7["manual"] is True
    assert all(abs(a - b) <= 1 for a, b in zip(box7["box"], [14, 10, 34, 26], strict=True)), box7

    # -- copy on slice 7, paste on slice 8: same uuid, same geometry ------------------------
    expect(labels).to_have_attribute("data-revision", "2", timeout=EVENTUALLY * 1000)
    root.get_by_test_id("daw-tool-select").click()
    page.mouse.click(*s.at(24, 18))
    expect(labels).to_have_attribute("data-selected", uuid)
    root.focus()
    page.keyboard.press("Control+c")
    page.keyboard.press("ArrowRight")
    expect(labels).to_have_attribute("data-slice", "8")
    page.keyboard.press("Control+v")
    eventually(page, keyframes, "[1, [6, 7, 8]]")
    same = (
        "k = w.labels.to_dict()['objects'][0]['keyframes']\n"
        "print(k['8'] == k['7'], k['8']['manual'])"
    )
    eventually(page, same, "True True")

    # -- the selection, hidden objects, tool and class are traits, synced both ways ---------
    eventually(page, "print(w.selected == u, w.tool, w.active_class)", "True select lesion")
    run_probe(page, "w.hidden = [u]; print('ok')")
    expect(labels).to_have_attribute("data-count", "0", timeout=EVENTUALLY * 1000)
    expect(row.locator('[data-action="hide"]')).to_have_attribute("aria-pressed", "true")
    eventually(page, "print(w.selected)", "None")  # hiding unselects, as in the page
    run_probe(page, "w.hidden = []; w.selected = u; print('ok')")
    expect(labels).to_have_attribute("data-selected", uuid, timeout=EVENTUALLY * 1000)
    expect(labels).to_have_attribute("data-count", "1")
    run_probe(page, "w.active_class = 'Liver'; print('ok')")
    expect(root).to_have_attribute("data-tool", "polygon", timeout=EVENTUALLY * 1000)
    root.get_by_test_id("daw-class-lesion").click()
    eventually(page, "print(w.tool, w.active_class)", "box lesion")
    root.get_by_test_id("daw-tool-select").click()
    eventually(page, "print(w.tool)", "select")
    page.mouse.click(*s.at(24, 18))
    expect(labels).to_have_attribute("data-selected", uuid)

    # -- rename the object in the list: the kernel has the name; keys stay in the input ----
    cells = page.locator(".jp-Cell").count()
    row.locator(".daw-inst-name").dblclick()
    field = row.get_by_test_id("daw-inst-rename")
    expect(field).to_be_focused()
    field.press_sequentially("  ab q2 Segment IV")  # a / b would add cells, q continue, 2 Liver
    page.keyboard.press("Enter")
    eventually(page, "print(w.labels.get(u).name)", "ab q2 Segment IV")
    expect(row.locator(".daw-inst-name")).to_have_text(
        "ab q2 Segment IV", timeout=EVENTUALLY * 1000
    )
    expect(row.locator(".daw-inst-cls")).to_have_text("Lesion")
    assert root.get_attribute("data-continuing") is None
    assert page.locator(".jp-Cell").count() == cells
    renamed = "print(w.labels.to_records()[0]['name'], w.labels.get(u).feature)"
    eventually(page, renamed, "ab q2 Segment IV lesion")

    # -- predictions imported in Python are marked; accept one, reject a class -------------
    preds = [
        {"feature": "lesion", "slice": 8, "box": [40, 30, 55, 44], "confidence": 0.9},
        {
            "feature": "liver",
            "slice": 8,
            "points": [[5, 30], [20, 30], [12, 44]],
            "confidence": 0.7,
        },
        {
            "feature": "liver",
            "slice": 9,
            "points": [[5, 30], [20, 30], [12, 44]],
            "confidence": 0.6,
        },
    ]
    run_probe(page, f"p = w.labels.import_predictions({preds!r}, source='detector'); print(len(p))")
    review = root.get_by_test_id("daw-review")
    expect(review).to_contain_text("Predictions (3 to review)", timeout=EVENTUALLY * 1000)
    expect(root.locator(".daw-inst-row.daw-inst-pred")).to_have_count(3)
    expect(root.locator(".daw-inst-row.daw-inst-pred .daw-inst-tag").first).to_have_text("0.90")
    expect(review.get_by_test_id("daw-review-row").first).to_contain_text("detector 0.90")
    lesion_pred = run_probe(page, "print(p[0])").strip()
    review.locator(f'[data-testid="daw-review-accept"][data-uuid="{lesion_pred}"]').click()
    status = (
        "print(json.dumps(sorted([o.feature, o.review] for o in w.labels "
        "if o.source == 'detector')))"
    )
    eventually(page, status, '[["lesion", "accepted"], ["liver", "pending"], ["liver", "pending"]]')
    root.get_by_test_id("daw-review-class-liver").get_by_test_id("daw-review-reject-class").click()
    eventually(page, status, '[["lesion", "accepted"]]')
    expect(review).to_be_hidden()
    # one undo (from the page) brings the whole class back: it was one edit
    root.focus()
    page.keyboard.press("Control+z")
    eventually(page, status, '[["lesion", "accepted"], ["liver", "pending"], ["liver", "pending"]]')
    expect(review).to_contain_text("Predictions (2 to review)", timeout=EVENTUALLY * 1000)

    # -- read-only review mode: nothing in the page can edit -------------------------------
    before = run_probe(page, "w.read_only = True; print(w.labels.revision)").strip()
    badge = root.get_by_test_id("daw-readonly-badge")
    expect(badge).to_be_visible(timeout=EVENTUALLY * 1000)
    expect(badge).to_have_text("Review mode: read-only")
    expect(root.get_by_test_id("daw-review-accept-all")).to_be_disabled()
    expect(row.locator('[data-action="delete"]')).to_be_disabled()
    expect(row.locator('[data-action="continue"]')).to_be_disabled()
    expect(root.get_by_test_id("daw-tool-box")).to_be_disabled()
    root.focus()
    page.mouse.click(*s.at(24, 18))
    expect(labels).to_have_attribute("data-selected", uuid)
    page.keyboard.press("Control+c")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+v")
    expect(root.get_by_test_id("daw-error")).to_contain_text("read-only")
    page.keyboard.press("q")
    expect(root).not_to_have_attribute("data-continuing", uuid)
    page.keyboard.press("ArrowLeft")
    page.mouse.click(*s.at(24, 18))
    page.keyboard.press("Delete")
    page.keyboard.press("Control+z")
    drag(page, s.at(45, 5), s.at(60, 20))
    row.hover()  # a row shows its buttons where the pointer is
    row.locator('[data-action="delete"]').click(force=True)
    root.get_by_test_id("daw-review-reject-all").click(force=True)
    # the kernel saw no edit at all
    after = run_probe(page, "print(w.labels.revision, len(list(w.labels)))").strip()
    assert after == f"{before} 4", (before, after)


def test_a_saved_notebook_keeps_no_labels_of_the_past(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    """QA 22a D2: views follow the labels by patches that the page's model never sees, and
    JupyterLab saves the model in the notebook: a review saved after accepting and rejecting
    predictions held them all as still to review, and reopened without its kernel the
    notebook showed that. The model now holds a marker in place of the labels once the view
    has them: the saved notebook has no labels, a view made later asks for them, and a
    notebook reopened without its kernel shows none."""
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=12, rows=ROWS, columns=COLUMNS)
    preds = [
        {"feature": "lesion", "slice": 6, "box": [10 + 8 * i, 8, 16 + 8 * i, 14], "confidence": 0.9}
        for i in range(3)
    ]
    nb = notebook(
        "import json\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1).build()\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        f"p = w.labels.import_predictions({preds!r}, source='detector')\n"
        "w"
    )
    name = "saved_review.ipynb"
    root = open_widget(page, lab_each, name, nb, workspace="saved-review")
    review = root.get_by_test_id("daw-review")
    expect(review).to_contain_text("Predictions (3 to review)", timeout=EVENTUALLY * 1000)
    first, second = (run_probe(page, f"print(p[{i}])").strip() for i in (0, 1))
    review.locator(f'[data-testid="daw-review-accept"][data-uuid="{first}"]').click()
    review.locator(f'[data-testid="daw-review-reject"][data-uuid="{second}"]').click()
    status = "print(json.dumps(sorted(o.review for o in w.labels)))"
    eventually(page, status, '["accepted", "pending"]')
    expect(review).to_contain_text("Predictions (1 to review)")

    # a second view of the widget, made now, asks for the labels and shows them as they are
    run_probe(page, "display(w)")
    other = page.get_by_test_id("daw-root").nth(1)
    expect(other.get_by_test_id("daw-review")).to_contain_text(
        "Predictions (1 to review)", timeout=EVENTUALLY * 1000
    )
    expect(other.get_by_test_id("daw-instances")).to_contain_text("Objects (2)")

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    text = (lab_each.root / name).read_text(encoding="utf-8")
    saved = json.loads(text)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
    [ours] = [m for m in saved["state"].values() if "series_info" in m["state"]]
    [labels_state] = [b for b in ours["buffers"] if b["path"] == ["labels_state"]]
    assert json.loads(base64.b64decode(labels_state["data"])).keys() == {"kept"}
    for uuid in (first, second):
        assert uuid not in text  # no object of the session is in the file

    # the page reloaded while the kernel runs: its views ask for the labels as they are
    page.reload()
    live = page.get_by_test_id("daw-root").first
    expect(live.get_by_test_id("daw-review")).to_contain_text(
        "Predictions (1 to review)", timeout=EVENTUALLY * 3000
    )
    expect(live.get_by_test_id("daw-instances")).to_contain_text("Objects (2)")

    # reopened without its kernel: no predictions to review that are long decided
    shutdown_kernels(lab_each)
    page.reload()
    restored = page.get_by_test_id("daw-root").first
    expect(restored).to_have_attribute("data-connected", "false", timeout=EVENTUALLY * 1000)
    expect(restored.get_by_test_id("daw-review")).to_be_hidden()
    expect(restored.get_by_test_id("daw-labels")).to_have_attribute("data-count", "0")
