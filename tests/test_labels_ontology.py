"""Ontology: builder, dict/JSON round trip, defaults, and every refused entry."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import Ontology


def full_ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Liver", shape="polygon", color="#E6194B")
        .radio(
            "Phase",
            [
                "arterial",
                {
                    "name": "venous",
                    "hotkey": "v",
                    "classifications": [
                        {"name": "Delay", "type": "radio", "options": ["early", "late"]}
                    ],
                },
            ],
            dynamic=True,
        )
        .checklist("Findings", ["cyst", "mass"], required=True)
        .text("Comment")
        .object("Lesion", shape="bounding_box", hotkey="5")
        .object("Vessel", shape="polyline")
        .object("Landmark", shape="point")
        .object(
            "Pose",
            shape="primitive",
            nodes=["head", "neck", {"name": "tail", "position": [0.5, 1.0]}],
            edges=[["head", "neck"], ["neck", "tail"]],
        )
        .object("Tumour", shape="bitmask", color="#abc")
        .frame_radio(
            "Quality",
            ["good", {"name": "bad", "classifications": [{"name": "Reason", "type": "text"}]}],
        )
        .frame_checklist("Artefacts", ["motion", "metal"])
        .build()
    )


def test_builder_defaults_ids_colours_and_hotkeys() -> None:
    onto = full_ontology()
    liver = onto.feature("Liver")
    assert liver.id == "liver" and liver.shape == "polygon"
    assert liver.color == "#e6194b"  # normalised to lower case
    assert onto.feature("Tumour").color == "#aabbcc"  # '#abc' expanded
    # explicit '5' is kept; the others take the free digits in order
    assert [c.hotkey for c in onto.objects] == ["1", "5", "2", "3", "4", "6"]
    assert onto.feature("5").name == "Lesion"  # lookup by hotkey
    assert onto.feature("lesion") is onto.feature("Lesion")  # by id and by name
    # classification ids are scoped by their class / option, so names can repeat safely
    assert [c.id for c in liver.classifications] == [
        "liver.phase",
        "liver.findings",
        "liver.comment",
    ]
    assert onto.classification_parent("liver.phase.venous.delay") == ("liver.phase", "venous")
    assert onto.classification_root("liver.phase.venous.delay") == "liver.phase"
    assert onto.is_dynamic("liver.phase.venous.delay") and not onto.is_dynamic("liver.findings")
    assert onto.classification_owner("quality") is None
    pose = onto.feature("Pose")
    assert pose.node_ids == ("head", "neck", "tail")
    assert pose.nodes[2].position == (0.5, 1.0)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for n in pose.nodes for x, y in [n.position])
    assert [(e.source, e.target) for e in pose.edges] == [("head", "neck"), ("neck", "tail")]


def test_dict_and_json_round_trip_exactly() -> None:
    onto = full_ontology()
    data = onto.to_dict()
    again = Ontology.from_dict(data)
    assert again == onto
    assert again.to_dict() == data
    assert Ontology.from_json(onto.to_json()).to_json() == onto.to_json()
    # explicit 'hotkey: null' stays null (no automatic hotkey)
    data["objects"][0]["hotkey"] = None
    assert Ontology.from_dict(data).objects[0].hotkey is None


def test_more_than_nine_classes_leave_the_rest_without_hotkey() -> None:
    b = Ontology.builder()
    for i in range(11):
        b.object(f"C{i}", "point")
    onto = b.build()
    assert [c.hotkey for c in onto.objects] == [*map(str, range(1, 10)), None, None]


def test_answer_normalisation() -> None:
    onto = full_ontology()
    assert onto.normalize_answer("liver.phase", "venous", "a") == "venous"
    assert onto.normalize_answer("liver.findings", ["mass", "cyst", "mass"], "a") == (
        "cyst",
        "mass",
    )  # ontology order, no duplicates
    assert onto.normalize_answer("liver.comment", "looks fine", "a") == "looks fine"
    with pytest.raises(LabelError, match=r"a: 'portal' is not an option of 'liver.phase'"):
        onto.normalize_answer("liver.phase", "portal", "a")
    with pytest.raises(LabelError, match="checklist answer is a list"):
        onto.normalize_answer("liver.findings", "mass", "a")
    with pytest.raises(LabelError, match="at least one option"):
        onto.normalize_answer("liver.findings", [], "a")
    with pytest.raises(LabelError, match="expected a string"):
        onto.normalize_answer("liver.comment", 3, "a")
    assert onto.resolve_classification("Phase", "liver", "c") == "liver.phase"
    with pytest.raises(LabelError, match="unknown classification 'Phase' for object class"):
        onto.resolve_classification("Phase", "lesion", "c")


def _base() -> dict[str, Any]:
    return {
        "objects": [
            {"name": "Liver", "shape": "polygon"},
            {
                "name": "Pose",
                "shape": "primitive",
                "nodes": [{"name": "a"}, {"name": "b"}],
                "edges": [["a", "b"]],
            },
            {
                "name": "Lesion",
                "shape": "bounding_box",
                "classifications": [
                    {"name": "Kind", "type": "radio", "options": [{"name": "benign"}]}
                ],
            },
        ],
        "classifications": [{"name": "Quality", "type": "radio", "options": ["good", "bad"]}],
    }


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target = out
    for key in path[:-1]:
        target = target[key]
    if isinstance(target, list) and path[-1] == len(target):
        target.append(value)
    else:
        target[path[-1]] = value
    return out


BAD_ONTOLOGIES = [
    # (mutation path, value, expected message fragment)
    (["objects", 0, "shape"], "circle", r"ontology\.objects\[0\]\.shape: unknown shape 'circle'"),
    (["objects", 0, "color"], "red", r"ontology\.objects\[0\]\.color: 'red' is not a colour"),
    (["objects", 0, "color"], "#12345", r"objects\[0\]\.color: '#12345' is not a colour"),
    (["objects", 0, "hotkey"], "0", r"objects\[0\]\.hotkey: '0' is not a class hotkey"),
    (["objects", 0, "hotkey"], "q", r"objects\[0\]\.hotkey: 'q' is not a class hotkey"),
    (["objects", 0, "id"], "bad id", r"objects\[0\]\.id: 'bad id' is not a valid id"),
    (
        ["objects", 1, "id"],
        "liver",
        r"objects\[1\]: id 'liver' of 'Pose' is already used by "
        r"ontology\.objects\[0\] \('Liver'\)",
    ),
    (
        ["objects", 1],
        {"id": "other", "name": "Liver", "shape": "point"},
        r"objects\[1\]: name 'Liver' of 'Liver' is already used",
    ),
    (["objects", 1, "nodes"], [], r"objects\[1\]\.nodes: a primitive class needs at least one"),
    (["objects", 1, "edges"], [["a", "z"]], r"objects\[1\]\.edges\[0\]: edge to unknown node 'z'"),
    (["objects", 1, "edges"], [["a", "a"]], r"edges\[0\]: edge from node 'a' to itself"),
    (["objects", 1, "edges"], [["a", "b"], ["b", "a"]], r"edges\[1\]: duplicate edge"),
    (["objects", 1, "edges"], [["a"]], r"edges\[0\]: an edge is a pair of node ids"),
    (["objects", 1, "nodes"], ["a", "a"], r"nodes\[1\]: duplicate node id 'a'"),
    (
        ["objects", 1, "nodes"],
        [{"name": "a", "position": [2, 0]}],
        r"nodes\[0\]\.position: \[2\.0, 0\.0\] is outside the unit square",
    ),
    (["objects", 0, "nodes"], ["a"], r"objects\[0\]: only primitive classes have 'nodes'"),
    (["objects", 0, "colour"], "#fff", r"objects\[0\]: unknown field 'colour'"),
    (["objects", 0, "name"], "", r"objects\[0\]\.name: must not be empty"),
    (["objects", 0, "name"], "***", r"objects\[0\]: cannot derive an id from the name"),
    (
        ["objects", 2, "classifications", 0, "type"],
        "slider",
        r"classifications\[0\]\.type: 'slider' is not a classification type",
    ),
    (
        ["objects", 2, "classifications", 0, "options"],
        [],
        r"classifications\[0\]\.options: a radio classification needs at least one option",
    ),
    (
        ["objects", 2, "classifications", 0, "options"],
        ["a", "a"],
        r"classifications\[0\]\.options\[1\]: duplicate option id 'a'",
    ),
    (
        ["objects", 2, "classifications", 0, "options", 0, "hotkey"],
        "!",
        r"options\[0\]\.hotkey: '!' is not a hotkey",
    ),
    (
        ["objects", 2, "classifications", 0, "options", 0, "classifications"],
        [{"name": "X", "type": "text", "dynamic": True}],
        r"options\[0\]\.classifications\[0\]: unknown field 'dynamic'",
    ),
    (["classifications", 0, "dynamic"], True, r"classifications\[0\]: unknown field 'dynamic'"),
    (
        ["classifications", 0, "type"],
        "text",
        r"ontology\.classifications\[0\]\.options: a text classification has no options",
    ),
    (
        ["classifications", 1],
        {"name": "Quality", "type": "text"},
        r"classifications\[1\]: classification id 'quality' is already used by "
        r"ontology\.classifications\[0\]",
    ),
    (["objects", 0], "Liver", r"ontology\.objects\[0\]: expected an object"),
    (["extra"], 1, r"ontology: unknown field 'extra'"),
    # values of a type that cannot be looked up in a set (they once raised TypeError)
    (["objects", 0, "hotkey"], ["1"], r"objects\[0\]\.hotkey: \['1'\] is not a class hotkey"),
    (["objects", 1, "edges"], [["a", ["b"]]], r"edges\[0\]: edge to unknown node \['b'\]"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_ONTOLOGIES)
def test_invalid_ontologies_name_the_bad_entry(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        Ontology.from_dict(_set(_base(), path, value))


def test_valid_base_is_accepted() -> None:
    assert len(Ontology.from_dict(_base())) == 3


def test_duplicate_hotkeys_and_option_hotkeys() -> None:
    data = _base()
    data["objects"][0]["hotkey"] = "3"
    data["objects"][1]["hotkey"] = 3
    with pytest.raises(LabelError, match=r"objects\[1\]: hotkey '3' of 'Pose' is already used"):
        Ontology.from_dict(data)
    b = (
        Ontology.builder()
        .object("A", "point")
        .radio("R", [{"name": "x", "hotkey": "x"}])
        .checklist("C", [{"name": "y", "hotkey": "x"}])
    )
    with pytest.raises(LabelError, match=r"options\[0\]\.hotkey: hotkey 'x' is already used"):
        b.build()


def test_builder_needs_an_object_before_its_classifications() -> None:
    with pytest.raises(LabelError, match=r"call \.object\(\.\.\.\) first"):
        Ontology.builder().radio("Phase", ["a"])


def test_classification_ids_must_be_unique_across_classes() -> None:
    b = (
        Ontology.builder()
        .object("A", "point")
        .text("Note", id="note")
        .object("B", "point")
        .text("Note", id="note")
    )
    with pytest.raises(LabelError, match="classification id 'note' is already used"):
        b.build()


def test_from_json_refuses_bad_json_and_lookups_fail_clearly() -> None:
    with pytest.raises(LabelError, match="ontology: not valid JSON"):
        Ontology.from_json("{")
    with pytest.raises(LabelError, match=r"unknown object class 'Spleen' \(known: 'liver'"):
        full_ontology().feature("Spleen")
    assert json.loads(full_ontology().to_json())["objects"][0]["id"] == "liver"


def test_option_hotkeys_that_are_class_hotkeys_are_warned_of() -> None:
    """QA 24a D8: option keys 1-9 beside the class keys 1-9 were accepted without a word; in
    the widget the class key wins."""
    from dicom_annot_widget import DicomAnnotWarning

    with pytest.warns(DicomAnnotWarning, match=r"options\[1\] \('G2'\) and class 'Liver'"):
        (
            Ontology.builder()
            .object("Lesion", "bounding_box")
            .radio("Grade", [{"name": "G1", "hotkey": "a"}, {"name": "G2", "hotkey": "2"}])
            .object("Liver", "polygon")
            .build()
        )
