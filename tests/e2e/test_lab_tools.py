"""The vector tools in a real JupyterLab: each shape drawn with the mouse reaches the kernel's
`w.labels` where the pointer was (within half a voxel of the voxel the readout names); a
vertex dragged with the select tool, a free-hand polygon (`d`) and a scissors cut arrive in
Python too. One notebook, one kernel."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dicom_annot_widget import write_phantom_series

from .conftest import notebook, open_widget, run_probe

COLUMNS, ROWS = 64, 48

PROBE = (
    "d = json.loads(w.labels.to_json())\n"
    "print(json.dumps([[o['feature'], o['keyframes'].get('6')] for o in d['objects']]))"
)


def voxel_at(page: Any, x: float, y: float) -> tuple[int, int]:
    """The voxel (column, row) the readout names with the pointer at page point (x, y)."""
    page.mouse.move(x, y)
    readout = page.get_by_test_id("daw-readout")
    expect(readout).to_have_attribute("data-voxel", re.compile(r"^\d+,\d+,\d+$"))
    col, row, _ = (int(v) for v in readout.get_attribute("data-voxel").split(","))
    return col, row


def objects_when(page: Any, ready: Any, timeout: float = 30) -> list[list[Any]]:
    """[feature, keyframe on slice 6] of every object, once `ready(objects)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        out = json.loads(run_probe(page, PROBE).strip() or "[]")
        if ready(out) or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def near(got: list[float], want: tuple[float, float], tol: float = 0.5) -> bool:
    return abs(got[0] - want[0]) <= tol and abs(got[1] - want[1]) <= tol


def of(objs: list[list[Any]], feature: str) -> list[dict[str, Any]]:
    return [kf for f, kf in objs if f == feature]


def test_every_shape_drawn_edited_and_cut_reaches_python(
    lab_each: Any, page: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "phantom"
    write_phantom_series(folder, n_slices=12, rows=ROWS, columns=COLUMNS)
    nb = notebook(
        "import json\n"
        "from dicom_annot_widget import DicomAnnotator, Ontology\n"
        "onto = (Ontology.builder().object('Lesion', shape='bounding_box', hotkey=1)\n"
        "        .object('Liver', shape='polygon', hotkey=2)\n"
        "        .object('Vessel', shape='polyline', hotkey=3)\n"
        "        .object('Spot', shape='point', hotkey=4)\n"
        "        .object('Arm', shape='primitive', hotkey=5,\n"
        "                nodes=[{'id': 'a', 'name': 'A', 'position': [0, 0]},\n"
        "                       {'id': 'b', 'name': 'B', 'position': [1, 1]}],\n"
        "                edges=[['a', 'b']]).build())\n"
        f"w = DicomAnnotator({str(folder)!r}, ontology=onto)\n"
        "w"
    )
    root = open_widget(page, lab_each, "tools.ipynb", nb, workspace="tools")

    def at(fx: float, fy: float) -> tuple[float, float]:
        # read afresh: clicking a toolbar button may scroll the notebook (Playwright brings
        # the button into view), which moves the image on the screen
        view = page.get_by_test_id("daw-view").bounding_box()
        return view["x"] + view["width"] * fx, view["y"] + view["height"] * fy

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        page.mouse.move(*a)
        page.mouse.down()
        page.mouse.move(*b, steps=6)
        page.mouse.up()

    root.focus()
    # bounding box
    page.keyboard.press("1")
    expect(root).to_have_attribute("data-tool", "box")
    box_a, box_b = at(0.30, 0.18), at(0.38, 0.32)
    want_box = [*voxel_at(page, *box_a), *voxel_at(page, *box_b)]
    drag(box_a, box_b)
    # polygon: clicks, double-click closes
    page.keyboard.press("2")
    expect(root).to_have_attribute("data-tool", "polygon")
    poly = [at(0.45, 0.18), at(0.58, 0.20), at(0.52, 0.36)]
    want_poly = [voxel_at(page, *p) for p in poly]
    page.mouse.click(*poly[0])
    page.mouse.click(*poly[1])
    page.mouse.dblclick(*poly[2])
    # polyline, with its length in mm while drawing
    page.keyboard.press("3")
    expect(root).to_have_attribute("data-tool", "polyline")
    line = [at(0.30, 0.45), at(0.38, 0.50), at(0.34, 0.58)]
    want_line = [voxel_at(page, *p) for p in line]
    page.mouse.click(*line[0])
    page.mouse.click(*line[1])
    page.mouse.move(*line[2])
    measure = page.get_by_test_id("daw-measure")
    expect(measure).to_be_visible()
    expect(measure).to_have_attribute("data-unit", "mm")
    page.mouse.dblclick(*line[2])
    # point
    page.keyboard.press("4")
    expect(root).to_have_attribute("data-tool", "point")
    spot = at(0.65, 0.45)
    want_spot = voxel_at(page, *spot)
    page.mouse.click(*spot)
    # primitive: the template (a at the top left, b at the bottom right) over the drag
    page.keyboard.press("5")
    expect(root).to_have_attribute("data-tool", "primitive")
    arm_a, arm_b = at(0.55, 0.45), at(0.63, 0.58)
    want_arm = [voxel_at(page, *arm_a), voxel_at(page, *arm_b)]
    drag(arm_a, arm_b)

    features = ["lesion", "liver", "vessel", "spot", "arm"]
    objs = objects_when(page, lambda o: sorted(f for f, _ in o) == sorted(features))
    assert sorted(f for f, _ in objs) == sorted(features), objs
    (box,) = of(objs, "lesion")
    assert all(abs(g - e) <= 0.5 for g, e in zip(box["box"], want_box, strict=True))
    (liver,) = of(objs, "liver")
    assert len(liver["points"]) == 3
    assert all(near(g, e) for g, e in zip(liver["points"], want_poly, strict=True)), liver
    (vessel,) = of(objs, "vessel")
    assert all(near(g, e) for g, e in zip(vessel["points"], want_line, strict=True)), vessel
    (point,) = of(objs, "spot")
    assert near(point["point"], want_spot), point
    (arm,) = of(objs, "arm")
    assert near(arm["nodes"]["a"], want_arm[0]) and near(arm["nodes"]["b"], want_arm[1]), arm
    assert arm["edges"] == ["visible"]

    # select tool: click inside the polygon, drag its first vertex
    page.get_by_test_id("daw-tool-select").click()
    expect(root).to_have_attribute("data-tool", "select")
    inside = at(0.52, 0.24)
    page.mouse.click(*inside)
    expect(page.get_by_test_id("daw-labels")).to_have_attribute("data-selected", re.compile("."))
    target = at(0.42, 0.24)
    want_moved = voxel_at(page, *target)
    page.mouse.move(*at(0.45, 0.18))  # the first vertex (poly[0], where it is now)
    page.mouse.down()
    page.mouse.move(*target, steps=6)
    page.mouse.up()
    objs = objects_when(page, lambda o: near(of(o, "liver")[0]["points"][0], want_moved))
    moved = of(objs, "liver")[0]["points"]
    assert near(moved[0], want_moved), (moved, want_moved)
    assert moved[1:] == liver["points"][1:]

    # free-hand polygon: `d`, press-drag a loop, release closes it
    root.focus()
    page.keyboard.press("2")
    page.keyboard.press("d")
    expect(page.get_by_test_id("daw-freehand-toggle")).to_have_attribute("aria-pressed", "true")
    cx, cy = at(0.45, 0.72)
    r = page.get_by_test_id("daw-view").bounding_box()["height"] * 0.1
    loop = [
        (cx + r * math.cos(2 * math.pi * i / 48), cy + r * math.sin(2 * math.pi * i / 48))
        for i in range(49)
    ]
    centre = voxel_at(page, cx, cy)
    page.mouse.move(*loop[0])
    page.mouse.down()
    for q in loop[1:]:
        page.mouse.move(*q)
    page.mouse.up()
    objs = objects_when(page, lambda o: len(of(o, "liver")) == 2)
    livers = of(objs, "liver")
    assert len(livers) == 2, objs
    free = next(kf["points"] for kf in livers if len(kf["points"]) > 3)
    radius = math.dist(voxel_at(page, cx + r, cy), centre)
    assert 6 <= len(free) < 49
    for p in free:  # every vertex on the loop drawn
        assert abs(math.dist(p, centre) - radius) <= 1.5, (p, centre, radius)

    # scissors on the free-hand polygon (still selected): a lasso around its right half
    page.get_by_test_id("daw-tool-scissors").click()
    expect(root).to_have_attribute("data-tool", "scissors")
    cx, cy = at(0.45, 0.72)  # (the click may have scrolled the notebook)
    lasso = [
        (cx + 0.3 * r, cy - 1.4 * r),
        (cx + 1.5 * r, cy - 1.4 * r),
        (cx + 1.5 * r, cy + 1.4 * r),
        (cx + 0.3 * r, cy + 1.4 * r),
        (cx + 0.3 * r, cy - 1.3 * r),
    ]
    cut_x = voxel_at(page, cx + 0.3 * r, cy)[0]
    page.mouse.move(*lasso[0])
    page.mouse.down()
    for q in lasso[1:]:
        page.mouse.move(*q, steps=4)
    page.mouse.up()
    objs = objects_when(
        page, lambda o: all(len(kf["points"]) != len(free) for kf in of(o, "liver"))
    )
    after = next(kf["points"] for kf in of(objs, "liver") if len(kf["points"]) > 3)
    assert len(after) < len(free)
    assert all(p in free for p in after)  # only removals
    assert all(p[0] <= cut_x + 1 for p in after), (after, cut_x)
    removed = [p for p in free if p not in after]
    assert removed and all(p[0] >= cut_x - 1 for p in removed)
