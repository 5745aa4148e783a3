import { describe, expect, it } from "vitest";
import type { Measurement } from "../labels";
import { segmentDistance } from "./freehand";
import { measurementAt } from "./measure";

const I: [number, number, number, number, number, number] = [1, 0, 0, 1, 0, 0];

function m(uuid: string, kind: Measurement["kind"], points: [number, number][]): Measurement {
  return { uuid, kind, plane: "axial", slice: 0, points, label: "" };
}

describe("segmentDistance", () => {
  it("measures to the nearest point of the segment, ends included", () => {
    expect(segmentDistance([5, 3], [0, 0], [10, 0])).toBe(3);
    expect(segmentDistance([13, 4], [0, 0], [10, 0])).toBe(5);
    expect(segmentDistance([3, 4], [0, 0], [0, 0])).toBe(5);
  });
});

describe("measurementAt", () => {
  const list = [m("d", "distance", [[0, 0], [100, 0]]), m("a", "area", [[0, 50], [40, 50], [40, 90]])];
  it("finds the measurement whose line passes near the point", () => {
    expect(measurementAt(list, [50, 4], I)?.uuid).toBe("d");
    expect(measurementAt(list, [50, 7], I)).toBeNull();
    // an area's closing side counts
    expect(measurementAt(list, [20, 70], I)?.uuid).toBe("a");
  });
  it("works in screen space through the view matrix", () => {
    const zoom2: typeof I = [2, 0, 0, 2, 10, 10];
    expect(measurementAt(list, [110, 15], zoom2)?.uuid).toBe("d");
    expect(measurementAt(list, [110, 20], zoom2)).toBeNull();
  });
});
