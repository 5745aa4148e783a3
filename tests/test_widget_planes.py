"""Reformats, crosshair and MIP slab of the widget (``plane``, ``crosshair``, ``slab``): their
coupling with ``slice``, validation from Python and from the page, per-series places, view
links; and ``kernels.plane_image``, the NumPy twin of the page's plane images."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import traitlets

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.kernels import plane_image, slab_range


def _volume(n: int = 10, rows: int = 16, columns: int = 20) -> np.ndarray:
    return np.random.default_rng(0).integers(-1000, 2000, size=(n, rows, columns), dtype=np.int16)


@pytest.fixture
def w() -> DicomAnnotator:
    widget = DicomAnnotator(open_series(_volume(), spacing=(2.0, 0.5, 0.7)))
    widget.send = lambda content, buffers=None: None
    return widget


def test_defaults_the_series_own_slices_with_the_crosshair_in_the_middle(w: Any) -> None:
    assert (w.plane, w.slice, w.crosshair, w.slab) == ("axial", 5, (10, 8, 5), 1)
    assert {"plane", "crosshair", "slab"} <= set(w.keys)


def test_the_slice_is_the_crosshair_component_of_the_plane_shown(w: Any) -> None:
    seen: list[Any] = []
    w.observe(lambda c: seen.append((c["name"], c["new"])), names=["slice", "crosshair", "plane"])
    w.plane = "coronal"
    assert (w.slice, w.crosshair) == (8, (10, 8, 5))
    w.slice = 15  # a row: coronal slices run over the 16 rows
    assert w.crosshair == (10, 15, 5)
    w.plane = "sagittal"
    assert w.slice == 10
    w.crosshair = (19, 2, 9)
    assert w.slice == 19
    w.plane = "axial"
    assert (w.slice, w.crosshair) == (9, (19, 2, 9))
    assert ("plane", "coronal") in seen and ("slice", 15) in seen


def test_plane_crosshair_and_slab_are_validated(w: Any) -> None:
    with pytest.raises(traitlets.TraitError, match="plane must be one of axial, coronal, sagittal"):
        w.plane = "oblique"
    with pytest.raises(traitlets.TraitError, match=r"axial slice must be in \[0, 9\], got 12"):
        w.slice = 12
    w.plane = "coronal"
    w.slice = 12  # fine: 16 rows
    with pytest.raises(traitlets.TraitError, match=r"crosshair row must be in \[0, 15\], got 16"):
        w.crosshair = (0, 16, 0)
    with pytest.raises(traitlets.TraitError, match="crosshair must be"):
        w.crosshair = (True, 0, 0)
    with pytest.raises(traitlets.TraitError, match=r"slab must be in \[1, 16\]"):
        w.slab = 17
    with pytest.raises(traitlets.TraitError, match=r"slab must be in \[1, 16\]"):
        w.slab = 0
    w.slab = 16
    # a MIP keeps its millimetres (QA: it kept its slices, 10 mm became 26 mm): 16 rows of
    # 0.5 mm are 8 mm, 4 slices of 2 mm
    w.plane = "axial"
    assert w.slab == 4
    assert (w.plane, w.slice, w.crosshair) == ("axial", 5, (10, 12, 5))
    w.plane = "sagittal"  # 8 mm of 0.7 mm columns
    assert w.slab == 11
    w.slab = 20  # 14 mm: 7 axial slices
    w.plane = "axial"
    assert w.slab == 7
    w.slab = 1
    w.plane = "coronal"
    assert w.slab == 1  # no projection stays none
    # through a coarser plane and on, the millimetres chosen stay (QA: 13 -> 6 -> 12)
    w.plane = "sagittal"
    w.slab = 13  # 9.1 mm of 0.7 mm columns
    w.plane = "axial"
    assert w.slab == 5  # 9.1 / 2 = 4.55
    w.plane = "sagittal"
    assert w.slab == 13  # 9.1 / 0.7, not 5 x 2 / 0.7 = 14


def test_one_slice_has_no_reformats_and_colour_no_projection() -> None:
    flat = DicomAnnotator(open_series(_volume(n=1)))
    with pytest.raises(traitlets.TraitError, match="needs more than one slice; this series has"):
        flat.plane = "coronal"
    rgb = np.random.default_rng(1).integers(0, 255, size=(4, 8, 8, 3), dtype=np.uint8)
    colour = DicomAnnotator(open_series(rgb))
    colour.plane = "sagittal"  # a colour reformat is fine
    with pytest.raises(traitlets.TraitError, match="needs a grey series"):
        colour.slab = 3


def test_the_page_sends_plane_slice_and_crosshair_together_and_bad_ones_are_refused(
    w: Any,
) -> None:
    sent: list[Any] = []
    w.send = lambda content, buffers=None: sent.append(content)
    w.set_state({"plane": "sagittal", "slice": 19, "crosshair": [19, 8, 5]})
    assert (w.plane, w.slice, w.crosshair) == ("sagittal", 19, (19, 8, 5))
    # the page converts a slab to the new plane itself and sends it along: taken as it is
    w.slab = 6
    w.set_state({"plane": "coronal", "slice": 8, "slab": 8})
    assert (w.plane, w.slab) == ("coronal", 8)
    w.set_state({"plane": "sagittal", "slice": 19})  # without it: converted here (4 mm)
    assert w.slab == 6
    w.slab = 1
    # a slice beyond the plane is refused whole: nothing changes
    w.set_state({"plane": "axial", "slice": 19, "crosshair": [19, 8, 19]})
    assert (w.plane, w.slice, w.crosshair) == ("sagittal", 19, (19, 8, 5))
    assert "refused a change from the page" in sent[-1]["message"]
    w.set_state({"plane": "transverse"})
    assert w.plane == "sagittal" and "plane must be one of" in sent[-1]["message"]
    w.set_state({"slab": -3})
    assert w.slab == 1 and "slab must be in" in sent[-1]["message"]


def test_each_series_keeps_its_plane_crosshair_and_slab() -> None:
    w = DicomAnnotator([_volume(), _volume(n=6, rows=12, columns=14)])
    w.plane = "coronal"
    w.slab = 4
    w.slice = 3
    w.series_index = 1
    assert (w.plane, w.slice, w.crosshair, w.slab) == ("axial", 3, (7, 6, 3), 1)
    w.series_index = 0
    assert (w.plane, w.slice, w.crosshair, w.slab) == ("coronal", 3, (10, 3, 5), 4)


def test_view_links_restore_the_plane_and_the_slab(w: Any) -> None:
    w.plane = "sagittal"
    w.slice = 17
    w.slab = 3
    link = w.view_link
    other = DicomAnnotator(open_series(_volume(), spacing=(2.0, 0.5, 0.7)), view=link)
    assert (other.plane, other.slice, other.slab) == ("sagittal", 17, 3)
    assert other.view_link == link
    small = DicomAnnotator(open_series(_volume()[:, :10, :10], spacing=(2.0, 0.5, 0.7)))
    with pytest.raises(ValueError):  # another series (another hash)
        small.goto(link)


def test_plane_image_takes_numpy_slices_and_slab_maxima() -> None:
    vol = _volume()
    assert np.array_equal(plane_image(vol, "axial", 3), vol[3])
    assert np.array_equal(plane_image(vol, "coronal", 7), vol[:, 7, :])
    assert np.array_equal(plane_image(vol, "sagittal", 19), vol[:, :, 19])
    assert np.array_equal(plane_image(vol, "coronal", 7, 4), vol[:, 6:10, :].max(axis=1))
    assert np.array_equal(plane_image(vol, "axial", 0, 5), vol[0:3].max(axis=0))
    assert slab_range(9, 5, 10) == (7, 9) and slab_range(5, 4, 10) == (4, 7)
    rgb = np.zeros((3, 4, 5, 3), np.uint8)
    assert plane_image(rgb, "coronal", 2).shape == (3, 5, 3)
    with pytest.raises(ValueError, match="needs a grey volume"):
        plane_image(rgb, "coronal", 2, 3)
    with pytest.raises(ValueError, match=r"coronal slice must be in \[0, 15\], got 16"):
        plane_image(vol, "coronal", 16)
    with pytest.raises(ValueError, match="plane must be one of"):
        plane_image(vol, "transverse", 0)
    with pytest.raises(ValueError, match="slab must be a whole number"):
        plane_image(vol, "axial", 0, 0)


def test_a_track_drawn_on_a_reformat_interpolates_beyond_the_series_own_slice_count() -> None:
    from dicom_annot_widget.labels import Ontology

    ontology = Ontology.from_dict({"objects": [{"name": "liver", "shape": "polygon"}]})
    w = DicomAnnotator(open_series(_volume()), ontology=ontology)  # 10 slices of 16 x 20
    square = [[5, 2], [12, 2], [12, 7], [5, 7]]
    u = w.labels.add_polygon("liver", 2, square, plane="coronal")
    w.labels.add_polygon("liver", 14, [[x + 2, y] for x, y in square], uuid=u, plane="coronal")
    w.interpolate(u, start=3, end=13)  # rows 3..13: beyond the 10 axial slices
    assert sorted(w.labels.get(u).keyframes) == list(range(2, 15))
    with pytest.raises(Exception, match="slice 20 is out of range"):
        w.interpolate(u, start=20)
