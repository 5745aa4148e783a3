"""Keyframe geometry: boxes, polygons, polylines, points, primitives and mask slices.

Coordinates are *plane* coordinates ``(u, v)`` in voxels of the series, pixel centres at
integers, so a plane image of ``width x height`` pixels covers ``[-0.5, width - 0.5] x
[-0.5, height - 0.5]``. How ``(u, v, slice)`` maps to the volume's ``(column, row, slice)``
depends on the plane (see :func:`plane_to_voxel`).

All geometry classes are immutable. Validation is strict: finite coordinates inside the image,
polygons with at least 3 distinct vertices and a non-zero area, boxes with a non-zero area,
polylines with at least 2 distinct vertices, primitives with every template node, non-empty
masks of the plane's size.

Masks are stored as run lengths: ``uint32`` little-endian counts, alternating background and
foreground runs starting with background (the first count may be 0), over the plane image in
row-major order (``v`` then ``u``), base64-encoded. The counts add up to ``width * height``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import dataclasses
import itertools
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from ._check import (
    check_float,
    check_keys,
    check_mapping,
    check_sequence,
    describe,
    fail,
    is_finite,
)
from .ontology import EDGE_VISIBILITY, ObjectClass

__all__ = [
    "PLANES",
    "Box",
    "Geometry",
    "Mask",
    "Point",
    "Polygon",
    "Polyline",
    "Primitive",
    "decode_mask",
    "encode_mask",
    "geometry_from_value",
    "parse_geometry",
    "parse_stored_geometries",
    "plane_to_voxel",
]

PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")
"""The planes an object can be drawn in."""

_AREA_EPS = 1e-9

MAX_VERTICES = 50_000
"""The most vertices one new polygon, polyline or skeleton may have (the page's tools send at
most 20,000 points a stroke; a label file read back is not held to it)."""

DECIMALS = 3
"""New coordinates are rounded to this many decimals (1/1000 voxel): plenty for annotation,
and it keeps label files small and fast to read and write."""

Coord = tuple[float, float]
_PAIR_TYPES = frozenset({list, tuple})
_NUMBER_TYPES = frozenset({float, int})
_FLOAT_TYPE = frozenset({float})


def plane_to_voxel(plane: str, u: float, v: float, s: float) -> tuple[float, float, float]:
    """Map plane coordinates ``(u, v)`` on slice ``s`` to volume ``(column, row, slice)``.

    ========  ==========  ===========  ===========
    plane     u           v            slice index
    ========  ==========  ===========  ===========
    axial     column      row          slice
    coronal   column      slice        row
    sagittal  row         slice        column
    ========  ==========  ===========  ===========

    So a coronal plane image is ``volume[:, row, :]`` (shape ``(slices, columns)``) and a
    sagittal one ``volume[:, :, column]`` (shape ``(slices, rows)``), as NumPy slices them.
    """
    if plane == "axial":
        return (u, v, s)
    if plane == "coronal":
        return (u, s, v)
    return (s, u, v)


def _shoelace(points: Sequence[Coord]) -> float:
    return _area_xy([p[0] for p in points], [p[1] for p in points])


def ring_area(points: Sequence[Coord]) -> float:
    """Area (square pixels) of the closed ring ``points`` (shoelace formula; either winding)."""
    return _shoelace(points)


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned bounding box ``[x0, x1] x [y0, y1]`` with ``x0 < x1``, ``y0 < y1``."""

    x0: float
    y0: float
    x1: float
    y1: float
    shape: ClassVar[str] = "bounding_box"

    def to_json(self) -> dict[str, Any]:
        return {"box": [self.x0, self.y0, self.x1, self.y1]}

    @property
    def vertices(self) -> tuple[Coord, ...]:
        """The two defining corners ``(x0, y0)``, ``(x1, y1)``."""
        return ((self.x0, self.y0), (self.x1, self.y1))

    @property
    def corners(self) -> tuple[Coord, ...]:
        """The four corners, clockwise on screen from the top left."""
        return ((self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1))

    @property
    def area(self) -> float:
        """Area in square pixels."""
        return (self.x1 - self.x0) * (self.y1 - self.y0)


class _VertexList:
    """Shared by :class:`Polygon` and :class:`Polyline`: an immutable list of vertices.

    The vertices are held either as given (``points``, a tuple of ``(x, y)``) or, for
    geometry read from a document, as a read-only ``(N, 2)`` float64 array: building hundreds
    of thousands of Python tuples and floats (and freeing them again) is most of the cost of
    loading a big document, so ``points`` is only made on first use (then kept). Both forms
    compare, hash, print and serialise alike.
    """

    __slots__ = ("_points", "_text", "_xy")
    __match_args__ = ("points",)
    shape: ClassVar[str]
    _points: tuple[Coord, ...] | None
    _xy: npt.NDArray[np.float64] | None
    _text: Any
    """Where the vertices were read from (an object with a ``fragment(index)`` method and the
    index, see :class:`~._vertices.VertexTable`), then the JSON text to write for them (an
    ``orjson.Fragment``), or False if there is none: None for built geometry."""

    def __init__(self, points: tuple[Coord, ...]) -> None:
        object.__setattr__(self, "_points", points)
        object.__setattr__(self, "_xy", None)
        object.__setattr__(self, "_text", None)

    @classmethod
    def _from_xy(cls, xy: npt.NDArray[np.float64], text: Any = None) -> Any:
        """Wrap a read-only C-contiguous ``(N, 2)`` float64 array (not copied); ``text``: see
        ``_text``."""
        obj = cls.__new__(cls)
        _set_points(obj, None)
        _set_xy(obj, xy)
        _set_text(obj, text)
        return obj

    @classmethod
    def _many_from_xy(
        cls, rings: Sequence[npt.NDArray[np.float64]], texts: Iterable[Any]
    ) -> list[Any]:
        """:meth:`_from_xy` of each ring with its text, at once: a document has thousands, and
        mapping the slots' own setters over all of them (C calls, no Python frame each) takes
        a fraction of the time of a call each. The objects are the same."""
        n = len(rings)
        columns = (itertools.repeat(None, n), rings, texts)
        return _filled(cls, n, (_set_points, _set_xy, _set_text), columns)

    @property
    def points(self) -> tuple[Coord, ...]:
        """The vertices as a tuple of ``(x, y)`` float pairs."""
        points = self._points
        if points is None:
            assert self._xy is not None
            points = tuple(map(tuple, self._xy.tolist()))
            object.__setattr__(self, "_points", points)
        return points

    @property
    def xy(self) -> npt.NDArray[np.float64]:
        """The vertices as a read-only ``(N, 2)`` float64 array (no copy after the first)."""
        xy = self._xy
        if xy is None:
            xy = np.array(self._points, dtype=np.float64).reshape(-1, 2)
            xy.setflags(write=False)
            object.__setattr__(self, "_xy", xy)
        return xy

    @property
    def vertices(self) -> tuple[Coord, ...]:
        return self.points

    def _json_points(self) -> Any:
        """The vertices in the form :func:`~._check.dumps` writes fastest: the text they were
        read from when that is exactly what would be written, else the tuples if made, else
        the array."""
        text = self._text
        if type(text) is tuple:
            source, index = text
            text = source.fragment(index)
            if text is None:
                text = False
            _set_text(self, text)
        if text is not None and text is not False:
            return text
        return self._points if self._points is not None else self._xy

    def to_json(self) -> dict[str, Any]:
        if self._points is None:
            assert self._xy is not None
            return {"points": self._xy.tolist()}
        return {"points": [[x, y] for x, y in self._points]}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _VertexList)
        if self._points is None and other._points is None:
            return bool(np.array_equal(self.xy, other.xy))
        return self.points == other.points

    def __hash__(self) -> int:
        return hash((self.points,))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(points={self.points!r})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.points,))


# the slots' own setters: faster than object.__setattr__ for the many geometries of a document
_set_points: Any = vars(_VertexList)["_points"].__set__
_set_xy: Any = vars(_VertexList)["_xy"].__set__
_set_text: Any = vars(_VertexList)["_text"].__set__


def _consume(calls: Iterator[Any]) -> None:
    """Run an iterator of calls (such as ``map(setter, objects, values)``) for their effect."""
    collections.deque(calls, maxlen=0)


_T = TypeVar("_T")


def _instances(cls: type[_T], n: int, *columns: Iterable[Any]) -> list[_T]:
    """``cls(*row)`` for each of the ``n`` rows of ``columns`` (one per field) of values
    already valid, at once, for a frozen dataclass with slots, no defaults needed and no
    ``__post_init__`` (such as :class:`Box` or a keyframe).

    A document has thousands of these, and mapping the slots' own setters over all of them
    (C calls, no Python frame each) takes a fraction of the time of ``__init__`` each. The
    objects are the same, and as immutable: the setters bypass only the frozen
    ``__setattr__``, as the dataclass's own ``__init__`` does.
    """
    setters = _SLOT_SETTERS.get(cls)
    if setters is None:  # the setters of the slots of its fields, in field order
        setters = tuple(vars(cls)[f.name].__set__ for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        _SLOT_SETTERS[cls] = setters
    return _filled(cls, n, setters, columns)


def _filled(
    cls: type[_T], n: int, setters: Sequence[Any], columns: Sequence[Iterable[Any]]
) -> list[_T]:
    """``n`` new ``cls`` objects, without ``__init__``, each slot set by mapping its setter
    over its column of values (see :func:`_instances`)."""
    objs = list(map(object.__new__, itertools.repeat(cls, n)))
    for setter, column in zip(setters, columns, strict=True):
        _consume(map(setter, objs, column))
    return objs


_SLOT_SETTERS: dict[type, tuple[Any, ...]] = {}


class Polygon(_VertexList):
    """Closed polygon (the last vertex connects to the first; not repeated).

    ``points`` is a tuple of ``(x, y)``; :attr:`xy` gives the same as an ``(N, 2)`` array.
    """

    __slots__ = ()
    shape: ClassVar[str] = "polygon"

    @property
    def area(self) -> float:
        """Area in square pixels (shoelace formula)."""
        return _shoelace(self.points)


class Polyline(_VertexList):
    """Open polyline.

    ``points`` is a tuple of ``(x, y)``; :attr:`xy` gives the same as an ``(N, 2)`` array.
    """

    __slots__ = ()
    shape: ClassVar[str] = "polyline"

    @property
    def length(self) -> float:
        """Length in pixels."""
        return sum(math.dist(a, b) for a, b in itertools.pairwise(self.points))


@dataclass(frozen=True, slots=True)
class Point:
    """A keypoint."""

    x: float
    y: float
    shape: ClassVar[str] = "point"

    def to_json(self) -> dict[str, Any]:
        return {"point": [self.x, self.y]}

    @property
    def vertices(self) -> tuple[Coord, ...]:
        return ((self.x, self.y),)


@dataclass(frozen=True, slots=True)
class Primitive:
    """A placed skeleton template: one position per template node, one state per edge."""

    node_ids: tuple[str, ...]
    positions: tuple[Coord, ...]
    edges: tuple[str, ...]
    """Per template edge: ``"visible"``, ``"occluded"`` or ``"invisible"``."""
    shape: ClassVar[str] = "primitive"

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": {
                nid: [x, y] for nid, (x, y) in zip(self.node_ids, self.positions, strict=True)
            },
            "edges": list(self.edges),
        }

    @property
    def vertices(self) -> tuple[Coord, ...]:
        return self.positions

    @property
    def nodes(self) -> dict[str, Coord]:
        """Node id -> position."""
        return dict(zip(self.node_ids, self.positions, strict=True))


@dataclass(frozen=True, slots=True)
class Mask:
    """One slice of a bitmask object, run-length encoded (see the module docstring)."""

    rle: str
    width: int
    height: int
    area: int = field(compare=False)
    """Number of foreground pixels."""
    shape: ClassVar[str] = "bitmask"

    def to_json(self) -> dict[str, Any]:
        return {"mask": self.rle}

    @property
    def vertices(self) -> tuple[Coord, ...]:
        return ()

    def to_array(self) -> npt.NDArray[np.bool_]:
        """The slice as a boolean array of shape ``(height, width)``."""
        return decode_mask(self.rle, self.height, self.width)

    @classmethod
    def from_array(cls, mask: Any, path: str = "mask") -> Mask:
        """Encode a 2D array (non-zero = foreground) of shape ``(height, width)``."""
        array = np.asarray(mask)
        if array.ndim != 2:
            fail(path, f"expected a 2D array, got shape {array.shape}")
        if array.dtype != np.bool_:
            if not (np.issubdtype(array.dtype, np.integer) or array.dtype.kind == "f"):
                fail(path, f"expected a boolean or numeric array, got dtype {array.dtype}")
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                fail(path, "the mask contains NaN or infinite values")
            array = array != 0
        height, width = array.shape
        rle, area = encode_mask(array)
        return cls(rle=rle, width=int(width), height=int(height), area=area)


Geometry = Box | Polygon | Polyline | Point | Primitive | Mask
"""Any keyframe geometry."""

GEOMETRY_TYPES: dict[str, type] = {
    "bounding_box": Box,
    "polygon": Polygon,
    "polyline": Polyline,
    "point": Point,
    "primitive": Primitive,
    "bitmask": Mask,
}

GEOMETRY_KEYS: dict[str, tuple[str, ...]] = {
    "bounding_box": ("box",),
    "polygon": ("points",),
    "polyline": ("points",),
    "point": ("point",),
    "primitive": ("nodes", "edges"),
    "bitmask": ("mask",),
}


# ---------------------------------------------------------------------------- masks


def encode_mask(mask: npt.NDArray[np.bool_]) -> tuple[str, int]:
    """Run-length encode a boolean 2D array; returns ``(base64 text, foreground count)``."""
    flat = np.ascontiguousarray(mask, dtype=np.bool_).ravel()
    if flat.size == 0:
        return "", 0
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds)
    if flat[0]:
        runs = np.concatenate(([0], runs))
    area = int(runs[1::2].sum())
    return base64.b64encode(runs.astype("<u4").tobytes()).decode("ascii"), area


def _mask_runs(rle: Any, height: int, width: int, path: str) -> npt.NDArray[np.uint32]:
    if not isinstance(rle, str):
        fail(path, f"expected a base64 string of run lengths, got {describe(rle)}")
    try:
        raw = base64.b64decode(rle, validate=True)
    except (binascii.Error, ValueError):
        fail(path, "is not valid base64")
    if len(raw) % 4:
        fail(path, f"decodes to {len(raw)} bytes, not a whole number of uint32 run lengths")
    runs = np.frombuffer(raw, dtype="<u4")
    total = int(runs.sum(dtype=np.uint64))
    if total != height * width:
        fail(
            path,
            f"run lengths add up to {total} pixels, but the plane image has "
            f"{height} x {width} = {height * width}",
        )
    return runs


def decode_mask(rle: str, height: int, width: int) -> npt.NDArray[np.bool_]:
    """Decode :func:`encode_mask` output to a boolean array of shape ``(height, width)``."""
    runs = _mask_runs(rle, height, width, "mask")
    values = (np.arange(runs.size) % 2).astype(np.bool_)
    return np.repeat(values, runs.astype(np.intp)).reshape(height, width)


# ---------------------------------------------------------------------------- parsing


def _slow_coord(p: Any, path: str, width: int, height: int) -> Coord:
    pair = check_sequence(p, path)
    if len(pair) != 2:
        fail(path, f"expected [x, y], got {describe(p)}")
    x = check_float(pair[0], f"{path}[0]")
    y = check_float(pair[1], f"{path}[1]")
    _check_inside(x, y, path, width, height)
    return (x, y)


def _check_inside(x: float, y: float, path: str, width: int, height: int) -> None:
    if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5):
        fail(
            path,
            f"({x}, {y}) lies outside the image [-0.5, {width - 0.5}] x [-0.5, {height - 0.5}]",
        )


def _fast_xy(seq: Sequence[Any], width: int, height: int) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of a list of ``[x, y]`` number pairs inside the image, or ``([], [])`` if
    anything is off (then the slow path finds and names the culprit)."""
    if not seq or not set(map(type, seq)) <= _PAIR_TYPES or set(map(len, seq)) != {2}:
        return [], []
    flat = list(itertools.chain.from_iterable(seq))
    types = set(map(type, flat))
    if not types <= _NUMBER_TYPES:  # strings, None, bools...
        return [], []
    if int in types:
        try:
            flat = [float(v) for v in flat]
        except OverflowError:  # an integer beyond any float
            return [], []
    if not math.isfinite(sum(flat)):  # NaN or inf somewhere
        return [], []
    xs = flat[0::2]
    ys = flat[1::2]
    if min(xs) < -0.5 or max(xs) > width - 0.5 or min(ys) < -0.5 or max(ys) > height - 0.5:
        return [], []
    return xs, ys


def _coords_xy(
    raw: Any, path: str, width: int, height: int, quantize: bool = False
) -> tuple[list[float], list[float]]:
    seq = check_sequence(raw, path)
    if quantize and len(seq) > MAX_VERTICES:
        fail(
            path,
            f"{len(seq):,} vertices is more than the {MAX_VERTICES:,} a shape may have (every "
            "edit sends the labels to the page); simplify the outline (e.g. "
            "skimage.measure.approximate_polygon) or give it as a mask",
        )
    xs, ys = _fast_xy(seq, width, height)
    if not xs:  # find the culprit and say what is wrong with it
        pairs = [_slow_coord(p, f"{path}[{i}]", width, height) for i, p in enumerate(seq)]
        xs = [p[0] for p in pairs]
        ys = [p[1] for p in pairs]
    if quantize:
        xs = [round(v, DECIMALS) for v in xs]
        ys = [round(v, DECIMALS) for v in ys]
    return xs, ys


def _coords(raw: Any, path: str, width: int, height: int, quantize: bool = False) -> list[Coord]:
    """Validate a list of ``[x, y]`` pairs inside the image; optionally round to
    :data:`DECIMALS` decimals (new input is rounded, stored documents are read as they are)."""
    xs, ys = _coords_xy(raw, path, width, height, quantize)
    return list(zip(xs, ys, strict=True))


def _area_xy(xs: list[float], ys: list[float]) -> float:
    total = sum(map(operator.mul, xs, ys[1:] + ys[:1])) - sum(
        map(operator.mul, xs[1:] + xs[:1], ys)
    )
    return abs(total) / 2.0


def _dedupe(points: list[Coord], closed: bool) -> tuple[Coord, ...]:
    if any(map(operator.eq, points, points[1:])):
        points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if closed:
        while len(points) > 1 and points[-1] == points[0]:
            points = points[:-1]
    return tuple(points)


def _polygon(raw: Any, path: str, width: int, height: int, q: bool = False) -> Polygon:
    xs, ys = _coords_xy(raw, path, width, height, q)
    # repeated vertices change neither the area nor the shape; fewer than 3 distinct give 0
    if _area_xy(xs, ys) <= _AREA_EPS:
        distinct = len(set(zip(xs, ys, strict=True)))
        if distinct < 3:
            fail(path, f"a polygon needs at least 3 distinct vertices, got {distinct}")
        # a bow-tie's two lobes cancel: not collinear (QA 24a: said so all the same)
        x0, y0 = xs[0], ys[0]
        far = max(range(len(xs)), key=lambda i: (xs[i] - x0) ** 2 + (ys[i] - y0) ** 2)
        dx, dy = xs[far] - x0, ys[far] - y0
        reach = math.hypot(dx, dy) or 1.0
        collinear = all(
            abs(dx * (ys[i] - y0) - dy * (xs[i] - x0)) / reach <= 1e-6 for i in range(len(xs))
        )
        fail(
            path,
            "the polygon has zero area (its vertices are collinear)"
            if collinear
            else "the polygon has zero area: it crosses itself and its parts cancel (a "
            "'bow-tie'); draw each part as a polygon of its own",
        )
    return Polygon(_dedupe(list(zip(xs, ys, strict=True)), closed=True))


def _polyline(raw: Any, path: str, width: int, height: int, q: bool = False) -> Polyline:
    points = _dedupe(_coords(raw, path, width, height, q), closed=False)
    distinct = len(set(points))
    if distinct < 2:
        fail(path, f"a polyline needs at least 2 distinct vertices, got {distinct}")
    return Polyline(points)


def _box(raw: Any, path: str, width: int, height: int, q: bool = False) -> Box:
    values = check_sequence(raw, path)
    if (
        len(values) == 4
        and set(map(type, values)) <= _NUMBER_TYPES
        and all(map(is_finite, values))
        and min(values[0], values[2]) >= -0.5
        and max(values[0], values[2]) <= width - 0.5
        and min(values[1], values[3]) >= -0.5
        and max(values[1], values[3]) <= height - 0.5
    ):  # fast path: four plain finite numbers inside the image
        x0, y0, x1, y1 = (float(v) for v in values)
    elif len(values) == 2 and all(isinstance(v, (list, tuple)) for v in values):
        (a, b) = _coords(values, path, width, height, q)
        x0, y0, x1, y1 = a[0], a[1], b[0], b[1]
    else:
        if len(values) != 4:
            fail(path, f"a box is [x0, y0, x1, y1], got {describe(raw)}")
        x0, y0, x1, y1 = (check_float(v, f"{path}[{i}]") for i, v in enumerate(values))
        _check_inside(x0, y0, path, width, height)
        _check_inside(x1, y1, path, width, height)
    if q:
        x0, y0, x1, y1 = (round(v, DECIMALS) for v in (x0, y0, x1, y1))
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if (x1 - x0) * (y1 - y0) <= _AREA_EPS:
        fail(path, f"the box [{x0}, {y0}, {x1}, {y1}] has zero area")
    return Box(x0, y0, x1, y1)


def _primitive(
    cls: ObjectClass, nodes: Any, edges: Any, path: str, width: int, height: int, q: bool = False
) -> Primitive:
    ids = cls.node_ids
    if isinstance(nodes, Mapping):
        missing = [n for n in ids if n not in nodes]
        if missing:
            fail(f"{path}.nodes", f"missing node {', '.join(map(repr, missing))} of {cls.id!r}")
        unknown = [n for n in nodes if n not in ids]
        if unknown:
            fail(
                f"{path}.nodes",
                f"unknown node {', '.join(map(repr, unknown))} (template: {', '.join(ids)})",
            )
        ordered = [nodes[n] for n in ids]
    else:
        ordered = list(check_sequence(nodes, f"{path}.nodes"))
        if len(ordered) != len(ids):
            fail(
                f"{path}.nodes",
                f"expected {len(ids)} node positions ({', '.join(ids)}), got {len(ordered)}",
            )
    positions = tuple(
        _slow_coord(p, f"{path}.nodes[{n!r}]", width, height)
        for n, p in zip(ids, ordered, strict=True)
    )
    if q:
        positions = tuple((round(x, DECIMALS), round(y, DECIMALS)) for x, y in positions)
    if edges is None:
        states = tuple("visible" for _ in cls.edges)
    else:
        raw_states = check_sequence(edges, f"{path}.edges")
        if len(raw_states) != len(cls.edges):
            fail(
                f"{path}.edges",
                f"expected one state per template edge ({len(cls.edges)}), got {len(raw_states)}",
            )
        for i, state in enumerate(raw_states):
            if state not in EDGE_VISIBILITY:
                fail(
                    f"{path}.edges[{i}]",
                    f"{describe(state)} is not an edge state ({', '.join(EDGE_VISIBILITY)})",
                )
        states = tuple(raw_states)
    return Primitive(node_ids=ids, positions=positions, edges=states)


def _point(raw: Any, path: str, width: int, height: int, q: bool = False) -> Point:
    x, y = _slow_coord(raw, path, width, height)
    if q:
        x, y = round(x, DECIMALS), round(y, DECIMALS)
    return Point(x, y)


#: The last mask text found valid, as ``(text, width, height, area)``: an edit's geometry is
#: checked when it is stamped and again when it is applied, and decoding a speckled 2048 x 2048
#: mask's text takes about 10 ms. Matched by identity (the same ``str`` object), so a text
#: is never taken for another one that happens to be equal.
_last_mask: tuple[str, int, int, int] | None = None


def _mask(raw: Any, path: str, width: int, height: int) -> Mask:
    global _last_mask
    last = _last_mask
    if last is not None and last[0] is raw and last[1] == width and last[2] == height:
        return Mask(rle=raw, width=width, height=height, area=last[3])
    runs = _mask_runs(raw, height, width, path)
    area = int(runs[1::2].sum(dtype=np.uint64))
    if area == 0:
        fail(path, "the mask slice is empty (delete the keyframe instead)")
    _last_mask = (raw, width, height, area)
    return Mask(rle=raw, width=width, height=height, area=area)


def _flat_numbers(values: list[Any], width: int) -> list[float] | None:
    """Concatenate equal-length lists of plain floats, or None if anything is off."""
    if not values or not set(map(type, values)) <= _PAIR_TYPES or set(map(len, values)) != {width}:
        return None
    flat = list(itertools.chain.from_iterable(values))
    if not set(map(type, flat)) <= _FLOAT_TYPE:
        return None  # ints, bools, strings, nested lists...: the slow path converts or names them
    return flat


def _inside(xy: npt.NDArray[np.float64], width: int, height: int) -> bool:
    """All ``(x, y)`` rows finite and inside the image (NaN fails every comparison)."""
    x = xy[:, 0]
    y = xy[:, 1]
    return bool(
        x.min() >= -0.5 and x.max() <= width - 0.5 and y.min() >= -0.5 and y.max() <= height - 0.5
    )


def rings_as_stored(
    xy: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
    closed: Any,
    width: Any,
    height: Any,
) -> npt.NDArray[np.bool_]:
    """Which of many vertex lists are valid exactly as stored, checked at once with NumPy.

    Ring ``i`` is ``xy[starts[i] : starts[i] + counts[i]]``; the rings must follow each other
    and cover ``xy`` (``starts[0] == 0``, no gaps). ``closed`` (polygon, else polyline),
    ``width`` and ``height`` (of the plane image) are scalars or one value per ring.

    A ring passes when it has at least 3 (closed) or 2 vertices, all finite and inside the
    image, no vertex equal to the next one (for a closed ring the last one wraps to the first)
    and, if closed, an area clearly above zero. A ring that fails may still be valid (with
    repeated vertices, which :func:`parse_geometry` drops, or a tiny area): such rings go
    through :func:`parse_geometry`, which decides exactly and names any problem.
    """
    m = len(counts)
    if m == 0:
        return np.ones(0, dtype=np.bool_)
    closed_r = np.broadcast_to(np.asarray(closed, dtype=np.bool_), (m,))
    ok = counts >= np.where(closed_r, 3, 2)
    if not ok.all():
        return ok  # some ring is too short: reduceat needs non-empty rings, so stop here
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    w = np.broadcast_to(np.asarray(width, dtype=np.float64) - 0.5, (m,))
    h = np.broadcast_to(np.asarray(height, dtype=np.float64) - 0.5, (m,))
    # whole rings at a time, about _RING_CHUNK vertices: the temporary arrays stay in the cache
    firsts = np.searchsorted(starts, np.arange(0, len(xy), _RING_CHUNK)).tolist()
    firsts = [*dict.fromkeys(firsts), m]  # (a ring longer than a chunk starts one only)
    with np.errstate(invalid="ignore", over="ignore"):  # rings with NaN or inf fail anyway
        for a, b in itertools.pairwise(firsts):
            if a == b:
                continue
            v0 = int(starts[a])
            v1 = int(starts[b]) if b < m else len(xy)
            part = slice(a, b)
            _check_rings(
                xy[v0:v1],
                starts[part] - v0,
                counts[part],
                closed_r[part],
                w[part],
                h[part],
                ok[part],
            )
    return ok


_RING_CHUNK = 1 << 15
"""Vertices :func:`rings_as_stored` checks in one go."""


def _check_rings(
    xy: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
    closed_r: npt.NDArray[np.bool_],
    w: npt.NDArray[np.float64],
    h: npt.NDArray[np.float64],
    ok: npt.NDArray[np.bool_],
) -> None:
    """:func:`rings_as_stored` for consecutive rings covering ``xy`` (``starts[0] == 0``), with
    ``w`` and ``h`` the largest ``x`` and ``y`` inside: clears ``ok`` of the rings that fail."""
    x = xy[:, 0]
    y = xy[:, 1]
    if not (  # NaN fails every comparison
        x.min() >= -0.5 and y.min() >= -0.5 and x.max() <= w.min() and y.max() <= h.min()
    ):  # not all inside the smallest image: look ring by ring
        ok &= np.minimum.reduceat(x, starts) >= -0.5
        ok &= np.maximum.reduceat(x, starts) <= w
        ok &= np.minimum.reduceat(y, starts) >= -0.5
        ok &= np.maximum.reduceat(y, starts) <= h
    _repeats_and_areas(xy, starts, counts, closed_r, ok)


def _repeats_and_areas(
    xy: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
    closed_r: npt.NDArray[np.bool_],
    ok: npt.NDArray[np.bool_],
) -> None:
    """The rest of :func:`_check_rings`: clear ``ok`` of rings with a vertex equal to the
    next one, and of closed rings with (nearly) no area."""
    x = xy[:, 0]
    y = xy[:, 1]
    last = starts + counts - 1
    first = starts
    # a vertex equal to the next one (a closed ring's last vertex is followed by its first)
    z = xy.view(np.complex128).reshape(-1)  # x + iy: equal exactly when x and y both are
    same = np.empty(len(z), dtype=np.bool_)
    np.equal(z[1:], z[:-1], out=same[:-1])
    same[last] = (z[last] == z[first]) & closed_r  # a polyline's ends may coincide
    if same.any():  # repeated vertices: the slow path drops them
        ok &= ~np.logical_or.reduceat(same, starts)
    if closed_r.any():  # twice the signed area, by the shoelace formula
        cross = np.empty(len(z))
        np.subtract(x[:-1] * y[1:], x[1:] * y[:-1], out=cross[:-1])
        cross[last] = x[last] * y[first] - x[first] * y[last]
        area = np.abs(np.add.reduceat(cross, starts)) / 2.0
        ok &= ~closed_r | (area > 1e3 * _AREA_EPS)  # (nearly) degenerate: decide one by one


def _batch_point_lists(
    raws: list[Any], closed: bool, width: int, height: int
) -> list[npt.NDArray[np.float64]] | None:
    """Vertex arrays of many stored polygons (``closed``) or polylines validated at once with
    NumPy, or None if any of them needs the per-geometry path (which names the problem, or
    removes repeated vertices)."""
    if not set(map(type, raws)) <= _PAIR_TYPES:
        return None
    lengths = np.fromiter(map(len, raws), dtype=np.intp, count=len(raws))
    if lengths.min() < (3 if closed else 2):
        return None
    pairs = list(itertools.chain.from_iterable(raws))
    flat = _flat_numbers(pairs, 2)
    if flat is None:
        return None
    xy = np.fromiter(flat, dtype=np.float64, count=len(flat)).reshape(-1, 2)
    xy.setflags(write=False)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    if not rings_as_stored(xy, starts, lengths, closed, width, height).all():
        return None
    return [xy[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _batch_boxes(raws: list[Any], width: int, height: int) -> list[Box] | None:
    flat = _flat_numbers(raws, 4)
    if flat is None:
        return None
    b = np.array(flat, dtype=np.float64).reshape(-1, 4)
    if not (_inside(b[:, 0:2], width, height) and _inside(b[:, 2:4], width, height)):
        return None
    if (
        not ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) > 1e3 * _AREA_EPS).all()
        or not ((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])).all()
    ):  # corners in another order, or (nearly) no area: one by one
        return None
    return _instances(Box, len(raws), flat[0::4], flat[1::4], flat[2::4], flat[3::4])


def _batch_points(raws: list[Any], width: int, height: int) -> list[Point] | None:
    flat = _flat_numbers(raws, 2)
    if flat is None or not _inside(np.array(flat).reshape(-1, 2), width, height):
        return None
    return _instances(Point, len(raws), flat[0::2], flat[1::2])


def parse_stored_geometries(
    cls: ObjectClass, raws: list[Any], width: int, height: int
) -> list[Geometry] | None:
    """Validate many stored geometry values of class ``cls`` at once (the values under
    ``"points"``, ``"box"`` or ``"point"``, as read from a document; not rounded).

    A fast path for loading documents: it returns None whenever any value needs more than
    the common case (ints, repeated vertices, reversed box corners, or anything invalid), and
    the caller then parses each with :func:`parse_geometry`, which gives the same result or
    names the problem.
    """
    if not raws:
        return []
    shape = cls.shape
    if shape == "polygon":
        rings = _batch_point_lists(raws, True, width, height)
        return None if rings is None else Polygon._many_from_xy(rings, itertools.repeat(None))
    if shape == "polyline":
        lines = _batch_point_lists(raws, False, width, height)
        return None if lines is None else Polyline._many_from_xy(lines, itertools.repeat(None))
    if shape == "bounding_box":
        return _batch_boxes(raws, width, height)  # type: ignore[return-value]
    if shape == "point":
        return _batch_points(raws, width, height)  # type: ignore[return-value]
    return None


def parse_geometry(
    cls: ObjectClass,
    data: Mapping[str, Any],
    width: int,
    height: int,
    path: str,
    quantize: bool = False,
) -> Geometry:
    """Validate the JSON form of a geometry (``{"box": ...}``, ``{"points": ...}``...).

    ``data`` may also hold ``"manual"`` (ignored here); any other key is refused. With
    ``quantize``, coordinates are rounded to :data:`DECIMALS` decimals (done for new input,
    not when reading a stored document).
    """
    data = check_mapping(data, path)
    shape = cls.shape
    keys = GEOMETRY_KEYS[shape]
    if shape == "primitive":
        check_keys(data, path, required=("nodes",), optional=("edges", "manual"))
    else:
        check_keys(data, path, required=keys, optional=("manual",))
    if shape == "polygon":
        return _polygon(data["points"], f"{path}.points", width, height, quantize)
    if shape == "bounding_box":
        return _box(data["box"], f"{path}.box", width, height, quantize)
    if shape == "polyline":
        return _polyline(data["points"], f"{path}.points", width, height, quantize)
    if shape == "point":
        return _point(data["point"], f"{path}.point", width, height, quantize)
    if shape == "primitive":
        return _primitive(cls, data["nodes"], data.get("edges"), path, width, height, quantize)
    return _mask(data["mask"], f"{path}.mask", width, height)


def mask_slice(value: Any, width: int, height: int, path: str = "mask") -> Mask:
    """A 2D array (non-zero = inside) as the :class:`Mask` of one plane image of ``width`` x
    ``height``; empty is allowed (the caller decides what an empty one means)."""
    mask = Mask.from_array(value, path)
    if (mask.height, mask.width) != (height, width):
        fail(
            path,
            f"mask slice has shape ({mask.height}, {mask.width}), the plane image is "
            f"({height}, {width})",
        )
    return mask


def geometry_from_value(
    cls: ObjectClass, value: Any, width: int, height: int, path: str, quantize: bool = True
) -> Geometry:
    """Accept the friendly Python forms of a geometry for class ``cls`` and validate them.

    - any :data:`Geometry` instance of the right shape, or its JSON form (a dict);
    - ``bounding_box``: ``(x0, y0, x1, y1)`` or ``((x0, y0), (x1, y1))``;
    - ``polygon`` / ``polyline``: a sequence of ``(x, y)`` or an ``(N, 2)`` array;
    - ``point``: ``(x, y)``;
    - ``primitive``: ``{node_id: (x, y)}`` or positions in template order;
    - ``bitmask``: a 2D array of shape ``(height, width)``, non-zero = inside.

    Coordinates are rounded to :data:`DECIMALS` decimals unless ``quantize`` is False.
    """
    shape = cls.shape
    if isinstance(value, (Box, Polygon, Polyline, Point, Primitive, Mask)):
        if value.shape != shape:
            fail(path, f"a {value.shape} geometry cannot be used for {cls.id!r}, a {shape} class")
        return parse_geometry(cls, value.to_json(), width, height, path, quantize)
    if isinstance(value, Mapping) and (
        shape != "primitive" or ("nodes" in value and set(value) <= {"nodes", "edges", "manual"})
    ):
        return parse_geometry(cls, value, width, height, path, quantize)
    if shape == "bounding_box":
        return _box(value, path, width, height, quantize)
    if shape == "polygon":
        return _polygon(value, path, width, height, quantize)
    if shape == "polyline":
        return _polyline(value, path, width, height, quantize)
    if shape == "point":
        return _point(value, path, width, height, quantize)
    if shape == "primitive":
        return _primitive(cls, value, None, path, width, height, quantize)
    if isinstance(value, str):
        return _mask(value, path, width, height)
    mask = mask_slice(value, width, height, path)
    if mask.area == 0:
        fail(path, "the mask slice is empty (delete the keyframe instead)")
    return mask
