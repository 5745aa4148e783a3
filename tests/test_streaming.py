"""The background slice streamer: order, re-prioritisation, errors, shutdown."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget.widget import streaming
from dicom_annot_widget.widget.streaming import SliceStreamer


class FakeSeries:
    """Duck-typed series whose decoding can be held back by a gate."""

    stored_dtype = np.dtype(">i2")
    rereadable = False

    def __init__(self, n: int = 10, gate: threading.Event | None = None) -> None:
        self.n = n
        self.shape = (n, 2, 3)
        self.gate = gate
        self.prefetched: list[list[int]] = []
        self.entered = threading.Event()
        self.kept: list[bool] = []

    def prefetch(self, order: list[int]) -> None:
        self.prefetched.append(list(order))

    def get_stored_slice(self, k: int, *, keep: bool = True) -> np.ndarray:
        self.kept.append(keep)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if k == 7:
            raise ValueError("corrupt JPEG 2000 codestream")
        return np.full((2, 3), k, dtype=">i2")  # big-endian: must arrive as native int16

    def rescale(self, k: int) -> tuple[float, float]:
        return 1.0, -1024.0


Sent = list[tuple[dict[str, Any], list[memoryview]]]


def flatten(messages: Sent) -> Sent:
    """One (slice item, [buffer]) per slice of each ``slices`` message; errors as they are."""
    out: Sent = []
    for content, buffers in messages:
        if content["type"] == "slices":
            assert len(content["items"]) == len(buffers)
            for item, buffer in zip(content["items"], buffers, strict=True):
                out.append(({"type": "slice", "series": content["series"], **item}, [buffer]))
        else:
            out.append((content, buffers))
    return out


class Collector(list):  # type: ignore[type-arg]
    """The messages a streamer sent, flattened to one entry per slice."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: Sent = []

    def __call__(self, content: dict[str, Any], buffers: list[memoryview]) -> None:
        self.raw.append((content, buffers))
        self[:] = flatten(self.raw)


def collect() -> tuple[Collector, Collector]:
    sent = Collector()
    return sent, sent


def test_sends_in_requested_order_as_native_binary() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(), "s0", send)  # type: ignore[arg-type]
    s.request([3, 4, 2, 3])
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [3, 4, 2]
    msg, (buf,) = sent[0]
    assert msg["dtype"] == "int16" and msg["shape"] == [2, 3] and msg["intercept"] == -1024.0
    np.testing.assert_array_equal(np.frombuffer(bytes(buf), "<i2"), np.full(6, 3))
    s.close()


def test_a_new_request_replaces_the_pending_order() -> None:
    gate = threading.Event()
    sent, send = collect()
    series = FakeSeries(gate=gate)
    s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
    s.request([0, 1, 2, 3, 4, 5])
    assert series.entered.wait(10)  # the thread is now decoding slice 0...
    # ...when the user jumps to slice 9
    s.request([9, 8])
    gate.set()
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [0, 9, 8]
    # each request paused background decoding; only the latest order was handed over, after
    # its first slice had gone out
    assert series.prefetched == [[], [], [9, 8]]
    s.close()


def test_background_decoding_waits_for_the_first_slice_to_be_acknowledged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming, "HOLD_SECONDS", 30.0)
    sent, send = collect()
    series = FakeSeries(n=20)
    s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
    s.request([5, 6, 4, 8])
    deadline = time.monotonic() + 10
    while not sent and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)  # time enough for the thread to go on, were it not held
    assert [m["index"] for m, _ in sent] == [5]
    assert series.prefetched == [[]]  # paused: the page has not shown slice 5 yet
    s.ack(1)
    assert s.wait_idle()
    assert series.prefetched == [[], [5, 6, 4, 8]]
    assert [m["index"] for m, _ in sent] == [5, 6, 4, 8]
    s.close()


def test_an_uncompressed_series_is_sent_without_keeping_and_decoded_once_all_arrived() -> None:
    """Slices of a rereadable series are read for sending alone; the background decoding
    (which fills the kernel's volume) is handed the order only when nothing is left to send
    and the page has acknowledged all of it."""
    sent, send = collect()
    series = FakeSeries(n=20)
    series.rereadable = True
    s = SliceStreamer(series, "s0", send, window_bytes=4 * 6)  # type: ignore[arg-type]
    s.request([5, 6, 4, 8, 9, 3, 2, 1])  # the window holds 4 of them
    deadline = time.monotonic() + 10
    while not sent and time.monotonic() < deadline:  # (an ack before it is sent is void)
        time.sleep(0.001)
    s.ack(1)
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [5, 6, 4, 8, 9]
    assert series.prefetched == [[]]  # window full, slices left: nothing kept yet
    s.ack(4)
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [5, 6, 4, 8, 9, 3, 2, 1]
    time.sleep(0.05)
    assert series.prefetched == [[]]  # all sent, not all received yet
    s.ack(3)
    deadline = time.monotonic() + 10
    while len(series.prefetched) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert series.prefetched == [[], [5, 6, 4, 8, 9, 3, 2, 1]]
    assert series.kept == [False] * 8
    s.close()


def test_background_decoding_starts_when_the_hold_is_over_without_an_ack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming, "HOLD_SECONDS", 0.05)
    sent, send = collect()
    series = FakeSeries(n=20)
    s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
    s.request([2, 3])
    assert s.wait_idle()
    assert series.prefetched == [[], [2, 3]]
    assert [m["index"] for m, _ in sent] == [2, 3]
    s.close()


def test_a_broken_slice_is_reported_and_streaming_goes_on() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(), "s0", send)  # type: ignore[arg-type]
    s.request([6, 7, 8])
    assert s.wait_idle()
    kinds = [(m["type"], m.get("index")) for m, _ in sent]
    assert kinds == [("slice", 6), ("error", 7), ("slice", 8)]
    # numbered as the page shows it, with Python's index (QA: "slice 0" for slice 1 / 12)
    assert sent[1][0]["message"].startswith("slice 8 / 10 (index 7) could not be read: ")
    assert "corrupt" in sent[1][0]["message"]
    s.close()


def test_close_stops_the_thread() -> None:
    gate = threading.Event()
    sent, send = collect()
    series = FakeSeries(gate=gate)
    s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
    s.request([1, 2, 3])
    assert series.entered.wait(10)  # the thread is decoding slice 1 when close() is called
    closer = threading.Thread(target=s.close)
    closer.start()
    deadline = time.monotonic() + 10
    while not s._closed and time.monotonic() < deadline:  # close() has taken effect...
        time.sleep(0.001)
    gate.set()  # ...before the decode of slice 1 finishes
    closer.join(10)
    assert not closer.is_alive()
    assert len(sent) <= 1


def test_flow_control_keeps_a_window_of_unacknowledged_slices() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(n=20), "s0", send, window_bytes=1)  # type: ignore[arg-type]
    assert s.window == 4  # the minimum window
    s.request(list(range(20)))
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [0, 1, 2, 3]  # the page has acknowledged nothing
    s.ack(2)
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [0, 1, 2, 3, 4, 5]
    # the user jumps: the new order goes out next, with a fresh window
    s.request([19, 18, 17, 16, 15, 14])
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent][6:] == [19, 18, 17, 16]
    s.ack(100)
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent][6:] == [19, 18, 17, 16, 15, 14]
    s.close()


@pytest.mark.parametrize(("window_bytes", "window", "ack_every"), [(1, 4, 2), (12 * 9, 9, 4)])
def test_each_message_says_how_often_the_page_must_acknowledge(
    window_bytes: int, window: int, ack_every: int
) -> None:
    """Half the window: a page that acknowledges that often never lets the window fill (with
    large slices the window is small, and a fixed count larger than it stopped loading)."""
    sent, send = collect()
    s = SliceStreamer(FakeSeries(n=20), "s0", send, window_bytes=window_bytes)  # type: ignore[arg-type]
    assert (s.window, s.ack_every) == (window, ack_every)
    s.request(list(range(20)))
    # a page that acknowledges as the messages tell it (and the first slice at once)
    seen = unacked = 0
    while seen < 20:
        assert s.wait_idle()
        # (slice 7 of FakeSeries is broken: its answer is an error, counted like a slice)
        assert all(m["ack_every"] == ack_every for m, _ in sent.raw if m["type"] == "slices")
        arrived = len(sent) - seen
        assert arrived > 0, f"loading stopped after {seen} of 20 slices"
        for _ in range(arrived):
            seen += 1
            unacked += 1
            if seen == 1 or unacked >= ack_every:
                s.ack(unacked)
                unacked = 0
    assert sorted(m["index"] for m, _ in sent) == list(range(20))
    s.close()


def test_window_is_sized_in_bytes() -> None:
    s = SliceStreamer(FakeSeries(), "s0", lambda c, b: None, window_bytes=12 * 100)  # type: ignore[arg-type]
    assert s.window == 100  # 2 x 3 int16 = 12 bytes per slice


def test_first_slice_of_a_request_goes_alone_then_several_per_message() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(n=20), "s0", send)  # type: ignore[arg-type]
    s.batch = 3
    s.request([0, 1, 2, 3, 4, 5, 6, 8])  # (slice 7 of the fake series cannot be decoded)
    assert s.wait_idle()
    sizes = [len(c["items"]) for c, _ in sent.raw]
    assert sizes == [1, 3, 3, 1]
    assert [m["index"] for m, _ in sent] == [0, 1, 2, 3, 4, 5, 6, 8]
    s.request([15, 14, 13, 12])  # a jump: the slice the user looks at is again sent alone
    assert s.wait_idle()
    assert [len(c["items"]) for c, _ in sent.raw][4:] == [1, 3]
    s.close()


def test_the_rest_of_a_request_waits_for_the_first_slice_to_be_acknowledged() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(n=20), "s0", send)  # type: ignore[arg-type]
    s.batch = 3
    s.request([5, 6, 4, 8])
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # well within HOLD_SECONDS: nothing more goes out before the ack
    assert [m["index"] for m, _ in sent] == [5]
    s.ack(1)
    assert s.wait_idle()
    assert [m["index"] for m, _ in sent] == [5, 6, 4, 8]
    s.close()


def test_an_unacknowledged_first_slice_only_delays_the_rest() -> None:
    sent, send = collect()
    s = SliceStreamer(FakeSeries(n=20), "s0", send)  # type: ignore[arg-type]
    s.request([1, 2, 3])
    assert s.wait_idle()  # no ack at all (a page that never answers): sent after the hold
    assert [m["index"] for m, _ in sent] == [1, 2, 3]
    assert streaming.HOLD_SECONDS < 1  # (a page that never acknowledges waits this once)
    s.close()


def test_a_slice_above_the_part_size_goes_in_bands_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: a 4096 x 3328 mammogram went as one 27 MB message, above the server's 10 MB limit.
    A large slice goes in bands of whole rows, one message each; small ones as before."""

    class Big(FakeSeries):
        def get_stored_slice(self, k: int, *, keep: bool = True) -> np.ndarray:
            return np.arange(7 * 5, dtype="<u2").reshape(7, 5) + k

    monkeypatch.setattr(streaming, "PART_BYTES", 3 * 5 * 2)  # three rows a part
    series = Big(n=3)
    series.shape = (3, 7, 5)
    sent, send = collect()
    s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
    s.request([1, 2])
    assert s.wait_idle()
    s.ack(1)
    assert s.wait_idle()
    parts = [(c["items"], b) for c, b in sent.raw]
    assert all(len(items) == 1 and len(b) == 1 for items, b in parts)
    assert all(b[0].nbytes <= 3 * 5 * 2 for _, b in parts)
    for k in (1, 2):
        mine = [(items[0], b[0]) for items, b in parts if items[0]["index"] == k]
        assert [item["rows"] for item, _ in mine] == [[0, 3], [3, 6], [6, 7]]
        assert all(item["shape"] == [7, 5] for item, _ in mine)
        values = np.concatenate([np.frombuffer(bytes(b), "<u2") for _, b in mine])
        np.testing.assert_array_equal(values.reshape(7, 5), np.arange(35).reshape(7, 5) + k)
    s.close()


def test_send_unasked_sends_a_cheap_first_slice_and_nothing_else() -> None:
    """The slice a widget opens on goes unasked (before the page's request) when it is cheap:
    read without decoding, or small; a large compressed slice (a long decode in the cell) and
    a slice that cannot be read are left to the page's request."""

    class Big(FakeSeries):
        def __init__(self, rereadable: bool) -> None:
            super().__init__()
            self.shape = (10, 1200, 1200)  # 2.9 MB a slice decoded
            self.rereadable = rereadable

        def get_stored_slice(self, k: int, *, keep: bool = True) -> np.ndarray:
            return np.zeros((1200, 1200), ">i2")

    sent: Sent = []

    def send(content: dict[str, Any], buffers: list[memoryview]) -> None:
        sent.append((content, buffers))

    streamer = SliceStreamer(FakeSeries(), "s0", send)  # type: ignore[arg-type]
    assert streamer.send_unasked(3)
    ((item, [buffer]),) = flatten(sent)
    assert item["index"] == 3 and item["series"] == "s0"
    assert np.frombuffer(buffer, np.int16).tolist() == [3] * 6
    assert not streamer.send_unasked(7)  # cannot be read: the request will say why
    assert len(sent) == 1
    # compressed and large: not decoded in the cell; read without decoding: sent
    assert not SliceStreamer(Big(False), "s0", send).send_unasked(0)  # type: ignore[arg-type]
    assert SliceStreamer(Big(True), "s0", send).send_unasked(0)  # type: ignore[arg-type]
    assert len(sent) == 2
    streamer.close()


def test_a_request_the_page_need_not_hold_goes_in_batches_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page already shows its slice (the kernel sent it unasked) and says so
    (``hold=False``): an uncompressed series' slices go in batches from the first, without
    waiting for an acknowledgement. A compressed series holds anyway (its background decoding
    would take the cores the page's first frames need)."""
    monkeypatch.setattr(streaming, "HOLD_SECONDS", 30.0)
    for rereadable, first in ((True, [5, 6, 4, 8]), (False, [5])):
        sent, send = collect()
        series = FakeSeries(n=20)
        series.rereadable = rereadable
        s = SliceStreamer(series, "s0", send)  # type: ignore[arg-type]
        s.request([5, 6, 4, 8], hold=False)
        deadline = time.monotonic() + 10
        while not sent and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.05)  # time enough for the thread to go on, were it held
        assert [m["index"] for m, _ in sent] == first
        s.close()
