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
    match_polygon_rings,
    polygon_area,
    polygons_to_mask,
    resample_closed,
)


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
