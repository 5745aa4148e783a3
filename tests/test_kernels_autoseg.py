"""refine_mask / refine_polygon (auto-segmentation) on synthetic images."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dicom_annot_widget.kernels import (
    mask_to_polygons,
    polygons_to_mask,
    refine_mask,
    refine_polygon,
)


def dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def disc(shape: tuple[int, int], cy: float, cx: float, r: float) -> NDArray[np.bool_]:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2


def test_dilated_outline_of_a_noisy_disc_tightens() -> None:
    rng = np.random.default_rng(1)
    truth = disc((128, 128), 64, 60, 24)
    image = np.where(truth, 120.0, 40.0) + rng.normal(0, 12, truth.shape)
    rough = mask_to_polygons(disc((128, 128), 64, 60, 28), tolerance=1.0)[0].exterior
    before = dice(polygons_to_mask(rough, truth.shape), truth)
    after = dice(polygons_to_mask(refine_polygon(image, rough), truth.shape), truth)
    assert after > 0.97 and after > before + 0.05, (before, after)


def test_scale_and_offset_of_the_intensities_do_not_matter() -> None:
    rng = np.random.default_rng(6)
    truth = disc((100, 100), 50, 48, 18)
    image = np.where(truth, 1.0, 0.0) + rng.normal(0, 0.15, truth.shape)
    rough = disc((100, 100), 50, 48, 21)
    a = refine_mask(image, rough)
    b = refine_mask(image * 800.0 - 1000.0, rough)
    assert dice(a, b) > 0.99
    assert dice(a, truth) > 0.95
