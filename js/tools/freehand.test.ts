import { describe, expect, it } from "vitest";
import type { Point } from "../labels";
import { Stroke, simplify, simplifyIndices, simplifyOnScreen } from "./freehand";

describe("Douglas-Peucker simplification", () => {
  it("keeps the ends and drops points within the tolerance of a straight run", () => {
    const line: Point[] = [
      [0, 0],
      [1, 0.1],
      [2, -0.1],
      [3, 0.05],
      [4, 0],
    ];
    expect(simplify(line, 0.5)).toEqual([
      [0, 0],
      [4, 0],
    ]);
    // a tolerance below the wiggle keeps them all
    expect(simplifyIndices(line, 0.01)).toEqual([0, 1, 2, 3, 4]);
  });

  it("keeps corners farther than the tolerance", () => {
    const l: Point[] = [
      [0, 0],
      [5, 0],
      [10, 0],
      [10, 5],
      [10, 10],
    ];
    expect(simplify(l, 1)).toEqual([
      [0, 0],
      [10, 0],
      [10, 10],
    ]);
  });

  it("handles a closed loop (first point = last point) and tiny inputs", () => {
    const loop: Point[] = [];
    for (let i = 0; i <= 64; i++) loop.push([10 * Math.cos((2 * Math.PI * i) / 64), 10 * Math.sin((2 * Math.PI * i) / 64)]);
    const coarse = simplify(loop, 2);
    const fine = simplify(loop, 0.1);
    expect(coarse.length).toBeGreaterThanOrEqual(4);
    expect(coarse.length).toBeLessThan(fine.length);
    expect(fine.length).toBeLessThan(loop.length);
    expect(simplify([], 1)).toEqual([]);
    expect(simplify([[1, 2]], 1)).toEqual([[1, 2]]);
  });

  it("measures the tolerance on screen: zoomed in, the same stroke keeps more points", () => {
    const wiggle: Point[] = [];
    for (let i = 0; i <= 40; i++) wiggle.push([i, i % 2 === 0 ? 0 : 0.3]);
    const zoomedOut = simplifyOnScreen(wiggle, [1, 0, 0, 1, 0, 0], 2);
    const zoomedIn = simplifyOnScreen(wiggle, [10, 0, 0, 10, 5, 5], 2);
    expect(zoomedOut).toHaveLength(2);
    expect(zoomedIn.length).toBeGreaterThan(30);
    // voxel points come back, not screen points
    expect(zoomedIn[1]).toEqual([1, 0.3]);
  });

  it("a stroke skips moves shorter than the step", () => {
    const s = new Stroke();
    s.add([1, 1], 1); // not started: ignored
    expect(s.active).toBe(false);
    s.start([0, 0]);
    s.add([0.2, 0], 1);
    s.add([1.5, 0], 1);
    expect(s.finish()).toEqual([
      [0, 0],
      [1.5, 0],
    ]);
    expect(s.active).toBe(false);
  });
});
