"""Interpolation accuracy and speed on real segmentations; prints one JSON document.

Protocol (masks)
----------------
For every label of a segmentation and every k in 2..5, the label's slices ``z_min..z_max`` along
the slice axis are thinned to keyframes ``z_min, z_min + k, ...`` plus ``z_max``; every other
slice in that range is reconstructed and compared with the ground truth. Dice is computed over
all reconstructed slices of a label; the aggregates are the mean over labels and the pooled
Dice (sum of 2|P & G| over sum of |P| + |G| over all labels). Labels with nothing to
reconstruct are skipped. Each method's row also has ``per_label``: label -> [Dice, wrong
voxels]; the wrong voxels (false positives + false negatives) are what the pooled Dice sums, so
they show which labels move it (on ct_abdomen the liver, spleen and stomach dominate).

``ground_truth`` lists, per series, the slices identical to the next one. ct_abdomen's labels
(20 slices, 2 mm apart) have 7 such pairs: they were resampled from a coarser slice grid, so the
truth moves in steps and a reconstructed slice that duplicates a keyframe is best answered by
copying that keyframe. Smooth interpolation pays for this on every method alike; no method here
uses it.

Methods, all measured in this run:

* ``ours``: :func:`dicom_annot_widget.kernels.interpolate_masks` (defaults).
* ``sdt``: plain shape-based interpolation: per-slice signed distance transform on the full
  slice (``distance_transform_edt(~m) - distance_transform_edt(m)``, float64), linear between
  the two bracketing keyframes, no component matching (an empty keyframe gets a constant
  larger than the slice diagonal).
* ``itk_mci``: ITK's MorphologicalContourInterpolator (``itk`` +
  ``itk-morphologicalcontourinterpolation``, benchmark only, imported lazily in a separate
  worker process) on the label's bounding box with only the keyframe slices set.

Timing: milliseconds per label per gap (time for all of a label's gaps / number of gaps),
median over labels of the median of ``--repeats`` runs.

Protocol (polygons)
-------------------
The same keyframes as polygons: every keyframe mask is traced (:func:`mask_to_polygons`,
exteriors only), then perturbed so vertex counts, start vertices and winding differ between
keyframes (random simplification tolerance, random cyclic start, half of them reversed). The
interpolated polygons are rasterised and scored like the masks. Reference ``naive``: parts
paired in list order, each pair resampled to the same number of points by arc length from its
own start in its own direction and interpolated index by index (unpaired parts dropped);
``naive_unperturbed`` is the same on the polygons as traced (consistent winding, start points
where the tracer happens to start), i.e. with only the vertex counts differing.

Data: ``../shared/data/ct_small_nifti/segmentation.nii.gz`` (axial = NIfTI axis 2, coronal =
axis 1) and ``../shared/data/ct_abdomen/segmentation.npz`` (axial, 512 x 512).

Run: ``python benchmarks/interpolation.py [--repeats 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
try:
    import dicom_annot_widget  # noqa: F401
except ImportError:  # a source checkout that is not installed
    sys.path.insert(0, str(ROOT))

from dicom_annot_widget.kernels import (  # noqa: E402
    interpolate_masks,
    interpolate_track,
    mask_to_polygons,
    polygons_to_mask,
    resample_closed,
)

Mask3 = NDArray[np.bool_]
Method = Callable[[Mask3, list[int], list[int]], dict[int, NDArray[np.bool_]]]
KS = (2, 3, 4, 5)


def load_volumes(quick: bool) -> dict[str, NDArray[Any]]:
    """Label volumes with the slice axis first."""
    import nibabel as nib

    out: dict[str, NDArray[Any]] = {}
    img: Any = nib.load(DATA / "ct_small_nifti" / "segmentation.nii.gz")
    small = np.asarray(img.dataobj)
    out["ct_small_nifti/axial"] = np.ascontiguousarray(np.moveaxis(small, 2, 0))
    out["ct_small_nifti/coronal"] = np.ascontiguousarray(np.moveaxis(small, 1, 0))
    if not quick:
        out["ct_abdomen/axial"] = np.load(DATA / "ct_abdomen" / "segmentation.npz")["labels"]
    return out


def tasks(vol: NDArray[Any], k: int) -> Iterator[tuple[int, Mask3, list[int], list[int]]]:
    for label in np.unique(vol)[1:]:
        m = vol == label
        z = np.flatnonzero(m.any(axis=(1, 2)))
        keys = list(range(int(z[0]), int(z[-1]) + 1, k))
        if keys[-1] != int(z[-1]):
            keys.append(int(z[-1]))
        targets = [s for s in range(int(z[0]), int(z[-1]) + 1) if s not in keys]
        if len(keys) >= 2 and targets:
            yield int(label), m, keys, targets


def method_ours(m: Mask3, keys: list[int], targets: list[int]) -> dict[int, NDArray[np.bool_]]:
    return interpolate_masks({z: m[z] for z in keys}, targets)


def method_sdt(m: Mask3, keys: list[int], targets: list[int]) -> dict[int, NDArray[np.bool_]]:
    big = float(np.hypot(*m.shape[1:])) + 1.0
    sd = {}
    for z in keys:
        if m[z].any():
            sd[z] = ndi.distance_transform_edt(~m[z]) - ndi.distance_transform_edt(m[z])
        else:
            sd[z] = np.full(m.shape[1:], big)
    out = {}
    for s in targets:
        j = int(np.searchsorted(keys, s))
        a, b = keys[j - 1], keys[j]
        t = (s - a) / (b - a)
        out[s] = (1.0 - t) * sd[a] + t * sd[b] <= 0
    return out


def make_itk_method() -> tuple[Method | None, str]:
    try:
        import itk

        _ = itk.MorphologicalContourInterpolator  # the remote module must be installed
    except Exception as exc:  # report whatever stopped ITK
        return None, f"not available: {type(exc).__name__}: {exc}"

    def method_itk(m: Mask3, keys: list[int], targets: list[int]) -> dict[int, NDArray[np.bool_]]:
        z0, z1 = keys[0], keys[-1]
        sub = m[z0 : z1 + 1]
        rows = np.flatnonzero(sub.any(axis=(0, 2)))
        cols = np.flatnonzero(sub.any(axis=(0, 1)))
        r0, r1 = max(int(rows[0]) - 2, 0), min(int(rows[-1]) + 3, m.shape[1])
        c0, c1 = max(int(cols[0]) - 2, 0), min(int(cols[-1]) + 3, m.shape[2])
        vol = np.zeros((z1 - z0 + 1, r1 - r0, c1 - c0), dtype=np.uint8)
        for z in keys:
            vol[z - z0] = m[z, r0:r1, c0:c1]
        image = itk.image_from_array(vol)
        filt = itk.MorphologicalContourInterpolator.New(image)
        filt.SetAxis(2)  # ITK index axis 2 = NumPy axis 0 (slices)
        filt.Update()
        res = itk.array_from_image(filt.GetOutput())
        out = {}
        for s in targets:
            full = np.zeros(m.shape[1:], dtype=bool)
            full[r0:r1, c0:c1] = res[s - z0] > 0
            out[s] = full
        return out

    return method_itk, f"itk {itk.Version.GetITKVersion()}"


_ITK: Method | None = None


def itk_probe() -> str:
    """Runs in the ITK worker process: load ITK once and say what was loaded."""
    global _ITK
    _ITK, note = make_itk_method()
    if _ITK is not None:
        _ITK(np.ones((3, 4, 4), dtype=bool), [0, 2], [1])  # warm up
    return note


def itk_evaluate(vol: NDArray[Any], k: int, repeats: int) -> dict[str, Any]:
    """Runs in the ITK worker process (ITK is kept out of the main process)."""
    if _ITK is None:
        raise RuntimeError("itk_probe() did not load ITK in this worker")
    return evaluate(vol, k, _ITK, repeats)


def evaluate(vol: NDArray[Any], k: int, method: Method, repeats: int) -> dict[str, Any]:
    dices: list[float] = []
    inter = total = 0
    ms_per_gap: list[float] = []
    per_label: dict[str, list[float | int]] = {}
    for label, m, keys, targets in tasks(vol, k):
        runs = []
        pred: dict[int, NDArray[np.bool_]] = {}
        for _ in range(repeats):
            t0 = time.perf_counter()
            pred = method(m, keys, targets)
            runs.append(time.perf_counter() - t0)
        ms_per_gap.append(1e3 * float(np.median(runs)) / (len(keys) - 1))
        p = np.stack([pred[s] for s in targets])
        g = m[targets]
        i = int(np.count_nonzero(p & g))
        s = int(np.count_nonzero(p)) + int(np.count_nonzero(g))
        inter += i
        total += s
        dices.append(2 * i / s if s else 1.0)
        # [Dice, wrong voxels (false positives + false negatives)]: the wrong voxels are what
        # the pooled Dice adds up, so they show which labels move it.
        per_label[str(label)] = [round(dices[-1], 5), s - 2 * i]
    return {
        "mean_dice": round(float(np.mean(dices)), 5),
        "pooled_dice": round(2 * inter / total, 5),
        "labels": len(dices),
        "ms_per_label_per_gap_median": round(float(np.median(ms_per_gap)), 3),
        "ms_per_label_per_gap_max": round(float(np.max(ms_per_gap)), 3),
        "per_label": per_label,
    }


def identical_slice_pairs(vol: NDArray[Any]) -> list[int]:
    """Labelled slices ``z`` whose labels equal those of slice ``z + 1`` exactly.

    Many of them mean the ground truth was resampled from a coarser slice grid (nearest
    neighbour), so it moves in steps, which limits what any smooth interpolation can reach.
    """
    return [
        z for z in range(vol.shape[0] - 1) if vol[z].any() and np.array_equal(vol[z], vol[z + 1])
    ]


# --------------------------------------------------------------------------- polygons


def traced_polygons(
    mask: NDArray[np.bool_], rng: np.random.Generator
) -> tuple[list[NDArray[Any]], list[NDArray[Any]]]:
    """(as traced, perturbed): a random tolerance, then random start vertex and winding."""
    tol = float(rng.choice([0.0, 0.5, 1.0]))
    traced = [poly.exterior for poly in mask_to_polygons(mask, tolerance=tol)]
    perturbed = []
    for ring in traced:
        moved = np.roll(ring, int(rng.integers(len(ring))), axis=0)
        perturbed.append(moved[::-1] if rng.random() < 0.5 else moved)
    return traced, perturbed


def naive_polygons(p0: list[NDArray[Any]], p1: list[NDArray[Any]], t: float) -> list[NDArray[Any]]:
    out = []
    for a, b in zip(p0, p1, strict=False):
        n = max(len(a), len(b))
        out.append((1 - t) * resample_closed(a, n) + t * resample_closed(b, n))
    return out


def evaluate_polygons(vol: NDArray[Any], k: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    shape = vol.shape[1:]
    names = ("ours", "naive", "naive_unperturbed")
    acc: dict[str, list[int]] = {n: [0, 0] for n in names}
    acc_single: dict[str, list[int]] = {n: [0, 0] for n in names}
    per_label: dict[str, list[float]] = {n: [] for n in names}
    for _label, m, keys, targets in tasks(vol, k):
        both = {z: traced_polygons(m[z], rng) for z in keys}
        if any(not both[z][0] for z in keys):
            continue  # empty keyframes are not polygons
        clean = {z: both[z][0] for z in keys}
        polys = {z: both[z][1] for z in keys}
        ours = interpolate_track(polys, "polygon", targets)
        lab_acc = {n: [0, 0] for n in names}
        for s in targets:
            j = int(np.searchsorted(keys, s))
            a, b = keys[j - 1], keys[j]
            t = (s - a) / (b - a)
            geom = ours[s]
            pred = {
                "ours": polygons_to_mask(geom if isinstance(geom, list) else [geom], shape),
                "naive": polygons_to_mask(naive_polygons(polys[a], polys[b], t), shape),
                "naive_unperturbed": polygons_to_mask(naive_polygons(clean[a], clean[b], t), shape),
            }
            single = len(polys[a]) == 1 and len(polys[b]) == 1
            for name, p in pred.items():
                i = 2 * int(np.count_nonzero(p & m[s]))
                tot = int(np.count_nonzero(p)) + int(np.count_nonzero(m[s]))
                acc[name][0] += i
                acc[name][1] += tot
                lab_acc[name][0] += i
                lab_acc[name][1] += tot
                if single:
                    acc_single[name][0] += i
                    acc_single[name][1] += tot
        for name in per_label:
            per_label[name].append(lab_acc[name][0] / max(lab_acc[name][1], 1))
    return {
        name: {
            "mean_dice": round(float(np.mean(per_label[name])), 5),
            "pooled_dice": round(acc[name][0] / acc[name][1], 5),
            "pooled_dice_single_part_gaps": round(
                acc_single[name][0] / max(acc_single[name][1], 1), 5
            ),
        }
        for name in acc
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timing runs per label")
    parser.add_argument("--quick", action="store_true", help="small series only")
    args = parser.parse_args()

    # ITK runs in its own process: in-process it corrupted the heap of later work here
    # ("malloc_consolidate(): unaligned fastbin chunk detected").
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        itk_note = pool.submit(itk_probe).result()
    except Exception as exc:  # a crashed worker, for instance
        itk_note = f"not available: {type(exc).__name__}: {exc}"
    use_itk = not itk_note.startswith("not available")
    methods: dict[str, Method] = {"ours": method_ours, "sdt": method_sdt}
    report: dict[str, Any] = {
        "benchmark": "mask and polygon interpolation between keyframes",
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": version("scipy"),
            "scikit-image": version("scikit-image"),
            "itk": itk_note,
        },
        "protocol": "keep every k-th slice (plus the last) of each label; Dice on the rest",
        "masks": {},
        "polygons": {},
        "targets": {},
    }
    volumes = load_volumes(args.quick)
    report["ground_truth"] = {
        name: {"slices": int(vol.shape[0]), "identical_to_next_slice": identical_slice_pairs(vol)}
        for name, vol in volumes.items()
    }
    for name, vol in volumes.items():
        report["masks"][name] = {}
        for k in KS:
            row = {m: evaluate(vol, k, fn, args.repeats) for m, fn in methods.items()}
            if use_itk:
                try:
                    row["itk_mci"] = pool.submit(itk_evaluate, vol, k, args.repeats).result()
                except Exception as exc:
                    row["itk_mci"] = {"error": f"{type(exc).__name__}: {exc}"}
            report["masks"][name][f"k={k}"] = row
            brief = {
                m: {key: v for key, v in r.items() if key != "per_label"} for m, r in row.items()
            }
            print(f"{name} k={k}: " + json.dumps(brief), file=sys.stderr, flush=True)
        report["polygons"][name] = {f"k={k}": evaluate_polygons(vol, k, seed=k) for k in KS}

    pool.shutdown()
    # Targets: ours >= the best reference at every k and axis, +0.005 at k = 5; <= 10 ms.
    checks = {}
    for name, rows in report["masks"].items():
        for kk, row in rows.items():
            refs = [v for m, v in row.items() if m != "ours" and "error" not in v]
            for metric in ("mean_dice", "pooled_dice"):
                best = max(r[metric] for r in refs)
                margin = 0.005 if kk == "k=5" else 0.0
                checks[f"{name} {kk} {metric}"] = {
                    "ours": row["ours"][metric],
                    "best_reference": best,
                    "delta": round(row["ours"][metric] - best, 5),
                    "met": row["ours"][metric] >= best + margin,
                }
    report["targets"]["accuracy"] = checks
    abd = report["masks"].get("ct_abdomen/axial")
    if abd:
        worst = max(r["ours"]["ms_per_label_per_gap_median"] for r in abd.values())
        report["targets"]["ms_per_label_per_gap_512"] = {
            "ours_median_worst_k": worst,
            "met": worst <= 10.0,
        }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
