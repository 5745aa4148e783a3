"""The view-state API of the widget: traits mirroring every control, their validation (from
Python and from the page), view links, metadata requests and switching between series."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
import traitlets

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.errors import (
    DicomAnnotError,
    DicomLoadError,
    DicomLoadWarning,
    ProtocolError,
    WidgetValueError,
)
from dicom_annot_widget.widget.links import (
    ViewLink,
    decode_view_link,
    encode_view_link,
    series_identity,
)
from dicom_annot_widget.widget.protocol import GetMetadata, parse_page_message

Sent = list[tuple[Any, list[Any]]]


def _volume(n: int = 10, rows: int = 16, columns: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-1000, 2000, size=(n, rows, columns), dtype=np.int16)


def _capture(w: DicomAnnotator) -> Sent:
    sent: Sent = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    return sent


@pytest.fixture
def widget() -> tuple[DicomAnnotator, Sent]:
    w = DicomAnnotator(open_series(_volume(), spacing=(2.0, 0.5, 0.7)))
    return w, _capture(w)


def test_every_control_has_a_trait_with_defaults(widget: Any) -> None:
    w, _ = widget
    assert (w.slice, w.zoom, w.pan, w.rotation, w.flip, w.frameskip, w.series_index) == (
        5,
        1.0,
        (0.0, 0.0),
        0.0,
        (False, False),
        1,
        0,
    )
    synced = {name for name in w.keys if not name.startswith("_")}
    assert {"slice", "window", "zoom", "pan", "rotation", "flip", "frameskip"} <= synced
    assert "series_index" in synced


def test_traits_are_observable(widget: Any) -> None:
    w, _ = widget
    seen: list[tuple[str, Any]] = []
    w.observe(lambda ch: seen.append((ch["name"], ch["new"])), names=["zoom", "rotation", "flip"])
    w.zoom = 2.0
    w.rotation = 450
    w.flip = (True, False)
    assert seen == [("zoom", 2.0), ("rotation", 90.0), ("flip", (True, False))]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("slice", 10**80, r"slice must be in \[0, 9\], got 100000000000\.\.\. \(an integer of 81"),
        ("zoom", 0.0, r"zoom must be in \[0.05, 64\].*got 0.0"),
        ("zoom", 100.0, r"zoom must be in .*got 100.0"),
        ("zoom", float("nan"), "zoom must be in"),
        ("pan", (float("inf"), 0.0), "pan must be finite"),
        ("pan", (1e9, 0.0), "pan must be finite millimetres within"),
        ("rotation", float("nan"), "rotation must be a finite number"),
        # (bounded by the plane with most slices: 20 columns, the sagittal plane's slices)
        ("frameskip", 0, r"frameskip must be a whole number of slices in \[1, 19\], got 0"),
        ("frameskip", 20, r"in \[1, 19\], got 20"),
        ("series_index", 1, r"series_index must be in \[0, 0\], got 1"),
        ("slice", 10, r"slice must be in \[0, 9\], got 10"),
        ("window", (40.0, -1.0), "positive width"),
        ("window", (1e12, 10.0), "window values must be within"),
    ],
)
def test_invalid_values_are_refused_with_value_and_range(
    widget: Any, name: str, value: Any, message: str
) -> None:
    w, _ = widget
    before = getattr(w, name)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(w, name, value)
    # ... which is a ValueError and the package's own too (QA: `except ValueError` missed it)
    with pytest.raises(WidgetValueError, match=message) as info:
        setattr(w, name, value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, DicomAnnotError)
    assert getattr(w, name) == before


def test_rotation_is_normalised(widget: Any) -> None:
    w, _ = widget
    w.rotation = -90
    assert w.rotation == 270.0
    w.rotation = 720
    assert w.rotation == 0.0


def test_page_changes_apply_and_bad_ones_are_refused_whole(widget: Any) -> None:
    w, sent = widget
    w.set_state({"slice": 7, "zoom": 2.5, "pan": [1.5, -2.0], "flip": [True, False]})
    assert (w.slice, w.zoom, w.pan, w.flip) == (7, 2.5, (1.5, -2.0), (True, False))
    sent.clear()
    resent: list[list[str]] = []
    w.send_state = lambda key=None: resent.append(  # type: ignore[method-assign]
        [key] if isinstance(key, str) else list(key or [])
    )
    # one bad value: nothing of the message is applied, the page is told why and resynced
    w.set_state({"slice": 3, "zoom": -1})
    assert (w.slice, w.zoom) == (7, 2.5)
    errors = [m for m, _ in sent if m.get("type") == "error"]
    assert len(errors) == 1 and "zoom must be in" in errors[0]["message"]
    assert resent == [["slice", "zoom"]]
    sent.clear()
    w.set_state({"window": ["a", 3]})
    assert w.window == (w.series.default_window.center, w.series.default_window.width)
    assert any(m.get("type") == "error" for m, _ in sent)
    # QA: an integer beyond any float (JSON allows it) raised OverflowError past the refusal
    for key, huge in (("zoom", 10**400), ("rotation", 10**400), ("window", [10**400, 5])):
        sent.clear()
        resent.clear()
        w.set_state({key: huge})
        (error,) = [m for m, _ in sent if m.get("type") == "error"]
        assert f"{key} must be" in error["message"] and "1329 bits" in error["message"]
        assert resent == [[key]]
    assert (w.zoom, w.rotation) == (2.5, 0.0)
    with pytest.raises(traitlets.TraitError, match="pan must be two finite numbers"):
        w.pan = (10**400, 0)
    # what the kernel owns is never taken from the page (QA: a forged series hash reached
    # view links)
    info = dict(w.series_info)
    sent.clear()
    resent.clear()
    w.set_state({"series_info": {**info, "uid_hash": "forged"}, "slice": 2})
    assert w.series_info == info and "forged" not in w.view_link and w.slice == 2
    # (the crosshair follows the slice: Python tells the page)
    assert resent[0] == ["series_info"] and all(k == ["crosshair"] for k in resent[1:])


def test_view_link_round_trip(widget: Any) -> None:
    w, _ = widget
    w.slice, w.window, w.zoom, w.pan = 8, (-600.0, 1500.0), 2.25, (3.5, -1.0)
    w.rotation, w.flip = 90, (False, True)
    link = w.view_link
    assert link.startswith("daw:")
    other = DicomAnnotator(open_series(_volume(), spacing=(2.0, 0.5, 0.7)))
    assert other.slice == 5
    other.goto(link)
    state = ("slice", "window", "zoom", "pan", "rotation", "flip")
    assert [getattr(other, k) for k in state] == [getattr(w, k) for k in state]
    third = DicomAnnotator(open_series(_volume(), spacing=(2.0, 0.5, 0.7)), view=link)
    assert third.view_link == link


def test_view_link_is_compact_and_matches_the_page_format(widget: Any) -> None:
    w, _ = widget
    w.window = (40.0, 400.0)
    w.rotation = 90
    w.flip = (True, False)
    payload = w.view_link[4:]
    body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    # the very JSON js/link.ts writes (tested there with the same expected text)
    uid_hash, plane = w.series_info["uid_hash"], w.series.plane
    assert body == (
        f'{{"v":1,"s":"{uid_hash}","p":"{plane}","k":5,"w":[40,400],"z":1,"c":[0,0],'
        '"r":90,"f":[1,0]}'
    )
    assert len(w.view_link) < 200
    link = ViewLink("3f2a9c0d1e2b4a5f", "axial", 12, (40, 400), 2.5, (-3.25, 10), 90, (True, False))
    assert encode_view_link(link) == (
        "daw:eyJ2IjoxLCJzIjoiM2YyYTljMGQxZTJiNGE1ZiIsInAiOiJheGlhbCIsImsiOjEyLCJ3IjpbNDAsNDAwXSwie"
        "iI6Mi41LCJjIjpbLTMuMjUsMTBdLCJyIjo5MCwiZiI6WzEsMF19"
    )
    assert decode_view_link(encode_view_link(link)) == link
    # an inverted view adds "i":1 (QA: links dropped the invert; the string is pinned in
    # js/link.test.ts too); other links are as before
    inverted = ViewLink(
        "3f2a9c0d1e2b4a5f", "axial", 12, (40, 400), 2.5, (-3.25, 10), 90, (True, False), True
    )
    assert encode_view_link(inverted) == (
        "daw:eyJ2IjoxLCJzIjoiM2YyYTljMGQxZTJiNGE1ZiIsInAiOiJheGlhbCIsImsiOjEyLCJ3IjpbNDAsNDAwXSwie"
        "iI6Mi41LCJjIjpbLTMuMjUsMTBdLCJyIjo5MCwiZiI6WzEsMF0sImkiOjF9"
    )
    assert decode_view_link(encode_view_link(inverted)) == inverted
    w.invert = True
    shown = w.view_link
    w.invert = False
    w.goto(shown)
    assert w.invert is True


def test_view_links_hold_no_phi(tmp_path: Any) -> None:
    from dicom_annot_widget import write_phantom_series

    write_phantom_series(
        tmp_path, n_slices=6, rows=32, columns=32, patient_name="<img src=x onerror=alert(1)>"
    )
    w = DicomAnnotator(tmp_path)
    payload = w.view_link[4:]
    body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "onerror" not in body and "PHANTOM" not in body.upper()
    assert "1.2." not in body  # no UID, only its hash
    assert json.loads(body)["s"] == series_identity(w.series)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("http://example.org", "starts with 'daw:'"),
        ("daw:!!!!", "not valid"),
        ("daw:" + base64.urlsafe_b64encode(b'{"v":9}').decode(), "version 9"),
        (
            "daw:"
            + base64.urlsafe_b64encode(
                b'{"v":1,"s":"x","p":"axial","k":"3","w":[1,2],"z":1,"c":[0,0],"r":0,"f":[0,0]}'
            ).decode(),
            "slice must be a non-negative integer",
        ),
    ],
)
def test_malformed_links_are_refused(widget: Any, link: str, message: str) -> None:
    w, _ = widget
    before = w.view_link
    with pytest.raises(ValueError, match=message):
        w.goto(link)
    assert w.view_link == before


def test_links_for_another_series_or_out_of_range_change_nothing(widget: Any) -> None:
    w, _ = widget
    before = w.view_link
    foreign = DicomAnnotator(open_series(_volume(seed=5, rows=8), spacing=(1.0, 1.0, 1.0)))
    with pytest.raises(ValueError, match="series this widget does not show"):
        w.goto(foreign.view_link)
    good = decode_view_link(w.view_link)
    too_far = encode_view_link(
        ViewLink(good.series, good.plane, 99, good.window, 1, (0, 0), 0, (False, False))
    )
    with pytest.raises(traitlets.TraitError, match="out of range"):
        w.goto(too_far)
    bad_zoom = encode_view_link(
        ViewLink(good.series, good.plane, 2, good.window, 500, (0, 0), 0, (False, False))
    )
    with pytest.raises(traitlets.TraitError, match="zoom"):
        w.goto(bad_zoom)
    assert w.view_link == before


def test_several_series_switch_without_rerunning(widget: Any) -> None:
    a = open_series(_volume(n=10), spacing=(2.0, 0.5, 0.7))
    b = open_series(_volume(n=4, rows=8, columns=6, seed=1), spacing=(3.0, 1.0, 1.0))
    w = DicomAnnotator([a, b], frameskip=9)
    sent = _capture(w)
    assert w.series_count == 2 and w.series is a
    assert w.series_info["series_count"] == 2 and w.series_info["series_index"] == 0
    w.zoom = 3.0
    w.rotation, w.flip = 90.0, (True, False)
    link_b = None
    w.series_index = 1
    assert w.series is b
    # the view starts afresh: a flip kept on another series would swap its left and right
    assert w.rotation == 0.0 and w.flip == (False, False)
    assert w.series_info["id"] == "s1" and w.series_info["shape"] == [4, 8, 6]
    assert w.series_info["series_index"] == 1
    assert w.slice == 2 and w.zoom == 1.0 and w.frameskip == 7  # clamped to the new series
    link_b = w.view_link
    w.series = 0
    assert w.series is a and w.series_info["id"] == "s0"
    w.goto(link_b)  # a link to the other series switches to it
    assert w.series is b
    w.rotation = 180.0
    turned = w.view_link
    w.series = 0
    w.goto(turned)
    assert w.series is b and w.rotation == 180.0  # the link's view, after its series switch
    # the page switches too, and a late request for the old series is not an error
    w.set_state({"series_index": 0})
    assert w.series is a
    w._on_page_message(w, {"type": "get_metadata", "series": "s1", "slice": 0}, [])
    assert not [m for m, _ in sent if m.get("type") == "error"]
    with pytest.raises(traitlets.TraitError, match=r"series_index must be in \[0, 1\]"):
        w.series_index = 2


def test_a_list_of_arrays_is_several_series() -> None:
    w = DicomAnnotator([_volume(n=3), _volume(n=5)])
    assert w.series_count == 2
    w.series_index = 1
    assert w.series.shape[0] == 5


def test_series_info_has_geometry_but_no_header_values(widget: Any) -> None:
    w, _ = widget
    info = w.series_info
    affine = np.asarray(info["affine"])
    assert affine.shape == (4, 4)
    assert np.allclose(affine, np.asarray(w.series.affine))
    assert isinstance(info["uid_hash"], str) and len(info["uid_hash"]) == 16
    assert info["modality"] == str(w.series.modality or "")


def test_series_info_tells_the_page_to_invert_monochrome1(tmp_path: Any) -> None:
    """QA: MONOCHROME1 (CR/DX radiographs: minimum white) reached the page as nothing, so it
    was shown inverted; the page inverts the window when series_info says MONOCHROME1."""
    from tests.test_io_synthetic import make_series

    make_series(tmp_path, 2, extra={"PhotometricInterpretation": "MONOCHROME1"})
    w = DicomAnnotator(tmp_path)
    assert w.series_info["photometric_interpretation"] == "MONOCHROME1"
    assert DicomAnnotator(_volume(n=2)).series_info["photometric_interpretation"] == "MONOCHROME2"


def test_get_metadata_answers_with_the_slice_elements(tmp_path: Any) -> None:
    from dicom_annot_widget import write_phantom_series

    write_phantom_series(
        tmp_path, n_slices=6, rows=32, columns=32, patient_name="<img src=x onerror=alert(1)>"
    )
    w = DicomAnnotator(tmp_path)
    sent = _capture(w)
    w._on_page_message(w, {"type": "get_metadata", "series": "s0", "slice": 2}, [])
    assert len(sent) == 1
    msg, buffers = sent[0]
    assert msg["type"] == "metadata" and msg["slice"] == 2 and msg["series"] == "s0"
    assert buffers == []
    text = json.dumps(msg["elements"], allow_nan=False)
    assert "PixelSpacing" in text and "onerror" in text  # shown (as text) by the page
    # never in synced state
    state = {k: v for k, v in w.get_state().items() if k not in ("_esm", "_css")}
    assert "onerror" not in json.dumps(state, default=str)


def test_metadata_says_which_uid_the_reader_used_for_an_empty_one(ct_abdomen_dir: Any) -> None:
    """QA: the real CT's empty SOP/Series/Study UIDs showed as empty, with nothing to match
    the substitutes a SEG export references."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reader's note about the substitutes
        w = DicomAnnotator(ct_abdomen_dir)
    sent = _capture(w)
    w._on_page_message(w, {"type": "get_metadata", "series": "s0", "slice": 3}, [])
    ((msg, _),) = sent
    value = {e["keyword"]: e["value"] for e in msg["elements"] if "keyword" in e}
    series_uid = w._series.series_instance_uid
    assert value["SeriesInstanceUID"] == f"(empty in the file; read as {series_uid})"
    assert value["StudyInstanceUID"].startswith("(empty in the file; read as 1.2.826.")
    media = value["MediaStorageSOPInstanceUID"]
    assert value["SOPInstanceUID"] == (
        f"(empty in the file; read as MediaStorageSOPInstanceUID {media})"
    )
    w.close()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"type": "get_metadata", "series": "s0"}, "'slice' (a slice index) is missing"),
        ({"type": "get_metadata", "series": "s0", "slice": 10}, "out of range"),
        ({"type": "get_metadata", "series": "s0", "slice": -1}, "out of range"),
        ({"type": "get_metadata", "series": "s0", "slice": "2"}, "must be an integer"),
        ({"type": "get_metadata", "series": "s0", "slice": 1.5}, "must be an integer"),
        ({"type": "get_metadata", "series": "zz", "slice": 1}, "unknown series"),
    ],
)
def test_malformed_metadata_requests_are_refused(widget: Any, content: Any, reason: str) -> None:
    w, sent = widget

    def state() -> dict[str, Any]:  # the labels as Python holds them (each send is numbered)
        return {**w.get_state(), "labels_state": w.labels_state}

    before = state()
    w._on_page_message(w, content, [])
    assert len(sent) == 1 and sent[0][0]["type"] == "error" and reason in sent[0][0]["message"]
    assert state() == before


def test_parse_get_metadata() -> None:
    msg = {"type": "get_metadata", "series": "s0", "slice": 3}
    assert parse_page_message(msg, series_id="s0", n_slices=4) == GetMetadata("s0", 3)
    with pytest.raises(ProtocolError, match="out of range"):
        parse_page_message({**msg, "slice": 4}, series_id="s0", n_slices=4)


def test_constructor_rejects_unknown_arguments() -> None:
    with pytest.raises(TypeError, match="zooom"):
        DicomAnnotator(_volume(), zooom=2)


def test_each_series_opens_where_it_was_left() -> None:
    """QA: a reviewer comparing two series lost their slice, window and zoom on every switch.
    A series shown before opens where it was left; one shown for the first time opens
    afresh (middle slice, its window, upright: another series' flip is not carried over)."""
    a = open_series(_volume(n=10), spacing=(2.0, 0.5, 0.7))
    b = open_series(_volume(n=6, seed=1), spacing=(3.0, 1.0, 1.0))
    w = DicomAnnotator([a, b])
    w.slice, w.window, w.zoom, w.pan = 7, (40.0, 400.0), 2.5, (3.0, -4.0)
    w.rotation, w.flip, w.invert = 90.0, (True, False), True
    w.series_index = 1
    assert (w.slice, w.zoom, w.pan, w.rotation, w.flip) == (3, 1.0, (0.0, 0.0), 0.0, (False, False))
    assert w.invert is False
    w.slice, w.window = 1, (-600.0, 1500.0)
    w.series_index = 0
    assert (w.slice, w.window, w.zoom, w.pan) == (7, (40.0, 400.0), 2.5, (3.0, -4.0))
    assert (w.rotation, w.flip, w.invert) == (90.0, (True, False), True)
    w.series_index = 1
    assert (w.slice, w.window, w.flip) == (1, (-600.0, 1500.0), (False, False))


def test_cine_speed_from_python_and_the_page(widget: Any) -> None:
    """``w.cine`` is the page's cine speed (frames per second, 0: stopped), synced both ways;
    values that are no speed are refused, from Python and from the page, naming the trait."""
    w, sent = widget
    assert w.cine == 0.0
    w.cine = 12
    assert w.cine == 12.0
    w.set_state({"cine": 0})
    assert w.cine == 0.0
    for bad in (True, -1, 61, float("nan"), float("inf"), "fast"):
        with pytest.raises(traitlets.TraitError, match="cine"):
            w.cine = bad
        assert w.cine == 0.0
    sent.clear()
    w.set_state({"cine": 1000})
    (error,) = [m for m, _ in sent if m.get("type") == "error"]
    assert "cine must be 0 (stopped) to 60 frames per second" in error["message"]
    assert w.cine == 0.0


def _three_series_study(root: Any) -> Any:
    """A folder holding three series of one study (3, 4 and 5 slices), opened as a study."""
    from dicom_annot_widget import open_study, write_phantom_series

    for number, n in enumerate((3, 4, 5), start=1):
        write_phantom_series(
            root / f"series{number}",
            n_slices=n,
            rows=16,
            columns=16,
            seed=number,
            study_instance_uid="1.2.826.0.1.3680043.8.498.77",
            series_number=number,
        )
    study = open_study(root)
    assert len(study) == 3
    return study


@pytest.mark.parametrize("given", ["study", "study.series"])
def test_a_study_is_browsed_series_by_series(tmp_path: Any, given: str) -> None:
    """QA 21a D2: ``DicomAnnotator(study)`` and ``DicomAnnotator(study.series)`` refused the
    study (``TypeError ... not Study`` / ``not _SeriesList``); they show its series one at a
    time with previous/next, each opened when first shown, as the study's own Series."""
    study = _three_series_study(tmp_path)
    w = DicomAnnotator(study if given == "study" else study.series)
    assert w.series_count == 3 and w.series_info["series_count"] == 3
    assert list(study._opened) == [0]  # the others are opened when shown
    sizes = {0: 3, 1: 4, 2: 5}
    assert w.series is study.open(0) and w.series.shape[0] == sizes[0]
    w.series_index = 2
    assert w.series is study.open(2) and w.series.shape[0] == sizes[2]
    assert w.series_info["series_index"] == 2 and w.series_info["shape"][0] == sizes[2]
    assert sorted(study._opened) == [0, 2]
    w.series = study.open(1)  # a series of the study switches to it
    assert w.series_index == 1 and w.series.shape[0] == sizes[1]
    assert [s.shape[0] for s in w.series_list] == [3, 4, 5]
    w.close()


def test_a_path_that_does_not_exist_is_said_before_the_page_hears_of_the_widget(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """QA 22b O2: DicomAnnotator('/wrong/path') opened the widget's comm before reading the
    folder, then closed it: the page logged "[anywidget] Failed to initialize model." for
    the commonest mistake. A path that does not exist is refused before any comm opens."""
    import comm

    opened: list[Any] = []
    real = comm.create_comm
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: opened.append(1) or real(*a, **k))
    missing = tmp_path / "no such folder"
    with pytest.raises(DicomLoadError, match="no such folder' does not exist"):
        DicomAnnotator(missing)
    with pytest.raises(DicomLoadError, match="does not exist"):
        DicomAnnotator(str(missing), ontology=None)
    assert opened == []


def test_a_source_of_the_wrong_type_names_it_and_what_is_accepted(tmp_path: Any) -> None:
    """The TypeError names the type given (never a private class) and lists the accepted
    sources, Series and Study included."""
    from dicom_annot_widget import OrthogonalViews, open_study

    for source, name in ((object(), "object"), ({"a": 1}, "dict"), (3.5, "float")):
        with pytest.raises(TypeError, match=rf"not {name}$") as info:
            DicomAnnotator(source)
        message = str(info.value)
        for accepted in ("folder", "file path", "Dataset", "NumPy array", "Series", "Study"):
            assert accepted in message, message
    study = _three_series_study(tmp_path)
    # open_series opens one series: it says how to open one of a study's
    for source in (study, study.series):
        with pytest.raises(TypeError, match=r"study\.series\[i\]") as info:
            open_series(source)
        assert "_SeriesList" not in str(info.value)
    # the three planes show one series: a study of several is refused, saying how to pick one
    with pytest.raises(ValueError, match=r"one series; .* 3 series.* study\.series\[i\]"):
        OrthogonalViews(study)
    one = tmp_path / "one"
    from dicom_annot_widget import write_phantom_series

    write_phantom_series(one, n_slices=4, rows=16, columns=16)
    views = OrthogonalViews(open_study(one))  # a study of one series is that series
    assert views.series.shape[0] == 4 and views.views[0].series_count == 1
    views.close()


def test_a_view_link_names_the_stack_of_a_split_series(tmp_path: Any) -> None:
    """QA 23a D10: the two echoes of an MR share their SeriesInstanceUID and are opened as two
    stacks, but a link named the series alone: a link of echo 2 restored echo 1 (another
    contrast at the same voxels). A split series' stacks are named apart; one stack alone
    keeps the name it always had."""
    import warnings

    import pydicom
    from pydicom.uid import generate_uid

    from dicom_annot_widget import open_study
    from dicom_annot_widget.widget.links import series_identity
    from tests.test_io_synthetic import make_series

    make_series(tmp_path / "e1", 4, extra={"EchoNumbers": 1})
    make_series(tmp_path / "e2", 4, extra={"EchoNumbers": 2})
    for f in sorted((tmp_path / "e2").iterdir()):  # the second echo's own SOP instances
        ds = pydicom.dcmread(f)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = open_study(tmp_path)
        w = DicomAnnotator(study)
    assert len(study.series_info) == 2
    with pytest.warns(DicomLoadWarning, match="told apart by EchoNumbers"):
        w.series_index = 1
    echo2 = w.series
    assert echo2.stack == (1, 2)
    w.slice = 2
    link = w.view_link
    w.series_index = 0
    assert series_identity(w.series) != series_identity(echo2)
    w.goto(link)
    assert w.series_index == 1 and w.slice == 2
    single = open_series(tmp_path / "e1")
    assert single.stack == (0, 1)
    assert series_identity(single) == series_identity(open_series(tmp_path / "e1"))
