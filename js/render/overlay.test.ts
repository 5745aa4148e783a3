import { describe, expect, it } from "vitest";
import { type LabelObject, type Ontology, indexBySlice } from "../labels";
import { LINE_WIDTH, type OverlayContext, SELECTED_WIDTH, bridgeEdges, drawOverlay, pixelSnapper, screenShape, voxelMatrix } from "./overlay";
import { type Geometry, IDENTITY_VIEW, imageToScreen, voxelToScreen } from "./transform";

/** Records every call and property write, in order. */
function recorder(): { ctx: OverlayContext; log: unknown[][]; strokes: { style: unknown; width: unknown; dash: number[]; pts: number[][] }[] } {
  const log: unknown[][] = [];
  const strokes: { style: unknown; width: unknown; dash: number[]; pts: number[][] }[] = [];
  const state: Record<string, unknown> = {};
  let pts: number[][] = [];
  let dash: number[] = [];
  const target = {
    beginPath: () => {
      pts = [];
    },
    moveTo: (x: number, y: number) => pts.push([x, y]),
    lineTo: (x: number, y: number) => pts.push([x, y]),
    closePath: () => {},
    arc: () => {},
    stroke: () => strokes.push({ style: state.strokeStyle, width: state.lineWidth, dash, pts: [...pts] }),
    fill: () => {},
    fillText: (t: string, x: number, y: number) => log.push(["fillText", t, x, y, state.fillStyle]),
    strokeText: () => {},
    rect: () => {},
    setLineDash: (d: number[]) => {
      dash = d;
    },
  };
  const ctx = new Proxy(target, {
    set(_t, k, v) {
      state[k as string] = v;
      log.push(["set", k, v]);
      return true;
    },
    get(t, k) {
      if (k in t) return (t as Record<string | symbol, unknown>)[k];
      return state[k as string];
    },
  }) as unknown as OverlayContext;
  return { ctx, log, strokes };
}

const ontology: Ontology = {
  objects: [
    { id: "liver", name: "Liver", shape: "polygon", color: "#e6194b" },
    { id: "lesion", name: "Lesion", shape: "bounding_box", color: "#3cb44b" },
  ],
};
const objects: LabelObject[] = [
  {
    uuid: "a",
    object_id: 1,
    feature: "liver",
    shape: "polygon",
    plane: "axial",
    keyframes: {
      "4": { manual: true, points: [[10, 10], [20, 10], [20, 20]] },
      "5": { manual: false, points: [[11, 10], [21, 10], [21, 20]] },
    },
  },
  { uuid: "b", object_id: 2, feature: "lesion", shape: "bounding_box", plane: "axial", keyframes: { "4": { manual: true, box: [1, 2, 5, 8] } } },
  { uuid: "c", object_id: 3, feature: "lesion", shape: "bounding_box", plane: "coronal", keyframes: { "4": { manual: true, box: [1, 2, 5, 8] } } },
];
const g: Geometry = { columns: 64, rows: 48, columnSpacing: 0.7, rowSpacing: 0.7, width: 640, height: 480 };

describe("overlay", () => {
  const index = indexBySlice(objects, "axial");

  it("indexes the plane's keyframes by slice", () => {
    expect(index.get("4")?.map((i) => i.object.uuid)).toEqual(["a", "b"]);
    expect(index.get("5")?.map((i) => i.object.uuid)).toEqual(["a"]);
    expect(index.get("6")).toBeUndefined();
  });

  it("maps voxel geometry to screen points like the view transform", () => {
    for (const v of [IDENTITY_VIEW, { ...IDENTITY_VIEW, zoom: 3, rotation: 30, pan: [4, -2] as [number, number], flipH: true }]) {
      const m = voxelMatrix(imageToScreen(g, v));
      const { pts, closed } = screenShape(m, { box: [1, 2, 5, 8] }, "bounding_box");
      expect(closed).toBe(true);
      const want = [voxelToScreen(g, v, 1, 2), voxelToScreen(g, v, 5, 2), voxelToScreen(g, v, 5, 8), voxelToScreen(g, v, 1, 8)];
      pts.forEach((p, i) => {
        expect(p[0]).toBeCloseTo(want[i]![0], 9);
        expect(p[1]).toBeCloseTo(want[i]![1], 9);
      });
    }
  });

  it("draws each object in its class colour with its id, in screen space at any zoom", () => {
    for (const zoom of [1, 8]) {
      const { ctx, log, strokes } = recorder();
      const m = voxelMatrix(imageToScreen(g, { ...IDENTITY_VIEW, zoom }));
      drawOverlay(ctx, index.get("4")!, m, { ontology, selected: null });
      expect(strokes.map((s) => s.style)).toEqual(["#e6194b", "#3cb44b"]);
      expect(strokes.every((s) => s.width === LINE_WIDTH && s.dash.length === 0)).toBe(true);
      expect(log.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["1", "2"]);
      // the polygon's vertices are where the transform puts them, on a pixel centre
      const [x, y] = voxelToScreen(g, { ...IDENTITY_VIEW, zoom }, 20, 20);
      const [sx, sy] = strokes[0]!.pts[2]!;
      expect(Math.abs(sx! - x)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(sy! - y)).toBeLessThanOrEqual(0.5);
      expect(Number.isInteger(sx! - 0.5)).toBe(true);
      expect(Number.isInteger(sy! - 0.5)).toBe(true);
    }
  });

  it("dashes interpolated keyframes, highlights the selection, hides deleted objects", () => {
    const m = voxelMatrix(imageToScreen(g, IDENTITY_VIEW));
    const five = recorder();
    drawOverlay(five.ctx, index.get("5")!, m, { ontology, selected: null });
    expect(five.strokes[0]!.dash.length).toBeGreaterThan(0);

    const sel = recorder();
    drawOverlay(sel.ctx, index.get("4")!, m, { ontology, selected: "b" });
    const wide = sel.strokes.filter((s) => s.width === SELECTED_WIDTH);
    expect(wide.map((s) => s.style)).toEqual(["#3cb44b"]);

    const hidden = recorder();
    drawOverlay(hidden.ctx, index.get("4")!, m, { ontology, selected: null, hidden: new Set(["a"]) });
    expect(hidden.strokes.map((s) => s.style)).toEqual(["#3cb44b"]);
  });

  it("skips objects entirely off screen", () => {
    const zoomed = { ...IDENTITY_VIEW, zoom: 8 }; // shows voxels ~28..36 x ~21..27
    const m = voxelMatrix(imageToScreen(g, zoomed));
    const off = recorder();
    drawOverlay(off.ctx, index.get("4")!, m, { ontology, selected: null, viewport: [640, 480] });
    expect(off.strokes).toHaveLength(0);
    const all = recorder();
    drawOverlay(all.ctx, index.get("4")!, m, { ontology, selected: null });
    expect(all.strokes).toHaveLength(2);
    const near = recorder();
    drawOverlay(near.ctx, index.get("4")!, voxelMatrix(imageToScreen(g, IDENTITY_VIEW)), { ontology, selected: null, viewport: [640, 480] });
    expect(near.strokes).toHaveLength(2);
  });

  it("draws the draft: a box from its two corners, a polygon with the rubber band", () => {
    const m = voxelMatrix(imageToScreen(g, IDENTITY_VIEW));
    const box = recorder();
    drawOverlay(box.ctx, [], m, { ontology, selected: null, draft: { shape: "bounding_box", color: "#fff", points: [[1, 1], [3, 4]] } });
    expect(box.strokes).toHaveLength(1);
    expect(box.strokes[0]!.pts).toHaveLength(4);
    const poly = recorder();
    drawOverlay(poly.ctx, [], m, { ontology, selected: null, draft: { shape: "polygon", color: "#fff", points: [[1, 1], [3, 1]], cursor: [3, 3] } });
    expect(poly.strokes[0]!.pts).toHaveLength(3);
    expect(poly.strokes[1]!.dash.length).toBeGreaterThan(0); // the closing edge
  });

  it("draws 500 objects as one small stroke each, setting each colour once", () => {
    const many: LabelObject[] = Array.from({ length: 500 }, (_, i) => ({
      uuid: `u${i}`,
      object_id: i + 1,
      feature: i % 2 ? "liver" : "lesion",
      shape: i % 2 ? "polygon" : "bounding_box",
      keyframes: { "0": i % 2 ? { points: Array.from({ length: 24 }, (_, j) => [30 + 10 * Math.cos(j / 4), 20 + 10 * Math.sin(j / 4)] as [number, number]) } : { box: [1, 1, 9, 9] } },
    }));
    const { ctx, strokes, log } = recorder();
    drawOverlay(ctx, indexBySlice(many, "axial").get("0")!, voxelMatrix(imageToScreen(g, IDENTITY_VIEW)), { ontology, selected: null });
    // every outline stroked on its own (small paths rasterise fastest), in its class colour
    expect(strokes).toHaveLength(500);
    expect(strokes.filter((s) => s.style === "#e6194b").map((s) => s.pts.length)).toEqual(Array(250).fill(24));
    expect(strokes.filter((s) => s.style === "#3cb44b").map((s) => s.pts.length)).toEqual(Array(250).fill(4));
    expect(strokes.every((s) => s.width === LINE_WIDTH)).toBe(true);
    // the outline colour is set once per colour, not per object
    const outlineStyles = log.filter((c) => c[0] === "set" && c[1] === "strokeStyle" && String(c[2]).startsWith("#"));
    expect(outlineStyles).toHaveLength(2);
    // the 500 objects lie on two spots: one id is written per spot (the others would cover
    // it), above the object's topmost vertex, in the object's colour
    const ids = log.filter((c) => c[0] === "fillText");
    expect(ids.map((c) => c[1])).toEqual(["1", "2"]);
    expect(ids.find((c) => c[1] === "2")![4]).toBe("#e6194b");
    expect(ids.find((c) => c[1] === "1")![4]).toBe("#3cb44b");
  });

  it("writes every id that does not overlap another, the selected object's first", () => {
    const spread: LabelObject[] = Array.from({ length: 40 }, (_, i) => ({
      uuid: `s${i}`,
      object_id: i + 1,
      feature: "lesion",
      shape: "bounding_box",
      keyframes: { "0": { box: [2 + 30 * (i % 8), 20 + 30 * Math.floor(i / 8), 12 + 30 * (i % 8), 30 + 30 * Math.floor(i / 8)] } },
    }));
    const m = voxelMatrix(imageToScreen(g, IDENTITY_VIEW));
    const apart = recorder();
    drawOverlay(apart.ctx, indexBySlice(spread, "axial").get("0")!, m, { ontology, selected: null });
    expect(apart.log.filter((c) => c[0] === "fillText")).toHaveLength(40);
    // the same boxes 0.1 voxel apart: ids of neighbours overlap; the selected one's is kept
    const close = spread.map((o, i) => ({ ...o, keyframes: { "0": { box: [2 + 0.1 * i, 20, 12 + 0.1 * i, 30] as [number, number, number, number] } } }));
    const crowd = recorder();
    drawOverlay(crowd.ctx, indexBySlice(close, "axial").get("0")!, m, { ontology, selected: "s5" });
    const written = crowd.log.filter((c) => c[0] === "fillText").map((c) => c[1]);
    expect(written[0]).toBe("6");
    expect(written.length).toBeGreaterThan(1);
    expect(written.length).toBeLessThan(40);
    // no two written ids overlap
    const spans: [number, number][] = crowd.log
      .filter((c) => c[0] === "fillText")
      .map((c) => [c[2] as number, (c[2] as number) + 6.5 * String(c[1]).length]);
    spans.forEach(([a0, a1], i) => {
      for (const [b0, b1] of spans.slice(i + 1)) expect(a0 < b1 + 3 && b0 < a1 + 3).toBe(false);
    });
  });

  it("draws points and primitive nodes as dots, and skips mask keyframes", () => {
    const things: LabelObject[] = [
      { uuid: "p", object_id: 1, feature: "lesion", shape: "point", keyframes: { "0": { point: [5, 5] } } },
      { uuid: "q", object_id: 2, feature: "lesion", shape: "primitive", keyframes: { "0": { nodes: { a: [1, 1], b: [3, 3] } } } },
      { uuid: "r", object_id: 3, feature: "liver", shape: "bitmask", keyframes: { "0": { mask_area: 12 } } },
    ];
    const { ctx, strokes, log } = recorder();
    let fills = 0;
    let arcs = 0;
    const counting = new Proxy(ctx, {
      get(t, k) {
        if (k === "fill") return () => fills++;
        if (k === "arc") return () => arcs++;
        return (t as unknown as Record<string | symbol, unknown>)[k];
      },
      set(t, k, v) {
        (t as unknown as Record<string | symbol, unknown>)[k] = v;
        return true;
      },
    });
    drawOverlay(counting, indexBySlice(things, "axial").get("0")!, voxelMatrix(imageToScreen(g, IDENTITY_VIEW)), { ontology, selected: null });
    expect(strokes).toHaveLength(0);
    expect(arcs).toBe(3);
    expect(fills).toBe(2); // one colour: all dots filled at once; then the boxes behind the ids, at once
    expect(log.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["1", "2"]);
  });

  it("snaps outlines to whole device pixels at any device pixel ratio", () => {
    const at = (scale: number) => ({ getTransform: () => ({ a: scale, b: 0, c: 0, d: scale }) }) as unknown as OverlayContext;
    // ratio 1, 1 px lines: centres of pixels
    const one = pixelSnapper(at(1), 1);
    expect([3.2, 3.9, -0.2].map(one)).toEqual([3.5, 3.5, -0.5]);
    // ratio 2, 1 CSS px = 2 device px: on device pixel edges (half CSS pixels)
    const two = pixelSnapper(at(2), 1);
    expect([3.2, 3.3, 3.9].map(two)).toEqual([3, 3.5, 4]);
    // ratio 1.5, 1 CSS px = 1.5 -> 2 device px: device pixel edges
    const odd = pixelSnapper(at(1.5), 1);
    expect(odd(3.2) * 1.5).toBe(5);
    // no getTransform (a recording context): ratio 1
    expect(pixelSnapper({} as OverlayContext, 1)(7.1)).toBe(7.5);
  });
});

describe("keyhole rings", () => {
  it("finds the zero-width bridges joining a hole to its polygon", () => {
    // square 0..10 with a hole 4..6, joined by the bridge (0,5) <-> (4,5)
    const ring: [number, number][] = [
      [0, 0], [10, 0], [10, 10], [0, 10], [0, 5],
      [4, 5], [4, 6], [6, 6], [6, 4], [4, 4], [4, 5],
      [0, 5],
    ];
    const bridges = bridgeEdges(ring);
    expect(bridges).not.toBeNull();
    expect([...(bridges as Set<number>)].sort((x, y) => x - y)).toEqual([4, 10]);
    expect(bridgeEdges([[0, 0], [10, 0], [10, 10], [0, 10]])).toBeNull();
  });
});
