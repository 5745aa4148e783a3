import { describe, expect, it } from "vitest";
import { type LabelObject, type Ontology, indexBySlice } from "../labels";
import { bridgeEdges } from "../labels";
import { type BridgeCache, LINE_WIDTH, type OverlayContext, SELECTED_WIDTH, drawOverlay, pixelSnapper, screenShape, visibleIds, voxelMatrix } from "./overlay";
import { type Geometry, IDENTITY_VIEW, imageToScreen, voxelToScreen } from "./transform";

interface Stroke {
  style: unknown;
  width: unknown;
  dash: number[];
  /** every vertex of the path, in order */
  pts: number[][];
  /** the path's contours (a moveTo starts one), each with whether it was closed */
  contours: { pts: number[][]; closed: boolean }[];
}

/** Records every call and property write, in order, and each stroked path. */
function recorder(): { ctx: OverlayContext; log: unknown[][]; strokes: Stroke[] } {
  const log: unknown[][] = [];
  const strokes: Stroke[] = [];
  const state: Record<string, unknown> = {};
  let contours: Stroke["contours"] = [];
  let dash: number[] = [];
  const last = () => contours[contours.length - 1];
  const moveTo = (x: number, y: number) => contours.push({ pts: [[x, y]], closed: false });
  const lineTo = (x: number, y: number) => (last() ? last()!.pts.push([x, y]) : moveTo(x, y));
  const target = {
    beginPath: () => {
      contours = [];
    },
    moveTo,
    lineTo,
    closePath: () => {
      if (last()) last()!.closed = true;
    },
    arc: () => {},
    stroke: () => strokes.push({ style: state.strokeStyle, width: state.lineWidth, dash, pts: contours.flatMap((c) => c.pts), contours: contours.map((c) => ({ ...c, pts: [...c.pts] })) }),
    fill: () => log.push(["fill", state.fillStyle]),
    fillText: (t: string, x: number, y: number) => log.push(["fillText", t, x, y, state.fillStyle]),
    strokeText: () => {},
    rect: (x: number, y: number, w: number, h: number) => {
      moveTo(x, y);
      lineTo(x + w, y);
      lineTo(x + w, y + h);
      lineTo(x, y + h);
      last()!.closed = true;
    },
    fillRect: (x: number, y: number, w: number, h: number) => log.push(["fillRect", x, y, w, h, state.fillStyle]),
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

  it("draws 500 objects a few per stroke, each its own contour, setting each colour once", () => {
    const many: LabelObject[] = Array.from({ length: 500 }, (_, i) => ({
      uuid: `u${i}`,
      object_id: i + 1,
      feature: i % 2 ? "liver" : "lesion",
      shape: i % 2 ? "polygon" : "bounding_box",
      keyframes: { "0": i % 2 ? { points: Array.from({ length: 24 }, (_, j) => [30 + 10 * Math.cos(j / 4), 20 + 10 * Math.sin(j / 4)] as [number, number]) } : { box: [1, 1, 9, 9] } },
    }));
    const { ctx, strokes, log } = recorder();
    const m = voxelMatrix(imageToScreen(g, IDENTITY_VIEW));
    drawOverlay(ctx, indexBySlice(many, "axial").get("0")!, m, { ontology, selected: null });
    // a few objects per stroke (neither one stroke each nor one for all), in the class colour
    expect(strokes.length).toBeGreaterThan(10);
    expect(strokes.length).toBeLessThan(100);
    expect(strokes.every((s) => s.pts.length <= 128 + 24 && s.width === LINE_WIDTH)).toBe(true);
    // every object is one closed contour of its own vertices
    const red = strokes.filter((s) => s.style === "#e6194b").flatMap((s) => s.contours);
    const green = strokes.filter((s) => s.style === "#3cb44b").flatMap((s) => s.contours);
    expect(red.map((c) => c.pts.length)).toEqual(Array(250).fill(24));
    expect(green.map((c) => c.pts.length)).toEqual(Array(250).fill(4));
    expect([...red, ...green].every((c) => c.closed)).toBe(true);
    // a box: its snapped corners clockwise from (x0, y0), as a path of its own would have them
    const snap = pixelSnapper(ctx, LINE_WIDTH);
    const corner = (x: number, y: number) => voxelToScreen(g, IDENTITY_VIEW, x, y).map(snap);
    expect(green[0]!.pts).toEqual([corner(1, 1), corner(9, 1), corner(9, 9), corner(1, 9)]);
    // the outline colour is set once per colour, not per object
    const outlineStyles = log.filter((c) => c[0] === "set" && c[1] === "strokeStyle" && String(c[2]).startsWith("#"));
    expect(outlineStyles).toHaveLength(2);
    // the 500 objects lie on two spots: one id is written per spot (the others would cover
    // it), above the object's topmost vertex, in the object's colour, on a dark box
    const ids = log.filter((c) => c[0] === "fillText");
    expect(ids.map((c) => c[1])).toEqual(["1", "2"]);
    expect(ids.find((c) => c[1] === "2")![4]).toBe("#e6194b");
    expect(ids.find((c) => c[1] === "1")![4]).toBe("#3cb44b");
    const boxes = log.filter((c) => c[0] === "fillRect");
    expect(boxes).toHaveLength(2);
    for (const [, t, x, y] of ids) {
      // the box holds the text: from just left of its anchor to past its last digit, and
      // from above its top down to its baseline
      const [, bx, by, bw, bh] = boxes.find((b) => Math.abs((b[1] as number) - (x as number)) < 3)! as number[];
      expect(bx).toBeLessThan(x as number);
      expect(bx! + bw!).toBeGreaterThan((x as number) + 6 * String(t).length);
      expect(by).toBeLessThanOrEqual((y as number) - 11);
      expect(by! + bh!).toBeGreaterThanOrEqual(y as number);
    }
  });

  it("dashes exactly the interpolated outlines when several share a stroke", () => {
    const mixed: LabelObject[] = Array.from({ length: 60 }, (_, i) => ({
      uuid: `m${i}`,
      object_id: i + 1,
      feature: "lesion",
      shape: "bounding_box",
      keyframes: { "0": { manual: i % 3 !== 0, box: [i, 1, i + 5, 9] } },
    }));
    const { ctx, strokes } = recorder();
    drawOverlay(ctx, indexBySlice(mixed, "axial").get("0")!, voxelMatrix(imageToScreen(g, IDENTITY_VIEW)), { ontology, selected: null });
    const left = (s: Stroke) => s.contours.map((c) => c.pts[0]![0]!);
    const dashed = strokes.filter((s) => s.dash.length > 0).flatMap(left);
    const solid = strokes.filter((s) => s.dash.length === 0).flatMap(left);
    const x = (i: number) => pixelSnapper(ctx, LINE_WIDTH)(voxelToScreen(g, IDENTITY_VIEW, i, 1)[0]);
    expect(dashed).toEqual(mixed.map((_, i) => i).filter((i) => i % 3 === 0).map(x));
    expect(solid).toEqual(mixed.map((_, i) => i).filter((i) => i % 3 !== 0).map(x));
  });

  it("leaves out the bridges of a keyhole polygon drawn among others", () => {
    // square 0..10 with a hole 4..6, joined by the bridge (0,5) <-> (4,5); then a triangle
    const ring: [number, number][] = [
      [0, 0], [10, 0], [10, 10], [0, 10], [0, 5],
      [4, 5], [4, 6], [6, 6], [6, 4], [4, 4], [4, 5],
      [0, 5],
    ];
    const objs: LabelObject[] = [
      { uuid: "k", object_id: 1, feature: "liver", shape: "polygon", keyframes: { "0": { points: ring } } },
      { uuid: "t", object_id: 2, feature: "liver", shape: "polygon", keyframes: { "0": { points: [[20, 20], [30, 20], [25, 28]] } } },
    ];
    const { ctx, strokes } = recorder();
    const m: [number, number, number, number, number, number] = [10, 0, 0, 10, 0, 0];
    const items = indexBySlice(objs, "axial").get("0")!;
    const bridges: BridgeCache = new WeakMap();
    // without a cache, then twice with one (the second frame reads what the first found)
    for (const cache of [undefined, bridges, bridges]) {
      strokes.length = 0;
      drawOverlay(ctx, items, m, { ontology, selected: null, bridges: cache });
      expect(strokes).toHaveLength(1);
      const segments = strokes[0]!.contours.flatMap((c) => c.pts.slice(1).map((q, i) => [c.pts[i]!, q]));
      const along = (p: number[], q: number[], y: number, x0: number, x1: number) =>
        p[1] === y && q[1] === y && Math.min(p[0]!, q[0]!) <= x0 && Math.max(p[0]!, q[0]!) >= x1;
      // no segment along the bridge (y = 50.5 between x = 0.5 and 40.5), the hole's edges are there
      expect(segments.some(([p, q]) => along(p!, q!, 50.5, 0.5, 40.5))).toBe(false);
      expect(segments.some(([p, q]) => along(p!, q!, 60.5, 40.5, 60.5))).toBe(true);
      // the triangle after it is closed as its own contour
      expect(strokes[0]!.contours.at(-1)).toEqual({ pts: [[200.5, 200.5], [300.5, 200.5], [250.5, 280.5]], closed: true });
    }
    expect(bridges.get(ring)).toEqual(new Set([4, 10])); // found once, kept by the view's cache
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
    expect(fills).toBe(1); // one colour: all (three) dots filled at once
    expect(log.filter((c) => c[0] === "fillRect")).toHaveLength(2); // the boxes behind the ids
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

describe("visibleIds", () => {
  /** The ids to write, found the slow way: each against every one kept before it. */
  function reference(text: string[], xy: number[], first: number): number[] {
    const box = (i: number) => {
      const x0 = xy[2 * i]! - 1.5;
      const y0 = xy[2 * i + 1]! - 12;
      return [x0, y0, x0 + 6.5 * text[i]!.length + 3, y0 + 13] as const;
    };
    const kept: number[] = [];
    const order = first >= 0 ? [first, ...text.keys()].filter((i, k) => k === 0 || i !== first) : [...text.keys()];
    for (const i of order) {
      const [a0, b0, a1, b1] = box(i);
      if (kept.every((j) => { const [c0, d0, c1, d1] = box(j); return !(a0 < c1 && a1 > c0 && b0 < d1 && b1 > d0); })) kept.push(i);
    }
    return kept;
  }

  it("keeps the same ids as checking each against all kept before it", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [n, span] of [[300, 500], [200, 5e6], [50, 40]] as const) {
      const text = Array.from({ length: n }, () => String(1 + Math.floor(rand() * 2000)));
      const xy = Array.from({ length: 2 * n }, () => (rand() - 0.3) * span);
      for (const first of [-1, 0, Math.floor(n / 2)]) expect(visibleIds(text, xy, first)).toEqual(reference(text, xy, first));
    }
  });

  it("writes no id at a position that is not a number or absurdly far", () => {
    expect(visibleIds(["1", "2", "3"], [10, 10, Number.NaN, 5, 100, Number.POSITIVE_INFINITY], 1)).toEqual([0]);
    expect(visibleIds(["1", "2", "3"], [-1e308, 0, 1e308, 0, 5, 5], -1)).toEqual([2]);
    expect(visibleIds([], [], -1)).toEqual([]);
  });
});
