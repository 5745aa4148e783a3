import { describe, expect, it } from "vitest";
import type { Measurement } from "../labels";
import { parseMeasurements } from "../labels";
import { Volume } from "../volume";
import { ctSeriesInfo } from "../fixtures.test-util";
import { patientMap } from "../ui/format";
import { areaStats, drawMeasurements, measurementMm, measurementValue, measurementsOn, planeSpacing, polygonRuns, splitAtSlices, volumeAreaStats } from "./measurements";

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

describe("measurements in patient millimetres (as Python's measurements_to_dataframe)", () => {
  // 0.5 mm pixels; slices 3 mm apart along z but 0.8 mm along y each: a gantry tilt, whose
  // reformats are sheared (spacing[0] is the distance along the normal, 2.898 mm)
  const tilted = {
    spacing: [2.898, 0.5, 0.5] as [number, number, number],
    spacing_known: true,
    affine: [
      [0.5, 0, 0, -100],
      [0, 0.5, 0.8, -120],
      [0, 0, 3, 40],
      [0, 0, 0, 1],
    ],
  };
  it("measures along the tilted slice axis on a reformat (QA 23a D1)", () => {
    const d = m("distance", [[10, 0], [10, 30]], { plane: "coronal", slice: 40 });
    expect(measurementMm(d, tilted)).toBeCloseTo(30 * Math.hypot(0.8, 3), 9);
    expect(measurementValue(d, tilted)).toBe("93.15 mm"); // the spacing alone said 86.94
    // an oblique one: (20 columns, 30 slices) = (10, 24, 90) mm
    const o = m("distance", [[10, 0], [30, 30]], { plane: "coronal", slice: 40 });
    expect(measurementMm(o, tilted)).toBeCloseTo(Math.hypot(10, 24, 90), 9);
    // an angle between the column axis and the slice axis is not 90 degrees in the patient
    const a = m("angle", [[20, 0], [0, 0], [0, 10]], { plane: "sagittal", slice: 3 });
    // sagittal: u = row (0, 0.5, 0), v = slice (0, 0.8, 3)
    const want = (Math.acos(0.8 / Math.hypot(0.8, 3)) * 180) / Math.PI;
    expect(measurementMm(a, tilted)).toBeCloseTo(want, 9);
    // the series' own slices keep their pixel spacing
    expect(measurementValue(m("distance", [[0, 0], [30, 40]]), tilted)).toBe("25.00 mm");
  });
  // 2.5 mm slices with 4 missing after slice 9: the headers' positions come as slice_origins
  const origins = Array.from({ length: 30 }, (_, k) => [0, 0, 2.5 * k + (k >= 10 ? 10 : 0)]);
  const gappy = {
    spacing: [2.5, 0.5, 0.5] as [number, number, number],
    spacing_known: true,
    affine: [
      [0.5, 0, 0, 0],
      [0, 0.5, 0, 0],
      [0, 0, 2.5, 0],
      [0, 0, 0, 1],
    ],
    slice_origins: origins,
  };
  it("measures across missing slices through the slices' positions (QA 23a D3)", () => {
    const d = m("distance", [[5, 5], [5, 15]], { plane: "coronal", slice: 3 });
    expect(measurementMm(d, gappy)).toBeCloseTo(35, 9); // 25 mm of slices + the 10 mm gap
    expect(measurementValue(d, gappy)).toBe("35.00 mm");
    const box = m("area", [[0, 5], [4, 5], [4, 15], [0, 15]], { plane: "sagittal", slice: 3 });
    expect(measurementMm(box, gappy)).toBeCloseTo(2 * 35, 9);
    // a fractional slice lies between its neighbours' origins; beyond the ends, extrapolated
    const map = patientMap(gappy.affine, gappy.slice_origins);
    expect(map?.(0, 0, 9.5)).toEqual([0, 0, 22.5 + 0.5 * 12.5]);
    expect(map?.(2, 0, -1)?.[0]).toBe(1);
    expect(map?.(0, 0, -1)?.[2]).toBe(-2.5);
  });
  it("bends a path where it crosses whole slices, as Python does", () => {
    expect(splitAtSlices([[0, 0.5], [4, 2.5]], false)).toEqual([[0, 0.5], [1, 1], [3, 2], [4, 2.5]]);
    expect(splitAtSlices([[0, 2.5], [4, 0.5]], false)).toEqual([[0, 2.5], [1, 2], [3, 1], [4, 0.5]]);
    expect(splitAtSlices([[0, 0], [2, 0], [2, 2]], true)).toEqual([[0, 0], [2, 0], [2, 1], [2, 2], [1, 1]]);
  });
  it("falls back to the spacing without an affine, to pixels without a spacing", () => {
    expect(measurementMm(m("distance", [[0, 0], [3, 4]]), info)).toBeNull();
    expect(measurementMm(m("distance", [[0, 0], [3, 4]]), { ...tilted, spacing_known: false })).toBeNull();
    expect(measurementValue(m("distance", [[0, 0], [3, 4]]), { ...tilted, spacing_known: false })).toBe("5.00 px");
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
    const xs: number[] = [];
    const ctx = {
      beginPath: () => calls.push("begin"),
      moveTo: () => undefined,
      lineTo: () => undefined,
      closePath: () => calls.push("close"),
      stroke: () => calls.push("stroke"),
      fillText: (t: string, x: number) => calls.push(`text ${t}`) && xs.push(x),
      strokeText: () => undefined,
      measureText: (t: string) => ({ width: 7 * t.length }) as TextMetrics,
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
    // beside its rightmost point (x 30 + 6)...
    expect(xs).toEqual([36]);
    // ...unless the text would leave the view: then it ends at the view's right edge
    const [wide] = drawMeasurements(ctx, shown, [1, 0, 0, 1, 0, 0], info, undefined, [300, 100]);
    expect(xs[1]).toBe(300 - 2 - 7 * (wide as string).length);
    // a long label is cut on the image
    const long = m("distance", [[0, 0], [30, 64]], { label: "x".repeat(100) });
    const [cut] = drawMeasurements(ctx, [long], [1, 0, 0, 1, 0, 0], info);
    expect(cut).toBe(`${"x".repeat(39)}…: 40.00 mm`);
    // an area's statistics over a MIP are its own slice's, and say so (QA 23a)
    const area = m("area", [[0, 0], [10, 0], [10, 10]]);
    const stats = { pixels: 50, mean: 40, std: 2, min: 35, max: 45 };
    const [plain] = drawMeasurements(ctx, [area], [1, 0, 0, 1, 0, 0], { ...info, units: "HU" }, () => stats);
    expect(plain).toBe("20.00 mm² · mean 40 ± 2 HU");
    const [mip] = drawMeasurements(ctx, [area], [1, 0, 0, 1, 0, 0], { ...info, units: "HU" }, () => stats, undefined, true);
    expect(mip).toBe("20.00 mm² · mean 40 ± 2 HU (its slice, not the MIP)");
  });
});

function pixels(points: [number, number][], size = 8): number[][] {
  const out: number[][] = [];
  polygonRuns(points, size, size, (row, start, end) => {
    for (let c = start; c < end; c++) out.push([row, c]);
  });
  return out;
}

describe("polygonRuns", () => {
  // expected: Python's kernels.polygons_to_mask on the same polygons (np.argwhere, row-major)
  it("gives the pixels Python's polygons_to_mask gives", () => {
    expect(pixels([[1.5, 0.2], [7.3, 2.0], [3.0, 6.0]])).toEqual([
      [1, 2], [1, 3], [1, 4], [2, 2], [2, 3], [2, 4], [2, 5], [2, 6], [2, 7], [3, 3], [3, 4], [3, 5], [3, 6], [4, 3], [4, 4], [4, 5], [5, 3], [5, 4],
    ]);
    // centres on the outline: left and top edges in, right and bottom edges out
    expect(pixels([[0, 0], [5, 0], [5, 4], [0, 4]])).toEqual([
      [0, 0], [0, 1], [0, 2], [0, 3], [0, 4], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [2, 0], [2, 1], [2, 2], [2, 3], [2, 4], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4],
    ]);
    // a concave arrow head
    expect(pixels([[2, 1], [6, 3], [2, 5], [4, 3]])).toEqual([[2, 3], [3, 4], [3, 5], [4, 3]]);
  });
  it("clips to the image", () => {
    const all = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => [r, c]));
    expect(pixels([[-5, -5], [20, -5], [20, 20], [-5, 20]], 4)).toEqual(all);
    expect(pixels([[10, 10], [20, 10], [20, 20]], 4)).toEqual([]);
  });
});

describe("areaStats", () => {
  it("gives the modality values' mean, standard deviation, min and max inside", () => {
    // a 4 x 4 slice of stored values 0..15; rescale 2x - 1000
    const values = Int16Array.from({ length: 16 }, (_, i) => i);
    const s = areaStats([[0, 0], [2, 0], [2, 2], [0, 2]], values, 2, -1000, 4, 4);
    // pixels (0,0) (0,1) (1,0) (1,1): stored 0, 1, 4, 5 -> -1000, -998, -992, -990
    expect(s).not.toBeNull();
    expect(s?.pixels).toBe(4);
    expect(s?.mean).toBeCloseTo(-995, 10);
    expect(s?.std).toBeCloseTo(Math.sqrt((25 + 9 + 9 + 25) / 4), 10);
    expect([s?.min, s?.max]).toEqual([-1000, -990]);
    expect(areaStats([[0.2, 0.2], [0.8, 0.2], [0.8, 0.8]], values, 1, 0, 4, 4)).toBeNull();
  });
});

describe("volumeAreaStats", () => {
  const seriesInfo = ctSeriesInfo([2, 2, 2], [2, 1, 1]);
  it("reads the slice from the page's volume, once it has arrived, on the series' own plane", () => {
    const v = new Volume(seriesInfo);
    const square = m("area", [[-0.5, -0.5], [1.5, -0.5], [1.5, 1.5], [-0.5, 1.5]], { slice: 1 });
    expect(volumeAreaStats(v, square)).toBeNull(); // not arrived
    v.put({ type: "slice", series: "s0", index: 1, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024 }, new DataView(new Int16Array([1024, 1034, 1044, 1054]).buffer));
    expect(volumeAreaStats(v, square)).toEqual({ pixels: 4, mean: 15, std: Math.sqrt(125), min: 0, max: 30 });
    expect(volumeAreaStats(v, { ...square, plane: "coronal" })).toBeNull(); // slice 0 missing
    expect(volumeAreaStats(null, square)).toBeNull();
  });
  it("reads a reformat once every slice has arrived, each row with its slice's rescale", () => {
    const v = new Volume(seriesInfo);
    v.put({ type: "slice", series: "s0", index: 0, dtype: "int16", shape: [2, 2], slope: 2, intercept: 0 }, new DataView(new Int16Array([1, 2, 3, 4]).buffer));
    v.put({ type: "slice", series: "s0", index: 1, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024 }, new DataView(new Int16Array([1024, 1034, 1044, 1054]).buffer));
    // coronal row 1: slice 0 gives 3, 4 (x2: 6, 8), slice 1 gives 1044, 1054 (-1024: 20, 30)
    const whole = m("area", [[-0.5, -0.5], [1.5, -0.5], [1.5, 1.5], [-0.5, 1.5]], { slice: 1, plane: "coronal" });
    const s = volumeAreaStats(v, whole);
    expect(s && [s.pixels, s.mean, s.min, s.max]).toEqual([4, 16, 6, 30]);
    expect(volumeAreaStats(v, { ...whole, slice: 2 })).toBeNull(); // beyond the plane
  });
});
