"""Messages between the page and the kernel (mirror of ``js/protocol.ts``).

Pixels never travel in synced traitlets: the page sends ``get_slices`` and the kernel answers
one ``slice`` message per slice with one binary buffer, well below the 10 MB message limit.
Everything from the page is validated here before anything acts on it.

Label edits: the page sends ``{"type": "edit", "series", "request", "op"}`` (``op`` in the JSON
form :meth:`~dicom_annot_widget.labels.Labels.apply` accepts) and ``{"type": "undo" | "redo",
"series"}``; the kernel answers ``{"type": "edit_ack", "request", "revision"}`` or
``{"type": "error", "message", "request"}``, and the new labels reach the page through the
synced ``labels_state`` trait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ProtocolError

__all__ = ["Ack", "Edit", "GetMetadata", "GetSlices", "Redo", "Undo", "parse_page_message"]

#: A request may always list this many slices (more if the series has more slices).
MIN_REQUEST_LIMIT = 64


@dataclass(frozen=True)
class GetSlices:
    """The page asks for the pixel data of some slices of one series."""

    series: str
    slices: tuple[int, ...]


@dataclass(frozen=True)
class GetMetadata:
    """The page asks for the DICOM elements of one slice (for the metadata viewer).

    Answered by one ``{"type": "metadata", "series", "slice", "elements": [...]}`` message:
    never synced state, so no header value ends up in a saved notebook.
    """

    series: str
    slice: int


@dataclass(frozen=True)
class Ack:
    """The page has received ``count`` more slice messages of one series (flow control: the
    kernel keeps only a window of unacknowledged slices in flight, so that a new priority
    order from the page takes effect at once instead of queueing behind the whole volume)."""

    series: str
    count: int


#: Largest ``count`` one acknowledgement may carry.
MAX_ACK = 100_000


@dataclass(frozen=True)
class Edit:
    """The page asks to apply one label edit (an operation in the JSON form that
    :meth:`~dicom_annot_widget.labels.Labels.apply` accepts, e.g. ``{"op": "create_object",
    ...}``). Answered by ``{"type": "edit_ack", "request", "revision"}``, or by
    ``{"type": "error", "message", "request"}`` if the labels refuse it."""

    series: str
    request: int
    op: dict[str, Any]


@dataclass(frozen=True)
class Undo:
    """The page asks to undo the last label edit (``request`` is optional: when given, it is
    acknowledged like an edit)."""

    series: str
    request: int | None = None


@dataclass(frozen=True)
class Redo:
    """The page asks to redo the last undone label edit (``request`` as for :class:`Undo`)."""

    series: str
    request: int | None = None


#: Request numbers are JavaScript-safe non-negative integers.
MAX_REQUEST = 2**53 - 1

PageMessage = GetSlices | GetMetadata | Ack | Edit | Undo | Redo


def request_number(content: Any) -> int | None:
    """The ``request`` number of a message, if it has a valid one (to answer errors with)."""
    if not isinstance(content, dict):
        return None
    try:
        n = _int(content.get("request"), "request")
    except ProtocolError:
        return None
    return n if 0 <= n <= MAX_REQUEST else None


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ProtocolError(f"{what} must be an integer, got {value!r}")
    return int(value)


def parse_page_message(content: Any, *, series_id: str, n_slices: int) -> PageMessage:
    """Validate one message from the page.

    Parameters
    ----------
    content
        The decoded JSON content of the message.
    series_id
        Identifier of the series the widget shows; requests for any other are refused.
    n_slices
        Number of slices of that series; indices outside ``[0, n_slices)`` are refused.

    Raises
    ------
    ProtocolError
        If the message is not a known type, or its fields are missing, of the wrong type or out
        of range. The message says which field and why.
    """
    if not isinstance(content, dict):
        raise ProtocolError(f"message must be a JSON object, got {type(content).__name__}")
    kind = content.get("type")
    if kind == "get_metadata":
        return _parse_get_metadata(content, series_id=series_id, n_slices=n_slices)
    if kind == "edit":
        return _parse_edit(content, series_id=series_id)
    if kind in ("undo", "redo"):
        return _parse_undo_redo(content, kind, series_id=series_id)
    if kind == "ack":
        if content.get("series") != series_id:
            raise ProtocolError(f"ack: unknown series {content.get('series')!r}")
        count = _int(content.get("count"), "ack: count")
        if not 1 <= count <= MAX_ACK:
            raise ProtocolError(f"ack: count must be in [1, {MAX_ACK}], got {count}")
        return Ack(series=series_id, count=count)
    if kind != "get_slices":
        raise ProtocolError(f"unknown message type {kind!r}")
    series = content.get("series")
    if series != series_id:
        raise ProtocolError(f"get_slices: unknown series {series!r}")
    raw = content.get("slices")
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("get_slices: 'slices' must be a non-empty list of slice indices")
    limit = max(MIN_REQUEST_LIMIT, n_slices)
    if len(raw) > limit:
        raise ProtocolError(f"get_slices: at most {limit} slices per request, got {len(raw)}")
    slices = tuple(_int(v, "get_slices: slice index") for v in raw)
    for k in slices:
        if not 0 <= k < n_slices:
            raise ProtocolError(
                f"get_slices: slice {k} is out of range (the series has {n_slices} slices)"
            )
    return GetSlices(series=series, slices=slices)


def _parse_get_metadata(content: dict[str, Any], *, series_id: str, n_slices: int) -> GetMetadata:
    series = content.get("series")
    if series != series_id:
        raise ProtocolError(f"get_metadata: unknown series {series!r}")
    if "slice" not in content:
        raise ProtocolError("get_metadata: 'slice' (a slice index) is missing")
    k = _int(content["slice"], "get_metadata: slice")
    if not 0 <= k < n_slices:
        raise ProtocolError(
            f"get_metadata: slice {k} is out of range (the series has {n_slices} slices)"
        )
    return GetMetadata(series=series, slice=k)


def _check_series(content: dict[str, Any], kind: str, series_id: str) -> str:
    series = content.get("series")
    if series != series_id:
        raise ProtocolError(
            f"{kind}: series {series!r} is not the series shown ({series_id!r}); "
            "the labels were not changed"
        )
    return series_id


def _parse_request(value: Any, kind: str) -> int:
    n = _int(value, f"{kind}: request")
    if not 0 <= n <= MAX_REQUEST:
        raise ProtocolError(f"{kind}: request must be in [0, {MAX_REQUEST}], got {n}")
    return n


def _parse_edit(content: dict[str, Any], *, series_id: str) -> Edit:
    if "request" not in content:
        raise ProtocolError("edit: 'request' (an integer the answer will carry) is missing")
    request = _parse_request(content["request"], "edit")
    series = _check_series(content, "edit", series_id)
    op = content.get("op")
    if not isinstance(op, dict):
        raise ProtocolError(
            "edit: 'op' must be an operation object (e.g. op 'create_object' with an 'object'), "
            f"got {type(op).__name__}"
        )
    if not isinstance(op.get("op"), str):
        raise ProtocolError("edit: op.op (the operation kind, e.g. 'set_keyframe') is missing")
    return Edit(series=series, request=request, op=op)


def _parse_undo_redo(content: dict[str, Any], kind: str, *, series_id: str) -> Undo | Redo:
    request = None
    if content.get("request") is not None:
        request = _parse_request(content["request"], kind)
    series = _check_series(content, kind, series_id)
    cls = Undo if kind == "undo" else Redo
    return cls(series=series, request=request)
