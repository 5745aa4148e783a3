/**
 * The page's copy of a series: one typed array for the whole volume, filled slice by slice
 * as `slice` messages arrive, plus the per-slice rescale and an arrival bitmap.
 */
import type { SeriesInfo, SliceMsg, TypedArray } from "./protocol";

const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export class Volume {
  readonly info: SeriesInfo;
  readonly slices: number;
  readonly rows: number;
  readonly columns: number;
  readonly samples: number;
  readonly sliceLength: number;
  readonly data: TypedArray;
  readonly slope: Float64Array;
  readonly intercept: Float64Array;
  readonly loaded: Uint8Array;
  loadedCount = 0;

  constructor(info: SeriesInfo) {
    this.info = info;
    [this.slices, this.rows, this.columns] = info.shape;
    this.samples = info.samples_per_pixel;
    this.sliceLength = this.rows * this.columns * this.samples;
    this.data = new CTORS[info.dtype](this.slices * this.sliceLength);
    this.slope = new Float64Array(this.slices).fill(1);
    this.intercept = new Float64Array(this.slices);
    this.loaded = new Uint8Array(this.slices);
  }

  /** Store one arrived slice. Throws with a reason if it does not fit this series. */
  put(msg: SliceMsg, buffer: DataView): void {
    if (msg.series !== this.info.id) throw new Error(`slice for unknown series ${msg.series}`);
    if (msg.index < 0 || msg.index >= this.slices) throw new Error(`slice ${msg.index} out of range`);
    if (msg.dtype !== this.info.dtype) {
      throw new Error(`slice dtype ${msg.dtype} differs from series dtype ${this.info.dtype}`);
    }
    const size = this.data.BYTES_PER_ELEMENT;
    if (buffer.byteLength !== this.sliceLength * size) {
      const values = buffer.byteLength / size;
      throw new Error(`slice ${msg.index} has ${values} values, expected ${this.sliceLength}`);
    }
    // One byte copy straight into the volume, whatever the alignment of the incoming view
    // (a typed view of a misaligned buffer would need a copy of its own first).
    const target = new Uint8Array(this.data.buffer, this.data.byteOffset + msg.index * buffer.byteLength, buffer.byteLength);
    target.set(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
    this.slope[msg.index] = msg.slope;
    this.intercept[msg.index] = msg.intercept;
    if (!this.loaded[msg.index]) {
      this.loaded[msg.index] = 1;
      this.loadedCount += 1;
    }
  }

  /** Stored values of slice k (a view, no copy). */
  slice(k: number): TypedArray {
    return this.data.subarray(k * this.sliceLength, (k + 1) * this.sliceLength);
  }

  /** Modality value (HU for CT) at column x, row y of slice k, or null if not loaded. */
  valueAt(k: number, x: number, y: number): number | null {
    if (!this.loaded[k] || x < 0 || y < 0 || x >= this.columns || y >= this.rows) return null;
    const stored = this.data[(k * this.rows + y) * this.columns * this.samples + x * this.samples];
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
