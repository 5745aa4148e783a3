"""What each label value (NIfTI) or segment number (DICOM SEG) of an export stands for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..labels import LabelObject, Labels
from .masks import ExportError, SkippedObject

__all__ = ["BY", "Legend", "LegendEntry", "check_by", "group_objects"]

BY = ("class", "object")


def check_by(by: Any) -> str:
    """``by`` must be ``"class"`` or ``"object"``."""
    if not isinstance(by, str) or by not in BY:
        raise ExportError(f"by: expected 'class' or 'object', got {by!r}")
    return by


@dataclass(frozen=True)
class LegendEntry:
    """One label value / segment.

    Attributes
    ----------
    value
        The NIfTI label value, or the DICOM SEG segment number.
    feature, name, color
        Object class id, name and ``#rrggbb`` colour from the ontology.
    uuids, object_ids
        The objects drawn with this value (one with ``by="object"``).
    object_names
        The names users gave those objects (``None`` for an unnamed one).
    """

    value: int
    feature: str
    name: str
    color: str
    uuids: tuple[str, ...]
    object_ids: tuple[int, ...]
    object_names: tuple[str | None, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "value": self.value,
            "feature": self.feature,
            "name": self.name,
            "color": self.color,
            "uuids": list(self.uuids),
            "object_ids": list(self.object_ids),
            "object_names": list(self.object_names),
        }


@dataclass(frozen=True)
class Legend:
    """The legend of an export: entries by value, and the objects left out.

    ``legend[value]`` gives the :class:`LegendEntry`; iterate for all of them.

    Attributes
    ----------
    by
        ``"class"`` (one value per object class) or ``"object"`` (one per object).
    entries
        In value order (values start at 1; 0 is background in NIfTI).
    skipped
        Objects without area (points, polylines, primitives) and pending predictions that
        were left out.
    overlap_voxels
        Voxels claimed by more than one value. In NIfTI the later object won them; a DICOM
        SEG keeps them in every segment that claims them (segments may overlap).
    """

    by: str
    entries: tuple[LegendEntry, ...]
    skipped: tuple[SkippedObject, ...] = ()
    overlap_voxels: int = 0

    def __getitem__(self, value: int) -> LegendEntry:
        for entry in self.entries:
            if entry.value == value:
                return entry
        raise KeyError(value)

    def __iter__(self) -> Iterator[LegendEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def value_of(self, key: str) -> int:
        """The value of an object uuid (either mode) or a class id / name (``by="class"``)."""
        for entry in self.entries:
            if key in entry.uuids or (self.by == "class" and key in (entry.feature, entry.name)):
                return entry.value
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "by": self.by,
            "entries": [e.to_dict() for e in self.entries],
            "skipped": [s.to_dict() for s in self.skipped],
            "overlap_voxels": self.overlap_voxels,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict` (save it beside the image)."""
        return json.dumps(self.to_dict(), indent=indent)


def group_objects(
    labels: Labels, objects: list[LabelObject], by: str
) -> list[tuple[LegendEntry, list[LabelObject]]]:
    """Entries (values 1..n) and their objects: classes in ontology order, or objects in
    object_id order."""
    out: list[tuple[LegendEntry, list[LabelObject]]] = []
    if by == "object":
        for i, obj in enumerate(objects, start=1):
            cls = labels.ontology.feature(obj.feature)
            entry = LegendEntry(
                i, cls.id, cls.name, cls.color, (obj.uuid,), (obj.object_id,), (obj.name,)
            )
            out.append((entry, [obj]))
        return out
    by_feature: dict[str, list[LabelObject]] = {}
    for obj in objects:
        by_feature.setdefault(obj.feature, []).append(obj)
    order = [c.id for c in labels.ontology.objects if c.id in by_feature]
    order += [f for f in by_feature if f not in order]
    for i, feature in enumerate(order, start=1):
        cls = labels.ontology.feature(feature)
        members = by_feature[feature]
        entry = LegendEntry(
            i,
            cls.id,
            cls.name,
            cls.color,
            tuple(o.uuid for o in members),
            tuple(o.object_id for o in members),
            tuple(o.name for o in members),
        )
        out.append((entry, members))
    return out
