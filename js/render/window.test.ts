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
  it("LINEAR_EXACT: centre +- width/2, any positive width", () => {
    expect(windowValue(0.0019, 0.002, 0.0001, true)).toBe(0);
    expect(windowValue(0.002, 0.002, 0.0001, true)).toBe(128);
    expect(windowValue(0.00205, 0.002, 0.0001, true)).toBe(255);
    expect(windowValue(0.0021, 0.002, 0.0001, true)).toBe(255);
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
  it("handles float data without a table, with LINEAR_EXACT", () => {
    const stored = new Float32Array([-0.5, 0.25, 2.5]);
    const out = new Uint8ClampedArray(12);
    renderGrey(stored, 2, 0, 0.5, 2, out);
    expect(Array.from(out.filter((_, i) => i % 4 === 0))).toEqual([
      windowValue(-1, 0.5, 2, true),
      windowValue(0.5, 0.5, 2, true),
      windowValue(5, 0.5, 2, true),
    ]);
  });
  it("shows a [0, 1] float image as a ramp, not white (LINEAR_EXACT for small widths)", () => {
    const stored = new Float32Array(101);
    for (let i = 0; i <= 100; i++) stored[i] = i / 100;
    const out = new Uint8ClampedArray(stored.length * 4);
    renderGrey(stored, 1, 0, 0.5, 1, out);
    const grey = Array.from(out.filter((_, i) => i % 4 === 0));
    expect(grey[0]).toBe(0);
    expect(grey[50]).toBe(128);
    expect(grey[100]).toBe(255);
    for (let i = 1; i <= 100; i++) expect(grey[i] as number).toBeGreaterThanOrEqual(grey[i - 1] as number);
  });
  it("uses LINEAR_EXACT for integers with a fractional rescale, LINEAR otherwise", () => {
    const stored = new Uint16Array(5000).map((_, i) => i);
    const out = new Uint8ClampedArray(stored.length * 4);
    renderGrey(stored, 0.5, 0, 100, 50, out);
    for (const i of [150, 200, 230, 260]) expect(out[4 * i]).toBe(windowValue(i * 0.5, 100, 50, true));
    renderGrey(stored, 1, -1024, 40, 400, out);
    for (const i of [900, 1000, 1100, 1200]) expect(out[4 * i]).toBe(windowValue(i - 1024, 40, 400, false));
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
  it("inverts each channel for the invert toggle (QA: colour images said 'inverted' only)", () => {
    const out = new Uint8ClampedArray(8);
    renderRGB(new Uint8Array([0, 200, 255, 4, 5, 6]), out, true);
    expect(Array.from(out)).toEqual([255, 55, 0, 255, 251, 250, 249, 255]);
  });
  it("scales 16-bit colour to 8 bits (QA: clipped at 255, a ramp showed as one colour)", () => {
    const out = new Uint8ClampedArray(8);
    renderRGB(new Uint16Array([0, 60000, 65535, 257, 32768, 1000]), out);
    expect(Array.from(out)).toEqual([0, 233, 255, 255, 1, 128, 4, 255]);
    renderRGB(new Uint16Array([0, 60000, 65535, 257, 32768, 1000]), out, true);
    expect(Array.from(out)).toEqual([255, 22, 0, 255, 254, 127, 251, 255]);
  });
});

import { GreyRenderer, dragSensitivity, dragWindow, packGrey, windowBounds } from "./window";

describe("GreyRenderer (cached LUT)", () => {
  it("matches windowValue and reuses its table when only the slice changes", () => {
    const r = new GreyRenderer();
    const a = new Int16Array(65536);
    for (let i = 0; i < a.length; i++) a[i] = i - 32768;
    const b = a.slice().reverse();
    const out = new Uint32Array(a.length);
    r.render(a, 1, -1024, 40, 400, out);
    for (let i = 0; i < a.length; i += 101) expect(out[i]).toBe(packGrey(windowValue((a[i] as number) - 1024, 40, 400)));
    r.render(b, 1, -1024, 40, 400, out);
    expect(r.builds).toBe(1);
    expect(out[0]).toBe(packGrey(windowValue(32767 - 1024, 40, 400)));
    r.render(b, 1, -1024, 60, 400, out);
    expect(r.builds).toBe(2);
  });
  it("handles 16-bit unsigned data over the full range", () => {
    const r = new GreyRenderer();
    const a = new Uint16Array([0, 20000, 40000, 65535]);
    const out = new Uint32Array(4);
    r.render(a, 1, 0, 32768, 65536, out);
    const greys = Array.from(out, (p) => p & 0xff);
    expect(greys[0]).toBe(0);
    expect(greys[3]).toBe(255);
    expect(greys[1]! < greys[2]!).toBe(true);
  });
  it("windows every slice with LINEAR_EXACT when the series' values are floats (QA 21a D4)", () => {
    // a slice of integer rescale in a series with a fractional rescale elsewhere: Python's
    // apply_window uses LINEAR_EXACT for the whole series' (float) values, so must the page
    const r = new GreyRenderer();
    const a = new Int16Array(4096);
    for (let i = 0; i < a.length; i++) a[i] = i - 2048;
    const linear = new Uint32Array(a.length);
    const exact = new Uint32Array(a.length);
    r.render(a, 1, 0, 40, 400, linear);
    r.render(a, 1, 0, 40, 400, exact, false, true);
    expect(r.builds).toBe(2);
    let differ = 0;
    for (let i = 0; i < a.length; i++) {
      expect(exact[i]).toBe(packGrey(windowValue(a[i] as number, 40, 400, true)));
      if (exact[i] !== linear[i]) differ++;
    }
    expect(differ).toBeGreaterThan(0);
  });
  it("computes float data directly", () => {
    const r = new GreyRenderer();
    const out = new Uint32Array(2);
    r.render(new Float32Array([0, 100]), 1, 0, 50, 100, out);
    expect(r.builds).toBe(0);
    expect(out[1]! & 0xff).toBe(255);
  });
  it("inverts for MONOCHROME1: the window's low values white, a table of its own", () => {
    const r = new GreyRenderer();
    const a = new Uint16Array([0, 1000, 2000, 4095]);
    const plain = new Uint32Array(4);
    const inverted = new Uint32Array(4);
    r.render(a, 1, 0, 2048, 4096, plain);
    r.render(a, 1, 0, 2048, 4096, inverted, true);
    expect(r.builds).toBe(2);
    for (let i = 0; i < 4; i++) expect(inverted[i]).toBe(packGrey(255 - ((plain[i] as number) & 0xff)));
    expect((inverted[0] as number) & 0xff).toBe(255);
    expect((inverted[3] as number) & 0xff).toBe(0);
    const f = new Uint32Array(2);
    r.render(new Float32Array([0, 100]), 1, 0, 50, 100, f, true);
    expect([(f[0] as number) & 0xff, (f[1] as number) & 0xff]).toEqual([255, 0]);
  });
  it("packs opaque grey pixels", () => {
    const px = new Uint8ClampedArray(new Uint32Array([packGrey(7)]).buffer);
    expect(Array.from(px)).toEqual([7, 7, 7, 255]);
  });
});

describe("window drag", () => {
  it("up raises the level, down lowers it, right widens, left narrows", () => {
    expect(dragWindow([40, 400], 0, -10, 2)).toEqual([60, 400]);
    expect(dragWindow([40, 400], 0, 10, 2)).toEqual([20, 400]);
    expect(dragWindow([40, 400], 10, 0, 2)).toEqual([40, 420]);
    expect(dragWindow([40, 400], -10, 0, 2)).toEqual([40, 380]);
  });
  it("never goes below the minimum width", () => {
    expect(dragWindow([40, 400], -1000, 0, 2)[1]).toBe(1);
    expect(dragWindow([0.5, 0.2], -1000, 0, 0.01, 0.001)[1]).toBe(0.001);
  });
  it("scales with the value range", () => {
    expect(dragSensitivity([-1024, 3071])).toBeCloseTo(4095 / 512);
    // by the window's width: finer for a narrow window (QA: a 150 HU liver window moved by
    // 8 HU a pixel), within 1/4096 .. 1/512 of the range
    expect(dragSensitivity([-1024, 3071], 600)).toBeCloseTo(2);
    expect(dragSensitivity([-1024, 3071], 150)).toBeCloseTo(4095 / 4096);
    expect(dragSensitivity([-1024, 3071], 6000)).toBeCloseTo(4095 / 512);
    expect(dragSensitivity([0, 1], 0.3)).toBeCloseTo(0.001);
    expect(dragSensitivity([0, 0])).toBe(1);
    expect(dragSensitivity([0, 1])).toBeCloseTo(1 / 512);
  });
  it("bounds the sliders by the series value range", () => {
    expect(windowBounds([-1024, 3071], true)).toEqual([-1024, 3071, 8190, 1]);
    expect(windowBounds([0, 65535], true)[2]).toBe(131070);
    expect(windowBounds([5, 5], true)).toEqual([5, 6, 2, 1]);
  });
});

import { fillTable } from "./window";

describe("fillTable (only the window band computed)", () => {
  const cases: [number, number, number, number][] = [
    [1, -1024, 40, 400],
    [1, 0, 32768, 65536],
    [0.5, -1000.25, -600, 1500],
    [2.5, 3, 100, 1],
    [-1, 100, 0, 50],
    [-0.37, 12.5, -3, 7.5],
    [1, 0, 1e6, 10],
    [1, 0, -1e6, 10],
    [1e-6, 0, 0.01, 0.02],
    [0, 5, 5, 1],
    [3, 7, 0.5, 0.2],
  ];
  const ranges: [number, number][] = [
    [-32768, 65536],
    [0, 65536],
    [-128, 256],
    [0, 256],
  ];
  it("equals windowValue for every stored value, signed and unsigned, any rescale", () => {
    for (const [min, count] of ranges) {
      const lut = new Uint32Array(count).fill(0x12345678); // stale table contents
      for (const [slope, intercept, center, width] of cases) {
        fillTable(lut, min, count, slope, intercept, center, width);
        let bad = 0;
        for (let v = min; v < min + count; v++) {
          const expected = packGrey(windowValue(v * slope + intercept, center, width));
          if (lut[v & (count - 1)] !== expected) bad += 1;
        }
        expect(bad, `min ${min} slope ${slope} intercept ${intercept} window ${center}/${width}`).toBe(0);
      }
    }
  });
  it("renders signed 8-bit and 16-bit data through the bit-pattern table", () => {
    const r = new GreyRenderer();
    const a = new Int8Array([-128, -1, 0, 1, 127]);
    const out = new Uint32Array(a.length);
    r.render(a, 1, 0, 0, 100, out);
    expect(Array.from(out)).toEqual(Array.from(a, (v) => packGrey(windowValue(v, 0, 100))));
    // an offset view into a larger buffer (as Volume.slice returns)
    const big = new Int16Array([5, -700, 0, 900, 7]);
    const view = big.subarray(1, 4);
    const out2 = new Uint32Array(3);
    r.render(view, 1, 0, 0, 1000, out2);
    expect(Array.from(out2)).toEqual([-700, 0, 900].map((v) => packGrey(windowValue(v, 0, 1000))));
  });
});
