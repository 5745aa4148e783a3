"""Messages between the page and the kernel (mirror of ``js/protocol.ts``).

Pixels never travel in synced traitlets: the page sends ``get_slices`` and the kernel answers
one ``slice`` message per slice with one binary buffer, well below the 10 MB message limit.
Everything from the page is validated here before anything acts on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ProtocolError

__all__ = ["GetSlices", "parse_page_message"]

#: Largest number of slices one request may ask for.
MAX_SLICES_PER_REQUEST = 64


@dataclass(frozen=True)
class GetSlices:
    """The page asks for the pixel data of some slices of one series."""

    series: str
    slices: tuple[int, ...]


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ProtocolError(f"{what} must be an integer, got {value!r}")
    return int(value)


def parse_page_message(content: Any, *, series_id: str, n_slices: int) -> GetSlices:
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
    if kind != "get_slices":
        raise ProtocolError(f"unknown message type {kind!r}")
    series = content.get("series")
    if series != series_id:
        raise ProtocolError(f"get_slices: unknown series {series!r}")
    raw = content.get("slices")
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("get_slices: 'slices' must be a non-empty list of slice indices")
    if len(raw) > MAX_SLICES_PER_REQUEST:
        raise ProtocolError(
            f"get_slices: at most {MAX_SLICES_PER_REQUEST} slices per request, got {len(raw)}"
        )
    slices = tuple(_int(v, "get_slices: slice index") for v in raw)
    for k in slices:
        if not 0 <= k < n_slices:
            raise ProtocolError(
                f"get_slices: slice {k} is out of range (the series has {n_slices} slices)"
            )
    return GetSlices(series=series, slices=slices)
