"""Time the viewer in real Chromium inside JupyterLab, with ipyniivue as the baseline.

Prints JSON. The series is the synthetic CT phantom (``write_phantom_series``), 300 slices of
512 x 512 int16 by default (157 MB), written once into a cache folder, or with ``--series
tiled`` the real CT of ``../shared/data/ct_abdomen/dicom`` tiled to ``--slices`` uncompressed
slices (``_series.tiled_series``, as in ``load.py``); the baseline shows the same volume saved
as NIfTI. Chromium is driven through the raw DevTools protocol (no network
monitoring, which would copy every websocket frame), so the figures are those of a user's tab.

Measured for each run, from the moment the cell that creates the widget is executed (the
package is imported in an earlier cell, as in a real session):

- ``first_paint_s``: until the canvas shows the first slice;
- ``full_volume_s``: until every slice has arrived in the page;
- ``page_heap_mb``: JavaScript heap + array buffers of the page after loading, minus before;
- ``scroll_ms``: one ArrowRight/Left key: its handler plus the frame it schedules (windowing,
  drawing, controls), median and p95;
- ``window_drag_ms``: the same for one pointer move of a right-button window drag;
- ``coronal_scroll_ms`` and ``coronal_mip_20mm_scroll_ms``: ``scroll_ms`` on the coronal
  reformat (each step gathers one row of every slice), plain and as a 20 mm MIP slab.

A reference for the first paint, ``first_paint_floor``: reading every file's header with
pydicom (``dcmread(stop_before_pixels=True)``, nothing else), plus the floor's first message
below: what a viewer takes that reads the headers, then shows its widget and asks for the
middle slice. Ours overlaps the two (its comm opens before the header pass, and the slice it
opens on goes with its first state, unasked), so it can come in below that sum. The run fails
if the first slice painted is not the middle one.

A second reference, ``transport_floor``: a bare anywidget receives and keeps the same bytes in
the same messages (first slice alone, then ``BATCH_BYTES`` batches) with no flow control,
decoding or drawing; the viewer's ``full_volume_s`` cannot go below the floor's.

Runs of ours and of the floor alternate. Each also reports the CPU seconds the kernel, the
Jupyter server, the page (Chromium's renderer) and the rest of the browser used from running the
cell until the whole volume had arrived (``cpu_kernel_s`` ..., ``cpu_total_s``; Linux ``/proc``,
see ``_cpu.py``): on two cores they compete, so a second spent in any of them is wall time.
Ours' kernel figure includes the start of the kernel's own copy of the volume being filled,
which begins once the page has acknowledged the last slice (the reading is taken just after).

Usage: ``python benchmarks/viewer.py [--series phantom|tiled] [--slices 300] [--size 512]
[--repeat 3] [--no-baseline] [--no-floor]`` (``--size`` is the phantom's)
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._cdp import Chromium  # noqa: E402
from benchmarks._cpu import cpu_by_role, cpu_delta  # noqa: E402
from benchmarks._series import tiled_series  # noqa: E402
from tests.e2e._lab import Lab, running_lab  # noqa: E402
from tests.e2e.conftest import notebook, shutdown_kernels  # noqa: E402

KERNEL_IDLE = (
    "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
)

RUN_CELL = """(async (i) => {
  const app = window.jupyterapp;
  const nb = app.shell.currentWidget.content;
  nb.activeCellIndex = i;
  window.__t0 = performance.now();
  await app.commands.execute('notebook:run-cell');
  return true;
})(%d)"""

WATCH = """(() => {
  window.__marks = {};
  const n = %d;
  const obs = new MutationObserver(() => {
    const c = document.querySelector('[data-testid="daw-canvas"][data-slice]');
    if (c && !window.__marks.first) {
      window.__marks.first = performance.now();
      window.__marks.firstSlice = Number(c.dataset.slice);
    }
    const r = document.querySelector('[data-testid="daw-root"]');
    if (r && !window.__marks.root) window.__marks.root = performance.now();
    if (r && Number(r.dataset.loaded) === n && !window.__marks.full) {
      window.__marks.full = performance.now();
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ['data-slice', 'data-loaded']});
  return true;
})()"""

# One step = the key handler (model update, message to the kernel) plus the frame it
# schedules (windowing the new slice, drawing it, updating the controls).
FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
SCROLL = """(async (n) => {
  const root = document.querySelector('[data-testid="daw-root"]');
  root.focus();
  const times = [];
  for (let i = 0; i < n; i++) {
    const key = i < n / 2 ? 'ArrowRight' : 'ArrowLeft';
    const t = performance.now();
    root.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true}));
    const handler = performance.now() - t;
    await __FRAME__;
    times.push(handler + Number(root.dataset.frameMs));
  }
  return times;
})"""

# Window drag: pointer events in drag mode on the viewport, each move re-windows the slice.
DRAG = """(async (n) => {
  const root = document.querySelector('[data-testid="daw-root"]');
  const vp = root.querySelector('.daw-viewport');
  const r = vp.getBoundingClientRect();
  const x0 = r.left + r.width / 2, y0 = r.top + r.height / 2;
  const opts = (x, y, buttons) => ({clientX: x, clientY: y, button: 2, buttons, pointerId: 7,
                                    bubbles: true, cancelable: true});
  vp.dispatchEvent(new PointerEvent('pointerdown', opts(x0, y0, 2)));
  const times = [];
  for (let i = 1; i <= n; i++) {
    const t = performance.now();
    vp.dispatchEvent(new PointerEvent('pointermove', opts(x0 + i, y0 + (i % 7), 2)));
    const handler = performance.now() - t;
    await __FRAME__;
    times.push(handler + Number(root.dataset.frameMs));
  }
  vp.dispatchEvent(new PointerEvent('pointerup', opts(x0 + n, y0, 0)));
  return times;
})"""

# Show another plane (Alt+<code>), optionally with a MIP slab chosen by its menu label; resolves
# once the image canvas shows it.
PLANE = """(async ([code, slab]) => {
  const root = document.querySelector('[data-testid="daw-root"]');
  root.focus();
  root.dispatchEvent(new KeyboardEvent('keydown', {key: code.slice(3).toLowerCase(), code,
                                                   altKey: true, bubbles: true, cancelable: true}));
  if (slab) {
    const select = root.querySelector('[data-testid="daw-slab"]');
    const option = [...select.options].find((o) => o.text === slab);
    select.value = option.value;
    select.dispatchEvent(new Event('change', {bubbles: true}));
  }
  for (let i = 0; i < 100; i++) {
    await __FRAME__;
    const c = root.querySelector('canvas.daw-image').dataset;
    if (c.plane !== 'axial' && (!slab || c.slab !== '1')) return [c.plane, c.slab];
  }
  throw new Error('the plane was not shown');
})"""

# The image canvas records the window it was last rendered with: a drag that did not change
# it measured nothing (as synthetic pointer events once did, when pointer capture threw).
WINDOW_SHOWN = (
    "document.querySelector('[data-testid=\"daw-root\"] canvas.daw-image').dataset.window"
)


def heap_mb(cdp: Chromium) -> float:
    cdp.call("HeapProfiler.collectGarbage")
    usage = cdp.call("Runtime.getHeapUsage")
    used = usage.get("usedSize", 0) + usage.get("backingStorageSize", 0)
    return float(used) / 1e6


def server_marker(lab: Lab) -> str:
    """What only the Jupyter server's command line holds (for ``cpu_by_role``)."""
    return f"--ServerApp.port={urlparse(lab.url).port}"


def open_and_wait(cdp: Chromium, lab: Lab, name: str, nb: dict[str, Any]) -> None:
    """Open `nb` alone (a workspace of its own, no other kernel running) and run its first
    cell."""
    shutdown_kernels(lab)
    (lab.root / name).write_text(json.dumps(nb))
    workspace = name.removesuffix(".ipynb")
    cdp.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{name}?token={lab.token}")
    cdp.wait_for(KERNEL_IDLE, timeout=120, interval=0.1)
    cdp.evaluate(RUN_CELL % 0)
    cdp.wait_for(KERNEL_IDLE, timeout=120, interval=0.05)


def run_ours(cdp: Chromium, lab: Lab, folder: Path, n: int, i: int) -> dict[str, float]:
    nb = notebook(
        "import dicom_annot_widget as daw",
        f"w = daw.DicomAnnotator({str(folder)!r})\nw",
    )
    open_and_wait(cdp, lab, f"ours{i}.ipynb", nb)
    before = heap_mb(cdp)
    cdp.evaluate(WATCH % n)
    cpu0 = cpu_by_role(cdp.proc.pid, server_marker(lab))
    cdp.evaluate(RUN_CELL % 1)
    try:
        cdp.wait_for("window.__marks.full", timeout=120, interval=0.01)
        cpu1 = cpu_by_role(cdp.proc.pid, server_marker(lab))
    except TimeoutError:
        state = cdp.evaluate(
            "JSON.stringify([window.__marks, document.querySelector('[data-testid=\"daw-root\"]')"
            "?.dataset, [...document.querySelectorAll('.jp-OutputArea-output')]"
            ".map(e => e.innerText.slice(0, 500))])"
        )
        raise TimeoutError(f"the volume did not arrive: {state}") from None
    marks = cdp.evaluate(
        "[window.__t0, window.__marks.first, window.__marks.full, window.__marks.root,"
        " window.__marks.firstSlice]"
    )
    if marks[4] != n // 2:
        raise RuntimeError(f"the first slice painted was {marks[4]}, not the middle one {n // 2}")
    after = heap_mb(cdp)
    scroll = cdp.evaluate(f"{SCROLL.replace('__FRAME__', FRAME)}(100)")
    before_drag = cdp.evaluate(WINDOW_SHOWN)
    drag = cdp.evaluate(f"{DRAG.replace('__FRAME__', FRAME)}(100)")
    if cdp.evaluate(WINDOW_SHOWN) == before_drag:
        raise RuntimeError(f"the window drag did not change the window ({before_drag})")
    # reformats: a coronal scroll (each step gathers a row of every slice), then a 20 mm MIP
    plane = PLANE.replace("__FRAME__", FRAME)
    cdp.evaluate(f"{plane}(['KeyC', ''])")
    coronal = cdp.evaluate(f"{SCROLL.replace('__FRAME__', FRAME)}(100)")
    cdp.evaluate(f"{plane}(['KeyC', 'MIP 20 mm'])")
    mip = cdp.evaluate(f"{SCROLL.replace('__FRAME__', FRAME)}(100)")
    return {
        "first_paint_s": (marks[1] - marks[0]) / 1000,
        "widget_shown_s": (marks[3] - marks[0]) / 1000,
        "full_volume_s": (marks[2] - marks[0]) / 1000,
        "page_heap_mb": after - before,
        "scroll_ms_median": statistics.median(scroll),
        "scroll_ms_p95": float(np.percentile(scroll, 95)),
        "window_drag_ms_median": statistics.median(drag),
        "window_drag_ms_p95": float(np.percentile(drag, 95)),
        "coronal_scroll_ms_median": statistics.median(coronal),
        "coronal_scroll_ms_p95": float(np.percentile(coronal, 95)),
        "coronal_mip_20mm_scroll_ms_median": statistics.median(mip),
        "coronal_mip_20mm_scroll_ms_p95": float(np.percentile(mip, 95)),
        **cpu_delta(cpu0, cpu1),
    }


# The transport floor: a bare anywidget that only keeps what arrives (as the viewer keeps each
# slice's buffer), sent the same bytes in the same messages as the viewer (one slice, then
# BATCH_BYTES batches), with no flow control, no decoding and no drawing: what no viewer built
# on comm messages can beat here. (Keeping the 157 MB costs the page about 0.05-0.1 s more than
# dropping each buffer, measured on the 2-core machine: garbage collection under external
# memory pressure.)
FLOOR_ESM = """
export default { render({ model, el }) {
  let bytes = 0;
  const kept = [];  // a viewer keeps what it receives: so does the floor
  window.__floorKept = kept;
  const onMsg = (msg, buffers) => {
    if (!window.__floor.first) window.__floor.first = performance.now();
    for (const b of buffers) { kept.push(b); bytes += b.byteLength; }
    if (msg.last) { window.__floor.full = performance.now(); window.__floor.bytes = bytes; }
  };
  model.on('msg:custom', onMsg);
  model.send({go: 1});
  return () => model.off('msg:custom', onMsg);
} };
"""

FLOOR_SETUP = """
import threading
import anywidget, numpy as np
from dicom_annot_widget.widget.streaming import BATCH_BYTES

class Floor(anywidget.AnyWidget):
    _esm = __ESM__

    def __init__(self, data, slice_bytes):
        super().__init__()
        self._data, self._slice = data, slice_bytes
        self.on_msg(self._go)

    def _go(self, _w, content, _b):
        if content.get('go'):
            threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        per = max(1, BATCH_BYTES // self._slice) * self._slice
        pos, first = 0, True
        while pos < len(self._data):
            n = self._slice if first else min(per, len(self._data) - pos)
            first = False
            last = pos + n >= len(self._data)
            self.send({'last': last}, buffers=[memoryview(self._data[pos:pos + n])])
            pos += n

DATA = np.random.default_rng(0).integers(0, 4096, __N__, dtype=np.uint16).view(np.uint8)
"""


def run_floor(cdp: Chromium, lab: Lab, n_values: int, slice_bytes: int, i: int) -> dict[str, float]:
    """The transport floor for the same bytes (see ``FLOOR_SETUP``)."""
    setup = FLOOR_SETUP.replace("__ESM__", repr(FLOOR_ESM)).replace("__N__", str(n_values))
    nb = notebook(setup, f"f = Floor(DATA, {slice_bytes})\nf")
    open_and_wait(cdp, lab, f"floor{i}.ipynb", nb)
    cdp.evaluate("window.__floor = {}; true")
    cpu0 = cpu_by_role(cdp.proc.pid, server_marker(lab))
    cdp.evaluate(RUN_CELL % 1)
    cdp.wait_for("window.__floor.full", timeout=120, interval=0.01)
    cpu1 = cpu_by_role(cdp.proc.pid, server_marker(lab))
    t0, first, full, nbytes = cdp.evaluate(
        "[window.__t0, window.__floor.first, window.__floor.full, window.__floor.bytes]"
    )
    if nbytes != 2 * n_values:
        raise RuntimeError(f"the floor widget received {nbytes} bytes of {2 * n_values}")
    return {
        "first_message_s": (first - t0) / 1000,
        "full_volume_s": (full - t0) / 1000,
        "transfer_s": (full - first) / 1000,
        **cpu_delta(cpu0, cpu1),
    }


def canvas_painted(cdp: Chromium) -> bool:
    """True once the niivue canvas shows more than a few non-black pixels."""
    from skimage import io as skio

    rect = cdp.evaluate(
        "(() => { const c = document.querySelector('.jp-OutputArea-output canvas');"
        " if (!c) return null; const r = c.getBoundingClientRect();"
        " return r.width > 10 ? [r.x, r.y, r.width, r.height] : null; })()"
    )
    if not rect:
        return False
    shot = cdp.call(
        "Page.captureScreenshot",
        format="png",
        clip={"x": rect[0], "y": rect[1], "width": rect[2], "height": rect[3], "scale": 1},
    )
    img = skio.imread(io.BytesIO(base64.b64decode(shot["data"])))
    grey = np.asarray(img)[..., :3].max(axis=-1)
    return bool((grey > 40).mean() > 0.05)


def run_ipyniivue(cdp: Chromium, lab: Lab, nifti: Path, i: int) -> dict[str, float]:
    nb = notebook(
        "from ipyniivue import NiiVue",
        f"nv = NiiVue()\nnv.load_volumes([{{'path': {str(nifti)!r}}}])\nnv",
    )
    open_and_wait(cdp, lab, f"niivue{i}.ipynb", nb)
    before = heap_mb(cdp)
    cdp.evaluate(RUN_CELL % 1)
    t0 = time.monotonic()
    while not canvas_painted(cdp):
        if time.monotonic() - t0 > 300:
            raise TimeoutError("ipyniivue never painted")
        time.sleep(0.05)
    painted = time.monotonic() - t0
    return {
        "first_paint_s": painted,
        "full_volume_s": painted,
        "page_heap_mb": heap_mb(cdp) - before,
    }


def header_pass_s(folder: Path, repeat: int) -> float:
    """Median time (s) of the least any pydicom-based viewer must do before it knows which
    slice is the middle one: ``dcmread(stop_before_pixels=True)`` of every file (warm cache,
    collector paused), without sorting, grouping or anything else."""
    from pydicom import dcmread

    paths = sorted(p for p in folder.iterdir() if p.is_file())
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        for p in paths:
            dcmread(p, stop_before_pixels=True)
        times.append(time.perf_counter() - t0)
        gc.enable()
    return statistics.median(times)


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    keys = runs[0].keys()
    return {
        k: {
            "median": round(statistics.median(r[k] for r in runs), 4),
            "min": round(min(r[k] for r in runs), 4),
        }
        for k in keys
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", choices=["phantom", "tiled"], default="phantom")
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from dicom_annot_widget import open_series, write_phantom_series

    if args.series == "tiled":
        folder, _ = tiled_series(ROOT.parent / "shared/data/ct_abdomen/dicom", args.slices)
        what = f"real CT (ct_abdomen) tiled to {args.slices} slices ({folder})"
        nifti = folder.parent / "volume.nii.gz"  # beside the series folder, not in it
    else:
        cache = Path(tempfile.gettempdir()) / f"daw-bench-phantom-{args.slices}x{args.size}"
        if not (cache / "done").exists():
            cache.mkdir(parents=True, exist_ok=True)
            write_phantom_series(
                cache / "dicom",
                overwrite=True,
                n_slices=args.slices,
                rows=args.size,
                columns=args.size,
            )
            (cache / "done").write_text("ok")
        folder = cache / "dicom"
        what = "synthetic CT phantom"
        nifti = cache / "phantom.nii.gz"
    series = open_series(folder)
    raw_mb = series.array.nbytes / 1e6
    n_slices, rows, columns = series.shape
    if not args.no_baseline and not nifti.exists():
        import nibabel as nib

        ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ series.affine
        vol = np.transpose(series.array, (2, 1, 0))  # (column, row, slice) = (i, j, k)
        nib.save(nib.Nifti1Image(vol.astype(np.int16), ras), nifti)

    result: dict[str, Any] = {
        "benchmark": "viewer",
        "series": f"{what}, {n_slices} x {rows} x {columns} {series.stored_dtype}, "
        f"{raw_mb:.0f} MB raw",
        "repeat": args.repeat,
        "targets": {
            "first_paint_s": 0.3,
            "full_volume_s": 1.0,
            "scroll_ms_median": 4.0,
            "window_drag_ms_median": 4.0,
            "page_heap_ratio": 1.2,
        },
    }
    with (
        tempfile.TemporaryDirectory(prefix="daw-bench-lab-") as tmp,
        running_lab(Path(tmp)) as lab,
    ):
        cdp = Chromium(args.chromium)
        try:
            # ours and the floor alternate, so that the machine's other load falls on both
            ours: list[dict[str, float]] = []
            floor: list[dict[str, float]] = []
            for i in range(args.repeat):
                ours.append(run_ours(cdp, lab, folder, n_slices, i))
                if not args.no_floor:
                    n_values = int(np.prod(series.shape))
                    floor.append(run_floor(cdp, lab, n_values, series.array[0].nbytes, i))
            result["ours"] = summarise(ours)
            result["ours"]["page_heap_ratio"] = round(
                statistics.median(r["page_heap_mb"] for r in ours) / raw_mb, 3
            )
            if not args.no_floor:
                result["transport_floor"] = summarise(floor)
                # each run of ours against the floor's run next to it (the same load on both)
                pairs = zip(ours, floor, strict=True)
                result["full_volume_over_floor"] = round(
                    statistics.median(o["full_volume_s"] / f["full_volume_s"] for o, f in pairs), 3
                )
                # A floor for the first paint: parsing every header (pydicom alone) plus a bare
                # widget's first message, both measured in this run.
                header = header_pass_s(folder, max(3, args.repeat))
                result["first_paint_floor"] = {
                    "pydicom_header_pass_s": round(header, 4),
                    "bare_widget_first_message_s": result["transport_floor"]["first_message_s"][
                        "median"
                    ],
                    "sum_s": round(
                        header + result["transport_floor"]["first_message_s"]["median"], 4
                    ),
                }
            if not args.no_baseline:
                try:
                    import ipyniivue  # noqa: F401
                except ImportError:
                    result["ipyniivue"] = "not installed (pip install ipyniivue)"
                else:
                    base = [run_ipyniivue(cdp, lab, nifti, i) for i in range(args.repeat)]
                    result["ipyniivue"] = summarise(base)
                    result["ratio_first_paint"] = round(
                        result["ours"]["first_paint_s"]["median"]
                        / result["ipyniivue"]["first_paint_s"]["median"],
                        4,
                    )
        finally:
            cdp.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
