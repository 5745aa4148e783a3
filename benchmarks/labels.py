"""Time the label model: loading/saving big documents and the latency of one durable edit.

Prints JSON. Times are in milliseconds over ``--repeat`` runs: the median, and beside it
(``*_p95``) the 95th percentile.

Documents of 10,000 keyframes (100 objects x 100 slices) of three kinds: boxes, polygons of
16 vertices and polygons of 64 vertices, on a 300 x 512 x 512 series. For each:

- ``load_ms``: :meth:`LabelDocument.from_json` (parse + full validation); compact text like
  this, with many vertex lists, takes the fast path that cuts the ``"points"`` lists out of the
  text and reads them into one array (``dicom_annot_widget/labels/_vertices.py``);
- ``load_plain_ms``: :meth:`LabelDocument.from_json` of the same text with a space after each
  ``"points":``, which takes the plain path (parse everything, then validate), as indented or
  hand-edited files do;
- ``save_ms``: :meth:`LabelDocument.to_json` of a freshly loaded document (every object
  serialised); ``save_bytes_ms``: :meth:`LabelDocument.to_bytes` (what a label file gets);
- ``save_after_edit_ms``: ``to_json`` after one edit (objects cache their JSON text);
- ``snapshot_to_disk_ms``: what compaction does: ``to_json`` + temp file + fsync + rename +
  fsync of the folder;
- baselines, measured in the same run on the same text: ``json_loads_ms`` /
  ``json_dumps_ms`` of the standard library and ``orjson_loads_ms`` / ``orjson_dumps_ms`` of
  orjson (which the label model uses), each called as is (garbage collector on, as
  by default); orjson's figures are the floor for parsing / writing that text into / from
  Python objects;
- ``cpu_ms``: the same medians in CPU time of this process (steadier than wall-clock time on
  a shared machine), and ``load_vs_json_loads_cpu`` / ``save_vs_json_dumps_cpu`` (and the
  same against orjson), the ratios to the baselines.

Edit latency (``edit``), with the 10,000-polygon document open in a label file:
``apply_in_memory_ms`` (validate + apply + undo record, no file), ``apply_durable_ms`` (the
same plus the journal append and ``fdatasync``, i.e. until the edit is acknowledged) and
``undo_durable_ms``, each as ``{median, p95}``.

Usage: ``python benchmarks/labels.py [--repeat 5] [--edits 200]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dicom_annot_widget.labels import LabelDocument, Labels, Ontology  # noqa: E402
from dicom_annot_widget.labels.operations import Batch, CreateObject, SetKeyframe  # noqa: E402
from dicom_annot_widget.labels.store import atomic_write  # noqa: E402

SERIES = {"series_instance_uid": "1.2.826.0.1.3680043.8.498.77", "shape": [300, 512, 512]}
OBJECTS = 100
SLICES = 100


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Organ", "polygon")
        .radio("Phase", ["arterial", "venous"], dynamic=True)
        .object("Lesion", "bounding_box")
        .checklist("Findings", ["cyst", "mass"])
        .build()
    )


CPU: dict[str, float] = {}
P95: dict[str, float] = {}


def median_ms(fn: Callable[[], object], repeat: int, name: str = "") -> float:
    """Median wall-clock time; the median CPU time of this process goes to ``CPU[name]`` and
    the 95th percentile of the wall-clock times to ``P95[name]``."""
    times = []
    cpu = []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if name:
        CPU[name] = round(statistics.median(cpu) * 1e3, 2)
        P95[name] = round(float(np.percentile(times, 95)) * 1e3, 2)
    return round(statistics.median(times) * 1e3, 2)


def contour(o: int, k: int, vertices: int) -> list[list[float]]:
    cx, cy = 100 + 3 * o, 150 + 2 * (o % 40)
    r = 20 + 10 * math.sin(k / 10)
    return [
        [
            round(cx + r * math.cos(2 * math.pi * i / vertices), 3),
            round(cy + 0.8 * r * math.sin(2 * math.pi * i / vertices), 3),
        ]
        for i in range(vertices)
    ]


def build(kind: str) -> Labels:
    labels = Labels(SERIES, ontology(), author="bench")
    ops = []
    for o in range(OBJECTS):
        frames: dict[str, Any] = {}
        for k in range(SLICES):
            if kind == "boxes":
                x, y = 50 + 3 * o + k % 7, 60 + 2 * o
                frames[str(k)] = {"box": [x, y, x + 25.5, y + 30.25]}
            else:
                frames[str(k)] = {"points": contour(o, k, int(kind[len("polygons") :]))}
        feature = "Lesion" if kind == "boxes" else "Organ"
        ops.append(CreateObject({"feature": feature, "keyframes": frames}))
    labels.apply(Batch(tuple(ops)))
    return labels


def document_case(kind: str, repeat: int, folder: Path) -> dict[str, Any]:
    labels = build(kind)
    text = labels.to_json()
    assert labels.document.keyframe_count == OBJECTS * SLICES
    parsed = json.loads(text)
    spaced = text.replace('"points":[[', '"points": [[')
    loaded = [LabelDocument.from_json(text) for _ in range(2 * repeat)]
    fresh = iter(loaded)
    CPU.clear()
    P95.clear()
    result: dict[str, Any] = {
        "keyframes": OBJECTS * SLICES,
        "bytes": len(text.encode()),
        "load_ms": median_ms(lambda: LabelDocument.from_json(text), repeat, "load"),
        "load_plain_ms": median_ms(lambda: LabelDocument.from_json(spaced), repeat, "load_plain"),
        "save_ms": median_ms(lambda: next(fresh).to_json(), repeat, "save"),
        "save_bytes_ms": median_ms(lambda: next(fresh).to_bytes(), repeat, "save_bytes"),
    }
    doc = LabelDocument.from_json(text)
    doc.to_json()
    first = next(iter(doc.objects.values()))
    geometry = first.keyframes[0].geometry.to_json()
    edit_ms = median_ms(
        lambda: (SetKeyframe(first.uuid, 0, geometry).apply(doc), doc.to_json()), repeat
    )
    result["save_after_edit_ms"] = edit_ms
    target = folder / f"{kind}.json"
    result["snapshot_to_disk_ms"] = median_ms(
        lambda: atomic_write(target, doc.to_json().encode()), repeat
    )
    result["json_loads_ms"] = median_ms(lambda: json.loads(text), repeat, "json_loads")
    result["json_dumps_ms"] = median_ms(
        lambda: json.dumps(parsed, separators=(",", ":"), ensure_ascii=False),
        repeat,
        "json_dumps",
    )
    result["orjson_loads_ms"] = median_ms(lambda: orjson.loads(text), repeat, "orjson_loads")
    result["orjson_dumps_ms"] = median_ms(lambda: orjson.dumps(parsed), repeat, "orjson_dumps")
    result["p95_ms"] = dict(P95)
    result["cpu_ms"] = dict(CPU)
    result["load_vs_json_loads_cpu"] = round(CPU["load"] / CPU["json_loads"], 2)
    result["save_vs_json_dumps_cpu"] = round(CPU["save"] / CPU["json_dumps"], 2)
    result["load_vs_orjson_loads_cpu"] = round(CPU["load"] / CPU["orjson_loads"], 2)
    result["save_vs_orjson_dumps_cpu"] = round(CPU["save"] / CPU["orjson_dumps"], 2)
    return result


def edit_case(edits: int, folder: Path) -> dict[str, Any]:
    big = build("polygons16")
    path = folder / "edit.json"
    path.write_text(big.to_json())
    durable = Labels.open(SERIES, None, path, idle_snapshot=None, compact_every=10 * edits)
    memory = Labels.from_json(big.to_json())
    uid = next(iter(durable)).uuid
    shape = contour(0, 0, 16)

    def latencies(labels: Labels, fn: Callable[[int], object]) -> dict[str, float]:
        times = []
        for i in range(edits):
            t0 = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - t0)
        return {
            "median": round(statistics.median(times) * 1e3, 3),
            "p95": round(float(np.percentile(times, 95)) * 1e3, 3),
        }

    try:
        return {
            "document_keyframes": durable.document.keyframe_count,
            "edits": edits,
            "apply_in_memory_ms": latencies(
                memory, lambda i: memory.set_keyframe(uid, 150 + i % 100, shape)
            ),
            "apply_durable_ms": latencies(
                durable, lambda i: durable.set_keyframe(uid, 150 + i % 100, shape)
            ),
            "undo_durable_ms": latencies(durable, lambda i: durable.undo()),
        }
    finally:
        durable.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labels-bench-") as tmp:
        folder = Path(tmp)
        report = {
            "benchmark": "labels",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()]
            if hasattr(os, "getloadavg")
            else None,
            "budget_ms": {"load": 200, "save": 200},
            "documents": {
                kind: document_case(kind, args.repeat, folder)
                for kind in ("boxes", "polygons16", "polygons64")
            },
            "edit": edit_case(args.edits, folder),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
