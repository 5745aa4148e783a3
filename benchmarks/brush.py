"""Brush kernel speed: ms per stamp and per stroke; prints one JSON document.

* ``stamp``: one disc of radius 20 px at a random sub-pixel position in a 512 x 512 slice
  (:func:`stroke_patch`), and the same with the threshold and the commit
  (:func:`threshold_patch` + :func:`apply_stroke` into a 512 x 512 mask).
* ``stroke``: a 60-sample pointer path (random walk, 2-40 px between samples) with a 20 px
  brush: footprint, and footprint + threshold + commit.
* ``sphere``: a 3-D sphere brush of radius 10 mm on a 2 mm x 0.8 mm x 0.8 mm grid,
  committed into a (120, 512, 512) mask in place.
* Reference measured in the same run: the obvious dense version of one stamp, which
  evaluates the disc equation over the whole 512 x 512 slice.

Medians over many repetitions; the target is <= 1 ms per stamp of radius 20 px.
Run: ``python benchmarks/brush.py``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
try:
    import dicom_annot_widget  # noqa: F401
except ImportError:  # a source checkout that is not installed
    sys.path.insert(0, str(ROOT))

from dicom_annot_widget.kernels import apply_stroke, stroke_patch, threshold_patch  # noqa: E402

SHAPE = (512, 512)


def median_ms(fn: Callable[[int], object], n: int) -> float:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return round(1e3 * float(np.median(times)), 4)


def main() -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(40, 80, SHAPE).astype(np.int16)
    mask = np.zeros(SHAPE, dtype=bool)
    centres = rng.uniform(30, 480, size=(2000, 2))
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]

    def stamp(i: int) -> object:
        return stroke_patch(centres[i][None], 20, SHAPE)

    def stamp_commit(i: int) -> object:
        p = threshold_patch(stroke_patch(centres[i][None], 20, SHAPE), image, -50, 150)
        return apply_stroke(mask, p, "paint", inplace=True)

    def dense_stamp(i: int) -> object:
        cx, cy = centres[i]
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= 400.0

    strokes = []
    for _ in range(50):
        steps = rng.uniform(2, 40, size=59)
        angles = np.cumsum(rng.normal(0, 0.4, size=59))
        path = np.cumsum(np.column_stack([steps * np.cos(angles), steps * np.sin(angles)]), 0)
        path = np.vstack([[0.0, 0.0], path]) + np.array([256.0, 256.0])
        strokes.append(np.clip(path, 0, 511))
    stroke_len = float(np.mean([np.hypot(*np.diff(s, axis=0).T).sum() for s in strokes]))

    def stroke(i: int) -> object:
        return stroke_patch(strokes[i % len(strokes)], 20, SHAPE)

    def stroke_commit(i: int) -> object:
        p = stroke_patch(strokes[i % len(strokes)], 20, SHAPE)
        p = threshold_patch(p, image, -50, 150)
        return apply_stroke(mask, p, "paint", inplace=True)

    vol = np.zeros((120, 512, 512), dtype=bool)
    sphere_pts = rng.uniform([30, 30, 10], [480, 480, 110], size=(200, 3))

    def sphere(i: int) -> object:
        p = stroke_patch(sphere_pts[i][None], 10.0, vol.shape, spacing=(2.0, 0.8, 0.8))
        return apply_stroke(vol, p, "paint", inplace=True)

    for fn in (stamp, dense_stamp, stroke):  # warm up
        fn(0)
    results: dict[str, Any] = {
        "stamp_r20_ms": median_ms(stamp, 2000),
        "stamp_r20_threshold_commit_ms": median_ms(stamp_commit, 2000),
        "reference_dense_full_slice_stamp_ms": median_ms(dense_stamp, 300),
        "stroke_60_samples_r20_ms": median_ms(stroke, 50),
        "stroke_60_samples_r20_threshold_commit_ms": median_ms(stroke_commit, 50),
        "stroke_mean_length_px": round(stroke_len, 1),
        "sphere_r10mm_commit_into_120x512x512_ms": median_ms(sphere, 200),
    }
    results["stroke_ms_per_sample"] = round(results["stroke_60_samples_r20_ms"] / 60, 4)
    report = {
        "benchmark": "brush / threshold brush / eraser kernels",
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
        "results": results,
        "targets": {
            "stamp_r20_le_1ms": {
                "value": results["stamp_r20_threshold_commit_ms"],
                "met": results["stamp_r20_threshold_commit_ms"] <= 1.0,
            }
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
