"""The ontology: which objects can be drawn and which questions can be answered about them.

An :class:`Ontology` holds

- **object classes** (:class:`ObjectClass`), each with a shape (``bounding_box``, ``polygon``,
  ``polyline``, ``point``, ``primitive`` — a skeleton template of named nodes and edges — or
  ``bitmask``), a colour, an optional hotkey ``"1"``..``"9"`` and the classifications attached
  to it, each either *static* (one answer per object) or *dynamic* (answers that change across
  slices, stored with slice ranges);
- **frame classifications**: questions about a slice as a whole, answered on slice ranges.

A classification (:class:`Classification`) is a ``radio`` (one option), a ``checklist``
(several options) or free ``text``; options can carry nested classifications, which are asked
only when the option is chosen. Every entry has a stable ``id`` that label documents refer to;
display ``name`` s can change freely.

Build one from a dict / JSON (:meth:`Ontology.from_dict`, :meth:`Ontology.from_json`) or with
the builder::

    ontology = (
        Ontology.builder()
        .object("Liver", shape="polygon", color="#e6194b")
        .radio("Phase", ["arterial", "venous"], dynamic=True)
        .object("Lesion", shape="bounding_box")
        .checklist("Findings", ["calcified", "necrotic"])
        .frame_radio("Quality", ["good", "motion", "noise"])
        .build()
    )

Invalid ontologies are refused with a :class:`~dicom_annot_widget.errors.LabelError` whose
message names the bad entry (``ontology.objects[1].classifications[0].options[2]: ...``).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from ..errors import DicomAnnotWarning, LabelError, caller_stacklevel
from ._check import (
    check_bool,
    check_float,
    check_id,
    check_keys,
    check_mapping,
    check_sequence,
    check_str,
    describe,
    fail,
    loads,
)

__all__ = [
    "CLASSIFICATION_TYPES",
    "EDGE_VISIBILITY",
    "SHAPES",
    "Answer",
    "Classification",
    "ObjectClass",
    "Ontology",
    "OntologyBuilder",
    "Option",
    "PrimitiveEdge",
    "PrimitiveNode",
]

SHAPES: tuple[str, ...] = ("bounding_box", "polygon", "polyline", "point", "primitive", "bitmask")
"""The shapes an object class can have."""

CLASSIFICATION_TYPES: tuple[str, ...] = ("radio", "checklist", "text")
"""The kinds of classification: one option, several options, free text."""

EDGE_VISIBILITY: tuple[str, ...] = ("visible", "occluded", "invisible")
"""The states of a primitive's edge in a keyframe."""

# Sasha Trubetskoy's 20 distinct colours (first 16), used when a class gives no colour.
PALETTE: tuple[str, ...] = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
)  # fmt: skip

_COLOR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")
_OPTION_HOTKEY = re.compile(r"[a-z0-9]\Z")
_CLASS_HOTKEYS = tuple(str(i) for i in range(1, 10))
_TEXT_MAX = 10_000

Answer = str | tuple[str, ...]
"""An answer: an option id (radio), a tuple of option ids (checklist) or a string (text)."""


@dataclass(frozen=True)
class Option:
    """One choice of a radio or checklist classification."""

    id: str
    name: str
    hotkey: str | None = None
    classifications: tuple[Classification, ...] = ()
    """Nested classifications, asked only when this option is chosen."""


@dataclass(frozen=True)
class Classification:
    """A question: ``radio`` (one option), ``checklist`` (several) or ``text``."""

    id: str
    name: str
    type: str
    options: tuple[Option, ...] = ()
    dynamic: bool = False
    """For object classifications: answers change across slices (stored with slice ranges)."""
    required: bool = False

    def option(self, key: str) -> Option | None:
        """The option with id ``key``, else the option named ``key``, else ``None``."""
        for option in self.options:
            if option.id == key:
                return option
        for option in self.options:
            if option.name == key:
                return option
        return None


@dataclass(frozen=True)
class PrimitiveNode:
    """A named node of a primitive (skeleton) template; ``position`` in the unit square."""

    id: str
    name: str
    position: tuple[float, float]


@dataclass(frozen=True)
class PrimitiveEdge:
    """An edge of a primitive template between two node ids."""

    source: str
    target: str


@dataclass(frozen=True)
class ObjectClass:
    """A kind of object that can be drawn (a *feature*), with its shape and classifications."""

    id: str
    name: str
    shape: str
    color: str
    hotkey: str | None = None
    classifications: tuple[Classification, ...] = ()
    nodes: tuple[PrimitiveNode, ...] = ()
    edges: tuple[PrimitiveEdge, ...] = ()

    @property
    def node_ids(self) -> tuple[str, ...]:
        """Ids of the primitive template's nodes, in template order."""
        return tuple(node.id for node in self.nodes)


@dataclass(frozen=True)
class _ClassificationInfo:
    classification: Classification
    owner: str | None  # object class id, or None for frame classifications
    parent: tuple[str, str] | None  # (parent classification id, option id) for nested ones
    root: str  # id of the top-level classification of this tree
    path: str


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _derive_id(entry: Mapping[str, Any], name: str, prefix: str, path: str) -> str:
    if "id" in entry:
        return check_id(entry["id"], f"{path}.id")
    slug = _slug(name)
    if not slug:
        fail(path, f"cannot derive an id from the name {name!r}; give an explicit 'id'")
    return check_id(f"{prefix}{slug}", f"{path}.id")


def _check_color(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        fail(path, f"{describe(value)} is not a colour; use '#rrggbb' (or '#rgb')")
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _parse_option(raw: Any, cid: str, owner: str | None, path: str) -> Option:
    if isinstance(raw, str):
        raw = {"name": raw}
    entry = check_mapping(raw, path)
    check_keys(entry, path, required=("name",), optional=("id", "hotkey", "classifications"))
    name = check_str(entry["name"], f"{path}.name")
    oid = _derive_id(entry, name, "", path)
    hotkey = entry.get("hotkey")
    if hotkey is not None and (not isinstance(hotkey, str) or not _OPTION_HOTKEY.match(hotkey)):
        fail(f"{path}.hotkey", f"{describe(hotkey)} is not a hotkey; use one of a-z or 0-9")
    nested = _parse_classifications(
        entry.get("classifications", []),
        owner,
        f"{cid}.{oid}.",
        f"{path}.classifications",
        nested=True,
    )
    return Option(id=oid, name=name, hotkey=hotkey, classifications=nested)


def _parse_classification(
    raw: Any, owner: str | None, prefix: str, path: str, *, nested: bool
) -> Classification:
    entry = check_mapping(raw, path)
    allowed = ["id", "options", "required"]
    if owner is not None and not nested:
        allowed.append("dynamic")
    check_keys(entry, path, required=("name", "type"), optional=allowed)
    name = check_str(entry["name"], f"{path}.name")
    cid = _derive_id(entry, name, prefix, path)
    ctype = entry["type"]
    if ctype not in CLASSIFICATION_TYPES:
        fail(
            f"{path}.type",
            f"{describe(ctype)} is not a classification type "
            f"(one of {', '.join(CLASSIFICATION_TYPES)})",
        )
    dynamic = check_bool(entry.get("dynamic", False), f"{path}.dynamic")
    required = check_bool(entry.get("required", False), f"{path}.required")
    options: tuple[Option, ...] = ()
    if ctype == "text":
        if entry.get("options"):
            fail(f"{path}.options", "a text classification has no options")
    else:
        raw_options = check_sequence(entry.get("options", []), f"{path}.options")
        if not raw_options:
            fail(f"{path}.options", f"a {ctype} classification needs at least one option")
        options = tuple(
            _parse_option(o, cid, owner, f"{path}.options[{i}]") for i, o in enumerate(raw_options)
        )
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for i, option in enumerate(options):
            if option.id in seen_ids:
                fail(
                    f"{path}.options[{i}]",
                    f"duplicate option id {option.id!r} (also options[{seen_ids[option.id]}])",
                )
            if option.name in seen_names:
                fail(
                    f"{path}.options[{i}]",
                    f"duplicate option name {option.name!r} "
                    f"(also options[{seen_names[option.name]}])",
                )
            seen_ids[option.id] = i
            seen_names[option.name] = i
    return Classification(
        id=cid, name=name, type=ctype, options=options, dynamic=dynamic, required=required
    )


def _parse_classifications(
    raw: Any, owner: str | None, prefix: str, path: str, *, nested: bool = False
) -> tuple[Classification, ...]:
    items = check_sequence(raw, path)
    return tuple(
        _parse_classification(c, owner, prefix, f"{path}[{i}]", nested=nested)
        for i, c in enumerate(items)
    )


def _parse_primitive(
    entry: Mapping[str, Any], path: str
) -> tuple[tuple[PrimitiveNode, ...], tuple[PrimitiveEdge, ...]]:
    raw_nodes = check_sequence(entry.get("nodes", []), f"{path}.nodes")
    if not raw_nodes:
        fail(f"{path}.nodes", "a primitive class needs at least one node in its template")
    nodes: list[PrimitiveNode] = []
    seen: dict[str, int] = {}
    count = len(raw_nodes)
    for i, raw in enumerate(raw_nodes):
        npath = f"{path}.nodes[{i}]"
        node = check_mapping({"name": raw} if isinstance(raw, str) else raw, npath)
        check_keys(node, npath, required=("name",), optional=("id", "position"))
        name = check_str(node["name"], f"{npath}.name")
        nid = _derive_id(node, name, "", npath)
        if nid in seen:
            fail(npath, f"duplicate node id {nid!r} (also nodes[{seen[nid]}])")
        seen[nid] = i
        if "position" in node:
            pos = check_sequence(node["position"], f"{npath}.position")
            if len(pos) != 2:
                fail(f"{npath}.position", "expected [x, y] in the unit square")
            x = check_float(pos[0], f"{npath}.position[0]")
            y = check_float(pos[1], f"{npath}.position[1]")
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                fail(f"{npath}.position", f"[{x}, {y}] is outside the unit square [0, 1]")
        else:  # spread the nodes on a circle
            angle = 2 * math.pi * i / count - math.pi / 2
            x = round(0.5 + 0.4 * math.cos(angle), 4) if count > 1 else 0.5
            y = round(0.5 + 0.4 * math.sin(angle), 4) if count > 1 else 0.5
        nodes.append(PrimitiveNode(id=nid, name=name, position=(x, y)))
    edges: list[PrimitiveEdge] = []
    pairs: set[frozenset[str]] = set()
    for i, raw in enumerate(check_sequence(entry.get("edges", []), f"{path}.edges")):
        epath = f"{path}.edges[{i}]"
        pair = check_sequence(raw, epath)
        if len(pair) != 2:
            fail(epath, f"an edge is a pair of node ids, got {describe(raw)}")
        for end in pair:
            if not isinstance(end, str) or end not in seen:
                fail(epath, f"edge to unknown node {describe(end)} (nodes: {', '.join(seen)})")
        if pair[0] == pair[1]:
            fail(epath, f"edge from node {pair[0]!r} to itself")
        key = frozenset(pair)
        if key in pairs:
            fail(epath, f"duplicate edge between {pair[0]!r} and {pair[1]!r}")
        pairs.add(key)
        edges.append(PrimitiveEdge(source=pair[0], target=pair[1]))
    return tuple(nodes), tuple(edges)


def _classification_to_dict(c: Classification, *, with_dynamic: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.id, "name": c.name, "type": c.type}
    if with_dynamic:
        out["dynamic"] = c.dynamic
    out["required"] = c.required
    if c.type != "text":
        out["options"] = [
            {
                "id": o.id,
                "name": o.name,
                "hotkey": o.hotkey,
                "classifications": [
                    _classification_to_dict(n, with_dynamic=False) for n in o.classifications
                ],
            }
            for o in c.options
        ]
    return out


class Ontology:
    """Validated, immutable set of object classes and classifications.

    Use :meth:`from_dict`, :meth:`from_json` or :meth:`builder` to create one.

    Parameters
    ----------
    objects
        The object classes.
    classifications
        The frame-level classifications.

    Raises
    ------
    LabelError
        If ids, names or hotkeys collide; the message names both entries.
    """

    def __init__(
        self,
        objects: Sequence[ObjectClass] = (),
        classifications: Sequence[Classification] = (),
    ) -> None:
        self._objects: tuple[ObjectClass, ...] = tuple(objects)
        self._frame: tuple[Classification, ...] = tuple(classifications)
        self._features: dict[str, ObjectClass] = {}
        self._feature_names: dict[str, ObjectClass] = {}
        self._hotkeys: dict[str, ObjectClass] = {}
        self._info: dict[str, _ClassificationInfo] = {}
        for i, cls in enumerate(self._objects):
            path = f"ontology.objects[{i}]"
            if cls.shape not in SHAPES:
                fail(f"{path}.shape", f"unknown shape {cls.shape!r} (one of {', '.join(SHAPES)})")
            for other, index, what in (
                (self._features.get(cls.id), cls.id, "id"),
                (self._feature_names.get(cls.name), cls.name, "name"),
                (self._hotkeys.get(cls.hotkey) if cls.hotkey else None, cls.hotkey, "hotkey"),
            ):
                if other is not None:
                    j = self._objects.index(other)
                    fail(
                        path,
                        f"{what} {index!r} of {cls.name!r} is already used by "
                        f"ontology.objects[{j}] ({other.name!r})",
                    )
            if cls.hotkey is not None and cls.hotkey not in _CLASS_HOTKEYS:
                fail(f"{path}.hotkey", f"{cls.hotkey!r} is not a class hotkey (use '1'..'9')")
            if cls.shape == "primitive" and not cls.nodes:
                fail(f"{path}.nodes", "a primitive class needs at least one node")
            if cls.shape != "primitive" and (cls.nodes or cls.edges):
                fail(f"{path}.nodes", f"only primitive classes have nodes, not {cls.shape!r}")
            self._features[cls.id] = cls
            self._feature_names[cls.name] = cls
            if cls.hotkey:
                self._hotkeys[cls.hotkey] = cls
            hotkeys: dict[str, str] = {}
            for j, c in enumerate(cls.classifications):
                self._register(c, cls.id, None, c.id, f"{path}.classifications[{j}]", hotkeys)
        frame_hotkeys: dict[str, str] = {}
        for j, c in enumerate(self._frame):
            if c.dynamic:
                fail(
                    f"ontology.classifications[{j}].dynamic",
                    "frame classifications are always answered on slice ranges; "
                    "'dynamic' applies to object classifications only",
                )
            self._register(c, None, None, c.id, f"ontology.classifications[{j}]", frame_hotkeys)
        # a digit option key that is also a class key: the page gives the key to the class
        # (QA 24a D8: '2' meant for class 2 answered the selected lesion's grade instead)
        shadowed = [
            f"{info.path}.options[{k}] ({o.name!r}) and class {self._hotkeys[o.hotkey].name!r}"
            for info in self._info.values()
            for k, o in enumerate(info.classification.options)
            if o.hotkey is not None and o.hotkey in self._hotkeys
        ]
        if shadowed:
            warnings.warn(
                "ontology: option hotkeys that are class hotkeys: "
                + "; ".join(shadowed)
                + ". In the widget the key chooses the class; give the options other keys",
                DicomAnnotWarning,
                stacklevel=caller_stacklevel(),
            )

    def _register(
        self,
        c: Classification,
        owner: str | None,
        parent: tuple[str, str] | None,
        root: str,
        path: str,
        hotkeys: dict[str, str],
    ) -> None:
        if c.id in self._info:
            fail(
                path,
                f"classification id {c.id!r} is already used by {self._info[c.id].path}; "
                "classification ids must be unique in the whole ontology",
            )
        if c.type not in CLASSIFICATION_TYPES:
            fail(f"{path}.type", f"unknown classification type {c.type!r}")
        if parent is not None and c.dynamic:
            root_dynamic = self._info[root].classification.dynamic
            if not root_dynamic:
                fail(f"{path}.dynamic", "nested classifications inherit 'dynamic' from the top")
        self._info[c.id] = _ClassificationInfo(c, owner, parent, root, path)
        for k, option in enumerate(c.options):
            opath = f"{path}.options[{k}]"
            if option.hotkey is not None:
                if option.hotkey in hotkeys:
                    fail(
                        f"{opath}.hotkey",
                        f"hotkey {option.hotkey!r} is already used by {hotkeys[option.hotkey]}",
                    )
                hotkeys[option.hotkey] = opath
            for m, nested in enumerate(option.classifications):
                self._register(
                    nested, owner, (c.id, option.id), root, f"{opath}.classifications[{m}]", hotkeys
                )

    # ------------------------------------------------------------------ construction

    @classmethod
    def builder(cls) -> OntologyBuilder:
        """Start an :class:`OntologyBuilder`."""
        return OntologyBuilder()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ontology:
        """Build and validate an ontology from its dict form.

        Parameters
        ----------
        data
            ``{"objects": [...], "classifications": [...]}``; see ``docs/labels.md``. Ids may
            be left out (they are derived from names), as may colours (taken from a palette)
            and class hotkeys (the first free of ``"1"``..``"9"``; ``"hotkey": null`` means
            none). :meth:`to_dict` writes them all out, so a saved ontology keeps its ids.

        Raises
        ------
        LabelError
            If an entry is invalid; the message gives its path, e.g.
            ``ontology.objects[2].shape: unknown shape 'circle'``.
        """
        root = check_mapping(data, "ontology")
        check_keys(root, "ontology", optional=("objects", "classifications"))
        raw_objects = check_sequence(root.get("objects", []), "ontology.objects")
        explicit_hotkeys: set[Any] = set()
        for raw in raw_objects:  # (any other hotkey is refused below, naming the class)
            if isinstance(raw, Mapping) and isinstance(raw.get("hotkey"), (str, int)):
                explicit_hotkeys.add(
                    str(raw["hotkey"]) if isinstance(raw["hotkey"], int) else raw["hotkey"]
                )
        free_hotkeys = [k for k in _CLASS_HOTKEYS if k not in explicit_hotkeys]
        objects: list[ObjectClass] = []
        for i, raw in enumerate(raw_objects):
            path = f"ontology.objects[{i}]"
            entry = check_mapping(raw, path)
            check_keys(
                entry,
                path,
                required=("name", "shape"),
                optional=("id", "color", "hotkey", "classifications", "nodes", "edges"),
            )
            name = check_str(entry["name"], f"{path}.name")
            oid = _derive_id(entry, name, "", path)
            shape = entry["shape"]
            if shape not in SHAPES:
                fail(
                    f"{path}.shape",
                    f"unknown shape {describe(shape)} (one of {', '.join(SHAPES)})",
                )
            color = (
                _check_color(entry["color"], f"{path}.color")
                if "color" in entry
                else PALETTE[i % len(PALETTE)]
            )
            if "hotkey" in entry:
                hotkey = entry["hotkey"]
                if isinstance(hotkey, int) and not isinstance(hotkey, bool):
                    hotkey = str(hotkey)
                if hotkey is not None and hotkey not in _CLASS_HOTKEYS:
                    fail(f"{path}.hotkey", f"{describe(hotkey)} is not a class hotkey ('1'..'9')")
            else:
                hotkey = free_hotkeys.pop(0) if free_hotkeys else None
            nodes: tuple[PrimitiveNode, ...] = ()
            edges: tuple[PrimitiveEdge, ...] = ()
            if shape == "primitive":
                nodes, edges = _parse_primitive(entry, path)
            elif "nodes" in entry or "edges" in entry:
                fail(path, f"only primitive classes have 'nodes' and 'edges', not {shape!r}")
            classifications = _parse_classifications(
                entry.get("classifications", []), oid, f"{oid}.", f"{path}.classifications"
            )
            objects.append(
                ObjectClass(
                    id=oid,
                    name=name,
                    shape=shape,
                    color=color,
                    hotkey=hotkey,
                    classifications=classifications,
                    nodes=nodes,
                    edges=edges,
                )
            )
        frame = _parse_classifications(
            root.get("classifications", []), None, "", "ontology.classifications"
        )
        return cls(objects, frame)

    @classmethod
    def from_json(cls, text: str | bytes) -> Ontology:
        """Parse :meth:`to_json` output (or any JSON in the dict form of :meth:`from_dict`)."""
        try:
            data = loads(text)
        except ValueError as exc:
            raise LabelError(f"ontology: not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The dict form, with every id, colour and hotkey written out."""
        objects: list[dict[str, Any]] = []
        for cls in self._objects:
            entry: dict[str, Any] = {
                "id": cls.id,
                "name": cls.name,
                "shape": cls.shape,
                "color": cls.color,
                "hotkey": cls.hotkey,
                "classifications": [
                    _classification_to_dict(c, with_dynamic=True) for c in cls.classifications
                ],
            }
            if cls.shape == "primitive":
                entry["nodes"] = [
                    {"id": n.id, "name": n.name, "position": [n.position[0], n.position[1]]}
                    for n in cls.nodes
                ]
                entry["edges"] = [[e.source, e.target] for e in cls.edges]
            objects.append(entry)
        return {
            "objects": objects,
            "classifications": [
                _classification_to_dict(c, with_dynamic=False) for c in self._frame
            ],
        }

    def to_json(self, indent: int | None = None) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    # ------------------------------------------------------------------ lookups

    @property
    def objects(self) -> tuple[ObjectClass, ...]:
        """The object classes, in order."""
        return self._objects

    @property
    def classifications(self) -> tuple[Classification, ...]:
        """The frame-level classifications, in order."""
        return self._frame

    def __iter__(self) -> Iterator[ObjectClass]:
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ontology):
            return NotImplemented
        return self._objects == other._objects and self._frame == other._frame

    def __hash__(self) -> int:
        return hash((self._objects, self._frame))

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self._objects[:8])
        more = ", ..." if len(self._objects) > 8 else ""
        return f"Ontology(objects=[{names}{more}], frame_classifications={len(self._frame)})"

    def feature(self, key: str) -> ObjectClass:
        """The object class with id, name or hotkey ``key``.

        Raises
        ------
        LabelError
            If no class matches.
        """
        found = self.find_feature(key)
        if found is None:
            known = ", ".join(repr(c.id) for c in self._objects) or "none"
            raise LabelError(f"unknown object class {describe(key)} (known: {known})")
        return found

    def find_feature(self, key: Any) -> ObjectClass | None:
        """Like :meth:`feature`, but ``None`` when nothing matches."""
        if not isinstance(key, str):
            return None
        return self._features.get(key) or self._feature_names.get(key) or self._hotkeys.get(key)

    def has_feature_id(self, feature_id: str) -> bool:
        return feature_id in self._features

    def classification(self, cid: str) -> Classification:
        """The classification (object, nested or frame-level) with id ``cid``."""
        info = self._info.get(cid)
        if info is None:
            raise LabelError(f"unknown classification {describe(cid)}")
        return info.classification

    def iter_classifications(self) -> Iterable[Classification]:
        """Every classification in the ontology, nested ones included."""
        return (info.classification for info in self._info.values())

    def classification_owner(self, cid: str) -> str | None:
        """Id of the object class ``cid`` belongs to, or ``None`` for frame classifications."""
        return self._info[cid].owner

    def classification_parent(self, cid: str) -> tuple[str, str] | None:
        """``(parent classification id, option id)`` for a nested classification, else None."""
        return self._info[cid].parent

    def classification_root(self, cid: str) -> str:
        """Id of the top-level classification of the tree ``cid`` belongs to."""
        return self._info[cid].root

    def is_dynamic(self, cid: str) -> bool:
        """Whether the object classification ``cid`` (or its top-level ancestor) is dynamic."""
        info = self._info[cid]
        return self._info[info.root].classification.dynamic

    def resolve_classification(self, key: Any, owner: str | None, path: str) -> str:
        """Id of the classification ``key`` (an id, or a name unique within ``owner``'s tree).

        ``owner`` is an object class id, or ``None`` for frame classifications.
        """
        if isinstance(key, str):
            info = self._info.get(key)
            if info is not None and info.owner == owner:
                return key
            matches = [
                cid
                for cid, i in self._info.items()
                if i.owner == owner and i.classification.name == key
            ]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                fail(
                    path,
                    f"classification name {key!r} is ambiguous ({', '.join(matches)}); use its id",
                )
        where = f"object class {owner!r}" if owner else "the frame classifications"
        known = [cid for cid, i in self._info.items() if i.owner == owner]
        fail(
            path,
            f"unknown classification {describe(key)} for {where} "
            f"(known: {', '.join(known) or 'none'})",
        )

    def normalize_answer(self, cid: str, value: Any, path: str, *, by_name: bool = True) -> Answer:
        """Check ``value`` as an answer to classification ``cid`` and return its stored form.

        Radio: an option id (or name, if ``by_name``). Checklist: a non-empty list of option
        ids/names, returned as a tuple in ontology order. Text: a non-empty string.
        """
        c = self.classification(cid)
        if c.type == "text":
            return check_str(value, path, max_len=_TEXT_MAX)
        if c.type == "radio":
            return self._option_id(c, value, path, by_name)
        if isinstance(value, str):
            fail(path, f"a checklist answer is a list of options, got {describe(value)}")
        items = check_sequence(list(value) if isinstance(value, (set, frozenset)) else value, path)
        if not items:
            fail(path, "a checklist answer needs at least one option (clear it instead)")
        chosen = {self._option_id(c, v, f"{path}[{i}]", by_name) for i, v in enumerate(items)}
        return tuple(o.id for o in c.options if o.id in chosen)

    @staticmethod
    def _option_id(c: Classification, value: Any, path: str, by_name: bool) -> str:
        if isinstance(value, str):
            for option in c.options:
                if option.id == value:
                    return value
            if by_name:
                for option in c.options:
                    if option.name == value:
                        return option.id
        options = ", ".join(repr(o.id) for o in c.options)
        fail(path, f"{describe(value)} is not an option of {c.id!r} (options: {options})")

    def answer_selects(self, cid: str, answer: Answer, option_id: str) -> bool:
        """Whether ``answer`` to ``cid`` chooses ``option_id`` (so its nested ones apply)."""
        if isinstance(answer, tuple):
            return option_id in answer
        return answer == option_id and self.classification(cid).type == "radio"


class OntologyBuilder:
    """Fluent builder for :class:`Ontology`; classification methods attach to the last object.

    Examples
    --------
    >>> onto = (Ontology.builder()
    ...         .object("Liver", shape="polygon", color="#e6194b")
    ...         .radio("Phase", ["arterial", "venous"], dynamic=True)
    ...         .frame_radio("Quality", ["good", "bad"])
    ...         .build())
    >>> onto.feature("Liver").hotkey
    '1'
    """

    def __init__(self) -> None:
        self._objects: list[dict[str, Any]] = []
        self._frame: list[dict[str, Any]] = []

    def object(
        self,
        name: str,
        shape: str,
        *,
        id: str | None = None,
        color: str | None = None,
        hotkey: str | int | EllipsisType | None = ...,
        nodes: Sequence[str | Mapping[str, Any]] | None = None,
        edges: Sequence[Sequence[str]] | None = None,
    ) -> OntologyBuilder:
        """Add an object class. ``hotkey=...`` (default) picks the first free of 1-9."""
        entry: dict[str, Any] = {"name": name, "shape": shape}
        if id is not None:
            entry["id"] = id
        if color is not None:
            entry["color"] = color
        if hotkey is not ...:
            entry["hotkey"] = hotkey
        if nodes is not None:
            entry["nodes"] = list(nodes)
        if edges is not None:
            entry["edges"] = [list(e) for e in edges]
        self._objects.append(entry)
        return self

    def _attach(self, entry: dict[str, Any]) -> OntologyBuilder:
        if not self._objects:
            raise LabelError(
                f"classification {entry['name']!r}: call .object(...) first, or use "
                ".frame_radio/.frame_checklist/.frame_text for frame classifications"
            )
        self._objects[-1].setdefault("classifications", []).append(entry)
        return self

    @staticmethod
    def _entry(
        name: str,
        ctype: str,
        options: Sequence[str | Mapping[str, Any]] | None,
        id: str | None,
        required: bool,
        dynamic: bool | None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name, "type": ctype, "required": required}
        if id is not None:
            entry["id"] = id
        if options is not None:
            entry["options"] = list(options)
        if dynamic is not None:
            entry["dynamic"] = dynamic
        return entry

    def radio(
        self,
        name: str,
        options: Sequence[str | Mapping[str, Any]],
        *,
        id: str | None = None,
        dynamic: bool = False,
        required: bool = False,
    ) -> OntologyBuilder:
        """Attach a radio classification to the last object class.

        Options are names, or dicts ``{"name", "id"?, "hotkey"?, "classifications"?}`` whose
        ``classifications`` (dicts as in :meth:`Ontology.from_dict`) are nested.
        """
        return self._attach(self._entry(name, "radio", options, id, required, dynamic))

    def checklist(
        self,
        name: str,
        options: Sequence[str | Mapping[str, Any]],
        *,
        id: str | None = None,
        dynamic: bool = False,
        required: bool = False,
    ) -> OntologyBuilder:
        """Attach a checklist classification to the last object class."""
        return self._attach(self._entry(name, "checklist", options, id, required, dynamic))

    def text(
        self, name: str, *, id: str | None = None, dynamic: bool = False, required: bool = False
    ) -> OntologyBuilder:
        """Attach a free-text classification to the last object class."""
        return self._attach(self._entry(name, "text", None, id, required, dynamic))

    def frame_radio(
        self,
        name: str,
        options: Sequence[str | Mapping[str, Any]],
        *,
        id: str | None = None,
        required: bool = False,
    ) -> OntologyBuilder:
        """Add a frame-level radio classification."""
        self._frame.append(self._entry(name, "radio", options, id, required, None))
        return self

    def frame_checklist(
        self,
        name: str,
        options: Sequence[str | Mapping[str, Any]],
        *,
        id: str | None = None,
        required: bool = False,
    ) -> OntologyBuilder:
        """Add a frame-level checklist classification."""
        self._frame.append(self._entry(name, "checklist", options, id, required, None))
        return self

    def frame_text(
        self, name: str, *, id: str | None = None, required: bool = False
    ) -> OntologyBuilder:
        """Add a frame-level free-text classification."""
        self._frame.append(self._entry(name, "text", None, id, required, None))
        return self

    def to_dict(self) -> dict[str, Any]:
        """The dict that :meth:`build` validates."""
        return {"objects": list(self._objects), "classifications": list(self._frame)}

    def build(self) -> Ontology:
        """Validate and return the :class:`Ontology`."""
        return Ontology.from_dict(self.to_dict())
