"""Does a lossless slice codec beat the transport floor end to end? Prints JSON.

A bare anywidget (like ``transport_floor`` in ``viewer.py``) is sent a whole volume in the
viewer's message sizes (the first slice alone, then ``BATCH_BYTES`` worth of slices a message,
one buffer per slice, no flow control), and the page stores every slice into one
``Int16Array`` of the whole volume, in each of these modes:

- ``raw``: the stored values as they are; the page copies them into the volume (what the
  viewer does today);
- ``lz4``: byte planes (low bytes, then high bytes) + one LZ4 block per slice, encoded by the
  sending thread in the kernel; decoded on the page's main thread by ``benchmarks/page/codec.ts``;
- ``lz4_batch``: as ``lz4``, but a message carries ``BATCH_BYTES`` of encoded slices (about
  twice as many slices), i.e. half as many messages;
- ``lz4_nodecode``: as ``lz4``, but the page does not decode (nor check) anything: the
  transport of the smaller volume alone;
- ``lz4js``: the same bytes, decoded by the npm package ``lz4js`` (``decompressBlock``) and
  the same un-shuffle;
- ``zstd``: byte planes + zstd level 1 (``zstandard``), decoded by the npm package ``fzstd``;
- ``lz4_worker``: as ``lz4``, decoded in a Web Worker (blob URL) that sends each decoded
  slice back; the main thread copies it into the volume.
- ``pack12``: a slice whose values span fewer than 4096 (most CT) as 12 bits a value (two
  values in three bytes, minus the slice's minimum), packed with NumPy in the sending thread,
  unpacked on the page's main thread; ``pack12_nodecode``: the same bytes, not unpacked.

The browser's own ``DecompressionStream`` is not a mode: Chromium offers only gzip / deflate /
deflate-raw (checked in the page, ``decompression_stream_formats`` in the JSON), and zlib
level 1 in the kernel runs at about 55 MB/s on this machine (``kernel_deflate1_mb_s``), i.e.
about 3 s of kernel time for 157 MB, three times the whole budget.

Timed, per run, in the page: from the moment the page asks for the volume (one message to the
kernel) until the last slice is stored (``full_volume_s``); the kernel's encoding time
(``kernel_encode_s``, summed in the sending thread) and the page's decode + store time
(``page_store_s``, summed on the main thread) are reported beside it. Every run is checked:
the page's volume must hash (a position-weighted sum of its 32-bit words, mod 2**32) to the
kernel's. The volume is zeroed before each run (so a run that stored nothing fails the check).
Beside them: ``kernel_send_s`` (kernel clock, from the request to the last message handed to
the kernel's socket), ``arrival_after_last_send_s`` (from then until the last message reached
the page: the server and the browser; both clocks are epoch time on one machine), and for
``lz4`` ``page_decode_only_s``, the same slices decoded again in the page with no transport.

One page and one kernel per series; rounds alternate the order of the modes; medians of
``--repeat`` rounds, and each mode's ratio to ``raw`` (median over median, same run).

Series: ``tiled``, the 300-slice series ``_series.tiled_series`` builds from the real CT in
``../shared/data/ct_abdomen/dicom`` (the main case), and ``phantom``, the synthetic phantom of
``viewer.py`` (300 x 512 x 512).

Usage: ``python benchmarks/transport.py [--series tiled phantom] [--repeat 5]
[--modes raw lz4 ...]``

Result on the 2-core machine (see benchmarks/README.md): no codec wins clearly. LZ4 halves the
bytes (ratio 2.22 on the real CT, 1.90 on the phantom), but its encoding in the kernel and its
decoding in the page cost about what the smaller transport saves: ``lz4`` vs ``raw`` medians
0.92-1.55 on the real series across five runs, while ``lz4_nodecode`` (no decoding at all)
reached 0.59-0.75 (the phantom, whose slices decode twice as fast, gains: 0.74-0.92). The
12-bit packing (session 12, ``--series tiled --modes raw pack12 pack12_nodecode --repeat 6``)
does not win either: raw 0.541 s, ``pack12`` 0.559 s (1.03 x), ``pack12_nodecode`` 0.485 s
(0.90 x): a quarter fewer bytes saves about 0.06 s of transport, and unpacking 300 slices on
the page costs 0.14 s (kernel packing 0.17 s, in the sending thread). The
viewer keeps sending raw slices; ``benchmarks/page/codec.ts`` is the tested decoder for the day this
changes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._cdp import Chromium  # noqa: E402
from benchmarks._series import tiled_series  # noqa: E402
from benchmarks.viewer import RUN_CELL, open_and_wait  # noqa: E402
from tests.e2e._lab import Lab, running_lab  # noqa: E402
from tests.e2e.conftest import notebook  # noqa: E402

MODES = [
    "raw",
    "lz4",
    "lz4_batch",
    "lz4js",
    "zstd",
    "lz4_worker",
    "lz4_nodecode",
    "pack12",
    "pack12_nodecode",
]
DEFAULT_MODES = ["raw", "lz4", "lz4_nodecode", "lz4js", "zstd", "lz4_worker"]

# The worker: decodes the slices of one message, sends each back (transferred).
WORKER_JS = """
import { decodeSlice, Scratch } from "./benchmarks/page/codec.ts";
const scratch = new Scratch();
self.onmessage = (e) => {
  const { arrays, items } = e.data;
  const out = [];
  const t = performance.now();
  for (const it of items) {
    const slice = new Uint8Array(it.n);
    decodeSlice("lz4-shuffle", new Uint8Array(arrays[it.a], it.off, it.len), 2, slice, scratch);
    out.push({ k: it.k, buf: slice.buffer });
  }
  self.postMessage({ out, ms: performance.now() - t }, out.map((o) => o.buf));
};
"""

PAGE_JS = """
import { decodeSlice, decodeLz4Block, unshuffle, Scratch } from "./benchmarks/page/codec.ts";
import { decompressBlock } from "lz4js";
import { decompress as zstdDecompress } from "fzstd";

const WORKER_SRC = __WORKER_SRC__;

function hash(vol) {
  const u32 = new Uint32Array(vol.buffer, vol.byteOffset, vol.byteLength >>> 2);
  let h = 0;
  for (let i = 0; i < u32.length; i++) h = (h + Math.imul(u32[i], Math.imul(i, 0x9e3779b1))) >>> 0;
  return h;
}

export default { render({ model, el }) {
  const [S, R, C] = model.get("shape");
  const sliceBytes = R * C * 2;
  const vol = new Int16Array(S * R * C);
  const bytes = new Uint8Array(vol.buffer);
  const scratch = new Scratch();
  let st = null;
  let worker = null;
  const stored = (k) => {
    st.stored += 1;
    if (st.stored === S) {
      st.full = performance.now();
      st.hash = st.mode.endsWith("_nodecode") ? "not decoded" : hash(vol);
    }
  };
  const onWorker = (e) => {
    const t = performance.now();
    for (const { k, buf } of e.data.out) {
      bytes.set(new Uint8Array(buf), k * sliceBytes);
      stored(k);
    }
    st.storeMs += performance.now() - t;
    st.workerMs += e.data.ms;
  };
  const onMsg = (msg, buffers) => {
    if (!st || msg.run !== st.run) return;
    if (!st.first) st.first = performance.now();
    if (msg.encode_s !== undefined) {
      st.encodeS = msg.encode_s;
      st.kernelStart = msg.kernel_start;
      st.kernelLastSend = msg.kernel_last_send;
      st.lastArrival = performance.timeOrigin + performance.now();
    }
    const t = performance.now();
    if (st.mode === "lz4") {
      for (const b of buffers) st.keep.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
    if (st.mode === "lz4_worker") {
      // the ArrayBuffers behind the views are transferred (each once), not copied
      const arrays = [];
      const items = msg.items.map((it, i) => {
        const b = buffers[i];
        st.wire += b.byteLength;
        let a = arrays.indexOf(b.buffer);
        if (a < 0) a = arrays.push(b.buffer) - 1;
        return { k: it.k, n: it.n, a, off: b.byteOffset, len: b.byteLength };
      });
      worker.postMessage({ arrays, items }, arrays);
      st.storeMs += performance.now() - t;
      return;
    }
    msg.items.forEach((it, i) => {
      const b = buffers[i];
      st.wire += b.byteLength;
      const src = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      const out = bytes.subarray(it.k * sliceBytes, (it.k + 1) * sliceBytes);
      if (st.mode === "lz4_nodecode" || st.mode === "pack12_nodecode") { /* transport only */ }
      else if (st.mode === "pack12") {
        const o = new Int16Array(vol.buffer, it.k * sliceBytes, R * C);
        const lo = it.lo;
        for (let i = 0, j = 0; i < o.length; i += 2, j += 3) {
          const b1 = src[j + 1];
          o[i] = (src[j] | ((b1 & 15) << 8)) + lo;
          o[i + 1] = ((b1 >> 4) | (src[j + 2] << 4)) + lo;
        }
      }
      else if (st.mode === "raw") out.set(src);
      else if (st.mode === "lz4" || st.mode === "lz4_batch") {
        decodeSlice("lz4-shuffle", src, 2, out, scratch);
      }
      else if (st.mode === "lz4js") {
        const planes = scratch.get(sliceBytes);
        const end = decompressBlock(src, planes, 0, src.length, 0);
        if (end !== sliceBytes) throw new Error("lz4js: " + end + " bytes");
        unshuffle(planes, 2, out);
      } else if (st.mode === "zstd") {
        // fzstd into a given buffer ran at 8-9 MB/s in Node, allocating at about 70 MB/s
        const planes = zstdDecompress(src);
        if (planes.length !== sliceBytes) throw new Error("fzstd: " + planes.length + " bytes");
        unshuffle(planes, 2, out);
      }
      stored(it.k);
    });
    st.storeMs += performance.now() - t;
  };
  model.on("msg:custom", onMsg);
  let runs = 0;
  // decode the last lz4 run's slices again, without any transport: the page's decode speed
  window.__redecode = () => {
    const t = performance.now();
    const out = bytes.subarray(0, sliceBytes);
    for (const src of st.keep) decodeSlice("lz4-shuffle", src, 2, out, scratch);
    const ms = performance.now() - t;
    st.keep = [];
    return ms;
  };
  window.__go = (mode) => {
    vol.fill(0);
    if (mode === "lz4_worker" && !worker) {
      const url = URL.createObjectURL(new Blob([WORKER_SRC], { type: "text/javascript" }));
      worker = new Worker(url);
      URL.revokeObjectURL(url);
      worker.onmessage = onWorker;
    }
    runs += 1;
    st = { mode, run: runs, t0: performance.now(), first: 0, full: 0, stored: 0, wire: 0,
           storeMs: 0, workerMs: 0, encodeS: null, hash: null,
           t0Epoch: performance.timeOrigin + performance.now(), keep: [] };
    window.__run = st;
    model.send({ go: mode, run: runs });
    return true;
  };
  window.__formats = ["gzip", "deflate", "deflate-raw", "brotli", "zstd"].filter((f) => {
    try { new DecompressionStream(f); return true; } catch { return false; }
  });
  el.textContent = "transport benchmark";
  return () => { model.off("msg:custom", onMsg); worker?.terminate(); };
} };
"""

SETUP = """
import threading, time
import anywidget, traitlets, numpy as np, lz4.block, zstandard
from dicom_annot_widget.widget.streaming import BATCH_BYTES

def pack12(s):
    lo = int(s.min())
    v = (s.ravel() - np.int16(lo)).view(np.uint16)
    a, b = v[0::2], v[1::2]
    out = np.empty((len(a), 3), np.uint8)
    out[:, 0] = a
    out[:, 1] = (a >> 8) | (b << 4)
    out[:, 2] = b >> 4
    return lo, out

def planes(s):
    return s.view(np.uint8).reshape(-1, s.dtype.itemsize).T.copy()

class Bench(anywidget.AnyWidget):
    _esm = __ESM__
    shape = traitlets.List().tag(sync=True)

    def __init__(self, vol):
        super().__init__(shape=list(vol.shape))
        self._vol = vol
        self.on_msg(self._go)

    def _go(self, _w, content, _b):
        if content.get('go'):
            threading.Thread(target=self._run, args=(content['go'], content['run']),
                             daemon=True).start()

    def _run(self, mode, run):
        vol = self._vol
        zc = zstandard.ZstdCompressor(level=1)
        batch = max(1, BATCH_BYTES // vol[0].nbytes)
        order = [len(vol) // 2] + [k for k in range(len(vol)) if k != len(vol) // 2]
        pos, encode, start = 0, 0.0, time.time()
        while pos < len(order):
            items, buffers, size = [], [], 0
            # the first slice alone; then `batch` slices, or (lz4_batch) BATCH_BYTES on the wire
            while pos < len(order):
                k = order[pos]
                s = vol[k]
                t = time.perf_counter()
                lo = 0
                if mode == 'raw':
                    b = s.data.cast('B')
                elif mode.startswith('pack12'):
                    lo, b = pack12(s)
                elif mode == 'zstd':
                    b = zc.compress(planes(s))
                else:
                    b = lz4.block.compress(planes(s), store_size=False)
                encode += time.perf_counter() - t
                items.append({'k': k, 'n': s.nbytes, 'lo': lo})
                buffers.append(b)
                size += len(b)
                pos += 1
                full = size >= BATCH_BYTES if mode == 'lz4_batch' else len(items) >= batch
                if pos == 1 or full:
                    break
            content = {'run': run, 'items': items}
            if pos >= len(order):
                content['encode_s'] = encode
                content['kernel_start'] = start
                content['kernel_last_send'] = time.time()
            self.send(content, buffers=buffers)

VOL = np.load(__NPY__)
"""


def bundle(source: str, fmt: str) -> str:
    """Bundle `source` (imports resolved from the project root) with the project's esbuild."""
    out = subprocess.run(
        [str(ROOT / "node_modules/.bin/esbuild"), "--bundle", f"--format={fmt}", "--minify",
         "--target=es2020", "--loader=js", "--sourcefile=bench.js"],
        input=source, capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return out.stdout


def page_esm() -> str:
    worker = bundle(WORKER_JS, "iife")
    return bundle(PAGE_JS.replace("__WORKER_SRC__", json.dumps(worker)), "esm")


def volume_hash(vol: np.ndarray) -> int:
    """The page's hash: sum of u32[i] * (i * 0x9E3779B1 mod 2**32), mod 2**32."""
    u32 = np.ascontiguousarray(vol).view(np.uint32).ravel()
    total = 0
    for start in range(0, len(u32), 1 << 22):  # in chunks: no whole-volume uint64 copies
        part = u32[start : start + (1 << 22)].astype(np.uint64)
        w = (np.arange(start, start + len(part), dtype=np.uint64) * np.uint64(0x9E3779B1)) & (
            np.uint64(0xFFFFFFFF)
        )
        total = (total + int((part * w).sum() & np.uint64(0xFFFFFFFF))) & 0xFFFFFFFF
    return total


def load_series(name: str) -> tuple[np.ndarray, str]:
    """The volume (stored values, as ``open_series`` gives them) and a description."""
    from dicom_annot_widget import open_series, write_phantom_series

    if name == "tiled":
        folder, _ = tiled_series(ROOT.parent / "shared/data/ct_abdomen/dicom")
        what = f"real CT (ct_abdomen) tiled to 300 slices: {folder}"
    else:
        phantom = Path(tempfile.gettempdir()) / "daw-bench-phantom-300x512"
        if not (phantom / "done").exists():
            phantom.mkdir(parents=True, exist_ok=True)
            write_phantom_series(phantom / "dicom", overwrite=True, n_slices=300)
            (phantom / "done").write_text("ok")
        folder = phantom / "dicom"
        what = f"synthetic phantom: {folder}"
    vol = np.ascontiguousarray(open_series(folder).array)
    if vol.dtype != np.int16:
        raise RuntimeError(f"{name}: expected int16 stored values, got {vol.dtype}")
    return vol, what


def kernel_codec_figures(vol: np.ndarray) -> dict[str, Any]:
    """Ratios and single-thread speeds of the codecs in this process (no transport)."""
    import lz4.block
    import zstandard

    def planes(s: np.ndarray) -> np.ndarray:
        return s.view(np.uint8).reshape(-1, 2).T.copy()

    zc = zstandard.ZstdCompressor(level=1)
    codecs = {
        "lz4": lambda s: lz4.block.compress(planes(s).data, store_size=False),
        "zstd": lambda s: zc.compress(planes(s).data),
        "deflate1": lambda s: zlib.compress(planes(s).data, 1),
    }
    out: dict[str, Any] = {}
    for name, f in codecs.items():
        sub = vol[::10] if name == "deflate1" else vol
        t = time.perf_counter()
        n = sum(len(f(s)) for s in sub)
        dt = time.perf_counter() - t
        out[f"kernel_{name}_ratio"] = round(sub.nbytes / n, 3)
        out[f"kernel_{name}_mb_s"] = round(sub.nbytes / 1e6 / dt)
    return out


def run_series(
    cdp: Chromium, lab: Lab, name: str, vol: np.ndarray, modes: list[str], repeat: int, esm: str
) -> dict[str, Any]:
    npy = lab.root / f"{name}.npy"
    np.save(npy, vol)
    expected = volume_hash(vol)
    setup = SETUP.replace("__ESM__", repr(esm)).replace("__NPY__", repr(str(npy)))
    open_and_wait(cdp, lab, f"transport-{name}.ipynb", notebook(setup, "b = Bench(VOL)\nb"))
    cdp.evaluate(RUN_CELL % 1)
    cdp.wait_for("typeof window.__go === 'function'", timeout=60)
    formats = cdp.evaluate("window.__formats")
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for r in range(-1, repeat):  # round -1: warm-up of every mode, not counted
        order = modes[r % len(modes) :] + modes[: r % len(modes)] if r >= 0 else modes
        for mode in order:
            cdp.call("HeapProfiler.collectGarbage")
            cdp.evaluate(f"window.__go({mode!r})")
            cdp.wait_for("window.__run.hash !== null", timeout=120, interval=0.005)
            st = cdp.evaluate("JSON.stringify({...window.__run, keep: window.__run.keep.length})")
            st = json.loads(st)
            if st["hash"] != expected and not mode.endswith("_nodecode"):
                raise RuntimeError(f"{name}/{mode}: page hash {st['hash']} != kernel {expected}")
            redecode = cdp.evaluate("window.__redecode()") if mode == "lz4" else None
            if r >= 0:
                runs[mode].append(
                    {
                        # kernel clock -> page clock (both epoch): when the kernel had sent it
                        # all, and how long after that the page had it all
                        "kernel_send_s": st["kernelLastSend"] - st["kernelStart"],
                        "arrival_after_last_send_s": st["lastArrival"] / 1000
                        - st["kernelLastSend"],
                        **({"page_decode_only_s": redecode / 1000} if redecode else {}),
                        "full_volume_s": (st["full"] - st["t0"]) / 1000,
                        "first_message_s": (st["first"] - st["t0"]) / 1000,
                        "page_store_s": st["storeMs"] / 1000,
                        "worker_decode_s": st["workerMs"] / 1000,
                        "kernel_encode_s": st["encodeS"],
                        "wire_mb": st["wire"] / 1e6,
                    }
                )
    result: dict[str, Any] = {"decompression_stream_formats": formats, "modes": {}}
    raw_full = statistics.median(x["full_volume_s"] for x in runs["raw"]) if "raw" in runs else 0
    for mode, rs in runs.items():
        summary: dict[str, Any] = {
            k: round(statistics.median(x[k] for x in rs), 4)
            for k in rs[0]
            if not (k == "worker_decode_s" and mode != "lz4_worker")
        }
        summary["full_volume_s_runs"] = [round(x["full_volume_s"], 3) for x in rs]
        summary["ratio_bytes"] = round(vol.nbytes / 1e6 / summary["wire_mb"], 3)
        if raw_full:
            summary["full_volume_vs_raw"] = round(summary["full_volume_s"] / raw_full, 3)
        result["modes"][mode] = summary
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", nargs="+", default=["tiled", "phantom"])
    parser.add_argument("--modes", nargs="+", default=DEFAULT_MODES, choices=MODES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "benchmark": "transport",
        "load_average_at_start": os.getloadavg()[0],
        "repeat": args.repeat,
        "target_full_volume_s": 1.0,
        "series": {},
    }
    esm = page_esm()
    volumes = {name: load_series(name) for name in args.series}
    with (
        tempfile.TemporaryDirectory(prefix="daw-bench-lab-") as tmp,
        running_lab(Path(tmp)) as lab,
    ):
        cdp = Chromium(args.chromium)
        try:
            for name, (vol, what) in volumes.items():
                figures = run_series(cdp, lab, name, vol, args.modes, args.repeat, esm)
                result["series"][name] = {
                    "what": what,
                    "raw_mb": round(vol.nbytes / 1e6, 1),
                    **kernel_codec_figures(vol),
                    **figures,
                }
        finally:
            cdp.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
