"""Label document: geometry validation, masks, planes, exact JSON round trip, and malformed
documents refused with the path of the bad field."""

from __future__ import annotations

import base64
import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import (
    SCHEMA,
    Box,
    LabelDocument,
    Labels,
    Mask,
    Ontology,
    Point,
    Polygon,
    SeriesInfo,
)
from dicom_annot_widget.labels.geometry import (
    decode_mask,
    encode_mask,
    geometry_from_value,
    parse_geometry,
    plane_to_voxel,
)

SERIES = {"series_instance_uid": "1.2.826.0.1.3680043.8.498.1", "shape": [20, 32, 48]}


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", "polygon")
        .radio(
            "Phase",
            [
                "arterial",
                {
                    "name": "venous",
                    "classifications": [
                        {"name": "Delay", "type": "radio", "options": ["early", "late"]}
                    ],
                },
            ],
            dynamic=True,
        )
        .checklist("Findings", ["cyst", "mass"])
        .object("Lesion", "bounding_box")
        .object("Vessel", "polyline")
        .object("Landmark", "point")
        .object("Pose", "primitive", nodes=["a", "b", "c"], edges=[["a", "b"], ["b", "c"]])
        .object("Tumour", "bitmask")
        .frame_radio("Quality", ["good", "bad"])
        .build()
    )


def sample_labels() -> Labels:
    labels = Labels(SERIES, ontology(), author="ana")
    liver = labels.add_polygon("Liver", 3, [(1, 1), (10.25, 1), (10, 10.5)])
    labels.add_polygon("Liver", 4, [(1, 1), (12, 1), (10, 10)], uuid=liver, manual=False)
    labels.set_static(liver, "Findings", ["mass"])
    labels.set_dynamic(liver, "Phase", "venous", 2, 6)
    labels.set_dynamic(liver, "Delay", "late", 3, 4)
    labels.add_box("Lesion", 3, (2, 3, 8, 9.5))
    labels.add_polyline("Vessel", 5, [(0, 0), (5, 5), (9, 2)], plane="coronal")
    labels.add_point("Landmark", 10, (4.5, 6), plane="sagittal")
    labels.add_primitive(
        "Pose", 3, {"a": (1, 1), "b": (2, 2), "c": (3, 1)}, edges=["visible", "occluded"]
    )
    mask = np.zeros((20, 32, 48), dtype=bool)
    mask[5:8, 10:20, 4:9] = True
    labels.add_mask("Tumour", mask)
    labels.set_frame_classification("Quality", "bad", 2, 5)
    labels.add_measurement("distance", 3, [(1, 1), (4, 5)], label="d1")
    labels.import_predictions(
        [{"feature": "Lesion", "slice": 7, "box": [1, 1, 5, 5]}], source="model-a", confidence=0.75
    )
    return labels


def test_round_trip_is_exact() -> None:
    labels = sample_labels()
    text = labels.to_json()
    doc = LabelDocument.from_json(text)
    assert doc.to_json() == text
    assert doc.same_content(labels.document)
    data = json.loads(text)
    assert data["schema"] == SCHEMA == "dicom-annot/1"
    assert data["series"]["shape"] == {"slices": 20, "rows": 32, "columns": 48}
    assert [o["object_id"] for o in data["objects"]] == [1, 2, 3, 4, 5, 6, 7]
    liver = data["objects"][0]
    assert liver["keyframes"]["3"] == {
        "manual": True,
        "points": [[1.0, 1.0], [10.25, 1.0], [10.0, 10.5]],
    }
    assert liver["keyframes"]["4"]["manual"] is False
    assert liver["static"] == {"liver.findings": ["mass"]}
    assert liver["dynamic"] == [
        {"classification": "liver.phase", "answer": "venous", "range": [2, 6]},
        {"classification": "liver.phase.venous.delay", "answer": "late", "range": [3, 4]},
    ]
    assert data["objects"][-1]["source"] == "model-a"
    assert data["objects"][-1]["review"] == "pending"
    assert data["objects"][-1]["confidence"] == 0.75
    # the indented form parses to the same document
    assert LabelDocument.from_json(labels.to_json(indent=2)).to_json() == text


def test_masks_are_run_length_encoded_not_dense() -> None:
    labels = sample_labels()
    data = labels.to_dict()
    tumour = next(o for o in data["objects"] if o["feature"] == "tumour")
    assert sorted(tumour["keyframes"], key=int) == ["5", "6", "7"]
    rle = tumour["keyframes"]["5"]["mask"]
    assert isinstance(rle, str) and len(rle) < 200  # 32 x 48 slice, a few runs
    runs = np.frombuffer(base64.b64decode(rle), dtype="<u4")
    assert runs.sum() == 32 * 48 and runs[1::2].sum() == 10 * 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_codec_round_trips_random_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((17, 23)) < 0.3
    mask[0, 0] = seed == 1  # both first-pixel cases
    rle, area = encode_mask(mask)
    assert area == mask.sum()
    assert np.array_equal(decode_mask(rle, 17, 23), mask)


def test_plane_geometry_and_sizes() -> None:
    info = SeriesInfo.coerce(SERIES)
    assert info.plane_size("axial") == (48, 32, 20)
    assert info.plane_size("coronal") == (48, 20, 32)
    assert info.plane_size("sagittal") == (32, 20, 48)
    assert plane_to_voxel("axial", 1, 2, 3) == (1, 2, 3)
    assert plane_to_voxel("coronal", 1, 2, 3) == (1, 3, 2)
    assert plane_to_voxel("sagittal", 1, 2, 3) == (3, 1, 2)
    with pytest.raises(LabelError, match="'oblique' is not a plane"):
        info.plane_size("oblique")


def test_series_info_is_validated() -> None:
    with pytest.raises(LabelError, match=r"series\.shape: expected \(slices, rows, columns\)"):
        SeriesInfo("1.2", (3, 4))  # type: ignore[arg-type]
    with pytest.raises(LabelError, match=r"series\.shape\[0\]: 0 is out of range"):
        SeriesInfo("1.2", (0, 4, 4))
    with pytest.raises(LabelError, match=r"series\.series_instance_uid: must not be empty"):
        SeriesInfo("", (1, 4, 4))

    class FakeSeries:
        series_instance_uid = "9.9"
        shape = (5, 6, 7, 1)
        study_instance_uid = "8.8"

    info = SeriesInfo.coerce(FakeSeries())
    assert info.shape == (5, 6, 7) and info.study_instance_uid == "8.8"


# ------------------------------------------------------------------ geometry validation

ONTO = ontology()


def parse(feature: str, data: dict[str, Any], quantize: bool = False) -> Any:
    return parse_geometry(ONTO.feature(feature), data, 48, 32, "g", quantize)


def test_valid_geometry_is_normalised() -> None:
    assert parse("Lesion", {"box": [8, 9, 2, 3]}) == Box(2.0, 3.0, 8.0, 9.0)  # corners sorted
    # closing vertex and consecutive duplicates dropped
    poly = parse("Liver", {"points": [[1, 1], [1, 1], [5, 1], [5, 5], [1, 1]]})
    assert poly == Polygon(((1.0, 1.0), (5.0, 1.0), (5.0, 5.0)))
    assert poly.area == 8.0
    assert parse("Landmark", {"point": [-0.5, 31.5]}) == Point(-0.5, 31.5)  # image corners
    assert parse("Liver", {"points": [[1.23456, 2], [5, 1], [5, 5]]}, quantize=True).points[0] == (
        1.235,
        2.0,
    )
    pose = parse("Pose", {"nodes": {"a": [1, 1], "b": [2, 2], "c": [3, 1]}})
    assert pose.edges == ("visible", "visible") and pose.nodes["b"] == (2.0, 2.0)


BAD_GEOMETRY = [
    (
        "Liver",
        {"points": [[1, 1], [5, 5]]},
        r"g\.points: a polygon needs at least 3 distinct "
        r"vertices, got 2",
    ),
    ("Liver", {"points": [[1, 1], [5, 5], [1, 1]]}, "at least 3 distinct vertices, got 2"),
    ("Liver", {"points": [[1, 1], [2, 2], [3, 3]]}, r"g\.points: the polygon has zero area"),
    (
        "Liver",
        {"points": [[1, 1], [2, float("nan")], [3, 1]]},
        r"g\.points\[1\]\[1\]: nan is not a finite number",
    ),
    ("Liver", {"points": [[1, 1], [2, math.inf], [3, 1]]}, r"g\.points\[1\]\[1\]: inf is not"),
    (
        "Liver",
        {"points": [[1, 1], [2, True], [3, 1]]},
        r"points\[1\]\[1\]: expected a number, got "
        "True",
    ),
    ("Liver", {"points": [[1, 1], ["2", 2], [3, 1]]}, r"points\[1\]\[0\]: expected a number"),
    ("Liver", {"points": [[1, 1], [2, 2, 2], [3, 1]]}, r"points\[1\]: expected \[x, y\]"),
    ("Liver", {"points": "1,1 2,2"}, r"g\.points: expected a list"),
    (
        "Liver",
        {"points": [[1, 1], [60, 2], [3, 1]]},
        r"points\[1\]: \(60\.0, 2\.0\) lies outside "
        r"the image \[-0\.5, 47\.5\] x \[-0\.5, 31\.5\]",
    ),
    ("Liver", {"box": [1, 1, 2, 2]}, r"g: missing required field 'points'"),
    ("Liver", {"points": [[1, 1], [2, 1], [2, 2]], "color": "red"}, r"g: unknown field 'color'"),
    ("Lesion", {"box": [1, 1, 1, 5]}, r"g\.box: the box \[1\.0, 1\.0, 1\.0, 5\.0\] has zero area"),
    ("Lesion", {"box": [1, 1, 5]}, r"g\.box: a box is \[x0, y0, x1, y1\]"),
    ("Lesion", {"box": [1, 1, 5, float("nan")]}, r"g\.box\[3\]: nan is not a finite number"),
    ("Lesion", {"box": [-1, 1, 5, 5]}, r"g\.box: \(-1\.0, 1\.0\) lies outside the image"),
    ("Vessel", {"points": [[1, 1], [1, 1]]}, r"a polyline needs at least 2 distinct vertices"),
    ("Landmark", {"point": [1, 2, 3]}, r"g\.point: expected \[x, y\]"),
    ("Landmark", {"point": [1, None]}, r"g\.point\[1\]: expected a number, got None"),
    ("Pose", {"nodes": {"a": [1, 1], "b": [2, 2]}}, r"g\.nodes: missing node 'c' of 'pose'"),
    (
        "Pose",
        {"nodes": {"a": [1, 1], "b": [2, 2], "c": [3, 3], "d": [1, 1]}},
        r"g\.nodes: unknown node 'd'",
    ),
    (
        "Pose",
        {"nodes": {"a": [1, 1], "b": [2, 2], "c": [3, 3]}, "edges": ["visible"]},
        r"g\.edges: expected one state per template edge \(2\), got 1",
    ),
    (
        "Pose",
        {"nodes": {"a": [1, 1], "b": [2, 2], "c": [3, 3]}, "edges": ["visible", "hidden"]},
        r"g\.edges\[1\]: 'hidden' is not an edge state",
    ),
    ("Tumour", {"mask": "***"}, r"g\.mask: is not valid base64"),
    ("Tumour", {"mask": base64.b64encode(b"abc").decode()}, r"not a whole number of uint32"),
    (
        "Tumour",
        {"mask": base64.b64encode(np.array([5, 5], "<u4").tobytes()).decode()},
        r"g\.mask: run lengths add up to 10 pixels, but the plane image has 32 x 48 = 1536",
    ),
    (
        "Tumour",
        {"mask": base64.b64encode(np.array([1536], "<u4").tobytes()).decode()},
        r"g\.mask: the mask slice is empty",
    ),
]


@pytest.mark.parametrize(("feature", "data", "message"), BAD_GEOMETRY)
def test_bad_geometry_is_refused(feature: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(LabelError, match=message):
        parse(feature, data)


def test_friendly_python_geometry_forms() -> None:
    lesion = ONTO.feature("Lesion")
    assert geometry_from_value(lesion, ((8, 9), (2, 3)), 48, 32, "box") == Box(2, 3, 8, 9)
    assert geometry_from_value(lesion, np.array([2, 3, 8, 9]), 48, 32, "box") == Box(2, 3, 8, 9)
    liver = ONTO.feature("Liver")
    arr = np.array([[1.0, 1.0], [5.0, 1.0], [5.0, 5.0]])
    assert geometry_from_value(liver, arr, 48, 32, "p") == Polygon(((1, 1), (5, 1), (5, 5)))
    with pytest.raises(LabelError, match="a bounding_box geometry cannot be used for 'liver'"):
        geometry_from_value(liver, Box(1, 1, 2, 2), 48, 32, "p")
    pose = ONTO.feature("Pose")
    assert geometry_from_value(pose, [(1, 1), (2, 2), (3, 3)], 48, 32, "p").nodes["c"] == (3, 3)
    tumour = ONTO.feature("Tumour")
    with pytest.raises(LabelError, match=r"mask slice has shape \(4, 4\), the plane image is"):
        geometry_from_value(tumour, np.ones((4, 4)), 48, 32, "m")
    with pytest.raises(LabelError, match="the mask slice is empty"):
        geometry_from_value(tumour, np.zeros((32, 48)), 48, 32, "m")
    with pytest.raises(LabelError, match="NaN or infinite"):
        Mask.from_array(np.full((2, 2), np.nan))
    with pytest.raises(LabelError, match="expected a 2D array"):
        Mask.from_array(np.ones((2, 2, 2)))


# ------------------------------------------------------------------ malformed documents


def _mutate(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()

BAD_DOCUMENTS = [
    (["schema"], "dicom-annot/2", r"schema: 'dicom-annot/2' is not supported by this version"),
    (["schema"], "other", r"schema: 'other' is not a label document schema"),
    (["extra"], 1, r"document: unknown field 'extra'"),
    (["objects"], _DELETE, r"document: missing required field 'objects'"),
    (["revision"], -1, r"revision: -1 is out of range"),
    (["series", "shape", "rows"], "32", r"series\.shape\.rows: expected an integer"),
    (["ontology", "objects", 0, "shape"], "blob", r"ontology\.objects\[0\]\.shape: unknown shape"),
    (["objects", 0, "uuid"], "abc", r"objects\[0\]\.uuid: 'abc' is not a UUID"),
    (["objects", 0, "object_id"], 0, r"objects\[0\]\.object_id: 0 is out of range"),
    (
        ["objects", 0, "object_id"],
        2,
        r"objects\[1\]\.object_id: object_id 2 is also used by "
        r"objects\[0\]",
    ),
    (["objects", 0, "feature"], "spleen", r"objects\[0\]\.feature: unknown object class 'spleen'"),
    (
        ["objects", 0, "shape"],
        "bounding_box",
        r"objects\[0\]\.shape: 'bounding_box' does not "
        r"match the shape of 'liver' \(polygon\)",
    ),
    (["objects", 0, "feature"], "lesion", r"objects\[0\]\.shape: 'polygon' does not match"),
    (["objects", 0, "plane"], "oblique", r"objects\[0\]\.plane: 'oblique' is not a plane"),
    (["objects", 0, "source"], "", r"objects\[0\]\.source: must not be empty"),
    (["objects", 0, "review"], "pending", r"objects\[0\]\.review: only predictions have a review"),
    (["objects", 0, "confidence"], 1.5, r"objects\[0\]\.confidence: 1\.5 is not between 0 and 1"),
    (["objects", 0, "created"], "yesterday", r"objects\[0\]\.created: 'yesterday' is not an ISO"),
    (
        ["objects", 0, "modified"],
        "2024-13-01T00:00:00Z",
        r"objects\[0\]\.modified: .* not a "
        r"valid date",
    ),
    (
        ["objects", 0, "keyframes", "3"],
        {"points": [[1, 1], [2, 2], [3, 1]]},
        r'objects\[0\]\.keyframes\["3"\]: missing required field \'manual\'',
    ),
    (
        ["objects", 0, "keyframes", "3", "manual"],
        "yes",
        r'keyframes\["3"\]\.manual: expected true or false',
    ),
    (
        ["objects", 0, "keyframes", "3", "points"],
        [[1, 1], [2, 2]],
        r'objects\[0\]\.keyframes\["3"\]\.points: a polygon needs at least 3 distinct',
    ),
    (
        ["objects", 0, "keyframes", "3", "points", 1],
        [2, None],
        r'keyframes\["3"\]\.points\[1\]\[1\]: expected a number, got None',
    ),
    (
        ["objects", 0, "keyframes", "20"],
        {"manual": True, "points": [[1, 1], [2, 1], [2, 2]]},
        r'keyframes\["20"\]: slice 20 is out of range \(the plane has slices 0\.\.19\)',
    ),
    (
        ["objects", 0, "keyframes", "03"],
        {"manual": True, "points": [[1, 1], [2, 1], [2, 2]]},
        r"keyframe key '03' is not a slice number",
    ),
    (
        ["objects", 0, "static"],
        {"liver.phase": "venous"},
        r"objects\[0\]\.static\['liver\.phase'\]: classification 'liver\.phase' is dynamic",
    ),
    (
        ["objects", 0, "static"],
        {"liver.findings": ["tumour"]},
        r"static\['liver\.findings'\]\[0\]: 'tumour' is not an option",
    ),
    (
        ["objects", 0, "static"],
        {"quality": "good"},
        r"static\['quality'\]: classification 'quality' does not belong to object class",
    ),
    (
        ["objects", 0, "dynamic", 0, "range"],
        [5, 2],
        r"objects\[0\]\.dynamic\[0\]\.range: range start 5 is after its end 2",
    ),
    (["objects", 0, "dynamic", 0, "range"], [2, 40], r"dynamic\[0\]\.range\[1\]: slice 40 is out"),
    (
        ["objects", 0, "dynamic", 0, "range"],
        [5, 6],
        r"objects\[0\]\.dynamic: nested classification 'liver\.phase\.venous\.delay' is answered "
        r"on slices 3\.\.4, where its parent",
    ),
    (["objects", 0, "dynamic", 1, "answer"], "soon", r"dynamic\[1\]\.answer: 'soon' is not an"),
    (["frame_classifications", 0, "ranges"], [], r"frame_classifications\[0\]\.ranges: needs at"),
    (
        ["frame_classifications", 0, "answers"],
        {"quality": "meh"},
        r"frame_classifications\[0\]\.answers\['quality'\]: 'meh' is not an option",
    ),
    (
        ["frame_classifications", 0, "answers"],
        {},
        r"frame_classifications\[0\]\.answers: the answer to 'quality' itself is missing",
    ),
    (
        ["measurements", 0, "points"],
        [[1, 1]],
        r"measurements\[0\]\.points: a distance "
        r"measurement needs 2 points, got 1",
    ),
    (["measurements", 0, "kind"], "volume", r"measurements\[0\]\.kind: 'volume' is not one of"),
    (["measurements", 0, "kind"], ["area"], r"measurements\[0\]\.kind: \['area'\] is not one"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_DOCUMENTS)
def test_malformed_documents_are_refused_with_the_path(
    path: list[Any], value: Any, message: str
) -> None:
    data = sample_labels().to_dict()
    with pytest.raises(LabelError, match=message):
        LabelDocument.from_dict(_mutate(data, path, value))


def test_overlapping_frame_classifications_and_duplicate_uuids_are_refused() -> None:
    data = sample_labels().to_dict()
    twin = copy.deepcopy(data["frame_classifications"][0])
    twin["uuid"] = "00000000-0000-4000-8000-000000000000"
    twin["ranges"] = [[5, 9]]
    data["frame_classifications"].append(twin)
    with pytest.raises(LabelError, match="frame classification 'quality' has two answers on axial"):
        LabelDocument.from_dict(data)
    data = sample_labels().to_dict()
    data["objects"].append(copy.deepcopy(data["objects"][0]))
    data["objects"][-1]["object_id"] = 99
    with pytest.raises(LabelError, match=r"objects\[7\]\.uuid: duplicate uuid"):
        LabelDocument.from_dict(data)


def test_not_json_and_truncated_json_are_refused() -> None:
    text = sample_labels().to_json()
    with pytest.raises(LabelError, match="not a label document: invalid JSON"):
        LabelDocument.from_json(text[: len(text) // 2])
    with pytest.raises(LabelError, match="document: expected an object"):
        LabelDocument.from_json("[]")


HUGE = 10**400  # more than any float: float(HUGE) raises OverflowError

HUGE_NUMBERS = [  # (id, path, value, where the message says it is)
    (
        "polygon",
        ["objects", 0, "keyframes", "3", "points", 1, 0],
        HUGE,
        r'\["3"\]\.points\[1\]\[0\]',
    ),
    ("box", ["objects", 1, "keyframes", "3", "box", 2], HUGE, r'keyframes\["3"\]\.box\[2\]'),
    ("point", ["objects", 3, "keyframes", "10", "point", 1], -HUGE, r'\["10"\]\.point\[1\]'),
    ("primitive", ["objects", 4, "keyframes", "3", "nodes", "a", 0], HUGE, r"nodes\['a'\]\[0\]"),
    ("measurement", ["measurements", 0, "points", 1, 0], HUGE, r"\[0\]\.points\[1\]\[0\]"),
    ("confidence", ["objects", 6, "confidence"], HUGE, r"objects\[6\]\.confidence"),
    ("revision", ["revision"], 10**30, r"revision"),
    ("object_id", ["objects", 0, "object_id"], 10**30, r"objects\[0\]\.object_id"),
    ("slice", ["measurements", 0, "slice"], 10**30, r"measurements\[0\]\.slice"),
]


@pytest.mark.parametrize(
    ("path", "value", "where"), [pytest.param(*case[1:], id=case[0]) for case in HUGE_NUMBERS]
)
@pytest.mark.parametrize("form", ["json", "dict"])
def test_huge_numbers_are_refused_as_out_of_range(
    path: list[Any], value: int, where: str, form: str
) -> None:
    # (JSON readers give integers beyond 64 bits as floats, or fail on them: either way the
    # message must say the number is out of range, not that it is no integer, and never crash)
    data = _mutate(sample_labels().to_dict(), path, value)
    with pytest.raises(LabelError, match=rf"{where}: .*\bis out of range\b"):
        if form == "json":
            LabelDocument.from_json(json.dumps(data))
        else:
            LabelDocument.from_dict(data)


def test_revision_is_at_most_the_largest_exact_integer_of_a_page() -> None:
    data = sample_labels().to_dict()
    data["revision"] = 2**53 - 1  # still exact in JavaScript, where the page compares them
    assert LabelDocument.from_dict(data).revision == 2**53 - 1
    data["revision"] = 2**53
    with pytest.raises(LabelError, match=r"revision: 9007199254740992 is out of range \(maximum"):
        LabelDocument.from_dict(data)
    data["revision"] = 10**30
    with pytest.raises(LabelError, match=r"revision: 1e\+30 is out of range \(maximum 9007199"):
        LabelDocument.from_json(json.dumps(data))


def test_too_deeply_nested_json_is_refused_with_the_reason() -> None:
    with pytest.raises(LabelError, match=r"not a label document: .*nesting too deep"):
        LabelDocument.from_json("[" * 100_000 + "]" * 100_000)
    data = sample_labels().to_dict()
    data["objects"][0]["static"]["liver.findings"] = "deep"
    text = json.dumps(data).replace('"deep"', "[" * 5000 + "]" * 5000)
    with pytest.raises(LabelError, match="nesting too deep"):
        LabelDocument.from_json(text)
    with pytest.raises(LabelError, match=r"ontology: .*nesting too deep"):
        Ontology.from_json("{" + '"a":{' * 100_000 + "}" * 100_001)


@pytest.mark.parametrize(
    ("ranges", "reason"),
    [
        ([[1, 3], [2, 5]], r"\[1, 3\] and \[2, 5\] overlap"),
        ([[1, 3], [1, 3]], r"\[1, 3\] and \[1, 3\] overlap"),
        ([[1, 2], [3, 5]], r"\[1, 2\] and \[3, 5\] touch"),
        ([[4, 5], [1, 2]], r"\[4, 5\] comes before \[1, 2\]"),
    ],
    ids=["overlapping", "repeated", "touching", "unsorted"],
)
def test_frame_classification_ranges_must_be_sorted_and_apart(
    ranges: list[list[int]], reason: str
) -> None:
    # the setter merges ranges; a document must hold them in that form already, since
    # loading must not rewrite what it reads (the round trip is exact)
    data = sample_labels().to_dict()
    data["frame_classifications"][0]["ranges"] = ranges
    with pytest.raises(
        LabelError,
        match=r"frame_classifications\[0\]\.ranges: the ranges of 'quality' must be sorted, "
        rf"neither overlapping nor touching: {reason}",
    ):
        LabelDocument.from_json(json.dumps(data))
    data["frame_classifications"][0]["ranges"] = [[1, 2], [4, 5], [9, 9]]
    doc = LabelDocument.from_json(json.dumps(data))
    assert doc.to_dict()["frame_classifications"][0]["ranges"] == [[1, 2], [4, 5], [9, 9]]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("\u0665", r"keyframe key '\u0665' is not a slice number"),  # ARABIC-INDIC DIGIT FIVE
        ("\u00b2", r"keyframe key '\u00b2' is not a slice number"),  # SUPERSCRIPT TWO
        ("05", r"keyframe key '05' is not a slice number"),
        ("+5", r"keyframe key '\+5' is not a slice number"),
        ("5" * 5000, r"slice '5555555\S* is out of range \(the plane has slices 0\.\."),
    ],
    ids=["arabic-indic", "superscript", "leading-zero", "sign", "too-long"],
)
@pytest.mark.parametrize("slices", [20, 20_000])  # keys looked up, or converted (many slices)
def test_keyframe_keys_are_ascii_slice_numbers(key: str, message: str, slices: int) -> None:
    series = {"series_instance_uid": "1.2.3", "shape": [slices, 16, 16]}
    labels = Labels(series, Ontology.builder().object("P", "polygon").build())
    labels.add_polygon("P", 5, [(1, 1), (9, 1), (5, 8)])
    data = labels.to_dict()
    keyframes = data["objects"][0]["keyframes"]
    keyframes[key] = keyframes.pop("5")
    for load in (LabelDocument.from_dict, lambda d: LabelDocument.from_json(json.dumps(d))):
        with pytest.raises(LabelError, match=rf'keyframes\[".*"\]: {message}'):
            load(data)


def test_loading_with_another_ontology_checks_the_labels_against_it() -> None:
    text = sample_labels().to_json()
    wider = Ontology.from_dict(
        {
            **ontology().to_dict(),
            "classifications": [
                *ontology().to_dict()["classifications"],
                {"id": "noise", "name": "Noise", "type": "text", "required": False},
            ],
        }
    )
    assert LabelDocument.from_json(text, ontology=wider).ontology == wider
    narrower = Ontology.builder().object("Liver", "polygon").build()
    with pytest.raises(LabelError, match=r"objects\[0\]\.static\['liver\.findings'\]"):
        LabelDocument.from_json(text, ontology=narrower)


def test_the_documented_example_is_a_valid_document() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "labels.md").read_text()
    block = docs.split("### Example", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    doc = LabelDocument.from_json(block)
    assert LabelDocument.from_json(doc.to_json()).to_json() == doc.to_json()
    assert {o.shape for o in doc.objects.values()} == {"polygon", "bounding_box", "bitmask"}
    assert doc.to_dict() == json.loads(block)  # the example is in canonical form


def _bulk_document(keyframes: dict[str, Any], feature: str = "Liver") -> dict[str, Any]:
    """A document with one object of ``feature`` holding ``keyframes`` (JSON form)."""
    labels = Labels(SERIES, ontology(), author="ana")
    if feature == "Liver":
        labels.add_polygon(feature, 0, [(1, 1), (5, 1), (5, 5)])
    elif feature == "Vessel":
        labels.add_polyline(feature, 0, [(1, 1), (5, 1)])
    elif feature == "Lesion":
        labels.add_box(feature, 0, (1, 1, 5, 5))
    else:
        labels.add_point(feature, 0, (1, 1))
    data = labels.to_dict()
    data["objects"][0]["keyframes"] = keyframes
    return data


def _loaded_one_by_one(data: dict[str, Any]) -> Any:
    """What the per-keyframe path makes of the first object's keyframes."""
    feature = ontology().feature(data["objects"][0]["feature"])
    return {
        int(k): (
            v["manual"],
            parse_geometry(feature, v, 48, 32, f"k{k}"),
        )
        for k, v in data["objects"][0]["keyframes"].items()
    }


BULK_CASES = [
    # (feature, keyframes): each parses like the per-keyframe path does, fast path or not
    ("Liver", {"4": {"manual": True, "points": [[1.5, 1.0], [9.0, 1.0], [9.0, 7.25]]}}),
    ("Liver", {"9": {"manual": False, "points": [[1.0, 1.0], [9.0, 1.0]] * 2 + [[4.0, 8.0]]}}),
    ("Liver", {"2": {"manual": True, "points": [[1, 1], [9, 1], [9, 7]]}}),  # ints -> floats
    ("Liver", {"2": {"manual": True, "points": [[1.0, 1.0], [1.0, 1.0], [9.0, 1.0], [9.0, 7.0]]}}),
    ("Liver", {"2": {"manual": True, "points": [[1.0, 1.0], [9.0, 1.0], [9.0, 7.0], [1.0, 1.0]]}}),
    ("Vessel", {"1": {"manual": True, "points": [[1.0, 1.0], [9.0, 1.0], [1.0, 1.0]]}}),
    ("Vessel", {"1": {"manual": True, "points": [[1.0, 1.0], [1.0, 1.0], [9.0, 1.0]]}}),
    ("Lesion", {"3": {"manual": True, "box": [8.5, 9.0, 2.0, 1.0]}}),  # corners swapped
    ("Lesion", {"3": {"box": [2.0, 1.0, 8.5, 9.0], "manual": False}}),
    ("Landmark", {"0": {"manual": True, "point": [47.5, 31.5]}}),
]


@pytest.mark.parametrize(("feature", "keyframes"), BULK_CASES)
def test_bulk_loading_gives_what_one_by_one_parsing_gives(
    feature: str, keyframes: dict[str, Any]
) -> None:
    # many keyframes at once (the vectorised path) beside the case under test
    frames = dict(keyframes)
    for k in range(10, 20):
        if feature in ("Liver", "Vessel"):
            frames[str(k)] = {"manual": True, "points": [[1.0, 2.0], [7.5, 2.0], [7.5, 9.0]]}
        elif feature == "Lesion":
            frames[str(k)] = {"manual": True, "box": [1.0, 2.0, 7.5, 9.0]}
        else:
            frames[str(k)] = {"manual": True, "point": [1.0, 2.0]}
    data = _bulk_document(frames, feature)
    doc = LabelDocument.from_json(json.dumps(data))
    obj = next(iter(doc.objects.values()))
    expected = _loaded_one_by_one(data)
    assert list(obj.keyframes) == sorted(expected)
    for k, kf in obj.keyframes.items():
        assert (kf.manual, kf.geometry) == expected[k]
        coords = [c for v in kf.geometry.vertices for c in v]
        assert all(type(c) is float for c in coords)  # ints are stored as floats
    # and the document round-trips exactly
    assert LabelDocument.from_json(doc.to_json()).to_json() == doc.to_json()


BULK_BAD = [
    ("Liver", [[1.0, 1.0], [9.0, True], [9.0, 7.0]], r'keyframes\["12"\]\.points\[1\]\[1\]'),
    ("Liver", [[1.0, 1.0], [9.0, "2"], [9.0, 7.0]], r'keyframes\["12"\]\.points\[1\]\[1\]'),
    ("Liver", [[1.0, 1.0, 3.0], [9.0], [9.0, 7.0]], r'keyframes\["12"\]\.points\[0\]: expected'),
    ("Liver", [[1.0, 1.0], [9.0, 1.0], [47.6, 7.0]], r"points\[2\]: \(47\.6, 7\.0\) lies outside"),
    ("Liver", [[1.0, 1.0], [5.0, 5.0], [9.0, 9.0]], r"zero area \(its vertices are collinear\)"),
    ("Liver", [[1.0, 1.0], [9.0, 9.0], [9.0, 1.0], [1.0, 9.0]], r"crosses itself .*'bow-tie'"),
    ("Liver", [[1.0, 1.0], [5.0, 5.0]], r"a polygon needs at least 3 distinct vertices, got 2"),
    ("Vessel", [[1.0, 1.0], [1.0, 1.0]], r"a polyline needs at least 2 distinct vertices, got 1"),
    ("Lesion", [1.0, 1.0, 1.0, 5.0], r"has zero area"),
    ("Lesion", [1.0, 1.0, 5.0, 32.0], r"box: \(5\.0, 32\.0\) lies outside"),
    ("Lesion", [1.0, 1.0, 5.0], r"a box is \[x0, y0, x1, y1\]"),
    ("Landmark", [1.0, False], r"point\[1\]: expected a number, got False"),
]


@pytest.mark.parametrize(("feature", "value", "message"), BULK_BAD)
def test_bulk_loading_names_the_bad_keyframe(feature: str, value: Any, message: str) -> None:
    key = {"Liver": "points", "Vessel": "points", "Lesion": "box", "Landmark": "point"}[feature]
    good = {"Liver": [[1.0, 2.0], [7.5, 2.0], [7.5, 9.0]], "Lesion": [1.0, 2.0, 7.5, 9.0]}
    good["Vessel"] = good["Liver"]
    good["Landmark"] = [1.0, 2.0]
    frames = {str(k): {"manual": True, key: good[feature]} for k in range(10, 15)}
    frames["12"] = {"manual": True, key: value}
    text = json.dumps(_bulk_document(frames, feature))
    with pytest.raises(LabelError, match=message):
        LabelDocument.from_json(text)


def test_documents_with_nan_literals_name_the_value() -> None:
    data = _bulk_document({"3": {"manual": True, "points": [[1.0, 1.0], [9.0, 1.0], [9.0, 7.0]]}})
    text = json.dumps(data).replace("7.0]", "NaN]")  # the stdlib writes NaN; orjson does not
    with pytest.raises(LabelError, match=r'keyframes\["3"\]\.points\[2\]\[1\]: nan is not'):
        LabelDocument.from_json(text)
