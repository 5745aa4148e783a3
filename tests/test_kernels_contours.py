"""Mask <-> polygon conversions and refine_polygon (auto-segmentation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels import (
    PolygonWithHoles,
    mask_to_polygons,
    polygon_area,
    polygons_to_mask,
    refine_mask,
    refine_polygon,
)
from dicom_annot_widget.kernels.contours import mask_to_ring, split_keyhole

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def dice(a, b):
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def test_round_trip_is_exact_on_random_masks():
    rng = np.random.default_rng(0)
    for _ in range(40):
        m = ndi.binary_opening(rng.random((40, 50)) < 0.45) | (rng.random((40, 50)) < 0.03)
        polys = mask_to_polygons(m)
        np.testing.assert_array_equal(polygons_to_mask(polys, m.shape), m)


def test_holes_are_attached_to_their_polygon():
    m = np.zeros((30, 40), dtype=bool)
    m[2:20, 2:20] = True
    m[6:10, 6:10] = False  # a hole
    m[8, 8] = True  # an island inside the hole
    m[25:28, 30:36] = True
    polys = mask_to_polygons(m)
    assert len(polys) == 3
    big = polys[0]
    assert len(big.holes) == 1
    assert polygon_area(big.exterior) > 0 and polygon_area(big.holes[0]) < 0
    assert all(not p.holes for p in polys[1:])
    np.testing.assert_array_equal(polygons_to_mask(polys, m.shape), m)
    # Largest first; coordinates are x = column, y = row.
    assert big.exterior[:, 0].min() == pytest.approx(1.5)
    assert big.exterior[:, 0].max() == pytest.approx(19.5)


def test_polygons_to_mask_covers_pixel_centres_inside():
    ring = np.array([[1.5, 2.5], [4.5, 2.5], [4.5, 6.5], [1.5, 6.5]])
    m = polygons_to_mask(ring, (10, 10))
    expected = np.zeros((10, 10), dtype=bool)
    expected[3:7, 2:5] = True
    np.testing.assert_array_equal(m, expected)
    # Exterior minus holes, union of polygons, list-of-pairs input.
    hole = np.array([[2.5, 3.5], [3.5, 3.5], [3.5, 5.5], [2.5, 5.5]])
    m2 = polygons_to_mask([PolygonWithHoles(ring, [hole]), [[7, 7], [9, 7], [9, 9]]], (10, 10))
    assert not m2[4, 3] and m2[3, 2] and m2[8, 8]
    with pytest.raises(LabelError, match="polygon 0"):
        polygons_to_mask([[[0, 0], [1, 1]]], (5, 5))


def test_simplification_and_empty_masks():
    yy, xx = np.mgrid[:100, :100]
    m = (xx - 50) ** 2 + (yy - 50) ** 2 <= 40**2
    exact = mask_to_polygons(m)[0].exterior
    simple = mask_to_polygons(m, tolerance=1.0)[0].exterior
    assert len(simple) < len(exact) / 3
    assert dice(polygons_to_mask(simple, m.shape), m) > 0.99
    assert mask_to_polygons(np.zeros((5, 5), bool)) == []


def test_refine_polygon_snaps_to_a_disc_from_outside_and_inside():
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:128, :128]
    truth = (xx - 64) ** 2 + (yy - 60) ** 2 <= 25**2
    image = np.where(truth, 180.0, 20.0) + rng.normal(0, 15, truth.shape)
    a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for radius in (31.0, 21.0):
        rough = np.column_stack([64 + radius * np.cos(a), 60 + radius * np.sin(a)])
        rough += rng.normal(0, 1.0, rough.shape)
        before = dice(polygons_to_mask(rough, truth.shape), truth)
        refined = refine_polygon(image, rough)
        after = dice(polygons_to_mask(refined, truth.shape), truth)
        assert after > 0.97 and after > before + 0.05, (radius, before, after)


def test_refine_leaves_empty_input_alone():
    image = np.zeros((20, 20))
    outside = np.array([[-10.0, -10.0], [-5.0, -10.0], [-5.0, -5.0]])
    np.testing.assert_array_equal(refine_polygon(image, outside), outside)
    assert not refine_mask(image, np.zeros((20, 20), bool)).any()
    with pytest.raises(LabelError, match="mask"):
        refine_mask(image, np.zeros((10, 10), bool))


@pytest.mark.skipif(not (DATA / "ct_abdomen").exists(), reason="shared test data missing")
def test_refine_polygon_on_real_ct_liver():
    pydicom = pytest.importorskip("pydicom")
    seg = np.load(DATA / "ct_abdomen" / "segmentation.npz")
    k = 10
    ds = pydicom.dcmread(DATA / "ct_abdomen" / "dicom" / str(seg["file_name"][k]))
    hu = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    liver = seg["labels"][k] == 5
    rough_mask = ndi.binary_erosion(liver, iterations=4)
    rough = mask_to_polygons(rough_mask, tolerance=2.0)[0].exterior
    before = dice(polygons_to_mask(rough, liver.shape), liver)
    after = dice(polygons_to_mask(refine_polygon(hu, rough), liver.shape), liver)
    assert after > before + 0.02


def test_scanline_fill_matches_skimage_on_generic_polygons() -> None:
    """The fast fill covers the same pixels as skimage.draw.polygon (no centre on an edge)."""
    from skimage import draw

    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(3, 60))
        theta = rng.uniform(0, 2 * np.pi, n)
        if trial % 2:
            theta = np.sort(theta)  # star-shaped; otherwise self-intersecting
        r = rng.uniform(5, 80, n)
        cx, cy = rng.uniform(-20, 120, 2)
        ring = np.c_[cx + r * np.cos(theta), cy + r * np.sin(theta)]
        shape = (int(rng.integers(50, 150)), int(rng.integers(50, 150)))
        want = np.zeros(shape, dtype=bool)
        rr, cc = draw.polygon(ring[:, 1], ring[:, 0], shape=shape)
        want[rr, cc] = True
        np.testing.assert_array_equal(polygons_to_mask(ring, shape), want, err_msg=str(trial))


# -- keyhole rings ---------------------------------------------------------------------------


def topology(polys):
    return sorted(len(p.holes) for p in polys)


def test_split_keyhole_takes_mask_to_ring_apart():
    rng = np.random.default_rng(3)
    seen_holes = seen_parts = 0
    for _ in range(30):
        m = ndi.gaussian_filter(rng.random((40, 50)), 2.5) > 0.5
        polys = mask_to_polygons(m, tolerance=0.5)
        if not polys:
            continue
        ring = mask_to_ring(polys)
        seen_holes += sum(len(p.holes) for p in polys)
        seen_parts += len(polys) - 1
        # any start vertex, either direction: the same exteriors and holes come back
        for variant in (ring, np.roll(ring, 5, axis=0), ring[::-1]):
            back = split_keyhole(variant)
            assert topology(back) == topology(polys)
            assert all(polygon_area(p.exterior) > 0 for p in back)
            assert all(polygon_area(h) < 0 for p in back for h in p.holes)
            for a, b in zip(back, polys, strict=True):
                assert polygon_area(a.exterior) == pytest.approx(polygon_area(b.exterior))
            expected = polygons_to_mask(polys, m.shape)
            np.testing.assert_array_equal(polygons_to_mask(back, m.shape), expected)
    assert seen_holes > 0 and seen_parts > 0


def test_split_keyhole_nests_a_part_inside_a_hole_and_leaves_simple_rings_alone():
    yy, xx = np.mgrid[:60, :60]
    r = np.hypot(xx - 30, yy - 30)
    m = (r <= 25) & ~(r <= 15) | (r <= 6)  # a ring around an island
    polys = mask_to_polygons(m, tolerance=0.5)
    back = split_keyhole(mask_to_ring(polys))
    assert [len(p.holes) for p in back] == [1, 0]  # the island is a part, not a hole
    np.testing.assert_array_equal(polygons_to_mask(back, m.shape), polygons_to_mask(polys, m.shape))
    clockwise = np.array([[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]])
    (simple,) = split_keyhole(clockwise)
    assert simple.holes == [] and polygon_area(simple.exterior) == pytest.approx(16.0)
    # a zero-width spike (out and back along one edge) is no part
    spike = np.array([[0.0, 0.0], [4.0, 0.0], [9.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
    (no_spike,) = split_keyhole(spike)
    assert len(no_spike.exterior) == 4 and no_spike.holes == []
