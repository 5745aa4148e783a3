"""Brush, eraser and threshold brush kernels: exact coverage, gap-free strokes, sparse patches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage as ndi

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels import (
    MaskPatch,
    apply_stroke,
    stroke_mask,
    stroke_patch,
    threshold_brush,
    threshold_patch,
)


def brute_force(points, radius, shape, spacing=None):
    """Reference coverage: distance from every voxel centre to the stroke polyline <= radius."""
    pts = np.asarray(points, dtype=np.float64)
    ndim = len(shape)
    sp = np.ones(ndim) if spacing is None else np.asarray(spacing, dtype=np.float64)
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    q = grid[..., ::-1].astype(np.float64)  # xy(z) order
    s = sp[::-1]
    segs = [(pts[0], pts[0])] if len(pts) == 1 else list(itertools.pairwise(pts))
    covered = np.zeros(shape, dtype=bool)
    for a, b in segs:
        d = b - a
        length2 = float(np.sum((d * s) ** 2))
        t = 0.0 if length2 == 0 else np.clip(((q - a) * d * s**2).sum(-1) / length2, 0, 1)
        closest = a + np.asarray(t)[..., None] * d
        covered |= (((q - closest) * s) ** 2).sum(-1) <= radius * radius
    return covered


def test_single_stamp_is_the_documented_disc():
    rows, cols = 64, 80
    yy, xx = np.mgrid[:rows, :cols]
    rng = np.random.default_rng(1)
    for _ in range(25):
        cx, cy = rng.uniform(-5, cols + 5), rng.uniform(-5, rows + 5)
        r = float(rng.choice([0.5, 1.0, 2.5, 7.0, 20.0, rng.uniform(0.3, 25)]))
        expected = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        np.testing.assert_array_equal(stroke_mask([[cx, cy]], r, (rows, cols)), expected)


def test_pixels_exactly_on_the_circle_are_inside():
    m = stroke_mask([[30.0, 30.0]], 20, (61, 61))
    assert m[30, 50] and m[30, 10] and m[10, 30] and m[50, 30]  # distance 20 on the axes
    assert m[30 + 16, 30 + 12] and m[30 - 12, 30 - 16]  # 12-16-20 triangle: distance exactly 20
    assert not m[30, 51] and not m[30 + 17, 30 + 12]
    assert m.sum() == int(((np.mgrid[:61, :61] - 30) ** 2).sum(0).__le__(400).sum())


def test_fast_stroke_leaves_no_gap():
    # Two pointer samples 150 px apart with a 2.5 px brush: one connected band.
    pts = [[10.0, 20.0], [160.0, 95.0]]
    m = stroke_mask(pts, 2.5, (120, 180))
    np.testing.assert_array_equal(m, brute_force(pts, 2.5, (120, 180)))
    assert ndi.label(m)[1] == 1
    # Every pixel on the straight line between the samples is painted.
    t = np.linspace(0, 1, 2000)
    line_x = np.rint(10 + t * 150).astype(int)
    line_y = np.rint(20 + t * 75).astype(int)
    assert m[line_y, line_x].all()


def test_stroke_is_the_union_of_densely_stamped_discs():
    rng = np.random.default_rng(2)
    pts = np.cumsum(rng.uniform(-12, 12, size=(8, 2)), axis=0) + 50
    r = 4.3
    m = stroke_mask(pts, r, (100, 100))
    np.testing.assert_array_equal(m, brute_force(pts, r, (100, 100)))
    yy, xx = np.mgrid[:100, :100]
    dense = np.zeros_like(m)
    for a, b in itertools.pairwise(pts):
        for t in np.linspace(0, 1, 400):
            c = a + t * (b - a)
            dense |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r
    assert not (dense & ~m).any()  # every stamp is inside the stroke
    grown = np.zeros_like(m)
    for a, b in itertools.pairwise(pts):
        for t in np.linspace(0, 1, 400):
            c = a + t * (b - a)
            grown |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= (r + 0.05) ** 2
    assert not (m & ~grown).any()  # and nothing beyond the stamps


def test_patch_is_clipped_to_the_image_and_matches_dense():
    shape = (40, 50)
    pts = [[-3.0, 5.0], [10.0, -2.0], [48.5, 38.0]]
    p = stroke_patch(pts, 6, shape)
    assert all(o >= 0 for o in p.offset)
    assert all(e <= n for e, n in zip(p.stop, shape, strict=True))
    np.testing.assert_array_equal(p.to_dense(shape), brute_force(pts, 6, shape))


def test_stroke_outside_the_image_is_empty():
    p = stroke_patch([[-50.0, -50.0], [-40.0, -60.0]], 5, (30, 30))
    assert p.data.size == 0
    mask = np.zeros((30, 30), dtype=bool)
    new, changed = apply_stroke(mask, p, "paint")
    assert changed is None and not new.any()


def test_anisotropic_spacing_makes_a_round_brush_in_mm():
    # Rows 2 mm apart, columns 0.5 mm apart: a 10 mm brush spans +-5 rows and +-20 columns.
    m = stroke_mask([[40.0, 20.0]], 10.0, (41, 81), spacing=(2.0, 0.5))
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    assert (rows[0], rows[-1]) == (15, 25)
    assert (cols[0], cols[-1]) == (20, 60)
    np.testing.assert_array_equal(m, brute_force([[40.0, 20.0]], 10.0, (41, 81), (2.0, 0.5)))


def test_sphere_brush_in_3d():
    shape = (12, 30, 30)
    spacing = (2.0, 1.0, 1.0)  # slices 2 mm apart
    pts = [[10.0, 12.0, 5.0], [18.0, 15.0, 6.0]]
    m = stroke_mask(pts, 5.0, shape, spacing=spacing)
    np.testing.assert_array_equal(m, brute_force(pts, 5.0, shape, spacing))
    slices = np.flatnonzero(m.any(axis=(1, 2)))
    assert (slices[0], slices[-1]) == (3, 8)  # 5 mm reaches 2 slices beyond each end
    # A 3-D stroke needs a 3-D shape.
    with pytest.raises(LabelError, match="points"):
        stroke_mask(pts, 5.0, (30, 30))


def test_threshold_brush_is_stroke_and_range():
    rng = np.random.default_rng(3)
    image = rng.normal(40, 60, size=(64, 64)).astype(np.float32)
    image[10, 10] = np.nan
    pts = [[5.0, 5.0], [50.0, 40.0]]
    got = threshold_brush(image, pts, 7, 0, 100)
    expected = brute_force(pts, 7, image.shape) & (image >= 0) & (image <= 100)
    np.testing.assert_array_equal(got, expected)
    assert not got[10, 10]  # NaN is never in range
    # Open sides.
    np.testing.assert_array_equal(
        threshold_brush(image, pts, 7, None, 0), brute_force(pts, 7, image.shape) & (image <= 0)
    )


def test_threshold_patch_rescales_stored_values():
    stored = np.arange(100 * 100, dtype=np.uint16).reshape(100, 100) % 2000
    hu = stored.astype(np.float64) - 1024
    stroke = stroke_patch([[20.0, 30.0], [70.0, 60.0]], 9, stored.shape)
    got = threshold_patch(stroke, stored, -100, 300, slope=1.0, intercept=-1024.0)
    expected = stroke.to_dense(stored.shape) & (hu >= -100) & (hu <= 300)
    np.testing.assert_array_equal(got.to_dense(stored.shape), expected)
    assert got.offset == stroke.offset


def test_threshold_range_must_be_ordered():
    with pytest.raises(LabelError, match="lo <= hi"):
        threshold_brush(np.zeros((10, 10)), [[5.0, 5.0]], 2, 100, -100)


def test_paint_returns_minimal_changed_patch():
    mask = np.zeros((60, 70), dtype=bool)
    mask[20:30, 20:30] = True
    stroke = stroke_patch([[25.0, 25.0], [45.0, 25.0]], 4, mask.shape)
    new, changed = apply_stroke(mask, stroke, "paint")
    np.testing.assert_array_equal(new, mask | stroke.to_dense(mask.shape))
    assert not mask[25, 45]  # the input is left alone
    assert changed is not None
    diff = new != mask
    rows, cols = np.flatnonzero(diff.any(1)), np.flatnonzero(diff.any(0))
    assert changed.offset == (rows[0], cols[0])
    assert changed.stop == (rows[-1] + 1, cols[-1] + 1)
    # Applying only the patch to the old mask gives the new mask.
    replay = mask.copy()
    changed.write_into(replay)
    np.testing.assert_array_equal(replay, new)


def test_eraser_clears_and_reports_only_what_changed():
    mask = np.zeros((50, 50), dtype=bool)
    mask[10:40, 10:40] = True
    stroke = stroke_patch([[5.0, 25.0], [45.0, 25.0]], 3, mask.shape)
    new, changed = apply_stroke(mask, stroke, "erase")
    np.testing.assert_array_equal(new, mask & ~stroke.to_dense(mask.shape))
    assert changed is not None
    # The stroke's box reaches x = 2..48, but only x = 10..39 changed.
    assert changed.offset[1] == 10 and changed.stop[1] == 40
    assert not changed.data.any()
    # Erasing where nothing is painted changes nothing.
    again, none = apply_stroke(new, stroke, "erase")
    assert none is None
    np.testing.assert_array_equal(again, new)


def test_apply_stroke_inplace_and_dense_stroke():
    mask = np.zeros((20, 20), dtype=bool)
    dense = stroke_mask([[10.0, 10.0]], 3, mask.shape)
    out, changed = apply_stroke(mask, dense, "paint", inplace=True)
    assert out is mask and mask.sum() == dense.sum()
    assert changed is not None
    np.testing.assert_array_equal(changed.data, dense[changed.slices])
    # A 3-D mask with a sphere stroke.
    vol = np.zeros((6, 20, 20), dtype=bool)
    sphere = stroke_patch([[10.0, 10.0, 3.0]], 2.0, vol.shape)
    new, ch = apply_stroke(vol, sphere)
    assert ch is not None and len(ch.offset) == 3
    np.testing.assert_array_equal(new, sphere.to_dense(vol.shape))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"radius": 0}, "radius"),
        ({"radius": -2}, "radius"),
        ({"radius": float("nan")}, "radius"),
        ({"points": [[1.0, np.nan]]}, "points"),
        ({"points": np.zeros((0, 2))}, "points"),
        ({"points": [[1.0, 2.0, 3.0, 4.0]]}, "points"),
        ({"shape": (10,)}, "shape"),
        ({"spacing": (1.0, 0.0)}, "spacing"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, word):
    args = {"points": [[5.0, 5.0]], "radius": 3, "shape": (10, 10)}
    args.update(kwargs)
    with pytest.raises(LabelError, match=word):
        stroke_patch(args["points"], args["radius"], args["shape"], spacing=args.get("spacing"))


def test_apply_stroke_rejects_bad_mode_and_mismatch():
    mask = np.zeros((10, 10), dtype=bool)
    with pytest.raises(LabelError, match="mode"):
        apply_stroke(mask, stroke_patch([[5.0, 5.0]], 2, (10, 10)), "smudge")  # type: ignore[arg-type]
    with pytest.raises(LabelError, match="shape"):
        apply_stroke(mask, np.ones((5, 5), dtype=bool))
    with pytest.raises(LabelError, match="fit"):
        apply_stroke(mask, MaskPatch((8, 8), np.ones((4, 4), dtype=bool)))
