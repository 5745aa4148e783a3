import { describe, expect, it } from "vitest";
import type { SeriesInfo, SliceMsg } from "./protocol";
import { parseKernelMsg, parseSlicesMsg, typedArrayFrom } from "./protocol";
import { ctSeriesInfo } from "./fixtures.test-util";
import { Volume, priorityOrder } from "./volume";

const info: SeriesInfo = ctSeriesInfo([3, 2, 2], [2, 1, 1]);

function msg(index: number): SliceMsg {
  return { type: "slice", series: "s0", index, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024 };
}

describe("priorityOrder", () => {
  it("orders slices by distance from the current one, after-first on ties", () => {
    expect(priorityOrder(7, 3, new Uint8Array(7), 1)).toEqual([3, 4, 2, 5, 1, 6, 0]);
  });
  it("puts a coarse pass first, nearest first, after the current slice", () => {
    expect(priorityOrder(10, 4, new Uint8Array(10), 3)).toEqual([4, 3, 6, 0, 9, 5, 2, 7, 1, 8]);
  });
  it("skips loaded slices and clamps the current one", () => {
    const loaded = new Uint8Array(4);
    loaded[3] = 1;
    expect(priorityOrder(4, 99, loaded, 1)).toEqual([2, 1, 0]);
    expect(priorityOrder(0, 0, new Uint8Array(0), 1)).toEqual([]);
  });
});

describe("typedArrayFrom", () => {
  it("respects byteOffset and byteLength of a DataView", () => {
    const backing = new ArrayBuffer(16);
    new Int16Array(backing).set([9, 9, 1, -2, 3, 9, 9, 9]);
    const arr = typedArrayFrom("int16", new DataView(backing, 4, 6));
    expect(Array.from(arr)).toEqual([1, -2, 3]);
  });
  it("copies when the offset is unaligned", () => {
    const bytes = new Uint8Array([0, 1, 0, 2, 0]);
    const arr = typedArrayFrom("uint16", new DataView(bytes.buffer, 1, 4));
    expect(Array.from(arr)).toEqual([1, 2]);
  });
  it("refuses a length that is not a whole number of values", () => {
    expect(() => typedArrayFrom("int16", new DataView(new ArrayBuffer(3)))).toThrow();
  });
});

describe("Volume", () => {
  it("stores slices and reads modality values", () => {
    const v = new Volume(info);
    v.put(msg(1), new DataView(new Int16Array([1024, 1000, 0, 2048]).buffer));
    expect(v.loadedCount).toBe(1);
    expect(v.valueAt(1, 0, 0)).toBe(0);
    expect(v.valueAt(1, 1, 1)).toBe(1024);
    expect(v.valueAt(0, 0, 0)).toBeNull();
    expect(v.valueAt(1, 2, 0)).toBeNull();
  });
  it("stores a slice from a misaligned view into a larger message buffer", () => {
    const v = new Volume(info);
    const bytes = new Uint8Array(1 + 8 + 3);
    bytes.set(new Uint8Array(new Int16Array([-5, 7, 300, -32768]).buffer), 1);
    v.put(msg(2), new DataView(bytes.buffer, 1, 8));
    expect(Array.from(v.slice(2))).toEqual([-5, 7, 300, -32768]);
    expect(Array.from(v.slice(1))).toEqual([0, 0, 0, 0]);
    expect(v.valueAt(2, 1, 0)).toBe(7 - 1024);
  });
  it("keeps the buffer a slice arrived in instead of copying it", () => {
    const v = new Volume(info);
    const arrived = new DataView(new Int16Array([1, 2, 3, 4]).buffer);
    v.put(msg(0), arrived);
    expect(v.slice(0).buffer).toBe(arrived.buffer);
    expect(Array.from(v.slice(0))).toEqual([1, 2, 3, 4]);
    // a slice sent again (a re-request, or another widget of the same series) keeps the
    // first copy: the copies are the same pixels, and a widget may be drawing the first
    const again = new DataView(new Int16Array([1, 2, 3, 4]).buffer);
    expect(v.put(msg(0), again)).toBe(true);
    expect(v.slice(0).buffer).toBe(arrived.buffer);
    expect(v.loadedCount).toBe(1);
  });
  it("refuses slices that do not fit", () => {
    const v = new Volume(info);
    expect(() => v.put(msg(3), new DataView(new Int16Array(4).buffer))).toThrow(/out of range/);
    expect(() => v.put(msg(0), new DataView(new Int16Array(3).buffer))).toThrow(/expected 4/);
    expect(() => v.put(msg(0), new DataView(new Uint8Array(9).buffer))).toThrow(/expected 4/);
    expect(() => v.put({ ...msg(0), dtype: "uint8" }, new DataView(new Uint8Array(4).buffer))).toThrow(/dtype/);
    expect(v.loadedCount).toBe(0);
  });
});

describe("parseKernelMsg", () => {
  it("accepts known messages and rejects malformed ones", () => {
    expect(parseKernelMsg({ type: "error", message: "x" })).toEqual({ type: "error", message: "x" });
    expect(parseKernelMsg(msg(0))?.type).toBe("slice");
    expect(parseKernelMsg({ ...msg(0), dtype: "complex64" })).toBeNull();
    expect(parseKernelMsg({ ...msg(0), index: 1.5 })).toBeNull();
    expect(parseKernelMsg(null)).toBeNull();
    expect(parseKernelMsg("slice")).toBeNull();
  });
});

describe("parseSlicesMsg", () => {
  it("splits a batch into slice messages of its series and keeps malformed items as null", () => {
    const items = [
      { index: 1, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024 },
      { index: 2, dtype: "complex64", shape: [2, 2], slope: 1, intercept: 0 },
      7,
    ];
    const out = parseSlicesMsg({ type: "slices", series: "s0", items });
    expect(out).toHaveLength(3);
    expect(out?.[0]).toEqual({ type: "slice", series: "s0", ...(items[0] as object) });
    expect(out?.[1]).toBeNull();
    expect(out?.[2]).toBeNull();
    expect(parseSlicesMsg({ type: "slice", series: "s0", items })).toBeNull();
    expect(parseSlicesMsg({ type: "slices", series: "s0" })).toBeNull();
  });
});

describe("Volume: a large slice in bands of rows", () => {
  const tall: SeriesInfo = { ...info, shape: [2, 3, 2] };
  const band = (index: number, rows: [number, number], values: number[]): [SliceMsg, DataView] => [
    { type: "slice", series: "s0", index, dtype: "int16", shape: [3, 2], slope: 1, intercept: 0, rows },
    new DataView(new Int16Array(values).buffer),
  ];
  it("is complete, in place, once every row has come (in any order)", () => {
    const v = new Volume(tall);
    expect(v.put(...band(1, [2, 3], [5, 6]))).toBe(false);
    expect(v.loaded[1]).toBe(0);
    expect(v.loadedCount).toBe(0);
    expect(v.put(...band(1, [0, 2], [1, 2, 3, 4]))).toBe(true);
    expect(v.loaded[1]).toBe(1);
    expect(Array.from(v.slice(1))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(v.valueAt(1, 1, 2)).toBe(6);
  });
  it("refuses a band that does not fit, with a reason", () => {
    const v = new Volume(tall);
    expect(() => v.put(...band(0, [2, 4], [1, 2, 3, 4]))).toThrow(/rows 2\.\.4 are not a band of its 3 rows/);
    expect(() => v.put(...band(0, [0, 2], [1, 2]))).toThrow(/has 2 values, expected 4/);
    expect(v.loadedCount).toBe(0);
  });
});
