/**
 * Bitmask overlays on the page: the kernel's `masks` messages, a per-series cache of slice
 * masks per object, compositing the visible masks of a slice into RGBA pixels, and the brush
 * stamp used for the stroke preview (bit-identical to the kernel's commit).
 *
 * Pure functions and one plain class: no DOM, no model, no module state. Message spec:
 * `dicom_annot_widget/widget/protocol.py`; coverage rule: `dicom_annot_widget/kernels/brush.py`.
 */

/** `[x0, y0, x1, y1]`: columns x0..x1-1, rows y0..y1-1 (exclusive ends). */
export type MaskBox = [number, number, number, number];

/** The smallest box holding both (either may be null: nothing). */
export function unionBox(a: MaskBox | null | undefined, b: MaskBox | null | undefined): MaskBox | null {
  if (!a) return b ? [b[0], b[1], b[2], b[3]] : null;
  if (!b) return [a[0], a[1], a[2], a[3]];
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

/** A binary buffer as anywidget hands it over (a DataView, possibly into a larger buffer). */
export type BufferLike = DataView | ArrayBuffer | ArrayBufferView;

/** One item of a `masks` message, with its bits (packbits, big bit order) as bytes. */
export interface MaskItem {
  uuid: string;
  /** null: the object has no foreground in this region (an empty buffer) */
  box: MaskBox | null;
  /** true: the object's whole mask on the slice (zero outside the box); false: a patch */
  full: boolean;
  /** foreground pixels of the object on the whole slice */
  area: number;
  /** ceil(h * w / 8) bytes, row-major bits of the box; empty when box is null */
  bits: Uint8Array;
  /** checksum of the object's whole mask on the slice after this item (the `mask_crc` of
   * its keyframe in labels_state); absent from an older kernel */
  crc?: number;
}

/** A validated `masks` message. */
export interface MasksMsg {
  type: "masks";
  series: string;
  slice: number;
  revision: number;
  items: MaskItem[];
}

/** `[r, g, b]`, 0..255. */
export type Rgb = readonly [number, number, number];

const isNonNegInt = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** The bytes of a received buffer, honouring a DataView's byteOffset and byteLength. */
export function bytesOf(buffer: unknown): Uint8Array | null {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  return null;
}

function parseBox(raw: unknown, width?: number, height?: number): MaskBox | null | undefined {
  if (raw === null) return null;
  if (!Array.isArray(raw) || raw.length !== 4 || !raw.every(isNonNegInt)) return undefined;
  const [x0, y0, x1, y1] = raw as MaskBox;
  if (x1 <= x0 || y1 <= y0) return undefined;
  if (width !== undefined && x1 > width) return undefined;
  if (height !== undefined && y1 > height) return undefined;
  return [x0, y0, x1, y1];
}

/**
 * Validate a kernel `masks` message and pair each item with its buffer. Returns null (never
 * throws) for anything malformed: wrong type or field, a box outside `width` x `height` (when
 * given), a buffer count or a buffer length that does not match its box.
 */
export function parseMasksMsg(
  msg: unknown,
  buffers: readonly unknown[] | undefined,
  width?: number,
  height?: number,
): MasksMsg | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type !== "masks" || typeof m.series !== "string") return null;
  if (!isNonNegInt(m.slice) || !isNonNegInt(m.revision) || !Array.isArray(m.items)) return null;
  const list = buffers ?? [];
  if (list.length !== m.items.length) return null;
  const items: MaskItem[] = [];
  for (let i = 0; i < m.items.length; i++) {
    const raw: unknown = m.items[i];
    if (typeof raw !== "object" || raw === null) return null;
    const it = raw as Record<string, unknown>;
    if (typeof it.uuid !== "string" || it.uuid === "") return null;
    if (typeof it.full !== "boolean" || !isNonNegInt(it.area)) return null;
    const box = parseBox(it.box, width, height);
    if (box === undefined) return null;
    const bits = bytesOf(list[i]);
    if (bits === null) return null;
    const expected = box === null ? 0 : Math.ceil(((box[2] - box[0]) * (box[3] - box[1])) / 8);
    if (bits.length !== expected) return null;
    if (it.crc !== undefined && !isNonNegInt(it.crc)) return null;
    const item: MaskItem = { uuid: it.uuid, box, full: it.full, area: it.area, bits };
    if (it.crc !== undefined) item.crc = it.crc;
    items.push(item);
  }
  return { type: "masks", series: m.series, slice: m.slice, revision: m.revision, items };
}

/** Write `bits` (the pixels of `box`, packed) into `mask`: one byte per pixel, 0 or 1, `width`
 * columns, its first pixel at column `ox`, row `oy` of the slice. */
function writeBits(mask: Uint8Array, width: number, box: MaskBox, bits: Uint8Array, ox = 0, oy = 0): void {
  const [x0, y0, x1, y1] = box;
  const w = x1 - x0;
  let bit = 0;
  for (let y = y0; y < y1; y++) {
    let o = (y - oy) * width + (x0 - ox);
    for (let x = 0; x < w; x++, bit++, o++) {
      mask[o] = ((bits[bit >> 3] as number) >> (7 - (bit & 7))) & 1;
    }
  }
}

/** Pack a region of a mask like `numpy.packbits` (row-major, big bit order). */
export function packRegion(mask: Uint8Array, width: number, box: MaskBox): Uint8Array {
  const [x0, y0, x1, y1] = box;
  const out = new Uint8Array(Math.ceil(((x1 - x0) * (y1 - y0)) / 8));
  let bit = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++, bit++) {
      if (mask[y * width + x]) out[bit >> 3] = (out[bit >> 3] as number) | (0x80 >> (bit & 7));
    }
  }
  return out;
}

/** One object's cached mask on one slice: only the pixels of `box` are kept. */
export interface MaskRegion {
  /** where the mask can be non-zero (null: nowhere, an all-zero mask) */
  readonly box: MaskBox | null;
  /** the box's pixels, row-major, `box[2] - box[0]` a row, 1 = foreground (empty: no box) */
  readonly data: Uint8Array;
}

interface Entry extends MaskRegion {
  box: MaskBox | null;
  data: Uint8Array;
  /** the checksum of the whole mask (as the kernel computed it), if known */
  crc: number | undefined;
}

/** Whole-slice copies of cached masks `MaskCache.get` keeps (the latest asked for). */
const EXPANDED = 8;

/**
 * The masks of one series the page has received: per slice, per object uuid, the pixels of
 * the box outside which the mask is all zero (`region`), one byte a pixel. One cache per
 * series and view.
 *
 * Only the box is kept: a multi-organ segmentation shown as a reformat asks for every slice's
 * masks, and whole-slice masks held 256 kB per object and slice of a 512 x 512 series (QA 23b:
 * the cache had no limit; 20 organs over 300 slices would have been 1.5 GB). Whole-slice
 * copies are made on demand (`get`) for the few masks an edit preview needs.
 */
export class MaskCache {
  private readonly slices = new Map<number, Map<string, Entry>>();
  private readonly revisions = new Map<number, number>();
  /** whole-slice copies made by `get`, latest last */
  private readonly expanded = new Map<Entry, Uint8Array>();
  private zeros: Uint8Array | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(`MaskCache: width and height must be positive integers, got ${width} x ${height}`);
    }
  }

  /**
   * Apply a `masks` message of this series. `full` items replace the object's mask on the
   * slice; patches replace only their box (on an empty mask if none was cached). An object
   * left with no foreground is dropped. With `replaceSlice` (use it for the answer to
   * `get_masks`, which lists every bitmask object on the slice), objects not in the message are
   * dropped from that slice too. Items whose box does not fit are ignored; returns how many
   * items were applied. Each item's checksum is kept unless `trusted` is false (a patch that
   * may have met an outdated mask: its checksum would not be that of the cached mask).
   */
  apply(msg: MasksMsg, replaceSlice = false, trusted = true): number {
    let slice = this.slices.get(msg.slice);
    if (replaceSlice || slice === undefined) {
      if (slice) for (const entry of slice.values()) this.expanded.delete(entry);
      slice = new Map();
      this.slices.set(msg.slice, slice);
    }
    let applied = 0;
    for (const item of msg.items) {
      if (item.box !== null && (item.box[2] > this.width || item.box[3] > this.height)) continue;
      applied++;
      const old = slice.get(item.uuid);
      if (old) this.expanded.delete(old);
      if (item.area === 0 || (item.full && item.box === null)) {
        slice.delete(item.uuid);
        continue;
      }
      const kept = item.full ? undefined : old;
      // no box: none was ever written, the mask is all zero (drawn as if it could cover the
      // whole slice, which is never wrong)
      const box = kept ? unionBox(kept.box, item.box) : item.box;
      let data = kept?.data ?? new Uint8Array(0);
      if (box !== null && !sameBox(box, kept?.box ?? null)) {
        data = new Uint8Array((box[2] - box[0]) * (box[3] - box[1]));
        if (kept?.box) copyRegion(kept.data, kept.box, data, box);
      }
      if (item.box !== null && box !== null) writeBits(data, box[2] - box[0], item.box, item.bits, box[0], box[1]);
      slice.set(item.uuid, { box, data, crc: trusted ? item.crc : undefined });
    }
    const previous = this.revisions.get(msg.slice);
    if (previous === undefined || msg.revision >= previous) this.revisions.set(msg.slice, msg.revision);
    return applied;
  }

  /** The cached mask of `uuid` on `slice` as a whole-slice array (`width * height`; do not
   * modify), or undefined. A copy is made for it (the latest few are kept): read a mask
   * through `region` or `at` where that will do. */
  get(slice: number, uuid: string): Uint8Array | undefined {
    const entry = this.slices.get(slice)?.get(uuid);
    if (!entry) return undefined;
    if (entry.box === null) {
      this.zeros ??= new Uint8Array(this.width * this.height);
      return this.zeros;
    }
    let full = this.expanded.get(entry);
    if (full) {
      this.expanded.delete(entry); // (latest last)
    } else {
      full = new Uint8Array(this.width * this.height);
      copyRegion(entry.data, entry.box, full, [0, 0, this.width, this.height]);
      while (this.expanded.size >= EXPANDED) this.expanded.delete(this.expanded.keys().next().value as Entry);
    }
    this.expanded.set(entry, full);
    return full;
  }

  /** The cached pixels of `uuid` on `slice` (do not modify), or undefined. */
  region(slice: number, uuid: string): MaskRegion | undefined {
    return this.slices.get(slice)?.get(uuid);
  }

  /** Whether the cached mask of `uuid` on `slice` covers column x, row y. */
  at(slice: number, uuid: string, x: number, y: number): boolean {
    const entry = this.slices.get(slice)?.get(uuid);
    const b = entry?.box;
    if (!entry || !b || x < b[0] || y < b[1] || x >= b[2] || y >= b[3]) return false;
    return entry.data[(y - b[1]) * (b[2] - b[0]) + (x - b[0])] === 1;
  }

  /** A box outside which the cached mask of `uuid` on `slice` is all zero, or undefined. */
  bound(slice: number, uuid: string): MaskBox | undefined {
    return this.slices.get(slice)?.get(uuid)?.box ?? undefined;
  }

  /** The checksum of the cached mask of `uuid` on `slice` (undefined: none known). */
  crc(slice: number, uuid: string): number | undefined {
    return this.slices.get(slice)?.get(uuid)?.crc;
  }

  /** Uuids with a cached mask on `slice`. */
  uuids(slice: number): string[] {
    return [...(this.slices.get(slice)?.keys() ?? [])];
  }

  /** Whether `slice` has been received at all (even with no masks on it). */
  has(slice: number): boolean {
    return this.slices.has(slice);
  }

  /** The labels revision the slice's masks were last updated at, or undefined. */
  revision(slice: number): number | undefined {
    return this.revisions.get(slice);
  }

  /** Bytes of mask pixels held (the boxes, and the whole-slice copies `get` keeps). */
  bytes(): number {
    let n = 0;
    for (const slice of this.slices.values()) for (const entry of slice.values()) n += entry.data.byteLength;
    for (const full of this.expanded.values()) n += full.byteLength;
    return n;
  }

  /** Forget one slice (e.g. when the labels changed and it must be asked for again). */
  invalidate(slice: number): void {
    for (const entry of this.slices.get(slice)?.values() ?? []) this.expanded.delete(entry);
    this.slices.delete(slice);
    this.revisions.delete(slice);
  }

  /** Forget everything. */
  clear(): void {
    this.slices.clear();
    this.revisions.clear();
    this.expanded.clear();
  }
}

function sameBox(a: MaskBox | null, b: MaskBox | null): boolean {
  return a === b || (a !== null && b !== null && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]);
}

/** Copy the pixels of `from` (a region of box `fromBox`) into `to` (of box `toBox`, which
 * holds `fromBox`). */
function copyRegion(from: Uint8Array, fromBox: MaskBox, to: Uint8Array, toBox: MaskBox): void {
  const w = fromBox[2] - fromBox[0];
  const tw = toBox[2] - toBox[0];
  for (let y = fromBox[1]; y < fromBox[3]; y++) {
    const row = (y - fromBox[1]) * w;
    to.set(from.subarray(row, row + w), (y - toBox[1]) * tw + (fromBox[0] - toBox[0]));
  }
}

/**
 * The cached masks cut by a reformat: per object, a mask of the plane image (coronal: slices x
 * columns, from row `index` of each slice's mask; sagittal: slices x rows, from column
 * `index`). Only objects `keep` accepts; slices not cached contribute nothing.
 */
export function crossSections(
  cache: MaskCache,
  plane: "coronal" | "sagittal",
  index: number,
  slices: number,
  keep: (uuid: string) => boolean,
): Map<string, Uint8Array> {
  const columns = plane === "coronal" ? cache.width : cache.height;
  const out = new Map<string, Uint8Array>();
  for (let s = 0; s < slices; s++) {
    for (const uuid of cache.uuids(s)) {
      if (!keep(uuid)) continue;
      const { box: b, data } = cache.region(s, uuid) as MaskRegion;
      if (b && (plane === "coronal" ? index < b[1] || index >= b[3] : index < b[0] || index >= b[2])) continue;
      let section = out.get(uuid);
      if (!section) {
        section = new Uint8Array(columns * slices);
        out.set(uuid, section);
      }
      if (!b) continue; // (all zero)
      const w = b[2] - b[0];
      if (plane === "coronal") {
        const row = (index - b[1]) * w;
        section.set(data.subarray(row, row + w), s * columns + b[0]);
      } else {
        for (let y = b[1]; y < b[3]; y++) section[s * columns + y] = data[(y - b[1]) * w + (index - b[0])] as number;
      }
    }
  }
  return out;
}

/** One mask to draw, bottom to top. */
export interface MaskLayer {
  mask: Uint8Array;
  color: Rgb;
  /** the mask is all zero outside this box (null: empty; absent: anywhere on the slice) */
  box?: MaskBox | null;
  /** `mask` holds only the pixels of `box` (a `MaskCache.region`), not the whole image */
  cropped?: boolean;
}

/**
 * Compose the visible masks of a slice into RGBA pixels (`width * height * 4`, the layout of
 * `ImageData.data`): each pixel takes the colour of the topmost layer covering it (later layers
 * on top), with alpha `round(opacity * 255)`; uncovered pixels are transparent (0, 0, 0, 0).
 * `out` is reused when it has the right length; with `clip`, only that box of it is composed.
 */
export function composeMasks(
  layers: readonly MaskLayer[],
  width: number,
  height: number,
  opacity: number,
  out?: Uint8ClampedArray,
  clip?: MaskBox,
): Uint8ClampedArray {
  const n = width * height;
  const rgba = out !== undefined && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  // with `clip`, only its pixels are composed (the rest of `out` is left as it is)
  const [cx0, cy0, cx1, cy1] = clip ?? [0, 0, width, height];
  if (clip) for (let y = Math.max(0, cy0); y < Math.min(height, cy1); y++) rgba.fill(0, (y * width + Math.max(0, cx0)) * 4, (y * width + Math.min(width, cx1)) * 4);
  else rgba.fill(0);
  const alpha = Math.round(Math.min(1, Math.max(0, Number.isFinite(opacity) ? opacity : 0)) * 255);
  if (alpha === 0) return rgba;
  for (const layer of layers) {
    const { mask, color, box } = layer;
    if (box === null) continue;
    const cropped = layer.cropped === true && box !== undefined;
    if (cropped ? mask.length < (box[2] - box[0]) * (box[3] - box[1]) : mask.length < n) continue;
    const [r, g, b] = color;
    // only the layer's box is visited (a stroke's patch, not the whole slice)
    const x0 = Math.max(0, cx0, box ? box[0] : 0);
    const y0 = Math.max(0, cy0, box ? box[1] : 0);
    const x1 = Math.min(width, cx1, box ? box[2] : width);
    const y1 = Math.min(height, cy1, box ? box[3] : height);
    for (let y = y0; y < y1; y++) {
      // where row y, column x0 is in `mask`
      let j = cropped ? (y - box[1]) * (box[2] - box[0]) + (x0 - box[0]) : y * width + x0;
      for (let i = y * width + x0, end = y * width + x1; i < end; i++, j++) {
        if (mask[j]) {
          const o = i * 4;
          rgba[o] = r;
          rgba[o + 1] = g;
          rgba[o + 2] = b;
          rgba[o + 3] = alpha;
        }
      }
    }
  }
  return rgba;
}

/** Parse a CSS hex colour (`#rgb` or `#rrggbb`) to RGB; grey when it is not one. */
export function hexToRgb(hex: string): Rgb {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (m === null) return [128, 128, 128];
  let h = m[1] as string;
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export type StampMode = "paint" | "erase";

/**
 * Stamp a brush stroke into `mask` (one byte per pixel, `width * height`, row-major), with
 * exactly the coverage rule of `kernels/brush.py` (2-D, unit spacing): a pixel centre (x, y)
 * is covered when its distance to the stroke's polyline is at most `radius`, computed in
 * float64 in the kernel's order of operations, so the preview equals the committed mask bit for
 * bit. `paint` sets covered pixels to 1, `erase` to 0. With `within` (1 = the pixel's value is
 * in the threshold range), only those pixels are painted (threshold brush).
 *
 * Returns the box of the stroke's footprint clipped to the image, or null when the stroke
 * misses the image (or the arguments are invalid: non-finite points, radius <= 0).
 */
export function stampStroke(
  mask: Uint8Array,
  width: number,
  height: number,
  points: ReadonlyArray<readonly [number, number]> | readonly number[][],
  radius: number,
  mode: StampMode,
  within?: ArrayLike<number>,
): MaskBox | null {
  const n = points.length;
  if (n === 0 || !(radius > 0) || !Number.isFinite(radius) || mask.length < width * height) return null;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = points[i] as readonly number[];
    const x = p[0];
    const y = p[1];
    if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) {
      return null;
    }
    xs[i] = x;
    ys[i] = y;
  }
  const value = mode === "erase" ? 0 : 1;
  const r2 = radius * radius;
  let bx0 = width;
  let by0 = height;
  let bx1 = 0;
  let by1 = 0;
  const segments = n === 1 ? 1 : n - 1;
  for (let s = 0; s < segments; s++) {
    const ax = xs[s] as number;
    const ay = ys[s] as number;
    const bx = n === 1 ? ax : (xs[s + 1] as number);
    const by = n === 1 ? ay : (ys[s + 1] as number);
    // the segment's box, as the kernel computes it
    const x0 = Math.max(Math.floor(Math.min(ax, bx) - radius), 0);
    const x1 = Math.min(Math.ceil(Math.max(ax, bx) + radius) + 1, width);
    const y0 = Math.max(Math.floor(Math.min(ay, by) - radius), 0);
    const y1 = Math.min(Math.ceil(Math.max(ay, by) + radius) + 1, height);
    if (x1 <= x0 || y1 <= y0) continue;
    bx0 = Math.min(bx0, x0);
    by0 = Math.min(by0, y0);
    bx1 = Math.max(bx1, x1);
    by1 = Math.max(by1, y1);
    const dx = bx - ax;
    const dy = by - ay;
    let length2 = 0;
    length2 = length2 + dx * dx;
    length2 = length2 + dy * dy;
    for (let y = y0; y < y1; y++) {
      const row = y * width;
      for (let x = x0; x < x1; x++) {
        let dist2 = 0;
        if (length2 === 0) {
          const ex = x - ax;
          const ey = y - ay;
          dist2 = dist2 + ex * ex;
          dist2 = dist2 + ey * ey;
        } else {
          let proj = 0;
          proj = proj + (x - ax) * dx;
          proj = proj + (y - ay) * dy;
          let t = proj / length2;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = x - (ax + t * dx);
          const ey = y - (ay + t * dy);
          dist2 = dist2 + ex * ex;
          dist2 = dist2 + ey * ey;
        }
        if (dist2 <= r2) {
          const i = row + x;
          if (value === 1 && within !== undefined && !within[i]) continue;
          mask[i] = value;
        }
      }
    }
  }
  return bx1 > bx0 && by1 > by0 ? [bx0, by0, bx1, by1] : null;
}
