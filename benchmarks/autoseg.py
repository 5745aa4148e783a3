"""refine_polygon on real CT: Dice before and after; prints one JSON document.

Ground-truth outlines (largest connected part of each organ on a few slices) are perturbed the
way a hurried annotator would: traced with a 2 px simplification tolerance after

* ``dilate``: dilation by 3 px (outline too big),
* ``erode``: erosion by 3 px (outline too small),
* ``jitter``: the true outline with Gaussian vertex noise (sigma 1.5 px),

and then refined. Reference measured in the same run: scikit-image's morphological geodesic
active contour (``morphological_geodesic_active_contour`` on ``inverse_gaussian_gradient``,
60 iterations, no balloon force) started from the same rough mask and limited to the same band.

Data: ``../shared/data/ct_abdomen`` (DICOM + segmentation.npz; liver, spleen, aorta, inferior
vena cava, stomach; this series has no kidney labels) and ``../shared/data/ct_small_nifti``
(kidneys, 3 mm pixels).
Run: ``python benchmarks/autoseg.py``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from skimage import segmentation

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
try:
    import dicom_annot_widget  # noqa: F401
except ImportError:  # a source checkout that is not installed
    sys.path.insert(0, str(ROOT))

from dicom_annot_widget.kernels import (  # noqa: E402
    mask_to_polygons,
    polygons_to_mask,
    refine_polygon,
)

PERTURBATIONS = ("dilate", "erode", "jitter")


def cases() -> list[tuple[str, int, NDArray[np.float32], NDArray[np.bool_]]]:
    """(organ, slice, HU image, ground truth) for every benchmark case."""
    import nibabel as nib
    import pydicom

    out = []
    seg = np.load(DATA / "ct_abdomen" / "segmentation.npz")
    organs = {5: "liver", 1: "spleen", 52: "aorta", 63: "inferior_vena_cava", 6: "stomach"}
    for k in (3, 10, 16):
        ds = pydicom.dcmread(DATA / "ct_abdomen" / "dicom" / str(seg["file_name"][k]))
        hu = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        for value, name in organs.items():
            gt = seg["labels"][k] == value
            if gt.sum() >= 50:
                out.append((f"ct_abdomen/{name}", k, hu, largest(gt)))
    ct_img: Any = nib.load(DATA / "ct_small_nifti" / "ct.nii.gz")
    seg_img: Any = nib.load(DATA / "ct_small_nifti" / "segmentation.nii.gz")
    ct = np.asarray(ct_img.dataobj)
    lab = np.asarray(seg_img.dataobj)
    for value, name in {2: "kidney_right", 3: "kidney_left"}.items():
        m = lab == value
        areas = m.sum(axis=(0, 1))
        for k in np.argsort(areas)[::-1][:3]:
            gt = m[:, :, k]
            out.append(
                (f"ct_small_nifti/{name}", int(k), ct[:, :, k].astype(np.float32), largest(gt))
            )
    return out


def largest(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def perturb(gt: NDArray[np.bool_], kind: str, rng: np.random.Generator) -> NDArray[np.float64]:
    if kind == "dilate":
        m = ndi.binary_dilation(gt, iterations=3)
    elif kind == "erode":
        m = ndi.binary_erosion(gt, iterations=3)
        if not m.any():
            m = gt
    else:
        m = gt
    ring = mask_to_polygons(m, tolerance=2.0)[0].exterior
    if kind == "jitter":
        ring = ring + rng.normal(0, 1.5, ring.shape)
    return ring


def morph_gac(image: NDArray[np.float32], mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Reference: morphological geodesic active contour within the same band as ours."""
    area = int(mask.sum())
    band = int(np.clip(round(0.25 * np.sqrt(area / np.pi)), 3, 6))
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    g = 2 * band + 2
    r0, r1 = max(rows[0] - g, 0), min(rows[-1] + g + 1, mask.shape[0])
    c0, c1 = max(cols[0] - g, 0), min(cols[-1] + g + 1, mask.shape[1])
    sub = np.clip(image[r0:r1, c0:c1], -200, 400)
    sub = (sub - sub.min()) / (float(np.ptp(sub)) + 1e-6)
    edge = segmentation.inverse_gaussian_gradient(sub, alpha=100, sigma=1.5)
    mm = mask[r0:r1, c0:c1]
    ls = segmentation.morphological_geodesic_active_contour(
        edge, 60, init_level_set=mm.astype(np.int8), smoothing=1, balloon=0
    )
    inner = ndi.binary_erosion(mm, iterations=band)
    outer = ndi.binary_dilation(mm, iterations=band)
    out = np.zeros_like(mask)
    out[r0:r1, c0:c1] = (ls.astype(bool) | inner) & outer
    return out


def dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def main() -> None:
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []
    for organ, k, image, gt in cases():
        for kind in PERTURBATIONS:
            rough = perturb(gt, kind, rng)
            rough_mask = polygons_to_mask(rough, gt.shape)
            times = []
            refined = rough
            for _ in range(3):
                t0 = time.perf_counter()
                refined = refine_polygon(image, rough)
                times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = morph_gac(image, rough_mask)
            t_ref = time.perf_counter() - t0
            rows.append(
                {
                    "organ": organ,
                    "slice": k,
                    "perturbation": kind,
                    "dice_before": round(dice(rough_mask, gt), 4),
                    "dice_after": round(dice(polygons_to_mask(refined, gt.shape), gt), 4),
                    "dice_reference_morph_gac": round(dice(ref, gt), 4),
                    "ms": round(1e3 * float(np.median(times)), 2),
                    "ms_reference": round(1e3 * t_ref, 2),
                }
            )

    def summary(sel: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "cases": len(sel),
            "dice_before": round(float(np.mean([r["dice_before"] for r in sel])), 4),
            "dice_after": round(float(np.mean([r["dice_after"] for r in sel])), 4),
            "dice_reference_morph_gac": round(
                float(np.mean([r["dice_reference_morph_gac"] for r in sel])), 4
            ),
            "improved_cases": int(sum(r["dice_after"] > r["dice_before"] for r in sel)),
            "ms_median": round(float(np.median([r["ms"] for r in sel])), 2),
            "ms_reference_median": round(float(np.median([r["ms_reference"] for r in sel])), 2),
        }

    report = {
        "benchmark": "refine_polygon: rough outline -> organ edges",
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
        "overall": summary(rows),
        "by_perturbation": {
            p: summary([r for r in rows if r["perturbation"] == p]) for p in PERTURBATIONS
        },
        "by_organ": {
            o: summary([r for r in rows if r["organ"] == o])
            for o in sorted({r["organ"] for r in rows})
        },
        "cases": rows,
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
