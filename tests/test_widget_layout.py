"""``OrthogonalViews``: planes of one series side by side, linked, with one set of labels."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from dicom_annot_widget import (
    DicomAnnotator,
    Ontology,
    OrthogonalViews,
    link_positions,
    open_series,
    write_phantom_series,
)

SHAPE = (10, 12, 14)


def _views(**kwargs: object) -> OrthogonalViews:
    volume = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    onto = Ontology.builder().object("Lesion", "bounding_box").object("Organ", "bitmask").build()
    return OrthogonalViews(open_series(volume, spacing=(2.0, 0.8, 0.8)), ontology=onto, **kwargs)


def test_three_planes_of_one_series_linked_with_one_set_of_labels() -> None:
    v = _views()
    axial, coronal, sagittal = v.views
    assert list(v.children) == [axial, coronal, sagittal]
    assert [w.plane for w in v.views] == ["axial", "coronal", "sagittal"]
    assert all(isinstance(w, DicomAnnotator) for w in v.views)
    # one series object: one volume in the page
    assert len({w.series_info["volume_key"] for w in v.views}) == 1
    assert all(w.series is v.series for w in v.views)
    # scrolling the axial view moves the others' crosshair (their lines), not their slices
    axial.slice = 7
    assert coronal.crosshair[2] == sagittal.crosshair[2] == 7
    assert coronal.slice == axial.crosshair[1] and sagittal.slice == axial.crosshair[0]
    coronal.slice = 3  # a coronal scroll: the axial view's crosshair row
    assert axial.crosshair[1] == 3 and axial.slice == 7
    # each view draws the crosshair lines (QA: all off, though the docs promised them); one
    # view's button hides them in all
    assert axial.crosshair_lines and coronal.crosshair_lines and sagittal.crosshair_lines
    coronal.crosshair_lines = False
    assert not axial.crosshair_lines and not sagittal.crosshair_lines
    # windowing one windows all
    sagittal.window = (-600.0, 1500.0)
    assert axial.window == coronal.window == (-600.0, 1500.0)
    # one set of labels: an object added to it is in every view's state
    u = v.labels.add_box("lesion", 4, (2, 2, 6, 6))
    for w in v.views:
        assert w.labels is v.labels
        assert [o["uuid"] for o in w.labels_state["objects"]] == [u]
    # a mask painted on the coronal view is the same object for all
    m = coronal.brush(str(uuid.uuid4()), 3, [[5, 4]], 2.0, feature="organ", plane="coronal")
    assert m == v.labels.revision and len(v.labels) == 2
    v.close()
    axial.slice = 2
    assert coronal.crosshair[2] == 7  # unlinked once closed


def test_the_planes_and_links_asked_for() -> None:
    v = _views(planes=("sagittal", "axial"), link=("window",))
    assert [w.plane for w in v.views] == ["sagittal", "axial"]
    v.views[1].slice = 1
    assert v.views[0].crosshair[2] != 1  # the crosshair is not linked
    v.views[1].window = (10.0, 20.0)
    assert v.views[0].window == (10.0, 20.0)
    assert all(w.crosshair_lines for w in v.views)
    v.views[0].crosshair_lines = False
    assert v.views[1].crosshair_lines  # not linked
    # a single plane has nothing to cross: no lines
    assert not _views(planes=("coronal",)).views[0].crosshair_lines


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"planes": ("axial", "axial")}, ValueError, "at most once"),
        ({"planes": ("oblique",)}, ValueError, "at most once"),
        ({"planes": ()}, ValueError, "at most once"),
        ({"planes": "axial"}, ValueError, "a sequence of plane names"),
        ({"link": ("crosshair", "colour")}, TypeError, "not traits of the widget"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _views(**kwargs)


def _two_reconstructions(tmp_path: Path) -> tuple[DicomAnnotator, DicomAnnotator]:
    """One study written twice: 20 slices of 2 mm (32 x 32 pixels of 0.8 mm) and 4 of 5 mm
    (16 x 16 of 1.6 mm), both ending at z = 0 and centred: one frame of reference."""
    fine = tmp_path / "fine"
    coarse = tmp_path / "coarse"
    write_phantom_series(fine, n_slices=20, rows=32, columns=32, slice_spacing=2.0)
    write_phantom_series(
        coarse, n_slices=4, rows=16, columns=16, pixel_spacing=(1.6, 1.6), slice_spacing=5.0,
        series_number=2,
    )  # fmt: skip
    a, b = DicomAnnotator(str(fine)), DicomAnnotator(str(coarse))
    assert a.series.frame_of_reference_uid == b.series.frame_of_reference_uid != ""
    return a, b


def _mm(w: DicomAnnotator) -> np.ndarray:
    """Patient position (LPS mm) of the widget's crosshair, from its headers."""
    c, r, k = w.crosshair
    positions = w.series.slice_positions
    assert positions is not None
    a = w.series.affine
    return np.asarray(positions[k]) + c * a[:3, 0] + r * a[:3, 1]


def test_link_positions_keeps_two_series_at_the_same_patient_position(tmp_path: Path) -> None:
    a, b = _two_reconstructions(tmp_path)
    link = link_positions(a, b)
    z_of = {k: p[2] for k, p in enumerate(b.series.slice_positions or [])}
    for k in range(a.series.shape[0]):
        a.slice = k
        za = _mm(a)[2]
        # b shows its slice nearest to a's position (beyond its 15 mm: its nearest end)
        assert abs(z_of[b.slice] - za) == min(abs(z - za) for z in z_of.values())
    a.crosshair = (3, 29, 18)
    # in the plane: the pixel of b under a's point (b's pixels are twice as large)
    assert np.abs(_mm(b)[:2] - _mm(a)[:2]).max() <= 0.8 + 1e-6
    # either way: b scrolled, a follows to the same z
    b.slice = 1
    assert abs(_mm(a)[2] - _mm(b)[2]) < 1e-6
    # unlinked: each stays where it is
    link.unlink()
    before = a.crosshair
    b.slice = 3
    assert a.crosshair == before
    a.close()
    b.close()


def test_link_positions_refuses_what_it_cannot_link(tmp_path: Path) -> None:
    a, _ = _two_reconstructions(tmp_path)
    other = tmp_path / "other"
    write_phantom_series(other, n_slices=6, rows=16, columns=16, seed=5)  # another study
    c = DicomAnnotator(str(other))
    with pytest.raises(ValueError, match="different frames of reference"):
        link_positions(a, c)
    link_positions(a, c, any_frame=True).unlink()
    with pytest.raises(ValueError, match="needs two widgets or more, got 1"):
        link_positions(a)
    with pytest.raises(TypeError, match="expected DicomAnnotator widgets, got str"):
        link_positions(a, "b")  # type: ignore[arg-type]
    # QA 23a D4: a series with no patient geometry (voxels stand in for millimetres)
    flat = DicomAnnotator(np.zeros((10, 32, 32), np.int16))
    assert not flat.series.orientation_known
    with pytest.raises(ValueError, match="widget 2's series has no patient geometry"):
        link_positions(a, flat)
    with pytest.raises(ValueError, match="no patient geometry"):
        link_positions(flat, a, any_frame=True)


def test_a_linked_widget_switched_to_another_study_neither_follows_nor_leads(
    tmp_path: Path,
) -> None:
    """QA 23a D4: a linked widget switched to a series of another frame of reference (a prior
    study) kept being driven by raw millimetres, which link_positions refuses for those two
    series. It neither follows nor leads until it shows a series that can be linked."""
    a, _ = _two_reconstructions(tmp_path)
    other = tmp_path / "other"
    write_phantom_series(other, n_slices=6, rows=16, columns=16, seed=5)  # another study
    b = DicomAnnotator([str(tmp_path / "coarse"), str(other)])
    link = link_positions(a, b)
    a.slice = 19
    assert b.slice == 3
    b.series_index = 1
    assert b.series.frame_of_reference_uid != a.series.frame_of_reference_uid
    before = b.crosshair
    a.slice = 0
    assert b.crosshair == before  # not driven
    a_before = a.crosshair
    b.slice = 5
    assert a.crosshair == a_before  # not leading
    b.series_index = 0  # the same study again: linked again
    a.slice = 19
    assert b.slice == 3
    link.unlink()


def test_a_view_link_is_restored_in_the_view_of_its_plane(tmp_path: Path) -> None:
    """QA 23a D9: OrthogonalViews(source, view=link) gave the link to the first view, so a
    sagittal MIP's link made the axial view a rotated MIP and left the sagittal one as it
    was. The link is restored in the view of its plane; one of a plane not shown is refused."""
    folder = tmp_path / "ct"
    write_phantom_series(folder, n_slices=12, rows=24, columns=24)
    w = DicomAnnotator(str(folder))
    w.plane, w.slice, w.slab, w.rotation = "sagittal", 9, 3, 90.0
    link = w.view_link
    v = OrthogonalViews(str(folder), view=link)
    axial, coronal, sagittal = v.views
    assert (sagittal.slice, sagittal.slab, sagittal.rotation) == (9, 3, 90.0)
    assert (axial.slab, axial.rotation, coronal.slab) == (1, 0.0, 1)
    assert axial.crosshair[0] == 9  # the others' lines through the linked slice
    with pytest.raises(ValueError, match="link is of the sagittal plane, which is not one of"):
        OrthogonalViews(str(folder), ("axial", "coronal"), view=link)
    v.close()
    w.close()


def test_the_views_paint_one_selected_mask_with_one_tool() -> None:
    """QA 23b D7: each view of OrthogonalViews kept its own selection, class and tool, so a
    stroke in the coronal view never extended the mask selected in the axial one (it made a
    second object of the class). A selected bitmask object is selected in every view, and
    the class and tool chosen are the views'; a polygon's selection stays in its view."""
    v = _views()
    axial, coronal, sagittal = v.views
    mask = np.zeros(SHAPE[1:], bool)
    mask[3:6, 4:8] = True
    organ = v.labels.add_mask("Organ", mask, slice=4)
    lesion = v.labels.add_box("Lesion", 4, (1, 1, 3, 3))
    axial.selected = organ
    assert coronal.selected == sagittal.selected == organ
    sagittal.active_class, sagittal.tool = "organ", "brush"
    assert axial.tool == coronal.tool == "brush" and axial.active_class == "organ"
    # painting in the coronal view extends it (one object)
    before = int(v.labels.get_mask(organ).sum())
    coronal.brush(coronal.selected, 4, (5, 2), 1.5)
    assert len(v.labels) == 2 and int(v.labels.get_mask(organ).sum()) > before
    # a box is of the axial plane: its selection stays there; a deselection is shared
    axial.selected = lesion
    assert coronal.selected == organ
    coronal.selected = None
    assert sagittal.selected is None and axial.selected == lesion
    v.close()


def test_orthogonal_views_of_one_image_say_so_as_their_own() -> None:
    """QA 23a: OrthogonalViews of a single image failed with "a coronal reformat needs more
    than one slice", which did not say who asked for a reformat. It says so as its own, and
    shows the image alone when asked for the axial plane only."""
    image = open_series(np.zeros((1, 16, 16), np.int16))
    with pytest.raises(
        ValueError, match=r"OrthogonalViews shows coronal, sagittal reformats.*one image"
    ):
        OrthogonalViews(image)
    alone = OrthogonalViews(image, ("axial",))
    assert [v.plane for v in alone.views] == ["axial"]
    alone.close()
