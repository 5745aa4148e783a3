import { describe, expect, it } from "vitest";
import { renderGrey, renderRGB, windowValue } from "./window";

describe("windowValue (DICOM linear VOI)", () => {
  it("clamps below and above the window", () => {
    expect(windowValue(-1000, 40, 400)).toBe(0);
    expect(windowValue(-160.5, 40, 400)).toBe(0);
    expect(windowValue(240, 40, 400)).toBe(255);
    expect(windowValue(3000, 40, 400)).toBe(255);
  });
  it("is linear inside the window and maps the centre to mid grey", () => {
    expect(windowValue(40, 40, 400)).toBe(128);
    const a = windowValue(0, 40, 400);
    const b = windowValue(100, 40, 400);
    expect(b - a).toBeGreaterThan(60);
    expect(b - a).toBeLessThan(66);
  });
  it("treats widths below 1 as 1 (a hard threshold)", () => {
    expect(windowValue(9.5, 10, 0)).toBe(0);
    expect(windowValue(10, 10, 0)).toBe(255);
  });
});

describe("renderGrey", () => {
  it("applies slope/intercept per slice and matches windowValue for every 16-bit value", () => {
    const stored = new Int16Array(65536);
    for (let i = 0; i < stored.length; i++) stored[i] = i - 32768;
    const out = new Uint8ClampedArray(stored.length * 4);
    renderGrey(stored, 1, -1024, 40, 400, out);
    for (let i = 0; i < stored.length; i += 97) {
      const expected = windowValue((stored[i] as number) - 1024, 40, 400);
      expect(out[4 * i]).toBe(expected);
      expect(out[4 * i + 1]).toBe(expected);
      expect(out[4 * i + 3]).toBe(255);
    }
  });
  it("handles float data without a table", () => {
    const stored = new Float32Array([-0.5, 0.25, 2.5]);
    const out = new Uint8ClampedArray(12);
    renderGrey(stored, 2, 0, 0.5, 2, out);
    expect(Array.from(out.filter((_, i) => i % 4 === 0))).toEqual([
      windowValue(-1, 0.5, 2),
      windowValue(0.5, 0.5, 2),
      windowValue(5, 0.5, 2),
    ]);
  });
  it("refuses an output buffer that is too small", () => {
    expect(() => renderGrey(new Uint8Array(10), 1, 0, 0, 1, new Uint8ClampedArray(8))).toThrow();
  });
});

describe("renderRGB", () => {
  it("copies interleaved RGB into RGBA", () => {
    const out = new Uint8ClampedArray(8);
    renderRGB(new Uint8Array([1, 2, 3, 4, 5, 6]), out);
    expect(Array.from(out)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
  });
});
