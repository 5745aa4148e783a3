"""Loading big documents: vertex lists are cut out of the text and read as arrays
(dicom_annot_widget/labels/_vertices.py). Whatever the text, the result must be what the plain
path (parse everything, then validate) gives: the same document, or the same error."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from collections.abc import Callable

import numpy as np
import orjson
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import (
    LabelDocument,
    Labels,
    Ontology,
    Polygon,
    Polyline,
    _vertices,
    document,
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
}


def _measurements_first(text: str) -> str:
    data = orjson.loads(text)
    measurements = data.pop("measurements")
    return orjson.dumps({"measurements": measurements, **data}).decode()


@pytest.fixture(params=["whole", "small chunks"])
def chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-text checks look at the text in chunks: also with many small ones (so that
    lists, pairs and numbers straddle them)."""
    if request.param == "small chunks":
        monkeypatch.setattr(_vertices, "_CHUNK", 64)


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
def test_an_empty_number_is_found_wherever_it_is() -> None:
    for pair in (b"\t,", b",\n"):  # "[," and ",]"
        for at in range(1, 200):
            text = bytearray(b"[" + b"1" * at + pair + b"1" * (200 - at) + b"]")
            assert _vertices._scan(text, False) is None
            assert _vertices._scan(text, True) is None
    marks = _vertices._scan(bytearray(b"[" + b"1.5,2\n" * 40 + b"]"), True)
    assert marks is not None and marks.points == 40
