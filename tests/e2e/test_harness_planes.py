"""Reformats, crosshairs and MIP slabs in Chromium with the harness's fake model: the page's
plane images are compared pixel for pixel with NumPy (``kernels.plane_image`` windowed by
``kernels.apply_window``)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from playwright.sync_api import expect

from dicom_annot_widget.kernels import apply_window, plane_image
from dicom_annot_widget.kernels.brush import stroke_mask, threshold_brush

from .test_harness_instances import action
from .test_harness_labels import BOX_UUID, box_object, labels_state, push_labels
from .test_harness_masks import message
from .test_harness_viewer import ct_volume, harness, model_get, mount, series, wait_model

__all__ = ["harness"]

IMAGE_GREY = """(c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const g = new Uint8Array(d.length / 4);
  for (let i = 0; i < g.length; i++) g[i] = d[4 * i];
  return [c.width, c.height, btoa(String.fromCharCode(...g))];
}"""

INTERCEPT = -1024.0


def watch_leaks(page: Any) -> None:
    """Record in ``window.leaked`` every key that reaches the page's body (the notebook)."""
    page.evaluate(
        "() => { window.leaked = []; for (const t of ['keydown', 'keyup', 'keypress'])"
        " document.body.addEventListener(t, (e) => window.leaked.push(e.key)); }"
    )


def shown(root: Any) -> np.ndarray:
    """The windowed plane image the page made (its native-size canvas), (rows, columns)."""
    width, height, b64 = root.get_by_test_id("daw-canvas").evaluate(IMAGE_GREY)
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(height, width)


def expected(vol: np.ndarray, plane: str, index: int, slab: int = 1) -> np.ndarray:
    hu = vol.astype(np.int32) + int(INTERCEPT)  # integer HU: the LINEAR window, as the page
    return apply_window(plane_image(hu, plane, index, slab), 40, 400)


def test_reformats_and_slabs_equal_numpy(harness: Any) -> None:
    page = harness
    vol = ct_volume()  # 12 slices of 48 x 64
    wid, root = mount(page, series(vol, intercept=INTERCEPT))
    canvas = root.get_by_test_id("daw-canvas")
    assert model_get(page, wid, "crosshair") == [32, 24, 6]

    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    # the coronal slice shown is the crosshair's row; navigation runs over the 48 rows
    assert model_get(page, wid, "slice") == 24
    expect(canvas).to_have_attribute("data-plane", "coronal")
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("25 / 48")
    assert np.array_equal(shown(root), expected(vol, "coronal", 24))
    root.focus()
    page.keyboard.press("ArrowRight")
    wait_model(page, wid, "slice", 25)
    wait_model(page, wid, "crosshair", [32, 25, 6])
    expect(canvas).to_have_attribute("data-slice", "25")
    assert np.array_equal(shown(root), expected(vol, "coronal", 25))
    saved = page.evaluate("window.widgets[0].calls.saved.at(-1)")
    assert (saved["plane"], saved["slice"], saved["crosshair"]) == ("coronal", 25, [32, 25, 6])

    # keys: Alt+S shows the sagittal plane at the crosshair's column
    page.keyboard.press("Alt+s")
    wait_model(page, wid, "plane", "sagittal")
    wait_model(page, wid, "slice", 32)
    expect(canvas).to_have_attribute("data-plane", "sagittal")
    assert np.array_equal(shown(root), expected(vol, "sagittal", 32))

    # a MIP slab: the menu offers millimetres of this plane (0.7 mm columns: 10 mm = 14
    # slices, named by the 9.8 mm they span)
    slab = root.get_by_test_id("daw-slab")
    slab.select_option(label="MIP 9.8 mm")
    wait_model(page, wid, "slab", 14)
    expect(canvas).to_have_attribute("data-slab", "14")
    assert np.array_equal(shown(root), expected(vol, "sagittal", 32, 14))
    expect(root.get_by_test_id("daw-overlay")).to_contain_text("MIP 14 slices (9.8 mm)")
    # at the plane's first slice the slab is clipped: the overlay says what is projected
    page.evaluate("(i) => window.widgets[i].model._push('slice', 0)", wid)
    expect(root.get_by_test_id("daw-overlay")).to_contain_text("MIP 8 slices (5.6 mm)")
    page.evaluate("(i) => window.widgets[i].model._push('slice', 32)", wid)
    expect(root.get_by_test_id("daw-overlay")).to_contain_text("MIP 14 slices (9.8 mm)")

    # back to the series' own slices, with the slab: an axial MIP
    page.keyboard.press("Alt+a")
    wait_model(page, wid, "plane", "axial")
    wait_model(page, wid, "slice", 6)
    # the 9.8 mm slab is kept in millimetres: 5 slices of 2 mm
    wait_model(page, wid, "slab", 5)
    # (the menu lists the axial plane's slabs from the next frame on)
    expect(slab.locator("option", has_text="MIP 6 mm")).to_have_attribute("value", "3")
    slab.select_option(label="MIP 6 mm")
    wait_model(page, wid, "slab", 3)
    expect(canvas).to_have_attribute("data-plane", "axial")
    expect(canvas).to_have_attribute("data-slab", "3")
    assert np.array_equal(shown(root), expected(vol, "axial", 6, 3))
    slab.select_option(label="MIP off")
    wait_model(page, wid, "slab", 1)
    expect(canvas).to_have_attribute("data-slab", "1")
    assert np.array_equal(shown(root), expected(vol, "axial", 6))


def test_a_plane_set_from_python_is_drawn(harness: Any) -> None:
    page = harness
    vol = ct_volume()
    wid, root = mount(page, series(vol, intercept=INTERCEPT))
    page.evaluate(
        "() => { const m = window.widgets[0].model; m._push('plane', 'coronal');"
        " m._push('crosshair', [32, 40, 6]); m._push('slice', 40); }"
    )
    canvas = root.get_by_test_id("daw-canvas")
    expect(canvas).to_have_attribute("data-plane", "coronal")
    expect(canvas).to_have_attribute("data-slice", "40")
    assert np.array_equal(shown(root), expected(vol, "coronal", 40))
    expect(root.get_by_test_id("daw-plane-coronal")).to_have_attribute("aria-pressed", "true")
    assert model_get(page, wid, "plane") == "coronal"


def test_reformats_are_shown_head_up_with_their_readout(harness: Any) -> None:
    """The harness series' slices advance towards the head (+z): a coronal image is flipped
    so that its last slice is at the top; `flip` stays the user's own (false, false)."""
    page = harness
    vol = ct_volume()
    wid, root = mount(page, series(vol, intercept=INTERCEPT))

    def markers() -> dict[str, str]:
        sides = ("left", "right", "top", "bottom")
        return {s: root.get_by_test_id(f"daw-orient-{s}").text_content() or "" for s in sides}

    # orientation markers: the patient's right on the screen's left, anterior at the top
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("A")
    assert markers() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("S")
    assert markers() == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    box = root.get_by_test_id("daw-view").bounding_box()
    n, _, cols = vol.shape
    # coronal pixels are 0.7 mm wide and 2 mm high
    scale = min(box["width"] / (cols * 0.7), box["height"] / (n * 2.0))
    x0 = box["x"] + (box["width"] - cols * 0.7 * scale) / 2
    y0 = box["y"] + (box["height"] - n * 2.0 * scale) / 2
    readout = root.get_by_test_id("daw-readout")
    for col, screen_row in [(10, 0), (50, 11), (3, 5)]:
        k = n - 1 - screen_row  # head up: the top row is the last slice
        page.mouse.move(x0 + (col + 0.5) * 0.7 * scale, y0 + (screen_row + 0.5) * 2.0 * scale)
        expect(readout).to_contain_text(f"x {col}  y 24  z {k}")
        expect(readout).to_contain_text(f"{int(vol[k, 24, col]) - 1024} HU")
        # patient position through the affine: (-100 + 0.7 col, -80 + 0.7 row, 40 + 2 k)
        position = f"({-100 + 0.7 * col:.1f}, {-80 + 0.7 * 24:.1f}, {40 + 2 * k:.1f}) mm"
        expect(readout).to_contain_text(position)
    assert model_get(page, wid, "flip") == [False, False]
    # the user's vertical flip shows it the other way up, and Python sees (false, true)
    root.get_by_test_id("daw-flip-v").click()
    wait_model(page, wid, "flip", [False, True])
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("I")
    page.mouse.move(x0 + 10.5 * 0.7 * scale, y0 + 0.5 * 2.0 * scale)
    expect(readout).to_contain_text("x 10  y 24  z 0")
    root.get_by_test_id("daw-flip-v").click()
    wait_model(page, wid, "flip", [False, False])
    # the rotate buttons turn what is on screen (QA: reformats, shown flipped head up, turned
    # the other way): a quarter turn counter-clockwise takes the head to the left
    root.get_by_test_id("daw-rot-left").click()
    expect(root.get_by_test_id("daw-orient-left")).to_have_text("S")
    assert markers() == {"left": "S", "right": "I", "top": "L", "bottom": "R"}
    root.get_by_test_id("daw-rot-right").click()
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("S")
    # ... and the model's rotation is clockwise on screen, as on the series' own slices (QA:
    # the button set 270, and 90 from Python turned the reformat counter-clockwise)
    root.get_by_test_id("daw-rot-right").click()
    wait_model(page, wid, "rotation", 90)
    expect(root.get_by_test_id("daw-orient-right")).to_have_text("S")  # the head: top to right
    page.evaluate("(i) => window.widgets[i].model._push('rotation', 270)", wid)
    expect(root.get_by_test_id("daw-orient-left")).to_have_text("S")
    expect(root.get_by_test_id("daw-rotation")).to_have_value("270")


def test_reformats_of_a_sagittal_acquisition_read_as_radiologists_read_them(
    harness: Any,
) -> None:
    """QA 23a D2: the reformats of a sagittal MR were shown turned a quarter (anterior on the
    left of the "axial" one) or lying on their side. Each is shown as that plane is read (an
    axial image anterior up, the patient's left on the right), and the user's turns and flips
    still act on what is on screen, with Python's rotation clockwise and flips the user's."""
    page = harness
    vol = ct_volume()
    # columns run to posterior, rows to the feet, slices to the patient's left
    sagittal = [[0, 0, 2.0, -60.0], [0.7, 0, 0, -110.0], [0, -0.7, 0, 120.0], [0, 0, 0, 1]]
    wid, root = mount(page, series(vol, intercept=INTERCEPT, affine=sagittal))

    def markers() -> str:
        sides = ("top", "left", "right", "bottom")
        return "/".join(root.get_by_test_id(f"daw-orient-{s}").text_content() or "" for s in sides)

    expect(root.get_by_test_id("daw-orient-top")).to_have_text("S")
    assert markers() == "S/A/P/I"  # the own slices, as stored
    expect(root.get_by_test_id("daw-plane-coronal")).to_have_text("Axi")
    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("A")
    assert markers() == "A/R/L/P"
    assert model_get(page, wid, "rotation") == 0 and model_get(page, wid, "flip") == [False, False]
    root.get_by_test_id("daw-plane-sagittal").click()
    wait_model(page, wid, "plane", "sagittal")
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("S")
    assert markers() == "S/R/L/I"  # a coronal image, head up
    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    expect(root.get_by_test_id("daw-orient-top")).to_have_text("A")
    # the user's horizontal flip mirrors the screen; a quarter turn clockwise takes the top
    # to the right; Python's values are the user's
    root.get_by_test_id("daw-flip-h").click()
    wait_model(page, wid, "flip", [True, False])
    expect(root.get_by_test_id("daw-orient-left")).to_have_text("L")
    assert markers() == "A/L/R/P"
    root.get_by_test_id("daw-flip-h").click()
    wait_model(page, wid, "flip", [False, False])
    root.get_by_test_id("daw-rot-right").click()
    wait_model(page, wid, "rotation", 90)
    expect(root.get_by_test_id("daw-orient-right")).to_have_text("A")
    assert markers() == "R/P/A/L"
    page.evaluate("(i) => window.widgets[i].model._push('rotation', 270)", wid)
    expect(root.get_by_test_id("daw-orient-left")).to_have_text("A")
    expect(root.get_by_test_id("daw-rotation")).to_have_value("270")


def test_crosshairs_show_and_move_the_other_planes(harness: Any) -> None:
    page = harness
    vol = ct_volume()
    wid, root = mount(page, series(vol, intercept=INTERCEPT))
    watch_leaks(page)
    view = root.get_by_test_id("daw-view")
    cross = root.get_by_test_id("daw-crosshairs")
    root.focus()
    page.keyboard.press("Alt+x")
    expect(cross).to_have_attribute("aria-pressed", "true")
    box = view.bounding_box()
    _, rows, cols = vol.shape
    scale = min(box["width"] / cols, box["height"] / rows)
    x0 = box["x"] + (box["width"] - cols * scale) / 2
    y0 = box["y"] + (box["height"] - rows * scale) / 2
    # a click moves the crosshair to the voxel under it (axial: column and row)
    page.mouse.click(x0 + 10.5 * scale, y0 + 40.5 * scale)
    wait_model(page, wid, "crosshair", [10, 40, 6])
    assert model_get(page, wid, "slice") == 6
    # ... a drag too
    page.mouse.move(x0 + 20.5 * scale, y0 + 5.5 * scale)
    page.mouse.down()
    page.mouse.move(x0 + 30.5 * scale, y0 + 7.5 * scale, steps=4)
    page.mouse.up()
    wait_model(page, wid, "crosshair", [30, 7, 6])
    # the sagittal (vertical) line through column 30, drawn over the image: a coloured pixel
    # in a short strip across it, at row 30 (away from the coronal line at row 7)
    dpr = page.evaluate("devicePixelRatio")
    x = round((x0 - box["x"] + 30.5 * scale) * dpr)
    y = round((y0 - box["y"] + 30.5 * scale) * dpr)
    strip = view.evaluate(
        "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x - 3, y, 7, 1).data)", [x, y]
    )
    pixels = [tuple(strip[i : i + 3]) for i in range(0, len(strip), 4)]
    assert any(not (r == g == b) for r, g, b in pixels), f"no coloured line: {pixels}"
    # the sagittal plane opens at the crosshair's column, the coronal one at its row
    page.keyboard.press("Alt+s")
    wait_model(page, wid, "slice", 30)
    page.keyboard.press("Alt+c")
    wait_model(page, wid, "slice", 7)
    # Esc leaves the drag mode; the lines stay, and Python sees them; the button (pressed:
    # a drag moves them) gives the drag back first, then hides them
    page.keyboard.press("Escape")
    assert model_get(page, wid, "crosshair_lines") is True
    expect(cross).to_have_attribute("aria-pressed", "false")
    cross.click()
    expect(cross).to_have_attribute("aria-pressed", "true")
    expect(root.get_by_test_id("daw-viewport")).to_have_class(re.compile("daw-mode-crosshair"))
    assert model_get(page, wid, "crosshair_lines") is True
    cross.click()
    expect(cross).to_have_attribute("aria-pressed", "false")
    wait_model(page, wid, "crosshair_lines", False)
    # Python shows them (as OrthogonalViews does): drawn, and a left-drag keeps its tool
    page.evaluate("(i) => window.widgets[i].model._push('crosshair_lines', true)", wid)
    expect(cross).to_have_attribute("aria-pressed", "false")
    expect(root.get_by_test_id("daw-viewport")).not_to_have_class(re.compile("daw-mode-crosshair"))
    strip = view.evaluate(
        "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x - 3, y, 7, 1).data)", [x, y]
    )
    pixels = [tuple(strip[i : i + 3]) for i in range(0, len(strip), 4)]
    assert any(not (r == g == b) for r, g, b in pixels), f"no coloured line: {pixels}"
    # QA 23a D11: the button then gives the drag (the lines stay, in every linked view too);
    # it did hide them
    root.focus()
    page.keyboard.press("Alt+a")
    wait_model(page, wid, "plane", "axial")
    cross.click()
    expect(cross).to_have_attribute("aria-pressed", "true")
    assert model_get(page, wid, "crosshair_lines") is True
    page.mouse.move(x0 + 20.5 * scale, y0 + 5.5 * scale)
    page.mouse.down()
    page.mouse.move(x0 + 12.5 * scale, y0 + 9.5 * scale, steps=4)
    page.mouse.up()
    wait_model(page, wid, "crosshair", [12, 9, 6])
    assert page.evaluate("window.leaked") == []


def test_a_press_on_a_crosshair_line_moves_it_with_the_select_tool(harness: Any) -> None:
    """Lines shown from Python (as OrthogonalViews shows them), the select tool: a drag that
    starts on a line moves that line only, as OHIF's crosshair handles do (QA 23a D11: the
    crosshair button had to be pressed first); a press on an object on the line is the
    tool's (it selects it), a press away from the lines leaves them."""
    page = harness
    vol = ct_volume()
    wid, root = mount(page, series(vol), state={"labels_state": labels_state()})
    watch_leaks(page)
    page.evaluate("(i) => window.widgets[i].model._push('crosshair', [20, 30, 6])", wid)
    page.evaluate("(i) => window.widgets[i].model._push('crosshair_lines', true)", wid)
    cross = root.get_by_test_id("daw-crosshairs")
    expect(cross).to_have_attribute("aria-pressed", "false")
    box = root.get_by_test_id("daw-view").bounding_box()
    _, rows, cols = vol.shape
    scale = min(box["width"] / cols, box["height"] / rows)
    x0 = box["x"] + (box["width"] - cols * scale) / 2
    y0 = box["y"] + (box["height"] - rows * scale) / 2

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        page.mouse.move(x0 + (a[0] + 0.5) * scale, y0 + (a[1] + 0.5) * scale)
        page.mouse.down()
        page.mouse.move(x0 + (b[0] + 0.5) * scale, y0 + (b[1] + 0.5) * scale, steps=4)
        page.mouse.up()

    # the vertical line (column 20), taken at row 10: only the column moves
    page.mouse.move(x0 + 20.5 * scale, y0 + 10.5 * scale)
    expect(root.get_by_test_id("daw-viewport")).to_have_css("cursor", "move")
    drag((20, 10), (35, 14))
    wait_model(page, wid, "crosshair", [35, 30, 6])
    # the horizontal line (row 30), taken at column 50: only the row moves
    drag((50, 30), (45, 12))
    wait_model(page, wid, "crosshair", [35, 12, 6])
    # their crossing: both
    drag((35, 12), (8, 40))
    wait_model(page, wid, "crosshair", [8, 40, 6])
    # away from the lines: the select tool's (nothing moves)
    drag((30, 20), (31, 25))
    page.wait_for_timeout(150)
    assert model_get(page, wid, "crosshair") == [8, 40, 6]
    expect(root.get_by_test_id("daw-viewport")).not_to_have_css("cursor", "move")
    # an object on the line: a press selects it (the lines stay)
    push_labels(page, wid, labels_state([box_object([4.0, 30.0, 12.0, 36.0])], revision=1))
    page.mouse.click(x0 + 8.5 * scale, y0 + 33.5 * scale)
    wait_model(page, wid, "selected", BOX_UUID)
    assert model_get(page, wid, "crosshair") == [8, 40, 6]
    # with the lines hidden a press there is the tool's alone
    page.evaluate("(i) => window.widgets[i].model._push('crosshair_lines', false)", wid)
    drag((50, 40), (52, 20))
    page.wait_for_timeout(150)
    assert model_get(page, wid, "crosshair") == [8, 40, 6]
    assert page.evaluate("window.leaked") == []


def test_no_orientation_markers_without_a_patient_orientation(harness: Any) -> None:
    """An array has no patient orientation: its made-up affine must not put letters on it."""
    page = harness
    item = series(ct_volume())
    item["info"]["orientation_known"] = False
    _, root = mount(page, item)
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", "axial")
    for side in ("left", "right", "top", "bottom"):
        expect(root.get_by_test_id(f"daw-orient-{side}")).to_be_hidden()
    _, known = mount(page, series(ct_volume(), sid="s1"))
    expect(known.get_by_test_id("daw-orient-left")).to_have_text("R")


def test_a_single_slice_has_no_reformats(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume(n=1)))
    expect(root.get_by_test_id("daw-plane-coronal")).to_be_hidden()
    root.focus()
    page.keyboard.press("Alt+c")
    expect(root.get_by_test_id("daw-error")).to_contain_text("needs more than one slice")
    assert model_get(page, wid, "plane") == "axial"


MASK_UUID = "6c1b4d2f-1111-4222-8333-444455556666"
# the overlay canvas' alpha at CSS points [x, y] of the canvas
READ_ALPHA = """(c, pts) => {
  const dpr = c.width / c.getBoundingClientRect().width;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const at = (x, y) => (Math.round(y * dpr) * c.width + Math.round(x * dpr)) * 4 + 3;
  return pts.map(([x, y]) => d[at(x, y)]);
}"""
MASK_ONTOLOGY = {
    "objects": [
        {"id": "organ", "name": "Organ", "shape": "bitmask", "color": "#3cb44b", "hotkey": "1"},
        {"id": "liver", "name": "Liver", "shape": "polygon", "color": "#e6194b", "hotkey": "2"},
    ]
}


def reformat_pixels(
    root: Any, columns: int, slices: int
) -> tuple[Callable[[float, float], tuple[float, float]], list[list[float]]]:
    """Where the pixels of a reformat of the harness series (0.7 mm wide, slices 2 mm apart,
    fitted and head up: slice 0 at the bottom) are drawn: ``at(u, v)`` on the page, and the
    canvas point of every pixel in row-major order (for READ_ALPHA)."""
    box = root.get_by_test_id("daw-labels").bounding_box()
    scale = min(box["width"] / (columns * 0.7), box["height"] / (slices * 2.0))
    ox = (box["width"] - columns * 0.7 * scale) / 2
    oy = (box["height"] - slices * 2.0 * scale) / 2

    def canvas(u: float, v: float) -> tuple[float, float]:
        return (ox + (u + 0.5) * 0.7 * scale, oy + (slices - 1 - v + 0.5) * 2.0 * scale)

    def at(u: float, v: float) -> tuple[float, float]:
        x, y = canvas(u, v)
        return (box["x"] + x, box["y"] + y)

    points = [list(canvas(u, v)) for v in range(slices) for u in range(columns)]
    return at, points


def apply_one_paint(page: Any, root: Any, wid: int) -> dict[str, Any]:
    """Enter in the widget applies the pending strokes: the one `paint` message it sent."""
    root.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(i) => window.widgets[i].calls.sent.some((m) => m.type === 'paint')", arg=wid
    )
    [paint] = [
        m for m in page.evaluate("(i) => window.widgets[i].calls.sent", wid) if m["type"] == "paint"
    ]
    return dict(paint)


def mask_on_slices_4_to_8(
    rows: int, cols: int
) -> tuple[dict[int, np.ndarray], dict[str, Any], dict[str, Any]]:
    """A 3D mask with keyframes on slices 4-8 (rows 20-29, columns moving with the slice):
    its masks, its object and the labels state holding it. Each mask keyframe has a checksum,
    as the kernel sends them (any numbers will do here, as long as the labels and the masks
    messages agree: see send_masks)."""
    masks = {}
    for s in range(4, 9):
        m = np.zeros((rows, cols), bool)
        m[20:30, 10 + 2 * s : 30 + s] = True
        masks[s] = m
    obj = {
        "uuid": MASK_UUID,
        "object_id": 1,
        "feature": "organ",
        "shape": "bitmask",
        "plane": "axial",
        "keyframes": {
            str(s): {"manual": True, "mask_area": int(m.sum()), "mask_crc": 1000 + s}
            for s, m in masks.items()
        },
    }
    labels = {"revision": 1, "ontology": MASK_ONTOLOGY, "objects": [obj], "read_only": False}
    return masks, obj, labels


def send_masks(page: Any, wid: int, masks: dict[int, np.ndarray]) -> None:
    """Python's answers to the page's get_masks for mask_on_slices_4_to_8's slices."""
    for s, m in masks.items():
        rows, cols = m.shape
        item = {"uuid": MASK_UUID, "box": [0, 0, cols, rows], "full": True, "crc": 1000 + s}
        item["area"] = int(m.sum())
        content = {"type": "masks", "series": "s0", "slice": s, "revision": 1, "items": [item]}
        message(page, wid, content, [np.packbits(m).tobytes()])


def test_masks_are_shown_selected_and_painted_where_a_reformat_cuts_them(harness: Any) -> None:
    """A 3D mask (keyframes on slices 4-8) is shown cut by the coronal plane: the page asks for
    the masks of every slice that has one and draws row 24 of each. A click on the cut selects
    it; the brush paints it there (round in mm, previewed as the kernel's coverage), and
    Python's patches of each slice painted show in the cut. With the kernel's checksums, no
    slice is asked for again after the paint; a change to one slice asks for that one."""
    page = harness
    vol = ct_volume()
    n, rows, cols = vol.shape
    masks, obj, labels = mask_on_slices_4_to_8(rows, cols)
    wid, root = mount(page, series(vol, intercept=INTERCEPT), state={"labels_state": labels})
    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    page.wait_for_function(
        "(i) => new Set(window.widgets[i].calls.sent.filter((m) => m.type === 'get_masks')"
        ".map((m) => m.slice)).size >= 5",
        arg=wid,
    )
    asked = page.evaluate(
        "(i) => window.widgets[i].calls.sent.filter((m) => m.type === 'get_masks')"
        ".map((m) => m.slice)",
        wid,
    )
    assert set(asked) >= set(range(4, 9))
    send_masks(page, wid, masks)
    at, points = reformat_pixels(root, cols, n)
    truth = np.zeros((n, cols), bool)
    for s, m in masks.items():
        truth[s] = m[24]
    assert truth.sum() > 50
    # the overlay is drawn on the next frames: read it until it shows the masks (or 5 s)
    for _ in range(50):
        alpha = root.get_by_test_id("daw-labels").evaluate(READ_ALPHA, points)
        shown_mask = np.asarray(alpha).reshape(n, cols) > 0
        if shown_mask.any():
            break
        page.wait_for_timeout(100)
    assert np.array_equal(shown_mask, truth)

    # a click on the cut selects the mask (looked up on its own slice)
    labels_layer = root.get_by_test_id("daw-labels")
    page.mouse.click(*at(25, 6))
    expect(labels_layer).to_have_attribute("data-selected", MASK_UUID)

    # the brush paints the selected mask on the reformat, round in mm: 3 column pixels
    # (2.1 mm) reach one slice (2 mm) up and down
    root.focus()
    page.keyboard.press("f")
    root.get_by_test_id("daw-mask-size").fill("3")
    page.mouse.move(*at(40, 2))
    page.mouse.down()
    page.mouse.move(*at(55, 2), steps=3)
    page.mouse.up()
    rest = (3, 10)
    page.mouse.move(*at(*rest))  # the brush outline away from the stroke
    paint = apply_one_paint(page, root, wid)
    assert paint["plane"] == "coronal" and paint["slice"] == 24 and paint["uuid"] == MASK_UUID
    assert "feature" not in paint
    cut = np.zeros((n, cols), bool)
    for st in paint["strokes"]:
        cut |= stroke_mask(st["points"], st["radius"], (n, cols), spacing=(2.0 / 0.7, 1.0))
    assert set(np.flatnonzero(cut.any(axis=1))) == {1, 2, 3}
    want = truth | cut

    def overlay() -> np.ndarray:
        page.wait_for_timeout(150)
        got = np.asarray(labels_layer.evaluate(READ_ALPHA, points)).reshape(n, cols) > 0
        got[rest[1] - 2 :, : rest[0] + 5] = want[rest[1] - 2 :, : rest[0] + 5]  # the outline
        return got

    assert np.array_equal(overlay(), want)  # drawn while Python commits
    # Python's answer: a patch of row 24 on each slice painted, the ack, the new keyframes
    asked = "(i) => window.widgets[i].calls.sent.filter((m) => m.type === 'get_masks')"
    before = len(page.evaluate(asked, wid))
    for z in (1, 2, 3):
        m = np.zeros((rows, cols), bool)
        m[24] = cut[z]
        item = {
            "uuid": MASK_UUID,
            "box": [0, 24, cols, 25],
            "full": False,
            "area": int(m.sum()),
            "crc": 2000 + z,
        }
        content = {"type": "masks", "series": "s0", "slice": z, "revision": 2, "items": [item]}
        message(page, wid, content, [np.packbits(cut[z]).tobytes()])
        masks[z] = m
    message(page, wid, {"type": "edit_ack", "request": paint["request"], "revision": 2})
    crcs = {z: 2000 + z if z < 4 else 1000 + z for z in masks}
    obj["keyframes"] = {
        str(z): {"manual": True, "mask_area": int(m.sum()), "mask_crc": crcs[z]}
        for z, m in masks.items()
    }
    labels = {"revision": 2, "ontology": MASK_ONTOLOGY, "objects": [obj], "read_only": False}
    push_labels(page, wid, labels)
    assert np.array_equal(overlay(), want)  # from the cache, with the patches
    # the checksums say every slice's masks are current: none is asked for again
    assert len(page.evaluate(asked, wid)) == before
    # a change from Python to slice 6 (a new checksum there): that slice alone is asked for
    obj["keyframes"]["6"]["mask_crc"] = 3006
    push_labels(page, wid, {**labels, "revision": 3, "objects": [obj]})
    page.wait_for_function(f"(i) => ({asked})(i).length > {before}", arg=wid)
    page.wait_for_timeout(200)
    assert [m["slice"] for m in page.evaluate(asked, wid)[before:]] == [6]
    sent = page.evaluate("(i) => window.widgets[i].calls.sent", wid)
    assert [m["type"] for m in sent].count("paint") == 1


def test_orthogonal_views_show_the_other_planes_and_move_the_crosshair(harness: Any) -> None:
    page = harness
    vol = ct_volume()
    n, _, cols = vol.shape
    wid, root = mount(page, series(vol, intercept=INTERCEPT))
    watch_leaks(page)
    ortho = root.get_by_test_id("daw-ortho")
    expect(ortho).to_be_hidden()
    root.focus()
    page.keyboard.press("Alt+o")
    expect(ortho).to_be_visible()
    expect(root.get_by_test_id("daw-ortho-toggle")).to_have_attribute("aria-pressed", "true")
    coronal = root.get_by_test_id("daw-ortho-coronal")
    expect(coronal).to_be_visible()
    expect(root.get_by_test_id("daw-ortho-sagittal")).to_be_visible()
    expect(root.get_by_test_id("daw-ortho-axial")).to_be_hidden()
    expect(coronal.locator("canvas")).to_have_attribute("data-slice", "24")
    expect(coronal).to_contain_text("coronal 25/48")
    # a click in the coronal view (column 10, slice 3; shown head up) moves the crosshair there:
    # the main axial view goes to slice 3
    box = coronal.locator("canvas").bounding_box()
    s = min(box["width"] / (cols * 0.7), box["height"] / (n * 2.0))
    x0 = box["x"] + (box["width"] - cols * 0.7 * s) / 2
    y0 = box["y"] + (box["height"] - n * 2.0 * s) / 2
    page.mouse.click(x0 + 10.5 * 0.7 * s, y0 + (n - 1 - 3 + 0.5) * 2.0 * s)
    wait_model(page, wid, "crosshair", [10, 24, 3])
    wait_model(page, wid, "slice", 3)
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "3")
    # the sagittal view now cuts at column 10
    expect(root.get_by_test_id("daw-ortho-sagittal").locator("canvas")).to_have_attribute(
        "data-slice", "10"
    )
    # a double-click shows that plane in the main view, through the point double-clicked
    # (its clicks move the crosshair there first); the axial view takes its place
    root.get_by_test_id("daw-ortho-sagittal").locator("canvas").dblclick()
    wait_model(page, wid, "plane", "sagittal")
    wait_model(page, wid, "slice", 10)
    expect(root.get_by_test_id("daw-ortho-axial")).to_be_visible()
    k = model_get(page, wid, "crosshair")[2]
    expect(root.get_by_test_id("daw-ortho-axial").locator("canvas")).to_have_attribute(
        "data-slice", str(k)
    )
    root.get_by_test_id("daw-ortho-toggle").click()
    expect(ortho).to_be_hidden()
    assert page.evaluate("window.leaked") == []


READ_TINTED = """(c, pts) => {
  const dpr = c.width / c.getBoundingClientRect().width;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return pts.map(([x, y]) => {
    const i = (Math.floor(y * dpr) * c.width + Math.floor(x * dpr)) * 4;
    return Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 12;
  });
}"""


def test_the_orthogonal_views_draw_the_masks_they_cut(harness: Any) -> None:
    """With the main view on axial slice 10, the coronal thumbnail (row 24) shows the cut of a
    mask on slices 4-8 in its colour, exactly where it is (the grey image elsewhere); hiding
    the object, or Python deleting it, clears it from the thumbnail."""
    page = harness
    vol = ct_volume()
    n, rows, cols = vol.shape
    masks, _, labels = mask_on_slices_4_to_8(rows, cols)
    wid, root = mount(page, series(vol, intercept=INTERCEPT), state={"labels_state": labels})
    watch_leaks(page)
    page.evaluate("(i) => window.widgets[i].model._push('crosshair', [32, 24, 10])", wid)
    page.evaluate("(i) => window.widgets[i].model._push('slice', 10)", wid)
    root.focus()
    page.keyboard.press("Alt+o")
    coronal = root.get_by_test_id("daw-ortho-coronal").locator("canvas")
    expect(coronal).to_have_attribute("data-slice", "24")
    # the thumbnail asks for the masks of every slice that has one
    page.wait_for_function(
        "(i) => new Set(window.widgets[i].calls.sent.filter((m) => m.type === 'get_masks')"
        ".map((m) => m.slice)).size >= 5",
        arg=wid,
    )
    expect(coronal).to_have_attribute("data-masks", "0")
    send_masks(page, wid, masks)
    expect(coronal).to_have_attribute("data-masks", "1")
    # the centre of every pixel of the thumbnail (slices 2 mm, columns 0.7 mm, head up)
    box = coronal.bounding_box()
    s = min(box["width"] / (cols * 0.7), box["height"] / (n * 2.0))
    x0 = (box["width"] - cols * 0.7 * s) / 2
    y0 = (box["height"] - n * 2.0 * s) / 2
    points = [
        [x0 + (u + 0.5) * 0.7 * s, y0 + (n - 1 - v + 0.5) * 2.0 * s]
        for v in range(n)
        for u in range(cols)
    ]
    truth = np.zeros((n, cols), bool)
    for k, m in masks.items():
        truth[k] = m[24]
    tinted = np.asarray(coronal.evaluate(READ_TINTED, points)).reshape(n, cols)
    assert truth.sum() > 50
    # (the crosshair's lines, in the planes' colours, cross at column 32 and slice 10)
    lines = np.zeros((n, cols), bool)
    lines[10] = lines[:, 32] = True
    assert np.array_equal(tinted & ~lines, truth & ~lines)
    # the object hidden (its eye in the objects panel): the thumbnail clears, and shows again
    action(root, MASK_UUID, "hide").click()
    expect(coronal).to_have_attribute("data-masks", "0")
    assert not (np.asarray(coronal.evaluate(READ_TINTED, points)).reshape(n, cols) & ~lines).any()
    action(root, MASK_UUID, "hide").click()
    expect(coronal).to_have_attribute("data-masks", "1")
    # Python deletes the object: gone from the thumbnail
    push_labels(page, wid, {**labels, "revision": 2, "objects": []})
    expect(coronal).to_have_attribute("data-masks", "0")
    assert not (np.asarray(coronal.evaluate(READ_TINTED, points)).reshape(n, cols) & ~lines).any()
    assert page.evaluate("window.leaked") == []


def test_the_threshold_brush_on_a_sagittal_reformat_compares_the_reformats_values(
    harness: Any,
) -> None:
    """On a sagittal reformat the threshold brush previews exactly the kernel's rule on the
    reformat's values (one row per slice, each with its slice's rescale), round in mm, and
    its preview tint marks the reformat's pixels in range; over a MIP slab it refuses."""
    page = harness
    vol = ct_volume()
    n, rows, _ = vol.shape
    labels = {"revision": 0, "ontology": MASK_ONTOLOGY, "objects": [], "read_only": False}
    wid, root = mount(page, series(vol, intercept=INTERCEPT), state={"labels_state": labels})
    root.get_by_test_id("daw-plane-sagittal").click()
    wait_model(page, wid, "plane", "sagittal")
    index = model_get(page, wid, "slice")
    hu = plane_image(vol.astype(np.float64) + INTERCEPT, "sagittal", index)
    assert hu.shape == (n, rows)
    root.focus()
    page.keyboard.press("g")
    root.get_by_test_id("daw-mask-size").fill("4")
    for testid, value in (("daw-mask-lo", "-300"), ("daw-mask-hi", "300")):
        root.get_by_test_id(testid).fill(value)
        root.get_by_test_id(testid).press("Tab")
    at, points = reformat_pixels(root, rows, n)
    page.mouse.move(*at(8, 3))
    page.mouse.down()
    page.mouse.move(*at(30, 7), steps=4)
    page.mouse.up()
    rest = (2, 0)  # bottom left, away from the stroke and the mask popup (top right)
    page.mouse.move(*at(*rest))

    def overlay() -> np.ndarray:
        page.wait_for_timeout(150)
        alpha = root.get_by_test_id("daw-labels").evaluate(READ_ALPHA, points)
        got = np.asarray(alpha).reshape(n, rows) > 0
        got[: rest[1] + 3, : rest[0] + 6] = False  # the brush outline
        return got

    shown = overlay()
    paint = apply_one_paint(page, root, wid)
    assert paint["plane"] == "sagittal" and paint["slice"] == index
    assert paint["feature"] == "organ"
    want = np.zeros((n, rows), bool)
    for st in paint["strokes"]:
        assert st["tool"] == "threshold" and st["range"] == [-300, 300]
        want |= threshold_brush(hu, st["points"], st["radius"], -300, 300, spacing=(2.0 / 0.7, 1))
    disc = stroke_mask(paint["strokes"][0]["points"], 4, (n, rows), spacing=(2.0 / 0.7, 1))
    assert 0 < want.sum() < disc.sum()  # the range leaves some covered pixels out
    want[: rest[1] + 3, : rest[0] + 6] = False
    assert np.array_equal(shown, want)
    # the tint: the reformat's pixels in range
    message(page, wid, {"type": "error", "request": paint["request"], "message": "no"})
    root.get_by_test_id("daw-mask-preview").check()
    inside = (hu >= -300) & (hu <= 300)
    inside[: rest[1] + 3, : rest[0] + 6] = False
    assert np.array_equal(overlay(), inside)
    # over a projection (a MIP slab) the slice's own values are not what is shown: no tint,
    # and a stroke is refused with the reason
    page.evaluate("(i) => window.widgets[i].model._push('slab', 5)", wid)
    assert not overlay().any()
    page.mouse.move(*at(8, 3))
    page.mouse.down()
    page.mouse.up()
    expect(root.get_by_test_id("daw-error")).to_contain_text("set the MIP slab to 1 slice")
    expect(root.get_by_test_id("daw-maskpop")).to_have_attribute("data-pending", "0")


def test_a_selected_mask_stays_selected_on_every_plane(harness: Any) -> None:
    """QA 23b D3: a bitmask object is painted from any plane, but switching plane dropped its
    selection, so the next brush stroke on the reformat started a second object of the class
    (same colour: unnoticed) and the eraser refused. It stays selected, as the selected
    segment does in Slicer's Segment Editor, and the strokes go to it."""
    page = harness
    vol = ct_volume()
    n, rows, cols = vol.shape
    masks, _obj, labels = mask_on_slices_4_to_8(rows, cols)
    wid, root = mount(page, series(vol, intercept=INTERCEPT), state={"labels_state": labels})
    layer = root.get_by_test_id("daw-labels")
    root.get_by_test_id("daw-plane-coronal").click()
    wait_model(page, wid, "plane", "coronal")
    send_masks(page, wid, masks)
    at, _ = reformat_pixels(root, cols, n)
    page.mouse.click(*at(25, 6))
    expect(layer).to_have_attribute("data-selected", MASK_UUID)
    for plane in ("axial", "sagittal"):
        root.get_by_test_id(f"daw-plane-{plane}").click()
        wait_model(page, wid, "plane", plane)
        expect(layer).to_have_attribute("data-selected", MASK_UUID)
    # the eraser has its mask on the sagittal reformat, and the stroke goes to it
    root.focus()
    page.keyboard.press("h")
    at, _ = reformat_pixels(root, rows, n)
    page.mouse.move(*at(22, 6))
    page.mouse.down()
    page.mouse.move(*at(26, 6), steps=3)
    page.mouse.up()
    expect(root.get_by_test_id("daw-error")).to_be_hidden()
    paint = apply_one_paint(page, root, wid)
    assert paint["plane"] == "sagittal" and paint["uuid"] == MASK_UUID
    assert "feature" not in paint
