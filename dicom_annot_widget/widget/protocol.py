"""Messages between the page and the kernel (mirror of ``js/protocol.ts``).

Pixels never travel in synced traitlets: the page sends ``get_slices`` and the kernel answers
with ``slices`` messages, one binary buffer per slice (a slice above ``streaming.PART_BYTES`` in
bands of whole rows, a message each), every message well below the 10 MB message limit.
Everything from the page is validated here before anything acts on it.

Label edits: the page sends ``{"type": "edit", "series", "request", "op"}`` (``op`` in the JSON
form :meth:`~dicom_annot_widget.labels.Labels.apply` accepts) and ``{"type": "undo" | "redo",
"series"}``; the kernel answers ``{"type": "edit_ack", "request", "revision"}`` or
``{"type": "error", "message", "request"}``, and the new labels reach the page through the
synced ``labels_state`` trait.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ProtocolError, describe
from ..labels.geometry import PLANES

__all__ = [
    "Ack",
    "Autosegment",
    "Edit",
    "GetLabels",
    "GetMasks",
    "GetMetadata",
    "GetSlices",
    "Interpolate",
    "Paint",
    "Ping",
    "Redo",
    "Release",
    "Stroke",
    "Undo",
    "parse_page_message",
    "parse_strokes",
]

#: A request may always list this many slices (more if the series has more slices).
MIN_REQUEST_LIMIT = 64


@dataclass(frozen=True)
class GetSlices:
    """The page asks for the pixel data of some slices of one series."""

    series: str
    slices: tuple[int, ...]
    #: The first slice goes alone and the rest waits for its acknowledgement (the page is
    #: about to paint it). False: the page already shows its slice (the one the kernel sent
    #: unasked), so nothing needs to wait.
    hold: bool = True


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


@dataclass(frozen=True)
class Ping:
    """The page checks that its messages still reach the kernel (ipywidgets said the
    connection changed). Nothing to do: a message that cannot be sent is the answer."""


@dataclass(frozen=True)
class Release:
    """No view of the widget is left on the page (its cell was run again, its output cleared),
    which let its copy of the series go: the kernel may let its decoded pixels go too."""

    series: str


@dataclass(frozen=True)
class GetLabels:
    """The page asks for the whole ``labels_state`` again: a ``labels_patch`` did not start
    from the revision it has (a view that joined late, say)."""

    series: str


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

#: Brush tools of a ``paint`` stroke.
STROKE_TOOLS = ("brush", "eraser", "threshold")
#: Largest brush radius (voxels).
MAX_RADIUS = 512.0
#: Most pointer samples in one stroke.
MAX_STROKE_POINTS = 20_000
#: Most strokes in one ``paint`` message, and most points in all of them together.
MAX_STROKES = 1_000
MAX_PAINT_POINTS = 200_000
#: Most voxel tests one ``paint`` message may cost: each segment of a stroke tests the voxels
#: of its box (its extent plus the brush's diameter each way). About 2 s of the kernel here;
#: a stroke the page draws with its largest brush (radius 100) may have 3,000 samples.
MAX_PAINT_WORK = 150_000_000
#: Stroke coordinates beyond this (voxels) are refused: no image is that large.
MAX_COORDINATE = 1e6
#: Longest object uuid accepted from the page.
MAX_UUID_LENGTH = 128
#: Most objects one ``interpolate`` message may name.
MAX_INTERPOLATE_OBJECTS = 10_000


@dataclass(frozen=True, eq=False)
class Stroke:
    """One brush stroke of a ``paint`` message (validated).

    Attributes
    ----------
    tool
        ``"brush"`` (mask |= discs), ``"eraser"`` (mask &= ~discs) or ``"threshold"``
        (mask |= discs & lo <= value <= hi).
    radius
        Disc radius in voxels (columns), in ``(0, MAX_RADIUS]``.
    points
        Pointer samples ``(x, y)`` (column, row), float64 of shape (N, 2), N >= 1.
    range
        ``(lo, hi)`` in modality units for the threshold tool, else None.
    """

    tool: str
    radius: float
    points: NDArray[np.float64]
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Paint:
    """The page paints ``strokes`` into object ``uuid`` on ``slice`` (one undoable edit).

    Answered by a ``masks`` patch message, then ``edit_ack`` (or ``error``). ``feature``
    names the bitmask class of a new object when ``uuid`` does not exist yet."""

    series: str
    request: int
    uuid: str
    slice: int
    strokes: tuple[Stroke, ...]
    feature: str | None = None
    #: the plane ``slice`` and the strokes' points are in (a reformat edits where it cuts
    #: the object's masks)
    plane: str = "axial"
    #: the pixels the object gains leave the other bitmask objects (``w.mask_overwrite``)
    overwrite: bool = False


@dataclass(frozen=True)
class GetMasks:
    """The page asks for the masks of every bitmask object on ``slice`` (answered by one
    ``masks`` message with ``full: true`` items)."""

    series: str
    slice: int


@dataclass(frozen=True)
class Interpolate:
    """The page asks to interpolate the tracks of ``uuids`` (None: every object with at least
    two manual keyframes) between ``start`` and ``end`` (None: open). One undoable edit."""

    series: str
    request: int
    uuids: tuple[str, ...] | None
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Autosegment:
    """The page asks to tighten the polygon keyframe of ``uuid`` on ``slice`` to the edges of
    the structure it encloses. One undoable edit."""

    series: str
    request: int
    uuid: str
    slice: int


PageMessage = (
    GetSlices
    | GetMetadata
    | GetLabels
    | Ack
    | Ping
    | Release
    | Edit
    | Undo
    | Redo
    | Paint
    | GetMasks
    | Interpolate
    | Autosegment
)

#: Messages answered by ``edit_ack`` / ``error`` carrying the page's ``request`` number.
ANSWERED = ("edit", "undo", "redo", "paint", "interpolate", "autosegment")


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


def parse_page_message(
    content: Any, *, series_id: str, n_slices: int, plane_slices: int | None = None
) -> PageMessage:
    """Validate one message from the page.

    Parameters
    ----------
    content
        The decoded JSON content of the message.
    series_id
        Identifier of the series the widget shows; requests for any other are refused.
    n_slices
        Number of slices of that series; indices outside ``[0, n_slices)`` are refused.
    plane_slices
        The most slices any plane of the series has (default ``n_slices``): the bound of the
        slices of requests about objects, which may be drawn on reformats, and of paints,
        which may be made on one (interpolate, autosegment, paint; the labels check each
        object's own plane).

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
    if kind == "get_masks":
        return _parse_get_masks(content, series_id=series_id, n_slices=n_slices)
    any_plane = n_slices if plane_slices is None else max(n_slices, plane_slices)
    if kind == "paint":
        return _parse_paint(content, series_id=series_id, n_slices=n_slices, any_plane=any_plane)
    if kind == "interpolate":
        return _parse_interpolate(content, series_id=series_id, n_slices=any_plane)
    if kind == "autosegment":
        return _parse_autosegment(content, series_id=series_id, n_slices=any_plane)
    if kind in ("undo", "redo"):
        return _parse_undo_redo(content, kind, series_id=series_id)
    if kind == "get_labels":
        if content.get("series") != series_id:
            raise ProtocolError(f"get_labels: unknown series {content.get('series')!r}")
        return GetLabels(series=series_id)
    if kind == "ping":
        return Ping()
    if kind == "release":
        if content.get("series") != series_id:
            raise ProtocolError(f"release: unknown series {content.get('series')!r}")
        return Release(series=series_id)
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
    hold = content.get("hold", True)
    if not isinstance(hold, bool):
        raise ProtocolError(f"get_slices: 'hold' must be true or false, got {describe(hold)}")
    return GetSlices(series=series, slices=slices, hold=hold)


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


# -- masks, painting, interpolation, auto-segmentation --------------------------------------


def _number(value: Any, what: str) -> float:
    """A finite number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{what} must be a number, got {describe(value)}")
    try:
        out = float(value)
    except OverflowError:  # an integer beyond any float
        out = math.inf
    if not math.isfinite(out):
        raise ProtocolError(f"{what} must be a finite number, got {describe(value)}")
    return out


def _slice_index(
    content: dict[str, Any], kind: str, n_slices: int, where: str = "the series has"
) -> int:
    if "slice" not in content:
        raise ProtocolError(f"{kind}: 'slice' (a slice index) is missing")
    k = _int(content["slice"], f"{kind}: slice")
    if not 0 <= k < n_slices:
        raise ProtocolError(f"{kind}: slice {k} is out of range ({where} {n_slices} slices)")
    return k


def _uuid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(
            f"{what} must be a non-empty string (an object uuid), got {describe(value)}"
        )
    if len(value) > MAX_UUID_LENGTH:
        raise ProtocolError(
            f"{what} is too long ({len(value)} characters; at most {MAX_UUID_LENGTH})"
        )
    return value


def _answered(content: dict[str, Any], kind: str, series_id: str) -> tuple[int, str]:
    """``request`` and ``series`` of a message answered by ``edit_ack`` / ``error``."""
    if "request" not in content:
        raise ProtocolError(f"{kind}: 'request' (an integer the answer will carry) is missing")
    request = _parse_request(content["request"], kind)
    return request, _check_series(content, kind, series_id)


def _stroke_points(raw: Any, what: str) -> NDArray[np.float64]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ProtocolError(f"{what}: 'points' must be a non-empty list of [x, y] pairs")
    if len(raw) > MAX_STROKE_POINTS:
        raise ProtocolError(
            f"{what}: too many points ({len(raw)}; at most {MAX_STROKE_POINTS} per stroke)"
        )
    ok = set(map(type, raw)) <= {list, tuple}
    if ok:
        flat = list(itertools.chain.from_iterable(raw))
        ok = len(flat) == 2 * len(raw) and set(map(type, flat)) <= {int, float}
    if not ok:
        for i, p in enumerate(raw):  # find the culprit and say what is wrong with it
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ProtocolError(
                    f"{what}: points[{i}] must be an [x, y] pair, got {describe(p)}"
                )
            _number(p[0], f"{what}: points[{i}][0]")
            _number(p[1], f"{what}: points[{i}][1]")
        flat = [float(v) for p in raw for v in p]  # numbers of other types (numpy scalars)
    try:
        pts = np.array(flat, dtype=np.float64).reshape(-1, 2)
    except OverflowError:  # an integer beyond any float: found and named by _number
        for i, v in enumerate(flat):
            _number(v, f"{what}: points[{i // 2}][{i % 2}]")
        raise
    bad = ~np.isfinite(pts)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise ProtocolError(f"{what}: points[{i}][{j}] must be a finite number, got {pts[i, j]!r}")
    far = np.abs(pts) > MAX_COORDINATE
    if far.any():
        i, j = (int(v) for v in np.argwhere(far)[0])
        raise ProtocolError(
            f"{what}: points[{i}][{j}] = {pts[i, j]!r} lies far outside any image "
            f"(|coordinate| <= {MAX_COORDINATE:g})"
        )
    return pts


def parse_stroke(raw: Any, what: str) -> Stroke:
    """Validate one stroke; ``what`` starts each error message (``"paint: strokes[0]"``, or
    the name of the Python call that made the stroke)."""
    if not isinstance(raw, dict):
        raise ProtocolError(
            f"{what} must be an object {{tool, radius, points}}, got {describe(raw)}"
        )
    unknown = set(raw) - {"tool", "radius", "points", "range"}
    if unknown:
        raise ProtocolError(f"{what}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    tool = raw.get("tool")
    if tool not in STROKE_TOOLS:
        raise ProtocolError(
            f"{what}: 'tool' must be one of {', '.join(STROKE_TOOLS)}, got {describe(tool)}"
        )
    if "radius" not in raw:
        raise ProtocolError(f"{what}: 'radius' (voxels) is missing")
    radius = _number(raw["radius"], f"{what}: radius")
    if not 0 < radius <= MAX_RADIUS:
        raise ProtocolError(f"{what}: radius must be in (0, {MAX_RADIUS:g}] voxels, got {radius!r}")
    points = _stroke_points(raw.get("points"), what)
    value_range: tuple[float, float] | None = None
    rng = raw.get("range")
    if tool == "threshold":
        if not isinstance(rng, (list, tuple)) or len(rng) != 2:
            raise ProtocolError(
                f"{what}: the threshold tool needs 'range': [lo, hi] in modality units, "
                f"got {describe(rng)}"
            )
        lo = _number(rng[0], f"{what}: range[0] (lo)")
        hi = _number(rng[1], f"{what}: range[1] (hi)")
        if lo > hi:
            raise ProtocolError(f"{what}: range needs lo <= hi, got [{lo!r}, {hi!r}]")
        value_range = (lo, hi)
    elif rng is not None:
        raise ProtocolError(f"{what}: 'range' is only for the threshold tool, not the {tool}")
    return Stroke(tool=tool, radius=radius, points=points, range=value_range)


def parse_strokes(raw: Any, kind: str = "paint") -> tuple[Stroke, ...]:
    """Validate the ``strokes`` list of a ``paint`` message (also used by the Python API).

    Raises
    ------
    ProtocolError
        Naming the stroke and field at fault (tool, radius <= 0 or too large, NaN/inf or too
        many points, a threshold range with lo > hi...).
    """
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ProtocolError(f"{kind}: 'strokes' must be a non-empty list of strokes")
    if len(raw) > MAX_STROKES:
        raise ProtocolError(f"{kind}: too many strokes ({len(raw)}; at most {MAX_STROKES})")
    strokes = tuple(parse_stroke(s, f"{kind}: strokes[{i}]") for i, s in enumerate(raw))
    total = sum(len(s.points) for s in strokes)
    if total > MAX_PAINT_POINTS:
        raise ProtocolError(
            f"{kind}: too many points in all strokes together ({total}; at most {MAX_PAINT_POINTS})"
        )
    work = sum(_stroke_work(s) for s in strokes)
    if work > MAX_PAINT_WORK:
        raise ProtocolError(
            f"{kind}: the strokes would test {work:,.0f} voxels (at most {MAX_PAINT_WORK:,}; "
            "each segment tests its box, the brush's diameter wide): paint with fewer points or "
            "a smaller radius, or in several messages"
        )
    return strokes


def _stroke_work(stroke: Stroke) -> float:
    """Voxel tests of one stroke: for each segment, its box widened by the brush."""
    side = 2 * stroke.radius + 2
    pts = stroke.points
    if len(pts) == 1:
        return side * side
    extent = np.abs(np.diff(pts, axis=0))
    return float(np.sum((extent[:, 0] + side) * (extent[:, 1] + side)))


def _parse_paint(
    content: dict[str, Any], *, series_id: str, n_slices: int, any_plane: int
) -> Paint:
    request, series = _answered(content, "paint", series_id)
    uuid = _uuid(content.get("uuid"), "paint: uuid")
    plane = content.get("plane", "axial")
    if plane not in PLANES:
        raise ProtocolError(
            f"paint: 'plane' must be one of {', '.join(PLANES)}, got {describe(plane)}"
        )
    if plane == "axial":
        k = _slice_index(content, "paint", n_slices)
    else:  # the labels check the plane's own count
        k = _slice_index(content, "paint", any_plane, "its largest plane has")
    strokes = parse_strokes(content.get("strokes"))
    feature = content.get("feature")
    if feature is not None and (not isinstance(feature, str) or not feature):
        raise ProtocolError(f"paint: 'feature' must be a class id or name, got {describe(feature)}")
    overwrite = content.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise ProtocolError(f"paint: 'overwrite' must be true or false, got {describe(overwrite)}")
    return Paint(series, request, uuid, k, strokes, feature, plane, overwrite)


def _parse_get_masks(content: dict[str, Any], *, series_id: str, n_slices: int) -> GetMasks:
    series = content.get("series")
    if series != series_id:
        raise ProtocolError(f"get_masks: unknown series {describe(series)}")
    return GetMasks(series=series_id, slice=_slice_index(content, "get_masks", n_slices))


def _optional_slice(content: dict[str, Any], key: str, kind: str, n_slices: int) -> int | None:
    value = content.get(key)
    if value is None:
        return None
    k = _int(value, f"{kind}: {key}")
    if not 0 <= k < n_slices:
        raise ProtocolError(
            f"{kind}: {key} slice {k} is out of range (the series has {n_slices} slices)"
        )
    return k


def _parse_interpolate(content: dict[str, Any], *, series_id: str, n_slices: int) -> Interpolate:
    request, series = _answered(content, "interpolate", series_id)
    if "uuids" not in content:
        raise ProtocolError(
            "interpolate: 'uuids' is missing (a list of object uuids, or null for every object "
            "with at least two manual keyframes)"
        )
    raw = content["uuids"]
    uuids: tuple[str, ...] | None = None
    if raw is not None:
        if not isinstance(raw, list) or not raw:
            raise ProtocolError(
                f"interpolate: 'uuids' must be a non-empty list of object uuids or null, got "
                f"{describe(raw)}"
            )
        if len(raw) > MAX_INTERPOLATE_OBJECTS:
            raise ProtocolError(
                f"interpolate: too many objects ({len(raw)}; at most {MAX_INTERPOLATE_OBJECTS})"
            )
        uuids = tuple(_uuid(u, f"interpolate: uuids[{i}]") for i, u in enumerate(raw))
    start = _optional_slice(content, "start", "interpolate", n_slices)
    end = _optional_slice(content, "end", "interpolate", n_slices)
    if start is not None and end is not None and start > end:
        raise ProtocolError(f"interpolate: the range needs start <= end, got {start} > {end}")
    return Interpolate(series, request, uuids, start, end)


def _parse_autosegment(content: dict[str, Any], *, series_id: str, n_slices: int) -> Autosegment:
    request, series = _answered(content, "autosegment", series_id)
    uuid = _uuid(content.get("uuid"), "autosegment: uuid")
    return Autosegment(series, request, uuid, _slice_index(content, "autosegment", n_slices))
