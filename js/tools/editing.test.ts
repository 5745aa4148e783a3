import { describe, expect, it } from "vitest";
import type { LabelObject, OntologyClass, SliceItem } from "../labels";
import { Editing, drawPrimitiveEdges } from "./editing";

const ARM: OntologyClass = {
  id: "arm",
  name: "Arm",
  shape: "primitive",
  color: "#911eb4",
  nodes: [
    { id: "a", name: "A", position: [0, 0] },
    { id: "b", name: "B", position: [1, 0] },
    { id: "c", name: "C", position: [1, 1] },
  ],
  edges: [
    ["a", "b"],
    ["b", "c"],
    ["c", "a"],
  ],
};

/** Records the dash pattern, alpha and end points of every stroke. */
function recorder(): { ctx: CanvasRenderingContext2D; strokes: { dash: number[]; alpha: number; pts: number[][] }[] } {
  const strokes: { dash: number[]; alpha: number; pts: number[][] }[] = [];
  let dash: number[] = [];
  let pts: number[][] = [];
  const ctx = {
    globalAlpha: 1,
    lineWidth: 1,
    strokeStyle: "",
    beginPath: () => {
      pts = [];
    },
    moveTo: (x: number, y: number) => pts.push([x, y]),
    lineTo: (x: number, y: number) => pts.push([x, y]),
    closePath: () => {},
    setLineDash: (d: number[]) => {
      dash = d;
    },
    stroke: () => strokes.push({ dash, alpha: ctx.globalAlpha, pts }),
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, strokes };
}

describe("primitive edges", () => {
  const object: LabelObject = { uuid: "u", object_id: 1, feature: "arm", shape: "primitive", keyframes: {} };
  const item: SliceItem = {
    object,
    keyframe: { manual: true, nodes: { a: [0, 0], b: [10, 0], c: [10, 10] }, edges: ["visible", "occluded", "invisible"] },
  };
  const api = { ontology: () => ({ objects: [ARM] }), classes: () => [ARM] };

  it("draws visible edges solid, occluded dashed, invisible ones not at all", () => {
    const { ctx, strokes } = recorder();
    drawPrimitiveEdges(ctx, [2, 0, 0, 2, 0, 0], [item], api, false);
    expect(strokes).toEqual([
      { dash: [], alpha: 1, pts: [[0, 0], [20, 0]] },
      { dash: [6, 4], alpha: 1, pts: [[20, 0], [20, 20]] },
    ]);
  });

  it("shows invisible edges faintly, dotted, while the controls are on", () => {
    const { ctx, strokes } = recorder();
    drawPrimitiveEdges(ctx, [1, 0, 0, 1, 0, 0], [item], api, true);
    expect(strokes).toHaveLength(3);
    expect(strokes[2]).toEqual({ dash: [1, 4], alpha: 0.45, pts: [[10, 10], [0, 0]] });
    expect((ctx as unknown as { globalAlpha: number }).globalAlpha).toBe(1); // restored
  });

  it("names a cursor for each handle", () => {
    expect(Editing.cursorFor({ kind: "corner", index: 0 })).toBe("nwse-resize");
    expect(Editing.cursorFor({ kind: "corner", index: 1 })).toBe("nesw-resize");
    expect(Editing.cursorFor({ kind: "side", index: 1 })).toBe("ew-resize");
    expect(Editing.cursorFor({ kind: "body" })).toBe("move");
    expect(Editing.cursorFor(null)).toBe("");
  });
});
