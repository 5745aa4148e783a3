"""Edits as small, serialisable operations with exact inverses.

Every change to a :class:`~dicom_annot_widget.labels.document.LabelDocument` is an
:class:`Operation`. An operation

- has a JSON form (``{"op": "set_keyframe", "uuid": ..., "slice": 12, ...}``, see
  :meth:`Operation.to_dict` / :func:`operation_from_dict`) — what the page sends, what the
  journal stores and what observers receive;
- is *stamped* before it is applied (:meth:`Operation.stamp`): generated values (uuids, object
  ids, the time, the author, ids for classification names) are filled in, so replaying the
  stamped operation gives exactly the same document;
- is applied with :meth:`Operation.apply`, which validates everything first and then swaps
  the changed (immutable) objects in, so a refused operation leaves the document untouched;
  it returns the inverse operation, which restores the previous state exactly (timestamps
  included).
"""

from __future__ import annotations

import dataclasses
import uuid as uuid_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import LabelError
from ._check import (
    check_bool,
    check_int,
    check_keys,
    check_mapping,
    check_opt_str,
    check_sequence,
    check_str,
    check_timestamp,
    describe,
    fail,
    merge_ranges,
    now_timestamp,
    subtract_range,
)
from .document import (
    INTERPOLATION,
    MANUAL,
    REVIEW_STATES,
    DynamicAnswer,
    FrameClassification,
    Keyframe,
    LabelDocument,
    LabelObject,
    _answer_json,
    check_confidence,
    check_dynamic_answers,
    check_frame_answers,
    check_frame_overlaps,
    check_name,
    check_plane,
    check_slice,
    check_source,
    check_static_answers,
    check_uuid,
    parse_frame_classification,
    parse_measurement,
    parse_object,
    prune_dynamic,
    prune_static,
    slice_key,
    validate_dynamic,
)
from .geometry import _coords, parse_geometry
from .ontology import Answer, Ontology

__all__ = [
    "AddMeasurement",
    "Batch",
    "CreateObject",
    "DeleteKeyframe",
    "DeleteMeasurement",
    "DeleteObject",
    "Operation",
    "ReplaceDocument",
    "RestoreFrameClassifications",
    "SetDynamic",
    "SetFrameClassification",
    "SetKeyframe",
    "SetStatic",
    "StampContext",
    "UpdateObject",
    "operation_from_dict",
    "without_keyframe",
]


@dataclass
class StampContext:
    """Values shared by the operations stamped together (one edit, possibly a batch)."""

    time: str
    author: str | None
    next_object_id: int

    def allocate_object_id(self, wanted: int | None = None) -> int:
        if wanted is not None:
            self.next_object_id = max(self.next_object_id, wanted + 1)
            return wanted
        value = self.next_object_id
        self.next_object_id += 1
        return value


def _json_answer(answer: Answer | None) -> Any:
    return None if answer is None else _answer_json(answer)


class Operation:
    """Base class of all edits. Subclasses are frozen dataclasses."""

    kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()
    _required: ClassVar[tuple[str, ...]] = ()
    #: Optional fields left out of the JSON form while they are None.
    _omit_none: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"op": kind, **fields}``."""
        out: dict[str, Any] = {"op": self.kind}
        for name in self._fields:
            value = getattr(self, name)
            if value is None and name in self._omit_none:
                continue
            out[name] = value
        return out

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any], path: str) -> Operation:
        check_keys(data, path, required=("op", *cls._required), optional=cls._fields)
        return cls(**{k: v for k, v in data.items() if k != "op"})

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        """Fill in generated values (time, ids...) and resolve names; returns a new operation."""
        if "time" in self._fields and getattr(self, "time", None) is None:
            return dataclasses.replace(self, time=ctx.time)  # type: ignore[type-var]
        return self

    def apply(self, doc: LabelDocument) -> Operation:
        """Validate, apply to ``doc`` and return the inverse operation.

        Raises
        ------
        LabelError
            If the operation is invalid for ``doc``; ``doc`` is then unchanged.
        """
        raise NotImplementedError

    @property
    def object_uuids(self) -> tuple[str, ...]:
        """Uuids of the objects this operation touches (for the UI to refresh)."""
        value = getattr(self, "uuid", None)
        return (value,) if isinstance(value, str) and "uuid" in self._fields else ()


def _time(op: Operation) -> str:
    value = getattr(op, "time", None)
    if value is None:
        return now_timestamp()
    return check_timestamp(value, f"{op.kind}.time")


def _get_object(doc: LabelDocument, uuid: Any, path: str) -> LabelObject:
    if not isinstance(uuid, str) or uuid not in doc.objects:
        fail(path, f"unknown object {describe(uuid)}")
    return doc.objects[uuid]


def _put_object(doc: LabelDocument, obj: LabelObject) -> None:
    """Insert or replace ``obj``, keeping ``doc.objects`` ordered by object_id."""
    doc.last_object_id = max(doc.last_object_id, obj.object_id)
    objects = doc.objects
    if obj.uuid in objects:
        objects[obj.uuid] = obj
        return
    last = next(reversed(objects.values()), None)
    objects[obj.uuid] = obj
    if last is not None and last.object_id > obj.object_id:
        doc.objects = dict(sorted(objects.items(), key=lambda kv: kv[1].object_id))


def _restore_keyframe(obj: LabelObject, k: int, previous: Keyframe) -> Operation:
    """The inverse that puts ``previous`` back as ``obj``'s keyframe on slice ``k``."""
    return SetKeyframe(
        uuid=obj.uuid,
        slice=k,
        geometry=previous.geometry.to_json(),
        manual=previous.manual,
        time=obj.modified,
        edited=obj.edited,
    )


def _edited(obj: LabelObject, explicit: Any, by_person: bool, path: str) -> bool:
    """``obj.edited`` after a keyframe edit: ``explicit`` if given (an inverse restoring it),
    else whether it was edited or a person now edits a prediction (see
    :attr:`LabelObject.edited`)."""
    if explicit is None:
        return obj.edited or (obj.is_prediction and by_person)
    edited = check_bool(explicit, path)
    if edited and not obj.is_prediction:
        fail(path, f"only predictions can be edited predictions, not {obj.source!r} objects")
    return edited


def _stamp_answer(
    doc: LabelDocument, uuid: Any, classification: Any, answer: Any, path: str
) -> tuple[str, Any]:
    """Resolve the classification (id, name or hotkey) of object ``uuid`` to its id and the
    answer (``None`` = clear) to its JSON form with option ids, for ``path`` (the op kind)."""
    obj = _get_object(doc, uuid, f"{path}.uuid")
    cid = doc.ontology.resolve_classification(classification, obj.feature, f"{path}.classification")
    if answer is None:
        return cid, None
    return cid, _json_answer(doc.ontology.normalize_answer(cid, answer, f"{path}.answer"))


def _check_classification(onto: Ontology, cid: Any, owner: str | None, path: str) -> str:
    """``cid`` if it is exactly the id of a classification of ``owner`` (an object class id,
    ``None`` for frame classifications); refuses it otherwise, naming ``path.classification``."""
    if (
        not isinstance(cid, str)
        or onto.resolve_classification(cid, owner, f"{path}.classification") != cid
    ):
        fail(f"{path}.classification", f"unknown classification {describe(cid)}")
    return cid


# ---------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class CreateObject(Operation):
    """Create an object from its JSON form (fields left out are filled in by :meth:`stamp`)."""

    object: Mapping[str, Any]
    kind: ClassVar[str] = "create_object"
    _fields: ClassVar[tuple[str, ...]] = ("object",)
    _required: ClassVar[tuple[str, ...]] = ("object",)

    @property
    def object_uuids(self) -> tuple[str, ...]:
        value = self.object.get("uuid")
        return (value,) if isinstance(value, str) else ()

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        data = dict(check_mapping(self.object, "create_object.object"))
        if "feature" not in data:
            fail("create_object.object", "missing required field 'feature'")
        try:
            cls = doc.ontology.feature(data["feature"])
        except LabelError as exc:
            fail("create_object.object.feature", str(exc))
        data["feature"] = cls.id
        data.setdefault("shape", cls.shape)
        data.setdefault("plane", "axial")
        if data.get("uuid") is None:
            data["uuid"] = str(uuid_module.uuid4())
        wanted = data.get("object_id")
        if wanted is not None:
            wanted = check_int(wanted, "create_object.object.object_id", 1)
        data["object_id"] = ctx.allocate_object_id(wanted)
        if "name" in data:
            name = check_name(data.pop("name"), "create_object.object.name")
            if name is not None:
                data["name"] = name
        data.setdefault("source", MANUAL)
        if "review" not in data:
            data["review"] = None if data["source"] in (MANUAL, INTERPOLATION) else "pending"
        data.setdefault("confidence", None)
        data.setdefault("author", ctx.author)
        data.setdefault("created", ctx.time)
        data.setdefault("modified", data["created"])
        static = data.get("static") or {}
        data["static"] = {
            k: _answer_json(v)
            for k, v in check_static_answers(
                doc.ontology, cls.id, static, "create_object.object.static", by_name=True
            ).items()
        }
        data.setdefault("dynamic", [])
        frames = check_mapping(data.get("keyframes", {}), "create_object.object.keyframes")
        plane = check_plane(data["plane"], "create_object.object.plane")
        width, height, n = doc.plane_size(plane)
        keyframes: dict[str, Any] = {}
        for key, value in frames.items():
            where = f'create_object.object.keyframes["{key}"]'
            k = slice_key(key, n, where)
            entry = check_mapping(value, where)
            manual = check_bool(entry.get("manual", True), f"{where}.manual")
            geometry = parse_geometry(cls, entry, width, height, where, quantize=True)
            keyframes[str(k)] = {"manual": manual, **geometry.to_json()}
        data["keyframes"] = keyframes
        return CreateObject(object=data)

    def apply(self, doc: LabelDocument) -> Operation:
        obj = parse_object(doc.ontology, doc.series, self.object, "create_object.object")
        if obj.uuid in doc.objects:
            fail("create_object.object.uuid", f"an object with uuid {obj.uuid} already exists")
        for other in doc.objects.values():
            if other.object_id == obj.object_id:
                fail(
                    "create_object.object.object_id",
                    f"object_id {obj.object_id} is already used by object {other.uuid}",
                )
        _put_object(doc, obj)
        return DeleteObject(uuid=obj.uuid)


@dataclass(frozen=True)
class DeleteObject(Operation):
    """Delete an object and all its keyframes."""

    uuid: str
    kind: ClassVar[str] = "delete_object"
    _fields: ClassVar[tuple[str, ...]] = ("uuid",)
    _required: ClassVar[tuple[str, ...]] = ("uuid",)

    def apply(self, doc: LabelDocument) -> Operation:
        obj = _get_object(doc, self.uuid, "delete_object.uuid")
        del doc.objects[obj.uuid]
        return CreateObject(object=obj.to_json())


def without_keyframe(obj: LabelObject, k: int) -> Operation:
    """The edit that removes ``obj``'s keyframe on slice ``k``: the object itself when that is
    its last keyframe (an object with no geometry would be listed, counted and exported empty;
    the page, the brushes and the Python API all remove it so)."""
    if set(obj.keyframes) == {k}:
        return DeleteObject(obj.uuid)
    return DeleteKeyframe(obj.uuid, k)


_UPDATABLE = (
    "feature",
    "name",
    "source",
    "review",
    "confidence",
    "author",
    "static",
    "dynamic",
    "edited",
)


@dataclass(frozen=True)
class UpdateObject(Operation):
    """Change object properties: ``feature`` (same shape), ``name`` (user text, stripped;
    null or blank removes it), ``source``, ``review``, ``confidence``, ``author``, ``static``
    and ``dynamic`` (JSON forms), ``edited``.

    A new class for a prediction makes it an edited prediction (:attr:`LabelObject.edited`);
    a new source that is no model's clears that."""

    uuid: str
    changes: Mapping[str, Any]
    time: str | None = None
    kind: ClassVar[str] = "update_object"
    _fields: ClassVar[tuple[str, ...]] = ("uuid", "changes", "time")
    _required: ClassVar[tuple[str, ...]] = ("uuid", "changes")

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        changes = dict(check_mapping(self.changes, "update_object.changes"))
        if "feature" in changes:
            try:
                changes["feature"] = doc.ontology.feature(changes["feature"]).id
            except LabelError as exc:
                fail("update_object.changes.feature", str(exc))
        if "name" in changes:
            changes["name"] = check_name(changes["name"], "update_object.changes.name")
        return dataclasses.replace(self, changes=changes, time=self.time or ctx.time)

    def apply(self, doc: LabelDocument) -> Operation:
        path = "update_object"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        changes = check_mapping(self.changes, f"{path}.changes")
        check_keys(changes, f"{path}.changes", optional=_UPDATABLE)
        if not changes:
            fail(f"{path}.changes", "nothing to change")
        onto = doc.ontology
        time = _time(self)
        feature = obj.feature
        old: dict[str, Any] = {}
        if "feature" in changes and changes["feature"] != obj.feature:
            new_cls = onto.find_feature(changes["feature"])
            if new_cls is None or new_cls.id != changes["feature"]:
                fail(
                    f"{path}.changes.feature",
                    f"unknown object class {describe(changes['feature'])}",
                )
            if new_cls.shape != obj.shape:
                fail(
                    f"{path}.changes.feature",
                    f"{new_cls.id!r} is a {new_cls.shape} class; this object is a {obj.shape}",
                )
            feature = new_cls.id
            old["feature"] = obj.feature
        _w, _h, n = doc.plane_size(obj.plane)
        if "static" in changes:
            static = check_static_answers(
                onto, feature, changes["static"], f"{path}.changes.static"
            )
        else:  # keep the answers that belong to the (new) class
            static = {
                k: v for k, v in obj.static.items() if onto.classification_owner(k) == feature
            }
        if "dynamic" in changes:
            dynamic = check_dynamic_answers(
                onto, feature, changes["dynamic"], n, f"{path}.changes.dynamic"
            )
        else:
            dynamic = tuple(
                d for d in obj.dynamic if onto.classification_owner(d.classification) == feature
            )
        if static != dict(obj.static):
            old["static"] = {k: _answer_json(v) for k, v in obj.static.items()}
        if dynamic != obj.dynamic:
            old["dynamic"] = [d.to_json() for d in obj.dynamic]
        source = obj.source
        if "source" in changes:
            source = check_source(changes["source"], f"{path}.changes.source")
            old["source"] = obj.source
        review = obj.review
        if "review" in changes:
            review = changes["review"]
            if review not in REVIEW_STATES:
                fail(
                    f"{path}.changes.review",
                    f"{describe(review)} is not null, 'pending' or 'accepted'",
                )
            old["review"] = obj.review
        if review is not None and source in (MANUAL, INTERPOLATION):
            fail(f"{path}.changes", f"only predictions have a review state, not {source!r} objects")
        is_prediction = source not in (MANUAL, INTERPOLATION)
        if "edited" in changes:
            edited = check_bool(changes["edited"], f"{path}.changes.edited")
            if edited and not is_prediction:
                fail(
                    f"{path}.changes.edited",
                    f"only predictions can be edited predictions, not {source!r} objects",
                )
        else:
            edited = is_prediction and (obj.edited or "feature" in old)
        if edited != obj.edited:
            old["edited"] = obj.edited
        confidence = obj.confidence
        if "confidence" in changes:
            confidence = changes["confidence"]
            if confidence is not None:
                confidence = check_confidence(confidence, f"{path}.changes.confidence")
            old["confidence"] = obj.confidence
        author = obj.author
        if "author" in changes:
            author = check_opt_str(changes["author"], f"{path}.changes.author", max_len=200)
            old["author"] = obj.author
        name = obj.name
        if "name" in changes:
            name = check_name(changes["name"], f"{path}.changes.name")
            old["name"] = obj.name
        new = dataclasses.replace(
            obj,
            name=name,
            feature=feature,
            static=static,
            dynamic=dynamic,
            source=source,
            review=review,
            confidence=confidence,
            author=author,
            modified=time,
            edited=edited,
        )
        _put_object(doc, new)
        if not old:  # no effective change: the inverse only restores the time
            old = {"author": obj.author}
        return UpdateObject(uuid=obj.uuid, changes=old, time=obj.modified)


@dataclass(frozen=True)
class SetKeyframe(Operation):
    """Set (create or replace) the geometry of an object on a slice of its plane.

    ``geometry`` is the JSON form: ``{"box": [x0, y0, x1, y1]}``, ``{"points": [[x, y], ...]}``,
    ``{"point": [x, y]}``, ``{"nodes": {...}, "edges": [...]}`` or ``{"mask": rle}``.
    """

    uuid: str
    slice: int
    geometry: Mapping[str, Any]
    manual: bool = True
    time: str | None = None
    #: The object's :attr:`~LabelObject.edited` afterwards (None: a manual keyframe on a
    #: prediction sets it; inverses give the value to restore).
    edited: bool | None = None
    kind: ClassVar[str] = "set_keyframe"
    _fields: ClassVar[tuple[str, ...]] = ("uuid", "slice", "geometry", "manual", "time", "edited")
    _required: ClassVar[tuple[str, ...]] = ("uuid", "slice", "geometry")
    _omit_none: ClassVar[tuple[str, ...]] = ("edited",)

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        path = "set_keyframe"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        width, height, _n = doc.plane_size(obj.plane)
        cls = doc.ontology.feature(obj.feature)
        geometry = parse_geometry(
            cls, self.geometry, width, height, f"{path}.geometry", quantize=True
        )
        return dataclasses.replace(self, geometry=geometry.to_json(), time=self.time or ctx.time)

    def apply(self, doc: LabelDocument) -> Operation:
        path = "set_keyframe"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        width, height, n = doc.plane_size(obj.plane)
        k = check_slice(self.slice, n, f"{path}.slice")
        manual = check_bool(self.manual, f"{path}.manual")
        cls = doc.ontology.feature(obj.feature)
        geometry = parse_geometry(cls, self.geometry, width, height, f"{path}.geometry")
        edited = _edited(obj, self.edited, manual, f"{path}.edited")
        time = _time(self)
        frames = dict(obj.keyframes)
        previous = frames.get(k)
        frames[k] = Keyframe(geometry, manual)
        _put_object(doc, dataclasses.replace(obj, keyframes=frames, modified=time, edited=edited))
        if previous is None:
            return DeleteKeyframe(uuid=obj.uuid, slice=k, time=obj.modified, edited=obj.edited)
        return _restore_keyframe(obj, k, previous)


@dataclass(frozen=True)
class DeleteKeyframe(Operation):
    """Remove an object's keyframe on a slice (the object itself stays)."""

    uuid: str
    slice: int
    time: str | None = None
    #: As :attr:`SetKeyframe.edited` (None: deleting a prediction's keyframe sets it).
    edited: bool | None = None
    kind: ClassVar[str] = "delete_keyframe"
    _fields: ClassVar[tuple[str, ...]] = ("uuid", "slice", "time", "edited")
    _required: ClassVar[tuple[str, ...]] = ("uuid", "slice")
    _omit_none: ClassVar[tuple[str, ...]] = ("edited",)

    def apply(self, doc: LabelDocument) -> Operation:
        path = "delete_keyframe"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        k = check_int(self.slice, f"{path}.slice")
        if k not in obj.keyframes:
            fail(f"{path}.slice", f"object {obj.object_id} has no keyframe on slice {k}")
        # (deleting a derived keyframe, as interpolation does when it recomputes, is no edit)
        edited = _edited(obj, self.edited, obj.keyframes[k].manual, f"{path}.edited")
        time = _time(self)
        frames = dict(obj.keyframes)
        previous = frames.pop(k)
        _put_object(doc, dataclasses.replace(obj, keyframes=frames, modified=time, edited=edited))
        return _restore_keyframe(obj, k, previous)


@dataclass(frozen=True)
class SetStatic(Operation):
    """Answer (or, with ``answer=None``, clear) a static classification of an object.

    Changing a radio/checklist answer clears the nested answers of options no longer chosen.
    """

    uuid: str
    classification: str
    answer: Any
    time: str | None = None
    kind: ClassVar[str] = "set_static"
    _fields: ClassVar[tuple[str, ...]] = ("uuid", "classification", "answer", "time")
    _required: ClassVar[tuple[str, ...]] = ("uuid", "classification", "answer")

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        cid, answer = _stamp_answer(doc, self.uuid, self.classification, self.answer, "set_static")
        return SetStatic(self.uuid, cid, answer, self.time or ctx.time)

    def apply(self, doc: LabelDocument) -> Operation:
        path = "set_static"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        onto = doc.ontology
        cid = _check_classification(onto, self.classification, obj.feature, path)
        if onto.is_dynamic(cid):
            fail(f"{path}.classification", f"{cid!r} is dynamic; use set_dynamic with a range")
        static = dict(obj.static)
        if self.answer is None:
            if cid not in static:
                fail(f"{path}.classification", f"{cid!r} is not answered on this object")
            del static[cid]
        else:
            static[cid] = onto.normalize_answer(cid, self.answer, f"{path}.answer", by_name=False)
        parent = onto.classification_parent(cid)
        if parent is not None and self.answer is not None:
            pcid, option = parent
            if pcid not in static or not onto.answer_selects(pcid, static[pcid], option):
                fail(
                    f"{path}.classification",
                    f"nested classification {cid!r} needs option {option!r} of {pcid!r} first",
                )
        static = prune_static(onto, static)
        time = _time(self)
        _put_object(doc, dataclasses.replace(obj, static=static, modified=time))
        return UpdateObject(
            uuid=obj.uuid,
            changes={"static": {k: _answer_json(v) for k, v in obj.static.items()}},
            time=obj.modified,
        )


@dataclass(frozen=True)
class SetDynamic(Operation):
    """Answer a dynamic classification on slices ``start..end`` (inclusive) of an object's
    plane, replacing whatever was answered there; ``answer=None`` clears the range."""

    uuid: str
    classification: str
    answer: Any
    start: int
    end: int
    time: str | None = None
    kind: ClassVar[str] = "set_dynamic"
    _fields: ClassVar[tuple[str, ...]] = (
        "uuid",
        "classification",
        "answer",
        "start",
        "end",
        "time",
    )
    _required: ClassVar[tuple[str, ...]] = ("uuid", "classification", "answer", "start", "end")

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        cid, answer = _stamp_answer(doc, self.uuid, self.classification, self.answer, "set_dynamic")
        return dataclasses.replace(
            self, classification=cid, answer=answer, time=self.time or ctx.time
        )

    def apply(self, doc: LabelDocument) -> Operation:
        path = "set_dynamic"
        obj = _get_object(doc, self.uuid, f"{path}.uuid")
        onto = doc.ontology
        cid = _check_classification(onto, self.classification, obj.feature, path)
        if not onto.is_dynamic(cid):
            fail(f"{path}.classification", f"{cid!r} is static; use set_static")
        n = doc.plane_size(obj.plane)[2]
        start = check_slice(self.start, n, f"{path}.start")
        end = check_slice(self.end, n, f"{path}.end")
        if start > end:
            fail(path, f"range start {start} is after its end {end}")
        entries: list[DynamicAnswer] = []
        for e in obj.dynamic:
            if e.classification != cid:
                entries.append(e)
                continue
            entries.extend(
                DynamicAnswer(cid, e.answer, a, b)
                for a, b in subtract_range([(e.start, e.end)], start, end)
            )
        if self.answer is not None:
            answer = onto.normalize_answer(cid, self.answer, f"{path}.answer", by_name=False)
            parent = onto.classification_parent(cid)
            if parent is not None:
                pcid, option = parent
                allowed = merge_ranges(
                    (e.start, e.end)
                    for e in entries
                    if e.classification == pcid and onto.answer_selects(pcid, e.answer, option)
                )
                if not any(a <= start and end <= b for a, b in allowed):
                    fail(
                        path,
                        f"nested classification {cid!r} needs option {option!r} of {pcid!r} "
                        f"on all of slices {start}..{end} first",
                    )
            entries.append(DynamicAnswer(cid, answer, start, end))
        # merge touching ranges with the same answer
        same: dict[tuple[str, Any], list[tuple[int, int]]] = {}
        others: list[DynamicAnswer] = []
        for e in entries:
            if e.classification == cid:
                same.setdefault((cid, e.answer), []).append((e.start, e.end))
            else:
                others.append(e)
        for (c, a), spans in same.items():
            others.extend(DynamicAnswer(c, a, s, t) for s, t in merge_ranges(spans))
        dynamic = validate_dynamic(onto, prune_dynamic(onto, others), path)
        time = _time(self)
        _put_object(doc, dataclasses.replace(obj, dynamic=dynamic, modified=time))
        return UpdateObject(
            uuid=obj.uuid,
            changes={"dynamic": [d.to_json() for d in obj.dynamic]},
            time=obj.modified,
        )


# ---------------------------------------------------------------------------- frames


def _frame_entries(doc: LabelDocument, cid: str, plane: str) -> list[FrameClassification]:
    return [
        f
        for f in doc.frame_classifications.values()
        if f.classification == cid and f.plane == plane
    ]


def _replace_frames(
    doc: LabelDocument, cid: str, plane: str, new: Sequence[FrameClassification]
) -> list[dict[str, Any]]:
    old = _frame_entries(doc, cid, plane)
    old_ids = {f.uuid for f in old}
    frames = {u: f for u, f in doc.frame_classifications.items() if u not in old_ids}
    for f in new:
        frames[f.uuid] = f
    check_frame_overlaps(frames.values(), "frame_classifications")
    doc.frame_classifications = frames
    return [f.to_json() for f in old]


@dataclass(frozen=True)
class SetFrameClassification(Operation):
    """Answer a frame classification on slices ``start..end`` of a plane, replacing what was
    answered there. ``answers`` maps classification ids (the top-level ``classification`` and
    nested ones) to answers; ``None`` clears the range. An existing instance with the same
    answers is extended; otherwise a new instance (id ``uuid``) is created."""

    classification: str
    answers: Mapping[str, Any] | None
    start: int
    end: int
    plane: str = "axial"
    uuid: str | None = None
    time: str | None = None
    author: str | None = None
    kind: ClassVar[str] = "set_frame_classification"
    _fields: ClassVar[tuple[str, ...]] = (
        "classification",
        "answers",
        "start",
        "end",
        "plane",
        "uuid",
        "time",
        "author",
    )
    _required: ClassVar[tuple[str, ...]] = ("classification", "answers", "start", "end")

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        path = "set_frame_classification"
        cid = doc.ontology.resolve_classification(
            self.classification, None, f"{path}.classification"
        )
        answers = None
        if self.answers is not None:
            answers = {
                k: _answer_json(v)
                for k, v in check_frame_answers(
                    doc.ontology, cid, self.answers, f"{path}.answers", by_name=True
                ).items()
            }
        return dataclasses.replace(
            self,
            classification=cid,
            answers=answers,
            uuid=self.uuid or str(uuid_module.uuid4()),
            time=self.time or ctx.time,
            author=self.author if self.author is not None else ctx.author,
        )

    def apply(self, doc: LabelDocument) -> Operation:
        path = "set_frame_classification"
        onto = doc.ontology
        cid = _check_classification(onto, self.classification, None, path)
        if onto.classification_parent(cid) is not None:
            fail(f"{path}.classification", f"{cid!r} is nested; give its top-level classification")
        plane = check_plane(self.plane, f"{path}.plane")
        n = doc.plane_size(plane)[2]
        start = check_slice(self.start, n, f"{path}.start")
        end = check_slice(self.end, n, f"{path}.end")
        if start > end:
            fail(path, f"range start {start} is after its end {end}")
        time = _time(self)
        answers = (
            None
            if self.answers is None
            else check_frame_answers(onto, cid, self.answers, f"{path}.answers")
        )
        existing = _frame_entries(doc, cid, plane)
        new: list[FrameClassification] = []
        target: FrameClassification | None = None
        for f in existing:
            ranges = subtract_range(f.ranges, start, end)
            if answers is not None and dict(f.answers) == answers and target is None:
                target = f
                continue
            if list(f.ranges) == ranges:
                new.append(f)
            elif ranges:
                new.append(dataclasses.replace(f, ranges=tuple(ranges), modified=time))
        if answers is not None:
            if target is not None:
                ranges = merge_ranges([*target.ranges, (start, end)])
                new.append(dataclasses.replace(target, ranges=tuple(ranges), modified=time))
            else:
                uid = check_uuid(self.uuid or str(uuid_module.uuid4()), f"{path}.uuid")
                if uid in doc.frame_classifications:
                    fail(f"{path}.uuid", f"a frame classification with uuid {uid} already exists")
                new.append(
                    FrameClassification(
                        uuid=uid,
                        classification=cid,
                        plane=plane,
                        answers=answers,
                        ranges=((start, end),),
                        author=check_opt_str(self.author, f"{path}.author", max_len=200),
                        created=time,
                        modified=time,
                    )
                )
        old = _replace_frames(doc, cid, plane, new)
        return RestoreFrameClassifications(classification=cid, plane=plane, entries=old)


@dataclass(frozen=True)
class RestoreFrameClassifications(Operation):
    """Replace every instance of one frame classification on a plane (the inverse of
    :class:`SetFrameClassification`)."""

    classification: str
    plane: str
    entries: Sequence[Mapping[str, Any]]
    kind: ClassVar[str] = "restore_frame_classifications"
    _fields: ClassVar[tuple[str, ...]] = ("classification", "plane", "entries")
    _required: ClassVar[tuple[str, ...]] = ("classification", "plane", "entries")

    def apply(self, doc: LabelDocument) -> Operation:
        path = "restore_frame_classifications"
        plane = check_plane(self.plane, f"{path}.plane")
        parsed = []
        for i, raw in enumerate(check_sequence(self.entries, f"{path}.entries")):
            fc = parse_frame_classification(doc.ontology, doc.series, raw, f"{path}.entries[{i}]")
            if fc.classification != self.classification or fc.plane != plane:
                fail(f"{path}.entries[{i}]", "belongs to another classification or plane")
            parsed.append(fc)
        old = _replace_frames(doc, self.classification, plane, parsed)
        return RestoreFrameClassifications(self.classification, plane, old)


# ---------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class AddMeasurement(Operation):
    """Add a measurement (JSON form; ``uuid``, ``label``, ``author`` and ``created`` are
    filled in by :meth:`stamp` when left out)."""

    measurement: Mapping[str, Any]
    kind: ClassVar[str] = "add_measurement"
    _fields: ClassVar[tuple[str, ...]] = ("measurement",)
    _required: ClassVar[tuple[str, ...]] = ("measurement",)

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        data = dict(check_mapping(self.measurement, "add_measurement.measurement"))
        if data.get("uuid") is None:
            data["uuid"] = str(uuid_module.uuid4())
        data.setdefault("plane", "axial")
        data.setdefault("label", "")
        data.setdefault("author", ctx.author)
        data.setdefault("created", ctx.time)
        plane = check_plane(data["plane"], "add_measurement.measurement.plane")
        width, height, _n = doc.plane_size(plane)
        if "points" in data:
            points = _coords(
                data["points"], "add_measurement.measurement.points", width, height, True
            )
            data["points"] = [[x, y] for x, y in points]
        return AddMeasurement(measurement=data)

    def apply(self, doc: LabelDocument) -> Operation:
        m = parse_measurement(doc.series, self.measurement, "add_measurement.measurement")
        if m.uuid in doc.measurements:
            fail("add_measurement.measurement.uuid", f"a measurement with uuid {m.uuid} exists")
        doc.measurements[m.uuid] = m
        return DeleteMeasurement(uuid=m.uuid)


@dataclass(frozen=True)
class DeleteMeasurement(Operation):
    """Delete a measurement."""

    uuid: str
    kind: ClassVar[str] = "delete_measurement"
    _fields: ClassVar[tuple[str, ...]] = ("uuid",)
    _required: ClassVar[tuple[str, ...]] = ("uuid",)

    def apply(self, doc: LabelDocument) -> Operation:
        if not isinstance(self.uuid, str) or self.uuid not in doc.measurements:
            fail("delete_measurement.uuid", f"unknown measurement {describe(self.uuid)}")
        m = doc.measurements.pop(self.uuid)
        return AddMeasurement(measurement=m.to_json())


# ---------------------------------------------------------------------------- composites


@dataclass(frozen=True)
class Batch(Operation):
    """Several operations applied (and undone) as one: all or nothing."""

    ops: tuple[Operation, ...]
    label: str = ""
    kind: ClassVar[str] = "batch"
    _fields: ClassVar[tuple[str, ...]] = ("ops", "label")
    _required: ClassVar[tuple[str, ...]] = ("ops",)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "ops": [op.to_dict() for op in self.ops], "label": self.label}

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any], path: str) -> Operation:
        check_keys(data, path, required=("op", "ops"), optional=("label",))
        ops = tuple(
            operation_from_dict(item, f"{path}.ops[{i}]")
            for i, item in enumerate(check_sequence(data["ops"], f"{path}.ops"))
        )
        label = check_str(data.get("label", ""), f"{path}.label", allow_empty=True)
        return cls(ops=ops, label=label)

    @property
    def object_uuids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for op in self.ops:
            for u in op.object_uuids:
                seen[u] = None
        return tuple(seen)

    def stamp(self, doc: LabelDocument, ctx: StampContext) -> Operation:
        # Stamping may need the effect of earlier operations (an object created earlier in the
        # batch), so stamp against a scratch copy on which the stamped operations are applied.
        scratch = doc.copy()
        stamped: list[Operation] = []
        for i, op in enumerate(self.ops):
            try:
                s = op.stamp(scratch, ctx)
                if isinstance(s, CreateObject):
                    # later stamps only look objects up (class, plane): a stand-in will do,
                    # and saves validating every keyframe twice; apply() checks it all
                    data = s.object
                    _put_object(
                        scratch,
                        LabelObject(
                            uuid=data["uuid"],
                            object_id=data["object_id"],
                            feature=data["feature"],
                            shape=data["shape"],
                            plane=data["plane"],
                            keyframes={},
                        ),
                    )
                else:
                    s.apply(scratch)
            except LabelError as exc:
                raise LabelError(f"batch.ops[{i}]: {exc}") from None
            stamped.append(s)
        return Batch(ops=tuple(stamped), label=self.label)

    def apply(self, doc: LabelDocument) -> Operation:
        inverses: list[Operation] = []
        for i, op in enumerate(self.ops):
            try:
                inverses.append(op.apply(doc))
            except LabelError as exc:
                for inverse in reversed(inverses):
                    inverse.apply(doc)
                raise LabelError(f"batch.ops[{i}]: {exc}") from None
        return Batch(ops=tuple(reversed(inverses)), label=self.label)


@dataclass(frozen=True)
class ReplaceDocument(Operation):
    """Replace every label (objects, frame classifications, measurements, ontology) by those of
    another document of the same series."""

    document: Mapping[str, Any]
    kind: ClassVar[str] = "replace_document"
    _fields: ClassVar[tuple[str, ...]] = ("document",)
    _required: ClassVar[tuple[str, ...]] = ("document",)

    def apply(self, doc: LabelDocument) -> Operation:
        new = LabelDocument.from_dict(self.document)
        if new.series.series_instance_uid != doc.series.series_instance_uid:
            fail(
                "replace_document.document.series.series_instance_uid",
                f"the labels belong to series {new.series.series_instance_uid!r}, "
                f"not {doc.series.series_instance_uid!r}",
            )
        if new.series.shape != doc.series.shape:
            fail(
                "replace_document.document.series.shape",
                f"{new.series.shape} does not match the series shape {doc.series.shape}",
            )
        old = doc.to_dict()
        doc.series = new.series
        doc.ontology = new.ontology
        doc.objects = new.objects
        doc.frame_classifications = new.frame_classifications
        doc.measurements = new.measurements
        return ReplaceDocument(document=old)


_OPERATIONS: dict[str, type[Operation]] = {
    cls.kind: cls
    for cls in (
        CreateObject,
        DeleteObject,
        UpdateObject,
        SetKeyframe,
        DeleteKeyframe,
        SetStatic,
        SetDynamic,
        SetFrameClassification,
        RestoreFrameClassifications,
        AddMeasurement,
        DeleteMeasurement,
        Batch,
        ReplaceDocument,
    )
}


def operation_from_dict(data: Any, path: str = "operation") -> Operation:
    """Build an :class:`Operation` from its JSON form (``{"op": kind, ...}``).

    Field types are checked when the operation is applied; here only the operation kind and
    the field names are.

    Raises
    ------
    LabelError
        If ``op`` is unknown, a required field is missing or an unknown field is present.
    """
    entry = check_mapping(data, path)
    kind = entry.get("op")
    cls = _OPERATIONS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        fail(
            f"{path}.op",
            f"unknown operation {describe(kind)} (one of {', '.join(sorted(_OPERATIONS))})",
        )
    return cls._from_fields(entry, f"{path}")
