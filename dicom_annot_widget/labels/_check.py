"""Small validators shared by the labels modules.

Every check takes the value and a *path* naming where the value came from (``objects[3].
keyframes["12"].points[0]``, ``add_box(box=...)``) and raises :class:`LabelError` with that path
and a reason a user can act on. Nothing here mutates its input.
"""

from __future__ import annotations

import gc
import json
import math
import numbers
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, NoReturn

import orjson

from ..errors import LabelError, describe

__all__ = [
    "check_bool",
    "check_float",
    "check_id",
    "check_int",
    "check_keys",
    "check_mapping",
    "check_opt_str",
    "check_sequence",
    "check_str",
    "check_timestamp",
    "describe",
    "dumps",
    "fail",
    "is_finite",
    "loads",
    "now_timestamp",
    "paused_gc",
]

_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,127}\Z")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")


def fail(path: str, message: str) -> NoReturn:
    """Raise :class:`LabelError` naming ``path``."""
    raise LabelError(f"{path}: {message}" if path else message)


def check_mapping(value: Any, path: str) -> Mapping[str, Any]:
    if type(value) is dict:  # fast path (JSON); odd keys are refused where they are looked up
        return value
    if not isinstance(value, Mapping):
        fail(path, f"expected an object (dict), got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            fail(path, f"keys must be strings, got {describe(key)}")
    return value


def check_keys(
    value: Mapping[str, Any],
    path: str,
    required: Collection[str] = (),
    optional: Collection[str] = (),
) -> None:
    """Refuse missing required keys and unknown keys (both named in the message)."""
    missing = [k for k in required if k not in value]
    if missing:
        fail(path, f"missing required field {', '.join(repr(k) for k in missing)}")
    if len(value) > len(required):
        unknown = [k for k in value if k not in required and k not in optional]
        if unknown:
            allowed = sorted({*required, *optional})
            fail(
                path,
                f"unknown field {', '.join(repr(k) for k in unknown)} "
                f"(allowed: {', '.join(allowed)})",
            )


def check_str(value: Any, path: str, *, max_len: int = 256, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        fail(path, f"expected a string, got {describe(value)}")
    if not value and not allow_empty:
        fail(path, "must not be empty")
    if len(value) > max_len:
        fail(path, f"is {len(value)} characters long, at most {max_len} allowed")
    check_unicode(value, path)
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_unicode(value: str, path: str) -> None:
    """Refuse text that cannot be written as UTF-8: a lone surrogate (half of a character
    outside the Basic Multilingual Plane, e.g. an emoji cut in two by a UTF-16 length limit)."""
    if not value.isascii():
        bad = _SURROGATE.search(value)
        if bad is not None:
            fail(
                path,
                f"contains the lone surrogate U+{ord(bad.group()):04X} at position "
                f"{bad.start()} (half of a character, e.g. an emoji cut in two); "
                "it cannot be saved as UTF-8",
            )


def check_opt_str(value: Any, path: str, *, max_len: int = 256) -> str | None:
    return None if value is None else check_str(value, path, max_len=max_len)


def check_id(value: Any, path: str) -> str:
    """An identifier: letters, digits, ``_ . : -``, at most 128 characters."""
    if not isinstance(value, str) or not _ID.match(value):
        fail(
            path,
            f"{describe(value)} is not a valid id (letters, digits, '_', '.', ':', '-'; "
            "not starting with punctuation; at most 128 characters)",
        )
    return value


def check_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        fail(path, f"expected true or false, got {describe(value)}")
    return value


_INT64_LIMIT = 2.0**63
"""orjson reads an integer beyond 64 bits as a float: an integral float this large or larger may
have been written as an integer, and is refused as out of range rather than as no integer."""


def check_int(value: Any, path: str, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (not a bool, not a float) in ``[lo, hi]`` (inclusive)."""
    if type(value) is int and (lo is None or value >= lo) and (hi is None or value <= hi):
        return value
    if type(value) is float and _INT64_LIMIT <= abs(value) < math.inf:
        _check_bounds(value, path, lo, hi)  # (possibly a huge integer, as orjson reads one)
        fail(path, f"{describe(value)} is out of range (too large for an integer)")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(path, f"expected an integer, got {describe(value)}")
    result = int(value)
    _check_bounds(result, path, lo, hi)
    return result


def _check_bounds(value: float, path: str, lo: int | None, hi: int | None) -> None:
    if lo is not None and value < lo:
        fail(path, f"{describe(value)} is out of range (minimum {lo})")
    if hi is not None and value > hi:
        fail(path, f"{describe(value)} is out of range (maximum {hi})")


def check_float(value: Any, path: str) -> float:
    """A finite real number (ints are accepted and converted; NaN, inf and bools refused)."""
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(path, f"expected a number, got {describe(value)}")
    try:
        result = float(value)
    except OverflowError:  # an integer beyond the largest float (about 1.8e308)
        fail(path, f"{describe(value)} is out of range (too large for a number)")
    if not math.isfinite(result):
        fail(path, f"{result} is not a finite number")
    return result


def is_finite(value: float) -> bool:
    """Whether a float or int is finite as a float (NaN, inf and an int beyond the largest
    float are not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_sequence(value: Any, path: str) -> Sequence[Any]:
    """A list or tuple (or a NumPy array, converted to a list); never a string or a dict."""
    if isinstance(value, (list, tuple)):
        return value
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and hasattr(value, "ndim"):
        converted = tolist()
        if isinstance(converted, list):
            return converted
    fail(path, f"expected a list, got {describe(value)}")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a JSON-compatible value (orjson; tuples become arrays, and so do
    C-contiguous NumPy arrays, written as their ``tolist()`` would be).

    Anything orjson refuses (a float or int subclass, a huge int) goes through the standard
    library instead, so this accepts what ``json.dumps`` accepts.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON text (orjson). Raises :class:`ValueError` if it is not JSON or is nested
    too deeply to read (the message then says ``nesting too deep``).

    The cyclic garbage collector is paused while parsing: a big document is hundreds of
    thousands of fresh lists, and collections triggered by them would scan them all again and
    again without finding any garbage. Text that only the standard library reads (``NaN``,
    ``Infinity``) is read by it, so validation can name the bad value.
    """
    with paused_gc():
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            try:
                return json.loads(text)
            except RecursionError:  # (orjson refuses more than 1024 levels too)
                raise ValueError(
                    "nesting too deep: arrays and objects nested more levels than can be read"
                ) from None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (reentrant), for building many objects that all
    stay alive: each collection they trigger would scan them again without finding garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def now_timestamp() -> str:
    """The current time in UTC as ISO 8601 with milliseconds, e.g. ``2024-05-01T10:00:00.000Z``."""
    text = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def check_timestamp(value: Any, path: str) -> str:
    """An ISO 8601 date-time with a time zone (``Z`` or ``+hh:mm``)."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        fail(path, f"{describe(value)} is not an ISO 8601 time such as 2024-05-01T10:00:00.000Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(path, f"{value!r} is not a valid date and time")
    return value


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort inclusive ``(start, end)`` ranges and merge those that overlap or touch."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract_range(
    ranges: Iterable[tuple[int, int]], start: int, end: int
) -> list[tuple[int, int]]:
    """Remove the inclusive range ``[start, end]`` from ``ranges`` (splitting where needed)."""
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if b < start or a > end:
            out.append((a, b))
            continue
        if a < start:
            out.append((a, start - 1))
        if b > end:
            out.append((end + 1, b))
    return out
