import { describe, expect, it } from "vitest";
import { PolygonTool, polygonFrom } from "./polygon";

describe("polygon tool", () => {
  it("places vertices and closes on the first vertex", () => {
    const t = new PolygonTool();
    expect(t.click([1, 1], 0.5)).toBeNull();
    expect(t.click([10.00049, 1], 0.5)).toBeNull();
    expect(t.click([10, 8], 0.5)).toBeNull();
    t.move([5, 9]);
    expect(t.cursor).toEqual([5, 9]);
    expect(t.click([1.2, 1.1], 0.5)).toEqual({ points: [[1, 1], [10, 1], [10, 8]] });
    expect(t.active).toBe(false);
  });

  it("ignores the second click of a double-click, then finishes", () => {
    const t = new PolygonTool();
    t.click([0, 0], 0.5);
    t.click([4, 0], 0.5);
    t.click([4, 3], 0.5);
    t.click([4.1, 3], 0.5); // same vertex (second click)
    expect(t.points).toHaveLength(3);
    expect(t.finish()).toEqual({ points: [[0, 0], [4, 0], [4, 3]] });
  });

  it("refuses fewer than 3 distinct vertices and collinear ones", () => {
    const t = new PolygonTool();
    t.click([0, 0], 0.1);
    t.click([4, 0], 0.1);
    expect(t.finish()).toEqual({ error: "a polygon needs at least 3 distinct vertices, got 2" });
    expect(polygonFrom([[0, 0], [1, 1], [0, 0], [1, 1]])).toHaveProperty("error");
    expect((polygonFrom([[0, 0], [1, 1], [2, 2]]) as { error: string }).error).toMatch(/non-zero area/);
    expect(polygonFrom([[0, 0], [2, 0], [2, 2], [0, 0]])).toEqual({ points: [[0, 0], [2, 0], [2, 2]] });
  });

  it("Escape cancels and Backspace removes the last vertex", () => {
    const t = new PolygonTool();
    t.click([0, 0], 0.1);
    t.click([4, 0], 0.1);
    t.undoVertex();
    expect(t.points).toEqual([[0, 0]]);
    t.cancel();
    expect(t.active).toBe(false);
    expect(t.cursor).toBeNull();
  });
});
