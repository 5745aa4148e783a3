/**
 * Windowing: modality values -> 8-bit grey, as DICOM PS3.3 C.11.2.1.2.1 (linear VOI LUT).
 * Pure functions on typed arrays so they run (and are tested) without a DOM.
 */
import type { TypedArray } from "../protocol";

/** Grey level (0..255) of one modality value for a window centre and width. */
export function windowValue(value: number, center: number, width: number): number {
  const w = Math.max(width, 1);
  const lo = center - 0.5 - (w - 1) / 2;
  const hi = center - 0.5 + (w - 1) / 2;
  if (value <= lo) return 0;
  if (value > hi) return 255;
  return Math.round(((value - (center - 0.5)) / (w - 1) + 0.5) * 255);
}

/**
 * Paint one grey slice into RGBA pixels.
 *
 * `stored` holds stored values; modality value = stored * slope + intercept. For integer
 * stored data a lookup table over the stored range is built once per call, so the per-pixel
 * cost is one table read (16-bit data with 20,000+ distinct values is handled exactly).
 */
export function renderGrey(
  stored: TypedArray,
  slope: number,
  intercept: number,
  center: number,
  width: number,
  out: Uint8ClampedArray,
): void {
  const n = stored.length;
  if (out.length < n * 4) throw new Error("output buffer too small");
  const integer =
    stored instanceof Uint8Array ||
    stored instanceof Int8Array ||
    stored instanceof Uint16Array ||
    stored instanceof Int16Array;
  if (integer && n > 4096) {
    const min = stored instanceof Int16Array ? -32768 : stored instanceof Int8Array ? -128 : 0;
    const max = stored instanceof Uint8Array ? 255 : stored instanceof Int8Array ? 127 : stored instanceof Int16Array ? 32767 : 65535;
    const lut = new Uint8Array(max - min + 1);
    for (let v = min; v <= max; v++) lut[v - min] = windowValue(v * slope + intercept, center, width);
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const g = lut[(stored[i] as number) - min] as number;
      out[j] = g;
      out[j + 1] = g;
      out[j + 2] = g;
      out[j + 3] = 255;
    }
    return;
  }
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const g = windowValue((stored[i] as number) * slope + intercept, center, width);
    out[j] = g;
    out[j + 1] = g;
    out[j + 2] = g;
    out[j + 3] = 255;
  }
}

/** Paint one RGB (interleaved, 8-bit) slice into RGBA pixels. */
export function renderRGB(stored: TypedArray, out: Uint8ClampedArray): void {
  const n = stored.length / 3;
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    out[j] = stored[k] as number;
    out[j + 1] = stored[k + 1] as number;
    out[j + 2] = stored[k + 2] as number;
    out[j + 3] = 255;
  }
}
