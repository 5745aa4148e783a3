/**
 * The page's copy of a series, filled slice by slice as `slice` messages arrive: each slice's
 * stored values, the per-slice rescale and an arrival bitmap.
 *
 * A slice keeps the buffer it arrived in (a typed view of it, no copy): JupyterLab hands each
 * binary buffer of a message over as its own `ArrayBuffer`, so copying it into one array for
 * the whole volume would only add a 157 MB copy, the page faults of a fresh 157 MB array and
 * garbage. (Measured on the 300 x 512 x 512 phantom: the copy, the idle-time page touching
 * that hid its faults and their garbage were ~0.3 s of the page's CPU time while loading.)
 * A view whose offset is not a multiple of the value size is copied once.
 */
import type { SeriesInfo, SliceMsg, TypedArray } from "./protocol";
import { bytesPerValue, typedArrayFrom, zerosOf } from "./protocol";

export class Volume {
  readonly info: SeriesInfo;
  readonly slices: number;
  readonly rows: number;
  readonly columns: number;
  readonly samples: number;
  readonly sliceLength: number;
  readonly slope: Float64Array;
  readonly intercept: Float64Array;
  readonly loaded: Uint8Array;
  loadedCount = 0;
  /** Stored values of each arrived slice (undefined: not arrived). */
  private readonly parts: (TypedArray | undefined)[];
  /** The values of a slice that has not arrived (zeros, made on first use). */
  private empty: TypedArray | null = null;
  /** Told of each slice that arrives (its index), after it is stored: widgets that share
   * this volume and follow another one's loading (loader.ts). */
  readonly arrivals = new Set<(index: number) => void>();
  /** Large slices arriving in bands of rows: the slice so far and the rows it has. */
  private readonly bands = new Map<number, { values: TypedArray; rows: Uint8Array; count: number }>();

  constructor(info: SeriesInfo) {
    this.info = info;
    [this.slices, this.rows, this.columns] = info.shape;
    this.samples = info.samples_per_pixel;
    this.sliceLength = this.rows * this.columns * this.samples;
    this.parts = new Array<TypedArray | undefined>(this.slices);
    this.slope = new Float64Array(this.slices).fill(1);
    this.intercept = new Float64Array(this.slices);
    this.loaded = new Uint8Array(this.slices);
  }

  /**
   * Store one arrived slice (keeping `buffer`), or one band of rows of a large slice (copied
   * into the slice, which counts as arrived with its last band). Returns whether the slice is
   * complete now. Throws with a reason if it does not fit.
   */
  put(msg: SliceMsg, buffer: DataView): boolean {
    if (msg.series !== this.info.id) throw new Error(`slice for unknown series ${msg.series}`);
    if (msg.index < 0 || msg.index >= this.slices) throw new Error(`slice ${msg.index} out of range`);
    if (msg.dtype !== this.info.dtype) {
      throw new Error(`slice dtype ${msg.dtype} differs from series dtype ${this.info.dtype}`);
    }
    const size = bytesPerValue(this.info.dtype);
    const rowLength = this.columns * this.samples;
    const [first, end] = msg.rows ?? [0, this.rows];
    if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end > this.rows || first >= end) {
      throw new Error(`slice ${msg.index}: rows ${first}..${end} are not a band of its ${this.rows} rows`);
    }
    const expected = (end - first) * rowLength;
    if (buffer.byteLength !== expected * size) {
      throw new Error(`slice ${msg.index} has ${buffer.byteLength / size} values, expected ${expected}`);
    }
    // a slice held already (sent again, or brought by another widget of the same series, see
    // loader.ts sharedVolumes): the first copy stays, counted once, with its last band
    if (this.loaded[msg.index]) return end === this.rows;
    let values = typedArrayFrom(this.info.dtype, buffer);
    if (end - first < this.rows) {
      const band = this.bands.get(msg.index) ?? { values: zerosOf(this.info.dtype, this.sliceLength), rows: new Uint8Array(this.rows), count: 0 };
      this.bands.set(msg.index, band);
      band.values.set(values, first * rowLength);
      for (let r = first; r < end; r++) {
        if (!band.rows[r]) {
          band.rows[r] = 1;
          band.count += 1;
        }
      }
      if (band.count < this.rows) return false;
      this.bands.delete(msg.index);
      values = band.values;
    }
    this.parts[msg.index] = values;
    this.slope[msg.index] = msg.slope;
    this.intercept[msg.index] = msg.intercept;
    this.loaded[msg.index] = 1;
    this.loadedCount += 1;
    for (const told of this.arrivals) told(msg.index);
    return true;
  }

  /** Stored values of slice k (no copy; zeros for a slice that has not arrived). */
  slice(k: number): TypedArray {
    const part = this.parts[k];
    if (part) return part;
    this.empty ??= zerosOf(this.info.dtype, this.sliceLength);
    return this.empty;
  }

  /** Modality value (HU for CT) at column x, row y of slice k, or null if not loaded. */
  valueAt(k: number, x: number, y: number): number | null {
    const part = this.parts[k];
    if (!part || x < 0 || y < 0 || x >= this.columns || y >= this.rows) return null;
    const stored = part[(y * this.columns + x) * this.samples];
    return (stored as number) * (this.slope[k] as number) + (this.intercept[k] as number);
  }
}

/**
 * The order in which to ask for the slices not loaded yet: the current slice, then a coarse
 * pass (every `coarseStep`-th slice, nearest first) so that scrubbing shows the whole extent
 * early, then all the others nearest first (ties: the slice after the current one first).
 * Pure, so it is unit-tested.
 */
export function priorityOrder(
  slices: number,
  current: number,
  loaded: Uint8Array,
  coarseStep: number,
): number[] {
  if (slices <= 0) return [];
  const c = Math.min(Math.max(0, Math.round(current)), slices - 1);
  const near: number[] = [];
  for (let d = 0; d < slices; d++) {
    if (d === 0) near.push(c);
    else {
      if (c + d < slices) near.push(c + d);
      if (c - d >= 0) near.push(c - d);
    }
  }
  const step = Math.max(1, Math.floor(coarseStep));
  const first = near.filter((k) => k === c || (step > 1 && k % step === 0));
  const taken = new Uint8Array(slices);
  const out: number[] = [];
  for (const k of [...first, ...near]) {
    if (!taken[k] && !loaded[k]) {
      taken[k] = 1;
      out.push(k);
    }
  }
  return out;
}
