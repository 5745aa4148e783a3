"""Interpolated keyframes of object tracks: ``Labels.interpolate`` for every shape, one undo
step, recomputation when a manual keyframe changes, persistence of ``manual: false``."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage as ndi

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels.contours import mask_to_polygons, mask_to_ring, split_keyhole
from dicom_annot_widget.kernels.mask_interpolation import interpolate_mask_volume
from dicom_annot_widget.labels import Labels, Ontology, ReadOnlyError
from dicom_annot_widget.labels import interpolation as label_interpolation
from dicom_annot_widget.labels.geometry import Box, Mask, Point, Polygon, Polyline, Primitive
from dicom_annot_widget.labels.interpolation import gap_slices, recompute_plan
from dicom_annot_widget.labels.operations import Batch

SERIES = {"series_instance_uid": "1.2.3.4.5", "shape": [24, 40, 60]}  # slices, rows, columns


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "polygon")
        .object("Lesion", "bounding_box")
        .object("Vessel", "polyline")
        .object("Landmark", "point")
        .object("Pose", "primitive", nodes=["a", "b", "c"], edges=[["a", "b"], ["b", "c"]])
        .object("Tumour", "bitmask")
        .build()
    )


@pytest.fixture
def labels() -> Labels:
    return Labels(SERIES, ontology(), author="ana")


def square(x0: float, y0: float, side: float) -> list[tuple[float, float]]:
    """Counter-clockwise on screen (y down): positive shoelace area."""
    return [(x0, y0), (x0, y0 + side), (x0 + side, y0 + side), (x0 + side, y0)]


def manual_flags(labels: Labels, uuid: str) -> dict[int, bool]:
    return {k: kf.manual for k, kf in labels[uuid].keyframes.items()}


def without_revision(labels: Labels) -> dict[str, Any]:
    doc = labels.to_dict()
    doc.pop("revision")
    return doc


def raster(polygon: Polygon, shape: tuple[int, int] = (40, 60)) -> np.ndarray:
    """Pixel centres inside the polygon (even-odd rule)."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    pts = np.asarray(polygon.points)
    inside = np.zeros(shape, dtype=bool)
    for (x1, y1), (x2, y2) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        crosses = (y1 > ys) != (y2 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (xs < x_at)
    return inside


# ---------------------------------------------------------------------------- every shape


def test_boxes_points_and_primitives_move_linearly(labels: Labels) -> None:
    box = labels.add_box("Lesion", 2, (10, 10, 20, 20))
    labels.add_box("Lesion", 6, (14, 18, 30, 22), uuid=box)
    point = labels.add_point("Landmark", 10, (5, 5))
    labels.add_point("Landmark", 13, (8, 11), uuid=point)
    pose = labels.add_primitive("Pose", 0, [(1, 1), (2, 2), (3, 1)], edges=["visible", "visible"])
    labels.add_primitive(
        "Pose", 4, [(5, 9), (10, 2), (3, 5)], edges=["occluded", "invisible"], uuid=pose
    )
    revision = labels.interpolate()
    assert revision == 7  # six drawing edits, then one edit for everything

    assert sorted(labels[box].keyframes) == [2, 3, 4, 5, 6]
    assert labels[box].keyframes[3].geometry == Box(11.0, 12.0, 22.5, 20.5)
    assert labels[box].keyframes[5].geometry == Box(13.0, 16.0, 27.5, 21.5)
    assert labels[point].keyframes[11].geometry == Point(6.0, 7.0)
    assert labels[point].keyframes[12].geometry == Point(7.0, 9.0)
    pose_1 = labels[pose].keyframes[1].geometry
    pose_3 = labels[pose].keyframes[3].geometry
    assert isinstance(pose_1, Primitive) and isinstance(pose_3, Primitive)
    assert pose_1.nodes == {"a": (2.0, 3.0), "b": (4.0, 2.0), "c": (3.0, 2.0)}
    assert pose_3.nodes == {"a": (4.0, 7.0), "b": (8.0, 2.0), "c": (3.0, 4.0)}
    # edge states come from the nearer manual keyframe
    assert pose_1.edges == ("visible", "visible")
    assert pose_3.edges == ("occluded", "invisible")


def test_polyline_direction_is_aligned(labels: Labels) -> None:
    line = labels.add_polyline("Vessel", 4, [(10, 10), (20, 10), (30, 10)])
    # the same line drawn the other way round, 4 pixels lower
    labels.add_polyline("Vessel", 8, [(30, 14), (20, 14), (10, 14)], uuid=line)
    labels.interpolate(line)
    mid = labels[line].keyframes[6].geometry
    assert isinstance(mid, Polyline)
    pts = np.asarray(mid.points)
    assert np.allclose(pts[:, 1], 12.0)  # straight between, not crossed over
    assert pts[0, 0] == 10.0 and pts[-1, 0] == 30.0
    assert mid.length == pytest.approx(20.0)


def test_polygon_reversed_winding_and_unequal_vertex_counts(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 0, square(10, 10, 10))
    # 8 vertices (edge midpoints added), the other winding, another start vertex, moved by 8
    moved = [(18, 20), (23, 20), (28, 20), (28, 15), (28, 10), (23, 10), (18, 10), (18, 15)]
    labels.add_polygon("Liver", 4, moved, uuid=liver)
    labels.interpolate([liver])
    for k, dx in ((1, 2.0), (2, 4.0), (3, 6.0)):
        poly = labels[liver].keyframes[k].geometry
        assert isinstance(poly, Polygon)
        pts = np.asarray(poly.points)
        # the square translated by dx: same area, same box, no twist
        assert poly.area == pytest.approx(100.0, abs=1e-6)
        assert pts.min(axis=0) == pytest.approx([10 + dx, 10])
        assert pts.max(axis=0) == pytest.approx([20 + dx, 20])


def test_polygon_with_a_hole_keeps_it_on_derived_slices(labels: Labels) -> None:
    # keyframes as a brush edit stores them: the hole joined to the outline by a bridge
    # ("keyhole" ring); the hole moves across, so the two bridges are far apart
    ys, xs = np.mgrid[0:40, 0:60]

    def annulus(hole_x: float) -> np.ndarray:
        disc = (xs - 30) ** 2 + (ys - 20) ** 2 <= 15**2
        return disc & ~((xs - hole_x) ** 2 + (ys - 20) ** 2 <= 5**2)

    def ring(mask: np.ndarray) -> list[list[float]]:
        return mask_to_ring(mask_to_polygons(mask, tolerance=0.5)).tolist()

    liver = labels.add_polygon("Liver", 2, ring(annulus(23.0)))
    labels.add_polygon("Liver", 6, ring(annulus(37.0)), uuid=liver)
    labels.interpolate([liver])
    assert manual_flags(labels, liver) == {2: True, 3: False, 4: False, 5: False, 6: True}
    for k in (3, 4, 5):
        poly = labels[liver].keyframes[k].geometry
        assert isinstance(poly, Polygon)
        inside = raster(poly)
        truth = annulus(23.0 + 3.5 * (k - 2))
        assert 2.0 * (inside & truth).sum() / (inside.sum() + truth.sum()) > 0.95
        (part,) = mask_to_polygons(inside)
        assert len(part.holes) == 1  # a hole, not a slit or a smear
        # stored in the same keyhole form as the manual keyframes
        (shape,) = split_keyhole(np.asarray(poly.points))
        assert len(shape.holes) == 1


def test_polygon_that_changes_shape(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 2, square(10, 10, 8))
    big = [(6, 6), (30, 6), (30, 30), (6, 30), (4, 18)]
    labels.add_polygon("Liver", 6, big, uuid=liver)
    labels.interpolate(labels[liver])
    areas = [labels[liver].keyframes[k].geometry.area for k in range(2, 7)]
    assert all(a < b for a, b in itertools.pairwise(areas))  # grows steadily
    mid = labels[liver].keyframes[4].geometry
    assert isinstance(mid, Polygon)
    inside = raster(mid)
    # the middle contains the small square and lies within the big one
    assert inside[10:18, 10:18].all()
    assert not inside[:5, :].any() and not inside[:, 32:].any()


def test_bitmask_interpolation_and_a_mask_that_splits_in_two(labels: Labels) -> None:
    volume = np.zeros((24, 40, 60), dtype=bool)
    volume[2, 10:30, 10:50] = True  # one wide block
    volume[8, 10:30, 10:22] = True  # two blocks under its ends
    volume[8, 10:30, 38:50] = True
    tumour = labels.add_mask("Tumour", volume)
    assert manual_flags(labels, tumour) == {2: True, 8: True}
    labels.interpolate(tumour)
    assert manual_flags(labels, tumour) == {k: k in (2, 8) for k in range(2, 9)}
    got = labels.get_mask(tumour)
    assert (got[2] == volume[2]).all() and (got[8] == volume[8]).all()
    _, near_split = ndi.label(got[7])
    _, near_whole = ndi.label(got[3])
    assert near_split == 2 and near_whole == 1
    for k in range(3, 8):  # stays within the union of the keyframes, never empty
        assert got[k].any() and not (got[k] & ~volume[2]).any()
    assert got[7, 15, 30] == 0 and got[3, 15, 30] == 1  # the gap opens up towards slice 8
    # computed on the masks' bounding box, the same as the kernel on the whole volume
    assert (got == interpolate_mask_volume(volume, [2, 8])).all()


def test_bitmask_in_the_coronal_plane(labels: Labels) -> None:
    width, height = 60, 24  # coronal: columns x slices
    a = np.zeros((height, width), dtype=bool)
    b = np.zeros((height, width), dtype=bool)
    a[5:10, 10:20] = True
    b[5:10, 20:40] = True
    tumour = labels.add_mask("Tumour", a, slice=10, plane="coronal")
    labels.set_mask_slice(tumour, 14, b)
    labels.interpolate(tumour)
    obj = labels[tumour]
    assert obj.slices == (10, 11, 12, 13, 14)
    mid = obj.keyframes[12].geometry
    assert isinstance(mid, Mask) and (mid.height, mid.width) == (height, width)
    assert 50 < mid.area < 100 and mid.to_array()[5:10, 20].all()


# ---------------------------------------------------------------------------- the edit


def test_keyframes_are_marked_derived_and_manual_ones_untouched(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 3, square(10, 10, 10))
    labels.add_polygon("Liver", 7, square(14, 12, 10), uuid=liver)
    labels.add_polygon("Liver", 9, square(20, 12, 6), uuid=liver)
    before = {k: kf for k, kf in labels[liver].keyframes.items()}
    labels.interpolate(liver)
    obj = labels[liver]
    assert manual_flags(labels, liver) == {k: k in (3, 7, 9) for k in range(3, 10)}
    for k in (3, 7, 9):
        assert obj.keyframes[k] is before[k]
    assert obj.source == "manual"  # the object keeps its source; keyframes carry `manual`
    rows = [r for r in labels.to_records() if r["uuid"] == liver]
    assert [(r["slice"], r["manual"]) for r in rows] == [(k, k in (3, 7, 9)) for k in range(3, 10)]


def test_one_edit_one_undo_step_restores_exactly(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 3, square(10, 10, 10))
    labels.add_polygon("Liver", 7, square(14, 12, 10), uuid=liver)
    box = labels.add_box("Lesion", 0, (1, 1, 5, 5))
    labels.add_box("Lesion", 5, (6, 6, 12, 12), uuid=box)
    seen: list[tuple[str, int]] = []
    labels.observe(lambda op, rev: seen.append((op.kind, rev)))
    state = without_revision(labels)
    revision = labels.interpolate()
    assert seen == [("batch", revision)] and revision == labels.revision
    after = without_revision(labels)
    assert after != state
    labels.undo()
    assert without_revision(labels) == state
    assert labels[box].slices == (0, 5) and labels.can_undo  # the drawing edits remain
    labels.redo()
    assert without_revision(labels) == after


def test_existing_derived_keyframes_are_replaced_and_repeat_is_a_no_op(labels: Labels) -> None:
    box = labels.add_box("Lesion", 0, (10, 10, 20, 20))
    labels.add_box("Lesion", 4, (14, 10, 24, 20), uuid=box)
    labels.set_keyframe(box, 2, (0, 0, 3, 3), manual=False)  # a stale derived keyframe
    labels.interpolate(box)
    assert labels[box].keyframes[2].geometry == Box(12.0, 10.0, 22.0, 20.0)
    revision = labels.revision
    assert labels.interpolate(box) == revision  # nothing changes: no edit
    assert labels.interpolate() == revision


def test_start_end_restrict_the_slices(labels: Labels) -> None:
    point = labels.add_point("Landmark", 0, (0, 0))
    labels.add_point("Landmark", 10, (10, 20), uuid=point)
    labels.add_point("Landmark", 20, (20, 20), uuid=point)
    labels.interpolate(point, start=8, end=13)
    assert labels[point].slices == (0, 8, 9, 10, 11, 12, 13, 20)
    assert labels[point].keyframes[9].geometry == Point(9.0, 18.0)
    assert labels[point].keyframes[12].geometry == Point(12.0, 20.0)
    labels.interpolate(point, start=18)
    assert labels[point].slices[-3:] == (18, 19, 20)
    labels.interpolate(point, end=1)
    assert labels[point].slices[:3] == (0, 1, 8)
    assert gap_slices([0, 10, 20], 8, 13) == [8, 9, 11, 12, 13]
    with pytest.raises(LabelError, match="start 5 is after end 2"):
        labels.interpolate(point, start=5, end=2)
    with pytest.raises(LabelError, match=r"interpolate\(start\): -1 is out of range"):
        labels.interpolate(point, start=-1)


def test_fewer_than_two_manual_keyframes_is_refused_naming_the_object(labels: Labels) -> None:
    one = labels.add_box("Lesion", 3, (1, 1, 5, 5))
    two = labels.add_box("Lesion", 3, (10, 10, 15, 15))
    labels.add_box("Lesion", 6, (10, 10, 16, 16), uuid=two)
    derived_only = labels.add_box("Lesion", 2, (20, 20, 25, 25), manual=False)
    labels.add_box("Lesion", 8, (20, 20, 26, 26), uuid=derived_only, manual=False)
    state = without_revision(labels)
    with pytest.raises(LabelError) as info:
        labels.interpolate([two, one])
    message = str(info.value)
    assert f"object 1 ({one})" in message and "at least two manual keyframes" in message
    assert "has 1 manual keyframe;" in message
    with pytest.raises(LabelError, match=r"object 3 .* has 0 manual keyframes"):
        labels.interpolate(derived_only)
    assert without_revision(labels) == state  # nothing changed, not even for `two`
    # objects=None skips them
    labels.interpolate()
    assert labels[two].slices == (3, 4, 5, 6)
    assert labels[one].slices == (3,) and labels[derived_only].slices == (2, 8)


def test_bad_arguments(labels: Labels) -> None:
    with pytest.raises(LabelError, match="unknown object 'nope'"):
        labels.interpolate(["nope"])
    with pytest.raises(LabelError, match="no objects given"):
        labels.interpolate([])
    with pytest.raises(LabelError, match="expected a uuid, a LabelObject or a list"):
        labels.interpolate(42)  # type: ignore[arg-type]
    box = labels.add_box("Lesion", 0, (1, 1, 5, 5))
    labels.add_box("Lesion", 4, (2, 2, 6, 6), uuid=box)
    labels.read_only = True
    with pytest.raises(ReadOnlyError):
        labels.interpolate()


def test_to_json_round_trip_keeps_manual_false(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 3, square(10, 10, 10))
    labels.add_polygon("Liver", 5, square(12, 10, 10), uuid=liver)
    labels.interpolate()
    text = labels.to_json()
    frames = json.loads(text)["objects"][0]["keyframes"]
    assert [frames[k]["manual"] for k in ("3", "4", "5")] == [True, False, True]
    again = Labels.from_json(text)
    assert again.to_json() == text
    assert again[liver].keyframes[4].manual is False


# ---------------------------------------------------------------------------- recomputing


def fresh(labels: Labels, uuid: str) -> Labels:
    """The same object with its manual keyframes only, interpolated from scratch."""
    doc = labels.to_dict()
    for obj in doc["objects"]:
        obj["keyframes"] = {k: f for k, f in obj["keyframes"].items() if f["manual"]}
    other = Labels.from_json(json.dumps(doc))
    other.interpolate(uuid)
    return other


def test_moving_a_manual_keyframe_recomputes_in_the_same_edit(labels: Labels) -> None:
    liver = labels.add_polygon("Liver", 2, square(10, 10, 10))
    labels.add_polygon("Liver", 6, square(14, 10, 10), uuid=liver)
    labels.add_polygon("Liver", 10, square(14, 14, 10), uuid=liver)
    labels.interpolate(liver)
    state = without_revision(labels)
    seen: list[Any] = []
    labels.observe(lambda op, rev: seen.append(op))
    revision = labels.set_keyframe(liver, 6, square(20, 20, 10))  # move the middle one
    assert revision == labels.revision and len(seen) == 1 and isinstance(seen[0], Batch)
    obj = labels[liver]
    assert manual_flags(labels, liver) == {k: k in (2, 6, 10) for k in range(2, 11)}
    expected = fresh(labels, liver)[liver]
    assert obj.keyframes == expected.keyframes
    old_points = state["objects"][0]["keyframes"]["4"]["points"]
    assert obj.keyframes[4].geometry.to_json()["points"] != old_points
    labels.undo()  # one step restores the old keyframe and the old derived ones
    assert without_revision(labels) == state


def test_recompute_is_limited_to_the_neighbouring_gaps(labels: Labels) -> None:
    box = labels.add_box("Lesion", 0, (10, 10, 20, 20))
    labels.add_box("Lesion", 4, (14, 10, 24, 20), uuid=box)
    labels.add_box("Lesion", 8, (18, 10, 28, 20), uuid=box)
    labels.add_box("Lesion", 12, (22, 10, 32, 20), uuid=box)
    labels.interpolate(box)
    old = labels[box]
    labels.set_keyframe(box, 12, (30, 10, 40, 20))
    new = labels[box]
    for k in range(0, 9):
        assert new.keyframes[k] is old.keyframes[k]  # untouched
    assert new.keyframes[10].geometry == Box(24.0, 10.0, 34.0, 20.0)
    assert new.keyframes[10].manual is False


def test_adding_and_deleting_manual_keyframes(labels: Labels) -> None:
    point = labels.add_point("Landmark", 0, (0, 0))
    labels.add_point("Landmark", 10, (10, 0), uuid=point)
    labels.interpolate(point)
    # a manual keyframe inside the interpolated run splits it into two gaps
    labels.set_keyframe(point, 5, (5, 10))
    assert labels[point].keyframes[5].manual is True
    assert labels[point].keyframes[3].geometry == Point(3.0, 6.0)
    assert labels[point].keyframes[7].geometry == Point(7.0, 6.0)
    # deleting it again closes the gap, its slice included
    labels.delete_keyframe(point, 5)
    assert manual_flags(labels, point) == {k: k in (0, 10) for k in range(11)}
    assert labels[point].keyframes[5].geometry == Point(5.0, 0.0)
    # deleting an end leaves no gap: the derived keyframes go too
    labels.delete_keyframe(point, 10)
    assert labels[point].slices == (0,)
    labels.undo()
    assert manual_flags(labels, point) == {k: k in (0, 10) for k in range(11)}
    # editing a derived keyframe makes it manual and recomputes around it
    labels.set_keyframe(point, 2, (2, 8))
    assert labels[point].keyframes[1].geometry == Point(1.0, 4.0)
    assert labels[point].keyframes[6].geometry == Point(6.0, 4.0)


def test_a_derived_keyframe_deleted_by_hand_stays_deleted(labels: Labels) -> None:
    """QA 24a D6: a derived (interpolated) keyframe deleted in the page came back with the next
    edit of a manual keyframe of the track, the recomputation filling its slice again."""
    box = labels.add_box("Lesion", 2, (10, 10, 20, 20))
    labels.add_box("Lesion", 12, (20, 10, 30, 20), uuid=box)
    labels.interpolate(box)
    labels.delete_keyframe(box, 7)
    labels.set_keyframe(box, 2, (12, 10, 22, 20))  # the correction that refilled it
    assert sorted(labels[box].keyframes) == [k for k in range(2, 13) if k != 7]
    assert labels[box].keyframes[4].geometry == Box(13.6, 10.0, 23.6, 20.0)  # recomputed
    labels.set_keyframe(box, 12, (24, 10, 34, 20))
    assert 7 not in labels[box].keyframes
    # asking for interpolation fills it again
    labels.interpolate(box)
    assert 7 in labels[box].keyframes


def test_manual_edits_without_derived_keyframes_are_plain_edits(labels: Labels) -> None:
    box = labels.add_box("Lesion", 0, (10, 10, 20, 20))
    seen: list[Any] = []
    labels.observe(lambda op, rev: seen.append(op.kind))
    labels.add_box("Lesion", 4, (14, 10, 24, 20), uuid=box)
    assert seen == ["set_keyframe"] and labels[box].slices == (0, 4)
    # a manual keyframe added beyond the interpolated run does not fill the new gap
    labels.interpolate(box)
    labels.add_box("Lesion", 9, (14, 10, 24, 20), uuid=box)
    assert labels[box].slices == (0, 1, 2, 3, 4, 9)


def test_recompute_plan_restricted_run(labels: Labels) -> None:
    point = labels.add_point("Landmark", 0, (0, 0))
    labels.add_point("Landmark", 20, (20, 0), uuid=point)
    labels.interpolate(point, start=5, end=8)
    old = labels[point]
    labels.set_keyframe(point, 20, (20, 20))
    assert recompute_plan(old, labels[point]) == ([5, 6, 7, 8], [])
    assert labels[point].slices == (0, 5, 6, 7, 8, 20)  # the run keeps its extent
    assert labels[point].keyframes[5].geometry == Point(5.0, 5.0)


def test_recompute_bitmask_and_page_edits(labels: Labels) -> None:
    ys, xs = np.mgrid[0:40, 0:60]

    def disc(r: float) -> np.ndarray:
        return (xs - 30) ** 2 + (ys - 20) ** 2 < r * r

    tumour = labels.add_mask("Tumour", disc(4), slice=2)
    labels.set_mask_slice(tumour, 6, disc(8))
    labels.set_mask_slice(tumour, 10, disc(9))
    labels.interpolate(tumour)
    old = labels[tumour]
    # an edit as the page sends it, two manual keyframes away from the gap 2..6
    grown = Mask.from_array(disc(16)).to_json()
    labels.apply({"op": "set_keyframe", "uuid": tumour, "slice": 10, "geometry": grown})
    new = labels[tumour]
    assert new.keyframes == fresh(labels, tumour)[tumour].keyframes
    assert [new.keyframes[k].manual for k in (4, 8, 10)] == [False, False, True]
    # the cubic interpolation of the gap 2..6 uses keyframe 10 too: it was recomputed
    assert any(new.keyframes[k] != old.keyframes[k] for k in (3, 4, 5))


def test_a_kernel_failure_while_recomputing_removes_stale_keyframes(
    labels: Labels, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = labels.add_box("Lesion", 0, (10, 10, 20, 20))
    labels.add_box("Lesion", 4, (14, 10, 24, 20), uuid=box)
    labels.interpolate(box)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise LabelError("kernel refused")

    monkeypatch.setattr(label_interpolation, "interpolate_track", broken)
    with pytest.warns(RuntimeWarning, match=r"object 1 .* could not be recomputed"):
        labels.set_keyframe(box, 4, (20, 10, 30, 20))  # the edit goes through
    assert labels[box].slices == (0, 4)
    assert labels[box].keyframes[4].geometry == Box(20.0, 10.0, 30.0, 20.0)
    labels.undo()
    assert labels[box].slices == (0, 1, 2, 3, 4)
    # interpolate() itself reports it, naming the object
    with pytest.raises(LabelError, match=rf"cannot interpolate object 1 \({box}\): kernel refused"):
        labels.interpolate(box, start=1, end=1)


def test_durable_file_replays_interpolation_and_recompute(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    labels = Labels.open(SERIES, ontology(), path, idle_snapshot=None)
    liver = labels.add_polygon("Liver", 2, square(10, 10, 10))
    labels.add_polygon("Liver", 6, square(14, 10, 10), uuid=liver)
    labels.interpolate()
    labels.set_keyframe(liver, 6, square(18, 14, 10))
    labels.undo()
    labels.redo()
    # a crash without close: the snapshot is stale, the journal holds every edit
    crash = tmp_path / "crash"
    crash.mkdir()
    for name in ("labels.json", "labels.json.journal"):
        shutil.copy2(tmp_path / name, crash / name)
    restored = Labels.open(SERIES, None, crash / "labels.json", idle_snapshot=None)
    assert restored.to_json() == labels.to_json()
    assert restored[liver].keyframes[4].manual is False
    restored.close()
    labels.close()


def test_mask_crop_falls_back_to_the_whole_image_at_its_edge(
    labels: Labels, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes: list[tuple[int, int]] = []
    real = label_interpolation.interpolate_masks

    def spy(keyframes: Any, slices: Any, **kwargs: Any) -> Any:
        shape = next(iter(keyframes.values())).shape
        shapes.append(shape)
        out = real(keyframes, slices, **kwargs)
        if len(shapes) == 1:  # pretend the crop's result reaches its edge
            for m in out.values():
                m[0, :] = True
        return out

    monkeypatch.setattr(label_interpolation, "interpolate_masks", spy)
    a = np.zeros((40, 60), dtype=bool)
    a[15:25, 25:35] = True
    tumour = labels.add_mask("Tumour", a, slice=0)
    labels.set_mask_slice(tumour, 2, a)
    labels.interpolate(tumour)
    assert shapes[0][0] < 40 and shapes[1] == (40, 60)  # cropped first, then the whole image
    assert (labels.get_mask(tumour)[1] == a).all()
