"""Time loading a DICOM series with ``open_series``, with SimpleITK as the baseline.

Prints JSON. Two series, both read by both loaders in the same run:

- ``a_real_jpeg2000``: the 20 real slices of ``../shared/data/ct_abdomen/dicom`` (512 x 512,
  JPEG 2000 lossless), or ``--data``;
- ``b_tiled_uncompressed``: those slices decoded and repeated to 300 slices (``--slices``) of
  uncompressed Explicit VR Little Endian, built once into a cache folder (``--cache-dir``);
  the JSON says how.

Measured, per series:

- ``ours_full_s``: ``s = open_series(folder); arr = s.array``;
- ``ours_first_slice_s``: ``s = open_series(folder); s.get_slice(len(s) // 2)``, timed from the
  start of ``open_series`` (what a viewer needs before it can paint);
- ``sitk_full_s``: ``ImageSeriesReader``: ``GetGDCMSeriesFileNames`` (scan + sort), ``Execute``
  and ``GetArrayViewFromImage`` (no copy) -- file discovery and sorting are in both timings.

Every reader runs once untimed first (the warm-up also checks correctness), so all timed runs
read files from the OS page cache: these are warm-cache figures. Then each measurement runs
``--repeat`` times, alternating the order of the readers between rounds; median and min are
reported. Correctness: our array (rescaled with the headers' slope / intercept if it holds
stored values) must equal SimpleITK's, after accounting for SimpleITK's slice order (ascending
position along the slice normal); the maximum absolute difference is reported.

Usage: ``python benchmarks/load.py [--data DIR] [--repeat 5] [--slices 300] [--out FILE]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._series import (  # noqa: E402
    read_headers,
    stub_open_series,
    tiled_series,
)

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "ct_abdomen" / "dicom"

TARGETS = {
    "a_real_jpeg2000": {"full_load_ratio_max": 0.9, "first_slice_ms_max": 50.0},
    "b_tiled_uncompressed": {"full_load_ratio_max": 0.5, "first_slice_ms_max": 50.0},
}

OpenSeries = Callable[[str | os.PathLike[str]], Any]


def _load_ours(stub: bool) -> tuple[OpenSeries | None, str]:
    if stub:
        return stub_open_series, "STUB (benchmarks._series.StubSeries, serial pydicom)"
    try:
        from dicom_annot_widget.io import open_series
    except ImportError as exc:
        return None, f"unavailable: {type(exc).__name__}: {exc}"
    return open_series, "dicom_annot_widget.io.open_series"


def _sitk_read(folder: Path) -> tuple[npt.NDArray[Any], Any]:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    image = reader.Execute()
    return sitk.GetArrayViewFromImage(image), image


def _ours_full(open_series: OpenSeries, folder: Path) -> tuple[npt.NDArray[Any], Any]:
    series = open_series(folder)
    return np.asarray(series.array), series


def _ours_first(open_series: OpenSeries, folder: Path) -> tuple[npt.NDArray[Any], Any]:
    series = open_series(folder)
    return np.asarray(series.get_slice(len(series) // 2)), series


def _settle(series: Any) -> None:
    """Stop or finish any background decoding so it cannot slow the next timed run."""
    close = getattr(series, "close", None)
    if callable(close):
        close()
    else:
        _ = series.array


def _timed(fn: Callable[[], tuple[Any, Any]], settle: bool = False) -> float:
    gc.collect()
    t0 = time.perf_counter()
    result, keep = fn()
    elapsed = time.perf_counter() - t0
    if settle:
        _settle(keep)
    del result, keep
    return elapsed


def _compare(
    ours: npt.NDArray[Any], series: Any, sitk_arr: npt.NDArray[Any], folder: Path
) -> dict[str, Any]:
    """Max |ours - SimpleITK| under the interpretation and slice order that match best."""
    headers = [ds for _, ds in read_headers(folder)]  # ascending along the normal, as SimpleITK
    slope = np.array([float(ds.get("RescaleSlope", 1) or 1) for ds in headers])
    intercept = np.array([float(ds.get("RescaleIntercept", 0) or 0) for ds in headers])
    out: dict[str, Any] = {
        "ours_shape": list(ours.shape),
        "ours_dtype": str(ours.dtype),
        "ours_array_type": type(series.array).__name__,
        "sitk_shape": list(sitk_arr.shape),
        "sitk_dtype": str(sitk_arr.dtype),
    }
    if ours.shape != sitk_arr.shape:
        out["ok"] = False
        out["error"] = "shapes differ"
        return out
    best: tuple[float, str, str] | None = None
    for order in ("same as SimpleITK (ascending along the normal)", "reversed"):
        aligned = ours if order.startswith("same") else ours[::-1]
        for values in ("as returned", "stored values rescaled with the headers' slope/intercept"):
            worst = 0.0
            for k in range(aligned.shape[0]):
                a = aligned[k].astype(np.float64)
                if values != "as returned":
                    a = a * slope[k] + intercept[k]
                worst = max(worst, float(np.max(np.abs(a - sitk_arr[k]))))
            if best is None or worst < best[0]:
                best = (worst, order, values)
    assert best is not None
    out["max_abs_diff"] = best[0]
    out["slice_order_of_ours"] = best[1]
    out["ours_values"] = best[2]
    out["ok"] = best[0] == 0.0
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(values) * 1e3, 2),
        "min_ms": round(min(values) * 1e3, 2),
        "runs_ms": [round(v * 1e3, 2) for v in values],
    }


def run_case(
    name: str, folder: Path, open_series: OpenSeries | None, repeat: int
) -> dict[str, Any]:
    result: dict[str, Any] = {"folder": str(folder), "files": len(read_headers(folder))}
    # Warm-up (not in the statistics): fills the OS page cache, starts any worker processes the
    # loader keeps between series, and checks correctness. Its times are reported on their own.
    warmup: dict[str, Any] = {}
    t0 = time.perf_counter()
    sitk_arr, image = _sitk_read(folder)
    warmup["sitk_full_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
    result["sitk_spacing_mm"] = [round(v, 6) for v in image.GetSpacing()]
    if open_series is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            ours, series = _ours_full(open_series, folder)
            warmup["ours_full_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
        # What our loader reported about this series (e.g. substituted empty UIDs).
        result["ours_warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        result["correctness"] = _compare(ours, series, sitk_arr, folder)
        _settle(series)
        del ours, series
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the same warnings again
            t0 = time.perf_counter()
            first, series = _ours_first(open_series, folder)
            warmup["ours_first_slice_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
            _settle(series)
        del first, series
    del sitk_arr, image
    result["warmup"] = warmup

    times: dict[str, list[float]] = {"sitk_full": [], "ours_full": [], "ours_first_slice": []}
    runs: list[tuple[str, Callable[[], tuple[Any, Any]], bool]] = [
        ("sitk_full", lambda: _sitk_read(folder), False)
    ]
    if open_series is not None:
        runs += [
            ("ours_full", lambda: _ours_full(open_series, folder), True),
            ("ours_first_slice", lambda: _ours_first(open_series, folder), True),
        ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # already reported once above
        for r in range(repeat):
            for key, fn, settle in runs if r % 2 == 0 else runs[::-1]:
                times[key].append(_timed(fn, settle))

    result["sitk_full"] = _stats(times["sitk_full"])
    if open_series is None:
        return result
    result["ours_full"] = _stats(times["ours_full"])
    result["ours_first_slice"] = _stats(times["ours_first_slice"])
    sitk_med = statistics.median(times["sitk_full"])
    ratio = statistics.median(times["ours_full"]) / sitk_med
    first_ms = statistics.median(times["ours_first_slice"]) * 1e3
    target = TARGETS[name]
    result["full_load_ratio_ours_over_sitk"] = {
        "median": round(ratio, 3),
        "min_over_min": round(min(times["ours_full"]) / min(times["sitk_full"]), 3),
        "target_max": target["full_load_ratio_max"],
        "meets_target": ratio <= target["full_load_ratio_max"],
    }
    result["first_slice"] = {
        "median_ms": round(first_ms, 2),
        "ratio_to_sitk_full_read": round(
            statistics.median(times["ours_first_slice"]) / sitk_med, 4
        ),
        "target_max_ms": target["first_slice_ms_max"],
        "meets_target": first_ms <= target["first_slice_ms_max"],
    }
    return result


def _environment() -> dict[str, Any]:
    import pydicom
    import SimpleITK as sitk

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "pydicom": pydicom.__version__,
        "simpleitk": sitk.Version.VersionString(),
        "simpleitk_threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads(),
        "git_commit": commit,
    }
    if hasattr(os, "getloadavg"):
        env["load_average_1m_at_start"] = round(os.getloadavg()[0], 2)
    return env


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the real series folder")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--slices", type=int, default=300, help="slices of the tiled series")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the tiled series goes")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--stub", action="store_true", help="time a naive stand-in loader (harness testing only)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    data = args.data.resolve()
    if not data.is_dir():
        parser.error(f"{data} is not a folder; pass --data")

    open_series, loader = _load_ours(args.stub)
    t0 = time.perf_counter()
    tiled, manifest = tiled_series(data, n_slices=args.slices, cache_dir=args.cache_dir)
    build_s = time.perf_counter() - t0

    result: dict[str, Any] = {
        "benchmark": "load",
        "ours": loader,
        "baseline": "SimpleITK ImageSeriesReader (GDCM), GetArrayViewFromImage",
        "repeat": args.repeat,
        "method": (
            "one untimed warm-up run of every reader per series first (files then come from "
            "the OS page cache in every timed run: warm-cache figures); then --repeat rounds, "
            "the order of the readers alternating between rounds; median and min reported; "
            "ours_first_slice = open_series + get_slice(len // 2), timed from the start of "
            "open_series; after every run of ours, series.close() (untimed) stops background "
            "decoding. The warm-up also starts the loader's shared decode worker processes "
            "(kept alive between series), so timed runs exclude process start-up; the "
            "warm-up times are reported separately under 'warmup'."
        ),
        "targets": TARGETS,
        "environment": _environment(),
        "series": {
            "a_real_jpeg2000": {
                "how": "real CT, used as is",
                "source": str(data),
            },
            "b_tiled_uncompressed": {**manifest, "folder": str(tiled)},
        },
        "tiled_series_ready_s": round(build_s, 2),
        "results": {},
    }
    for name, folder in (("a_real_jpeg2000", data), ("b_tiled_uncompressed", tiled)):
        result["results"][name] = run_case(name, folder, open_series, args.repeat)
        gc.collect()

    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
