"""The viewer's front end in Chromium with a fake model (no Jupyter): the built ESM is loaded
into `harness.html`, whose model answers `get_slices` from the NumPy data given here."""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, ROOT

HERE = Path(__file__).parent
STATIC = ROOT / "dicom_annot_widget" / "static"
ORIGIN = "http://harness.test"  # never resolved: page.route answers every request
FILES = {
    "/harness.html": HERE / "harness.html",
    "/static/widget.js": STATIC / "widget.js",
    "/static/widget.css": STATIC / "widget.css",
}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}

XSS_NAME = "<img src=x onerror=alert(1)>"
METADATA = [
    {"tag": "00080060", "keyword": "Modality", "VR": "CS", "value": "CT"},
    {"tag": "0008103E", "keyword": "SeriesDescription", "VR": "LO", "value": "Harness abdomen"},
    {"tag": "00100010", "keyword": "PatientName", "VR": "PN", "value": XSS_NAME},
    {"tag": "00180050", "keyword": "SliceThickness", "VR": "DS", "value": 2.5},
    {"tag": "00280030", "keyword": "PixelSpacing", "VR": "DS", "value": [0.7, 0.7]},
    {
        "tag": "00081140",
        "keyword": "ReferencedImageSequence",
        "VR": "SQ",
        "items": [
            [
                {
                    "tag": "00081155",
                    "keyword": "ReferencedSOPInstanceUID",
                    "VR": "UI",
                    "value": "1.2.3.4",
                }
            ]
        ],
    },
]


def ct_volume(n: int = 12, rows: int = 48, columns: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vol = rng.integers(-1000, 1500, size=(n, rows, columns), dtype=np.int16)
    vol[:, :4, :4] = np.arange(n, dtype=np.int16)[:, None, None]  # slice index in a corner
    return vol


def phantom(n: int = 40, size: int = 160) -> np.ndarray:
    """A CT-like picture for screenshots: body, fat rim, organs, lungs and a spine, in HU."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    vol = np.full((n, size, size), -1000, np.int16)
    for k in range(n):
        t = k / max(1, n - 1)
        body = (x / 0.46) ** 2 + (y / 0.36) ** 2 < 1
        inner = (x / 0.42) ** 2 + (y / 0.32) ** 2 < 1
        s = vol[k]
        s[body] = -90
        s[inner] = 40
        lung_r = 0.12 + 0.05 * (1 - t)
        for cx in (-0.2, 0.2):
            s[((x - cx) / lung_r) ** 2 + ((y + 0.02) / (lung_r * 1.3)) ** 2 < 1] = -820
        s[((x + 0.05) / 0.1) ** 2 + ((y - 0.05) / 0.08) ** 2 < 1] = 60 + int(30 * t)
        s[(x / 0.05) ** 2 + ((y - 0.24) / 0.05) ** 2 < 1] = 700
        s[(x / 0.025) ** 2 + ((y - 0.24) / 0.025) ** 2 < 1] = 250
        s[((x - 0.08) / 0.03) ** 2 + ((y + 0.12) / 0.03) ** 2 < 1] = 180  # vessel
    rng = np.random.default_rng(0)
    return (vol + rng.normal(0, 12, vol.shape)).astype(np.int16)


def series(
    vol: np.ndarray,
    *,
    sid: str = "s0",
    spacing: tuple[float, float, float] = (2.0, 0.7, 0.7),
    spacing_known: bool = True,
    intercept: float = 0.0,
    metadata: list[dict[str, Any]] | None = None,
    index: int = 0,
    count: int = 1,
    affine: list[list[float]] | None = None,
) -> dict[str, Any]:
    n, rows, columns = vol.shape
    if affine is None:
        affine = [
            [spacing[2], 0, 0, -100.0],
            [0, spacing[1], 0, -80.0],
            [0, 0, spacing[0], 40.0],
            [0, 0, 0, 1],
        ]
    return {
        "info": {
            "id": sid,
            "shape": [n, rows, columns],
            "spacing": list(spacing),
            "spacing_known": spacing_known,
            "dtype": vol.dtype.name,
            "samples_per_pixel": 1,
            "units": "HU",
            "value_range": [float(vol.min()) + intercept, float(vol.max()) + intercept],
            "windows": [
                {"name": "Soft tissue", "center": 40, "width": 400, "source": "modality"},
                {"name": "Lung", "center": -600, "width": 1500, "source": "modality"},
                {"name": "Header", "center": 50, "width": 350, "source": "dicom"},
            ],
            "plane": "axial",
            "modality": "CT",
            "affine": affine,
            "uid_hash": f"hash{sid}",
            "series_index": index,
            "series_count": count,
        },
        "data_b64": base64.b64encode(np.ascontiguousarray(vol).tobytes()).decode(),
        "slope": 1.0,
        "intercept": intercept,
        "window": [40.0, 400.0],
        "metadata": metadata if metadata is not None else METADATA,
    }


@pytest.fixture
def harness(page: Any) -> Any:
    def serve(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :].split("?")[0]
        f = FILES.get(path)
        if f is None or not f.exists():
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(status=200, body=f.read_bytes(), content_type=TYPES[f.suffix])

    if not (STATIC / "widget.js").exists():
        pytest.fail("dicom_annot_widget/static/widget.js is missing: run `npm run build`")
    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/harness.html")
    page.wait_for_function("window.harnessReady === true")
    return page


def mount(page: Any, *items: dict[str, Any], **opts: Any) -> Any:
    """Mount one widget; returns a locator of its root (scoped to its own cell)."""
    wid = page.evaluate("(o) => window.mount(o)", {"series": list(items), **opts})
    root = page.locator(".cell").nth(wid).get_by_test_id("daw-root")
    expect(root).to_have_attribute("data-ready", "true")
    return wid, root


def model_get(page: Any, wid: int, key: str) -> Any:
    return page.evaluate("([i, k]) => window.widgets[i].model.get(k)", [wid, key])


def wait_model(page: Any, wid: int, key: str, expected: Any) -> None:
    page.wait_for_function(
        "([i, k, v]) => JSON.stringify(window.widgets[i].model.get(k)) === JSON.stringify(v)",
        arg=[wid, key, expected],
    )


def test_a_single_image_has_nothing_to_play_or_skip(harness: Any) -> None:
    """QA 22b: on one 2D image (a radiograph) the cine button, its speed and the frameskip
    were live: play ran a cine of one frame. They are off; `p` plays nothing."""
    page = harness
    wid, root = mount(page, series(ct_volume(n=1)))
    for testid in ("daw-cine", "daw-frameskip"):
        expect(root.get_by_test_id(testid)).to_be_disabled()
    root.focus()
    page.keyboard.press("p")
    page.wait_for_timeout(200)
    assert model_get(page, wid, "cine") == 0
    _, other = mount(page, series(ct_volume(n=3), sid="s1"))
    expect(other.get_by_test_id("daw-cine")).to_be_enabled()  # a stack plays


def test_wheel_and_arrows_move_the_slice(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    assert model_get(page, wid, "slice") == 6
    view = root.get_by_test_id("daw-viewport")
    view.hover()
    page.mouse.wheel(0, 100)
    wait_model(page, wid, "slice", 7)
    page.mouse.wheel(0, -100)
    page.mouse.wheel(0, -100)
    wait_model(page, wid, "slice", 5)
    # trackpad: small deltas accumulate into one step
    for _ in range(10):
        page.mouse.wheel(0, 4)
    wait_model(page, wid, "slice", 6)

    root.focus()
    page.keyboard.press("ArrowRight")
    wait_model(page, wid, "slice", 7)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_model(page, wid, "slice", 5)
    saved = page.evaluate("window.widgets[0].calls.saved.map(s => s.slice)")
    assert saved[-1] == 5 and 7 in saved
    # the image canvas shows the slice the model says
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "5")
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("6 / 12")

    # frameskip applies to keys, buttons and wheel
    root.get_by_test_id("daw-frameskip").select_option("5")
    wait_model(page, wid, "frameskip", 5)
    root.get_by_test_id("daw-next").click()
    wait_model(page, wid, "slice", 10)
    root.focus()
    page.keyboard.press("ArrowLeft")
    wait_model(page, wid, "slice", 5)
    view.hover()
    page.mouse.wheel(0, 100)
    wait_model(page, wid, "slice", 10)
    page.mouse.wheel(0, 100)
    wait_model(page, wid, "slice", 11)  # clamped at the last slice
    # a custom interval
    root.get_by_test_id("daw-frameskip").select_option("custom")
    custom = root.get_by_test_id("daw-frameskip-custom")
    expect(custom).to_be_visible()
    custom.fill("3")
    custom.press("Enter")
    wait_model(page, wid, "frameskip", 3)
    root.get_by_test_id("daw-prev").click()
    wait_model(page, wid, "slice", 8)
    # more than the series allows: the field shows the interval in force
    custom.fill("100")
    custom.press("Enter")
    wait_model(page, wid, "frameskip", 11)
    expect(custom).to_have_value("11")
    # QA 21a D7: a preset set from Python ends the custom choice (it stayed, cut to "custo")
    page.evaluate("([i]) => window.widgets[i].model._push('frameskip', 2)", [wid])
    expect(root.get_by_test_id("daw-frameskip")).to_have_value("2")
    expect(custom).to_be_hidden()


def test_a_series_of_float_values_is_windowed_exactly_on_every_slice(harness: Any) -> None:
    """QA 21a D4: a slice of whole rescale in a series of float values (a fractional rescale
    on another slice: ``exact_window``) is windowed with LINEAR_EXACT, as Python's
    ``apply_window`` of the series' values; it was windowed with LINEAR (one grey off)."""
    from dicom_annot_widget.kernels import apply_window

    page = harness
    vol = np.tile(np.arange(-200, 312, dtype=np.int16).reshape(16, 32), (3, 1, 1))
    item = series(vol)
    greys = {}
    for exact in (False, True):
        item["info"] = {**item["info"], "id": f"s{int(exact)}", "exact_window": exact}
        _, root = mount(page, item)
        root.locator("canvas.daw-image").evaluate(
            "(c) => new Promise((r) => { const f = () => c.dataset.slice ? r() : "
            "requestAnimationFrame(f); f(); })"
        )
        greys[exact] = np.asarray(
            root.locator("canvas.daw-image").evaluate(
                """(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height)
                     .data.filter((_, i) => i % 4 === 0))"""
            )
        ).reshape(16, 32)
    center, width = 40.0, 400.0
    assert np.array_equal(greys[True], apply_window(vol[1].astype(np.float32), center, width))
    assert np.array_equal(greys[False], apply_window(vol[1], center, width))
    assert (greys[True] != greys[False]).any()


def test_keys_never_reach_the_notebook(harness: Any) -> None:
    page = harness
    _, root = mount(page, series(ct_volume()))
    page.evaluate(
        "() => { window.leaked = []; for (const t of ['keydown', 'keyup', 'keypress'])"
        " document.body.addEventListener(t, (e) => window.leaked.push(e.key)); }"
    )
    root.get_by_test_id("daw-viewport").click()  # clicking the image keeps focus in the widget
    assert page.evaluate("document.activeElement.dataset.testid") == "daw-root"
    for key in ["d", "a", "b", "x", "m", "ArrowRight", "Enter", "p", "p", "?", "?", "[", "]"]:
        page.keyboard.press(key)
    assert page.evaluate("window.leaked") == []
    assert root.get_attribute("data-lm-suppress-shortcuts") == "true"


def test_window_drag_changes_the_model_window(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    box = root.get_by_test_id("daw-viewport").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    root.get_by_test_id("daw-wl-mode").click()
    expect(root.get_by_test_id("daw-wl-mode")).to_have_attribute("aria-pressed", "true")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx, cy - 50, steps=5)  # up raises the level
    page.mouse.up()
    page.wait_for_function("window.widgets[0].model.get('window')[0] > 40")
    c1, w1 = model_get(page, wid, "window")
    assert c1 > 40 and w1 == 400
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 40, cy, steps=4)  # left narrows the width
    page.mouse.up()
    page.wait_for_function("window.widgets[0].model.get('window')[1] < 400")
    c2, w2 = model_get(page, wid, "window")
    assert c2 == c1 and w2 < 400
    # saved to the model (Python), and the image re-windowed
    saved = page.evaluate("window.widgets[0].calls.saved.at(-1).window")
    assert saved == [c2, w2]
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-window", f"{c2},{w2}")

    # alt+w toggles the mode off; right-drag still windows without it
    root.focus()
    page.keyboard.press("Alt+w")
    expect(root.get_by_test_id("daw-wl-mode")).to_have_attribute("aria-pressed", "false")
    page.mouse.move(cx, cy)
    page.mouse.down(button="right")
    page.mouse.move(cx + 60, cy, steps=4)  # right widens
    page.mouse.up(button="right")
    page.wait_for_function(f"window.widgets[0].model.get('window')[1] > {w2}")

    # a pointer the browser will not capture (here: made by a script, so never active) still
    # drags: the refused capture must not abort the drag
    w3 = model_get(page, wid, "window")[1]
    refused = page.evaluate(
        """() => {
          const vp = document.querySelector('.cell [data-testid="daw-viewport"]');
          const r = vp.getBoundingClientRect();
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          const ev = (type, dx, buttons) => new PointerEvent(type, {clientX: x + dx, clientY: y,
            button: 2, buttons, pointerId: 99, bubbles: true, cancelable: true});
          let threw = false;
          try { vp.setPointerCapture(99); } catch (e) { threw = true; }
          vp.dispatchEvent(ev('pointerdown', 0, 2));
          vp.dispatchEvent(ev('pointermove', 40, 2));
          vp.dispatchEvent(ev('pointerup', 40, 0));
          return threw;
        }"""
    )
    assert refused  # the browser does refuse it
    page.wait_for_function(f"window.widgets[0].model.get('window')[1] > {w3}")

    # presets and numeric inputs
    root.get_by_test_id("daw-presets").select_option(label="Lung")
    wait_model(page, wid, "window", [-600, 1500])
    root.get_by_test_id("daw-width").fill("321")
    root.get_by_test_id("daw-width").press("Enter")
    wait_model(page, wid, "window", [-600, 321])


def test_custom_presets_survive_a_reload(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    root.get_by_test_id("daw-center").fill("77")
    root.get_by_test_id("daw-center").press("Enter")
    wait_model(page, wid, "window", [77, 400])
    root.get_by_test_id("daw-preset-name").fill("my liver")
    root.get_by_test_id("daw-preset-save").click()
    page.reload()
    page.wait_for_function("window.harnessReady === true")
    wid, root = mount(page, series(ct_volume()))
    root.get_by_test_id("daw-presets").select_option(label="my liver")
    wait_model(page, wid, "window", [77, 400])


def test_a_preset_saved_in_one_widget_is_offered_by_the_others(harness: Any) -> None:
    """QA 21a D5: a preset saved (or deleted) in one viewer appeared in (or left) the other
    viewers of the page only when they were shown again."""
    page = harness
    wid_a, a = mount(page, series(ct_volume()))
    _, b = mount(page, series(ct_volume(), sid="s9"))
    a.get_by_test_id("daw-center").fill("66")
    a.get_by_test_id("daw-center").press("Enter")
    wait_model(page, wid_a, "window", [66, 400])
    a.get_by_test_id("daw-preset-name").fill("shared liver")
    a.get_by_test_id("daw-preset-save").click()
    options = b.get_by_test_id("daw-presets").locator("option")
    expect(options.filter(has_text="shared liver")).to_have_count(1)
    a.get_by_test_id("daw-presets").select_option(label="shared liver")
    a.get_by_test_id("daw-preset-delete").click()
    expect(options.filter(has_text="shared liver")).to_have_count(0)


def test_a_wide_image_turned_a_quarter_gets_a_tall_viewport(harness: Any) -> None:
    """QA 21a D5: a wide image (a thin reformat) turned 90 degrees kept its wide viewport and
    was fitted into its height: a strip a few pixels wide. The viewport takes the turned
    shape (as tall as the page lets it), and zoom 1 fits the turned image."""
    page = harness
    vol = np.tile(np.arange(120, dtype=np.int16), (3, 20, 1)) * 10
    wid, root = mount(page, series(vol))
    viewport = root.get_by_test_id("daw-viewport")
    wide = viewport.bounding_box()
    assert wide["width"] > 2 * wide["height"]
    page.evaluate("([i]) => window.widgets[i].model._push('rotation', 90)", [wid])
    # as tall as the widget lets it be (the page's height bounds it)
    page.wait_for_function(
        "([v, h]) => v.getBoundingClientRect().height > 2 * h",
        arg=[viewport.element_handle(), wide["height"]],
    )
    assert model_get(page, wid, "zoom") == 1
    # the image, upright, runs the viewport's height: its first and last columns are under
    # the viewport's top and bottom edges (turned clockwise: column 0 at the top)
    box = viewport.bounding_box()
    readout = root.get_by_test_id("daw-readout")
    cx = box["x"] + box["width"] / 2
    page.mouse.move(cx, box["y"] + 2)
    expect(readout).to_contain_text("x 0 ")
    page.mouse.move(cx, box["y"] + box["height"] - 2)
    expect(readout).to_contain_text("x 119 ")
    page.evaluate("([i]) => window.widgets[i].model._push('rotation', 0)", [wid])
    page.wait_for_function(
        "([v, h]) => v.getBoundingClientRect().height === h",
        arg=[viewport.element_handle(), wide["height"]],
    )


def test_a_preset_with_the_same_values_as_another_stays_chosen(harness: Any) -> None:
    """A saved preset equal to a header one (40 / 400): the menu shows the one chosen, and
    the saved one can be deleted (the first match used to win, and Delete stayed off)."""
    page = harness
    wid, root = mount(page, series(ct_volume()))
    presets = root.get_by_test_id("daw-presets")
    presets.select_option(label="Lung")
    wait_model(page, wid, "window", [-600, 1500])
    # back to 40 / 400 from Python (the numeric inputs have their own test; typed here, the
    # level was lost once in ~8 runs on a loaded machine: see NOTE12)
    page.evaluate("(i) => window.widgets[i].model._push('window', [40, 400])", wid)
    expect(root.get_by_test_id("daw-center")).to_have_value("40")
    root.get_by_test_id("daw-preset-name").fill("mine")
    root.get_by_test_id("daw-preset-save").click()
    presets.select_option(label="Lung")
    presets.select_option(label="mine")
    wait_model(page, wid, "window", [40, 400])
    expect(presets.locator("option:checked")).to_have_text("mine")
    expect(root.get_by_test_id("daw-preset-delete")).to_be_enabled()
    presets.select_option(label="Soft tissue")
    expect(presets.locator("option:checked")).to_have_text("Soft tissue")
    expect(root.get_by_test_id("daw-preset-delete")).to_be_disabled()


def test_the_window_fields_show_whole_values(harness: Any) -> None:
    """QA 19b D10: a level of 32767.5 showed as "32767." (the number field was cut by its
    spin buttons). Every figure of the widest windows fits its field, at full and narrow
    widths."""
    page = harness
    for width in (None, 260):
        wid, root = mount(page, series(ct_volume()), **({"width": width} if width else {}))
        for window in ([32767.5, 65535], [-32768.5, 4095.5], [-1024.25, 1.5]):
            page.evaluate("([i, w]) => window.widgets[i].model._push('window', w)", [wid, window])
            for testid, value in (("daw-center", window[0]), ("daw-width", window[1])):
                field = root.get_by_test_id(testid)
                expect(field).to_have_value(f"{value:g}")
                # an input whose text overflows its editing area scrolls: wider than it is
                fits = field.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
                assert fits[0] <= fits[1], (width, testid, value, fits)
    # QA 21a D6: a field in focus keeps its text when Python changes the window; left (Tab)
    # unchanged, it shows the window in force (it kept the old value until a redraw)
    field = root.get_by_test_id("daw-width")
    field.focus()
    page.evaluate("([i]) => window.widgets[i].model._push('window', [-600, 1500])", [wid])
    page.wait_for_timeout(100)
    expect(field).to_have_value("1.5")
    page.keyboard.press("Tab")
    expect(field).to_have_value("1500")


def test_hu_readout_equals_numpy(harness: Any) -> None:
    page = harness
    vol = ct_volume()
    _, root = mount(page, series(vol, intercept=-1024.0))
    canvas = root.get_by_test_id("daw-view")
    box = canvas.bounding_box()
    # default view: the whole image fits, centred; find where pixel (col, row) is drawn
    _, rows, cols = vol.shape
    scale = min(box["width"] / cols, box["height"] / rows)  # square pixels (0.7 x 0.7 mm)
    x0 = box["x"] + (box["width"] - cols * scale) / 2
    y0 = box["y"] + (box["height"] - rows * scale) / 2
    readout = root.get_by_test_id("daw-readout")
    for col, row in [(10, 20), (63, 0), (31, 47)]:
        page.mouse.move(x0 + (col + 0.5) * scale, y0 + (row + 0.5) * scale)
        expect(readout).to_contain_text(f"x {col}  y {row}  z 6")
        hu = int(vol[6, row, col]) - 1024
        expect(readout).to_contain_text(f"{hu} HU")
        text = readout.text_content() or ""
        # patient position through the affine: (-100 + 0.7 col, -80 + 0.7 row, 40 + 2 k)
        expect(readout).to_contain_text(f"({-100 + 0.7 * col:.1f}, {-80 + 0.7 * row:.1f}, 52.0) mm")
        assert "HU" in text
    # the readout follows the slice under a still pointer
    root.focus()
    page.keyboard.press("ArrowRight")
    expect(readout).to_contain_text(f"{int(vol[7, 47, 31]) - 1024} HU")


def test_readout_places_slices_beyond_a_gap_where_their_headers_say(harness: Any) -> None:
    """A series with a missing slice: the page gets each slice's ImagePositionPatient
    (``slice_origins``) and the readout uses it, not the affine's even spacing."""
    page = harness
    vol = ct_volume()
    item = series(vol, intercept=-1024.0)
    n = vol.shape[0]
    # slices 0-4 at z = 40 + 2 k, then one position skipped: slice k >= 5 at 42 + 2 k
    item["info"]["slice_origins"] = [
        [-100.0, -80.0, 40.0 + 2 * k + (2 if k >= 5 else 0)] for k in range(n)
    ]
    _, root = mount(page, item)
    canvas = root.get_by_test_id("daw-view")
    box = canvas.bounding_box()
    _, rows, cols = vol.shape
    scale = min(box["width"] / cols, box["height"] / rows)
    x0 = box["x"] + (box["width"] - cols * scale) / 2
    y0 = box["y"] + (box["height"] - rows * scale) / 2
    readout = root.get_by_test_id("daw-readout")
    page.mouse.move(x0 + 10.5 * scale, y0 + 20.5 * scale)
    expect(readout).to_contain_text("x 10  y 20  z 6")
    expect(readout).to_contain_text(f"({-100 + 0.7 * 10:.1f}, {-80 + 0.7 * 20:.1f}, 54.0) mm")
    root.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    expect(readout).to_contain_text("z 3")
    expect(readout).to_contain_text(f"({-100 + 0.7 * 10:.1f}, {-80 + 0.7 * 20:.1f}, 46.0) mm")


def test_the_image_is_fitted_beside_the_open_tags_panel(harness: Any) -> None:
    """QA 21a D3: the tags panel covered the right half of the image and its orientation
    marker. The image is fitted into the part of the viewport left of the panel (its last
    column is shown there), the right marker stands beside the panel, and closing the panel
    gives the image the whole viewport back."""
    page = harness
    _, root = mount(page, series(ct_volume()))
    viewport = root.get_by_test_id("daw-viewport")
    box = viewport.bounding_box()
    root.get_by_test_id("daw-meta-toggle").click()
    panel = root.get_by_test_id("daw-meta")
    expect(panel).to_be_visible()
    left = panel.bounding_box()["x"]
    assert left < box["x"] + box["width"] - 50
    marker = root.get_by_test_id("daw-orient-right")
    page.wait_for_function(
        "([m, x]) => m.getBoundingClientRect().right <= x", arg=[marker.element_handle(), left]
    )
    # drawn so: the image (4:3) is as wide as the part left of the panel, so the band above
    # it is the viewport's black (it was drawn on at the old scale, cut by the panel)
    page.wait_for_function(
        """([c, w]) => { const dpr = c.width / c.getBoundingClientRect().width;
          const d = c.getContext('2d').getImageData(0, Math.round(8 * dpr),
            Math.round(w * dpr), 1).data;
          let lit = 0; for (let i = 0; i < d.length; i += 4) lit += d[i] + d[i + 1] + d[i + 2];
          return lit === 0; }""",
        arg=[root.get_by_test_id("daw-view").element_handle(), left - box["x"] - 4],
        timeout=5000,
    )
    readout = root.get_by_test_id("daw-readout")
    y = box["y"] + box["height"] / 2
    page.mouse.move(left - 2, y)  # just left of the panel: the image's last column (63)
    expect(readout).to_contain_text("x 63 ")
    page.mouse.move(box["x"] + 2, y)
    expect(readout).to_contain_text("x 0 ")
    root.get_by_test_id("daw-meta-toggle").click()
    expect(panel).to_be_hidden()
    page.mouse.move(box["x"] + box["width"] - 2, y)
    expect(readout).to_contain_text("x 63 ")


def test_metadata_search_and_html_is_text(harness: Any) -> None:
    page = harness
    page.evaluate("() => { window.alerted = 0; window.alert = () => { window.alerted += 1; }; }")
    _, root = mount(page, series(ct_volume()))
    root.get_by_test_id("daw-meta-toggle").click()
    panel = root.get_by_test_id("daw-meta")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(XSS_NAME)  # shown literally
    assert root.locator("img").count() == 0
    assert page.evaluate("window.alerted") == 0
    sent = page.evaluate("window.widgets[0].calls.sent.filter(m => m.type === 'get_metadata')")
    assert sent and sent[0]["slice"] == 6 and sent[0]["series"] == "s0"

    search = root.get_by_test_id("daw-meta-search")
    search.fill("pixelspacing")
    rows = root.get_by_test_id("daw-meta-list").locator(".daw-meta-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PixelSpacing")
    expect(rows.first).to_contain_text("(0028,0030)")
    search.fill("0028,0030")
    expect(rows).to_have_count(1)
    search.fill("1.2.3.4")  # inside a sequence: the sequence and its matching item show
    expect(root.get_by_test_id("daw-meta-list")).to_contain_text("ReferencedImageSequence")
    expect(root.get_by_test_id("daw-meta-list")).to_contain_text("ReferencedSOPInstanceUID")
    # the overlay shows the series description, as text
    expect(root.get_by_test_id("daw-overlay")).to_contain_text("Harness abdomen")


def test_a_radiograph_has_no_made_up_patient_position_and_shows_its_image_numbers(
    harness: Any,
) -> None:
    """QA 23a D5, D6: an image without a patient orientation (a radiograph) showed its pixel
    indices as a patient position "(8.0, 20.0, 0.0) mm" and "Loc 0.0 mm  ·  Spacing 1.0 mm" in
    the overlay; it shows neither, and its pixel size. A series with InstanceNumbers shows the
    image number reports cite beside its slice number (which counts by position)."""
    page = harness
    vol = ct_volume()
    one = series(vol[6:7], intercept=-1024.0)
    one["info"]["orientation_known"] = False
    one["info"]["patient_orientation"] = ["L", "F"]
    wid, root = mount(page, one)
    # its PatientOrientation gives the edge markers (rows run to the patient's left, columns
    # down to the feet)
    expect(root.get_by_test_id("daw-orient-right")).to_have_text("L")
    expect(root.get_by_test_id("daw-orient-bottom")).to_have_text("I")
    root.get_by_test_id("daw-overlay-toggle").click()
    overlay = root.get_by_test_id("daw-overlay")
    expect(overlay).to_contain_text("Pixel 0.7 × 0.7 mm")
    assert "Loc" not in (overlay.text_content() or "")
    assert "Spacing" not in (overlay.text_content() or "")
    box = root.get_by_test_id("daw-view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    readout = root.get_by_test_id("daw-readout")
    expect(readout).to_contain_text("HU")
    assert "mm" not in (readout.text_content() or "")
    # a CT numbered head to feet: slice 7 of 12 (from the feet) is image 6
    many = series(vol, intercept=-1024.0)
    n = vol.shape[0]
    many["info"]["instance_numbers"] = [n - k for k in range(n)]
    wid, root = mount(page, many)
    root.get_by_test_id("daw-overlay-toggle").click()
    k = model_get(page, wid, "slice")
    line = f"Slice {k + 1}/{n}  ·  Image {n - k}  ·  Loc"
    expect(root.get_by_test_id("daw-overlay")).to_contain_text(line)


def test_a_cine_loop_has_no_reformats_and_plays_at_its_rate(harness: Any) -> None:
    """QA 23a D8: an ultrasound loop's frames (moments) were offered as reformats, and the
    cine played at 10/s whatever the loop's rate. No plane buttons; the cine's speed is the
    recorded rate."""
    page = harness
    loop = series(ct_volume(), intercept=-1024.0)
    loop["info"]["temporal"] = True
    loop["info"]["frame_rate"] = 25.0
    wid, root = mount(page, loop)
    expect(root.get_by_test_id("daw-cine-fps")).to_have_value("25")
    expect(root.get_by_test_id("daw-plane-coronal")).to_be_hidden()
    root.get_by_test_id("daw-overlay-toggle").click()
    overlay = root.get_by_test_id("daw-overlay")
    expect(overlay).to_contain_text("25 frames/s recorded")
    expect(overlay).to_contain_text("Frame ")
    assert "Spacing" not in (overlay.text_content() or "")
    root.get_by_test_id("daw-cine").click()
    wait_model(page, wid, "cine", 25)


def test_the_readout_follows_the_image_scrolled_under_a_still_pointer(harness: Any) -> None:
    """QA 23b: a tool's popup scrolled into view moved the image under a still pointer, and no
    pointer event says so: the readout named the voxel that had been under the pointer, the
    brush painted the one now under it. A scroll updates the readout."""
    page = harness
    _wid, root = mount(page, series(ct_volume(), intercept=-1024.0))
    page.evaluate("document.body.style.minHeight = '4000px'")
    box = root.get_by_test_id("daw-view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    readout = root.get_by_test_id("daw-readout")
    expect(readout).to_have_attribute("data-voxel", re.compile(r"\d+,\d+,\d+"))
    before = readout.get_attribute("data-voxel")
    page.evaluate("window.scrollBy(0, 60)")
    expect(readout).not_to_have_attribute("data-voxel", before or "")
    col, row, _ = (int(v) for v in (readout.get_attribute("data-voxel") or "").split(","))
    col0, row0, _ = (int(v) for v in (before or "").split(","))
    assert col == col0 and row > row0  # the image went up: a lower row is under the pointer


def test_spacing_warning(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume(), spacing_known=False), width=600)
    warning = root.get_by_test_id("daw-spacing-warning")
    expect(warning).to_be_visible()
    # the slice spacing (from the positions) is known: the overlay does not call it unknown
    overlay = root.get_by_test_id("daw-overlay")
    expect(overlay).to_contain_text("Spacing 2.0 mm")
    expect(overlay).not_to_contain_text("unknown")
    # it covers none of the view's texts (the top-left one grows with rotation and flips)
    page.evaluate(
        "(i) => { const m = window.widgets[i].model; m.set('rotation', 33);"
        " m.set('flip', [true, true]); }",
        wid,
    )
    expect(root.locator(".daw-overlay-tl")).to_contain_text("flip")
    box = warning.bounding_box()
    for text in root.locator(".daw-overlay-tl, .daw-overlay").all():
        if text.is_visible():
            t = text.bounding_box()
            apart = (
                t["x"] + t["width"] <= box["x"]
                or box["x"] + box["width"] <= t["x"]
                or t["y"] + t["height"] <= box["y"]
                or box["y"] + box["height"] <= t["y"]
            )
            assert apart, (t, box)
    _, root2 = mount(page, series(ct_volume(), sid="s9"))
    expect(root2.get_by_test_id("daw-spacing-warning")).to_be_hidden()


def test_two_widgets_scroll_independently(harness: Any) -> None:
    page = harness
    a, root_a = mount(page, series(ct_volume(seed=1)))
    b, root_b = mount(page, series(ct_volume(seed=2)))
    root_b.get_by_test_id("daw-viewport").hover()
    page.mouse.wheel(0, 100)
    wait_model(page, b, "slice", 7)
    root_a.focus()
    page.keyboard.press("ArrowLeft")
    wait_model(page, a, "slice", 5)
    assert model_get(page, b, "slice") == 7
    expect(root_a.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "5")
    expect(root_b.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "7")


def test_cleanup_removes_listeners(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    view = root.get_by_test_id("daw-viewport")
    box = view.bounding_box()
    before = page.evaluate(
        "() => ['change:slice', 'change:window', 'change:series_info', 'msg:custom',"
        " 'change:selected', 'change:hidden', 'change:tool', 'change:active_class']"
        ".map(e => window.widgets[0].model.listenerCount(e))"
    )
    # keep the DOM around (detached cleanup removes it) to prove its listeners are gone
    page.evaluate(
        "() => { const w = window.widgets[0]; window.keep = w.el.querySelector('.daw-root');"
        " w.cleanup(); w.el.append(window.keep); }"
    )
    after = page.evaluate(
        "() => ['change:slice', 'change:window', 'change:series_info', 'msg:custom',"
        " 'change:selected', 'change:hidden', 'change:tool', 'change:active_class']"
        ".map(e => window.widgets[0].model.listenerCount(e))"
    )
    # only the per-model controller (initialize) still listens; the view's listeners are gone
    assert all(a < b for a, b in zip(after, before, strict=True)), (before, after)
    saves = page.evaluate("window.widgets[0].calls.save_changes")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 100)
    page.keyboard.press("ArrowRight")
    page.evaluate(
        "() => window.keep.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}))"
    )
    # a round trip through the event loop, then nothing may have changed
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
    assert model_get(page, wid, "slice") == 6
    assert page.evaluate("window.widgets[0].calls.save_changes") == saves


def test_view_controls_and_copy_link(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    root.get_by_test_id("daw-rot-right").click()
    wait_model(page, wid, "rotation", 90)
    # a fitted image stays fitted when turned: 64 x 48 square pixels upright, the view made
    # taller for it (QA 21a D5), fitted at zoom 1
    assert model_get(page, wid, "zoom") == 1
    root.get_by_test_id("daw-flip-h").click()
    wait_model(page, wid, "flip", [True, False])
    root.focus()
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function("window.widgets[0].model.get('zoom') > 1.1")
    # shift+drag pans
    box = root.get_by_test_id("daw-viewport").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.keyboard.down("Shift")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 30, cy + 10, steps=3)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function("window.widgets[0].model.get('pan')[0] > 0")
    # a change made in Python shows on the page
    page.evaluate("(i) => window.widgets[i].model._push('zoom', 3)", wid)
    expect(root.get_by_test_id("daw-view")).to_have_attribute("data-zoom", "3")
    root.get_by_test_id("daw-fit").click()
    wait_model(page, wid, "pan", [0, 0])
    assert model_get(page, wid, "rotation") == 90  # fit keeps rotation
    # ... and fits the rotated image: 64 x 48 square pixels turned upright in a 3:4 view
    assert model_get(page, wid, "zoom") == 1

    # this origin is not a secure context: no navigator.clipboard, the textarea fallback copies
    page.evaluate(
        "() => document.addEventListener('copy', (e) => { window.copied = e.target.value; })"
    )
    root.get_by_test_id("daw-copy-link").click()
    expect(root).to_have_attribute("data-link", re.compile(r"^daw:[A-Za-z0-9_-]+$"))
    link = root.get_attribute("data-link")
    page.wait_for_function("typeof window.copied === 'string'")
    assert page.evaluate("window.copied") == link
    # with the Clipboard API, the same string goes there
    page.evaluate(
        "() => Object.defineProperty(navigator, 'clipboard', {configurable: true,"
        " value: {writeText: async (t) => { window.clipped = t; }}})"
    )
    root.get_by_test_id("daw-copy-link").click()
    page.wait_for_function("typeof window.clipped === 'string'")
    assert page.evaluate("window.clipped") == link
    body = json.loads(base64.urlsafe_b64decode(link[4:] + "=" * (-len(link[4:]) % 4)))
    assert body == {
        "v": 1,
        "s": "hashs0",
        "p": "axial",
        "k": 6,
        "w": [40, 400],
        "z": 1,
        "c": [0, 0],
        "r": 90,
        "f": [1, 0],
    }
    assert "onerror" not in json.dumps(body)
    # on a reformat shown head up (flipped for display), the link has the model's flips and
    # rotation, as Python's view_link: restored, the head-up flip is not undone (it was)
    page.evaluate(
        "(i) => { const m = window.widgets[i].model; m._push('plane', 'coronal');"
        " m._push('crosshair', [32, 24, 6]); m._push('slice', 24); }",
        wid,
    )
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-plane", "coronal")
    root.get_by_test_id("daw-copy-link").click()
    page.wait_for_function(
        "(l) => document.querySelector('[data-link]').dataset.link !== l", arg=link
    )
    reformat = root.get_attribute("data-link") or ""
    body = json.loads(base64.urlsafe_b64decode(reformat[4:] + "=" * (-len(reformat[4:]) % 4)))
    assert (body["m"], body["r"], body["f"]) == ("coronal", 90, [1, 0])


def test_previous_next_series(harness: Any) -> None:
    page = harness
    a = series(ct_volume(n=12), sid="s0", index=0, count=2)
    b = series(ct_volume(n=8, rows=32, columns=40, seed=3), sid="s1", index=1, count=2)
    b["info"]["series_index"] = 1
    wid, root = mount(page, a, b)
    expect(root.get_by_test_id("daw-series-label")).to_have_text("Series 1/2")
    expect(root.get_by_test_id("daw-series-prev")).to_be_disabled()
    root.get_by_test_id("daw-series-next").click()
    wait_model(page, wid, "series_index", 1)
    expect(root.get_by_test_id("daw-slice-label")).to_have_text("5 / 8")
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", "4")
    assert root.get_by_test_id("daw-canvas").evaluate("c => [c.width, c.height]") == [40, 32]


def test_slice_bar_and_maximise(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume(n=20)))
    bar = root.get_by_test_id("daw-slicebar")
    expect(bar).to_have_attribute("data-loaded", "20")  # the band: every slice arrived
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.125, box["y"] + box["height"] / 2)
    wait_model(page, wid, "slice", 2)
    # the thumb and the ARIA value follow the slice (they are written only when it changes)
    expect(bar).to_have_attribute("aria-valuenow", "3")
    thumb = bar.locator(".daw-slicebar-thumb")
    assert thumb.evaluate("t => t.style.left") == "12.5%"
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()
    wait_model(page, wid, "slice", 18)
    expect(bar).to_have_attribute("aria-valuenow", "19")
    assert thumb.evaluate("t => t.style.left") == "92.5%"

    button = root.get_by_test_id("daw-maximise")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(
        "() => document.fullscreenElement?.classList.contains('daw-root')"
        " || document.querySelector('.daw-root').classList.contains('daw-maximised')"
    )
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")


def test_slices_arrive_progressively(harness: Any) -> None:
    page = harness
    page.evaluate("() => { const m = window.mount; window.mount = (o) => m({...o, hold: true}); }")
    wid = page.evaluate("(o) => window.mount(o)", {"series": [series(ct_volume())]})
    root = page.locator(".cell").nth(wid).get_by_test_id("daw-root")
    expect(root.get_by_test_id("daw-loading")).to_be_visible()
    expect(root).to_have_attribute("data-ready", "false")
    # navigation works before any pixel has arrived
    root.focus()
    page.keyboard.press("ArrowRight")
    wait_model(page, wid, "slice", 7)
    page.evaluate("(i) => window.widgets[i].model.release()", wid)
    expect(root).to_have_attribute("data-ready", "true")
    expect(root.get_by_test_id("daw-loading")).to_be_hidden()


def test_metadata_is_asked_for_only_once_the_slice_is_shown(harness: Any) -> None:
    """The data overlay needs the slice's metadata, but asking before the slice itself has
    arrived would put the answer in the way of the first slice."""
    page = harness
    page.evaluate("() => { const m = window.mount; window.mount = (o) => m({...o, hold: true}); }")
    wid = page.evaluate("(o) => window.mount(o)", {"series": [series(ct_volume())]})
    root = page.locator(".cell").nth(wid).get_by_test_id("daw-root")
    expect(root).to_have_attribute("data-ready", "false")
    types = "(i) => window.widgets[i].calls.sent.map(m => m.type)"
    page.wait_for_function(f"({types})({wid}).includes('get_slices')")
    page.wait_for_timeout(200)  # time enough for a request that should not be made
    assert "get_metadata" not in page.evaluate(types, wid)
    page.evaluate("(i) => window.widgets[i].model.release()", wid)
    expect(root).to_have_attribute("data-ready", "true")
    page.wait_for_function(f"({types})({wid}).includes('get_metadata')")
    expect(root.get_by_test_id("daw-overlay")).to_contain_text("Harness abdomen")


def kernel_says(page: Any, wid: int, content: dict[str, Any]) -> None:
    """A custom message from the kernel to widget ``wid``."""
    page.evaluate("([i, c]) => window.widgets[i].model._message(c)", [wid, content])


def test_page_shows_kernel_errors(harness: Any) -> None:
    page = harness
    wid, root = mount(page, series(ct_volume()))
    refusal = {
        "type": "error",
        "message": "refused a change from the page: <b>zoom</b> must be in [0.05, 64]",
    }
    kernel_says(page, wid, refusal)
    alert = root.get_by_role("alert")
    expect(alert).to_contain_text("<b>zoom</b> must be in")  # as text
    assert root.locator("b").count() == 0
    root.get_by_test_id("daw-error-close").click()
    expect(alert).to_be_hidden()
    # the same refusal again is news: it shows again (a dismissed text is not muted for good)
    kernel_says(page, wid, refusal)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("<b>zoom</b> must be in")


def test_a_slice_the_kernel_cannot_read_is_said_not_awaited(harness: Any) -> None:
    """QA: a series whose slices could not be decoded showed "Loading slice 7..." for ever (the
    error bar named another slice). The kernel's error for the slice shown replaces the
    spinner with what happened; the other slices still show."""
    page = harness
    page.evaluate("() => { const m = window.mount; window.mount = (o) => m({...o, hold: true}); }")
    wid = page.evaluate("(o) => window.mount(o)", {"series": [series(ct_volume())]})
    root = page.locator(".cell").nth(wid).get_by_test_id("daw-root")
    loading = root.get_by_test_id("daw-loading")
    expect(loading).to_contain_text("Loading slice 7")
    message = "slice 7 / 12 (index 6) could not be read: Cannot decode 'CT000006.dcm'"
    kernel_says(page, wid, {"type": "error", "message": message, "index": 6})
    expect(loading).to_contain_text("Slice 7 could not be read")
    expect(loading).to_have_class(re.compile("daw-offline"))  # no spinner: nothing is coming
    expect(root.get_by_role("alert")).to_contain_text(message)
    # the other slices arrive and show
    page.evaluate("(i) => window.widgets[i].model.release()", wid)
    root.focus()
    page.keyboard.press("ArrowRight")
    expect(root).to_have_attribute("data-ready", "true")
    expect(loading).to_be_hidden()


def test_a_notice_from_the_kernel_is_a_toast_not_an_error(harness: Any) -> None:
    """Ctrl+Z with nothing to undo is no fault: the kernel's answer carries `notice` and the
    page shows it in passing, not in the red error banner."""
    page = harness
    wid, root = mount(page, series(ct_volume()))
    kernel_says(page, wid, {"type": "error", "message": "undo: nothing to undo", "notice": True})
    toast = root.locator(".daw-toast")
    expect(toast).to_be_visible()
    expect(toast).to_have_text("undo: nothing to undo")
    expect(root.get_by_role("alert")).to_be_hidden()


def test_frameskip_menu_gives_the_keys_back_to_the_slices(harness: Any) -> None:
    """After a frameskip is chosen from its menu the arrow keys move the slice (by it), not
    the menu's choice."""
    page = harness
    wid, root = mount(page, series(ct_volume(n=30)))
    root.get_by_test_id("daw-frameskip").select_option("5")
    expect(root).to_be_focused()
    start = page.evaluate("(i) => window.widgets[i].model.get('slice')", wid)
    page.keyboard.press("ArrowRight")
    wait_model(page, wid, "slice", start + 5)
    expect(root.get_by_test_id("daw-frameskip")).to_have_value("5")


def test_undo_by_key_position_on_a_non_latin_layout(harness: Any) -> None:
    """Ctrl+Z typed on a Cyrillic layout (key "я", the Z key's position) is undo; Ctrl+Shift+Z
    there is redo."""
    page = harness
    wid, root = mount(page, series(ct_volume()))
    for shift in (False, True):
        root.dispatch_event(
            "keydown", {"key": "я", "code": "KeyZ", "ctrlKey": True, "shiftKey": shift}
        )
    page.wait_for_function(
        "(i) => window.widgets[i].calls.sent.filter((m) => m.type === 'undo' ||"
        " m.type === 'redo').length >= 2",
        arg=wid,
    )
    kinds = page.evaluate(
        "(i) => window.widgets[i].calls.sent.map((m) => m.type)"
        ".filter((t) => t === 'undo' || t === 'redo')",
        wid,
    )
    assert kinds == ["undo", "redo"]


def test_a_viewer_without_labels_gives_the_image_the_width(harness: Any) -> None:
    """No ontology: no side panel to show, so none takes room beside the image (it used to
    keep an empty 246 px strip, which at 800 px left the image 122 px wide)."""
    page = harness
    _, root = mount(page, series(ct_volume()), width=760)
    side = root.locator(".daw-side")
    assert side.evaluate("e => getComputedStyle(e).display") == "none"
    viewport = root.get_by_test_id("daw-viewport").bounding_box()
    assert viewport["width"] > 0.9 * root.bounding_box()["width"]


def test_the_focused_widget_shows_a_ring(harness: Any) -> None:
    """The keys go to the widget only while it has the focus: a 2 px ring in the accent
    colour is drawn inside its edge (the output area clips anything outside)."""
    import io

    from PIL import Image

    page = harness
    _, root = mount(page, series(ct_volume()), width=760)

    def edge() -> tuple[int, ...]:
        shot = Image.open(io.BytesIO(root.screenshot())).convert("RGB")
        return shot.getpixel((0, shot.height // 2))  # type: ignore[return-value]

    unfocused = edge()
    root.focus()
    r, g, b = edge()
    assert (r, g, b) != unfocused
    assert b > 150 and r < 100  # the accent blue (#1976d2 outside JupyterLab)


def test_screenshots(harness: Any) -> None:
    """Not a comparison: pictures of the harness page for people to look at."""
    page = harness
    page.set_viewport_size({"width": 900, "height": 900})
    _, root = mount(page, series(phantom()), width=760)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root.get_by_test_id("daw-viewport").hover()
    root.screenshot(path=str(ARTIFACTS / "harness-viewer-light.png"))
    root.get_by_test_id("daw-meta-toggle").click()
    expect(root.get_by_test_id("daw-meta-count")).to_contain_text("elements")
    page.evaluate("document.body.classList.add('dark')")
    root.screenshot(path=str(ARTIFACTS / "harness-viewer-dark.png"))
    _, narrow = mount(page, series(phantom(), sid="s2"), width=600)
    narrow.screenshot(path=str(ARTIFACTS / "harness-viewer-600px.png"))


def test_real_metadata_tree_renders_as_text(harness: Any, tmp_path: Path) -> None:
    """The element tree the kernel really sends (io's JSON: lower-case vr, sequences as lists
    of items) shows in the panel, searchable, with the HTML name as text."""
    from dicom_annot_widget import DicomAnnotator, write_phantom_series

    write_phantom_series(tmp_path, n_slices=4, rows=32, columns=32, patient_name=XSS_NAME)
    w = DicomAnnotator(tmp_path)
    sent: list[Any] = []
    w.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    w._on_page_message(w, {"type": "get_metadata", "series": "s0", "slice": 2}, [])
    w.close()
    elements = sent[0]["elements"]
    page = harness
    page.evaluate("() => { window.alerted = 0; window.alert = () => { window.alerted += 1; }; }")
    vol = ct_volume(n=4, rows=32, columns=32)
    _, root = mount(page, series(vol, metadata=elements))
    root.get_by_test_id("daw-meta-toggle").click()
    panel = root.get_by_test_id("daw-meta")
    expect(panel).to_contain_text(XSS_NAME)
    assert root.locator("img").count() == 0 and page.evaluate("window.alerted") == 0
    root.get_by_test_id("daw-meta-search").fill("PixelSpacing")
    expect(root.get_by_test_id("daw-meta-list").locator(".daw-meta-row").first).to_contain_text(
        "(0028,0030)"
    )
    root.get_by_test_id("daw-meta-search").fill("")
    count = root.get_by_test_id("daw-meta-count")
    expect(count).to_have_text(re.compile(r"^\d+ elements$"))
    assert int((count.text_content() or "").split()[0]) > 40  # a real CT header, all of it


def test_colour_images_show_in_colour(harness: Any) -> None:
    page = harness
    rgb = np.zeros((3, 8, 10, 3), np.uint8)
    rgb[..., 0] = 200  # red
    rgb[:, 4:, :, 1] = 150  # green in the lower half
    item = series(np.zeros((3, 8, 10), np.uint8))
    item["info"].update(samples_per_pixel=3, units="", modality="US", value_range=[0, 255])
    item["data_b64"] = base64.b64encode(rgb.tobytes()).decode()
    _, root = mount(page, item)
    px = root.get_by_test_id("daw-canvas").evaluate(
        "(c) => [c.getContext('2d').getImageData(1, 1, 1, 1).data,"
        " c.getContext('2d').getImageData(1, 6, 1, 1).data].map(d => Array.from(d))"
    )
    assert px == [[200, 0, 0, 255], [200, 150, 0, 255]]
    expect(root.get_by_test_id("daw-center")).to_be_disabled()  # no windowing of colour
    root.get_by_test_id("daw-invert").click()  # the invert toggle inverts colour too
    page.wait_for_function(
        "(c) => c.getContext('2d').getImageData(1, 1, 1, 1).data[0] === 55",
        arg=root.get_by_test_id("daw-canvas").element_handle(),
    )


def test_monochrome1_is_shown_inverted_and_the_user_can_invert(harness: Any) -> None:
    """QA: MONOCHROME1 radiographs (minimum value white) were shown as MONOCHROME2, bone
    dark. The same stored values with each interpretation: one the negative of the other."""
    page = harness
    values = np.zeros((2, 8, 10), np.uint16)
    values[:, :, 5:] = 4000  # left half low, right half high
    greys = {}
    for photometric in ("MONOCHROME2", "MONOCHROME1"):
        item = series(values)
        item["info"].update(
            units="", modality="CR", value_range=[0, 4000], photometric_interpretation=photometric
        )
        item["window"] = [2000.0, 4000.0]
        _, root = mount(page, item)
        greys[photometric] = root.get_by_test_id("daw-canvas").evaluate(
            "(c) => [1, 8].map(x => c.getContext('2d').getImageData(x, 3, 1, 1).data[0])"
        )
    assert greys["MONOCHROME2"] == [0, 255]
    assert greys["MONOCHROME1"] == [255, 0]

    # the user's invert (button or w.invert) flips either way; the overlay says so
    wid = 1  # the MONOCHROME1 widget, mounted last
    root = page.locator(".cell").nth(wid).get_by_test_id("daw-root")
    canvas = root.get_by_test_id("daw-canvas")
    grey = "(c) => [1, 8].map(x => c.getContext('2d').getImageData(x, 3, 1, 1).data[0])"
    root.get_by_test_id("daw-invert").click()
    wait_model(page, wid, "invert", True)
    expect(root.get_by_test_id("daw-invert")).to_have_attribute("aria-pressed", "true")
    left = "(c) => c.getContext('2d').getImageData(1, 3, 1, 1).data[0]"
    page.wait_for_function(f"(c) => ({left})(c) === 0", arg=canvas.element_handle())
    assert canvas.evaluate(grey) == [0, 255]
    expect(root.locator(".daw-overlay-tl")).to_contain_text("inverted")
    page.evaluate("(i) => { const m = window.widgets[i].model; m.set('invert', false); }", wid)
    page.wait_for_function(f"(c) => ({left})(c) === 255", arg=canvas.element_handle())
    expect(root.get_by_test_id("daw-invert")).to_have_attribute("aria-pressed", "false")


def test_cine_plays_the_slices_in_a_loop_and_stops(harness: Any) -> None:
    """The play button (or P) plays the slices one after the other at the chosen speed,
    looping over the plane's slices on the frameskip's grid; the model's slice follows (so
    Python sees it); P again stops it."""
    page = harness
    wid, root = mount(page, series(ct_volume()))
    n = 12
    root.get_by_test_id("daw-cine-fps").select_option("20")
    expect(root).to_have_attribute("data-cine", "0")
    saved_before = page.evaluate("(i) => window.widgets[i].calls.saved.length", wid)
    root.get_by_test_id("daw-cine").click()
    expect(root).to_have_attribute("data-cine", "20")
    expect(root.get_by_test_id("daw-cine")).to_have_attribute("aria-pressed", "true")
    # a whole loop and more: every slice shown in turn, back to 0 after the last
    page.wait_for_function(
        f"(i) => window.widgets[i].calls.saved.slice({saved_before}).length >= {n + 4}", arg=wid
    )
    root.focus()
    page.keyboard.press("p")
    expect(root).to_have_attribute("data-cine", "0")
    slices = page.evaluate(
        f"(i) => window.widgets[i].calls.saved.slice({saved_before}).map((s) => s.slice)", wid
    )
    steps = [b for a, b in itertools.pairwise(slices) if a != b]
    shown = [slices[0], *steps]
    assert all(b == (a + 1) % n for a, b in itertools.pairwise(shown)), shown
    assert 0 in shown and n - 1 in shown
    stopped = model_get(page, wid, "slice")
    page.wait_for_timeout(300)
    assert model_get(page, wid, "slice") == stopped
    expect(root.get_by_test_id("daw-canvas")).to_have_attribute("data-slice", str(stopped))
    # with a frameskip of 3, from slice 4: 4, 7, 10, then 1 (the same grid), 4, ...
    page.evaluate("(i) => window.widgets[i].model._push('frameskip', 3)", wid)
    page.evaluate("(i) => window.widgets[i].model._push('slice', 4)", wid)
    before = page.evaluate("(i) => window.widgets[i].calls.saved.length", wid)
    page.evaluate("(i) => window.widgets[i].model._push('cine', 30)", wid)  # as from Python
    expect(root).to_have_attribute("data-cine", "30")
    expect(root.get_by_test_id("daw-cine-fps")).to_have_value("30")
    page.wait_for_function(
        f"(i) => window.widgets[i].calls.saved.slice({before}).length >= 6", arg=wid
    )
    page.evaluate("(i) => window.widgets[i].model._push('cine', 0)", wid)
    got = page.evaluate(
        f"(i) => window.widgets[i].calls.saved.slice({before}).map((s) => s.slice)", wid
    )
    assert got[:5] == [7, 10, 1, 4, 7], got


@pytest.mark.parametrize("width", [260, 270])
def test_at_the_narrowest_width_no_control_runs_past_the_widget(harness: Any, width: int) -> None:
    """QA: at 260-275 px (three views side by side in a 780 px output) the slice group and the
    plane group were 263-269 px wide and ran under the next view, their menus cut. Every
    control now stays within the widget's edges."""
    page = harness
    _, root = mount(page, series(ct_volume()), width=width)
    expect(root).to_have_class(re.compile("daw-narrow"))
    out = root.evaluate(
        """(r) => {
          const edge = r.getBoundingClientRect();
          return [...r.querySelectorAll('button, select, input, .daw-group')]
            .filter((e) => e.getClientRects().length > 0)
            .map((e) => [e.dataset.testid || e.className, e.getBoundingClientRect()])
            .filter(([, b]) => b.right > edge.right + 0.5 || b.left < edge.left - 0.5)
            .map(([name, b]) => `${name}: ${b.left}..${b.right}`)
            .concat(r.scrollWidth > r.clientWidth + 1 ? [`scrollWidth ${r.scrollWidth}`] : []);
        }"""
    )
    assert out == [], out


def test_in_a_narrow_view_the_corner_texts_clear_the_orientation_markers(harness: Any) -> None:
    """QA: in views under about 450 px the bottom orientation letter was drawn over the
    overlay's zoom figure ("Zoom 1 P 24x"). Narrow, the corner texts keep clear of the top and
    bottom markers."""
    page = harness
    _, root = mount(page, series(ct_volume()), width=300)
    expect(root).to_have_class(re.compile("daw-narrow"))
    pairs = [("daw-overlay", "daw-orient-bottom"), ("daw-overlay-tl", "daw-orient-top")]
    for text, marker in pairs:
        expect(root.locator(f".{text}")).to_be_visible()
        expect(root.get_by_test_id(marker)).to_be_visible()
        a = root.locator(f".{text}").bounding_box()
        b = root.get_by_test_id(marker).bounding_box()
        assert a is not None and b is not None
        apart = (
            a["y"] + a["height"] <= b["y"]
            or b["y"] + b["height"] <= a["y"]
            or a["x"] + a["width"] <= b["x"]
            or b["x"] + b["width"] <= a["x"]
        )
        assert apart, (text, a, marker, b)
