"""The viewer in a real JupyterLab, driven in Chromium."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re

import numpy as np
from playwright.sync_api import expect

from .conftest import (
    ARTIFACTS,
    SHARED_DATA,
    kernel_eventually,
    notebook,
    open_notebook,
    open_widget,
    run_probe,
)

CT_DICOM = SHARED_DATA / "ct_abdomen" / "dicom"

# The canvas' red channel (grey), base64 so 512x512 values cross cheaply.
CANVAS_GREY = """(c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const g = new Uint8Array(d.length / 4);
  for (let i = 0; i < g.length; i++) g[i] = d[4 * i];
  let s = '';
  for (let i = 0; i < g.length; i += 8192) s += String.fromCharCode(...g.subarray(i, i + 8192));
  return [c.width, c.height, btoa(s)];
}"""


def canvas_grey(canvas) -> np.ndarray:
    """The canvas' grey levels, (height, width) uint8."""
    width, height, b64 = canvas.evaluate(CANVAS_GREY)
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(height, width)


def kernel_grey(page, image: str) -> tuple[list[int], str, float]:
    """Shape, SHA-256 and spread of ``apply_window(<image>, *w.window)`` in the kernel (an
    expression over ``w`` and ``plane_image``): what the page's canvas must hold."""
    out = run_probe(
        page,
        "import hashlib, json\n"
        "from dicom_annot_widget.kernels import apply_window, plane_image\n"
        f"g = apply_window({image}, *w.window)\n"
        "print(json.dumps([list(g.shape), hashlib.sha256(g.tobytes()).hexdigest(), g.std()]))",
    )
    shape, digest, spread = json.loads(out)
    return shape, digest, float(spread)


def test_ct_middle_slice_matches_numpy(lab, page):
    """The real JPEG 2000 CT opens on its middle slice; every canvas pixel equals NumPy's
    windowing of the HU values of that slice."""
    nb = notebook(f"import dicom_annot_widget as daw\nw = daw.DicomAnnotator({str(CT_DICOM)!r})\nw")
    open_notebook(page, lab, "ct.ipynb", nb)
    canvas = page.get_by_test_id("daw-canvas")
    expect(canvas).to_have_attribute("data-slice", "10", timeout=90_000)

    shown = canvas_grey(canvas)
    height, width = shown.shape

    out = run_probe(
        page,
        "import json\n"
        "from dicom_annot_widget.kernels.windowing import apply_window\n"
        "hu = w.series.get_slice(w.slice)\n"
        "g = apply_window(hu, *w.window)\n"
        "print(json.dumps({'slice': w.slice, 'window': list(w.window), 'shape': list(g.shape),"
        " 'grey': g.tobytes().hex()}))",
    )
    expected = json.loads(out)
    assert expected["slice"] == 10
    assert expected["shape"] == [512, 512] == [height, width]
    grey = np.frombuffer(bytes.fromhex(expected["grey"]), np.uint8).reshape(512, 512)
    diff = np.abs(shown.astype(int) - grey.astype(int))
    assert diff.max() == 0, f"{(diff > 0).sum()} pixels differ, max by {diff.max()}"
    # The image is not trivially flat: a real CT slice spans dark air and bright bone.
    assert shown.min() == 0 and shown.max() == 255 and len(np.unique(shown)) > 100
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("daw-root").screenshot(path=str(ARTIFACTS / "ct-middle-slice.png"))


def test_a_series_of_large_slices_arrives_completely(lab, page, tmp_path):
    """Slices of 1600 x 1600 (5 MB): the kernel keeps at most 6 of them unacknowledged, so
    the page must acknowledge at least that often, or loading stops part way (it stopped
    after 7 of 12 when the page acknowledged every 8 slices whatever their size)."""
    from dicom_annot_widget import write_phantom_series

    folder = tmp_path / "large"
    write_phantom_series(folder, n_slices=12, rows=1600, columns=1600)
    nb = notebook(f"import dicom_annot_widget as daw\nw = daw.DicomAnnotator({str(folder)!r})\nw")
    root = open_widget(page, lab, "large.ipynb", nb)
    expect(root).to_have_attribute("data-loaded", "12", timeout=60_000)
    # the last slice to arrive is drawn correctly when shown: the canvas follows w.slice
    run_probe(page, "w.slice = 11\nprint('ok')")
    canvas = page.get_by_test_id("daw-canvas")
    expect(canvas).to_have_attribute("data-slice", "11")
    # each 5 MB slice came in two bands of rows (every message below 4 MB): put back whole,
    # every pixel is NumPy's windowing of the slice
    shown = canvas_grey(canvas)
    part_bytes = run_probe(
        page, "from dicom_annot_widget.widget import streaming\nprint(streaming.PART_BYTES)"
    )
    assert int(part_bytes) < 1600 * 1600 * 2  # the slices did go in bands
    shape, digest, spread = kernel_grey(page, "w.series.get_slice(11)")
    assert shown.shape == (1600, 1600) == tuple(shape) and spread > 1  # not a flat image
    assert hashlib.sha256(shown.tobytes()).hexdigest() == digest


def test_a_coronal_reformat_of_the_real_ct_matches_numpy(lab, page):
    """In JupyterLab: `w.plane = "coronal"` shows the reformat of the real JPEG 2000 CT at the
    crosshair's row, every pixel NumPy's (`kernels.plane_image` windowed); the page's sagittal
    button and a MIP slab reach Python."""
    nb = notebook(f"import dicom_annot_widget as daw\nw = daw.DicomAnnotator({str(CT_DICOM)!r})\nw")
    root = open_widget(page, lab, "coronal.ipynb", nb)
    expect(root).to_have_attribute("data-loaded", "20", timeout=90_000)
    run_probe(page, "w.crosshair = (256, 300, 10)\nw.plane = 'coronal'\nprint('ok')")
    canvas = page.get_by_test_id("daw-canvas")
    expect(canvas).to_have_attribute("data-plane", "coronal")
    expect(canvas).to_have_attribute("data-slice", "300")
    shown = canvas_grey(canvas)
    shape, digest, spread = kernel_grey(page, "plane_image(w.series.array, 'coronal', 300)")
    assert shown.shape == (20, 512) == tuple(shape) and spread > 1
    assert hashlib.sha256(shown.tobytes()).hexdigest() == digest
    # an area measured on the reformat: its mm² and mean HU in the page are Python's
    run_probe(
        page,
        "w.labels.add_measurement('area', 300, [(200, 3), (320, 3), (320, 15), (200, 15)],"
        " plane='coronal')\nprint('ok')",
    )
    labels = page.get_by_test_id("daw-labels")
    expect(labels).to_have_attribute("data-measure-text", re.compile(r"mean"), timeout=30_000)
    text = labels.get_attribute("data-measure-text") or ""
    row = json.loads(
        run_probe(
            page,
            "r = w.labels.measurements_to_records()[0]\n"
            "print(json.dumps([r['area_mm2'], r['mean'], r['std'], r['pixels']]))",
        )
    )
    area_mm2, mean, std, pixels = row
    assert pixels == 120 * 12  # pixel centres inside: columns 200..319, slices 3..14
    shown = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))]
    assert any(abs(v - area_mm2) <= 0.5 for v in shown), (text, area_mm2)
    assert any(abs(v - mean) <= 0.05 for v in shown) and any(abs(v - std) <= 0.05 for v in shown), (
        text,
        mean,
        std,
    )
    # the page's controls reach Python: the sagittal plane at the crosshair, a 10 mm slab
    root.get_by_test_id("daw-plane-sagittal").click()
    assert kernel_eventually(page, "print(w.plane, w.slice)", "sagittal 256") == "sagittal 256"
    root.get_by_test_id("daw-slab").select_option(label="MIP 9.8 mm")  # 10 columns of 0.977 mm
    assert kernel_eventually(page, "print(w.slab)", "10") == "10"
    expect(canvas).to_have_attribute("data-slab", "10")
    shown = canvas_grey(canvas)
    _, digest, _ = kernel_grey(page, "plane_image(w.series.array, 'sagittal', w.slice, w.slab)")
    assert hashlib.sha256(shown.tobytes()).hexdigest() == digest
    link = run_probe(page, "print(w.view_link)").strip()
    assert (
        run_probe(page, f"w.plane = 'axial'\nw.goto({link!r})\nprint(w.plane, w.slab)").strip()
        == "sagittal 10"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(ARTIFACTS / "ct-sagittal-mip.png"))


def test_cine_set_from_python_plays_in_the_page_and_python_sees_the_slices(lab, page):
    """``w.cine = 20`` from Python plays the real CT in the page; the slices it shows come
    back to Python (``w.slice``, observed), looping; ``w.cine = 0`` stops it."""
    nb = notebook(
        "import dicom_annot_widget as daw\n"
        f"w = daw.DicomAnnotator({str(CT_DICOM)!r})\n"
        "seen = []\n"
        "w.observe(lambda change: seen.append(change['new']), names='slice')\n"
        "w"
    )
    open_notebook(page, lab, "cine.ipynb", nb)
    root = page.get_by_test_id("daw-root")
    expect(root).to_have_attribute("data-loaded", "20", timeout=90_000)
    run_probe(page, "w.cine = 20\nprint('playing')")
    expect(root).to_have_attribute("data-cine", "20")
    expect(root.get_by_test_id("daw-cine")).to_have_attribute("aria-pressed", "true")
    out = kernel_eventually(page, "print(len(set(seen)) == 20 and 0 in seen)", "True", timeout=30)
    assert out == "True", out
    run_probe(page, "w.cine = 0\nprint('stopped')")
    expect(root).to_have_attribute("data-cine", "0")
    steps = json.loads(run_probe(page, "import json\nprint(json.dumps(seen))"))
    # each slice follows the last one, and after the last comes the first. (The page shows
    # every slice; ipywidgets merges the page's updates while the kernel is busy with the
    # last one, so on a loaded machine Python may see a step of two or three.)
    bad = [
        (i, a, b)
        for i, (a, b) in enumerate(itertools.pairwise(steps))
        if not 1 <= (b - a) % 20 <= 3
    ]
    assert not bad, (bad, len(steps))
    assert sum((b - a) % 20 == 1 for a, b in itertools.pairwise(steps)) >= len(steps) // 2, steps
    first = run_probe(page, "print(w.slice)").strip()
    page.wait_for_timeout(500)
    assert run_probe(page, "print(w.slice)").strip() == first
