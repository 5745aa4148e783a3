import { describe, expect, it } from "vitest";
import type { Keyframe, OntologyClass, Point } from "../labels";
import type { Matrix } from "../render/transform";
import {
  cycleEdge,
  deleteVertex,
  dragTo,
  edgeStates,
  handles,
  hitHandle,
  insertVertex,
  placeTemplate,
  projectOnSegment,
  removeInside,
  translate,
} from "./edit";
import { templateFrom } from "./primitive";
import { scissorsRegion } from "./scissors";

/** 10 CSS px per voxel, no offset */
const M: Matrix = [10, 0, 0, 10, 0, 0];
const square: Keyframe = {
  points: [
    [10, 10],
    [20, 10],
    [20, 20],
    [10, 20],
  ],
};
const SKELETON: OntologyClass = {
  id: "arm",
  name: "Arm",
  shape: "primitive",
  nodes: [
    { id: "a", name: "A", position: [0, 0] },
    { id: "b", name: "B", position: [1, 0.5] },
    { id: "c", name: "C", position: [0.5, 1] },
  ],
  edges: [
    ["a", "b"],
    ["b", "c"],
  ],
};

describe("handles and hit testing", () => {
  it("finds vertices, midpoints, edges and the inside of a polygon", () => {
    expect(hitHandle(square, "polygon", M, [201, 99], 7)).toEqual({ kind: "vertex", index: 1 });
    expect(hitHandle(square, "polygon", M, [150, 100], 7)).toEqual({ kind: "mid", index: 0 });
    expect(hitHandle(square, "polygon", M, [100, 150], 7)).toEqual({ kind: "mid", index: 3 }); // closing edge
    expect(hitHandle(square, "polygon", M, [130, 102], 7)).toEqual({ kind: "segment", index: 0 });
    expect(hitHandle(square, "polygon", M, [150, 150], 7)).toEqual({ kind: "body" });
    expect(hitHandle(square, "polygon", M, [300, 300], 7)).toBeNull();
    // a polyline has no closing edge and no inside
    expect(hitHandle(square, "polyline", M, [100, 150], 7)).toBeNull();
    expect(hitHandle(square, "polyline", M, [150, 150], 7)).toBeNull();
  });

  it("gives a box corners and sides, and primitive edge controls only when shown", () => {
    const box: Keyframe = { box: [10, 10, 30, 20] };
    expect(hitHandle(box, "bounding_box", M, [300, 200], 7)).toEqual({ kind: "corner", index: 2 });
    expect(hitHandle(box, "bounding_box", M, [200, 101], 7)).toEqual({ kind: "side", index: 0 });
    expect(hitHandle(box, "bounding_box", M, [300, 150], 7)).toEqual({ kind: "side", index: 1 });
    expect(hitHandle(box, "bounding_box", M, [150, 150], 7)).toEqual({ kind: "body" });
    const prim: Keyframe = { nodes: { a: [0, 0], b: [10, 5], c: [5, 10] }, edges: ["visible", "occluded"] };
    expect(hitHandle(prim, "primitive", M, [50, 25], 7, { cls: SKELETON })).toBeNull();
    expect(hitHandle(prim, "primitive", M, [50, 25], 7, { cls: SKELETON, controls: true })).toEqual({ kind: "edge", index: 0 });
    expect(hitHandle(prim, "primitive", M, [101, 49], 7, { cls: SKELETON })).toEqual({ kind: "node", id: "b" });
    expect(handles({ point: [1, 2] }, "point", M)).toEqual([{ handle: { kind: "vertex", index: 0 }, at: [10, 20] }]);
  });

  it("skips midpoint handles on edges too short on screen", () => {
    const tiny: Keyframe = {
      points: [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
    };
    expect(handles(tiny, "polygon", M).filter((h) => h.handle.kind === "mid")).toEqual([]);
  });
});

describe("drags", () => {
  it("moves a vertex, inserts at a midpoint, refuses a degenerate polygon", () => {
    expect(dragTo(square, "polygon", { kind: "vertex", index: 2 }, [20, 20], [25.12345, 22], 64, 48)).toEqual({
      geometry: {
        points: [
          [10, 10],
          [20, 10],
          [25.123, 22],
          [10, 20],
        ],
      },
    });
    const ins = dragTo(square, "polygon", { kind: "mid", index: 0 }, [15, 10], [15, 5], 64, 48);
    expect("geometry" in ins && ins.geometry.points?.[1]).toEqual([15, 5]);
    const tri: Keyframe = {
      points: [
        [0, 0],
        [10, 0],
        [0, 10],
      ],
    };
    // dragging a vertex onto another leaves 2 distinct vertices: refused
    expect(dragTo(tri, "polygon", { kind: "vertex", index: 2 }, [0, 10], [10, 0], 64, 48)).toHaveProperty("error");
  });

  it("resizes a box by corner (flipping past the opposite one) and side", () => {
    const box: Keyframe = { box: [10, 10, 30, 20] };
    expect(dragTo(box, "bounding_box", { kind: "corner", index: 2 }, [30, 20], [40, 25], 64, 48)).toEqual({ geometry: { box: [10, 10, 40, 25] } });
    expect(dragTo(box, "bounding_box", { kind: "corner", index: 0 }, [10, 10], [35, 25], 64, 48)).toEqual({ geometry: { box: [30, 20, 35, 25] } });
    expect(dragTo(box, "bounding_box", { kind: "side", index: 3 }, [10, 15], [5, 40], 64, 48)).toEqual({ geometry: { box: [5, 10, 30, 20] } });
    expect(dragTo(box, "bounding_box", { kind: "side", index: 0 }, [20, 10], [20, 20], 64, 48)).toHaveProperty("error");
  });

  it("moves whole objects, kept inside the image", () => {
    expect(dragTo({ box: [10, 10, 30, 20] }, "bounding_box", { kind: "body" }, [15, 15], [17, 14], 64, 48)).toEqual({
      geometry: { box: [12, 9, 32, 19] },
    });
    // the box cannot leave the image: moved as far as it goes
    expect(translate({ box: [10, 10, 30, 20] }, 100, -100, 64, 48)).toEqual({ box: [43.5, -0.5, 63.5, 9.5] });
    expect(translate({ point: [3, 3] }, -10, 1.5, 64, 48)).toEqual({ point: [-0.5, 4.5] });
    expect(translate({ nodes: { a: [1, 1], b: [2, 2] }, edges: ["visible"] }, 1, 1, 64, 48)).toEqual({
      nodes: { a: [2, 2], b: [3, 3] },
      edges: ["visible"],
    });
    expect(dragTo({ point: [3, 3] }, "point", { kind: "vertex", index: 0 }, [3, 3], [7, 8], 64, 48)).toEqual({ geometry: { point: [7, 8] } });
    expect(dragTo({ nodes: { a: [1, 1], b: [2, 2] } }, "primitive", { kind: "node", id: "b" }, [2, 2], [9, 9], 64, 48)).toEqual({
      geometry: { nodes: { a: [1, 1], b: [9, 9] } },
    });
  });
});

describe("vertex insert and delete", () => {
  it("inserts on an edge at the projected point", () => {
    const p = projectOnSegment(square.points as Point[], 3, [9, 15]);
    expect(p).toEqual([10, 15]);
    const r = insertVertex(square, "polygon", 3, p);
    expect("geometry" in r && r.geometry.points).toEqual([
      [10, 10],
      [20, 10],
      [20, 20],
      [10, 20],
      [10, 15],
    ]);
  });

  it("deletes a vertex unless too few would remain", () => {
    const r = deleteVertex(square, "polygon", 0);
    expect("geometry" in r && r.geometry.points).toHaveLength(3);
    const tri: Keyframe = { points: (square.points as Point[]).slice(0, 3) };
    expect(deleteVertex(tri, "polygon", 1)).toEqual({
      error: "a polygon needs at least 3 vertices: delete the object instead (Delete with no vertex chosen)",
    });
    expect(deleteVertex({ points: [[0, 0], [1, 1]] }, "polyline", 0)).toHaveProperty("error");
    expect(deleteVertex({ points: [[0, 0], [1, 1], [2, 0]] }, "polyline", 2)).toEqual({ geometry: { points: [[0, 0], [1, 1]] } });
  });
});

describe("scissors", () => {
  const ring: Keyframe = {
    points: [
      [10, 10],
      [15, 9],
      [20, 10],
      [21, 15],
      [20, 20],
      [10, 20],
    ],
  };
  it("removes every vertex inside a lasso or a box at once", () => {
    const box = scissorsRegion(
      [
        [14, 8],
        [22, 12],
        [22, 16],
      ],
      true,
    );
    expect(box).toEqual([
      [14, 8],
      [22, 8],
      [22, 16],
      [14, 16],
    ]);
    const r = removeInside(ring, "polygon", box);
    expect(r).toEqual({
      geometry: {
        points: [
          [10, 10],
          [20, 20],
          [10, 20],
        ],
      },
      removed: 3,
    });
    const lasso: Point[] = [
      [14, 7],
      [16, 7],
      [16, 11],
      [14, 11],
    ];
    expect(removeInside(ring, "polygon", lasso)).toMatchObject({ removed: 1 });
  });

  it("refuses leaving too few vertices, or cutting nothing", () => {
    const all: Point[] = [
      [0, 0],
      [30, 0],
      [30, 30],
      [0, 30],
    ];
    expect(removeInside(ring, "polygon", all)).toEqual({ error: "removing 6 vertices would leave 0; a polygon needs at least 3" });
    expect(removeInside(ring, "polygon", [[40, 40], [41, 40], [41, 41]])).toHaveProperty("error");
    expect(removeInside({ point: [1, 1] }, "point", all)).toHaveProperty("error");
    const line: Keyframe = { points: [[1, 1], [15, 15], [40, 40]] };
    expect(removeInside(line, "polyline", all)).toEqual({ error: "removing 2 vertices would leave 1; a polyline needs at least 2" });
  });
});

describe("primitives", () => {
  it("stretches the template over the dragged box, every edge visible", () => {
    expect(placeTemplate(SKELETON, [30, 40], [10, 20])).toEqual({
      geometry: { nodes: { a: [10, 20], b: [30, 30], c: [20, 40] }, edges: ["visible", "visible"] },
    });
    // a click: default size, kept inside the image
    const r = templateFrom(SKELETON, [1, 1], [1, 1], true, 10, 64, 48);
    expect(r).toEqual({ geometry: { nodes: { a: [-0.5, -0.5], b: [9.5, 4.5], c: [4.5, 9.5] }, edges: ["visible", "visible"] } });
    expect(placeTemplate({ ...SKELETON, nodes: [] }, [0, 0], [1, 1])).toHaveProperty("error");
  });

  it("cycles an edge visible -> occluded -> invisible -> visible", () => {
    const kf: Keyframe = { nodes: { a: [0, 0], b: [1, 1], c: [2, 2] } };
    expect(edgeStates(kf, SKELETON)).toEqual(["visible", "visible"]);
    const once = cycleEdge(kf, SKELETON, 1);
    expect(once).toEqual({ geometry: { nodes: kf.nodes, edges: ["visible", "occluded"] } });
    const twice = cycleEdge((once as { geometry: Keyframe }).geometry, SKELETON, 1);
    const thrice = cycleEdge((twice as { geometry: Keyframe }).geometry, SKELETON, 1);
    expect((twice as { geometry: Keyframe }).geometry.edges).toEqual(["visible", "invisible"]);
    expect((thrice as { geometry: Keyframe }).geometry.edges).toEqual(["visible", "visible"]);
    expect(cycleEdge(kf, SKELETON, 5)).toHaveProperty("error");
  });
});

/** A square 0..40 with a hole 15..25, joined by the bridge (0,20) <-> (15,20) ("keyhole"). */
const KEYHOLE: Point[] = [
  [0, 0],
  [40, 0],
  [40, 40],
  [0, 40],
  [0, 20],
  [15, 20],
  [15, 25],
  [25, 25],
  [25, 15],
  [15, 15],
  [15, 20],
  [0, 20],
];

describe("keyhole rings (a polygon with a hole, joined by a zero-width bridge)", () => {
  const ring = KEYHOLE;
  const kf: Keyframe = { points: ring };
  it("offers no midpoint handle on a bridge", () => {
    const mids = handles(kf, "polygon", M).filter((h) => h.handle.kind === "mid");
    const indices = mids.map((h) => (h.handle as { index: number }).index);
    // edges 4 (0,20)->(15,20) and 10 (15,20)->(0,20) are the bridge
    expect(indices).not.toContain(4);
    expect(indices).not.toContain(10);
    expect(indices).toContain(0);
    expect(indices).toContain(6); // an edge of the hole
  });
  it("does not hit a bridge as an outline segment", () => {
    // on the bridge, away from its ends and from any handle: inside the ring's filled part
    const h = hitHandle(kf, "polygon", M, [50, 200], 4, { minEdgePx: 1e9 });
    expect(h).toEqual({ kind: "body" });
    // on a real edge it still is one
    expect(hitHandle(kf, "polygon", M, [200, 0], 4, { minEdgePx: 1e9 })).toEqual({ kind: "segment", index: 0 });
  });
  it("moves both copies of a bridge's end together", () => {
    const r = dragTo(kf, "polygon", { kind: "vertex", index: 5 }, [15, 20], [12, 21], 100, 100);
    expect("geometry" in r).toBe(true);
    if (!("geometry" in r)) return;
    const pts = r.geometry.points as Point[];
    expect(pts[5]).toEqual([12, 21]);
    expect(pts[10]).toEqual([12, 21]);
    expect(pts[4]).toEqual([0, 20]); // the other end stays
  });
});

describe("deleting a keyhole ring's vertices", () => {
  const ring = KEYHOLE;
  it("refuses a bridge's ends, which would open the hole", () => {
    for (const i of [4, 5, 10, 11]) expect(deleteVertex({ points: ring }, "polygon", i)).toHaveProperty("error");
    // any other vertex goes
    const r = deleteVertex({ points: ring }, "polygon", 7);
    expect("geometry" in r && r.geometry.points?.length).toBe(11);
  });
});
