"""The vector drawing and editing tools in Chromium with the harness's fake model: polyline,
point, primitive and free-hand polygon drawing; vertex, box and node editing with the select
tool; the scissors; the length readout. Every operation the page sends is also applied to a
real `Labels` (what the page sends must be what Python accepts)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from playwright.sync_api import expect

from .test_harness_labels import Screen, drag, edits, push_labels, wait_edits
from .test_harness_viewer import ct_volume, harness, mount, series  # noqa: F401 (a fixture)

ONTOLOGY = {
    "objects": [
        {"id": "liver", "name": "Liver", "shape": "polygon", "color": "#e6194b", "hotkey": "1"},
        {"id": "lesion", "name": "Lesion", "shape": "bounding_box", "color": "#3cb44b"},
        {"id": "spot", "name": "Spot", "shape": "point", "color": "#4363d8", "hotkey": "3"},
        {"id": "vessel", "name": "Vessel", "shape": "polyline", "color": "#f58231", "hotkey": "4"},
        {
            "id": "arm",
            "name": "Arm",
            "shape": "primitive",
            "color": "#911eb4",
            "hotkey": "5",
            "nodes": [
                {"id": "a", "name": "A", "position": [0.0, 0.0]},
                {"id": "b", "name": "B", "position": [1.0, 0.5]},
                {"id": "c", "name": "C", "position": [0.5, 1.0]},
            ],
            "edges": [["a", "b"], ["b", "c"]],
        },
    ]
}
UUID = "5f0b1a36-4f7c-4a43-9a57-5b1a4d3b8f01"
SHAPES = {c["id"]: c["shape"] for c in ONTOLOGY["objects"]}


@pytest.fixture
def tpage(harness: Any) -> Any:  # noqa: F811
    """The harness page (see test_harness_viewer)."""
    return harness


def labels_state(objects: list[dict[str, Any]] | None = None, revision: int = 0) -> dict[str, Any]:
    return {
        "revision": revision,
        "ontology": ONTOLOGY,
        "objects": objects or [],
        "read_only": False,
    }


def obj(feature: str, kf: dict[str, Any], slice_: int = 6, uuid: str = UUID) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "object_id": 1,
        "feature": feature,
        "shape": SHAPES[feature],
        "plane": "axial",
        "keyframes": {str(slice_): {"manual": True, **kf}},
    }


def python_labels(*objects: dict[str, Any]) -> Any:
    """A real `Labels` of the harness series (12 x 48 x 64) holding `objects`."""
    from dicom_annot_widget.labels import Labels, Ontology

    labels = Labels(
        {"series_instance_uid": "1.2.3", "shape": [12, 48, 64]}, Ontology.from_dict(ONTOLOGY)
    )
    for o in objects:
        labels.apply(
            {
                "op": "create_object",
                "object": {k: o[k] for k in ("uuid", "feature", "plane", "keyframes")},
            }
        )
    return labels


def stored(labels: Any, uuid: str, slice_: int = 6) -> dict[str, Any]:
    """The JSON form of an object's keyframe in the Python labels."""
    return dict(labels.document.objects[uuid].keyframes[slice_].to_json())


def near(got: list[float], want: tuple[float, float], tol: float = 0.5) -> bool:
    return abs(got[0] - want[0]) <= tol and abs(got[1] - want[1]) <= tol


def mount_tools(page: Any, objects: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    spacing_known = kw.pop("spacing_known", True)
    return mount(
        page,
        series(ct_volume(), spacing_known=spacing_known),
        state={"labels_state": labels_state(objects)},
        **kw,
    )


def echo(page: Any, wid: int, msg: dict[str, Any], objects: list[dict[str, Any]], rev: int) -> None:
    """Play Python's answer to `msg`: the acknowledgement, then the new labels_state."""
    page.evaluate(
        "([i, r, v]) => window.widgets[i].model._message("
        "{type: 'edit_ack', request: r, revision: v})",
        [wid, msg["request"], rev],
    )
    push_labels(page, wid, labels_state(objects, revision=rev))


def test_polyline_clicks_double_click_length_and_python_accepts(tpage: Any) -> None:
    page = tpage
    wid, root = mount_tools(page)
    root.focus()
    page.keyboard.press("4")
    expect(root).to_have_attribute("data-tool", "polyline")
    s = Screen(root)
    pts = [s.at(10, 10), s.at(30, 10), s.at(30, 25)]
    page.mouse.click(*pts[0])
    page.mouse.click(*pts[1])
    page.mouse.move(*s.at(31, 12))
    # length while drawing: placed vertices and the segment to the pointer, in mm (0.7 mm px)
    measure = root.get_by_test_id("daw-measure")
    expect(measure).to_be_visible()
    expect(measure).to_have_attribute("data-unit", "mm")
    shown = float(measure.get_attribute("data-length"))
    a, b, c = (s.voxel(*p) for p in (pts[0], pts[1], s.at(31, 12)))
    want = (math.dist(a, b) + math.dist(b, c)) * 0.7
    assert abs(shown - want) < 0.05, (shown, want)
    assert measure.text_content().endswith("mm")
    # Backspace removes the last vertex; Escape cancels everything: nothing sent
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    assert edits(page, wid) == []
    page.mouse.click(*pts[0])
    page.mouse.click(*pts[1])
    page.mouse.dblclick(*pts[2])
    (msg,) = wait_edits(page, wid, 1)
    op = msg["op"]
    assert op["object"]["feature"] == "vessel"
    kf = op["object"]["keyframes"]["6"]
    assert len(kf["points"]) == 3
    for got, p in zip(kf["points"], pts, strict=True):
        assert near(got, s.voxel(*p)), (got, s.voxel(*p))
    labels = python_labels()
    labels.apply(op)
    assert stored(labels, op["object"]["uuid"])["points"] == kf["points"]
    # the new polyline is selected: its length stays shown
    expect(measure).to_be_visible()
    total = sum(math.dist(p, q) for p, q in zip(kf["points"], kf["points"][1:], strict=False)) * 0.7
    page.wait_for_timeout(100)
    assert abs(float(measure.get_attribute("data-length")) - total) < 0.002
    # ... and, once Python has it, the objects panel says it under the list (QA: only the area
    # of shapes was there)
    echo(page, wid, msg, [{**op["object"], "object_id": 1, "shape": "polyline"}], 1)
    expect(root.get_by_test_id("daw-inst-area")).to_contain_text(
        f"length {total:.1f} mm on slice 7"
    )


@pytest.mark.parametrize("tool", ["polygon", "polyline"])
def test_a_plain_double_click_draws_nothing_and_says_nothing(tpage: Any, tool: str) -> None:
    """QA: a double-click with the polygon or polyline tool and no vertex placed showed the red
    "needs at least 3 distinct vertices, got 1" banner."""
    page = tpage
    wid, root = mount_tools(page)
    root.get_by_test_id(f"daw-tool-{tool}").click()
    s = Screen(root)
    page.mouse.dblclick(*s.at(20, 20))
    page.wait_for_timeout(150)
    expect(root.get_by_test_id("daw-error")).to_be_hidden()
    assert edits(page, wid) == []
    if tool == "polygon":  # one click, then a double-click elsewhere: still drawing
        page.mouse.click(*s.at(10, 40))
        page.mouse.dblclick(*s.at(30, 40))
        page.wait_for_timeout(150)
        expect(root.get_by_test_id("daw-error")).to_be_hidden()
        assert edits(page, wid) == []
        page.mouse.dblclick(*s.at(20, 45))  # a third vertex: now it closes
        (msg,) = wait_edits(page, wid, 1)
        assert len(msg["op"]["object"]["keyframes"]["6"]["points"]) == 3
        return
    # the tool is ready for a shape, not holding the double-click's vertex
    pts = [s.at(10, 10), s.at(40, 10), s.at(40, 30)]
    for p in pts[:-1]:
        page.mouse.click(*p)
    page.mouse.dblclick(*pts[-1])
    (msg,) = wait_edits(page, wid, 1)
    assert len(msg["op"]["object"]["keyframes"]["6"]["points"]) == 3


def test_length_in_pixels_when_spacing_is_unknown_and_enter_finishes(tpage: Any) -> None:
    page = tpage
    wid, root = mount_tools(page, spacing_known=False)
    root.focus()
    page.keyboard.press("4")
    s = Screen(root)
    page.mouse.click(*s.at(5, 5))
    page.mouse.move(*s.at(25, 5))
    measure = root.get_by_test_id("daw-measure")
    expect(measure).to_have_attribute("data-unit", "px")
    assert measure.text_content().endswith(" px")
    page.mouse.click(*s.at(25, 5))
    page.keyboard.press("Enter")
    (msg,) = wait_edits(page, wid, 1)
    assert len(msg["op"]["object"]["keyframes"]["6"]["points"]) == 2
    # a single vertex is refused with a message, nothing sent
    page.mouse.click(*s.at(40, 30))
    page.keyboard.press("Enter")
    expect(root.get_by_test_id("daw-error")).to_contain_text("at least 2 distinct vertices")
    assert len(edits(page, wid)) == 1


def test_point_click_and_primitive_drag_and_click(tpage: Any) -> None:
    page = tpage
    wid, root = mount_tools(page)
    root.focus()
    page.keyboard.press("3")
    expect(root).to_have_attribute("data-tool", "point")
    s = Screen(root)
    p = s.at(12.3, 20.6)
    page.mouse.click(*p)
    (msg,) = wait_edits(page, wid, 1)
    point = msg["op"]["object"]["keyframes"]["6"]["point"]
    assert near(point, s.voxel(*p))
    page.keyboard.press("5")
    expect(root).to_have_attribute("data-tool", "primitive")
    a, b = s.at(20, 10), s.at(40, 30)
    drag(page, a, b)
    msgs = wait_edits(page, wid, 2)
    kf = msgs[1]["op"]["object"]["keyframes"]["6"]
    (ax, ay), (bx, by) = s.voxel(*a), s.voxel(*b)
    assert near(kf["nodes"]["a"], (ax, ay))
    assert near(kf["nodes"]["b"], (bx, (ay + by) / 2))
    assert near(kf["nodes"]["c"], ((ax + bx) / 2, by))
    assert kf["edges"] == ["visible", "visible"]
    # a click places the template at its default size around the pointer
    page.mouse.click(*s.at(50, 35))
    msgs = wait_edits(page, wid, 3)
    nodes = msgs[2]["op"]["object"]["keyframes"]["6"]["nodes"]
    assert nodes["a"][0] < 50 < nodes["b"][0] and nodes["a"][1] < 35 < nodes["c"][1]
    labels = python_labels()
    for m in msgs:
        labels.apply(m["op"])
    assert len(labels.document.objects) == 3


def test_freehand_polygon_with_d_and_the_tolerance_setting(tpage: Any) -> None:
    page = tpage
    wid, root = mount_tools(page)
    root.focus()
    page.keyboard.press("1")
    control = root.get_by_test_id("daw-freehand")
    expect(control).to_be_visible()
    toggle = root.get_by_test_id("daw-freehand-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("d")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    s = Screen(root)

    def circle(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
        return [
            s.at(cx + r * math.cos(2 * math.pi * i / 60), cy + r * math.sin(2 * math.pi * i / 60))
            for i in range(61)
        ]

    def draw(path: list[tuple[float, float]]) -> None:
        page.mouse.move(*path[0])
        page.mouse.down()
        for q in path[1:]:
            page.mouse.move(*q)
        page.mouse.up()

    draw(circle(20, 20, 10))
    (msg,) = wait_edits(page, wid, 1)
    fine = msg["op"]["object"]["keyframes"]["6"]["points"]
    # every vertex lies on the circle drawn (within half a voxel plus the tolerance)
    for x, y in fine:
        assert abs(math.dist((x, y), (20, 20)) - 10) < 1.0, (x, y)
    assert 8 <= len(fine) < 61
    # coarser: a larger tolerance keeps fewer vertices
    root.get_by_test_id("daw-freehand-tolerance").evaluate(
        "(r) => { r.value = '10'; r.dispatchEvent(new Event('input')); }"
    )
    expect(control).to_contain_text("10 px")
    root.focus()
    draw(circle(40, 25, 10))
    msgs = wait_edits(page, wid, 2)
    coarse = msgs[1]["op"]["object"]["keyframes"]["6"]["points"]
    assert 3 <= len(coarse) < len(fine)
    labels = python_labels()
    for m in msgs:
        labels.apply(m["op"])
    assert len(labels.document.objects) == 2
    # `d` again: back to clicks; the control hides with another tool
    page.keyboard.press("d")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    root.get_by_test_id("daw-tool-select").click()
    expect(control).to_be_hidden()


SQUARE = [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]]


def test_select_drags_a_vertex_inserts_and_deletes_vertices(tpage: Any) -> None:
    page = tpage
    poly = obj("liver", {"points": SQUARE})
    wid, root = mount_tools(page, [poly])
    root.get_by_test_id("daw-tool-select").click()
    s = Screen(root)
    page.mouse.click(*s.at(20, 20))  # inside: selects it
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", UUID)
    # drag vertex 2 to (35, 33)
    target = s.at(35, 33)
    drag(page, s.at(30, 30), target)
    (msg,) = wait_edits(page, wid, 1)
    op = msg["op"]
    assert op["op"] == "set_keyframe" and op["uuid"] == UUID and op["slice"] == 6
    assert op["manual"] is True
    pts = op["geometry"]["points"]
    assert len(pts) == 4 and pts[:2] == SQUARE[:2] and pts[3] == SQUARE[3]
    assert near(pts[2], s.voxel(*target))
    labels = python_labels(poly)
    labels.apply(op)
    assert stored(labels, UUID)["points"] == pts

    # Python's echo: the moved polygon; a click on an edge inserts a vertex there
    echo(page, wid, msg, [obj("liver", {"points": pts})], 1)
    page.mouse.click(*s.at(14, 10))
    msgs = wait_edits(page, wid, 2)
    ins = msgs[1]["op"]["geometry"]["points"]
    assert len(ins) == 5 and near(ins[1], (14, 10)) and ins[0] == pts[0] and ins[2] == pts[1]
    assert ins[1][1] == 10.0  # on the edge
    labels.apply(msgs[1]["op"])

    # ... Delete deletes that (chosen) vertex, not the object
    echo(page, wid, msgs[1], [obj("liver", {"points": ins})], 2)
    root.focus()
    page.keyboard.press("Delete")
    msgs = wait_edits(page, wid, 3)
    assert msgs[2]["op"]["op"] == "set_keyframe"
    assert msgs[2]["op"]["geometry"]["points"] == pts
    labels.apply(msgs[2]["op"])

    # alt+click deletes a vertex; on a triangle it is refused and nothing is sent
    tri = [[10.0, 10.0], [30.0, 10.0], [20.0, 30.0]]
    echo(page, wid, msgs[2], [obj("liver", {"points": tri})], 3)
    page.keyboard.down("Alt")
    page.mouse.click(*s.at(20, 30))
    page.keyboard.up("Alt")
    expect(root.get_by_test_id("daw-error")).to_contain_text("at least 3 vertices")
    assert len(edits(page, wid)) == 3
    push_labels(page, wid, labels_state([obj("liver", {"points": SQUARE})], revision=4))
    page.keyboard.down("Alt")
    page.mouse.click(*s.at(10, 30))
    page.keyboard.up("Alt")
    msgs = wait_edits(page, wid, 4)
    assert msgs[3]["op"]["geometry"]["points"] == SQUARE[:3]


@pytest.mark.parametrize(
    ("feature", "geometry", "vertex", "index"),
    [
        (
            "liver",
            {"points": [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]]},
            (30, 30),
            2,
        ),
        ("vessel", {"points": [[10.0, 10.0], [30.0, 12.0], [40.0, 30.0]]}, (30, 12), 1),
    ],
)
def test_a_press_on_a_vertex_of_an_unselected_object_drags_that_vertex(
    tpage: Any, feature: str, geometry: dict[str, Any], vertex: tuple[int, int], index: int
) -> None:
    """QA: with nothing selected, a drag from a polygon's vertex moved the whole polygon (and
    from a polyline's did nothing): it selects the object and moves that vertex only."""
    page = tpage
    shape = obj(feature, geometry)
    wid, root = mount_tools(page, [shape])
    root.get_by_test_id("daw-tool-select").click()
    labels_el = root.get_by_test_id("daw-labels")
    expect(labels_el).not_to_have_attribute("data-selected", UUID)
    s = Screen(root)
    target = s.at(vertex[0] + 5, vertex[1] + 4)
    drag(page, s.at(*vertex), target)
    (msg,) = wait_edits(page, wid, 1)
    expect(labels_el).to_have_attribute("data-selected", UUID)
    op = msg["op"]
    assert op["op"] == "set_keyframe" and op["uuid"] == UUID
    pts = op["geometry"]["points"]
    want = geometry["points"]
    assert len(pts) == len(want)
    for i, (got, orig) in enumerate(zip(pts, want, strict=True)):
        if i == index:
            assert near(got, s.voxel(*target)), got
        else:
            assert got == orig, (i, got, orig)  # the others stay
    labels = python_labels(shape)
    labels.apply(op)
    assert stored(labels, UUID)["points"] == pts


def test_midpoint_handle_and_moving_the_whole_polygon(tpage: Any) -> None:
    page = tpage
    poly = obj("liver", {"points": SQUARE})
    wid, root = mount_tools(page, [poly])
    root.get_by_test_id("daw-tool-select").click()
    s = Screen(root)
    page.mouse.click(*s.at(20, 20))
    # the midpoint handle of the right edge, dragged outwards: a new vertex there
    drag(page, s.at(30, 20), s.at(38, 20))
    (msg,) = wait_edits(page, wid, 1)
    pts = msg["op"]["geometry"]["points"]
    assert len(pts) == 5 and near(pts[2], (38, 20)) and pts[1] == SQUARE[1]
    echo(page, wid, msg, [poly], 1)
    # drag the inside: the whole polygon moves by the pointer's displacement
    a, b = s.at(18, 18), s.at(23, 15)
    drag(page, a, b)
    msgs = wait_edits(page, wid, 2)
    moved = msgs[1]["op"]["geometry"]["points"]
    (ax, ay), (bx, by) = s.voxel(*a), s.voxel(*b)
    for got, orig in zip(moved, SQUARE, strict=True):
        assert abs(got[0] - (orig[0] + bx - ax)) < 0.01 and abs(got[1] - (orig[1] + by - ay)) < 0.01
    labels = python_labels(poly)
    labels.apply(msgs[1]["op"])


def test_box_resize_and_move_points_and_primitive_nodes(tpage: Any) -> None:
    page = tpage
    box = obj("lesion", {"box": [10.0, 10.0, 30.0, 20.0]})
    spot = obj("spot", {"point": [50.0, 30.0]}, uuid="5f0b1a36-4f7c-4a43-9a57-5b1a4d3b8f02")
    arm = obj(
        "arm",
        {"nodes": {"a": [40.0, 5.0], "b": [55.0, 10.0], "c": [47.0, 20.0]}},
        uuid="5f0b1a36-4f7c-4a43-9a57-5b1a4d3b8f03",
    )
    wid, root = mount_tools(page, [box, spot, arm])
    root.get_by_test_id("daw-tool-select").click()
    s = Screen(root)
    page.mouse.click(*s.at(20, 15))
    drag(page, s.at(30, 20), s.at(36, 26))  # bottom-right corner
    (msg,) = wait_edits(page, wid, 1)
    got = msg["op"]["geometry"]["box"]
    assert got[:2] == [10.0, 10.0] and near(got[2:], (36, 26))
    drag(page, s.at(23, 10), s.at(23, 4))  # top side of the resized box (its preview)
    msgs = wait_edits(page, wid, 2)
    top = msgs[1]["op"]["geometry"]["box"]
    assert top[0] == 10.0 and abs(top[1] - 4) <= 0.5 and top[2:] == got[2:]
    # a point: pressing on it selects it and drags it at once
    drag(page, s.at(50, 30), s.at(55, 40))
    msgs = wait_edits(page, wid, 3)
    assert msgs[2]["op"]["uuid"] == spot["uuid"]
    assert near(msgs[2]["op"]["geometry"]["point"], (55, 40))
    # a primitive node
    page.mouse.click(*s.at(47, 20))
    drag(page, s.at(55, 10), s.at(60, 12))
    msgs = wait_edits(page, wid, 4)
    geo = msgs[3]["op"]["geometry"]
    assert near(geo["nodes"]["b"], (60, 12)) and geo["nodes"]["a"] == [40.0, 5.0]
    labels = python_labels(box, spot, arm)
    for m in msgs:
        labels.apply(m["op"])
    assert stored(labels, arm["uuid"])["nodes"]["b"] == geo["nodes"]["b"]


def test_primitive_show_controls_cycles_edge_visibility(tpage: Any) -> None:
    page = tpage
    arm = obj("arm", {"nodes": {"a": [10.0, 10.0], "b": [30.0, 20.0], "c": [20.0, 30.0]}})
    wid, root = mount_tools(page, [arm])
    toggle = root.get_by_test_id("daw-primitive-controls")
    root.get_by_test_id("daw-tool-box").click()
    expect(toggle).to_be_hidden()  # belongs to the select and primitive tools
    root.get_by_test_id("daw-tool-primitive").click()
    expect(toggle).to_be_visible()
    s = Screen(root)
    root.get_by_test_id("daw-tool-select").click()
    page.mouse.click(*s.at(10, 10))  # on node a: selects
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.mouse.click(*s.at(20, 15))  # the control of edge a-b
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["geometry"]["edges"] == ["occluded", "visible"]
    assert msg["op"]["geometry"]["nodes"] == arm["keyframes"]["6"]["nodes"]
    labels = python_labels(arm)
    labels.apply(msg["op"])
    assert stored(labels, UUID)["edges"] == ["occluded", "visible"]
    nodes = arm["keyframes"]["6"]["nodes"]
    echo(page, wid, msg, [obj("arm", {"nodes": nodes, "edges": ["occluded", "visible"]})], 1)
    page.mouse.click(*s.at(20, 15))
    msgs = wait_edits(page, wid, 2)
    assert msgs[1]["op"]["geometry"]["edges"] == ["invisible", "visible"]


@pytest.mark.parametrize("mode", ["lasso", "box"])
def test_scissors_remove_vertices_at_once(tpage: Any, mode: str) -> None:
    page = tpage
    ring = [[10.0, 10.0], [20.0, 8.0], [30.0, 10.0], [32.0, 20.0], [30.0, 30.0], [10.0, 30.0]]
    poly = obj("liver", {"points": ring})
    wid, root = mount_tools(page, [poly])
    root.get_by_test_id("daw-tool-scissors").click()
    expect(root).to_have_attribute("data-tool", "scissors")
    s = Screen(root)
    page.mouse.click(*s.at(20, 20))  # a click chooses the polygon
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", UUID)
    root.focus()
    if mode == "box":
        page.keyboard.press("b")
        drag(page, s.at(17, 5), s.at(35, 22))
    else:  # a lasso around vertices 1..3, closed where it began (QA 21b D4: taken for a click)
        path = [s.at(17, 5), s.at(35, 5), s.at(36, 23), s.at(26, 22), s.at(17, 12), s.at(17, 5)]
        page.mouse.move(*path[0])
        page.mouse.down()
        for q in path[1:]:
            page.mouse.move(*q, steps=3)
        page.mouse.up()
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["op"] == "set_keyframe"
    assert msg["op"]["geometry"]["points"] == [ring[0], ring[4], ring[5]]
    labels = python_labels(poly)
    labels.apply(msg["op"])
    # cutting too much is refused: the polygon would keep fewer than 3 vertices
    echo(page, wid, msg, [poly], 1)
    if mode == "box":
        drag(page, s.at(5, 5), s.at(40, 28))
    else:
        path = [s.at(5, 5), s.at(40, 5), s.at(40, 28), s.at(5, 28), s.at(5, 6)]
        page.mouse.move(*path[0])
        page.mouse.down()
        for q in path[1:]:
            page.mouse.move(*q, steps=3)
        page.mouse.up()
    expect(root.get_by_test_id("daw-error")).to_contain_text("a polygon needs at least 3")
    assert len(edits(page, wid)) == 1


def test_box_tool_resizes_the_selected_box_and_read_only_edits_nothing(tpage: Any) -> None:
    page = tpage
    box = obj("lesion", {"box": [10.0, 10.0, 30.0, 20.0]})
    wid, root = mount_tools(page, [box])
    root.get_by_test_id("daw-tool-box").click()
    s = Screen(root)
    page.mouse.click(*s.at(20, 15))  # a click selects
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-selected", UUID)
    drag(page, s.at(10, 10), s.at(6, 4))  # the top-left corner: a resize, not a new box
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["op"] == "set_keyframe"
    got = msg["op"]["geometry"]["box"]
    assert near(got[:2], (6, 4)) and got[2:] == [30.0, 20.0]
    # read-only (review mode): the select tool selects but never edits
    state = labels_state([box], revision=1)
    state["read_only"] = True
    push_labels(page, wid, state)
    expect(root).to_have_attribute("data-tool", "select")
    page.mouse.click(*s.at(20, 15))
    drag(page, s.at(30, 20), s.at(40, 30))
    drag(page, s.at(20, 15), s.at(25, 25))
    page.wait_for_timeout(200)
    assert len(edits(page, wid)) == 1


@pytest.mark.parametrize("acquired", ["coronal", "sagittal", "oblique"])
def test_shapes_on_a_series_acquired_coronal_or_oblique_are_on_its_own_slices(
    tpage: Any, acquired: str
) -> None:
    """QA: on a coronal (or sagittal, oblique) series the page named its objects' plane after
    the acquisition, which the labels read as a reformat of the volume: boxes were refused
    ("slice 45 is out of range") or stored as something else, and Python's objects (plane
    axial = the series' own slices) were not shown."""
    page = tpage
    item = series(ct_volume())
    item["info"]["plane"] = acquired
    box = obj("lesion", {"box": [10.0, 10.0, 30.0, 20.0]})  # from Python: plane "axial"
    wid, root = mount(page, item, state={"labels_state": labels_state([box])})
    expect(root.get_by_test_id("daw-instances")).to_contain_text("#1")  # listed
    root.get_by_test_id("daw-tool-box").click()
    s = Screen(root)
    drag(page, s.at(40, 30), s.at(55, 40))
    (msg,) = wait_edits(page, wid, 1)
    assert msg["op"]["op"] == "create_object"
    assert msg["op"]["object"]["plane"] == "axial"
    labels = python_labels(box)
    labels.apply(msg["op"])  # Python takes it, on the series' own slice
    (made,) = [o for o in labels.objects() if o.uuid != UUID]
    assert made.plane == "axial" and list(made.keyframes) == [6]


def test_a_create_answered_after_its_echo_still_times_its_round_trip(tpage: Any) -> None:
    """QA: the kernel's labels_state (the echo) comes before the edit's answer; a created
    object's pending entry went with the echo, so the answer found nothing: the round trip
    (data-edit-ms, read by benchmarks) was never set for new objects."""
    page = tpage
    wid, root = mount_tools(page)
    root.get_by_test_id("daw-tool-box").click()
    s = Screen(root)
    drag(page, s.at(10, 10), s.at(30, 25))
    (msg,) = wait_edits(page, wid, 1)
    sent = msg["op"]["object"]
    made = obj(sent["feature"], sent["keyframes"]["6"], uuid=sent["uuid"])
    push_labels(page, wid, labels_state([made], revision=1))  # the echo first
    expect(root.get_by_test_id("daw-labels")).to_have_attribute("data-count", "1")
    page.wait_for_timeout(50)
    expect(root).not_to_have_attribute("data-edits", "1")
    page.evaluate(
        "([i, r]) => window.widgets[i].model._message({type: 'edit_ack', request: r, revision: 1})",
        [wid, msg["request"]],
    )
    expect(root).to_have_attribute("data-edits", "1")
    assert float(root.get_attribute("data-edit-ms") or "nan") >= 0


def two_vertices_of_a_polygon(page: Any) -> tuple[int, Any, Screen]:
    """A widget with the polygon tool, a polygon being drawn: two vertices clicked."""
    wid, root = mount_tools(page)
    root.focus()
    page.keyboard.press("1")  # the polygon class
    s = Screen(root)
    for x, y in ((10, 10), (30, 12)):
        page.mouse.click(*s.at(x, y))
    return wid, root, s


def test_a_polygon_being_drawn_when_review_mode_turns_on_is_dropped_with_a_notice(
    tpage: Any,
) -> None:
    """Python turning ``read_only`` on drops a shape being drawn: the page says so."""
    page = tpage
    wid, root, s = two_vertices_of_a_polygon(page)
    push_labels(page, wid, {**labels_state([], revision=1), "read_only": True})
    expect(root.locator(".daw-toast")).to_contain_text("what was drawn and not applied is dropped")
    page.mouse.dblclick(*s.at(25, 30))
    assert edits(page, wid) == []


def test_a_shape_being_drawn_is_dropped_when_the_slice_changes(tpage: Any) -> None:
    """QA 21b D5: a polygon being drawn survived a slice change (a stray wheel notch) and was
    committed on the new slice with vertices placed on the old one. It is dropped, with a
    word, as a measurement being drawn is; drawn again, it is committed on its slice."""
    page = tpage
    wid, root, s = two_vertices_of_a_polygon(page)
    page.keyboard.press("ArrowRight")
    expect(root.locator(".daw-toast")).to_contain_text("dropped: the slice changed")
    page.mouse.click(*s.at(25, 30))
    page.keyboard.press("Enter")  # one vertex: nothing to close
    page.wait_for_timeout(100)
    assert edits(page, wid) == []
    for x, y in ((10, 10), (30, 12), (25, 30)):
        page.mouse.click(*s.at(x, y))
    page.keyboard.press("Enter")
    (msg,) = wait_edits(page, wid, 1)
    assert list(msg["op"]["object"]["keyframes"]) == ["7"]  # the slice it was drawn on
