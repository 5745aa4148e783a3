"""The widget's Python side: synced state and the page -> kernel message handler, driven
directly with the JSON the front end sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets

from dicom_annot_widget import DicomAnnotator, open_series
from dicom_annot_widget.errors import DicomLoadError, ProtocolError
from dicom_annot_widget.widget.protocol import parse_page_message

from .test_streaming import flatten


@pytest.fixture
def volume() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(-1000, 2000, size=(6, 16, 20), dtype=np.int16)


@pytest.fixture
def widget(volume: np.ndarray) -> tuple[DicomAnnotator, list[tuple[Any, list[Any]]]]:
    w = DicomAnnotator(open_series(volume, spacing=(2.0, 0.5, 0.7)))
    sent: list[tuple[Any, list[Any]]] = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    return w, sent


def test_defaults_middle_slice_and_series_window(volume: np.ndarray) -> None:
    w = DicomAnnotator(open_series(volume, spacing=(2.0, 0.5, 0.7)))
    assert w.slice == 3
    assert w.series_info["shape"] == [6, 16, 20]
    assert w.series_info["spacing"] == [2.0, 0.5, 0.7]
    assert w.series_info["dtype"] == "int16"
    assert w.window == (w.series.default_window.center, w.series.default_window.width)


def test_the_page_windows_a_series_of_float_values_exactly(tmp_path: Path) -> None:
    """QA 21a D4: slices of one series with different rescales (one fractional) were windowed
    by the page slice by slice (LINEAR where the slice's own rescale is whole), while
    ``apply_window`` of the series' values uses LINEAR_EXACT for all: 7-9 % of pixels were
    one grey level off. ``series_info["exact_window"]`` tells the page the series' rule."""
    from .test_io_synthetic import make_slice, stored

    for k, slope in enumerate((1.0, 0.5, 1.0)):
        make_slice(tmp_path / f"{k}.dcm", pixels=stored(k), position=(0, 0, 2.0 * k), slope=slope)
    mixed = DicomAnnotator(str(tmp_path))
    assert mixed.series.dtype == np.float32 and mixed.series.rescale(0) == (1.0, -1024.0)
    assert mixed.series_info["exact_window"] is True
    whole = DicomAnnotator(open_series(np.zeros((2, 8, 8), np.int16)))
    assert whole.series_info["exact_window"] is False
    floats = DicomAnnotator(open_series(np.zeros((2, 8, 8), np.float32)))
    assert floats.series_info["exact_window"] is True


def test_a_window_preset_is_set_by_its_name() -> None:
    """QA 21a: a script had to look a preset up in ``series_info["windows"]``; a preset's
    name (any case) now sets its window, from the constructor and the trait, and an unknown
    name lists the series' presets, leaving the window as it was."""
    volume = np.zeros((3, 8, 8), np.int16)
    w = DicomAnnotator(open_series(volume, modality="CT"), window="lung")
    assert w.window == (-600.0, 1500.0)
    w.window = "Bone"
    bone = next(p for p in w.series.windows if p.name == "Bone")
    assert w.window == (bone.center, bone.width)
    with pytest.raises(traitlets.TraitError, match="window 'Liverish': the series has no preset"):
        w.window = "Liverish"
    assert w.window == (bone.center, bone.width)
    with pytest.raises(traitlets.TraitError, match="'Lung'"):
        DicomAnnotator(open_series(volume, modality="CT"), window="nope")


def test_get_slices_answers_one_binary_message_per_slice(widget: Any, volume: np.ndarray) -> None:
    w, sent = widget
    w._on_page_message(w, {"type": "get_slices", "series": "s0", "slices": [5, 0]}, [])
    assert w._streamer.wait_idle()
    slices = flatten(sent)
    assert [m["index"] for m, _ in slices] == [5, 0]
    for msg, buffers in slices:
        assert msg["type"] == "slice" and msg["series"] == "s0"
        assert len(buffers) == 1
        stored = np.frombuffer(bytes(buffers[0]), dtype=msg["dtype"]).reshape(msg["shape"])
        hu = stored * msg["slope"] + msg["intercept"]
        np.testing.assert_array_equal(hu, volume[msg["index"]])


def test_release_from_the_page_lets_the_kernel_decoded_pixels_go(tmp_path: Path) -> None:
    """The page let its volume go (no view left): a series the widget opened itself lets its
    decoded pixels go; a view shown again is sent the slices anew. A series given as a
    ``Series`` is the caller's: its pixels stay."""
    from dicom_annot_widget import write_phantom_series

    write_phantom_series(tmp_path / "ph", n_slices=6, rows=32, columns=32)
    w = DicomAnnotator(str(tmp_path / "ph"))
    sent: list[tuple[Any, list[Any]]] = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    expected = w.series.array.copy()
    assert w.series.decoded.all()
    old = w._streamer
    w._on_page_message(w, {"type": "release", "series": "s0"}, [])
    assert not w.series.decoded.any() and w._streamer is not old
    assert not any(m.get("type") == "error" for m, _ in sent)
    w._on_page_message(w, {"type": "get_slices", "series": "s0", "slices": [4]}, [])
    assert w._streamer.wait_idle()
    (msg, buffers), *_ = flatten(sent)
    got = np.frombuffer(bytes(buffers[0]), dtype=msg["dtype"]).reshape(msg["shape"])
    np.testing.assert_array_equal(got * msg["slope"] + msg["intercept"], expected[4])
    w.close()

    given = open_series(str(tmp_path / "ph"))
    _ = given.array
    v = DicomAnnotator(given)
    v.send = lambda content, buffers=None: None  # type: ignore[method-assign]
    v._on_page_message(v, {"type": "release", "series": "s0"}, [])
    assert given.decoded.all()
    v.close()


def test_widgets_given_the_same_files_show_one_series(tmp_path: Path) -> None:
    """Two widgets given the same folder (or its files) show the same ``Series``: one copy
    of the pixels in the kernel, and one volume key, so one in the page. Files changed on
    disk since are opened anew. A page letting its copy go keeps the kernel's pixels while
    another widget shows them; the last one lets them go."""
    import os

    from dicom_annot_widget import write_phantom_series

    folder = tmp_path / "ph"
    write_phantom_series(folder, n_slices=6, rows=32, columns=32)
    files = sorted(str(p) for p in folder.iterdir())
    a = DicomAnnotator(str(folder))
    b = DicomAnnotator(folder)
    c = DicomAnnotator(list(reversed(files)), slice=1)
    for w in (a, b, c):
        w.send = lambda content, buffers=None: None  # type: ignore[method-assign]
    assert a.series is b.series
    assert a.series_info["volume_key"] == b.series_info["volume_key"]
    # a list of the same files is another source (its own description), but not a folder
    assert c.series is not a.series
    _ = a.series.array
    assert b.series.decoded.all()
    a._on_page_message(a, {"type": "release", "series": "s0"}, [])
    assert b.series.decoded.all()  # b still shows them
    a.close()
    b._on_page_message(b, {"type": "release", "series": "s0"}, [])
    assert not b.series.decoded.any()  # the last widget showing them
    # a file rewritten since: opened anew
    st = os.stat(files[0])
    os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    d = DicomAnnotator(str(folder))
    assert d.series is not b.series
    assert d.series_info["volume_key"] != b.series_info["volume_key"]
    # QA: new pixels of the same size, the modification time put back (as cp -p, rsync -t):
    # a changed file too, with the new pixels
    import pydicom

    ds = pydicom.dcmread(files[1])
    before = d.series.array.copy()
    st = os.stat(files[1])
    ds.PixelData = bytes(len(ds.PixelData))
    ds.save_as(files[1])
    os.utime(files[1], ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(files[1]).st_size == st.st_size
    assert os.stat(files[1]).st_mtime_ns == st.st_mtime_ns
    e = DicomAnnotator(str(folder))
    assert e.series is not d.series
    changed = (e.series.array != before).any(axis=(1, 2))
    assert changed.sum() == 1  # the rewritten slice, and only it
    for w in (b, c, d, e):
        w.close()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"type": "get_slices", "series": "nope", "slices": [0]}, "unknown series"),
        ({"type": "get_slices", "series": "s0", "slices": [-1]}, "out of range"),
        ({"type": "get_slices", "series": "s0", "slices": [6]}, "out of range"),
        ({"type": "get_slices", "series": "s0", "slices": [float("nan")]}, "integer"),
        ({"type": "get_slices", "series": "s0", "slices": [1.5]}, "integer"),
        ({"type": "get_slices", "series": "s0", "slices": ["1"]}, "integer"),
        ({"type": "get_slices", "series": "s0", "slices": []}, "non-empty"),
        ({"type": "get_slices", "series": "s0", "slices": list(range(65))}, "at most"),
        ({"type": "get_slices", "series": "s0", "slices": [1], "hold": 0}, "'hold' must be"),
        ({"type": "ack", "series": "s0", "count": 0}, "count must be in"),
        ({"type": "ack", "series": "s0", "count": "3"}, "integer"),
        ({"type": "ack", "series": "nope", "count": 3}, "unknown series"),
        ({"type": "release", "series": "nope"}, "release: unknown series"),
        ({"type": "explode"}, "unknown message type"),
        (["get_slices"], "JSON object"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(
    widget: Any, content: Any, reason: str
) -> None:
    w, sent = widget
    before = (w.slice, w.window, dict(w.series_info))
    w._on_page_message(w, content, [])
    assert len(sent) == 1
    msg, buffers = sent[0]
    assert msg["type"] == "error" and reason in msg["message"] and buffers == []
    assert (w.slice, w.window, dict(w.series_info)) == before


def test_parse_page_message_raises_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="out of range"):
        parse_page_message(
            {"type": "get_slices", "series": "s0", "slices": [3]}, series_id="s0", n_slices=3
        )


def test_python_api_validates_view_state(widget: Any) -> None:
    w, _ = widget
    w.slice = 5
    assert w.slice == 5
    with pytest.raises(traitlets.TraitError, match="slice must be in"):
        w.slice = 6
    with pytest.raises(traitlets.TraitError, match="positive width"):
        w.window = (40.0, 0.0)
    with pytest.raises(traitlets.TraitError, match="finite"):
        w.window = (float("nan"), 400.0)
    assert w.slice == 5


def test_unknown_keyword_arguments_are_rejected(volume: np.ndarray) -> None:
    with pytest.raises(TypeError, match="slcie"):
        DicomAnnotator(open_series(volume, spacing=(1, 1, 1)), slcie=3)


def test_synced_state_is_small_and_holds_no_pixels_or_phi(tmp_path: Any) -> None:
    from dicom_annot_widget import write_phantom_series

    write_phantom_series(
        tmp_path, n_slices=8, rows=64, columns=64, patient_name="<img src=x onerror=alert(1)>"
    )
    w = DicomAnnotator(tmp_path)
    state = {k: v for k, v in w.get_state().items() if k not in ("_esm", "_css")}
    # labels_state is the one binary value: JSON text of the (empty) label document
    labels = state.pop("labels_state")
    assert isinstance(labels, memoryview)
    assert json.loads(bytes(labels))["objects"] == []
    state["labels_state"] = bytes(labels).decode()
    text = json.dumps(state, default=str)
    assert len(text) < 5_000
    assert "onerror" not in text and "PHANTOM" not in text
    assert not any(isinstance(v, (bytes, memoryview)) for v in state.values())


def _record_comms(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record what would go to the page through the annotator's comm (not its layout's), and
    when the headers are read."""
    import comm
    from comm.base_comm import BaseComm

    from dicom_annot_widget.widget import annotator

    log: list[tuple[str, Any]] = []
    ours: set[str] = set()

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kw: Any) -> None:
            if msg_type == "comm_open" and "series_info" in data["state"]:
                ours.add(self.comm_id)
            if self.comm_id in ours:
                log.append((msg_type, data))

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    real_open = annotator.open_series

    def open_series_logged(*args: Any, **kwargs: Any) -> Any:
        log.append(("headers read", None))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(annotator, "open_series", open_series_logged)
    return log


def test_the_comm_opens_before_the_headers_are_read_and_the_series_follows_in_one_update(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicom_annot_widget import write_phantom_series

    folder = write_phantom_series(tmp_path / "ph", n_slices=6, rows=16, columns=16)
    log = _record_comms(monkeypatch)
    w = DicomAnnotator(folder, slice=2, window=(50, 300))
    kinds = [kind for kind, _ in log]
    assert kinds[:2] == ["comm_open", "headers read"], kinds
    opened = log[0][1]["state"]
    assert opened["series_info"] is None  # the page builds the model meanwhile
    messages = [data for kind, data in log[2:] if kind == "comm_msg"]
    # the slice it opens on goes first, unasked (the page keeps it for the state that follows
    # and paints it in the view's first frame), then the state in one update
    assert [m["method"] for m in messages] == ["custom", "update"], messages
    first = messages[0]["content"]
    assert first["type"] == "slices" and [i["index"] for i in first["items"]] == [2]
    updates = messages[1:]
    state = updates[0]["state"]
    assert state["series_info"]["shape"] == [6, 16, 16]
    assert state["slice"] == 2 and list(state["window"]) == [50.0, 300.0]
    assert ["labels_state"] in updates[0]["buffer_paths"]  # the labels come with the series
    assert w.slice == 2 and w.series.shape == (6, 16, 16)


@pytest.mark.parametrize("kwargs", [{"slice": 99}, {"frameskip": 0}])
def test_a_constructor_that_fails_after_the_comm_opened_closes_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any]
) -> None:
    from dicom_annot_widget import write_phantom_series

    folder = write_phantom_series(tmp_path / "ph", n_slices=6, rows=16, columns=16)
    log = _record_comms(monkeypatch)
    with pytest.raises(traitlets.TraitError):
        DicomAnnotator(folder, **kwargs)
    kinds = [kind for kind, _ in log]
    assert kinds[0] == "comm_open" and kinds[-1] == "comm_close", kinds


def test_a_folder_without_images_closes_the_comm_it_opened(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _record_comms(monkeypatch)
    (tmp_path / "notes.txt").write_text("not DICOM")
    with pytest.raises(DicomLoadError, match="No DICOM image found"):
        DicomAnnotator(tmp_path)
    assert [kind for kind, _ in log][-1] == "comm_close"


def test_a_ping_from_the_page_is_accepted_silently(widget: Any) -> None:
    """The page pings when ipywidgets says the connection changed: a ping that arrives needs
    no answer (and is no error)."""
    w, sent = widget
    before = (w.slice, w.window, w.labels.revision)
    w._on_page_message(w, {"type": "ping"}, [])
    assert sent == []
    assert (w.slice, w.window, w.labels.revision) == before


def test_widgets_of_one_series_object_name_its_volume_alike() -> None:
    """``series_info.volume_key``: the same random token for every widget showing one
    ``Series`` object (the page holds one copy of its pixels per key), another for another
    object, even with the same pixels; nothing derived from the data."""
    volume = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    series = open_series(volume)
    a, b = DicomAnnotator(series), DicomAnnotator(series)
    c = DicomAnnotator(open_series(volume))
    key = a.series_info["volume_key"]
    assert isinstance(key, str) and len(key) == 32
    assert b.series_info["volume_key"] == key != c.series_info["volume_key"]
