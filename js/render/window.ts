/**
 * Windowing: modality values -> 8-bit grey, as DICOM PS3.3 C.11.2.1.2.1 (VOI LUT function
 * LINEAR) for integer modality values, and C.11.2.1.3.2 (LINEAR_EXACT) for the others (float
 * pixel data, or a fractional rescale): LINEAR's half-unit offsets and width of at least 1
 * are meant for integers, and turn a [0, 1] image all white.
 * Pure functions on typed arrays so they run (and are tested) without a DOM.
 */
import type { TypedArray } from "../protocol";

/** The modality values at or below `lo` are black, above `hi` white (see windowValue). */
function band(center: number, width: number, exact: boolean): [number, number] {
  if (exact) return [center - width / 2, center + width / 2];
  const w = Math.max(width, 1);
  return [center - 0.5 - (w - 1) / 2, center - 0.5 + (w - 1) / 2];
}

/**
 * The window as a function of one modality value -> grey level (0..255), its constants
 * computed once (it runs per pixel for float slices); `exact` uses LINEAR_EXACT (for
 * modality values that are not integers), else LINEAR.
 */
export function windowFunction(center: number, width: number, exact = false): (value: number) => number {
  const [lo, hi] = band(center, width, exact);
  const origin = exact ? center : center - 0.5;
  const span = exact ? width : Math.max(width, 1) - 1;
  return (value) => (value <= lo ? 0 : value > hi ? 255 : Math.round(((value - origin) / span + 0.5) * 255));
}

/** Grey level (0..255) of one modality value for a window centre and width (see windowFunction). */
export function windowValue(value: number, center: number, width: number, exact = false): number {
  return windowFunction(center, width, exact)(value);
}

/** Whether stored values of this kind with this rescale give non-integer modality values
 * (then LINEAR_EXACT applies). */
export function exactWindowing(stored: TypedArray, slope: number, intercept: number): boolean {
  const float = stored instanceof Float32Array || stored instanceof Float64Array;
  return float || !Number.isInteger(slope) || !Number.isInteger(intercept);
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
  const exact = exactWindowing(stored, slope, intercept);
  const integer =
    stored instanceof Uint8Array ||
    stored instanceof Int8Array ||
    stored instanceof Uint16Array ||
    stored instanceof Int16Array;
  if (integer && n > 4096) {
    const min = stored instanceof Int16Array ? -32768 : stored instanceof Int8Array ? -128 : 0;
    const max = stored instanceof Uint8Array ? 255 : stored instanceof Int8Array ? 127 : stored instanceof Int16Array ? 32767 : 65535;
    const lut = new Uint8Array(max - min + 1);
    const grey = windowFunction(center, width, exact);
    for (let v = min; v <= max; v++) lut[v - min] = grey(v * slope + intercept);
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const g = lut[(stored[i] as number) - min] as number;
      out[j] = g;
      out[j + 1] = g;
      out[j + 2] = g;
      out[j + 3] = 255;
    }
    return;
  }
  const grey = windowFunction(center, width, exact);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const g = grey((stored[i] as number) * slope + intercept);
    out[j] = g;
    out[j + 1] = g;
    out[j + 2] = g;
    out[j + 3] = 255;
  }
}

/** Paint one RGB (interleaved, 8-bit) slice into RGBA pixels. */
export function renderRGB(stored: TypedArray, out: Uint8ClampedArray, invert = false): void {
  const n = stored.length / 3;
  // 16-bit colour (RGB with BitsAllocated 16, a palette of 16-bit entries) spans 0..65535: to
  // 0..255 (it was clipped at 255: a ramp showed as one colour)
  const scale = stored instanceof Uint16Array ? 255 / 65535 : 1;
  const top = invert ? 255 : 0;
  const sign = invert ? -scale : scale;
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    out[j] = top + sign * (stored[k] as number);
    out[j + 1] = top + sign * (stored[k + 1] as number);
    out[j + 2] = top + sign * (stored[k + 2] as number);
    out[j + 3] = 255;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** One opaque grey pixel packed as the 32-bit word of an RGBA ImageData. */
export function packGrey(g: number): number {
  return LITTLE_ENDIAN ? (0xff000000 | (g << 16) | (g << 8) | g) >>> 0 : ((g << 24) | (g << 16) | (g << 8) | 0xff) >>> 0;
}

/**
 * Integer stored types as (unsigned view constructor, smallest value, value count): an Int16
 * slice is read through a Uint16Array view of the same bytes, so one monomorphic loop
 * `out[i] = lut[u[i]]` serves signed and unsigned data (the table is indexed by the value's
 * two's-complement bit pattern).
 */
function integerKind(stored: TypedArray): [typeof Uint8Array | typeof Uint16Array, number, number] | null {
  if (stored instanceof Uint16Array) return [Uint16Array, 0, 65536];
  if (stored instanceof Int16Array) return [Uint16Array, -32768, 65536];
  if (stored instanceof Uint8Array) return [Uint8Array, 0, 256];
  if (stored instanceof Int8Array) return [Uint8Array, -128, 256];
  return null;
}

/** out[i] = lut[u[i]] for 16-bit patterns (kept separate from the 8-bit loop: monomorphic). */
function apply16(u: Uint16Array, lut: Uint32Array, out: Uint32Array): void {
  const n = u.length;
  for (let i = 0; i < n; i++) out[i] = lut[u[i] as number] as number;
}

function apply8(u: Uint8Array, lut: Uint32Array, out: Uint32Array): void {
  const n = u.length;
  for (let i = 0; i < n; i++) out[i] = lut[u[i] as number] as number;
}

/**
 * Fill `lut` (indexed by bit pattern, `count` entries) for every stored value v in
 * [min, min + count): packGrey(windowValue(v * slope + intercept, center, width, exact)).
 *
 * The window is saturated (black or white) outside a narrow band of stored values, so only
 * that band is computed value by value; the rest is filled with the saturated grey. The band
 * is widened by two values on each side: outside it the modality value is beyond the window
 * by at least |slope|, and windowValue is monotonic in v, so every value outside takes the
 * band edge's grey. Exactly equal to computing every entry.
 */
export function fillTable(
  lut: Uint32Array,
  min: number,
  count: number,
  slope: number,
  intercept: number,
  center: number,
  width: number,
  exact = false,
  invert = false,
): void {
  const max = min + count - 1;
  const mask = count - 1;
  const grey = windowFunction(center, width, exact);
  const at = invert
    ? (v: number): number => packGrey(255 - grey(v * slope + intercept))
    : (v: number): number => packGrey(grey(v * slope + intercept));
  const [lo, hi] = band(center, width, exact);
  let a = min;
  let b = max;
  if (slope !== 0 && Number.isFinite(slope) && Number.isFinite(intercept) && Number.isFinite(lo) && Number.isFinite(hi)) {
    const s1 = (lo - intercept) / slope;
    const s2 = (hi - intercept) / slope;
    a = Math.min(max, Math.max(min, Math.floor(Math.min(s1, s2)) - 2));
    b = Math.max(min, Math.min(max, Math.ceil(Math.max(s1, s2)) + 2));
  }
  // values in [min, a): the grey of a; (b, max]: the grey of b (in bit-pattern index order)
  const fill = (from: number, to: number, word: number): void => {
    if (from > to) return;
    if (from < 0 && to >= 0) {
      lut.fill(word, from & mask, count);
      lut.fill(word, 0, to + 1);
    } else lut.fill(word, from & mask, (to & mask) + 1);
  };
  fill(min, a - 1, at(a));
  fill(b + 1, max, at(b));
  for (let v = a; v <= b; v++) lut[v & mask] = at(v);
}

/**
 * Windowing with a cached lookup table: stored value -> packed RGBA grey. The table depends
 * only on (stored type, slope, intercept, center, width), so paging through slices that share
 * a rescale reuses it; a new table is built only when the window or the rescale changes (and
 * building one computes only the values inside the window: see `fillTable`).
 * `builds` counts the tables built (tests use it).
 */
export class GreyRenderer {
  builds = 0;
  private key = "";
  private lut: Uint32Array | null = null;

  private table(stored: TypedArray, min: number, count: number, slope: number, intercept: number, center: number, width: number, invert: boolean, exact: boolean): Uint32Array {
    const key = `${stored.constructor.name}|${slope}|${intercept}|${center}|${width}|${invert}|${exact}`;
    if (this.lut && key === this.key) return this.lut;
    const lut = this.lut && this.lut.length === count ? this.lut : new Uint32Array(count);
    fillTable(lut, min, count, slope, intercept, center, width, exact, invert);
    this.lut = lut;
    this.key = key;
    this.builds += 1;
    return lut;
  }

  /**
   * Paint `stored` into `out` (the Uint32 view of an RGBA ImageData of the same size).
   * `invert`: the window's low values white, for MONOCHROME1 (PS3.3 C.7.6.3.1.2: the
   * minimum value is displayed white) and the user's invert toggle. `seriesExact`: LINEAR_EXACT
   * whatever this slice's rescale (the series' values are floats: SeriesInfo.exact_window).
   */
  render(
    stored: TypedArray,
    slope: number,
    intercept: number,
    center: number,
    width: number,
    out: Uint32Array,
    invert = false,
    seriesExact = false,
  ): void {
    const n = stored.length;
    if (out.length < n) throw new Error("output buffer too small");
    const exact = seriesExact || exactWindowing(stored, slope, intercept);
    const kind = integerKind(stored);
    if (kind) {
      const [View, min, count] = kind;
      const lut = this.table(stored, min, count, slope, intercept, center, width, invert, exact);
      if (View === Uint16Array) apply16(new Uint16Array(stored.buffer, stored.byteOffset, n), lut, out);
      else apply8(new Uint8Array(stored.buffer, stored.byteOffset, n), lut, out);
      return;
    }
    const grey = windowFunction(center, width, exact);
    const top = invert ? 255 : 0;
    const sign = invert ? -1 : 1;
    for (let i = 0; i < n; i++) out[i] = packGrey(top + sign * grey((stored[i] as number) * slope + intercept));
  }
}

/**
 * Window change per pixel of mouse movement in a window drag: a 300th of the window's width at
 * the start of the drag, so that a narrow window (a liver or brain window) is adjusted finely
 * and a wide one quickly, kept between 1/4096 and 1/512 of the series' value range (for CT:
 * 1 to 8 HU a pixel).
 */
export function dragSensitivity(valueRange: [number, number], width?: number): number {
  const span = Math.abs(valueRange[1] - valueRange[0]);
  if (!Number.isFinite(span) || span <= 0) return 1;
  const coarse = span / 512;
  const byWidth = width !== undefined && Number.isFinite(width) && width > 0 ? width / 300 : coarse;
  return Math.max(Math.min(byWidth, coarse), span / 4096, 1e-4);
}

/**
 * Window drag: moving up raises the level (centre), down lowers it; moving right widens the
 * window, left narrows it. (dx, dy) in screen pixels from where the drag started, y down.
 */
export function dragWindow(
  start: [number, number],
  dx: number,
  dy: number,
  sensitivity: number,
  minWidth = 1,
): [number, number] {
  const center = start[0] - dy * sensitivity;
  const width = Math.max(minWidth, start[1] + dx * sensitivity);
  return [center, width];
}

/** Slider bounds for the window controls: [centerMin, centerMax, widthMax, step]. */
export function windowBounds(valueRange: [number, number], integer: boolean): [number, number, number, number] {
  let [lo, hi] = valueRange;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) {
    lo = Number.isFinite(lo) ? lo : 0;
    hi = lo + 1;
  }
  const span = hi - lo;
  const step = integer ? 1 : span / 1000;
  return [lo, hi, Math.max(2 * span, integer ? 2 : step), step];
}
