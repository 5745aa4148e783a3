"""Keyframe interpolation of boxes, points, primitives, polygons and polylines, and tracks."""

from __future__ import annotations

import numpy as np
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels import (
    interpolate_boxes,
    interpolate_points,
    interpolate_polygons,
    interpolate_polylines,
    interpolate_primitives,
    interpolate_track,
    mask_to_polygons,
    match_polygon_rings,
    polygon_area,
    polygons_to_mask,
    resample_closed,
)
from dicom_annot_widget.kernels.contours import mask_to_ring, split_keyhole
from dicom_annot_widget.kernels.mask_interpolation import interpolate_masks


def circle(cx, cy, r, n, start=0.0):
    a = start + np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)])


def square(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def dice(a, b):
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def test_points_boxes_and_primitives_are_linear():
    np.testing.assert_allclose(interpolate_points([0, 0], [10, 20], 0.25), [2.5, 5.0])
    # Box corners given in any order are normalised first.
    np.testing.assert_allclose(
        interpolate_boxes([10, 10, 0, 0], [2, 2, 22, 42], 0.5), [1, 1, 16, 26]
    )
    nodes = interpolate_primitives(
        {"head": [0, 0], "tail": [10, 0], "wing": [5, 5]},
        {"head": [10, 10], "tail": [20, 10]},
        0.5,
    )
    assert set(nodes) == {"head", "tail"}  # "wing" is missing from the second keyframe
    np.testing.assert_allclose(nodes["head"], [5, 5])
    with pytest.raises(LabelError, match="t must be between 0 and 1"):
        interpolate_points([0, 0], [1, 1], 1.5)
    with pytest.raises(LabelError, match="b1"):
        interpolate_boxes([0, 0, 1, 1], [0, 0, 1], 0.5)


def test_polygon_with_reversed_winding_unequal_counts_and_other_start():
    a = circle(50, 50, 20, 12)
    b = circle(50, 50, 20, 57, start=2.0)[::-1]  # other count, start and winding
    mid = interpolate_polygons(a, b, 0.5)
    assert isinstance(mid, np.ndarray)
    # Same circle at both ends, so the middle is that circle again (no twist, no collapse).
    radius = np.hypot(*(mid - 50).T)
    assert np.all(radius > 19.5) and np.all(radius < 20.01)
    assert polygon_area(a) - 1 < polygon_area(mid) < abs(polygon_area(b)) + 1


def test_naive_vertex_matching_would_collapse_the_same_case():
    a = resample_closed(circle(50, 50, 20, 12), 64)
    b = resample_closed(circle(50, 50, 20, 57, start=2.0)[::-1], 64)
    naive = 0.5 * (a + b)  # same index = same point
    assert abs(polygon_area(naive)) < 0.5 * np.pi * 400


def test_polygon_moves_and_grows():
    a = square(10, 10, 30, 30)
    b = square(50, 20, 90, 60)[[2, 3, 0, 1]]  # rotated start
    mid = interpolate_polygons(a, b, 0.5)
    expected = polygons_to_mask(square(30, 15, 60, 45), (100, 100))
    assert dice(polygons_to_mask(mid, (100, 100)), expected) > 0.99


def test_match_polygon_rings_reproduces_both_keyframes():
    a = square(0, 0, 10, 10)
    b = circle(20, 5, 6, 9)[::-1]
    pa, pb = match_polygon_rings(a, b)
    assert pa.shape == pb.shape
    # Every original vertex survives.
    for v in a:
        assert np.min(np.hypot(*(pa - v).T)) < 1e-9
    for v in b:
        assert np.min(np.hypot(*(pb - v).T)) < 1e-9
    assert polygon_area(pa) > 0 and polygon_area(pb) > 0


def test_multipolygon_parts_are_matched_by_position_not_order():
    left0, right0 = square(0, 0, 10, 10), square(50, 0, 60, 10)
    left1, right1 = square(2, 0, 12, 10), square(52, 0, 62, 10)
    mid = interpolate_polygons([left0, right0], [right1, left1], 0.5)
    assert isinstance(mid, list) and len(mid) == 2
    xs = sorted(float(p[:, 0].mean()) for p in mid)
    assert xs == pytest.approx([6.0, 56.0])


def test_part_that_disappears_shrinks_to_its_centroid():
    keep, gone = square(0, 0, 10, 10), square(40, 40, 50, 50)
    mid = interpolate_polygons([keep, gone], [keep], 0.5)
    assert len(mid) == 2
    small = min(mid, key=polygon_area)
    assert polygon_area(small) == pytest.approx(25.0)
    np.testing.assert_allclose(small.mean(axis=0), [45, 45])
    # It appears the same way from the other side.
    mid = interpolate_polygons([keep], [keep, gone], 0.25)
    assert polygon_area(min(mid, key=polygon_area)) == pytest.approx(100 * 0.25**2)


def test_polygon_that_splits_is_interpolated_through_masks():
    bar = square(10, 20, 70, 40)
    parts = [square(5, 20, 35, 40), square(45, 20, 75, 40)]
    near_start = interpolate_polygons(bar, parts, 0.1)
    near_end = interpolate_polygons(bar, parts, 0.9)
    assert len(near_start) == 1 and len(near_end) == 2
    m_end = polygons_to_mask(near_end, (60, 90))
    assert dice(m_end, polygons_to_mask(parts, (60, 90))) > 0.9


def test_polyline_direction_is_aligned():
    line = np.array([[0, 0], [10, 0], [20, 5], [30, 5]], dtype=float)
    reversed_dense = np.array([[30, 5], [25, 5], [20, 5], [10, 0], [5, 0], [0, 0]], dtype=float)
    mid = interpolate_polylines(line, reversed_dense, 0.5)
    # Same curve: the middle is that curve (a naive pairing would fold it onto its centre).
    assert mid[0] == pytest.approx([0, 0]) and mid[-1] == pytest.approx([30, 5])
    shifted = interpolate_polylines(line, line + np.array([0, 10]), 0.3)
    np.testing.assert_allclose(shifted[[0, -1]], [[0, 3], [30, 8]])
    with pytest.raises(LabelError, match="l0"):
        interpolate_polylines([[0, 0]], line, 0.5)


def test_track_interpolates_every_kind_between_manual_keyframes():
    cases = {
        "bbox": ({0: [0, 0, 10, 10], 4: [4, 4, 14, 18]}, [2, 2, 12, 14]),
        "point": ({0: [0, 0], 4: [8, 4]}, [4, 2]),
        "polyline": ({0: [[0, 0], [10, 0]], 4: [[0, 4], [10, 4]]}, [[0, 2], [10, 2]]),
    }
    for kind, (keys, expected_mid) in cases.items():
        out = interpolate_track(keys, kind)
        assert sorted(out) == [1, 2, 3], kind
        np.testing.assert_allclose(out[2], expected_mid, err_msg=kind)
    out = interpolate_track({0: {"a": [0, 0]}, 2: {"a": [2, 2]}}, "primitive")
    np.testing.assert_allclose(out[1]["a"], [1, 1])
    out = interpolate_track({0: square(0, 0, 10, 10), 10: square(0, 0, 20, 20)}, "polygon")
    assert sorted(out) == list(range(1, 10)) and isinstance(out[5], np.ndarray)
    assert polygon_area(out[5]) == pytest.approx(225.0, rel=1e-6)
    mask = np.zeros((20, 20), dtype=bool)
    mask[5:15, 5:15] = True
    out = interpolate_track({3: mask, 7: mask}, "bitmask", slices=[0, 5, 6, 9], method="linear")
    assert sorted(out) == [5, 6]  # outside the keyframes: no extrapolation


def test_track_errors():
    with pytest.raises(LabelError, match="at least two manual keyframes"):
        interpolate_track({3: [0, 0]}, "point")
    with pytest.raises(LabelError, match="shape_kind"):
        interpolate_track({0: [0, 0], 2: [1, 1]}, "ellipse")
    with pytest.raises(LabelError, match="unknown option"):
        interpolate_track({0: [0, 0], 2: [1, 1]}, "point", spacing=(1, 1))
    with pytest.raises(LabelError, match="keyframe 2"):
        interpolate_track({0: square(0, 0, 5, 5), 2: [[0, 0], [1, 1]]}, "polygon")


def test_empty_polygon_keyframe_means_absent():
    sq = square(0, 0, 10, 10)
    out = interpolate_track({0: [], 4: sq}, "polygon")
    areas = [sum(polygon_area(r) for r in out[s]) for s in (1, 2, 3)]
    assert areas == pytest.approx([100 / 16, 100 / 4, 100 * 9 / 16])
    assert interpolate_polygons([], [], 0.5) == []


# -- keyhole rings (holes and parts joined by bridges) ----------------------------------------

YY, XX = np.mgrid[:120, :170]


def disc(cx, cy, r):
    return (XX - cx) ** 2 + (YY - cy) ** 2 <= r * r


def keyhole(mask):
    """The one ring a brush edit of a polygon keyframe stores (see widget/masks.py)."""
    return mask_to_ring(mask_to_polygons(mask, tolerance=0.5))


def topology(mask):
    """(parts, holes) of a mask."""
    polys = mask_to_polygons(mask)
    return len(polys), sum(len(p.holes) for p in polys)


def test_annulus_keyframes_give_derived_slices_with_a_hole():
    # the hole moves from the left to the right of the disc, so the two keyframes' bridges
    # leave the outline on opposite sides: matched as plain rings they opened into slits
    def truth(t):
        return disc(60, 60, 35) & ~disc(45 + 30 * t, 60, 10)

    keys = {0: keyhole(truth(0.0)), 8: keyhole(truth(1.0))}
    out = interpolate_track(keys, "polygon")
    assert sorted(out) == list(range(1, 8))
    for z, ring in out.items():
        assert isinstance(ring, np.ndarray)  # one ring in, one ring out
        mask = polygons_to_mask(ring, XX.shape)
        assert topology(mask) == (1, 1), z
        assert dice(mask, truth(z / 8)) > 0.97, z
        # in keyhole form: the same pixels under the non-zero rule, and it splits the same way
        (poly,) = split_keyhole(ring)
        assert len(poly.holes) == 1
        np.testing.assert_array_equal(polygons_to_mask(poly, XX.shape), mask)


def test_hole_that_appears_grows_from_nothing():
    solid = disc(60, 60, 30)
    holed = solid & ~disc(62, 60, 14)
    out = interpolate_track({0: keyhole(solid), 4: keyhole(holed)}, "polygon")
    masks = [polygons_to_mask(out[z], XX.shape) for z in (1, 2, 3)]
    assert all(topology(m) == (1, 1) for m in masks)
    areas = [int(m.sum()) for m in masks]
    assert solid.sum() > areas[0] > areas[1] > areas[2] > holed.sum()


def test_blob_that_splits_in_two_follows_mask_interpolation():
    one = disc(70, 60, 30)
    two = disc(50, 60, 18) | disc(100, 60, 18)
    r0, r1 = keyhole(one), keyhole(two)
    out = interpolate_track({0: r0, 8: r1}, "polygon")
    m0, m1 = polygons_to_mask(r0, XX.shape), polygons_to_mask(r1, XX.shape)
    ref = interpolate_masks({0: m0, 8: m1}, list(out))
    for z, ring in out.items():
        mask = polygons_to_mask(ring, XX.shape)
        assert dice(mask, ref[z]) > 0.97, z
    assert topology(polygons_to_mask(out[7], XX.shape)) == (2, 0)
    assert len(split_keyhole(out[7])) == 2  # the two parts, joined by a bridge


def test_parts_of_a_keyhole_ring_keep_their_identity():
    # two discs whose sizes swap: the larger comes first in the joined ring, so a plain ring
    # match morphed the left disc into the right one
    def truth(t):
        return disc(40, 60, 12 + 8 * t) | disc(110, 60, 20 - 8 * t)

    out = interpolate_track({0: keyhole(truth(0.0)), 6: keyhole(truth(1.0))}, "polygon")
    for z, ring in out.items():
        mask = polygons_to_mask(ring, XX.shape)
        assert topology(mask) == (2, 0), z
        assert dice(mask, truth(z / 6)) > 0.97, z


def test_part_inside_a_hole_stays_a_part():
    def frame(cx):
        r = np.hypot(XX - cx, YY - 60)
        return (r <= 30) & ~(r <= 18) | (r <= 8)

    out = interpolate_track({0: keyhole(frame(60.0)), 4: keyhole(frame(70.0))}, "polygon")
    for z, ring in out.items():
        mask = polygons_to_mask(ring, XX.shape)
        assert topology(mask) == (2, 1), z
        assert dice(mask, frame(60.0 + 2.5 * z)) > 0.95, z


def test_keyhole_keyframes_themselves_and_lists_of_parts():
    annulus = keyhole(disc(60, 60, 30) & ~disc(60, 60, 12))
    moved = annulus + np.array([10.0, 0.0])
    np.testing.assert_array_equal(interpolate_polygons(annulus, moved, 0.0), annulus)
    np.testing.assert_array_equal(interpolate_polygons(annulus, moved, 1.0), moved)
    mid = interpolate_polygons(annulus, moved, 0.5)
    target = disc(65, 60, 30) & ~disc(65, 60, 12)
    assert dice(polygons_to_mask(mid, XX.shape), target) > 0.98
    # a list of parts gives a list of parts, each a keyhole ring of its own
    other = square(120, 20, 140, 40)
    parts = interpolate_polygons([annulus, other], [moved, other], 0.5)
    assert isinstance(parts, list) and len(parts) == 2
    assert sorted(len(split_keyhole(p)[0].holes) for p in parts) == [0, 1]


def test_simple_rings_keep_the_vertex_correspondence():
    a = circle(50, 50, 20, 12)
    b = circle(60, 45, 25, 17, start=1.0)[::-1]
    pa, pb = match_polygon_rings(a, b)
    out = interpolate_track({0: a, 4: b}, "polygon")
    for z, ring in out.items():
        np.testing.assert_array_equal(ring, (1 - z / 4) * pa + z / 4 * pb)
    # a ring touching itself at a vertex (no edge walked both ways) is still a simple ring
    bow = np.array([[0, 0], [10, 0], [5, 5], [10, 10], [0, 10], [5, 5]], dtype=float)
    pa, pb = match_polygon_rings(bow, bow + 4)
    np.testing.assert_array_equal(interpolate_polygons(bow, bow + 4, 0.5), (pa + pb) / 2)
