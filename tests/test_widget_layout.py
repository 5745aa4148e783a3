"""``OrthogonalViews``: planes of one series side by side, linked, with one set of labels."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from dicom_annot_widget import DicomAnnotator, Ontology, OrthogonalViews, open_series

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
