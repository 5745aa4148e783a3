"""The Python face of the label model: :class:`Labels` (what the widget exposes as
``w.labels``).

Every method that changes labels is one :class:`~dicom_annot_widget.labels.operations.
Operation`: validated, applied, recorded for undo, made durable (when the labels are backed by
a file), then announced to observers with the new revision. A refused edit raises
:class:`~dicom_annot_widget.errors.LabelError` and changes nothing.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import LabelError
from ._check import check_int, describe, fail, now_timestamp
from .document import (
    MEASUREMENT_KINDS,
    FrameClassification,
    LabelDocument,
    LabelObject,
    Measurement,
    SeriesInfo,
    check_plane,
    check_slice,
    parse_measurement,
)
from .geometry import Mask, geometry_from_value, mask_slice
from .history import HISTORY_BYTES, History, HistoryEntry
from .interpolation import (
    gap_slices,
    interpolation_ops,
    manual_slices,
    plane_spacing,
    recompute_ops,
)
from .ontology import Answer, ObjectClass, Ontology, OntologyBuilder
from .operations import (
    AddMeasurement,
    Batch,
    CreateObject,
    DeleteMeasurement,
    DeleteObject,
    Operation,
    ReplaceDocument,
    SetDynamic,
    SetFrameClassification,
    SetKeyframe,
    SetStatic,
    StampContext,
    UpdateObject,
    operation_from_dict,
    without_keyframe,
)
from .predictions import prediction_ops
from .store import LabelFileError, LabelStore, atomic_write, default_label_path
from .table import (
    MEASUREMENT_COLUMNS,
    STATISTICS_COLUMNS,
    Affine,
    PatientGeometry,
    PlaneImage,
    check_affine,
    check_geometry,
    measurement_records,
    object_records,
    records_to_dataframe,
    statistics_records,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Labels", "ReadOnlyError"]

Observer = Callable[[Operation, int], Any]


class ReadOnlyError(LabelError):
    """An edit was attempted while the labels are in read-only review mode."""


def _coerce_ontology(value: Any) -> Ontology:
    if isinstance(value, Ontology):
        return value
    if isinstance(value, OntologyBuilder):
        return value.build()
    if isinstance(value, Mapping):
        return Ontology.from_dict(value)
    if isinstance(value, (str, bytes)):
        return Ontology.from_json(value)
    raise LabelError(
        f"ontology: expected an Ontology, a dict, JSON text or a builder, got {describe(value)}"
    )


class Labels:
    """The labels of one series: objects, keyframes, classifications, measurements.

    Parameters
    ----------
    series
        A :class:`~dicom_annot_widget.labels.SeriesInfo`, its dict form, or an opened series
        (anything with ``series_instance_uid`` and ``shape`` = ``(slices, rows, columns)``).
    ontology
        An :class:`~dicom_annot_widget.labels.Ontology`, its dict/JSON form or a builder.
    author
        Recorded as the author of new objects.
    affine
        Default 4x4 matrix mapping ``(column, row, slice, 1)`` to patient LPS mm, or an
        opened series, used by :meth:`to_dataframe` and :meth:`measurements_to_dataframe`.
        Default: ``series`` when it is an opened series (its geometry, and its pixels for
        the statistics of area measurements), else none.
    read_only
        Start in review mode (see :attr:`read_only`).
    history_limit
        How many edits can be undone.
    history_bytes
        How much the undo and redo history may hold, in bytes of its edits' text (a bitmask
        edit holds its slice's run-length text twice, before and after); the oldest edits
        are forgotten beyond it, the last one never. Default 256 MiB.

    Notes
    -----
    These labels live in memory only; use :meth:`open` for labels kept in a file, durable
    edit by edit. Geometry is in plane coordinates (voxels, pixel centres at integers); see
    ``docs/labels.md``.

    Examples
    --------
    >>> labels = Labels({"series_instance_uid": "1.2.3", "shape": [40, 64, 64]},
    ...                 Ontology.builder().object("Lesion", "bounding_box").build())
    >>> u = labels.add_box("Lesion", 12, (10, 10, 20, 24))
    >>> labels.add_box("Lesion", 13, (11, 10, 21, 24), uuid=u) == u  # same track
    True
    >>> [o.object_id for o in labels.objects_on_slice(13)]
    [1]
    """

    def __init__(
        self,
        series: Any,
        ontology: Any,
        *,
        author: str | None = None,
        affine: Any = None,
        read_only: bool = False,
        history_limit: int = 1000,
        history_bytes: int = HISTORY_BYTES,
    ) -> None:
        self._init(
            LabelDocument(SeriesInfo.coerce(series), _coerce_ontology(ontology)),
            author=author,
            affine=_default_geometry(series, affine),
            read_only=read_only,
            history_limit=history_limit,
            history_bytes=history_bytes,
        )

    def _init(
        self,
        doc: LabelDocument,
        *,
        author: str | None,
        affine: Any,
        read_only: bool,
        history_limit: int = 1000,
        history_bytes: int = HISTORY_BYTES,
    ) -> None:
        self._doc = doc
        self._history = History(history_limit, history_bytes)
        self._observers: list[Observer] = []
        #: called when review mode turns on or off (the widget tells the page)
        self._mode_observers: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        self._store: LabelStore | None = None
        self._read_only = bool(read_only)
        self._affine: Affine | None = None
        #: an opened series given as the affine: its geometry (slice positions) and pixels
        self._geometry_source: Any = None
        self.affine = affine
        self.author = author

    @classmethod
    def _from_document(
        cls,
        doc: LabelDocument,
        *,
        author: str | None = None,
        affine: Any = None,
        read_only: bool = False,
    ) -> Labels:
        labels = cls.__new__(cls)
        labels._init(doc, author=author, affine=affine, read_only=read_only)
        return labels

    @classmethod
    def open(
        cls,
        series: Any,
        ontology: Any = None,
        path: str | os.PathLike[str] | None = None,
        *,
        author: str | None = None,
        affine: Any = None,
        read_only: bool = False,
        compact_every: int = 500,
        idle_snapshot: float | None = 2.0,
    ) -> Labels:
        """Open (or create) the label file of a series; every edit is then durable.

        Parameters
        ----------
        series
            As for :class:`Labels`.
        ontology
            Needed when the file does not exist yet. If the file exists and this differs from
            its stored ontology, the stored labels are checked against it and it is adopted.
            ``None`` keeps the stored one.
        path
            The label file; default :func:`~dicom_annot_widget.labels.default_label_path`
            of the series instance UID, so opening the same series again restores its labels.
        compact_every, idle_snapshot
            See :class:`~dicom_annot_widget.labels.LabelStore`.

        Raises
        ------
        LabelError
            If the file is malformed (with the reason; the file is left as it is), belongs
            to another series, or is open in another process.

        Notes
        -----
        Call :meth:`close` (or use ``with``) when done; it writes a final snapshot and
        releases the file. If the process dies instead, nothing acknowledged is lost: the
        journal beside the file is replayed on the next open.

        A file that other labels of this process have open (a notebook cell run again while
        the labels or widget it made before are still alive) is taken over: those are closed,
        with every edit made through them, and refuse further edits with a
        :class:`~dicom_annot_widget.labels.LabelFileError` saying the file was taken over.
        """
        info = SeriesInfo.coerce(series)
        onto = None if ontology is None else _coerce_ontology(ontology)
        if path is None:
            target = default_label_path(info.series_instance_uid)
            try:  # the default folder is ours to make
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LabelFileError(
                    f"label file {target}: cannot create its folder ({exc})"
                ) from None
        else:
            target = Path(path)
        store = LabelStore(target, compact_every=compact_every, idle_snapshot=idle_snapshot)
        doc, _existed = store.open(info, onto)
        labels = cls._from_document(
            doc, author=author, affine=_default_geometry(series, affine), read_only=read_only
        )
        labels._store = store
        store.attach(lambda: labels._doc, labels._lock)
        return labels

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        ontology: Any = None,
        author: str | None = None,
        affine: Any = None,
        read_only: bool = False,
    ) -> Labels:
        """In-memory labels from a ``dicom-annot/1`` document (see :meth:`to_json`).

        ``ontology``, when given, replaces the stored one after the labels are checked
        against it.

        Raises
        ------
        LabelError
            If the document is malformed; the message names the field.
        """
        onto = None if ontology is None else _coerce_ontology(ontology)
        doc = LabelDocument.from_json(text, ontology=onto)
        return cls._from_document(doc, author=author, affine=affine, read_only=read_only)

    def close(self) -> None:
        """Write a final snapshot and release the label file (no-op for in-memory labels)."""
        with self._lock:
            store = self._store
        if store is not None:
            store.close()

    def flush(self) -> None:
        """Fold the journal into the label file now, so the ``.json`` alone is up to date."""
        if self._store is not None:
            self._store.flush()

    def __enter__(self) -> Labels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f", path={str(self._store.path)!r}" if self._store is not None else ""
        return (
            f"Labels(series={self._doc.series.series_instance_uid!r}, "
            f"objects={len(self._doc.objects)}, keyframes={self._doc.keyframe_count}, "
            f"revision={self._doc.revision}{where}{', read_only' if self._read_only else ''})"
        )

    # ------------------------------------------------------------------ properties

    @property
    def document(self) -> LabelDocument:
        """The underlying document. Read it freely; change it only through this class."""
        return self._doc

    @property
    def ontology(self) -> Ontology:
        """The ontology the labels follow."""
        return self._doc.ontology

    @property
    def series(self) -> SeriesInfo:
        """The series the labels belong to."""
        return self._doc.series

    @property
    def path(self) -> Path | None:
        """The label file, or ``None`` for in-memory labels."""
        return self._store.path if self._store is not None else None

    @property
    def revision(self) -> int:
        """Increases by one with every applied edit, undo and redo (and survives reopening)."""
        return self._doc.revision

    @property
    def read_only(self) -> bool:
        """Review mode: while True, every edit (undo and redo included) raises
        :class:`ReadOnlyError` and nothing changes."""
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        changed = self._read_only != bool(value)
        self._read_only = bool(value)
        if changed:
            for callback in list(self._mode_observers):
                callback()

    @property
    def affine(self) -> Affine | None:
        """Default affine for :meth:`to_dataframe` (``(column, row, slice, 1)`` -> LPS mm).
        Set a 4x4 matrix, or an opened series (then its slices' positions and its pixels are
        the defaults too), or None."""
        return self._affine

    @affine.setter
    def affine(self, value: Any) -> None:
        if _is_series(value):
            self._affine = check_affine(value.affine)
            self._geometry_source = value
        else:
            self._affine = check_affine(value)
            self._geometry_source = None

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` has something to undo."""
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        """Whether :meth:`redo` has something to redo."""
        return self._history.can_redo

    # ------------------------------------------------------------------ observers

    def observe(self, callback: Observer) -> Observer:
        """Call ``callback(operation, revision)`` after every applied edit, undo and redo.

        The operation is the stamped one that was applied (for an undo, the inverse), in
        the same JSON form the journal stores (``operation.to_dict()``). Returns
        ``callback``, so this works as a decorator. Exceptions raised by a callback are
        turned into warnings: the edit itself has already been made.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {describe(callback)}")
        self._observers.append(callback)
        return callback

    def unobserve(self, callback: Observer) -> None:
        """Stop calling ``callback``."""
        try:
            self._observers.remove(callback)
        except ValueError:
            raise LabelError(f"{describe(callback)} is not observing these labels") from None

    def _notify(self, op: Operation, revision: int) -> None:
        for callback in list(self._observers):
            try:
                callback(op, revision)
            except Exception as exc:  # the edit is made and durable; don't pretend it failed
                warnings.warn(
                    f"labels observer {describe(callback)} raised {exc!r}",
                    RuntimeWarning,
                    stacklevel=3,
                )

    # ------------------------------------------------------------------ applying

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(
                "the labels are in read-only review mode; set labels.read_only = False to edit"
            )
        if self._store is not None and self._store.closed:
            raise self._store.closed_error()

    def _commit(self, op: Operation, inverse: Operation) -> int:
        """Persist an applied op (rolling it back if that fails) and bump the revision."""
        revision = self._doc.revision + 1
        if self._store is not None:
            try:
                self._store.append(revision, op)
            except BaseException:  # LabelFileError, or anything the checks let through
                inverse.apply(self._doc)
                raise
        self._doc.revision = revision
        if self._store is not None and self._store.needs_compaction:
            try:
                self._store.compact(self._doc)
            except LabelError as exc:  # the journal still has every edit
                warnings.warn(str(exc), RuntimeWarning, stacklevel=3)
        return revision

    def apply(self, op: Operation | Mapping[str, Any]) -> int:
        """Validate and apply one edit; returns the new revision.

        Parameters
        ----------
        op
            An :class:`~dicom_annot_widget.labels.operations.Operation` or its JSON form
            (``{"op": "set_keyframe", ...}``), as the page sends it.

        Raises
        ------
        LabelError
            If the edit is invalid (nothing changes), or :class:`ReadOnlyError` in review mode.

        Notes
        -----
        If the edit changes a manual keyframe of an object that has interpolated (derived)
        keyframes, those next to it are recomputed within the same edit: what is recorded,
        journaled and sent to observers is then a :class:`~dicom_annot_widget.labels.
        operations.Batch` of ``op`` and the recomputation (see :meth:`interpolate`).
        """
        if not isinstance(op, Operation):
            op = operation_from_dict(op)
        return self._apply(op, recompute=True)

    def _apply(self, op: Operation, *, recompute: bool) -> int:
        """:meth:`apply`; with ``recompute``, derived keyframes of objects whose manual
        keyframes the edit changes are recomputed within the same edit."""
        with self._lock:
            self._check_writable()
            ctx = StampContext(
                time=now_timestamp(), author=self.author, next_object_id=self._doc.next_object_id()
            )
            stamped = op.stamp(self._doc, ctx)
            before = self._with_derived(stamped) if recompute else {}
            last_id = self._doc.last_object_id  # an edit rolled back leaves no trace
            inverse = stamped.apply(self._doc)
            try:
                if before:
                    try:
                        stamped, inverse = self._recompute_derived(stamped, inverse, before, ctx)
                    except BaseException:  # a bug, not bad input: leave the labels as they were
                        inverse.apply(self._doc)
                        raise
                revision = self._commit(stamped, inverse)
            except BaseException:
                self._doc.last_object_id = last_id
                raise
            self._history.record(stamped, inverse)
            self._notify(stamped, revision)
            return revision

    def _with_derived(self, op: Operation) -> dict[str, LabelObject]:
        """The objects ``op`` touches that have derived keyframes, as they are now."""
        out: dict[str, LabelObject] = {}
        for uuid in op.object_uuids:
            obj = self._doc.objects.get(uuid)
            if obj is not None and not all(kf.manual for kf in obj.keyframes.values()):
                out[uuid] = obj
        return out

    def _recompute_derived(
        self,
        stamped: Operation,
        inverse: Operation,
        before: Mapping[str, LabelObject],
        ctx: StampContext,
    ) -> tuple[Operation, Operation]:
        """After ``stamped`` was applied: recompute the derived keyframes its changes to
        manual keyframes affect, and return the edit and inverse to record (``stamped``
        followed by the recomputation, as one batch), or ``stamped`` and ``inverse`` as they
        are when nothing needs recomputing."""
        ops = recompute_ops(self._doc, before, self._plane_spacing)
        if not ops:
            return stamped, inverse
        try:
            follow = Batch(tuple(ops), label="recompute interpolation").stamp(self._doc, ctx)
            follow_inverse = follow.apply(self._doc)
        except LabelError as exc:  # pragma: no cover - derived geometry is validated first
            warnings.warn(
                f"interpolated keyframes could not be recomputed: {exc}",
                RuntimeWarning,
                stacklevel=4,
            )
            return stamped, inverse
        label = "recompute interpolation"
        return Batch((stamped, follow), label=label), Batch((follow_inverse, inverse), label=label)

    def _plane_spacing(self, plane: str) -> tuple[float, float] | None:
        return plane_spacing(self._affine, plane)

    def undo(self) -> int | None:
        """Undo the last edit; returns the new revision, or ``None`` if there is nothing to
        undo."""
        history = self._history
        return self._revert(history.pop_undo, history.push_undo, history.push_redo)

    def redo(self) -> int | None:
        """Redo the last undone edit; returns the new revision, or ``None``."""
        history = self._history
        return self._revert(history.pop_redo, history.push_redo, history.push_undo)

    def _revert(
        self,
        pop: Callable[[], HistoryEntry | None],
        put_back: Callable[[HistoryEntry], None],
        push_other: Callable[[HistoryEntry], None],
    ) -> int | None:
        """Apply the inverse of the entry ``pop`` takes from one stack and move the reversed
        pair to the other stack (``push_other``); a refused inverse goes back (``put_back``)."""
        with self._lock:
            self._check_writable()
            entry = pop()
            if entry is None:
                return None
            last_id = self._doc.last_object_id
            try:
                again = entry.inverse.apply(self._doc)
                revision = self._commit(entry.inverse, again)
            except LabelError:
                self._doc.last_object_id = last_id
                put_back(entry)
                raise
            push_other(HistoryEntry(entry.inverse, again))
            self._notify(entry.inverse, revision)
            return revision

    # ------------------------------------------------------------------ reading objects

    def __len__(self) -> int:
        return len(self._doc.objects)

    def __iter__(self) -> Iterator[LabelObject]:
        return iter(list(self._doc.objects.values()))

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._doc.objects

    def __getitem__(self, uuid: str) -> LabelObject:
        return self.get(uuid)

    def get(self, uuid: str) -> LabelObject:
        """The object with this uuid.

        Raises
        ------
        LabelError
            If there is none.
        """
        obj = self._doc.objects.get(uuid) if isinstance(uuid, str) else None
        if obj is None:
            if isinstance(uuid, (int, np.integer)) and not isinstance(uuid, bool):
                raise LabelError(
                    f"unknown object {describe(uuid)}: objects are named by their uuid (a "
                    f"string); for the object shown as #{int(uuid)} use "
                    f"labels.by_object_id({int(uuid)})"
                )
            raise LabelError(f"unknown object {describe(uuid)}")
        return obj

    def by_object_id(self, object_id: int) -> LabelObject:
        """The object shown as number ``object_id``."""
        for obj in self._doc.objects.values():
            if obj.object_id == object_id:
                return obj
        raise LabelError(f"no object has object_id {describe(object_id)}")

    def objects(
        self,
        feature: str | None = None,
        *,
        slice: int | None = None,
        plane: str | None = None,
        source: str | None = None,
        pending: bool | None = None,
    ) -> list[LabelObject]:
        """Objects in object_id order, filtered.

        Parameters
        ----------
        feature
            Object class id, name or hotkey.
        slice
            Only objects with a keyframe on this slice (of ``plane``, default axial).
        plane
            Only objects drawn in this plane.
        source
            ``"manual"``, ``"interpolation"`` or a model name.
        pending
            True: only predictions awaiting review; False: everything else.
        """
        feature_id = self.ontology.feature(feature).id if feature is not None else None
        if slice is not None and plane is None:
            plane = "axial"
        if plane is not None:
            check_plane(plane, "plane")
        if slice is not None and plane is not None:
            slice = check_int(slice, "slice", 0, self._doc.plane_size(plane)[2] - 1)
        out = []
        for obj in self._doc.objects.values():
            if feature_id is not None and obj.feature != feature_id:
                continue
            if plane is not None and obj.plane != plane:
                continue
            if slice is not None and slice not in obj.keyframes:
                continue
            if source is not None and obj.source != source:
                continue
            if pending is not None and obj.pending != pending:
                continue
            out.append(obj)
        return out

    def objects_on_slice(self, slice: int, plane: str = "axial") -> list[LabelObject]:
        """Objects with a keyframe on ``slice`` of ``plane``."""
        return self.objects(slice=slice, plane=plane)

    # ------------------------------------------------------------------ adding objects

    def _feature(self, feature: Any, shape: str | None = None) -> ObjectClass:
        cls = self.ontology.feature(feature)
        if shape is not None and cls.shape != shape:
            raise LabelError(
                f"{cls.name!r} is a {cls.shape} class, not a {shape} class; "
                f"use add_{_ADDER[cls.shape]}() or add()"
            )
        return cls

    def add(
        self,
        feature: str,
        slice: int,
        geometry: Any,
        *,
        plane: str | None = None,
        uuid: str | None = None,
        manual: bool = True,
        static: Mapping[str, Any] | None = None,
        source: str | None = None,
        confidence: float | None = None,
    ) -> str:
        """Draw ``geometry`` of class ``feature`` on ``slice``; returns the object's uuid.

        Parameters
        ----------
        feature
            Object class id, name or hotkey; the geometry must suit its shape.
        slice
            Slice index in ``plane``.
        geometry
            See :func:`~dicom_annot_widget.labels.geometry.geometry_from_value`.
        plane
            Plane a new object is drawn in (default ``"axial"``); an existing object keeps
            its own.
        uuid
            *Instantiate existing*: continue this existing object on ``slice`` (it keeps its
            uuid and object_id) instead of creating a new one.
        manual
            False for interpolated keyframes.
        static
            Static classification answers of a new object (``{classification: answer}``).
        source, confidence
            For a new object; a ``source`` other than ``"manual"``/``"interpolation"`` makes it a
            pending prediction.
        """
        cls = self._feature(feature)
        if uuid is not None:
            obj = self.get(uuid)
            if obj.feature != cls.id:
                raise LabelError(
                    f"object {obj.object_id} is a {obj.feature!r}, not a {cls.id!r}; "
                    "an object keeps its class across slices"
                )
            extra = {
                k: v
                for k, v in (("static", static), ("source", source), ("confidence", confidence))
                if v is not None
            }
            if extra:
                raise LabelError(
                    f"{', '.join(extra)} can only be given for a new object; "
                    "use update_object/set_static for an existing one"
                )
            if plane is not None and plane != obj.plane:
                raise LabelError(
                    f"object {obj.object_id} is drawn in the {obj.plane} plane, not {plane}"
                )
            self.set_keyframe(uuid, slice, geometry, manual=manual)
            return uuid
        plane = check_plane("axial" if plane is None else plane, "plane")
        width, height, n = self._doc.plane_size(plane)
        k = check_slice(slice, n, "slice")
        geom = geometry_from_value(cls, geometry, width, height, _ADDER[cls.shape])
        data: dict[str, Any] = {
            "feature": cls.id,
            "plane": plane,
            "keyframes": {str(k): {"manual": bool(manual), **geom.to_json()}},
        }
        return self._create(data, static, source, confidence)

    def _create(
        self,
        data: dict[str, Any],
        static: Mapping[str, Any] | None,
        source: str | None,
        confidence: float | None,
    ) -> str:
        """Create the object ``data`` with the optional ``static`` answers, ``source`` and
        ``confidence`` added; returns its uuid."""
        if static:
            data["static"] = dict(static)
        if source is not None:
            data["source"] = source
        if confidence is not None:
            data["confidence"] = confidence
        with self._lock:
            self.apply(CreateObject(object=data))
            last = self._history_last()
            assert isinstance(last, CreateObject)
            return str(last.object["uuid"])

    def _history_last(self) -> Operation:
        entry = self._history.last
        assert entry is not None
        return entry.op

    def add_box(self, feature: str, slice: int, box: Any, **kwargs: Any) -> str:
        """Add a bounding box ``(x0, y0, x1, y1)``; see :meth:`add` for the keywords."""
        self._feature(feature, "bounding_box")
        return self.add(feature, slice, box, **kwargs)

    def add_polygon(self, feature: str, slice: int, points: Any, **kwargs: Any) -> str:
        """Add a polygon ``[(x, y), ...]`` (closed; at least 3 distinct vertices)."""
        self._feature(feature, "polygon")
        return self.add(feature, slice, points, **kwargs)

    def add_polyline(self, feature: str, slice: int, points: Any, **kwargs: Any) -> str:
        """Add a polyline ``[(x, y), ...]`` (at least 2 distinct vertices)."""
        self._feature(feature, "polyline")
        return self.add(feature, slice, points, **kwargs)

    def add_point(self, feature: str, slice: int, point: Any, **kwargs: Any) -> str:
        """Add a keypoint ``(x, y)``."""
        self._feature(feature, "point")
        return self.add(feature, slice, point, **kwargs)

    def add_primitive(
        self,
        feature: str,
        slice: int,
        nodes: Any,
        *,
        edges: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> str:
        """Add a primitive: ``nodes`` maps every template node id to ``(x, y)`` (or lists the
        positions in template order); ``edges`` gives each template edge's state
        (``visible``/``occluded``/``invisible``; default all visible)."""
        cls = self._feature(feature, "primitive")
        if not isinstance(nodes, Mapping):
            nodes = (
                dict(zip(cls.node_ids, list(nodes), strict=True))
                if len(nodes) == len(cls.nodes)
                else nodes
            )
        geometry: dict[str, Any] = {"nodes": nodes}
        if edges is not None:
            geometry["edges"] = list(edges)
        return self.add(feature, slice, geometry, **kwargs)

    def add_mask(
        self,
        feature: str,
        mask: Any,
        *,
        slice: int | None = None,
        plane: str = "axial",
        source: str | None = None,
        confidence: float | None = None,
        static: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a bitmask object; returns its uuid.

        Parameters
        ----------
        mask
            A 3D array shaped like the volume, ``(slices, rows, columns)`` (non-zero =
            inside; floating-point values must be 0 or 1): every non-empty slice of ``plane``
            becomes a keyframe. Or a 2D plane image together with ``slice``.
        """
        cls = self._feature(feature, "bitmask")
        check_plane(plane, "plane")
        width, height, n = self._doc.plane_size(plane)
        array = np.asarray(mask)
        if array.dtype.kind in "fc":
            # non-zero is inside: a probability map would become one block
            odd = array[(array != 0) & (array != 1)]
            if odd.size:
                raise LabelError(
                    f"add_mask(mask): values other than 0 and 1 (e.g. {odd.flat[0]!r}): "
                    "threshold a probability map first (e.g. mask > 0.5)"
                )
        keyframes: dict[str, Any] = {}
        if slice is not None or array.ndim == 2:
            if slice is None:
                raise LabelError("add_mask: a 2D mask needs slice=...")
            k = check_slice(slice, n, "slice")
            geom = geometry_from_value(cls, array, width, height, "add_mask(mask)")
            keyframes[str(k)] = {"manual": True, **geom.to_json()}
        else:
            if array.shape != self.series.shape:
                raise LabelError(
                    f"add_mask(mask): shape {array.shape} is not the volume's "
                    f"(slices, rows, columns) = {self.series.shape}"
                )
            for k in range(n):
                plane_image = _plane_image(array, plane, k)
                if not plane_image.any():
                    continue
                keyframes[str(k)] = {"manual": True, **Mask.from_array(plane_image).to_json()}
            if not keyframes:
                raise LabelError("add_mask(mask): the mask is empty")
        data: dict[str, Any] = {"feature": cls.id, "plane": plane, "keyframes": keyframes}
        return self._create(data, static, source, confidence)

    def set_mask_slice(self, uuid: str, slice: int, mask: Any) -> int:
        """Replace a bitmask object's mask on ``slice`` (a 2D plane image); an empty mask
        removes the keyframe (and the object with its last one, as in the page). Returns the
        revision."""
        obj = self.get(uuid)
        if obj.shape != "bitmask":
            raise LabelError(f"object {obj.object_id} is a {obj.shape}, not a bitmask")
        width, height, n = self._doc.plane_size(obj.plane)
        k = check_slice(slice, n, "slice")
        values = mask if isinstance(mask, Mask) else np.asarray(mask)
        if isinstance(values, np.ndarray) and values.dtype.kind in "biuf" and not values.any():
            # an empty mask is checked as a drawn one is (QA: a wrong shape deleted a keyframe)
            mask_slice(values, width, height, "mask")
            if k in obj.keyframes:
                return self.delete_keyframe(uuid, k)
            return self.revision
        return self.set_keyframe(uuid, k, mask)

    def get_mask(self, uuid: str) -> npt.NDArray[np.bool_]:
        """A bitmask object as a boolean volume of shape ``(slices, rows, columns)``."""
        obj = self.get(uuid)
        if obj.shape != "bitmask":
            raise LabelError(f"object {obj.object_id} is a {obj.shape}, not a bitmask")
        volume = np.zeros(self.series.shape, dtype=np.bool_)
        for k, kf in obj.keyframes.items():
            assert isinstance(kf.geometry, Mask)
            _plane_image(volume, obj.plane, k)[...] = kf.geometry.to_array()
        return volume

    # ------------------------------------------------------------------ editing objects

    def set_keyframe(self, uuid: str, slice: int, geometry: Any, *, manual: bool = True) -> int:
        """Set an object's geometry on ``slice`` of its plane (adding or replacing the
        keyframe; the object keeps its identity). Returns the revision."""
        obj = self.get(uuid)
        cls = self.ontology.feature(obj.feature)
        width, height, n = self._doc.plane_size(obj.plane)
        k = check_slice(slice, n, "slice")
        geom = geometry_from_value(cls, geometry, width, height, "geometry")
        return self.apply(SetKeyframe(uuid, k, geom.to_json(), bool(manual)))

    def delete_keyframe(self, uuid: str, slice: int) -> int:
        """Remove an object's keyframe on ``slice``; removing its last keyframe deletes the
        object, as the page, :meth:`DicomAnnotator.erase` and :meth:`set_mask_slice` do (an
        object without geometry would be listed, counted and exported with nothing in it).
        One undo step brings it back either way. Returns the revision."""
        k = check_int(slice, "slice")
        with self._lock:
            return self.apply(without_keyframe(self.get(uuid), k))

    def copy_keyframe(
        self, uuid: str, from_slice: int, to_slice: int, *, overwrite: bool = False
    ) -> int:
        """Copy/paste: put an object's geometry from ``from_slice`` on ``to_slice`` too (same
        track, manual keyframe). Refuses to overwrite an existing keyframe unless
        ``overwrite``."""
        obj = self.get(uuid)
        source = obj.keyframes.get(from_slice)
        if source is None:
            raise LabelError(f"object {obj.object_id} has no keyframe on slice {from_slice}")
        if to_slice in obj.keyframes and not overwrite:
            raise LabelError(
                f"object {obj.object_id} already has a keyframe on slice {to_slice}; "
                "pass overwrite=True to replace it"
            )
        return self.apply(SetKeyframe(uuid, to_slice, source.geometry.to_json(), True))

    def update_object(self, uuid: str, **changes: Any) -> int:
        """Change an object's ``feature`` (to a class of the same shape), ``name`` (user text,
        stripped, at most 200 characters; ``None`` or ``""`` removes it), ``confidence``,
        ``author`` or ``source``. Answers that do not belong to a new class are dropped."""
        allowed = {"feature", "name", "confidence", "author", "source"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(
                f"update_object() got unknown keyword {', '.join(sorted(unknown))} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if not changes:
            raise LabelError("update_object: nothing to change")
        self.get(uuid)
        if "source" in changes:
            obj = self.get(uuid)
            src = changes["source"]
            is_pred = src not in ("manual", "interpolation")
            if is_pred and not obj.is_prediction:
                changes["review"] = "pending"
            elif not is_pred:
                changes["review"] = None
        return self.apply(UpdateObject(uuid, changes))

    def delete_object(self, uuid: str) -> int:
        """Delete an object with all its keyframes."""
        return self.apply(DeleteObject(uuid))

    def delete_objects(self, uuids: Iterable[str]) -> int:
        """Delete several objects as one edit (one undo step); one uuid may be given alone."""
        if isinstance(uuids, str):  # (not its characters, one by one)
            uuids = [uuids]
        ops = [DeleteObject(u) for u in uuids]
        if not ops:
            raise LabelError("delete_objects: no objects given")
        return self.apply(Batch(tuple(ops), label="delete objects"))

    # ------------------------------------------------------------------ interpolation

    def interpolate(
        self,
        objects: str | LabelObject | Iterable[str | LabelObject] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> int:
        """Fill the slices between consecutive manual keyframes of objects with interpolated
        (derived, ``manual=False``) keyframes, as one edit (one undo step).

        Boxes, points and primitives move linearly (per node); polygons and polylines are
        matched vertex to vertex first (any vertex counts, start points and winding); masks
        use shape-based interpolation on the object's bounding box. See "Interpolation" in
        ``docs/labels.md``.

        Parameters
        ----------
        objects
            A uuid or :class:`~dicom_annot_widget.labels.LabelObject`, or several. ``None``:
            every object with at least two manual keyframes (others are skipped).
        start, end
            Only fill slices in ``start..end`` (inclusive; default: everywhere).

        Returns
        -------
        int
            The new revision (the current one if there was nothing to change).

        Raises
        ------
        LabelError
            If a given object is unknown or has fewer than two manual keyframes (naming it),
            or the range is invalid; nothing changes.

        Notes
        -----
        Existing derived keyframes on the filled slices are replaced (deleted where the
        interpolation gives nothing, e.g. a part that shrank away); manual keyframes are never
        touched. Derived keyframes are later recomputed whenever an edit changes a manual
        keyframe next to them (within that same edit).
        """
        lo = 0 if start is None else check_int(start, "interpolate(start)", 0)
        hi = None if end is None else check_int(end, "interpolate(end)", 0)
        if hi is not None and lo > hi:
            raise LabelError(f"interpolate: start {lo} is after end {hi}")
        # no plane of the series has that slice (also when no object is there to say it)
        largest = max(self._doc.plane_size(p)[2] for p in ("axial", "coronal", "sagittal"))
        for value, name in ((lo, "start"), (hi, "end")):
            if value is not None and value >= largest:
                raise LabelError(
                    f"interpolate({name}): slice {value} is out of range (no plane of the "
                    f"series has more than {largest} slices)"
                )
        with self._lock:
            self._check_writable()
            chosen = self._interpolation_targets(objects)
            ops: list[Operation] = []
            for obj in chosen:
                manual = manual_slices(obj)
                if len(manual) < 2:
                    if objects is None:
                        continue
                    raise LabelError(
                        f"cannot interpolate object {obj.object_id} ({obj.uuid}): it has "
                        f"{len(manual)} manual keyframe{'' if len(manual) == 1 else 's'}; "
                        "interpolation needs at least two manual keyframes"
                    )
                n = self._doc.plane_size(obj.plane)[2]
                for value, name in ((lo, "start"), (hi, "end")):
                    if value is not None and value >= n:
                        # (a typo in the range looked like success)
                        raise LabelError(
                            f"interpolate({name}): slice {value} is out of range for object "
                            f"{obj.object_id}, drawn on the {obj.plane} plane (slices 0..{n - 1})"
                        )
                targets = gap_slices(manual, lo, n - 1 if hi is None else hi)
                ops.extend(
                    interpolation_ops(self._doc, obj, targets, self._plane_spacing(obj.plane))
                )
            if not ops:
                return self.revision
            return self._apply(Batch(tuple(ops), label="interpolate"), recompute=False)

    def _interpolation_targets(
        self, objects: str | LabelObject | Iterable[str | LabelObject] | None
    ) -> list[LabelObject]:
        """The objects :meth:`interpolate` works on, current versions, without repeats."""
        if objects is None:
            return list(self._doc.objects.values())
        items = [objects] if isinstance(objects, (str, LabelObject)) else objects
        try:
            seq = list(items)
        except TypeError:
            raise LabelError(
                "interpolate(objects): expected a uuid, a LabelObject or a list of them, "
                f"got {describe(objects)}"
            ) from None
        if not seq:
            raise LabelError("interpolate(objects): no objects given")
        out: dict[str, LabelObject] = {}
        for i, item in enumerate(seq):
            uuid = item.uuid if isinstance(item, LabelObject) else item
            if not isinstance(uuid, str) or uuid not in self._doc.objects:
                raise LabelError(f"interpolate(objects)[{i}]: unknown object {describe(item)}")
            out[uuid] = self._doc.objects[uuid]
        return list(out.values())

    # ------------------------------------------------------------------ classifications

    def set_static(self, uuid: str, classification: str, answer: Any) -> int:
        """Answer a static classification of an object (by id, or by name within its class).

        ``answer``: an option id/name (radio), a list of them (checklist) or a string (text).
        ``None`` (or an empty checklist/text) clears it. Nested classifications need their
        parent option chosen; changing the parent clears the nested answers that no longer
        apply.
        """
        if _empty(answer):
            return self.clear_static(uuid, classification)
        return self.apply(SetStatic(uuid, classification, answer))

    def clear_static(self, uuid: str, classification: str) -> int:
        """Remove the answer to a static classification (and its nested answers)."""
        return self.apply(SetStatic(uuid, classification, None))

    def static(self, uuid: str) -> dict[str, Answer]:
        """An object's static answers."""
        return dict(self.get(uuid).static)

    def set_dynamic(
        self, uuid: str, classification: str, answer: Any, start: int, end: int | None = None
    ) -> int:
        """Answer a dynamic classification on slices ``start..end`` (inclusive; default just
        ``start``) of the object's plane, replacing earlier answers there."""
        if _empty(answer):
            answer = None
        return self.apply(
            SetDynamic(uuid, classification, answer, start, start if end is None else end)
        )

    def clear_dynamic(
        self, uuid: str, classification: str, start: int | None = None, end: int | None = None
    ) -> int:
        """Remove a dynamic classification's answers on ``start..end`` (default: everywhere)."""
        obj = self.get(uuid)
        n = self._doc.plane_size(obj.plane)[2]
        lo = 0 if start is None else start
        hi = (n - 1 if start is None else start) if end is None else end
        return self.apply(SetDynamic(uuid, classification, None, lo, hi))

    def dynamic(self, uuid: str, classification: str, slice: int) -> Answer | None:
        """The answer to a dynamic classification of an object on ``slice``, or None."""
        obj = self.get(uuid)
        cid = self.ontology.resolve_classification(classification, obj.feature, "classification")
        k = check_slice(slice, self._doc.plane_size(obj.plane)[2], "slice")
        return obj.dynamic_answer(cid, k)

    def set_frame_classification(
        self,
        classification: str,
        answer: Any,
        start: int,
        end: int | None = None,
        *,
        nested: Mapping[str, Any] | None = None,
        plane: str = "axial",
    ) -> str:
        """Answer a frame classification on slices ``start..end`` (inclusive; default just
        ``start``), replacing earlier answers there. Returns the uuid of the instance holding
        the range (an instance with the same answers is extended).

        Parameters
        ----------
        classification
            Id or name of a frame-level classification.
        answer
            Its answer (option id/name, list of them, or text).
        nested
            Answers to its nested classifications, ``{id or name: answer}``.
        """
        cid = self.ontology.resolve_classification(classification, None, "classification")
        if answer is None:
            # (set_static / set_dynamic clear on None: here that is a method of its own)
            raise LabelError(
                f"set_frame_classification: answer None would clear {cid!r}: use "
                f"clear_frame_classification({classification!r}, start, end) to clear slices"
            )
        answers: dict[str, Any] = {cid: answer}
        if nested:
            answers.update(nested)
        stop = start if end is None else end
        self.apply(SetFrameClassification(cid, answers, start, stop, plane=plane))
        for fc in self._doc.frame_classifications.values():
            if fc.classification == cid and fc.plane == plane and fc.covers(start):
                return fc.uuid
        raise AssertionError("the frame classification just set is missing")  # pragma: no cover

    def clear_frame_classification(
        self,
        classification: str,
        start: int | None = None,
        end: int | None = None,
        *,
        plane: str = "axial",
    ) -> int:
        """Remove a frame classification's answers on ``start..end`` (default: everywhere)."""
        check_plane(plane, "plane")
        n = self._doc.plane_size(plane)[2]
        lo = 0 if start is None else start
        hi = (n - 1 if start is None else start) if end is None else end
        return self.apply(SetFrameClassification(classification, None, lo, hi, plane=plane))

    @property
    def frame_classifications(self) -> list[FrameClassification]:
        """All frame classification instances."""
        return list(self._doc.frame_classifications.values())

    def frame_classifications_on_slice(self, slice: int, plane: str = "axial") -> dict[str, Answer]:
        """Every frame classification answer (nested ones included) in force on ``slice``."""
        k = check_slice(slice, self._doc.plane_size(plane)[2], "slice")
        out: dict[str, Answer] = {}
        for fc in self._doc.frame_classifications.values():
            if fc.plane == plane and fc.covers(k):
                out.update(fc.answers)
        return out

    # ------------------------------------------------------------------ measurements

    def add_measurement(
        self,
        kind: str,
        slice: int,
        points: Any,
        *,
        plane: str = "axial",
        label: str = "",
    ) -> str:
        """Add a ``distance`` (2 points), ``angle`` (3, vertex in the middle) or ``area``
        (polygon) measurement; returns its uuid."""
        if kind not in MEASUREMENT_KINDS:
            raise LabelError(f"kind: {describe(kind)} is not one of {', '.join(MEASUREMENT_KINDS)}")
        pts = _point_list(points, "points")
        with self._lock:
            self.apply(
                AddMeasurement(
                    {"kind": kind, "plane": plane, "slice": slice, "points": pts, "label": label}
                )
            )
            last = self._history_last()
            assert isinstance(last, AddMeasurement)
            return str(last.measurement["uuid"])

    def delete_measurement(self, uuid: str) -> int:
        """Delete a measurement; returns the revision."""
        return self.apply(DeleteMeasurement(uuid))

    def set_measurement(self, uuid: str, *, points: Any = None, label: str | None = None) -> int:
        """Change a measurement's ``points`` and/or ``label`` (what dragging its points in the
        page does): it is replaced, same uuid and kind, in one undoable edit; returns the
        revision."""
        with self._lock:
            old = self._doc.measurements.get(uuid) if isinstance(uuid, str) else None
            if old is None:
                raise LabelError(f"uuid: unknown measurement {describe(uuid)}")
            if points is None and label is None:
                raise LabelError("set_measurement: nothing to change (give points or label)")
            pts = [list(p) for p in old.points] if points is None else _point_list(points, "points")
            new = {
                "uuid": old.uuid,
                "kind": old.kind,
                "plane": old.plane,
                "slice": old.slice,
                "points": pts,
                "label": old.label if label is None else label,
                "author": old.author,
                "created": old.created,  # the same measurement: its place in the order too
            }
            # checked first, so that an error names this call, not the edit's two steps
            parse_measurement(self._doc.series, new, "set_measurement")
            ops = (DeleteMeasurement(uuid), AddMeasurement(new))
            return self.apply(Batch(ops, label="change a measurement"))

    @property
    def measurements(self) -> list[Measurement]:
        """All measurements."""
        return list(self._doc.measurements.values())

    # ------------------------------------------------------------------ predictions

    def import_predictions(
        self,
        predictions: Any,
        *,
        source: str | None = None,
        confidence: float | None = None,
        plane: str = "axial",
    ) -> list[str]:
        """Import model predictions as pending objects (one edit, one undo step).

        Parameters
        ----------
        predictions
            A pandas DataFrame, a list of dicts, JSON text or a :class:`pathlib.Path`; see
            :mod:`dicom_annot_widget.labels.predictions` for the record fields.
        source
            Model name for records without a ``source``.
        confidence
            Confidence for records without one.
        plane
            Plane for records without one.

        Returns
        -------
        list of str
            Uuids of the created objects.

        Raises
        ------
        LabelError
            If any record is invalid (``predictions[7].box: ...``); nothing is imported.
        """
        ops = prediction_ops(
            self._doc, predictions, source=source, confidence=confidence, plane=plane
        )
        if not ops:
            return []
        with self._lock:
            self.apply(Batch(tuple(ops), label="import predictions"))
            last = self._history_last()
            assert isinstance(last, Batch)
            return [str(op.object["uuid"]) for op in last.ops if isinstance(op, CreateObject)]

    def _pending(
        self, uuids: str | Iterable[str] | None, feature: str | None, source: str | None
    ) -> list[LabelObject]:
        if uuids is not None:
            if not isinstance(uuids, str) and (
                not isinstance(uuids, Iterable) or isinstance(uuids, Mapping)
            ):
                raise TypeError(
                    f"uuids: expected a uuid string or a list of them (or the feature= / "
                    f"source= filters), got {describe(uuids)}"
                )
            chosen = [self.get(u) for u in ([uuids] if isinstance(uuids, str) else uuids)]
            for obj in chosen:
                if not obj.pending:
                    fail("uuids", f"object {obj.object_id} is not a pending prediction")
            if feature is not None or source is not None:
                fail("uuids", "give either uuids or feature/source filters, not both")
            return chosen
        return self.objects(feature, source=source, pending=True)

    def accept(
        self,
        uuids: str | Iterable[str] | None = None,
        *,
        feature: str | None = None,
        source: str | None = None,
    ) -> int:
        """Accept pending predictions: the given ones, those of a class / model, or all.

        Accepted objects keep their ``source`` (the model) and get ``review="accepted"``.
        One edit (one undo step). Returns how many were accepted.
        """
        chosen = self._pending(uuids, feature, source)
        if not chosen:
            return 0
        ops = tuple(UpdateObject(o.uuid, {"review": "accepted"}) for o in chosen)
        self.apply(Batch(ops, label="accept predictions"))
        return len(chosen)

    def reject(
        self,
        uuids: str | Iterable[str] | None = None,
        *,
        feature: str | None = None,
        source: str | None = None,
    ) -> int:
        """Reject (delete) pending predictions: the given ones, those of a class / model, or
        all. One edit (one undo step). Returns how many were rejected."""
        chosen = self._pending(uuids, feature, source)
        if not chosen:
            return 0
        self.apply(Batch(tuple(DeleteObject(o.uuid) for o in chosen), label="reject predictions"))
        return len(chosen)

    # ------------------------------------------------------------------ export

    def to_json(self, indent: int | None = None) -> str:
        """The labels as a ``dicom-annot/1`` document (see ``docs/labels.md``)."""
        with self._lock:
            return self._doc.to_json(indent=indent)

    def to_dict(self) -> dict[str, Any]:
        """The document as a dict (the parsed form of :meth:`to_json`)."""
        with self._lock:
            return self._doc.to_dict()

    def load_json(self, text: str | bytes) -> int:
        """Replace all labels by those of a ``dicom-annot/1`` document of the same series
        (one edit, so it can be undone). Returns the revision."""
        doc = LabelDocument.from_json(text)
        return self.apply(ReplaceDocument(doc.to_dict()))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (an export; edits keep going to the
        label file, if any). Returns the path."""
        target = Path(path)
        text = self.to_json().encode("utf-8")
        try:
            atomic_write(target, text)
        except OSError as exc:  # a missing folder, no permission, a full disk
            reason = exc.strerror or str(exc)
            raise LabelFileError(f"cannot save the labels to {target}: {reason}") from None
        return target

    def to_records(
        self, affine: Any = None, *, slice_positions: Any = None
    ) -> list[dict[str, Any]]:
        """One dict per object per keyframe; see :meth:`to_dataframe`."""
        return self._records(object_records, affine, slice_positions)

    def _records(
        self,
        make: Callable[[LabelDocument, PatientGeometry | None], list[dict[str, Any]]],
        affine: Any,
        slice_positions: Any,
    ) -> list[dict[str, Any]]:
        """``make(document, geometry)`` under the lock, the geometry from ``affine`` (default:
        the labels' own) and ``slice_positions``."""
        if affine is None:
            affine = self._geometry_source if self._geometry_source is not None else self._affine
        with self._lock:
            geometry = check_geometry(affine, slice_positions, self._doc.series.shape[0])
            return make(self._doc, geometry)

    def to_dataframe(self, affine: Any = None, *, slice_positions: Any = None) -> pandas.DataFrame:
        """One row per object per keyframe, in voxel and (with an affine) patient mm
        coordinates.

        Parameters
        ----------
        affine
            The opened series the labels belong to (its affine and the ImagePositionPatient
            of each slice), or a 4x4 matrix mapping ``(column, row, slice, 1)`` to patient
            LPS mm; default :attr:`affine`. Without one, or for a series without pixel
            spacing (``spacing_known`` False: a warning says so), the mm columns are ``None``.
        slice_positions
            Patient position (LPS mm) of voxel ``(0, 0, k)`` of every slice ``k`` (``None``
            where unknown: the affine places that slice), overriding the series' own. With
            positions, each point is placed through its own slice's position (and the affine's
            row and column directions and pixel spacing), so slices beyond a missing slice or
            unevenly spaced slices land where their headers say; a matrix alone places every
            slice at the same spacing.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`~dicom_annot_widget.labels.table.COLUMNS`: ids, class, plane,
            slice, manual, source, review, confidence, author, times, ``geometry`` (JSON
            form), ``points_voxel`` / ``points_mm`` (``(column, row, slice)`` / ``(x, y, z)``
            LPS), ``area_px`` / ``area_mm2``, ``length_px`` / ``length_mm`` and ``answers``
            (static + dynamic in force on that slice).

        Raises
        ------
        ImportError
            If pandas is not installed (use :meth:`to_records` instead).
        LabelError
            If the affine or the positions are malformed, or the positions do not match the
            number of slices.
        """
        return records_to_dataframe(self.to_records(affine, slice_positions=slice_positions))

    def measurements_to_records(
        self, affine: Any = None, *, slice_positions: Any = None, image: Any = None
    ) -> list[dict[str, Any]]:
        """One dict per measurement; see :meth:`measurements_to_dataframe`."""
        return self._image_records(measurement_records, affine, slice_positions, image)

    def _image_records(
        self,
        make: Callable[
            [LabelDocument, PatientGeometry | None, PlaneImage | None], list[dict[str, Any]]
        ],
        affine: Any,
        slice_positions: Any,
        image: Any,
    ) -> list[dict[str, Any]]:
        """``make(document, geometry, image)`` as :meth:`_records`, with the plane images of
        ``image`` (default: ``affine`` when it is a series, else the labels' own series)."""
        if image is None:
            image = affine if affine is not None else self._geometry_source
        planes = _plane_images(image, self._doc.series.shape)
        return self._records(
            lambda doc, geometry: make(doc, geometry, planes), affine, slice_positions
        )

    def measurements_to_dataframe(
        self, affine: Any = None, *, slice_positions: Any = None, image: Any = None
    ) -> pandas.DataFrame:
        """One row per measurement (distance, angle, area) with its value in pixels and, with
        an affine, in patient millimetres; an area also with statistics of the image inside.

        ``affine`` and ``slice_positions`` are as for :meth:`to_dataframe` (default: the
        series the labels belong to, when they know it). ``image``: the modality values to
        compute an area's ``pixels``, ``mean``, ``std``, ``min`` and ``max`` from (HU for
        CT): an opened series or a ``(slices, rows, columns)`` array; default ``affine`` when
        it is a series. The pixels are those whose centre lies inside the area, as the page
        counts them.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`~dicom_annot_widget.labels.table.MEASUREMENT_COLUMNS`: ``uuid``,
            ``kind``, ``label``, ``plane``, ``slice``, ``author``, ``created``,
            ``points_voxel`` / ``points_mm``, then the value: ``length_px`` / ``length_mm``
            (a distance), ``area_px`` / ``area_mm2`` and ``pixels``, ``mean``, ``std``,
            ``min``, ``max`` (an area) or ``angle_deg`` (an angle, measured in mm when it
            can be); the columns that do not apply are None.

        Raises
        ------
        ImportError
            If pandas is not installed (use :meth:`measurements_to_records` instead).
        LabelError
            As for :meth:`to_dataframe`.
        """
        rows = self.measurements_to_records(affine, slice_positions=slice_positions, image=image)
        return records_to_dataframe(rows, MEASUREMENT_COLUMNS)

    def statistics_to_records(
        self, affine: Any = None, *, slice_positions: Any = None, image: Any = None
    ) -> list[dict[str, Any]]:
        """One dict per region object; see :meth:`statistics_to_dataframe`."""
        return self._image_records(statistics_records, affine, slice_positions, image)

    def statistics_to_dataframe(
        self, affine: Any = None, *, slice_positions: Any = None, image: Any = None
    ) -> pandas.DataFrame:
        """Segment statistics: one row per mask, polygon or box track with its voxel count,
        volume (mm³ and mL) and the statistics of the image inside it, as Slicer's Segment
        Statistics reports them.

        The voxels are those of the object's keyframes (manual and interpolated) whose centre
        lies inside (the pixels the page draws); each counts with its own slice's thickness
        (the stack's spacing from the slice positions). Slices of a track with no keyframe
        count nothing: interpolate first (``slices_without_keyframe`` says how many).

        ``affine`` and ``slice_positions`` are as for :meth:`to_dataframe`; ``image`` as for
        :meth:`measurements_to_dataframe` (default: the series the labels belong to, when
        they know it).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`~dicom_annot_widget.labels.table.STATISTICS_COLUMNS`: ids, class,
            shape, plane, source, ``review`` (``"pending"`` / ``"accepted"`` for a model's
            predictions, None for manual labels), ``confidence``, ``first_slice`` /
            ``last_slice``, ``keyframes``,
            ``manual_keyframes``, ``slices_without_keyframe``, ``voxels``, ``volume_mm3``,
            ``volume_ml`` (None without pixel spacing), and ``mean``, ``std``, ``min``,
            ``median``, ``max`` of the modality values (None without an image).

        Raises
        ------
        ImportError
            If pandas is not installed (use :meth:`statistics_to_records` instead).
        LabelError
            As for :meth:`to_dataframe`, or if the image does not match the labels' series.
        """
        rows = self.statistics_to_records(affine, slice_positions=slice_positions, image=image)
        return records_to_dataframe(rows, STATISTICS_COLUMNS)


def _empty(answer: Any) -> bool:
    """None, an empty string or an empty list of options: 'no answer'."""
    return answer is None or (isinstance(answer, (str, list, tuple, set, frozenset)) and not answer)


_ADDER = {
    "bounding_box": "box",
    "polygon": "polygon",
    "polyline": "polyline",
    "point": "point",
    "primitive": "primitive",
    "bitmask": "mask",
}


def _point_list(points: Any, path: str) -> list[Any]:
    """``points`` (a sequence of (x, y), or an array) as a list of lists, for validation by
    the operation; a clear error for anything that is no sequence of points."""
    if hasattr(points, "tolist"):
        points = points.tolist()
    if not isinstance(points, (list, tuple)) or not all(
        isinstance(p, (list, tuple)) or hasattr(p, "tolist") for p in points
    ):
        raise LabelError(f"{path}: expected a list of (x, y) points, got {describe(points)}")
    return [p.tolist() if hasattr(p, "tolist") else list(p) for p in points]


def _is_series(value: Any) -> bool:
    """An opened series (its affine, its slices' positions and pixels), not a matrix."""
    return (
        not isinstance(value, (list, tuple, np.ndarray))
        and hasattr(value, "affine")
        and hasattr(value, "slice_positions")
        and hasattr(value, "get_slice")
    )


def _default_geometry(series: Any, affine: Any) -> Any:
    """The labels' default geometry: ``affine`` if given, else ``series`` when it is an opened
    series."""
    if affine is not None:
        return affine
    return series if _is_series(series) else None


def _plane_images(image: Any, shape: Sequence[int]) -> Callable[[str, int], Any] | None:
    """``image(plane, k)`` for a series (``get_slice``, ``array``) or a 3-D array of the
    labels' ``shape``; None for anything else that is no image (e.g. an affine matrix)."""
    if image is None:
        return None
    if hasattr(image, "get_slice") and hasattr(image, "shape"):
        if tuple(image.shape[:3]) != tuple(shape):
            raise LabelError(
                f"image: the series is {tuple(image.shape[:3])}, the labels {tuple(shape)}"
            )
        series = image
        return lambda plane, k: (
            series.get_slice(k) if plane == "axial" else _plane_image(series.array, plane, k)
        )
    array = np.asarray(image)
    if array.ndim == 2 and array.shape == (4, 4):
        return None  # an affine matrix, not an image
    if array.shape != tuple(shape):
        raise LabelError(f"image: expected an array of shape {tuple(shape)}, got {array.shape}")
    return lambda plane, k: _plane_image(array, plane, k)


def _plane_image(volume: npt.NDArray[Any], plane: str, k: int) -> npt.NDArray[Any]:
    """The plane image ``k`` of a ``(slices, rows, columns)`` volume (a view)."""
    if plane == "axial":
        return volume[k]
    if plane == "coronal":
        return volume[:, k, :]
    return volume[:, :, k]
