"""Fast, tolerant access to the few header values the loader needs from every file.

pydicom converts an element the first time it is accessed and validates text values on the
way (``DSfloat`` runs a regular expression per number). Over a few hundred files that
conversion costs more than parsing the headers. For the handful of numeric and UID strings
used to group and sort slices, these helpers split the raw bytes of a not-yet-converted
element instead, and fall back to pydicom's normal conversion for anything else (already
converted elements, binary VRs, deferred values, character-set dependent text).

Every helper returns ``None`` (or ``""``) for a missing or malformed value: a bad value in one
file must not abort a load, the caller decides what a missing value means.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

__all__ = [
    "float_values",
    "int_value",
    "quiet_value_checks",
    "raw_key",
    "str_value",
    "str_values",
]


@contextlib.contextmanager
def quiet_value_checks() -> Iterator[None]:
    """Without pydicom's warnings about values that break their VR's rules (a 72-character
    LO, say) while the block converts elements. The loader reads such values as they are and
    the tags panel shows them; pydicom's bare UserWarning, printed in the cell without a file
    or tag, only alarmed (QA). Only its validation module's warnings are silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom\.valuerep")
        yield


# VRs whose raw value is ASCII text that can be split on backslashes without knowing the
# character set.
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})


def _vr(elem: RawDataElement) -> str | None:
    if elem.VR and elem.VR != "UN":
        return str(elem.VR)
    try:
        return str(dictionary_VR(elem.tag))
    except KeyError:
        return None


def _raw_ascii(ds: Dataset, tag: int) -> list[str] | None:
    """Split a raw ASCII value; ``None`` if the element needs pydicom's conversion."""
    elem = ds.get_item(tag, keep_deferred=True)
    if not isinstance(elem, RawDataElement) or elem.value is None:
        return None
    if _vr(elem) not in _ASCII_VRS:
        return None
    text = bytes(elem.value).decode("latin-1")
    return [part.strip(" \x00") for part in text.split("\\")]


def _converted(ds: Dataset, tag: int) -> list[Any] | None:
    if tag not in ds:
        return None
    try:
        value = ds[tag].value
    except Exception:  # a malformed value must not abort the load
        return None
    if value is None:
        return None
    if isinstance(value, (list, tuple, MultiValue)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return None
    return [value]


def str_values(ds: Dataset, tag: int) -> list[str]:
    """All values of a text element as stripped strings (``[]`` when missing or empty).

    Empty values between backslashes are kept so positions line up with sibling elements
    (window centers and their explanations, for example).
    """
    parts = _raw_ascii(ds, tag)
    if parts is None:
        values = _converted(ds, tag)
        if values is None:
            return []
        parts = [str(v).strip(" \x00") for v in values]
    return parts if any(parts) else []


def str_value(ds: Dataset, tag: int) -> str:
    """The first value of a text element, ``""`` when missing or empty."""
    values = str_values(ds, tag)
    return values[0] if values else ""


def float_values(ds: Dataset, tag: int, count: int | None = None) -> tuple[float, ...] | None:
    """Numeric values of an element as finite floats.

    Parameters
    ----------
    ds
        Dataset (or sequence item) holding the element.
    tag
        Integer tag.
    count
        If given, the number of values required; anything else counts as malformed.

    Returns
    -------
    tuple of float or None
        ``None`` when missing, malformed, non-finite or of the wrong multiplicity.
    """
    parts = _raw_ascii(ds, tag)
    values = [p for p in parts if p != ""] if parts is not None else _converted(ds, tag)
    if not values:
        return None
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    if count is not None and len(out) != count:
        return None
    if not all(math.isfinite(v) for v in out):
        return None
    return out


_BINARY_INTS = {"US": (2, False), "SS": (2, True), "UL": (4, False), "SL": (4, True)}


def int_value(ds: Dataset, tag: int) -> int | None:
    """The first value of an integer element (IS, US, UL, SS, SL), ``None`` if unusable."""
    elem = ds.get_item(tag, keep_deferred=True)
    if isinstance(elem, RawDataElement) and elem.value is not None:
        spec = _BINARY_INTS.get(_vr(elem) or "")
        if spec is not None:
            size, signed = spec
            raw = bytes(elem.value)
            if len(raw) < size:
                return None
            order = "little" if elem.is_little_endian else "big"
            return int.from_bytes(raw[:size], order, signed=signed)
    parts = _raw_ascii(ds, tag)
    value: Any
    if parts is not None:
        value = parts[0] if parts else None
    else:
        values = _converted(ds, tag)
        value = values[0] if values else None
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def raw_key(ds: Dataset, tag: int) -> bytes | str:
    """A comparable form of an element's value, without decoding its text.

    Used for grouping keys (series description, dates) where only equality matters.
    """
    elem = ds.get_item(tag, keep_deferred=True)
    if elem is None:
        return b""
    if isinstance(elem, RawDataElement):
        return bytes(elem.value or b"").rstrip(b" \x00")
    return str(elem.value)
