"""The label document (schema ``dicom-annot/1``): the interchange and persistence format.

A :class:`LabelDocument` holds the series it belongs to (:class:`SeriesInfo`), the
:class:`~dicom_annot_widget.labels.ontology.Ontology`, the objects (:class:`LabelObject`, each a
track of keyframes on the slices of one plane), the frame classifications
(:class:`FrameClassification`) and the measurements (:class:`Measurement`).

All of these are immutable; a document changes only through
:mod:`~dicom_annot_widget.labels.operations`, which swap whole objects in and out, so a reader
never sees half an edit and keeping an old version costs nothing.

:meth:`LabelDocument.to_json` and :meth:`LabelDocument.from_json` round-trip exactly. Loading
refuses a malformed document with a :class:`~dicom_annot_widget.errors.LabelError` naming the
bad field, e.g. ``objects[3].keyframes["12"].points: a polygon needs at least 3 distinct
vertices, got 2``. The schema is documented in ``docs/labels.md``.
"""

from __future__ import annotations

import functools
import itertools
import json
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from ..errors import LabelError
from ._check import (
    check_bool,
    check_float,
    check_int,
    check_keys,
    check_mapping,
    check_opt_str,
    check_sequence,
    check_str,
    check_timestamp,
    check_unicode,
    describe,
    dumps,
    fail,
    loads,
    merge_ranges,
    paused_gc,
)
from ._vertices import VertexTable, split_vertex_lists
from .geometry import (
    PLANES,
    Box,
    Geometry,
    Polygon,
    Polyline,
    _coords,
    _instances,
    parse_geometry,
    parse_stored_geometries,
    ring_area,
)
from .ontology import Answer, ObjectClass, Ontology

__all__ = [
    "MEASUREMENT_KINDS",
    "SCHEMA",
    "DynamicAnswer",
    "FrameClassification",
    "Keyframe",
    "LabelDocument",
    "LabelObject",
    "Measurement",
    "SeriesInfo",
]

SCHEMA = "dicom-annot/1"
"""The schema identifier written to and required in every label document."""

MANUAL = "manual"
INTERPOLATION = "interpolation"
REVIEW_STATES: tuple[str | None, ...] = (None, "pending", "accepted")
MEASUREMENT_KINDS: dict[str, tuple[int, int | None]] = {
    "distance": (2, 2),
    "angle": (3, 3),
    "area": (3, None),
}
"""Measurement kind -> (minimum, maximum) number of points."""

_UUID_CHARS = frozenset("0123456789abcdef-")
_MAX_OBJECT_ID = 2**31 - 1
MAX_REVISION = 2**53 - 1
"""The largest revision a document may hold: the page compares revisions as JavaScript numbers,
exact up to this."""


def check_uuid(value: Any, path: str) -> str:
    """A lower-case hyphenated UUID string (as ``str(uuid.uuid4())`` gives)."""
    if (
        not isinstance(value, str)
        or len(value) != 36
        or not _UUID_CHARS.issuperset(value)
        or [len(p) for p in value.split("-")] != [8, 4, 4, 4, 12]
    ):
        fail(
            path, f"{describe(value)} is not a UUID such as '1b4e28ba-2fa1-11d2-883f-0016d3cca427'"
        )
    return value


def check_plane(value: Any, path: str) -> str:
    if value not in PLANES:
        fail(path, f"{describe(value)} is not a plane (one of {', '.join(PLANES)})")
    return str(value)


def check_source(value: Any, path: str) -> str:
    """``"manual"``, ``"interpolation"`` or the name of the model that predicted the object."""
    return check_str(value, path, max_len=200)


def check_model_source(value: Any, path: str) -> str:
    """The name of the model behind a prediction: a source that is not ``"manual"`` or
    ``"interpolation"``."""
    source = check_source(value, path)
    if source in (MANUAL, INTERPOLATION):
        fail(path, f"{source!r} is reserved; use the name of the model")
    return source


NAME_MAX_LEN = 200
"""Longest object name (after stripping surrounding white space)."""


def check_name(value: Any, path: str) -> str | None:
    """An object's name: user text of at most :data:`NAME_MAX_LEN` characters on one line,
    stripped of surrounding white space; ``None`` or an empty (or blank) string is no name."""
    if value is None:
        return None
    if not isinstance(value, str):
        fail(path, f"expected a string or null, got {describe(value)}")
    name = value.strip()
    if len(name) > NAME_MAX_LEN:
        fail(path, f"is {len(name)} characters long, at most {NAME_MAX_LEN} allowed")
    bad = next((c for c in name if ord(c) < 32 or 127 <= ord(c) < 160), None)
    if bad is not None:
        fail(path, f"contains the control character U+{ord(bad):04X}; a name is one line of text")
    check_unicode(name, path)
    return name or None


def check_confidence(value: Any, path: str) -> float:
    """A prediction's confidence: a number in [0, 1]."""
    confidence = check_float(value, path)
    if not 0.0 <= confidence <= 1.0:
        fail(path, f"{confidence} is not between 0 and 1")
    return confidence


# ---------------------------------------------------------------------------- series


@dataclass(frozen=True)
class SeriesInfo:
    """What a label document needs to know about its series.

    Parameters
    ----------
    series_instance_uid
        The series the labels belong to (for NIfTI / NumPy volumes, whatever uid the reader
        assigned).
    shape
        ``(slices, rows, columns)`` of the volume.
    study_instance_uid, frame_of_reference_uid
        Optional, recorded for exports.
    """

    series_instance_uid: str
    shape: tuple[int, int, int]
    study_instance_uid: str | None = None
    frame_of_reference_uid: str | None = None

    def __post_init__(self) -> None:
        check_str(self.series_instance_uid, "series.series_instance_uid", max_len=256)
        check_opt_str(self.study_instance_uid, "series.study_instance_uid", max_len=256)
        check_opt_str(self.frame_of_reference_uid, "series.frame_of_reference_uid", max_len=256)
        shape = check_sequence(self.shape, "series.shape")
        if len(shape) != 3:
            fail("series.shape", f"expected (slices, rows, columns), got {describe(self.shape)}")
        dims = tuple(check_int(n, f"series.shape[{i}]", 1, 1_000_000) for i, n in enumerate(shape))
        object.__setattr__(self, "shape", dims)

    @classmethod
    def coerce(cls, value: Any) -> SeriesInfo:
        """A :class:`SeriesInfo` from itself, its dict form, or any object with attributes
        ``series_instance_uid`` and ``shape`` (such as an opened series)."""
        if isinstance(value, SeriesInfo):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        uid = getattr(value, "series_instance_uid", None)
        shape = getattr(value, "shape", None)
        if uid is None or shape is None:
            raise LabelError(
                f"series: expected a SeriesInfo, a dict or a series with 'series_instance_uid' "
                f"and 'shape', got {type(value).__name__}"
            )
        return cls(
            series_instance_uid=str(uid),
            shape=tuple(int(n) for n in tuple(shape)[:3]),  # type: ignore[arg-type]
            study_instance_uid=_opt_attr(value, "study_instance_uid"),
            frame_of_reference_uid=_opt_attr(value, "frame_of_reference_uid"),
        )

    @classmethod
    def from_dict(cls, data: Any, path: str = "series") -> SeriesInfo:
        entry = check_mapping(data, path)
        check_keys(
            entry,
            path,
            required=("series_instance_uid", "shape"),
            optional=("study_instance_uid", "frame_of_reference_uid"),
        )
        shape = entry["shape"]
        if isinstance(shape, Mapping):
            check_keys(shape, f"{path}.shape", required=("slices", "rows", "columns"))
            dims = tuple(
                check_int(shape[k], f"{path}.shape.{k}", 1, 1_000_000)
                for k in ("slices", "rows", "columns")
            )
        else:
            dims = tuple(check_sequence(shape, f"{path}.shape"))
        try:
            return cls(
                series_instance_uid=entry["series_instance_uid"],
                shape=dims,  # type: ignore[arg-type]
                study_instance_uid=entry.get("study_instance_uid"),
                frame_of_reference_uid=entry.get("frame_of_reference_uid"),
            )
        except LabelError as exc:
            msg = str(exc)
            raise LabelError(msg.replace("series.", f"{path}.", 1)) from None

    def to_dict(self) -> dict[str, Any]:
        slices, rows, columns = self.shape
        return {
            "series_instance_uid": self.series_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "shape": {"slices": slices, "rows": rows, "columns": columns},
        }

    def plane_size(self, plane: str) -> tuple[int, int, int]:
        """``(width, height, number of slices)`` of the plane images."""
        slices, rows, columns = self.shape
        if plane == "axial":
            return (columns, rows, slices)
        if plane == "coronal":
            return (columns, slices, rows)
        if plane == "sagittal":
            return (rows, slices, columns)
        raise LabelError(f"{describe(plane)} is not a plane (one of {', '.join(PLANES)})")


def _opt_attr(value: Any, name: str) -> str | None:
    """An optional uid attribute; an empty one (a series without that uid) counts as absent."""
    attr = getattr(value, name, None)
    return None if attr is None or attr == "" else str(attr)


# ---------------------------------------------------------------------------- objects


@dataclass(frozen=True, slots=True)
class Keyframe:
    """The geometry of an object on one slice; ``manual`` is False for interpolated ones."""

    geometry: Geometry
    manual: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"manual": self.manual}
        out.update(self.geometry.to_json())
        return out


@dataclass(frozen=True, slots=True)
class DynamicAnswer:
    """An answer to a dynamic classification on the inclusive slice range ``[start, end]``."""

    classification: str
    answer: Answer
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        answer = list(self.answer) if isinstance(self.answer, tuple) else self.answer
        return {
            "classification": self.classification,
            "answer": answer,
            "range": [self.start, self.end],
        }


def _answer_json(answer: Answer) -> Any:
    return list(answer) if isinstance(answer, tuple) else answer


@dataclass(frozen=True)
class LabelObject:
    """One annotated object: a track of keyframes on slices of one plane, with its answers.

    Immutable; change it through :class:`~dicom_annot_widget.labels.Labels`.
    """

    uuid: str
    object_id: int
    feature: str
    shape: str
    plane: str
    keyframes: Mapping[int, Keyframe]
    static: Mapping[str, Answer] = field(default_factory=lambda: types.MappingProxyType({}))
    dynamic: tuple[DynamicAnswer, ...] = ()
    source: str = MANUAL
    review: str | None = None
    confidence: float | None = None
    author: str | None = None
    created: str = ""
    modified: str = ""
    name: str | None = None
    """A name the user gave the object (text, not HTML), or ``None``."""
    edited: bool = False
    """Whether a person changed a prediction after it was imported: drew or deleted one of its
    keyframes, or changed its class. Such an object is no longer the model's output alone
    (a DICOM SEG calls its segment SEMIAUTOMATIC). Always False for other objects."""

    def __post_init__(self) -> None:
        if not isinstance(self.keyframes, types.MappingProxyType):
            ordered = dict(sorted(self.keyframes.items()))
            object.__setattr__(self, "keyframes", types.MappingProxyType(ordered))
        if not isinstance(self.static, types.MappingProxyType):
            object.__setattr__(self, "static", types.MappingProxyType(dict(self.static)))

    def __hash__(self) -> int:
        return hash((self.uuid, self.modified))

    def __repr__(self) -> str:
        slices = self.slices
        span = f"{slices[0]}..{slices[-1]}" if slices else "none"
        named = "" if self.name is None else f"name={self.name!r}, "
        return (
            f"LabelObject(object_id={self.object_id}, feature={self.feature!r}, {named}"
            f"plane={self.plane!r}, keyframes={len(slices)}, slices={span}, "
            f"source={self.source!r}, uuid={self.uuid!r})"
        )

    @property
    def slices(self) -> tuple[int, ...]:
        """Slices with a keyframe, ascending."""
        return tuple(self.keyframes)

    @property
    def is_prediction(self) -> bool:
        """Whether the object came from a model (its source is neither manual nor interpolation)."""
        return self.source not in (MANUAL, INTERPOLATION)

    @property
    def pending(self) -> bool:
        """Whether the object is a prediction that has not been accepted yet."""
        return self.review == "pending"

    def dynamic_answer(self, classification: str, slice: int) -> Answer | None:
        """The answer to dynamic classification ``classification`` on ``slice``, or None."""
        for entry in self.dynamic:
            if entry.classification == classification and entry.start <= slice <= entry.end:
                return entry.answer
        return None

    def answers_at(self, slice: int) -> dict[str, Answer]:
        """Static answers plus the dynamic answers in force on ``slice``."""
        out = dict(self.static)
        for entry in self.dynamic:
            if entry.start <= slice <= entry.end:
                out[entry.classification] = entry.answer
        return out

    def to_json(self, *, masks: bool = True) -> dict[str, Any]:
        """The JSON form (a fresh dict; safe to modify). With ``masks=False`` a bitmask
        keyframe is ``{"manual": ...}`` alone, without its run-length text: a speckled
        2048 x 2048 mask's text is megabytes, which the full form copies twice."""
        if not masks and self.shape == "bitmask":
            data = self._to_json_dict()
            data["keyframes"] = {str(k): {"manual": kf.manual} for k, kf in self.keyframes.items()}
            return data
        return loads(self._json_bytes)

    @cached_property
    def _json_bytes(self) -> bytes:
        """Compact UTF-8 JSON of the object, made once (objects are immutable)."""
        return dumps(self._to_json_dict(fast=True))

    def _to_json_dict(self, fast: bool = False) -> dict[str, Any]:
        """The JSON form; with ``fast``, vertex lists stay tuples (for :func:`dumps` only)."""
        frames = self.keyframes.items()
        named = {} if self.name is None else {"name": self.name}
        edited = {"edited": True} if self.edited else {}
        return {
            "uuid": self.uuid,
            "object_id": self.object_id,
            **named,
            **edited,
            "feature": self.feature,
            "shape": self.shape,
            "plane": self.plane,
            "source": self.source,
            "review": self.review,
            "confidence": self.confidence,
            "author": self.author,
            "created": self.created,
            "modified": self.modified,
            "static": {k: _answer_json(v) for k, v in self.static.items()},
            "dynamic": [d.to_json() for d in self.dynamic],
            "keyframes": {str(k): _keyframe_json(kf) for k, kf in frames}
            if fast
            else {str(k): kf.to_json() for k, kf in frames},
        }


def _keyframe_json(kf: Keyframe) -> dict[str, Any]:
    """:meth:`Keyframe.to_json` without copying vertex tuples into lists (for :func:`dumps`)."""
    g = kf.geometry
    kind = type(g)
    if kind is Polygon or kind is Polyline:
        return {"manual": kf.manual, "points": g._json_points()}  # type: ignore[union-attr]
    if kind is Box:
        return {"manual": kf.manual, "box": (g.x0, g.y0, g.x1, g.y1)}  # type: ignore[union-attr]
    return kf.to_json()


@dataclass(frozen=True)
class FrameClassification:
    """An answer to a frame classification on one or more slice ranges of a plane."""

    uuid: str
    classification: str
    plane: str
    answers: Mapping[str, Answer]
    """Classification id -> answer: the top-level one and any nested ones."""
    ranges: tuple[tuple[int, int], ...]
    """Inclusive ``(start, end)`` slice ranges, sorted, neither overlapping nor touching."""
    author: str | None = None
    created: str = ""
    modified: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.answers, types.MappingProxyType):
            object.__setattr__(self, "answers", types.MappingProxyType(dict(self.answers)))

    def __hash__(self) -> int:
        return hash((self.uuid, self.modified))

    @property
    def answer(self) -> Answer:
        """The answer to the top-level classification."""
        return self.answers[self.classification]

    def covers(self, slice: int) -> bool:
        return any(a <= slice <= b for a, b in self.ranges)

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "classification": self.classification,
            "plane": self.plane,
            "answers": {k: _answer_json(v) for k, v in self.answers.items()},
            "ranges": [[a, b] for a, b in self.ranges],
            "author": self.author,
            "created": self.created,
            "modified": self.modified,
        }


@dataclass(frozen=True)
class Measurement:
    """A measurement drawn on one slice: ``distance`` (2 points), ``angle`` (3, vertex in the
    middle) or ``area`` (a polygon of 3 or more)."""

    uuid: str
    kind: str
    plane: str
    slice: int
    points: tuple[tuple[float, float], ...]
    label: str = ""
    author: str | None = None
    created: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "kind": self.kind,
            "plane": self.plane,
            "slice": self.slice,
            "points": [[x, y] for x, y in self.points],
            "label": self.label,
            "author": self.author,
            "created": self.created,
        }


# ---------------------------------------------------------------------------- validation


def _is_slice_text(key: str) -> bool:
    """Whether ``key`` is written as a keyframe key must be: ASCII digits without a leading
    zero (``"12"``, not ``"012"``, ``"+12"`` or ``"١٢"``, Arabic-Indic digits)."""
    return key.isascii() and key.isdigit() and (len(key) == 1 or key[0] != "0")


def slice_key(key: Any, n: int, path: str) -> int:
    """A keyframe key: a slice index as a canonical decimal string (``"12"``) or an int."""
    if isinstance(key, str):
        if not _is_slice_text(key):
            fail(path, f"keyframe key {describe(key)} is not a slice number")
        if len(key) > len(str(n)):  # (not converted: Python refuses very long digit strings)
            fail(path, f"slice {describe(key)} is out of range {_slices_of(n)}")
        value = int(key)
    else:
        value = check_int(key, path)
    if not 0 <= value < n:
        fail(path, f"slice {describe(value)} is out of range {_slices_of(n)}")
    return value


def _slices_of(n: int) -> str:
    return f"(the plane has slices 0..{n - 1})"


def check_slice(value: Any, n: int, path: str) -> int:
    result = check_int(value, path)
    if not 0 <= result < n:
        fail(path, f"slice {describe(result)} is out of range {_slices_of(n)}")
    return result


def check_range(value: Any, n: int, path: str) -> tuple[int, int]:
    pair = check_sequence(value, path)
    if len(pair) != 2:
        fail(path, f"a slice range is [start, end], got {describe(value)}")
    start = check_slice(pair[0], n, f"{path}[0]")
    end = check_slice(pair[1], n, f"{path}[1]")
    if start > end:
        fail(path, f"range start {start} is after its end {end}")
    return (start, end)


def check_static_answers(
    ontology: Ontology, feature: str, raw: Any, path: str, *, by_name: bool = False
) -> dict[str, Answer]:
    """Validate static answers of an object of class ``feature`` (nesting included)."""
    answers = check_mapping(raw, path)
    out: dict[str, Answer] = {}
    for cid, value in answers.items():
        where = f"{path}[{cid!r}]"
        cid = _answer_id(ontology, cid, feature, where, by_name)
        if ontology.is_dynamic(cid):
            fail(where, f"classification {cid!r} is dynamic; give it in 'dynamic' with a range")
        out[cid] = ontology.normalize_answer(cid, value, where, by_name=by_name)
    _check_nesting(ontology, out, path)
    return out


def _check_nesting(ontology: Ontology, answers: Mapping[str, Answer], path: str) -> None:
    """Refuse a nested answer whose parent classification does not have its option chosen."""
    for cid in answers:
        parent = ontology.classification_parent(cid)
        if parent is not None:
            pcid, option = parent
            if pcid not in answers or not ontology.answer_selects(pcid, answers[pcid], option):
                fail(
                    f"{path}[{cid!r}]",
                    f"nested classification {cid!r} is answered but its parent {pcid!r} "
                    f"does not have option {option!r} chosen",
                )


def _answer_id(ontology: Ontology, cid: Any, owner: str | None, path: str, by_name: bool) -> str:
    """The classification id an answer is keyed by: with ``by_name`` resolved from an id, name
    or hotkey, otherwise required to be the id of a classification of ``owner``."""
    if by_name:
        return ontology.resolve_classification(cid, owner, path)
    _check_owned(ontology, cid, owner, path)
    return cid


def _check_owned(ontology: Ontology, cid: Any, owner: str | None, path: str) -> None:
    if not isinstance(cid, str):
        fail(path, f"unknown classification {describe(cid)}")
    try:
        actual = ontology.classification_owner(cid)
    except KeyError:
        fail(path, f"unknown classification {cid!r}")
    if actual != owner:
        where = f"object class {owner!r}" if owner else "frame classifications"
        fail(path, f"classification {cid!r} does not belong to {where}")


def prune_static(ontology: Ontology, answers: Mapping[str, Answer]) -> dict[str, Answer]:
    """Drop nested answers whose parent option is no longer chosen (recursively)."""
    out = dict(answers)
    changed = True
    while changed:
        changed = False
        for cid in list(out):
            parent = ontology.classification_parent(cid)
            if parent is not None:
                pcid, option = parent
                if pcid not in out or not ontology.answer_selects(pcid, out[pcid], option):
                    del out[cid]
                    changed = True
    return out


def _allowed_ranges(
    ontology: Ontology, entries: Iterable[DynamicAnswer], parent: str, option: str
) -> list[tuple[int, int]]:
    return merge_ranges(
        (e.start, e.end)
        for e in entries
        if e.classification == parent and ontology.answer_selects(parent, e.answer, option)
    )


def check_dynamic_answers(
    ontology: Ontology, feature: str, raw: Any, n: int, path: str
) -> tuple[DynamicAnswer, ...]:
    """Validate dynamic answers of an object of class ``feature`` on a plane of ``n`` slices."""
    items = check_sequence(raw, path)
    entries: list[DynamicAnswer] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        entry = check_mapping(item, where)
        check_keys(entry, where, required=("classification", "answer", "range"))
        cid = entry["classification"]
        _check_owned(ontology, cid, feature, f"{where}.classification")
        if not ontology.is_dynamic(cid):
            fail(f"{where}.classification", f"classification {cid!r} is static, not dynamic")
        answer = ontology.normalize_answer(cid, entry["answer"], f"{where}.answer", by_name=False)
        start, end = check_range(entry["range"], n, f"{where}.range")
        entries.append(DynamicAnswer(cid, answer, start, end))
    return validate_dynamic(ontology, entries, path)


def validate_dynamic(
    ontology: Ontology, entries: Sequence[DynamicAnswer], path: str
) -> tuple[DynamicAnswer, ...]:
    """Check overlaps and nesting of dynamic answers; returns them sorted."""
    ordered = sorted(entries, key=lambda e: (e.classification, e.start))
    for prev, cur in itertools.pairwise(ordered):
        if prev.classification == cur.classification and cur.start <= prev.end:
            fail(
                path,
                f"answers to {cur.classification!r} overlap on slices {cur.start}..{prev.end}",
            )
    for entry in ordered:
        parent = ontology.classification_parent(entry.classification)
        if parent is None:
            continue
        pcid, option = parent
        allowed = _allowed_ranges(ontology, ordered, pcid, option)
        if not any(a <= entry.start and entry.end <= b for a, b in allowed):
            fail(
                path,
                f"nested classification {entry.classification!r} is answered on slices "
                f"{entry.start}..{entry.end}, where its parent {pcid!r} does not have option "
                f"{option!r} chosen",
            )
    return tuple(ordered)


def prune_dynamic(ontology: Ontology, entries: Sequence[DynamicAnswer]) -> list[DynamicAnswer]:
    """Clip nested dynamic answers to the slices where their parent option is chosen."""
    current = list(entries)
    changed = True
    while changed:
        changed = False
        out: list[DynamicAnswer] = []
        for entry in current:
            parent = ontology.classification_parent(entry.classification)
            if parent is None:
                out.append(entry)
                continue
            allowed = _allowed_ranges(ontology, current, *parent)
            pieces = [
                (max(a, entry.start), min(b, entry.end))
                for a, b in allowed
                if a <= entry.end and b >= entry.start
            ]
            if pieces != [(entry.start, entry.end)]:
                changed = True
            out.extend(DynamicAnswer(entry.classification, entry.answer, a, b) for a, b in pieces)
        current = out
    return current


def check_frame_answers(
    ontology: Ontology, classification: str, raw: Any, path: str, *, by_name: bool = False
) -> dict[str, Answer]:
    """Validate the answers of a frame classification instance of top-level ``classification``."""
    answers = check_mapping(raw, path)
    out: dict[str, Answer] = {}
    for cid, value in answers.items():
        where = f"{path}[{cid!r}]"
        cid = _answer_id(ontology, cid, None, where, by_name)
        if ontology.classification_root(cid) != classification:
            fail(where, f"classification {cid!r} is not part of {classification!r}")
        out[cid] = ontology.normalize_answer(cid, value, where, by_name=by_name)
    if classification not in out:
        fail(path, f"the answer to {classification!r} itself is missing")
    _check_nesting(ontology, out, path)
    return out


_GEOMETRY_KEY = {"polygon": "points", "polyline": "points", "bounding_box": "box", "point": "point"}
_DICT = frozenset({dict})
_BOOL = frozenset({bool})
_STR = frozenset({str})
_INT = frozenset({int})


def _fast_keyframes(
    cls: ObjectClass,
    frames: Mapping[str, Any],
    width: int,
    height: int,
    n: int,
    vertices: VertexTable | None = None,
) -> dict[int, Keyframe] | None:
    """All keyframes of one stored object validated at once (see
    :func:`~dicom_annot_widget.labels.geometry.parse_stored_geometries`), or None if any of
    them needs the per-keyframe path, which names the problem.

    With ``vertices``, vertex lists may be placeholders into that table (see
    :mod:`~dicom_annot_widget.labels._vertices`); their rings are checked later, all at once,
    by :meth:`~dicom_annot_widget.labels._vertices.VertexTable.verify`."""
    key = _GEOMETRY_KEY.get(cls.shape)
    if key is None or not frames:
        return None
    keys = list(frames)
    entries = list(frames.values())
    if not set(map(type, entries)) <= _DICT:
        return None
    numbers = _slice_numbers(n)
    if numbers is not None:  # each key must be the text of a slice number: look it up
        slices: list[Any] = list(map(numbers.get, keys))
        if None in slices:
            return None
    else:
        if not set(map(type, keys)) <= _STR or not all(map(_is_slice_text, keys)):
            return None
        if max(map(len, keys)) > len(str(n)):
            return None  # out of range (and maybe too long for int())
        slices = list(map(int, keys))
        if list(map(str, slices)) != keys or min(slices) < 0 or max(slices) >= n:
            return None  # leading zeros, other digits, out of range
    if set(map(len, entries)) != {2}:
        return None
    try:
        manual = [e["manual"] for e in entries]
        raws = [e[key] for e in entries]
    except KeyError:
        return None
    if not set(map(type, manual)) <= _BOOL:
        return None
    if vertices is not None and key == "points" and set(map(type, raws)) == _INT:
        rings = vertices.take_rings(raws, cls.shape == "polygon", width, height)
        if rings is None:
            return None
        kind = Polygon if cls.shape == "polygon" else Polyline
        # each geometry's text source: (table, index of its list) (see VertexTable.fragment)
        sources = zip(itertools.repeat(vertices), range(raws[0], raws[0] + len(rings)))
        geometries: list[Geometry] | None = kind._many_from_xy(rings, sources)
    else:
        geometries = parse_stored_geometries(cls, raws, width, height)
    if geometries is None:
        return None
    return dict(zip(slices, _keyframes(geometries, manual), strict=True))


@functools.lru_cache(maxsize=8)
def _slice_numbers(n: int) -> dict[str, int] | None:
    """``{"0": 0, "1": 1, ..., str(n - 1): n - 1}``, the keyframe keys of a plane of ``n``
    slices as written (for looking keys up, faster than converting and checking them), or
    None for planes of very many slices."""
    return {str(k): k for k in range(n)} if n <= 1 << 14 else None


def _keyframes(geometries: Sequence[Geometry], manual: Sequence[bool]) -> list[Keyframe]:
    """``Keyframe(g, m)`` of each valid geometry and flag, at once (see
    :func:`~dicom_annot_widget.labels.geometry._instances`: thousands in a document)."""
    return _instances(Keyframe, len(geometries), geometries, manual)


def _parse_keyframes(
    cls: ObjectClass,
    raw: Any,
    width: int,
    height: int,
    n: int,
    path: str,
    vertices: VertexTable | None = None,
) -> dict[int, Keyframe]:
    frames = check_mapping(raw, path)
    fast = _fast_keyframes(cls, frames, width, height, n, vertices)
    if fast is not None:
        return fast
    out: dict[int, Keyframe] = {}
    for key, value in frames.items():
        where = f'{path}["{key}"]'
        k = slice_key(key, n, where)
        if k in out:
            fail(where, f"slice {k} appears twice")
        entry = check_mapping(value, where)
        if "manual" not in entry:
            fail(where, "missing required field 'manual'")
        manual = check_bool(entry["manual"], f"{where}.manual")
        out[k] = Keyframe(parse_geometry(cls, entry, width, height, where), manual)
    return out


_OBJECT_KEYS = (
    "uuid",
    "object_id",
    "feature",
    "shape",
    "plane",
    "source",
    "review",
    "confidence",
    "author",
    "created",
    "modified",
    "static",
    "dynamic",
    "keyframes",
)


def parse_object(
    ontology: Ontology,
    series: SeriesInfo,
    raw: Any,
    path: str,
    vertices: VertexTable | None = None,
) -> LabelObject:
    """Validate the JSON form of one object (every field required).

    ``vertices``: the table of vertex lists cut out of the document's text, if it was (see
    :mod:`~dicom_annot_widget.labels._vertices`)."""
    entry = check_mapping(raw, path)
    check_keys(entry, path, required=_OBJECT_KEYS, optional=("name", "edited"))
    uid = check_uuid(entry["uuid"], f"{path}.uuid")
    object_id = check_int(entry["object_id"], f"{path}.object_id", 1, _MAX_OBJECT_ID)
    feature = entry["feature"]
    if not isinstance(feature, str) or not ontology.has_feature_id(feature):
        known = ", ".join(repr(c.id) for c in ontology.objects) or "none"
        fail(f"{path}.feature", f"unknown object class {describe(feature)} (known: {known})")
    cls = ontology.feature(feature)
    if entry["shape"] != cls.shape:
        fail(
            f"{path}.shape",
            f"{describe(entry['shape'])} does not match the shape of {feature!r} ({cls.shape})",
        )
    plane = check_plane(entry["plane"], f"{path}.plane")
    width, height, n = series.plane_size(plane)
    source = check_source(entry["source"], f"{path}.source")
    review = entry["review"]
    if review not in REVIEW_STATES:
        fail(f"{path}.review", f"{describe(review)} is not null, 'pending' or 'accepted'")
    if review is not None and source in (MANUAL, INTERPOLATION):
        fail(f"{path}.review", f"only predictions have a review state, not {source!r} objects")
    confidence = entry["confidence"]
    if confidence is not None:
        confidence = check_confidence(confidence, f"{path}.confidence")
    author = check_opt_str(entry["author"], f"{path}.author", max_len=200)
    name = check_name(entry.get("name"), f"{path}.name")
    edited = check_bool(entry.get("edited", False), f"{path}.edited")
    if edited and source in (MANUAL, INTERPOLATION):
        fail(f"{path}.edited", f"only predictions can be edited, not {source!r} objects")
    created = check_timestamp(entry["created"], f"{path}.created")
    modified = check_timestamp(entry["modified"], f"{path}.modified")
    static = check_static_answers(ontology, feature, entry["static"], f"{path}.static")
    dynamic = check_dynamic_answers(ontology, feature, entry["dynamic"], n, f"{path}.dynamic")
    keyframes = _parse_keyframes(
        cls, entry["keyframes"], width, height, n, f"{path}.keyframes", vertices
    )
    return LabelObject(
        uuid=uid,
        object_id=object_id,
        feature=feature,
        shape=cls.shape,
        plane=plane,
        keyframes=keyframes,
        static=static,
        dynamic=dynamic,
        source=source,
        review=review,
        confidence=confidence,
        author=author,
        created=created,
        modified=modified,
        name=name,
        edited=edited,
    )


def parse_frame_classification(
    ontology: Ontology, series: SeriesInfo, raw: Any, path: str
) -> FrameClassification:
    entry = check_mapping(raw, path)
    check_keys(
        entry,
        path,
        required=(
            "uuid",
            "classification",
            "plane",
            "answers",
            "ranges",
            "author",
            "created",
            "modified",
        ),
    )
    uid = check_uuid(entry["uuid"], f"{path}.uuid")
    cid = entry["classification"]
    _check_owned(ontology, cid, None, f"{path}.classification")
    if ontology.classification_parent(cid) is not None:
        fail(f"{path}.classification", f"{cid!r} is nested; give its top-level classification")
    plane = check_plane(entry["plane"], f"{path}.plane")
    n = series.plane_size(plane)[2]
    answers = check_frame_answers(ontology, cid, entry["answers"], f"{path}.answers")
    raw_ranges = check_sequence(entry["ranges"], f"{path}.ranges")
    if not raw_ranges:
        fail(f"{path}.ranges", "needs at least one slice range")
    ranges = [check_range(r, n, f"{path}.ranges[{i}]") for i, r in enumerate(raw_ranges)]
    _check_ranges_apart(ranges, cid, f"{path}.ranges")
    return FrameClassification(
        uuid=uid,
        classification=cid,
        plane=plane,
        answers=answers,
        ranges=tuple(ranges),
        author=check_opt_str(entry["author"], f"{path}.author", max_len=200),
        created=check_timestamp(entry["created"], f"{path}.created"),
        modified=check_timestamp(entry["modified"], f"{path}.modified"),
    )


def _check_ranges_apart(ranges: Sequence[tuple[int, int]], cid: str, path: str) -> None:
    """Refuse ranges that are not in the form setting them gives (see
    :func:`~._check.merge_ranges`): sorted, neither overlapping nor touching. They are not
    merged here: loading a document must give back exactly what it read."""
    for (a0, b0), (a1, b1) in itertools.pairwise(ranges):
        first, second = f"[{a0}, {b0}]", f"[{a1}, {b1}]"
        if a1 < a0:
            reason = f"{first} comes before {second} (sort them)"
        elif a1 <= b0 + 1:
            how = "overlap" if a1 <= b0 else "touch"
            reason = f"{first} and {second} {how} (write them as one range [{a0}, {max(b0, b1)}])"
        else:
            continue
        fail(
            path,
            f"the ranges of {cid!r} must be sorted, neither overlapping nor touching: {reason}",
        )


def parse_measurement(
    series: SeriesInfo, raw: Any, path: str, vertices: VertexTable | None = None
) -> Measurement:
    entry = check_mapping(raw, path)
    check_keys(
        entry,
        path,
        required=("uuid", "kind", "plane", "slice", "points", "label", "author", "created"),
    )
    uid = check_uuid(entry["uuid"], f"{path}.uuid")
    kind = entry["kind"]
    if not isinstance(kind, str) or kind not in MEASUREMENT_KINDS:
        fail(f"{path}.kind", f"{describe(kind)} is not one of {', '.join(MEASUREMENT_KINDS)}")
    plane = check_plane(entry["plane"], f"{path}.plane")
    width, height, n = series.plane_size(plane)
    k = check_slice(entry["slice"], n, f"{path}.slice")
    raw_points = entry["points"]
    if vertices is not None and type(raw_points) is int:
        raw_points = vertices.take_list(raw_points)
    points = _coords(raw_points, f"{path}.points", width, height)
    lo, hi = MEASUREMENT_KINDS[kind]
    if len(points) < lo or (hi is not None and len(points) > hi):
        count = str(lo) if hi == lo else f"at least {lo}"
        article = "an" if kind[0] in "aeiou" else "a"
        fail(
            f"{path}.points",
            f"{article} {kind} measurement needs {count} points, got {len(points)}",
        )
    if len(set(points)) < min(len(points), 2 if kind != "area" else 3):
        fail(f"{path}.points", f"the points of the {kind} measurement coincide")
    if kind == "angle" and points[1] in (points[0], points[2]):
        fail(f"{path}.points", "an arm of the angle has no length (its end is the vertex)")
    if kind == "area" and ring_area(points) < 5e-10:
        fail(f"{path}.points", "the area measurement has no area (its corners are on a line)")
    return Measurement(
        uuid=uid,
        kind=kind,
        plane=plane,
        slice=k,
        points=tuple(points),
        label=check_str(entry["label"], f"{path}.label", max_len=1000, allow_empty=True),
        author=check_opt_str(entry["author"], f"{path}.author", max_len=200),
        created=check_timestamp(entry["created"], f"{path}.created"),
    )


def check_frame_overlaps(frames: Iterable[FrameClassification], path: str) -> None:
    """Two instances of one frame classification must not cover the same slice of a plane."""
    seen: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for fc in frames:
        seen.setdefault((fc.classification, fc.plane), []).extend(
            (a, b, fc.uuid) for a, b in fc.ranges
        )
    for (cid, plane), spans in seen.items():
        spans.sort()
        for (_a0, b0, u0), (a1, _b1, u1) in itertools.pairwise(spans):
            if a1 <= b0:
                fail(
                    path,
                    f"frame classification {cid!r} has two answers on {plane} slice {a1} "
                    f"(instances {u0} and {u1})",
                )


# ---------------------------------------------------------------------------- document


class LabelDocument:
    """All labels of one series: objects, frame classifications and measurements.

    Parameters
    ----------
    series
        The series the labels belong to.
    ontology
        The ontology the labels follow.
    """

    def __init__(self, series: SeriesInfo, ontology: Ontology) -> None:
        self.series = series
        self.ontology = ontology
        self.objects: dict[str, LabelObject] = {}
        self.frame_classifications: dict[str, FrameClassification] = {}
        self.measurements: dict[str, Measurement] = {}
        self.revision = 0
        #: The highest object_id this document has given, deleted objects included: numbers
        #: are not given twice ("#3" always means one object).
        self.last_object_id = 0

    def __repr__(self) -> str:
        return (
            f"LabelDocument(series={self.series.series_instance_uid!r}, "
            f"objects={len(self.objects)}, keyframes={self.keyframe_count}, "
            f"frame_classifications={len(self.frame_classifications)}, "
            f"measurements={len(self.measurements)}, revision={self.revision})"
        )

    @property
    def keyframe_count(self) -> int:
        return sum(len(o.keyframes) for o in self.objects.values())

    def copy(self) -> LabelDocument:
        """A copy sharing the (immutable) objects."""
        doc = LabelDocument(self.series, self.ontology)
        doc.objects = dict(self.objects)
        doc.frame_classifications = dict(self.frame_classifications)
        doc.measurements = dict(self.measurements)
        doc.revision = self.revision
        doc.last_object_id = self.last_object_id
        return doc

    def plane_size(self, plane: str) -> tuple[int, int, int]:
        """``(width, height, number of slices)`` of the plane images of the series."""
        return self.series.plane_size(plane)

    def max_object_id(self) -> int:
        """The largest object_id of the objects there now (0 without objects)."""
        return max((o.object_id for o in self.objects.values()), default=0)

    def next_object_id(self) -> int:
        """The object_id a new object gets: after every one given so far, deleted objects
        included."""
        return max(self.max_object_id(), self.last_object_id) + 1

    def same_content(self, other: LabelDocument) -> bool:
        """Whether both documents hold the same labels (revision ignored)."""
        return (
            self.series == other.series
            and self.ontology == other.ontology
            and self.objects == other.objects
            and self.frame_classifications == other.frame_classifications
            and self.measurements == other.measurements
        )

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """The JSON-compatible dict form (schema ``dicom-annot/1``)."""
        return loads(self.to_bytes())

    def to_json(self, indent: int | None = None) -> str:
        """Serialise to JSON text. Objects cache their text, so this is cheap after an edit."""
        if indent is not None:
            return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        return self.to_bytes().decode("utf-8")

    def to_bytes(self) -> bytes:
        """Compact JSON as UTF-8 bytes: what :meth:`to_json` returns, encoded (what label
        files hold)."""
        fields: dict[str, Any] = {"schema": SCHEMA, "revision": self.revision}
        if self.last_object_id > self.max_object_id():  # only after the last object went
            fields["last_object_id"] = self.last_object_id
        fields["series"] = self.series.to_dict()
        fields["ontology"] = self.ontology.to_dict()
        head = dumps(fields)
        # the objects' cached texts and the commas between them, joined with the rest at once:
        # one copy of the document's text, not two (a big one costs more than its bytes)
        objects: list[bytes] = [b","] * (2 * len(self.objects) - 1) if self.objects else []
        objects[0::2] = [o._json_bytes for o in self.objects.values()]
        tail = dumps(
            {
                "frame_classifications": [
                    f.to_json()
                    for f in sorted(
                        self.frame_classifications.values(),
                        key=lambda f: (f.plane, f.classification, f.ranges[0], f.uuid),
                    )
                ],
                "measurements": [
                    m.to_json()
                    for m in sorted(self.measurements.values(), key=lambda m: (m.created, m.uuid))
                ],
            },
        )
        return b"".join([head[:-1], b',"objects":[', *objects, b"],", tail[1:]])

    @classmethod
    def from_json(cls, text: str | bytes, *, ontology: Ontology | None = None) -> LabelDocument:
        """Parse and validate a label document.

        Parameters
        ----------
        text
            JSON text in schema ``dicom-annot/1``.
        ontology
            Validate the labels against this ontology instead of the one stored in the
            document (for example a newer version of the project's ontology); the result then
            carries this ontology.

        Raises
        ------
        LabelError
            If the text is not JSON, not this schema, or any field is invalid; the message
            names the field (``objects[3].keyframes["12"].points[1]: ...``).
        """
        with paused_gc():  # the parsed text and the objects built from it all stay alive
            fast = _from_split_text(cls, text, ontology)
            if fast is not None:
                return fast
            try:
                data = loads(text)
            except ValueError as exc:
                raise LabelError(f"not a label document: invalid JSON ({exc})") from None
            return cls._from_dict(data, ontology)

    @classmethod
    def from_dict(cls, data: Any, *, ontology: Ontology | None = None) -> LabelDocument:
        """Validate the dict form; see :meth:`from_json`."""
        with paused_gc():
            return cls._from_dict(data, ontology)

    @classmethod
    def _from_dict(
        cls, data: Any, ontology: Ontology | None, vertices: VertexTable | None = None
    ) -> LabelDocument:
        root = check_mapping(data, "document")
        schema = root.get("schema")
        if schema != SCHEMA:
            if isinstance(schema, str) and schema.startswith("dicom-annot/"):
                fail("schema", f"{schema!r} is not supported by this version (it reads {SCHEMA})")
            fail(
                "schema", f"{describe(schema)} is not a label document schema (expected {SCHEMA!r})"
            )
        check_keys(
            root,
            "document",
            required=("schema", "series", "ontology", "objects"),
            optional=("revision", "last_object_id", "frame_classifications", "measurements"),
        )
        series = SeriesInfo.from_dict(root["series"], "series")
        stored = Ontology.from_dict(root["ontology"])
        doc = cls(series, ontology if ontology is not None else stored)
        doc.revision = check_int(root.get("revision", 0), "revision", 0, MAX_REVISION)
        ids: dict[int, int] = {}
        for i, raw in enumerate(check_sequence(root["objects"], "objects")):
            obj = parse_object(doc.ontology, series, raw, f"objects[{i}]", vertices)
            if obj.uuid in doc.objects:
                fail(f"objects[{i}].uuid", f"duplicate uuid {obj.uuid}")
            if obj.object_id in ids:
                fail(
                    f"objects[{i}].object_id",
                    f"object_id {obj.object_id} is also used by objects[{ids[obj.object_id]}]",
                )
            ids[obj.object_id] = i
            doc.objects[obj.uuid] = obj
        doc.last_object_id = max(
            check_int(root.get("last_object_id", 0), "last_object_id", 0, MAX_REVISION),
            max(ids, default=0),
        )
        if list(ids) != sorted(ids):  # keep objects ordered by object_id
            doc.objects = dict(sorted(doc.objects.items(), key=lambda kv: kv[1].object_id))
        frames = check_sequence(root.get("frame_classifications", []), "frame_classifications")
        for i, raw in enumerate(frames):
            fc = parse_frame_classification(
                doc.ontology, series, raw, f"frame_classifications[{i}]"
            )
            if fc.uuid in doc.frame_classifications:
                fail(f"frame_classifications[{i}].uuid", f"duplicate uuid {fc.uuid}")
            doc.frame_classifications[fc.uuid] = fc
        check_frame_overlaps(doc.frame_classifications.values(), "frame_classifications")
        for i, raw in enumerate(check_sequence(root.get("measurements", []), "measurements")):
            m = parse_measurement(series, raw, f"measurements[{i}]", vertices)
            if m.uuid in doc.measurements:
                fail(f"measurements[{i}].uuid", f"duplicate uuid {m.uuid}")
            doc.measurements[m.uuid] = m
        return doc


def _from_split_text(
    cls: type[LabelDocument], text: str | bytes, ontology: Ontology | None
) -> LabelDocument | None:
    """The fast path of :meth:`LabelDocument.from_json` for documents with many vertex lists
    (see :mod:`~dicom_annot_widget.labels._vertices`): the document, or None if the text needs
    the plain path (which then gives the same document, or names what is wrong)."""
    split = split_vertex_lists(text)
    if split is None:
        return None
    skeleton, vertices = split
    try:
        doc = cls._from_dict(orjson.loads(skeleton), ontology, vertices)
    except Exception:  # anything at all: the plain path decides, and names the problem
        return None
    return doc if vertices.verify() else None
