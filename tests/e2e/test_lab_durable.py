"""Durable labels in a real JupyterLab: edits made in the page and acknowledged by the kernel
survive a kernel killed with SIGKILL; reopening the notebook shows every label again."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import (
    kernel_eventually,
    notebook,
    open_widget,
    run_probe,
    shutdown_kernels,
)

COLUMNS, ROWS = 64, 48

PROBE = (
    "d = json.loads(w.labels.to_json())\n"
    "kf = lambda o: [o['keyframes'][k].get('box') or o['keyframes'][k].get('points')\n"
    "                for k in sorted(o['keyframes'])]\n"
    "print(json.dumps(sorted([o['feature'], sorted(o['keyframes']), kf(o)]\n"
    "                        for o in d['objects'])))"
)


def _pid_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_sigkilled_kernel_loses_no_acknowledged_edit(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=12, rows=ROWS, columns=COLUMNS)
    label_file = tmp_path / "labels.daw.json"
    nb = notebook(
        "import json, os\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = (Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1)\n"
        "        .object('Liver', shape='polygon', hotkey=2).build())\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto, label_path={str(label_file)!r})\n"
        "w"
    )
    root = open_widget(page, lab_each, "durable.ipynb", nb, workspace="durable-1")
    pid = int(kernel_eventually(page, "print(os.getpid())", "never", timeout=0))

    # a box and a polygon drawn with the mouse on the middle slice (6)
    view = page.get_by_test_id("daw-view").bounding_box()

    def at(fx: float, fy: float) -> tuple[float, float]:
        return view["x"] + view["width"] * fx, view["y"] + view["height"] * fy

    root.focus()
    page.keyboard.press("1")
    expect(root).to_have_attribute("data-tool", "box")
    page.mouse.move(*at(0.2, 0.2))
    page.mouse.down()
    page.mouse.move(*at(0.45, 0.5), steps=5)
    page.mouse.up()
    page.keyboard.press("2")
    expect(root).to_have_attribute("data-tool", "polygon")
    for fx, fy in ((0.6, 0.3), (0.85, 0.35), (0.75, 0.75)):
        page.mouse.click(*at(fx, fy))
    page.keyboard.press("Enter")

    labels = page.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-count", "2", timeout=30_000)
    # both edits acknowledged: Python's revision reached the page (create, create)
    expect(labels).to_have_attribute("data-revision", "2", timeout=30_000)
    before = kernel_eventually(page, PROBE, "never", timeout=0)
    objects = json.loads(before)
    assert [o[0] for o in objects] == ["lesion", "liver"], objects

    # SIGKILL: no atexit, no flush, no chance to write anything more
    os.kill(pid, signal.SIGKILL)
    assert _pid_gone(pid), "the kernel did not die"
    # the server notices the death (and may restart the kernel); end every session then
    page.goto("about:blank")
    deadline = time.monotonic() + 30
    while True:
        try:
            shutdown_kernels(lab_each)
            break
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

    # reopen the same notebook in a fresh page: the widget opens the same label file
    root = open_widget(page, lab_each, "durable.ipynb", nb, workspace="durable-2")
    expect(page.get_by_test_id("daw-labels")).to_have_attribute("data-count", "2", timeout=30_000)
    after = run_probe(page, PROBE).strip()
    assert after == before
    assert int(run_probe(page, "print(os.getpid())").strip()) != pid


def test_after_a_kernel_restart_the_widget_says_so_and_refuses_edits(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    """QA: after a kernel restart (the cell not run again) the page went on drawing objects
    that never reached Python, and threw "Cannot send". Now it says the kernel is gone (at
    once, not only when an edit is refused: QA saw a live-looking widget for 12 s) and
    refuses the edit."""
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=8, rows=ROWS, columns=COLUMNS)
    nb = notebook(
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1).build()\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        "w"
    )
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    root = open_widget(page, lab_each, "restart.ipynb", nb, workspace="restart-1")
    expect(root).to_have_attribute("data-connected", "true")
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".status === 'idle'",
        timeout=60_000,
    )
    expect(root).to_have_attribute("data-connected", "false", timeout=10_000)
    expect(page.get_by_test_id("daw-error")).to_contain_text("Not connected to the kernel")
    view = page.get_by_test_id("daw-view").bounding_box()
    root.focus()
    page.keyboard.press("1")
    page.mouse.move(view["x"] + view["width"] * 0.2, view["y"] + view["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(view["x"] + view["width"] * 0.5, view["y"] + view["height"] * 0.5, steps=4)
    page.mouse.up()
    expect(root).to_have_attribute("data-connected", "false", timeout=10_000)
    expect(page.get_by_test_id("daw-error")).to_contain_text("Not connected to the kernel")
    expect(page.get_by_test_id("daw-labels")).to_have_attribute("data-count", "0")
    assert not [e for e in errors if "Cannot send" in e], errors
