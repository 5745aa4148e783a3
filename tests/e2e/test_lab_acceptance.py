"""Acceptance criteria of the viewer in a real JupyterLab (server + kernel + Chromium).

All tests of this module share one JupyterLab server (``shared_lab``); each opens its own
notebook in its own Lab workspace, and its kernel is shut down when it ends (``lab_each``).
Outcomes are read where they happen: trait values in the kernel (``run_probe`` /
``kernel_eventually``), pixels of the widget's native-size canvas (``daw-canvas``) and the DOM
text. Nothing waits a fixed time: every wait is for a condition, with a deadline."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import (
    READY_TIMEOUT,
    kernel_eventually,
    notebook,
    open_notebook,
    run_all_cells,
    run_probe,
)
from .test_lab_viewer import CT_DICOM

XSS_NAME = "<img src=x onerror=alert(1)>"

# The native-size canvas' slice, window and red channel (grey), read in one go so the three
# always belong together; base64 so 512x512 values cross cheaply.
CANVAS_STATE = """(c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const g = new Uint8Array(d.length / 4);
  for (let i = 0; i < g.length; i++) g[i] = d[4 * i];
  let s = '';
  for (let i = 0; i < g.length; i += 8192) s += String.fromCharCode(...g.subarray(i, i + 8192));
  return {slice: c.dataset.slice, window: c.dataset.window, width: c.width, height: c.height,
          grey: btoa(s)};
}"""

# The notebook as the user sees it: every cell's id, type and source, the mode, the active cell.
NOTEBOOK_SNAPSHOT = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return {
    cells: nb.widgets.map(c => [c.model.id, c.model.type, c.model.sharedModel.getSource()]),
    mode: nb.mode,
    active: nb.activeCellIndex,
  };
}"""


# ---- data -----------------------------------------------------------------------------------


def _phantom(tmp_path_factory: pytest.TempPathFactory, name: str, **kwargs: Any) -> Path:
    folder = tmp_path_factory.mktemp(name) / "series"
    write_phantom_series(folder, **kwargs)
    return folder


@pytest.fixture(scope="module")
def small_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 slices of 128 x 128 (opens on slice 10)."""
    return _phantom(tmp_path_factory, "small", n_slices=20, rows=128, columns=128)


# ---- helpers --------------------------------------------------------------------------------


def widget_cell(source: Path | str, var: str = "w") -> str:
    return f"import dicom_annot_widget as daw\n{var} = daw.DicomAnnotator({str(source)!r})\n{var}"


def recording_widget_cell(source: Path | str) -> str:
    """Like `widget_cell`, and the kernel keeps every message from the page in `from_page`
    (through the public ``on_msg``; registered before the page can send anything)."""
    return (
        widget_cell(source).removesuffix("\nw")
        + "\nfrom_page = []\nw.on_msg(lambda _w, content, _b: from_page.append(content))\nw"
    )


def open_widgets(
    page: Any, lab: Any, request: pytest.FixtureRequest, *cells: str, run: bool = True
) -> Path:
    """Open a notebook of `cells` named after the test, in a workspace of its own."""
    # (a parametrised test's "[id]" would not survive the URL)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)
    open_notebook(page, lab, f"{name}.ipynb", notebook(*cells), workspace=name, run=run)
    return lab.root / f"{name}.ipynb"


def ready_root(page: Any, i: int = 0, slice_: int | None = None) -> Any:
    """The i-th widget, once it shows a slice (`slice_`, if given)."""
    root = page.get_by_test_id("daw-root").nth(i)
    expect(root).to_have_attribute("data-ready", "true", timeout=READY_TIMEOUT)
    if slice_ is not None:
        expect(root.get_by_test_id("daw-canvas")).to_have_attribute(
            "data-slice", str(slice_), timeout=READY_TIMEOUT
        )
    return root


def view_box(root: Any) -> dict[str, float]:
    """The visible canvas' box, scrolled into the page first (a probe cell scrolls away)."""
    view = root.get_by_test_id("daw-view")
    view.scroll_into_view_if_needed()
    box = view.bounding_box()
    assert box is not None
    return box


def centre(root: Any) -> tuple[int, int]:
    box = view_box(root)
    return round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)


def wheel_over(page: Any, root: Any, notches: int) -> None:
    """`notches` mouse-wheel notches (positive: down) over the image."""
    x, y = centre(root)
    page.mouse.move(x, y)
    for _ in range(abs(notches)):
        page.mouse.wheel(0, 100 if notches > 0 else -100)


def focus_widget(page: Any, root: Any) -> None:
    """Click the image (a plain left click: no drag) so the widget has the keyboard."""
    x, y = centre(root)
    page.mouse.click(x, y)
    expect(root).to_be_focused()


def kernel_is(page: Any, expr: str, expected: Any, timeout: float = 30) -> None:
    """The kernel's `expr` (printed with repr) becomes `expected`."""
    got = kernel_eventually(page, f"print(repr({expr}))", repr(expected), timeout=timeout)
    assert got == repr(expected), f"kernel {expr} = {got}, expected {expected!r}"


def canvas_matches_numpy(page: Any, root: Any, var: str = "w") -> dict[str, Any]:
    """Every pixel of the widget's native-size canvas equals NumPy's windowing of the slice
    (and window) the canvas says it shows; returns the canvas' slice and window."""
    state = root.get_by_test_id("daw-canvas").evaluate(CANVAS_STATE)
    k = int(state["slice"])
    center, width = (float(v) for v in state["window"].split(","))
    shown = np.frombuffer(base64.b64decode(state["grey"]), np.uint8).reshape(
        state["height"], state["width"]
    )
    out = run_probe(
        page,
        "import json\n"
        "from dicom_annot_widget.kernels.windowing import apply_window\n"
        f"_g = apply_window({var}.series.get_slice({k}), {center!r}, {width!r})\n"
        "print(json.dumps({'shape': list(_g.shape), 'grey': _g.tobytes().hex()}))",
    )
    expected = json.loads(out)
    assert expected["shape"] == [state["height"], state["width"]]
    grey = np.frombuffer(bytes.fromhex(expected["grey"]), np.uint8).reshape(expected["shape"])
    diff = np.abs(shown.astype(int) - grey.astype(int))
    assert diff.max() == 0, f"slice {k}: {(diff > 0).sum()} pixels differ, max by {diff.max()}"
    assert len(np.unique(shown)) > 10, "the slice is trivially flat: the comparison proves little"
    return {"slice": k, "window": (center, width)}


def open_metadata_panel(root: Any) -> Any:
    root.get_by_test_id("daw-meta-toggle").click()
    panel = root.get_by_test_id("daw-meta")
    expect(panel).to_be_visible()
    expect(root.get_by_test_id("daw-meta-count")).to_contain_text("elements", timeout=30_000)
    return panel


def meta_row(root: Any, keyword: str) -> Any:
    """Search the metadata panel for `keyword` (typed key by key) and return its one row."""
    search = root.get_by_test_id("daw-meta-search")
    search.click()
    search.press_sequentially(keyword)
    rows = (
        root.get_by_test_id("daw-meta-list")
        .locator(".daw-meta-row")
        .filter(has=root.page.locator(".daw-meta-kw", has_text=re.compile(f"^{keyword}$")))
    )
    expect(rows).to_have_count(1)
    return rows.first


def js_round(v: float) -> int:
    """JavaScript's Math.round (halves go up)."""
    return math.floor(v + 0.5)


# ---- 1, 2: navigation both ways --------------------------------------------------------------


def test_wheel_and_arrow_keys_move_the_slice_and_python_sees_it(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """Mouse-wheel notches over the image and Right/Left arrow keys step the slice; the kernel's
    ``w.slice`` follows, and the canvas shows the slice."""
    open_widgets(page, lab_each, request, widget_cell(small_phantom))
    root = ready_root(page, slice_=10)
    canvas = root.get_by_test_id("daw-canvas")

    wheel_over(page, root, 2)  # down: forward
    kernel_is(page, "w.slice", 12)
    expect(canvas).to_have_attribute("data-slice", "12")
    wheel_over(page, root, -1)
    kernel_is(page, "w.slice", 11)

    focus_widget(page, root)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    kernel_is(page, "w.slice", 14)
    expect(canvas).to_have_attribute("data-slice", "14")
    focus_widget(page, root)  # the probe cell took the focus
    page.keyboard.press("ArrowLeft")
    kernel_is(page, "w.slice", 13)
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("14 / 20")
    canvas_matches_numpy(page, root)


def test_python_sets_the_slice_and_the_canvas_follows(
    lab_each: Any, page: Any, request: pytest.FixtureRequest
) -> None:
    """``w.slice = k`` (and ``w.window = ...``) in a cell: the canvas then shows slice k with
    every pixel equal to NumPy's windowing of the real CT's HU values."""
    open_widgets(page, lab_each, request, widget_cell(CT_DICOM))
    root = ready_root(page, slice_=10)
    canvas = root.get_by_test_id("daw-canvas")

    for k in (3, 19, 0):
        run_probe(page, f"w.slice = {k}")
        expect(canvas).to_have_attribute("data-slice", str(k), timeout=30_000)
        shown = canvas_matches_numpy(page, root)
        assert shown["slice"] == k
        kernel_is(page, "w.slice", k)

    run_probe(page, "w.window = (400, 1800)")
    expect(canvas).to_have_attribute("data-window", "400,1800", timeout=30_000)
    shown = canvas_matches_numpy(page, root)
    assert shown == {"slice": 0, "window": (400.0, 1800.0)}


# ---- 3: windowing by drag -------------------------------------------------------------------


def test_window_drag_changes_the_kernel_window(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """A right-button drag up raises the level (centre); in the drag mode (Alt+W) a left drag
    to the right widens the width. ``w.window`` in the kernel gets exactly the values the
    drag gives (a 300th of the window's width per screen pixel, within 1/4096 .. 1/512 of the
    value range), and the canvas shows that window."""
    open_widgets(page, lab_each, request, widget_cell(small_phantom))
    root = ready_root(page, slice_=10)
    info = json.loads(
        run_probe(page, "import json; print(json.dumps([w.series_info['value_range'], w.window]))")
    )
    (lo, hi), (c0, w0) = info

    def per_px(width: float) -> float:  # the window change per pixel of a drag from `width`
        return max(min(width / 300, (hi - lo) / 512), (hi - lo) / 4096, 1e-4)

    # right-button drag 40 px up: level up, width unchanged
    x, y = centre(root)
    page.mouse.move(x, y)
    page.mouse.down(button="right")
    page.mouse.move(x, y - 40, steps=4)
    page.mouse.up(button="right")
    c1 = js_round(c0 + 40 * per_px(w0))
    assert c1 > c0
    kernel_is(page, "w.window", (float(c1), float(w0)))

    # Alt+W, then a left drag 30 px right: width up, level unchanged
    focus_widget(page, root)
    page.keyboard.press("Alt+w")
    expect(root.get_by_test_id("daw-wl-mode")).to_have_attribute("aria-pressed", "true")
    x, y = centre(root)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y, steps=3)
    page.mouse.up()
    w1 = js_round(w0 + 30 * per_px(w0))
    assert w1 > w0
    kernel_is(page, "w.window", (float(c1), float(w1)))

    # ... and a left drag down and left (still in the mode) lowers the level and narrows
    x, y = centre(root)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 20, y + 10, steps=2)
    page.mouse.up()
    c2, w2 = js_round(c1 - 10 * per_px(w1)), js_round(w1 - 20 * per_px(w1))
    kernel_is(page, "w.window", (float(c2), float(w2)))
    canvas = root.get_by_test_id("daw-canvas")
    expect(canvas).to_have_attribute("data-window", f"{c2},{w2}")
    assert canvas_matches_numpy(page, root)["window"] == (c2, w2)


# ---- 4: HU readout --------------------------------------------------------------------------


def test_hu_readout_equals_numpy_at_the_hovered_voxel(
    lab_each: Any, page: Any, request: pytest.FixtureRequest
) -> None:
    """Hovering known screen points of the real CT: the readout names the voxel under the
    pointer, and its HU value equals ``w.series.get_slice(k)[row, col]``."""
    open_widgets(page, lab_each, request, widget_cell(CT_DICOM))
    root = ready_root(page, slice_=10)
    readout = root.get_by_test_id("daw-readout")
    rows = cols = 512  # square pixels (0.977 mm both ways): the image fits the view, centred
    seen = set()
    for col, row in [(256, 256), (100, 300), (400, 150), (300, 420), (10, 10)]:
        box = view_box(root)
        scale = min(box["width"] / cols, box["height"] / rows)
        x = box["x"] + (box["width"] - cols * scale) / 2 + (col + 0.5) * scale
        y = box["y"] + (box["height"] - rows * scale) / 2 + (row + 0.5) * scale
        page.mouse.move(x, y)
        # the readout names the voxel under the pointer (the centre of voxel (col, row)) ...
        expect(readout).to_have_attribute("data-voxel", f"{col},{row},10")
        # read together: the probe's output may scroll the notebook under the still pointer,
        # and the readout follows the image (another voxel then)
        voxel, value, text = readout.evaluate(
            "(r) => [r.dataset.voxel, r.dataset.value, r.textContent || '']"
        )
        vc, vr, vk = (int(v) for v in voxel.split(","))
        assert f"x {vc}  y {vr}  z {vk}" in text
        hu = float(run_probe(page, f"print(float(w.series.get_slice({vk})[{vr}, {vc}]))"))
        assert float(value) == hu
        shown = re.search(r"·\s+(-?[\d.]+) HU", text)
        assert shown and float(shown.group(1)) == hu, text
        seen.add(hu)
    assert len(seen) >= 4  # air, fat, soft tissue, bone: not one value everywhere
    assert min(seen) <= -900 and max(seen) >= 0


# ---- 5: jump to the end while loading --------------------------------------------------------

# Records, in the page, how many slices had arrived when the last slice was first painted
# (n - 1 is not in the loader's coarse first pass: without re-prioritisation it would be about
# the 126th of 128). Reported, not asserted: the kernel sends the whole series into the socket
# within a fraction of a second, long before the page has received it, so a re-prioritised
# request usually finds nothing left to reorder (the streamer has no flow control).
PAINT_RECORDER = """(last) => {
  window.__dawPaint = {loadedAtPaint: null};
  const obs = new MutationObserver(() => {
    const root = document.querySelector('[data-testid="daw-root"]');
    const c = root && root.querySelector('[data-testid="daw-canvas"]');
    if (c && c.dataset.slice === String(last)) {
      window.__dawPaint.loadedAtPaint = Number(root.dataset.loaded);
      obs.disconnect();
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ['data-slice', 'data-loaded']});
}"""


def test_end_while_loading_shows_the_last_slice(
    lab_each: Any,
    page: Any,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A 128-slice 256 x 256 series: End pressed as soon as the widget appears shows the
    last slice, pixel for pixel. The kernel sends the middle slice unasked with the widget;
    the page asks for the rest of the series once, and again around the last slice if End
    came while it was still loading (the kernel records every message from the page through
    the public ``on_msg``)."""
    n = 128
    folder = _phantom(tmp_path_factory, "big", n_slices=n, rows=256, columns=256)
    cell = recording_widget_cell(folder)
    open_widgets(page, lab_each, request, cell, run=False)
    page.evaluate(PAINT_RECORDER, n - 1)
    run_all_cells(page)
    root = page.get_by_test_id("daw-root")
    root.wait_for(state="attached", timeout=READY_TIMEOUT)
    root.focus()
    page.keyboard.press("End")
    loaded_at_press = int(root.get_attribute("data-loaded") or 0)

    ready_root(page, slice_=n - 1)
    kernel_is(page, "w.slice", n - 1)
    assert canvas_matches_numpy(page, root)["slice"] == n - 1
    expect(root).to_have_attribute("data-loaded", str(n), timeout=READY_TIMEOUT)
    canvas_matches_numpy(page, root)  # still right once everything has arrived

    asked = json.loads(
        run_probe(
            page,
            "import json\nprint(json.dumps([m['slices'][:1] + [len(m['slices']),"
            f" {n // 2} in m['slices']] for m in from_page if m.get('type') == 'get_slices']))",
        )
    )
    loaded_at_paint = page.evaluate("window.__dawPaint.loadedAtPaint")
    print(
        f"End pressed with {loaded_at_press}/{n} slices in the page; last slice painted with "
        f"{loaded_at_paint}/{n}; get_slices requests (first slice, length): {asked}"
    )
    # the middle slice came unasked, ahead of the widget's state; then one request for the
    # rest of the series (one per widget, not per view or per loader); End re-prioritises
    # with a request that starts at the last slice (all the rest when End came before the
    # first batch arrived: the kernel now sends that batch without waiting for an ack)
    assert asked[0][1:] == [n - 1, False], asked
    assert [a for a in asked if a[0] != n - 1] == [asked[0]], asked
    if loaded_at_press <= n // 2:  # End came early in loading: the page re-prioritised
        assert any(a[0] == n - 1 for a in asked), asked


# ---- 6, 7: metadata panel --------------------------------------------------------------------


def test_metadata_search_finds_pixel_spacing(
    lab_each: Any, page: Any, request: pytest.FixtureRequest
) -> None:
    """The metadata panel (its toolbar button) of the real CT: typing "PixelSpacing" in the
    search box leaves the PixelSpacing row, with the value in the file."""
    open_widgets(page, lab_each, request, widget_cell(CT_DICOM))
    root = ready_root(page, slice_=10)
    open_metadata_panel(root)
    row = meta_row(root, "PixelSpacing")
    expect(row.locator(".daw-meta-tag")).to_contain_text("0028")
    value = row.locator(".daw-meta-value").text_content() or ""
    files = sorted(CT_DICOM.glob("*.dcm"))
    expected = [float(v) for v in pydicom.dcmread(files[0], stop_before_pixels=True).PixelSpacing]
    got = [float(v) for v in re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", value)]
    assert got == pytest.approx(expected), value
    expect(root.get_by_test_id("daw-meta-count")).to_contain_text("match")


def test_html_in_patient_name_is_text(
    lab_each: Any,
    page: Any,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A PatientName of ``<img src=x onerror=alert(1)>`` shows literally in the metadata
    panel: no <img> is created and no dialog opens."""
    dialogs: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    folder = _phantom(
        tmp_path_factory, "xss", n_slices=6, rows=64, columns=64, patient_name=XSS_NAME
    )
    open_widgets(page, lab_each, request, widget_cell(folder))
    root = ready_root(page, slice_=3)
    open_metadata_panel(root)
    expect(root.get_by_test_id("daw-meta")).to_contain_text(XSS_NAME)
    row = meta_row(root, "PatientName")
    expect(row.locator(".daw-meta-value")).to_have_text(XSS_NAME)
    assert root.locator("img").count() == 0
    assert page.locator('img[src="x"]').count() == 0
    # the overlay (on by default) and a new slice's panel render too: still nothing
    focus_widget(page, root)
    page.keyboard.press("ArrowRight")
    expect(root.get_by_test_id("daw-meta")).to_contain_text("slice 5")
    expect(row.locator(".daw-meta-value")).to_have_text(XSS_NAME, timeout=30_000)
    assert root.locator("img").count() == 0
    # a dialog would have been reported by now: the kernel round trip below comes after it
    kernel_is(page, "w.slice", 4)
    assert dialogs == []


# ---- 8: keys stay in the widget --------------------------------------------------------------


def test_keys_in_the_widget_leave_the_notebook_unchanged(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """With the widget focused, the notebook's command-mode keys (d d: delete, a/b: insert,
    x: cut, m: markdown, z: undo, c/v: copy/paste, Enter: edit) change nothing: same cells
    (ids, types, sources), same mode, same active cell."""
    path = open_widgets(page, lab_each, request, widget_cell(small_phantom), "x = 1", "y = 2")
    root = ready_root(page, slice_=10)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.mode = 'command'; }")
    focus_widget(page, root)
    before = page.evaluate(NOTEBOOK_SNAPSHOT)
    assert len(before["cells"]) == 3 and before["mode"] == "command"
    for key in ["d", "d", "a", "b", "x", "m", "z", "c", "v", "Enter"]:
        page.keyboard.press(key)
    # keys are handled in order: once this arrow has moved the slice, all of them have been
    page.keyboard.press("ArrowRight")
    try:
        expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "11")
        expect(root).to_be_focused()
    except AssertionError as exc:
        raise AssertionError(
            f"the keys left the widget; notebook before {before}, after "
            f"{page.evaluate(NOTEBOOK_SNAPSHOT)}"
        ) from exc
    assert page.evaluate(NOTEBOOK_SNAPSHOT) == before
    # the file on disk is what was written (nothing was saved either)
    assert [c["source"] for c in json.loads(path.read_text())["cells"]] == [
        c[2] for c in before["cells"]
    ]
    kernel_is(page, "w.slice", 11)


def test_save_shortcut_in_the_widget_saves_the_notebook(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """Ctrl+S with the widget focused is JupyterLab's save (the one chord the widget lets
    through): the notebook on disk gets the widget's output, and the focus stays put."""
    path = open_widgets(page, lab_each, request, widget_cell(small_phantom), "x = 1")
    root = ready_root(page, slice_=10)
    dirty = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
    assert page.evaluate(dirty)  # the cells ran: outputs not saved yet
    assert not json.loads(path.read_text())["cells"][0]["outputs"]
    focus_widget(page, root)
    page.keyboard.press("Control+s")
    page.wait_for_function(f"() => !({dirty})()")
    assert json.loads(path.read_text())["cells"][0]["outputs"]
    expect(root).to_be_focused()
    # the other keys still stay in the widget
    page.keyboard.press("ArrowRight")
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "11")


# ---- 9: two widgets ----------------------------------------------------------------------


def test_two_widgets_scroll_independently(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """Two widgets on the same series, in two cells: the wheel over the first moves only
    ``w1.slice``, keys in the second only ``w2.slice``."""
    open_widgets(
        page,
        lab_each,
        request,
        widget_cell(small_phantom, "w1"),
        widget_cell(small_phantom, "w2"),
    )
    first, second = ready_root(page, 0, slice_=10), ready_root(page, 1, slice_=10)
    wheel_over(page, first, 3)
    kernel_is(page, "(w1.slice, w2.slice)", (13, 10))
    expect(first.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "13")
    expect(second.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "10")

    focus_widget(page, second)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    kernel_is(page, "(w1.slice, w2.slice)", (13, 8))
    expect(first.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "13")
    expect(second.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "8")
    canvas_matches_numpy(page, first, "w1")
    canvas_matches_numpy(page, second, "w2")


def test_side_by_side_planes_with_linked_crosshairs(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """The README's pattern for planes side by side: two widgets of one series in an
    ``HBox``, the second on the coronal reformat, their crosshairs linked with
    ``traitlets.link``. Scrolling the axial one moves the coronal one's crosshair (its axial
    line), not its slice. Made together, the second follows the first one's loading: its
    kernel sends the slice it opens on, unasked, and it asks for nothing more."""
    cell = (
        "import ipywidgets, traitlets\n"
        + widget_cell(small_phantom, "w1").removesuffix("\nw1")
        + "\nw2 = daw.DicomAnnotator(w1.series)\nw2.plane = 'coronal'"
        "\nfrom_page2 = []\nw2.on_msg(lambda _w, content, _b: from_page2.append(content))"
        "\nlink = traitlets.link((w1, 'crosshair'), (w2, 'crosshair'))"
        "\nipywidgets.HBox([w1, w2])"
    )
    open_widgets(page, lab_each, request, cell)
    first, second = ready_root(page, 0, slice_=10), ready_root(page, 1)
    for root in (first, second):
        expect(root).to_have_attribute("data-loaded", "20", timeout=READY_TIMEOUT)
    # (its kernel sent that slice unasked, with the widget: it asks for nothing)
    kernel_is(page, "[m['slices'] for m in from_page2 if m.get('type') == 'get_slices']", [])
    expect(second.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", "coronal")
    # side by side: the second widget's box is to the right of the first one's
    a, b = first.bounding_box(), second.bounding_box()
    assert b["x"] >= a["x"] + a["width"] - 1 and abs(b["y"] - a["y"]) < 40
    wheel_over(page, first, 3)
    kernel_is(page, "(w1.slice, w2.crosshair[2], w2.plane, w2.slice)", (13, 13, "coronal", 64))
    expect(second.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "64")


def test_orthogonal_views_share_the_pixels_the_labels_and_the_crosshair(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """``daw.OrthogonalViews``: three views, one volume in the page (loaded once), scrolling
    the axial one moves the others' crosshair, and a mask painted in the coronal view's page
    is in the labels and shown by the axial view on each slice it reached."""
    cell = (
        "import dicom_annot_widget as daw\n"
        "onto = daw.Ontology.builder().object('Organ', shape='bitmask').build()\n"
        f"v = daw.OrthogonalViews({str(small_phantom)!r}, ontology=onto)\n"
        "from_page = [[] for _ in v.views]\n"
        "for w, got in zip(v.views, from_page):\n"
        "    w.on_msg(lambda _w, content, _b, got=got: got.append(content))\n"
        "v"
    )
    open_widgets(page, lab_each, request, cell)
    roots = [ready_root(page, i) for i in range(3)]
    for root, plane in zip(roots, ("axial", "coronal", "sagittal"), strict=True):
        expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", plane)
        expect(root).to_have_attribute("data-loaded", "20", timeout=READY_TIMEOUT)
    holders = "() => [...globalThis.__dawVolumes.values()].map((e) => e.holders.size)"
    assert page.evaluate(holders) == [3]
    kernel_is(
        page,
        "[[len(m['slices']) for m in got if m.get('type') == 'get_slices'] for got in from_page]",
        [[19], [], []],  # each kernel sent its view's slice unasked; one loads the rest
    )
    wheel_over(page, roots[0], 2)
    kernel_is(page, "[w.crosshair[2] for w in v.views]", [12, 12, 12])
    # the brush in the coronal view: a stroke across its middle
    coronal = roots[1]
    focus_widget(page, coronal)
    page.keyboard.press("f")
    # (the view is narrow: the popup is docked below the image; [ makes the brush smaller)
    page.keyboard.press("[")
    page.keyboard.press("[")
    expect(coronal.get_by_test_id("daw-mask-size")).to_have_value("6")
    x, y = centre(coronal)
    half = view_box(coronal)["width"] / 2
    page.mouse.move(x - 0.8 * half, y)
    page.mouse.down()
    page.mouse.move(x - 0.3 * half, y, steps=3)
    page.mouse.up()
    expect(coronal.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "1")
    expect(coronal).to_be_focused()  # (the stroke gave it the keyboard)
    page.keyboard.press("Enter")
    kernel_is(page, "len(v.labels)", 1)
    slices = json.loads(
        run_probe(
            page,
            "import json\n[o] = list(v.labels)\nprint(json.dumps(sorted(o.keyframes)))",
        )
    )
    assert len(slices) >= 2, slices
    # the axial view shows it on each of those slices (its page asks its kernel for them)
    run_probe(page, f"v.views[0].slice = {slices[0]}\nprint('ok')")
    axial_labels = roots[0].get_by_test_id("daw-labels")
    expect(axial_labels).to_have_attribute("data-slice", str(slices[0]))
    expect(axial_labels).to_have_attribute("data-count", "1")


@pytest.mark.parametrize("source", ["thin_ct", "phantom"])
def test_orthogonal_views_sit_side_by_side_within_the_output(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path, source: str
) -> None:
    """QA: the real CT's reformats (20 slices of 2 mm: 500 x 40 mm) took their minimum height
    times their aspect, so the row was 2824 px wide in a 1168 px output and the sagittal view
    was off screen; the phantom's overflowed too. Now the views share the output's width, a
    narrow view puts its labels column below the image (the brush popup docked at its top),
    and a thin reformat shows letterboxed in a viewport of at most 2.5:1."""
    path = CT_DICOM if source == "thin_ct" else small_phantom
    cell = (
        "import dicom_annot_widget as daw\n"
        "onto = daw.Ontology.builder().object('Organ', shape='bitmask').build()\n"
        f"v = daw.OrthogonalViews({str(path)!r}, ontology=onto)\nv"
    )
    open_widgets(page, lab_each, request, cell)
    roots = [ready_root(page, i) for i in range(3)]
    row = roots[0].locator("xpath=ancestor::*[contains(@class, 'widget-hbox')][1]")
    row.scroll_into_view_if_needed()
    assert row.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1"), "the row scrolls sideways"
    out = row.bounding_box()
    boxes = [r.bounding_box() for r in roots]
    for b in boxes:
        assert out["x"] - 1 <= b["x"] and b["x"] + b["width"] <= out["x"] + out["width"] + 1
        assert abs(b["y"] - boxes[0]["y"]) <= 2  # one row
        assert b["width"] >= 260  # the widget's minimum width
    widths = [b["width"] for b in boxes]
    assert max(widths) - min(widths) <= 2, widths  # the row's width, shared
    for root in roots:
        viewport = root.locator(".daw-viewport").bounding_box()
        side = root.locator(".daw-side").bounding_box()
        assert side["y"] >= viewport["y"] + viewport["height"] - 1  # below the image
        assert viewport["width"] >= 0.95 * root.bounding_box()["width"]
        assert viewport["width"] / viewport["height"] <= 2.5 + 0.05
    if source == "thin_ct":
        coronal = roots[1]
        viewport = coronal.locator(".daw-viewport").bounding_box()
        assert abs(viewport["width"] / viewport["height"] - 2.5) <= 0.05  # 12.5:1, letterboxed
        focus_widget(page, coronal)
        page.keyboard.press("f")
        pop = coronal.get_by_test_id("daw-maskpop")
        expect(pop).to_have_class(re.compile("daw-maskpop-docked"))  # not over the image
        pb = pop.bounding_box()
        assert pb["y"] >= viewport["y"] + viewport["height"] - 1
        assert pb["x"] + pb["width"] <= viewport["x"] + viewport["width"] + 1


@pytest.mark.parametrize("given", ["series", "folder"])
def test_widgets_of_one_series_hold_one_copy_of_its_pixels(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path, given: str
) -> None:
    """The README's side-by-side pattern passes one ``Series`` to both widgets (or each is
    given the same folder: the kernel opens it once): the second finds the series' volume in
    the page, asks its kernel for no slice and shows its slice pixel for pixel; the page
    holds one volume for both, and still holds it for the second when the first is
    closed."""
    source = "series" if given == "series" else repr(str(small_phantom))
    first_cell = (
        "import dicom_annot_widget as daw\n"
        f"series = daw.open_series({str(small_phantom)!r})\n"
        f"w = daw.DicomAnnotator({source})\nw"
    )
    second_cell = (
        f"w2 = daw.DicomAnnotator({source})\nw2.slice = 4\n"
        "from_page2 = []\nw2.on_msg(lambda _w, content, _b: from_page2.append(content))\nw2"
    )
    open_widgets(page, lab_each, request, first_cell, second_cell, run=False)
    run_cell = """async (i) => {
      const app = window.jupyterapp;
      app.shell.currentWidget.content.activeCellIndex = i;
      await app.commands.execute('notebook:run-cell');
    }"""
    page.evaluate(run_cell, 0)
    first = ready_root(page, 0, slice_=10)
    expect(first).to_have_attribute("data-loaded", "20", timeout=READY_TIMEOUT)
    page.evaluate(run_cell, 1)  # once the first widget has the whole series
    second = ready_root(page, 1, slice_=4)
    expect(second).to_have_attribute("data-loaded", "20")
    canvas_matches_numpy(page, second, "w2")
    kernel_is(page, "sorted({m.get('type') for m in from_page2} & {'get_slices', 'ack'})", [])
    holders = (
        "() => [...(globalThis.__dawVolumes ?? new Map()).values()].map((e) => e.holders.size)"
    )
    assert page.evaluate(holders) == [2]
    run_probe(page, "w.close()\nprint('closed')")
    page.wait_for_function(
        "() => [...globalThis.__dawVolumes.values()].map((e) => e.holders.size).join() === '1'"
    )
    expect(page.get_by_test_id("daw-root")).to_have_count(1)
    second = page.get_by_test_id("daw-root").first  # w2's, the only one left
    run_probe(page, "w2.slice = 15\nprint(w2.slice)")
    expect(second.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "15")
    canvas_matches_numpy(page, second, "w2")


def test_a_widget_no_view_shows_lets_its_pixels_go_and_loads_them_when_shown_again(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """Its output cleared (as when its cell runs again), the widget's page lets its volume go
    after RELEASE_MS and tells the kernel, which lets the series' decoded pixels go (the
    widget opened it); displayed again, it loads and shows its slice."""
    open_widgets(page, lab_each, request, widget_cell(small_phantom), "w.slice = 12")
    root = ready_root(page, 0, slice_=12)
    expect(root).to_have_attribute("data-loaded", "20", timeout=READY_TIMEOUT)
    _ = run_probe(page, "_ = w.series.array\nprint('decoded')")  # the kernel's copy, whole
    kernel_is(page, "bool(w.series.decoded.all())", True)
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[0].model.outputs.clear()"
    )
    expect(page.get_by_test_id("daw-root")).to_have_count(0)
    kernel_is(page, "bool(w.series.decoded.any())", False, timeout=30)
    run_probe(page, "display(w)\nprint('shown')")
    again = page.get_by_test_id("daw-root").first
    expect(again).to_have_attribute("data-ready", "true", timeout=READY_TIMEOUT)
    expect(again.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "12")
    expect(again).to_have_attribute("data-loaded", "20", timeout=READY_TIMEOUT)
    canvas_matches_numpy(page, again, "w")


def test_two_views_of_one_widget_share_one_loader(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """``w`` shown in two cells: both views show the same slice and follow each other; the
    page asks the kernel for the series once (one loader per widget, not per view), and the
    remaining view keeps working when the other one is removed."""
    cell = recording_widget_cell(small_phantom)
    open_widgets(page, lab_each, request, cell, "w")
    first, second = ready_root(page, 0, slice_=10), ready_root(page, 1, slice_=10)
    wheel_over(page, second, 1)
    kernel_is(page, "w.slice", 11)
    for view in (first, second):
        expect(view.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "11")
    asked = run_probe(
        page,
        "print([(len(m['slices']), 10 in m['slices']) for m in from_page"
        " if m.get('type') == 'get_slices'])",
    ).strip()
    assert asked == "[(19, False)]"  # slice 10 came unasked; one request for the rest

    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.outputs.clear()"
    )
    expect(page.get_by_test_id("daw-root")).to_have_count(1)
    wheel_over(page, first, 1)
    kernel_is(page, "w.slice", 12)
    expect(first).to_have_attribute("data-ready", "true")
    canvas_matches_numpy(page, first)


# ---- 10: the saved notebook ------------------------------------------------------------------

PHI = {
    "PatientName": "QUIXOTEZZ^BARNABY",
    "PatientID": "PID-7Q3X-90210",
    "InstitutionName": "Zanzibar Xylophone Memorial",
}


def test_saved_notebook_is_small_and_free_of_patient_data(
    lab_each: Any,
    page: Any,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A notebook with the widget, after scrolling and opening the metadata panel (so the
    page did hold the patient's name), saved with widget state: it grows by less than
    100 KB beyond the widget's own code (``_esm``, ``_css``) and holds no patient name, id
    or institution of the series."""
    folder = _phantom(
        tmp_path_factory,
        "phi",
        n_slices=20,
        rows=128,
        columns=128,
        patient_name=PHI["PatientName"],
        patient_id=PHI["PatientID"],
    )
    for f in folder.glob("*.dcm"):
        ds = pydicom.dcmread(f)
        ds.InstitutionName = PHI["InstitutionName"]
        ds.save_as(f)
    ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
    assert {k: str(ds[k].value) for k in PHI} == PHI  # the series does carry them

    path = open_widgets(page, lab_each, request, widget_cell(folder))
    written = path.stat().st_size
    root = ready_root(page, slice_=10)
    wheel_over(page, root, 4)
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "14")
    open_metadata_panel(root)
    expect(meta_row(root, "InstitutionName").locator(".daw-meta-value")).to_have_text(
        PHI["InstitutionName"]
    )
    kernel_is(page, "w.slice", 14)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")

    text = path.read_text(encoding="utf-8")
    saved = json.loads(text)
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    code = 0  # bytes of the widget's code in the file, as JSON strings
    for model in state.values():
        for key in ("_esm", "_css"):
            value = model["state"].get(key)
            if isinstance(value, str):
                code += len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    assert code > 20_000, "the widget's state (with its code) was not saved"
    ours = [m for m in state.values() if "series_info" in m["state"]]
    assert len(ours) == 1 and ours[0]["state"]["slice"] == 14  # the state is in the file
    growth = len(text.encode("utf-8")) - code - written
    print(f"saved {len(text.encode())} B: widget code {code} B, other growth {growth} B")
    assert growth < 100_000

    low = text.lower()
    for keyword, value in PHI.items():
        for part in [value, *re.split(r"[\^ ]", value)]:
            assert part.lower() not in low, f"{keyword} ({part!r}) is in the saved notebook"


# ---- a malformed message from the page -------------------------------------------------------

# The page's own model of the i-th widget output (through the widget manager of its output).
SET_FROM_PAGE = """async ([state, custom]) => {
  // The page's model of the first cell's widget, from the widget manager of that output
  // (jupyterlab_widgets' output renderer holds it, as a promise delegate, in `_manager`).
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[0];
  const data = cell.model.outputs.get(0).data['application/vnd.jupyter.widget-view+json'];
  const renderer = cell.outputArea.widgets[0].widgets.find((w) => w._manager);
  if (!renderer) throw new Error('no widget renderer with a widget manager in the output');
  const manager = await renderer._manager.promise;
  const model = await manager.get_model(data.model_id);
  if (custom) model.send(custom);
  if (state) { model.set(state); model.save_changes(); }
}"""


def test_malformed_page_message_shows_an_error_and_changes_nothing(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, small_phantom: Path
) -> None:
    """A slice of -1, a NaN window or a request for slice -1 from the page's model: the kernel
    refuses each, the widget shows why (role=alert) and kernel and page keep their state."""
    open_widgets(page, lab_each, request, widget_cell(small_phantom))
    root = ready_root(page, slice_=10)
    canvas = root.get_by_test_id("daw-canvas")
    alert = root.get_by_role("alert")
    expect(alert).to_be_hidden()
    kernel_is(page, "(w.slice, w.window)", (10, (40.0, 400.0)))

    kernel_wait = 30_000  # each answer is a kernel round trip
    page.evaluate(SET_FROM_PAGE, [{"slice": -1}, None])
    expect(alert).to_contain_text("slice must be in [0, 19], got -1", timeout=kernel_wait)
    expect(alert).to_be_visible()
    # the kernel sent its state back: the page shows slice 10 (of 1..20) again
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("11 / 20", timeout=kernel_wait)

    page.evaluate(SET_FROM_PAGE, [{"window": [float("nan"), 400]}, None])
    expect(alert).to_contain_text("refused a change from the page", timeout=kernel_wait)
    expect(alert).to_contain_text("window", timeout=kernel_wait)
    expect(root.get_by_test_id("daw-center")).to_have_value("40", timeout=kernel_wait)

    page.evaluate(SET_FROM_PAGE, [None, {"type": "get_slices", "series": "s0", "slices": [-1]}])
    expect(alert).to_contain_text("slice -1 is out of range", timeout=kernel_wait)

    kernel_is(page, "(w.slice, w.window)", (10, (40.0, 400.0)))
    expect(canvas).to_have_attribute("data-slice", "10")
    expect(canvas).to_have_attribute("data-window", "40,400")
    expect(root).to_have_attribute("data-ready", "true")
    canvas_matches_numpy(page, root)
    root.get_by_test_id("daw-error-close").click()
    expect(alert).to_be_hidden()


def test_two_series_linked_by_position_scroll_together(
    lab_each: Any, page: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two reconstructions of one study (2 mm and 5 mm slices) side by side, linked by
    patient position: the wheel over the fine one moves the coarse one to its slice nearest
    in z, in the page and in Python."""
    cell = (
        "import ipywidgets\n"
        "import dicom_annot_widget as daw\n"
        f"daw.write_phantom_series({str(tmp_path / 'fine')!r}, n_slices=40, rows=64, columns=64,"
        " slice_spacing=2.0)\n"
        f"daw.write_phantom_series({str(tmp_path / 'coarse')!r}, n_slices=16, rows=64,"
        " columns=64, slice_spacing=5.0, series_number=2)\n"
        f"a = daw.DicomAnnotator({str(tmp_path / 'fine')!r}, slice=20)\n"
        f"b = daw.DicomAnnotator({str(tmp_path / 'coarse')!r})\n"
        "link = daw.link_positions(a, b)\n"
        "ipywidgets.HBox([a, b])"
    )
    open_widgets(page, lab_each, request, cell)
    fine, coarse = ready_root(page, 0), ready_root(page, 1)
    wheel_over(page, fine, 6)  # six slices of 2 mm: the next slices
    nearest = (
        "min(range(16), key=lambda k: abs(b.series.slice_positions[k][2]"
        " - a.series.slice_positions[a.slice][2]))"
    )
    kernel_is(page, f"(a.slice, b.slice == {nearest})", (26, True))
    k = run_probe(page, "print(b.slice)").strip()
    expect(coarse.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", k)
    expect(fine.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "26")
