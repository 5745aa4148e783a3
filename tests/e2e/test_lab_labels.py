"""Drawing labels in a real JupyterLab: the page's edit goes through the kernel's Labels and
back, and scripted edits appear in the page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import kernel_eventually, notebook, open_widget

COLUMNS, ROWS = 64, 48


def hovered_voxel(page: Any, x: float, y: float) -> tuple[int, int]:
    """The voxel (column, row) the readout names with the pointer at page point (x, y)."""
    page.mouse.move(x, y)
    readout = page.get_by_test_id("daw-readout")
    expect(readout).to_have_attribute("data-voxel", re.compile(r"^\d+,\d+,\d+$"))
    col, row, _ = (int(v) for v in readout.get_attribute("data-voxel").split(","))
    return col, row


def test_box_drawn_in_the_page_reaches_python_and_python_edits_reach_the_page(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
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
    root = open_widget(page, lab_each, "labels.ipynb", nb, workspace="labels")

    # draw a box with the mouse on the middle slice (6)
    root.focus()
    page.keyboard.press("1")
    expect(root).to_have_attribute("data-tool", "box")
    view = page.get_by_test_id("daw-view").bounding_box()
    ax, ay = view["x"] + view["width"] * 0.35, view["y"] + view["height"] * 0.40
    bx, by = view["x"] + view["width"] * 0.60, view["y"] + view["height"] * 0.70
    corner_a = hovered_voxel(page, ax, ay)
    corner_b = hovered_voxel(page, bx, by)
    page.mouse.move(ax, ay)
    page.mouse.down()
    page.mouse.move(bx, by, steps=6)
    page.mouse.up()

    probe = (
        "d = json.loads(w.labels.to_json())\n"
        "print(json.dumps([[o['feature'], sorted(o['keyframes'])] for o in d['objects']]))"
    )
    assert kernel_eventually(page, probe, '[["lesion", ["6"]]]') == '[["lesion", ["6"]]]'
    out = kernel_eventually(
        page,
        "print(json.dumps(json.loads(w.labels.to_json())['objects'][0]['keyframes']['6']['box']))",
        "never",
        timeout=0,
    )
    box = json.loads(out)
    # the corners are where the pointer was: within half a voxel of the voxels the readout named
    want = [*corner_a, *corner_b]
    assert all(abs(g - e) <= 0.5 for g, e in zip(box, want, strict=True)), (box, want)

    # a scripted polygon shows up on the canvas; undo in the page removes it in Python
    kernel_eventually(
        page,
        "w.labels.add_polygon('liver', 6, [[5, 5], [20, 6], [12, 18]]); print(len(list(w.labels)))",
        "2",
        timeout=0,
    )
    labels = page.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-count", "2", timeout=30_000)
    root.focus()
    page.keyboard.press("Control+z")
    assert kernel_eventually(page, probe, '[["lesion", ["6"]]]') == '[["lesion", ["6"]]]'
    expect(labels).to_have_attribute("data-count", "1", timeout=30_000)

    # a measurement added from Python is drawn on its slice
    kernel_eventually(
        page,
        "m = w.labels.add_measurement('distance', 6, [(2, 3), (20, 3)]); print('added')",
        "added",
        timeout=0,
    )
    expect(labels).to_have_attribute("data-measurements", "1", timeout=30_000)
    # and one measured with the page's tool reaches Python
    root.focus()
    page.keyboard.press("l")
    expect(root).to_have_attribute("data-tool", "measure")
    page.mouse.move(ax, by)
    page.mouse.down()
    page.mouse.move(bx, by, steps=4)
    page.mouse.up()
    expect(labels).to_have_attribute("data-measurements", "2", timeout=30_000)
    probe = "print(sorted(m.kind + str(m.slice) for m in w.labels.measurements))"
    want = "['distance6', 'distance6']"
    assert kernel_eventually(page, probe, want) == want


def test_a_series_switched_to_shows_its_own_labels(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    """QA of the labels patches: a box drawn on series 1 (sent as a patch), then a switch to
    series 2 (no labels) went on showing series 1's box: the whole state of series 2 equalled
    the one the page had been given first, so the page's model took it as no change."""
    for name in ("a", "b"):
        write_phantom_series(tmp_path / name, n_slices=12, rows=ROWS, columns=COLUMNS)
    nb = notebook(
        "import json\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1).build()\n"
        f"w = DicomAnnotator([{str(tmp_path / 'a')!r}, {str(tmp_path / 'b')!r}], ontology=onto)\n"
        "w"
    )
    root = open_widget(page, lab_each, "switch.ipynb", nb, workspace="switch")
    root.focus()
    page.keyboard.press("1")
    view = page.get_by_test_id("daw-view").bounding_box()
    page.mouse.move(view["x"] + view["width"] * 0.3, view["y"] + view["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(view["x"] + view["width"] * 0.6, view["y"] + view["height"] * 0.6, steps=6)
    page.mouse.up()
    drawn = page.get_by_test_id("daw-labels")
    count = "print(len(w.labels))"
    assert kernel_eventually(page, count, "1") == "1"
    expect(drawn).to_have_attribute("data-count", "1")
    assert kernel_eventually(page, "w.series_index = 1\nprint(len(w.labels))", "0") == "0"
    expect(root).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(drawn).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("daw-instances")).to_contain_text("Objects (0)")
    assert kernel_eventually(page, "w.series_index = 0\nprint(len(w.labels))", "1") == "1"
    expect(drawn).to_have_attribute("data-count", "1")


def test_a_message_shows_over_the_image_in_a_scrolled_notebook(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    """QA: with the notebook scrolled so that the widget's top was cut, toasts went over the
    tool bar (JupyterLab's 0 px high outer container, overflow hidden, emptied the visible
    band): they show over the top of the image, under the tool bar."""
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=12, rows=256, columns=256)
    nb = notebook(
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1).build()\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        "w"
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    root = open_widget(page, lab_each, "toast.ipynb", nb, workspace="toast")
    root.focus()
    page.evaluate("() => { document.querySelector('.jp-WindowedPanel-outer').scrollTop += 60; }")
    toolbar = root.locator(".daw-toolbar")
    expect(toolbar).to_be_visible()
    page.keyboard.press("Alt+x")
    page.keyboard.press("1")  # picking a tool ends the crosshair drag: a message says so
    toast = root.locator(".daw-toast")
    expect(toast).to_contain_text("Crosshair drag off")
    view = page.get_by_test_id("daw-view").bounding_box()
    bar = toolbar.bounding_box()
    shown = toast.bounding_box()
    assert shown["y"] >= view["y"] >= bar["y"] + bar["height"] - 1, (shown, view, bar)
