"""JSON-safe views of DICOM headers (for the metadata panel and for export provenance).

Every element becomes ``{"tag": "(0028,0030)", "keyword": ..., "name": ..., "vr": ...,
"value": ...}``; sequences become lists of items, each a list of elements; bulk and binary
values are summarised as ``"<OB, 1336 bytes>"``; pixel data is left out. Nothing here is
logged: the values include patient data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from pydicom.datadict import dictionary_description, dictionary_keyword, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.valuerep import PersonName

from ._values import quiet_value_checks

__all__ = ["dataset_to_json", "varying_keywords"]

_BULK_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "OB or OW", "US or OW"})
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009, 0x7FE00001, 0x7FE00002})
_MAX_VALUES = 256
_MAX_ITEMS = 64
_MAX_TEXT = 4096


def _tag_str(tag: int) -> str:
    t = Tag(tag)
    return f"({t.group:04X},{t.element:04X})"


def _scalar(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        f = float(value)
        return f if math.isfinite(f) else str(f)
    if isinstance(value, BaseTag):
        return _tag_str(value)
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    text = str(value)
    if len(text) > _MAX_TEXT:
        return text[:_MAX_TEXT] + f"... <{len(text)} characters>"
    return text


def _value(value: Any) -> Any:
    if isinstance(value, (list, tuple, MultiValue)):
        if len(value) > _MAX_VALUES:
            return f"<{len(value)} values>"
        return [_scalar(v) for v in value]
    return _scalar(value)


def _element(ds: Dataset, tag: int, depth: int) -> dict[str, Any] | None:
    raw = ds.get_item(tag, keep_deferred=True)
    if raw is None:
        return None
    base: dict[str, Any] = {"tag": _tag_str(tag)}
    if isinstance(raw, RawDataElement) and raw.value is None:
        # deferred during the header pass: summarise without reading it
        vr = raw.VR or "UN"
        try:
            keyword = dictionary_keyword(tag) if not Tag(tag).is_private else ""
            name = dictionary_description(tag) if not Tag(tag).is_private else "Private tag data"
        except KeyError:
            keyword, name = "", "Unknown"
        base.update(keyword=keyword, name=name, vr=str(vr), value=f"<{vr}, {raw.length} bytes>")
        base["private"] = Tag(tag).is_private
        return base
    try:
        elem = ds[tag]
    except Exception as exc:  # a malformed value: say so instead of failing
        base.update(
            keyword="",
            name="",
            vr=str(getattr(raw, "VR", "") or "UN"),
            value=f"<unreadable: {type(exc).__name__}>",
            private=Tag(tag).is_private,
        )
        return base
    vr = str(elem.VR)
    base.update(
        keyword=elem.keyword or "",
        name=elem.name,
        vr=vr,
        private=elem.tag.is_private,
    )
    value = elem.value
    if vr == "SQ" and isinstance(value, DicomSequence):
        items = list(value)
        base["value"] = [_dataset_to_json(item, depth=depth + 1) for item in items[:_MAX_ITEMS]]
        if len(items) > _MAX_ITEMS:
            base["items_total"] = len(items)
        return base
    if vr in _BULK_VRS or isinstance(value, (bytes, bytearray)):
        length = len(value) if isinstance(value, (bytes, bytearray)) else getattr(raw, "length", 0)
        base["value"] = f"<{vr}, {length} bytes>"
        return base
    base["value"] = _value(value)
    return base


def dataset_to_json(ds: Dataset, depth: int = 0) -> list[dict[str, Any]]:
    """Elements of ``ds`` (and nested sequences) as JSON-safe dicts, pixel data excluded."""
    with quiet_value_checks():
        return _dataset_to_json(ds, depth)


def _dataset_to_json(ds: Dataset, depth: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tag in sorted(ds.keys()):  # not sorted(ds): iterating a Dataset converts elements
        if depth == 0 and int(tag) in _PIXEL_TAGS:
            continue
        entry = _element(ds, int(tag), depth)
        if entry is not None:
            out.append(entry)
    return out


def _raw_key(elem: Any) -> Any:
    if elem is None:
        return None
    return ("deferred", elem.length) if elem.value is None else bytes(elem.value)


def _value_key(ds: Dataset, tag: int) -> Any:
    if tag not in ds:
        return None
    try:
        return repr(ds[tag].value)
    except Exception:  # an unreadable value: compare by identity of the failure
        return "<unreadable>"


def _keys_for(datasets: Sequence[Dataset], tag: int) -> list[Any]:
    """Comparable values of ``tag`` in every dataset.

    Raw (unconverted) bytes are compared while every copy is still raw; once one copy was
    converted (accessed), all are compared as converted values.
    """
    key = BaseTag(tag)  # converted once, not per dataset
    elems = [ds.get_item(key, keep_deferred=True) for ds in datasets]
    if all(e is None or isinstance(e, RawDataElement) for e in elems):
        return [_raw_key(e) for e in elems]
    return [_value_key(ds, tag) for ds in datasets]


def _name_of(ds: Dataset, tag: int) -> str:
    t = Tag(tag)
    if t.is_private:
        return _tag_str(tag)
    try:
        return keyword_for_tag(t) or _tag_str(tag)
    except Exception:  # pragma: no cover
        return _tag_str(tag)


def varying_keywords(datasets: Sequence[Dataset], nested: bool = False) -> list[str]:
    """Keywords (or tags for private elements) whose value differs between ``datasets``.

    Parameters
    ----------
    datasets
        Headers to compare (one per file, or per-frame functional group items).
    nested
        Compare the leaf elements inside sequences too (for functional group items).
    """
    with quiet_value_checks():
        if len(datasets) < 2:
            return []
        if nested:
            flats = [dict(_flatten(ds)) for ds in datasets]
            names: set[str] = set().union(*flats)
            first = flats[0]
            return sorted(k for k in names if any(f.get(k) != first.get(k) for f in flats[1:]))
        # The elements as stored (raw until accessed), read once per dataset: looking each tag up
        # through the Dataset API costs more than the comparison (300 slices x 70 tags).
        # Keys as plain ints: BaseTag's Python-level __eq__ would dominate the lookups.
        stored = [{int(t): e for t, e in ds.items()} for ds in datasets]
        tags: set[int] = set()
        for elems in stored:
            tags.update(elems)
        tags -= _PIXEL_TAGS
        out = []
        ref = datasets[0]
        for tag in sorted(tags):
            if _varies(datasets, [elems.get(tag) for elems in stored], tag):
                out.append(_name_of(ref, tag))
        return out


def _varies(datasets: Sequence[Dataset], found: list[Any], tag: int) -> bool:
    """Whether ``tag`` differs between ``datasets`` (``found``: its stored elements).

    Raw copies are compared by their bytes. When some copies were already converted (read
    during loading, e.g. in the first file only), the raw ones are first compared among
    themselves; if they agree, one of them stands for all in the comparison of converted
    values, so the others are never converted.
    """
    raw = [i for i, e in enumerate(found) if e is not None and isinstance(e, RawDataElement)]
    if len(raw) == len(found) or all(found[i] is None for i in range(len(found)) if i not in raw):
        keys = [_raw_key(e) for e in found]
        return any(k != keys[0] for k in keys[1:])
    raw_keys = [_raw_key(found[i]) for i in raw]
    if any(k != raw_keys[0] for k in raw_keys[1:]):
        return True
    keep = set(raw[1:])
    values = [_value_key(ds, tag) for i, ds in enumerate(datasets) if i not in keep]
    return any(v != values[0] for v in values[1:])


def _flatten(ds: Dataset, prefix: str = "") -> Iterable[tuple[str, Any]]:
    for tag in ds.keys():  # noqa: SIM118 - iterating a Dataset converts elements
        try:
            elem = ds[tag]
        except Exception:
            continue
        name = elem.keyword or _tag_str(int(tag))
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                index = f"[{i}]" if i else ""
                yield from _flatten(item, f"{prefix}{name}{index}.")
        else:
            try:
                yield f"{prefix}{name}", repr(elem.value)
            except Exception:  # pragma: no cover
                continue
