import { describe, expect, it } from "vitest";
import { PolylineTool, formatLength, polylineFrom, polylineLength } from "./polyline";

describe("polyline tool", () => {
  it("collects clicks, ignores the second click of a double-click, finishes", () => {
    const t = new PolylineTool();
    t.click([1.00049, 2], 0.5);
    t.click([1.1, 2.1], 0.5); // on the last vertex: the double-click's second click
    t.click([5, 6], 0.5);
    t.move([7, 7]);
    expect(t.cursor).toEqual([7, 7]);
    expect(t.points).toEqual([
      [1, 2],
      [5, 6],
    ]);
    t.undoVertex();
    t.click([9, 9], 0.5);
    expect(t.finish()).toEqual({
      points: [
        [1, 2],
        [9, 9],
      ],
    });
    expect(t.active).toBe(false);
  });

  it("refuses fewer than 2 distinct vertices", () => {
    const r = polylineFrom([
      [3, 3],
      [3, 3],
    ]);
    expect(r).toEqual({ error: "a polyline needs at least 2 distinct vertices, got 1" });
    expect(polylineFrom([[1, 1], [1, 1], [2, 2]])).toEqual({
      points: [
        [1, 1],
        [2, 2],
      ],
    });
  });

  it("measures length with the pixel spacing", () => {
    const pts: [number, number][] = [
      [0, 0],
      [3, 0],
      [3, 4],
    ];
    expect(polylineLength(pts)).toBe(7);
    expect(polylineLength(pts, 0.5, 2)).toBe(1.5 + 8);
    expect(polylineLength([[0, 0], [3, 4]], 2, 2)).toBe(10);
    expect(formatLength(10, "mm")).toBe("10.0 mm");
    expect(formatLength(3.14159, "px")).toBe("3.14 px");
    expect(formatLength(123.4, "mm")).toBe("123 mm");
  });
});
