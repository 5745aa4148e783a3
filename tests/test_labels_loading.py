"""Loading big documents: vertex lists are cut out of the text and read as arrays
(dicom_annot_widget/labels/_vertices.py). Whatever the text, the result must be what the plain
path (parse everything, then validate) gives: the same document, or the same error."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import re
from collections.abc import Callable

import numpy as np
import orjson
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import (
    Box,
    Keyframe,
    LabelDocument,
    Labels,
    Ontology,
    Point,
    Polygon,
    Polyline,
    _vertices,
    document,
    geometry,
)
from dicom_annot_widget.labels.geometry import rings_as_stored

SERIES = {"series_instance_uid": "1.2.826.0.1.3680043.8.498.5", "shape": [120, 64, 96]}
SLICES = 80  # more vertex lists than the fast path's minimum


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "polygon")
        .checklist("Findings", ["cyst", "mass"])
        .object("Vessel", "polyline")
        .object("Lesion", "bounding_box")
        .frame_radio("Quality", ["good", "bad"])
        .build()
    )


def ring(k: int, n: int = 12) -> list[tuple[float, float]]:
    r = 10 + 5 * math.sin(k / 7)
    return [
        (40 + r * math.cos(2 * math.pi * i / n), 30 + 0.8 * r * math.sin(2 * math.pi * i / n))
        for i in range(n)
    ]


def big_text() -> str:
    labels = Labels(SERIES, ontology(), author="ana")
    liver = labels.add_polygon("Liver", 0, ring(0))
    for k in range(1, SLICES):
        labels.add_polygon("Liver", k, ring(k), uuid=liver, manual=k % 3 == 0)
    labels.set_static(liver, "Findings", ["mass"])
    vessel = labels.add_polyline("Vessel", 2, [(1, 1), (30, 20), (1, 1)], plane="coronal")
    labels.add_polyline("Vessel", 3, [(1, 2), (30, 21)], uuid=vessel)
    labels.add_box("Lesion", 4, (2, 3, 8, 9.5))
    labels.set_frame_classification("Quality", "bad", 2, 5)
    labels.add_measurement("area", 3, [(1, 1), (4, 5), (9, 1)], label="a1")
    labels.add_measurement("distance", 7, [(1, 1), (4, 5)], label="d1")
    return labels.to_json()


TEXT = big_text()


def plain(text: str) -> LabelDocument | str:
    """What the plain path gives: the document, or the error message."""
    try:
        try:
            data = document.loads(text)  # orjson, or the standard library for NaN literals
        except ValueError:
            return "invalid JSON"
        return LabelDocument.from_dict(data)
    except LabelError as exc:
        return str(exc)


def loaded(text: str) -> LabelDocument | str:
    try:
        return LabelDocument.from_json(text)
    except LabelError as exc:
        return "invalid JSON" if "invalid JSON" in str(exc) else str(exc)


def assert_same(doc: LabelDocument, ref: LabelDocument) -> None:
    assert doc.same_content(ref) and ref.same_content(doc)
    assert doc.to_json() == ref.to_json()
    for uid, obj in doc.objects.items():
        other = ref.objects[uid]
        for k, kf in obj.keyframes.items():
            assert kf == other.keyframes[k]
            assert kf.geometry.vertices == other.keyframes[k].geometry.vertices
            assert all(type(c) is float for v in kf.geometry.vertices for c in v)


def test_compact_documents_take_the_fast_path_and_load_like_the_plain_path() -> None:
    split = _vertices.split_vertex_lists(TEXT)
    assert split is not None
    skeleton, table = split
    assert b'"points":[[' not in skeleton  # every vertex list was cut out, measurements' too
    assert table.size == SLICES + 2 + 2
    assert document._from_split_text(LabelDocument, TEXT, None) is not None
    for text in (TEXT, TEXT.encode()):
        doc = LabelDocument.from_json(text)
        ref = plain(TEXT)
        assert isinstance(ref, LabelDocument)
        assert_same(doc, ref)
        assert doc.to_json() == TEXT  # saving writes the same text back
    # the document keeps the vertices as arrays until asked for tuples
    doc = LabelDocument.from_json(TEXT)
    liver = next(o for o in doc.objects.values() if o.feature == "liver")
    g = liver.keyframes[6].geometry  # a manual one (interpolated ones were redrawn)
    assert isinstance(g, Polygon) and g._points is None
    assert g.xy.shape == (12, 2) and not g.xy.flags.writeable
    assert g.points == tuple((round(x, 3), round(y, 3)) for x, y in ring(6))


def test_measurements_in_a_fast_loaded_document() -> None:
    doc = LabelDocument.from_json(TEXT)
    points = sorted(m.points for m in doc.measurements.values())
    assert points == [((1.0, 1.0), (4.0, 5.0)), ((1.0, 1.0), (4.0, 5.0), (9.0, 1.0))]


def _replace_ring(new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = orjson.loads(text)
        liver = next(o for o in data["objects"] if o["feature"] == "liver")
        old = orjson.dumps(liver["keyframes"]["40"]["points"]).decode()
        assert text.count(old) == 1
        return text.replace(old, new)

    return edit


VARIANTS: dict[str, Callable[[str], str]] = {
    "ints": _replace_ring("[[10,10],[30,10],[30,25],[10,25]]"),
    "exponents": _replace_ring("[[1e1,1E1],[3.0e1,10],[30,2.5e+1],[10,25e0]]"),
    "negative zero": _replace_ring("[[-0.0,-0],[30,0],[30,25]]"),
    "trailing zero": _replace_ring("[[10.50,10.0],[30.0,10.0],[30.0,25.0]]"),
    "not the shortest digits": _replace_ring(
        "[[0.1000000000000000055511151231257827,10.0],[30.0,10.0],[30.0,25.0]]"
    ),
    "tiny": _replace_ring("[[0.000001,10.0],[30.0,10.0],[30.0,25.0]]"),
    "17 digits": _replace_ring("[[0.30000000000000004,10.0],[30.0,10.0],[30.0,25.0]]"),
    "repeated vertex": _replace_ring("[[10.0,10.0],[10.0,10.0],[30.0,10.0],[30.0,25.0]]"),
    "closing vertex repeated": _replace_ring("[[10.0,10.0],[30.0,10.0],[30.0,25.0],[10.0,10.0]]"),
    "outside": _replace_ring("[[10.0,10.0],[95.6,10.0],[30.0,25.0]]"),
    "below -0.5": _replace_ring("[[10.0,-0.6],[30.0,10.0],[30.0,25.0]]"),
    "collinear": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,9.0]]"),
    "two vertices": _replace_ring("[[1.0,1.0],[5.0,5.0]]"),
    "one vertex": _replace_ring("[[1.0,1.0]]"),
    "three numbers": _replace_ring("[[1.0,1.0,2.0],[5.0,5.0],[9.0,1.0]]"),
    "nested deeper": _replace_ring("[[[1.0,1.0]],[5.0,5.0],[9.0,1.0]]"),
    "number after ]": _replace_ring("[[1.0,1.0]5,[5.0,5.0],[9.0,1.0]]"),
    "number before [": _replace_ring("[[1.0,1.0],5[5.0,5.0],[9.0,1.0]]"),
    "number between [[": _replace_ring("[5[1.0,1.0],[5.0,5.0],[9.0,1.0]]"),
    "number after ]]": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,1.0]5]"),
    "negative zero decimals": _replace_ring("[[-0.0,10.0],[30.0,-0.0],[30.0,25.0],[0.0,0.5]]"),
    "number moved after ]": _replace_ring("[[1.0,]1.0,[5.0,5.0],[9.0,1.0]]"),
    "int moved after ]": _replace_ring("[[1,]1,[5,5],[9,1]]"),
    "int moved before [": _replace_ring("[[1,1],5[,5],[9,1]]"),
    "int moved after ]]": _replace_ring("[[1,1],[5,5],[9,]]1"),
    "decimal after ]": _replace_ring("[[1.0,1.0]5.5,[,5.0],[9.0,1.0]]"),
    "decimal between [[": _replace_ring("[5.5[1.0,1.0],[,5.0],[9.0,1.0]]"),
    "decimal after ]]": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,]5.5]"),
    "decimal before [": _replace_ring("[[1.0,1.0],5.5[,5.0],[9.0,1.0]]"),
    "two points": _replace_ring("[[1.0.5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "two points, one number short": _replace_ring("[[1.0.5,],[5.0,5.0],[9.0,1.0]]"),
    "minus inside": _replace_ring("[[1.0,1-0.5],[5.0,5.0],[9.0,1.0]]"),
    "minus at the end": _replace_ring("[[1.5-,1.0],[5.0,5.0],[9.0,1.0]]"),
    "minus after the point": _replace_ring("[[1.-5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "negative leading zero": _replace_ring("[[-01.5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "two leading zeros": _replace_ring("[[00.5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "no digit before the point": _replace_ring("[[.5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "minus point": _replace_ring("[[-.5,1.0],[5.0,5.0],[9.0,1.0]]"),
    "a point alone": _replace_ring("[[.,1.0],[5.0,5.0],[9.0,1.0]]"),
    "six and six digits": _replace_ring("[[12.123456,10.654321],[30.000001,10.5],[30.25,25.125]]"),
    "seven digits after the point": _replace_ring("[[12.1234567,10.0],[30.0,10.0],[30.0,25.0]]"),
    "six digits before the point": _replace_ring("[[123456.5,10.0],[30.0,10.0],[30.0,25.0]]"),
    "seven digits before the point": _replace_ring("[[1234567.5,10.0],[30.0,10.0],[30.0,25.0]]"),
    "negative, six digits before": _replace_ring("[[-123456.5,10.0],[30.0,10.0],[30.0,25.0]]"),
    "trailing zeros, fast": _replace_ring("[[10.500000,10.0],[30.10,10.0],[30.0,25.0]]"),
    "a letter": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,1.x]]"),
    "a colon": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,1:0]]"),
    "empty number": _replace_ring("[[,1.0],[5.0,5.0],[9.0,1.0]]"),
    "leading zero": _replace_ring("[[01.0,1.0],[5.0,5.0],[9.0,1.0]]"),
    "bare dot": _replace_ring("[[1.,1.0],[5.0,5.0],[9.0,1.0]]"),
    "double minus": _replace_ring("[[--1.0,1.0],[5.0,5.0],[9.0,1.0]]"),
    "huge exponent": _replace_ring("[[1e999,1.0],[5.0,5.0],[9.0,1.0]]"),
    "huge int": _replace_ring("[[1" + "0" * 30 + ",1.0],[5.0,5.0],[9.0,1.0]]"),
    "NaN": _replace_ring("[[NaN,1.0],[5.0,5.0],[9.0,1.0]]"),
    "string": _replace_ring('[["1.0",1.0],[5.0,5.0],[9.0,1.0]]'),
    "true": _replace_ring("[[true,1.0],[5.0,5.0],[9.0,1.0]]"),
    "spaces inside": _replace_ring("[[1.0, 1.0], [9.0, 1.0], [9.0, 7.0]]"),
    "not a list": _replace_ring("5"),
    "unclosed": lambda t: t[: t.index('"points":[[', len(t) // 2)] + '"points":[[1.0,2.0],[3.0',
    "not closed before the next list": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,1.0]"),
    "empty list": _replace_ring("[[]]"),
    "empty pair": _replace_ring("[[],[5.0,5.0],[9.0,1.0]]"),
    "a list inside": _replace_ring("[[1.0,1.0],[[5.0,5.0],[9.0,1.0]]]"),
    "newline and tab for brackets": _replace_ring("[[1.0,1.0\n,\t5.0,5.0],[9.0,1.0]]"),
    "newline and tab beside brackets": _replace_ring("[[1.0,1.0]\n,\t[5.0,5.0],[9.0,1.0]]"),
    "space for a bracket": _replace_ring("[[1.0,1.0 , 5.0,5.0],[9.0,1.0]]"),
    "carriage return": _replace_ring("[[1.0,1.0],[5.0,5.0],[9.0,1.0\r]]"),
    "exponent with a point": _replace_ring("[[1.5e1,10.0],[30.0,10.0],[30.0,25.0]]"),
    "plus without exponent": _replace_ring("[[+1.5,10.0],[30.0,10.0],[30.0,25.0]]"),
    "indented": lambda t: orjson.dumps(orjson.loads(t), option=orjson.OPT_INDENT_2).decode(),
    "the placeholder a list would get": _replace_ring("40"),  # list 40 is this one
    "points on a box": lambda t: t.replace('"box":[', '"points":[[1.0,2.0],[3.0,4.0]],"x":[', 1),
    "points key inside a string key": lambda t: t.replace(
        '"static":{', '"static":{"x\\"points":[[1.0,2.0],[3.0,4.0]],', 1
    ),
    "points inside a string": lambda t: t.replace(
        '"author":"ana"', '"author":"a\\"points\\":[[1.0,2.0],[3.0,4.0]]"', 1
    ),
    "measurement points wrong": lambda t: t.replace(
        '"points":[[1.0,1.0],[4.0,5.0]]', '"points":[[1.0,1.0],[1.0,1.0]]'
    ),
    "measurement points a number": lambda t: t.replace(
        '"points":[[1.0,1.0],[4.0,5.0]]', '"points":0'
    ),
    "measurements first": lambda t: _measurements_first(t),
    "duplicate points key": lambda t: t.replace(
        '"points":[[1.0,2.0],[30.0,21.0]]',
        '"points":[[1.0,2.0],[30.0,21.0]],"points":[[1.0,2.0],[30.0,22.0]]',
    ),
    "negative numbers": _replace_ring("[[-0.25,-0.5],[30.0,-0.0],[30.0,25.0],[-0.0,20.5]]"),
    "eight characters": _replace_ring("[[12.34567,10.0],[30.0,1.234567],[30.0,25.0]]"),
    "nine characters": _replace_ring("[[12.345678,10.0],[30.0,1.2345678],[30.0,25.0]]"),
    "eight characters, negative": _replace_ring("[[-0.12345,10.0],[30.0,-0.00001],[30.0,25.0]]"),
    "a bracket after a number": _replace_ring("[[1.0],2.0],[5.0,5.0],[9.0,1.0]]"),
    "a bracket before a number": _replace_ring("[[1.0,[2.0],[5.0,5.0],[9.0,1.0]]"),
    "a pair inside a pair": _replace_ring("[[1.0,2.0],[[5.0,5.0],[9.0,1.0]],[3.0,7.0]]"),
    "a comma for a bracket": _replace_ring("[[1.0,2.0,,5.0,5.0],[9.0,1.0]]"),
    "three numbers, a pair short": _replace_ring("[[1.0,2.0,3.0],[5.0,5.0],[9.0,1.0,4.0]]"),
    "no brackets around a pair": _replace_ring("[[1.0,2.0],5.0,5.0,[9.0,1.0]]"),
    "a minus alone": _replace_ring("[[-,2.0],[5.0,5.0],[9.0,1.0]]"),
    "a zero alone": _replace_ring("[[0,2.0],[5.0,5.0],[9.0,1.0]]"),
    "zero point": _replace_ring("[[0.,2.0],[5.0,5.0],[9.0,1.0]]"),
    "byte above 0x7f": _replace_ring("[[1.\u00e90,2.0],[5.0,5.0],[9.0,1.0]]"),
    "brackets swapped": _replace_ring("]]1.0,2.0[,[5.0,5.0],[9.0,1.0[["),
    "key with a leading zero": lambda t: t.replace('"40":{', '"040":{', 1),
    "key out of range": lambda t: t.replace('"40":{', '"120":{', 1),  # slices 0..119
    "key in other digits": lambda t: t.replace('"40":{', '"\u0664\u0660":{', 1),
    "negative key": lambda t: t.replace('"40":{', '"-40":{', 1),
    "key with a space": lambda t: t.replace('"40":{', '" 40":{', 1),
}


def _measurements_first(text: str) -> str:
    data = orjson.loads(text)
    measurements = data.pop("measurements")
    return orjson.dumps({"measurements": measurements, **data}).decode()


@pytest.fixture(params=["whole", "small chunks"])
def chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-text checks look at the text in chunks: also with many small ones (so that
    lists, pairs, numbers and rings straddle them)."""
    if request.param == "small chunks":
        monkeypatch.setattr(_vertices, "_CHUNK", 64)
        monkeypatch.setattr(_vertices, "_NUMBERS_CHUNK", 6)
        monkeypatch.setattr(geometry, "_RING_CHUNK", 16)
        # and keyframe keys checked as for a plane of very many slices
        monkeypatch.setattr(document, "_slice_numbers", lambda n: None)


@pytest.mark.usefixtures("chunks")
@pytest.mark.parametrize("name", list(VARIANTS))
def test_any_text_loads_as_the_plain_path_loads_it(name: str) -> None:
    text = VARIANTS[name](TEXT)
    assert text != TEXT
    ref = plain(text)
    got = loaded(text)
    if isinstance(ref, str):
        assert got == ref
    else:
        assert isinstance(got, LabelDocument), got
        assert_same(got, ref)


@pytest.mark.parametrize(
    ("name", "fast"),
    [("ints", True), ("exponents", True), ("repeated vertex", False), ("outside", False)],
)
def test_which_texts_stay_on_the_fast_path(name: str, fast: bool) -> None:
    text = VARIANTS[name](TEXT)
    assert (document._from_split_text(LabelDocument, text, None) is not None) is fast


def test_loaded_and_built_polygons_are_interchangeable() -> None:
    points = ((1.0, 2.0), (7.5, 2.0), (7.5, 9.25))
    xy = np.array(points)
    xy.setflags(write=False)
    built = Polygon(points)
    lazy = Polygon._from_xy(xy)
    lazy2 = Polygon._from_xy(xy.copy())
    assert lazy == built and built == lazy and lazy == lazy2
    assert hash(lazy) == hash(built)
    assert repr(lazy) == repr(built) == f"Polygon(points={points!r})"
    assert lazy.to_json() == built.to_json() == {"points": [list(p) for p in points]}
    assert lazy.area == built.area == pytest.approx(0.5 * 6.5 * 7.25)
    assert Polyline._from_xy(xy) != lazy  # another shape
    assert Polygon(((1.0, 2.0), (7.5, 2.0), (7.5, 9.0))) != lazy
    assert lazy.points == points and lazy.vertices == points
    assert np.array_equal(built.xy, xy) and not built.xy.flags.writeable
    for other in (copy.copy(lazy), copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert other == built and type(other) is Polygon
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.points = ()  # type: ignore[misc]
    match lazy:
        case Polygon(points=p):
            assert p == points


def test_rings_as_stored_checks_each_ring() -> None:
    xy = np.array([[1, 1], [5, 1], [5, 5], [1, 1], [1, 1], [2, 2], [0, 0], [9, 9], [0, 0]], float)
    starts = np.array([0, 3, 6])
    counts = np.array([3, 3, 3])
    # closed: fine; repeated vertex; last equals first (a polyline may do that)
    closed = np.array([True, True, False])
    assert rings_as_stored(xy, starts, counts, closed, 10, 10).tolist() == [True, False, True]
    assert rings_as_stored(xy, starts, counts, True, 10, 10).tolist() == [True, False, False]
    # bounds per ring
    width = np.array([10, 10, 9])
    assert rings_as_stored(xy, starts, counts, closed, width, 10).tolist() == [True, False, False]
    # too short
    assert not rings_as_stored(xy, np.array([0, 2]), np.array([2, 7]), True, 10, 10)[0]


def test_a_loaded_document_gives_the_same_table_and_edits_as_a_built_one() -> None:
    pytest.importorskip("pandas")
    fast = Labels.from_json(TEXT)
    ref = plain(TEXT)
    assert isinstance(ref, LabelDocument)
    slow = Labels.from_json(ref.to_json(indent=1))  # indented: the plain path
    assert fast.to_dataframe().equals(slow.to_dataframe())
    liver = next(o for o in fast if o.feature == "liver").uuid
    for labels in (fast, slow):
        labels.set_keyframe(liver, 40, [(10, 10), (30, 10), (30, 25)])
        labels.delete_keyframe(liver, 41)
    assert fast.get(liver).keyframes == slow.get(liver).keyframes


@pytest.mark.usefixtures("chunks")
@pytest.mark.parametrize(
    ("numbers", "as_written"),
    [
        ("0.5,10.0", True),
        ("-0.0,0.0", True),
        ("0.00001,123456.789", True),
        ("0.30000000000000004,1.0", False),  # may be what orjson writes, but not checked: 17 digits
        ("0.50,10.0", False),
        ("0.5,10", False),
        ("0.5,1e1", False),
        ("0.5,10.00", False),
        ("0.000001,1.0", False),  # orjson writes 1e-6
        ("0.1000000000000000055511151231257827,1.0", False),
        ("0.5,12", False),  # no point
        ("1234567.12345678,1.0", True),  # 16 characters, first or last
        ("1.0,1234567.12345678", True),
        ("-123456.12345678,1.0", True),
        ("12345678.12345678,1.0", False),  # 17
        ("1.0,-1234567.12345678", False),
        ("0.000009,1.0", False),
    ],
)
def test_vertex_text_is_kept_only_when_it_is_what_saving_writes(
    numbers: str, as_written: bool
) -> None:
    xy = np.array(orjson.loads(f"[{numbers}]"), dtype=np.float64).reshape(-1, 2)
    text = f"[[{numbers}]]".encode()  # one vertex
    # as the fast path gives it: the lists' brackets as spaces, in one pair of brackets
    flat = b"[" + text[1:-1].translate(bytes.maketrans(b"[]", b"  ")) + b"]"
    assert _vertices._written_as_orjson_writes(flat, xy) is as_written
    if as_written:
        assert orjson.dumps(xy.tolist()) == text


def test_saving_a_loaded_document_writes_its_vertex_text_back() -> None:
    rng = np.random.default_rng(7)
    labels = Labels(SERIES, ontology())
    decimals = [0, 1, 3, 5]
    liver = labels.add_polygon("Liver", 0, ring(0))
    for k in range(1, SLICES):
        # coordinates as written by anyone: rounded to a few decimals, or not at all
        pts = (
            rng.uniform(0.5, 60, (6, 2))
            if k % 5
            else rng.uniform(0.5, 60, (6, 2)).round(decimals[k % 4])
        )
        labels.add_polygon("Liver", k, pts, uuid=liver)
    text = labels.to_json()
    doc = LabelDocument.from_json(text)
    first = doc.objects[liver].keyframes[3].geometry
    assert isinstance(first, Polygon)
    assert doc.to_json() == text
    assert type(first._text).__name__ == "Fragment"  # written from the text it was read from


def _as_written_reference(numbers: list[str], xy: np.ndarray) -> bool:
    """What `_written_as_orjson_writes` decides, number by number."""
    magnitude = np.abs(xy)
    if not ((magnitude >= 1e-5) | (xy == 0.0)).all() or magnitude.max() >= 1e15:
        return False
    return all(
        not any(c in s for c in "eE+")
        and s.count(".") == 1
        and (not s.endswith("0") or s.endswith(".0"))
        and len(s) <= 16
        for s in numbers
    )


@pytest.mark.usefixtures("chunks")
@pytest.mark.parametrize("seed", range(12))
def test_vertex_text_kept_exactly_when_each_number_is_as_written(seed: int) -> None:
    assert _check_random_vertex_text(seed) is (seed % 2 == 0)


def _check_random_vertex_text(seed: int) -> bool:
    """Random vertex lists (with an odd number in some when ``seed`` is odd): whether their
    text is kept, checked against :func:`_as_written_reference`."""
    rng = np.random.default_rng(seed)
    odd = [  # one of these in some lists
        "10",
        "2.50",
        "1e1",
        "1.5e1",
        "0.000001",
        "-0.0",
        "1234567.12345678",  # 16 characters: kept
        "12345678.12345678",  # 17: not
        "-123456.12345678",
        "0.30000000000000004",
        "9.0",
        "100.0",
        "100.10",
    ]
    lists = []
    for _ in range(int(rng.integers(1, 40))):
        n = int(rng.integers(1, 30))
        values = rng.uniform(-500, 500, 2 * n).round(int(rng.integers(0, 9)))
        texts = [orjson.dumps(float(v)).decode() for v in values]
        if seed % 2 and rng.random() < 0.2:
            texts[int(rng.integers(len(texts)))] = odd[int(rng.integers(len(odd)))]
        lists.append(texts)
    numbers = [t for texts in lists for t in texts]
    xy = np.array([float(t) for t in numbers]).reshape(-1, 2)
    joined = ",".join(
        "[[" + "],[".join(f"{a},{b}" for a, b in zip(t[::2], t[1::2], strict=True)) + "]]"
        for t in lists
    ).encode()
    flat = bytearray(joined.translate(_vertices._BRACKETS_TO_BLANKS))
    flat[0], flat[-1] = ord("["), ord("]")
    assert orjson.loads(flat) == [float(t) for t in numbers]
    expected = _as_written_reference(numbers, xy)
    assert _vertices._written_as_orjson_writes(flat, xy) is expected
    if expected:  # then the text is what saving writes
        for texts in lists:
            pairs = [[float(a), float(b)] for a, b in zip(texts[::2], texts[1::2], strict=True)]
            assert (
                orjson.dumps(pairs).decode()
                == "[["
                + "],[".join(f"{a},{b}" for a, b in zip(texts[::2], texts[1::2], strict=True))
                + "]]"
            )
    return expected


@pytest.mark.usefixtures("chunks")
@pytest.mark.parametrize("seed", range(5))
def test_bracket_pairs_are_found_wherever_they_are(seed: int) -> None:
    rng = np.random.default_rng(seed)
    text = bytes(rng.choice(list(b"[]Y_,1"), 2000).tolist())
    opens, closes = _vertices._bracket_pairs(np.frombuffer(text, dtype=np.uint8))
    assert opens.tolist() == [i for i in range(len(text) - 1) if text[i : i + 2] == b"[["]
    assert closes.tolist() == [i for i in range(len(text) - 1) if text[i : i + 2] == b"]]"]
    assert len(opens) > 20 and len(closes) > 20


@pytest.mark.usefixtures("chunks")
def test_lists_edited_anywhere_read_as_json_reads_them() -> None:
    """A byte removed or a digit added anywhere in some lists (each still ``[[...]]``, as
    they are cut out): they are read exactly when each is still a list of pairs of numbers,
    and then as JSON reads them."""
    good = b"[[1.5,2.25],[3.5,4.0],[-0.5,7.125]]"
    outcomes = set()
    for k in range(3):
        for at in range(2, len(good) - 1):
            for edited in (good[:at] + good[at + 1 :], good[:at] + b"5" + good[at:]):
                if not (edited.startswith(b"[[") and edited.endswith(b"]]")):
                    continue
                lists = [good, good, good]
                lists[k] = edited
                joined = b" " * (_vertices._LEAD - 1) + b"," + b",".join(lists)
                read = _read(joined, [len(x) for x in lists])
                try:
                    data = [orjson.loads(x) for x in lists]
                except orjson.JSONDecodeError:
                    data = None
                pairs = data is not None and all(
                    type(x) is list and x and all(_is_pair(p) for p in x) for x in data
                )
                outcomes.add((read is not None, pairs))
                assert (read is not None) is pairs, edited
                if read is not None:
                    assert data is not None
                    assert read.tolist() == [p for x in data for p in x]
    assert outcomes == {(True, True), (False, False)}


def _is_pair(p: object) -> bool:
    return type(p) is list and len(p) == 2 and all(type(v) in (int, float) for v in p)


def _read(joined: bytes, sizes: list[int]) -> np.ndarray | None:
    """What the fast path reads from the joined text of lists of ``sizes`` bytes, by either
    reader, and checks they agree."""
    slots = _vertices._number_slots(joined, sizes)
    if slots is None:
        return None
    short = _vertices._read_short_decimals(joined, slots)
    parsed = _vertices._read_with_orjson(joined, slots)
    if short is not None:
        assert parsed is not None and short[0].tobytes() == parsed[0].tobytes()
        assert short[1] == parsed[1]
    return None if parsed is None else parsed[0]


_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+\Z")


def _random_number(rng: np.random.Generator) -> bytes:
    """Short decimals as JSON writes them, and many texts that are not."""
    kind = rng.integers(4)
    if kind == 0:  # any plain decimal
        digits = int(rng.integers(1, 9))
        value = f"{rng.uniform(-1, 1) * 10.0 ** rng.integers(-3, 8):.{digits}f}"
        return value.encode()
    if kind == 1:  # short ones built digit by digit, with the odd leading zero
        head = "".join(rng.choice(list("0123456789"), int(rng.integers(1, 5))))
        tail = "".join(rng.choice(list("0123456789"), int(rng.integers(0, 5))))
        sign = "-" if rng.random() < 0.3 else ""
        point = "." if rng.random() < 0.9 else ""
        return f"{sign}{head}{point}{tail}".encode()
    # any bytes a number could be confused with
    size = int(rng.integers(1, 11))
    return bytes(rng.choice(list(b"0123456789.-+eE[],/ x"), size).tolist())


@pytest.mark.parametrize("seed", range(6))
def test_short_decimals_are_read_exactly_as_json_reads_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    texts = [_random_number(rng) for _ in range(3000)]
    valid = [t for t in texts if len(t) <= 8 and _DECIMAL.match(t.decode("latin-1"))]
    assert 500 < len(valid) < 2900
    for text in texts:  # each alone: read exactly when it is a short decimal
        got = _short_decimal(b"[" + text)
        assert (got is not None) is (text in valid), text
        if got is not None:  # its text kept exactly when it is what saving writes
            (value,), written = got
            as_written = written and _vertices._plain_magnitudes(np.array([value]))
            assert as_written is (orjson.dumps(float(value)) == text), text
    # all valid ones at once: the values JSON gives, bit for bit
    got = _short_decimal_values(valid)
    expected = np.array([orjson.loads(t) for t in valid], dtype=np.float64)
    assert got is not None and got.tobytes() == expected.tobytes()
    assert got.tobytes() == np.array([float(t) for t in valid]).tobytes()
    # told there is no minus sign: the same for those without one, and None for any other
    unsigned = [t for t in valid if not t.startswith(b"-")]
    got = _short_decimal_values(unsigned, signed=False)
    assert got is not None and got.tobytes() == expected[[t in unsigned for t in valid]].tobytes()
    assert _short_decimal_values([b"-0.5"], signed=False) is None


def _short_decimal(text: bytes) -> tuple[float, bool] | None:
    """``_short_decimals`` of the last number of ``text``."""
    return _short_decimals_of([text], [len(text) - 1])


def _short_decimal_values(texts: list[bytes], signed: bool = True) -> np.ndarray | None:
    read = _short_decimals_of([b"[" + t for t in texts], [len(t) for t in texts], signed)
    return None if read is None else read[0]


def _short_decimals_of(
    texts: list[bytes], lengths: list[int], signed: bool = True
) -> tuple[np.ndarray, bool] | None:
    """``_short_decimals`` of numbers that end ``texts`` (after 8 bytes of other numbers)."""
    padded = [b"-0.51-89" + t for t in texts]
    buffer = b"".join(padded)
    ends = np.cumsum([len(t) for t in padded]) - 8
    windows = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
    return _vertices._short_decimals(windows[ends], np.array(lengths, dtype=np.uint64), signed)


@pytest.mark.parametrize(
    ("number", "value", "as_written"),
    [
        ("0.5", 0.5, True),
        ("-0.0", -0.0, True),
        ("0.0", 0.0, True),
        ("12.0", 12.0, True),
        ("12.50", 12.5, False),
        ("1234.567", 1234.567, True),
        ("-123.456", -123.456, True),
        ("0.1", 0.1, True),
        ("0.30", 0.3, False),
        ("100000.0", 1e5, True),
        ("9.999999", 9.999999, True),
    ],
)
def test_short_decimal_values_and_text(number: str, value: float, as_written: bool) -> None:
    read = _short_decimal(b"[" + number.encode())
    assert read is not None
    (got,), written = read
    assert np.float64(got).tobytes() == np.float64(value).tobytes()  # -0.0 too
    assert written is as_written
    assert (orjson.dumps(value).decode() == number) is as_written


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_of_vertex_lists_load_as_the_plain_path_loads_them(seed: int) -> None:
    """Fuzzing the fast path: bytes inserted, removed or replaced in and around the vertex
    lists, and the result compared with the plain path's."""
    rng = np.random.default_rng(seed)
    data = TEXT.encode()
    where = [i for i in range(len(data) - 1) if data[i : i + 2] == b"[["]
    for _ in range(60):
        at = int(rng.choice(where)) + int(rng.integers(-3, 60))
        char = bytes([int(rng.choice(list(b"0123456789.-[], e")))])
        edit = int(rng.integers(3))
        text = data[:at] + (b"" if edit == 0 else char) + data[at + (edit != 1) :]
        ref = plain(text.decode("utf-8", "replace"))
        got = loaded(text.decode("utf-8", "replace"))
        if isinstance(ref, str):
            assert got == ref
        else:
            assert isinstance(got, LabelDocument), got
            assert_same(got, ref)


def test_documents_the_label_model_writes_take_the_short_decimal_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("read with orjson")

    monkeypatch.setattr(_vertices, "_read_with_orjson", refuse)
    split = _vertices.split_vertex_lists(TEXT)
    assert split is not None and split[1].source is not None  # its text kept, too
    assert_same(LabelDocument.from_json(TEXT), plain(TEXT))  # type: ignore[arg-type]


def test_keyframes_and_geometry_built_at_once_are_the_usual_objects() -> None:
    xy = np.array([[1.0, 2.0], [7.5, 2.0], [7.5, 9.25]])
    xy.setflags(write=False)
    rings = [xy, xy[:2]]
    many = Polygon._many_from_xy(rings, ["a", "b"])
    assert [type(g) for g in many] == [Polygon, Polygon]
    assert [g._text for g in many] == ["a", "b"] and all(g._points is None for g in many)
    assert many[0] == Polygon._from_xy(xy) and many[0].xy is xy
    lines = Polyline._many_from_xy(rings, [None, None])
    assert lines[1] == Polyline(((1.0, 2.0), (7.5, 2.0)))
    frames = document._keyframes(many, [True, False])
    expected = [Keyframe(many[0], True), Keyframe(many[1], False)]
    assert frames == expected and [type(f) for f in frames] == [Keyframe, Keyframe]
    assert [hash(f) for f in frames] == [hash(f) for f in expected]
    assert repr(frames) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frames[0].manual = False  # type: ignore[misc]
    assert frames[1].manual is False and frames[1].geometry is many[1]
    boxes = geometry._instances(Box, 2, [1.0, 3.0], [2.0, 4.0], [5.0, 7.0], [6.0, 8.5])
    assert boxes == [Box(1.0, 2.0, 5.0, 6.0), Box(3.0, 4.0, 7.0, 8.5)]
    assert [hash(b) for b in boxes] == [
        hash(Box(1.0, 2.0, 5.0, 6.0)),
        hash(Box(3.0, 4.0, 7.0, 8.5)),
    ]
    assert repr(boxes[1]) == "Box(x0=3.0, y0=4.0, x1=7.0, y1=8.5)" and boxes[1].area == 18.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        boxes[0].x0 = 0.0  # type: ignore[misc]
    assert geometry._instances(Point, 1, [1.5], [2.5]) == [Point(1.5, 2.5)]


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 15])
def test_rings_are_checked_alike_in_any_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    rng = np.random.default_rng(3)
    counts = rng.integers(3, 9, 300)
    xy = rng.integers(0, 6, (int(counts.sum()), 2)).astype(np.float64)
    xy[rng.integers(len(xy), size=5)] = np.nan
    starts = np.cumsum(counts) - counts
    closed = rng.random(300) < 0.5
    width = rng.integers(3, 8, 300)
    expected = [  # (repeats, outside, too small an area; NaN)
        bool(rings_as_stored(xy[s : s + c], np.array([0]), np.array([c]), k, w, 6)[0])
        for s, c, k, w in zip(starts, counts, closed, width, strict=True)
    ]
    monkeypatch.setattr(geometry, "_RING_CHUNK", chunk)
    assert rings_as_stored(xy, starts, counts, closed, width, 6).tolist() == expected
    assert 30 < sum(expected) < 270


@pytest.mark.usefixtures("chunks")
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("120", r'keyframes\["120"\]: slice 120 is out of range \(the plane has slices 0\.\.119\)'),
        ("040", r"keyframe key '040' is not a slice number"),
        ("-40", r"keyframe key '-40' is not a slice number"),
        ("4.0", r"keyframe key '4.0' is not a slice number"),
        ("\u0664\u0660", r"keyframe key '\u0664\u0660' is not a slice number"),  # Arabic-Indic 40
        ("4\u00b2", r"keyframe key '4\u00b2' is not a slice number"),  # 4 and a superscript 2
    ],
)
@pytest.mark.parametrize("form", ["compact", "indented", "dict"])
def test_keyframe_keys_are_checked_on_every_path(key: str, message: str, form: str) -> None:
    text = TEXT.replace('"40":{', f'"{key}":{{', 1)
    with pytest.raises(LabelError, match=message):
        if form == "dict":
            LabelDocument.from_dict(orjson.loads(text))
        elif form == "indented":
            LabelDocument.from_json(orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2))
        else:
            LabelDocument.from_json(text)
