import { describe, expect, it } from "vitest";
import type { Measurement } from "../labels";
import { parseMeasurements } from "../labels";
import { drawMeasurements, measurementValue, measurementsOn, planeSpacing } from "./measurements";

const info = { spacing: [5, 0.5, 0.8] as [number, number, number], spacing_known: true };
const unknown = { spacing: [1, 1, 1] as [number, number, number], spacing_known: false };

function m(kind: Measurement["kind"], points: [number, number][], extra: Partial<Measurement> = {}): Measurement {
  return { uuid: "u", kind, plane: "axial", slice: 2, points, label: "", ...extra };
}

describe("measurementValue", () => {
  it("measures a distance in mm with the column and row spacing", () => {
    // 30 columns x 0.8 = 24 mm, 64 rows x 0.5 = 32 mm: 40 mm
    expect(measurementValue(m("distance", [[0, 0], [30, 64]]), info)).toBe("40.00 mm");
    expect(measurementValue(m("distance", [[0, 0], [300, 640]]), info)).toBe("400.0 mm");
  });
  it("says px when the pixel spacing is unknown", () => {
    expect(measurementValue(m("distance", [[0, 0], [3, 4]]), unknown)).toBe("5.00 px");
    expect(measurementValue(m("area", [[0, 0], [4, 0], [4, 5]]), unknown)).toBe("10.00 px²");
  });
  it("measures an area in mm² whatever the winding", () => {
    const square = [[0, 0], [10, 0], [10, 10], [0, 10]] as [number, number][];
    expect(measurementValue(m("area", square), info)).toBe("40.00 mm²"); // 8 mm x 5 mm
    expect(measurementValue(m("area", [...square].reverse()), info)).toBe("40.00 mm²");
  });
  it("measures an angle in millimetres, vertex in the middle", () => {
    expect(measurementValue(m("angle", [[10, 0], [0, 0], [0, 10]]), unknown)).toBe("90.0°");
    // in mm the arms are (8, 0) and (0, 5): still 90; a diagonal is not 45 in mm
    expect(measurementValue(m("angle", [[10, 0], [0, 0], [10, 10]]), unknown)).toBe("45.0°");
    expect(measurementValue(m("angle", [[10, 0], [0, 0], [10, 10]]), info)).toBe("32.0°");
  });
  it("uses the plane's own axes on reformats", () => {
    expect(planeSpacing("coronal", info)).toEqual([0.8, 5]);
    expect(planeSpacing("sagittal", info)).toEqual([0.5, 5]);
    expect(measurementValue(m("distance", [[0, 0], [0, 2]], { plane: "coronal" }), info)).toBe("10.00 mm");
  });
});

describe("parseMeasurements", () => {
  it("keeps well-formed measurements and drops the rest", () => {
    const good = m("distance", [[1, 1], [4, 5]]);
    const raw = [
      good,
      { ...good, kind: "volume" },
      { ...good, points: [[1, 1]] },
      { ...good, points: [[1, 1], [2, Number.NaN]] },
      { ...good, slice: 1.5 },
      { ...good, label: 3 },
      "nonsense",
    ];
    expect(parseMeasurements(raw)).toEqual([good]);
    expect(parseMeasurements("x")).toEqual([]);
  });
});

describe("drawMeasurements", () => {
  it("draws the slice's measurements with their label as text", () => {
    const calls: string[] = [];
    const ctx = {
      beginPath: () => calls.push("begin"),
      moveTo: () => undefined,
      lineTo: () => undefined,
      closePath: () => calls.push("close"),
      stroke: () => calls.push("stroke"),
      fillText: (t: string) => calls.push(`text ${t}`),
      strokeText: () => undefined,
      setLineDash: () => undefined,
      lineWidth: 1,
      strokeStyle: "",
      fillStyle: "",
      font: "",
      textBaseline: "alphabetic" as CanvasTextBaseline,
      lineJoin: "miter" as CanvasLineJoin,
    };
    const list = [
      m("distance", [[0, 0], [30, 64]], { label: "<img src=x onerror=alert(1)>" }),
      m("area", [[0, 0], [10, 0], [10, 10]], { slice: 3 }),
    ];
    const shown = measurementsOn(list, "axial", 2);
    const texts = drawMeasurements(ctx, shown, [1, 0, 0, 1, 0, 0], info);
    expect(texts).toEqual(["<img src=x onerror=alert(1)>: 40.00 mm"]);
    expect(calls).toEqual(["begin", "stroke", "text <img src=x onerror=alert(1)>: 40.00 mm"]);
  });
});
