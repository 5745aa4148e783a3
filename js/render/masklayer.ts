/**
 * Bitmasks in the page: the brush coverage rule (the same as Python's kernels/brush.py, so the
 * preview is exactly what the kernel commits), the pending edit (strokes not applied yet), the
 * cache of the slice masks Python sent (`masks` messages), and the layer that draws them under
 * the vector overlay. One `MaskSession` per editor, shared by the mask tools (js/tools/bitmask.ts)
 * and the bitmask popup (js/ui/bitmask.ts) through `maskSession(api)`.
 *
 * The pure parts (coverage, bit decoding, message parsing, the pending edit, composition) take
 * no DOM and are unit-tested in masklayer.test.ts.
 */
import { type LabelObject, type Ontology, type Point, classColor, objectPlane } from "../labels";
import { type MaskBox, type MaskLayer, MaskCache, composeMasks, crossSections, hexToRgb, parseMasksMsg, unionBox } from "../masks";
import type { EditorApi, Layer } from "../tools/types";
import { type Plane, planeImage, planeSize } from "./planes";
import type { Matrix } from "./transform";

/** The brush tools of a `paint` stroke (dicom_annot_widget/widget/protocol.py). */
export type MaskToolKind = "brush" | "eraser" | "threshold";

/** Protocol limits (dicom_annot_widget/widget/protocol.py). */
export const MAX_RADIUS = 512;
export const MAX_STROKE_POINTS = 20_000;

/** One stroke as sent in `paint`. */
export interface StrokeSpec {
  tool: MaskToolKind;
  radius: number;
  points: Point[];
  range?: [number, number];
}

// ---- coverage rule ------------------------------------------------------------------------

/**
 * Visit the pixels of a `columns` x `rows` image covered by the capsule of segment a -> b and
 * radius r: `visit(index)` with index = row * columns + column (may visit a pixel once per
 * call). Same arithmetic, in the same order, as kernels/brush.py with spacing (row, column) =
 * (sy, 1): r is in column pixels and a row is sy of them (a reformat's rows are slices, sy =
 * slice spacing / column spacing, so the brush is round in mm; sy = 1 on the series' own
 * slices, where every product by it is exact and this is the textbook distance):
 *   d = b - a; L2 = dx*dx + (dy*sy)^2
 *   t = L2 == 0 ? 0 : clip(((qx-ax)*dx + (qy-ay)*(dy*sy*sy)) / L2, 0, 1)
 *   covered = (qx - (ax + t*dx))^2 + ((qy - (ay + t*dy))*sy)^2 <= r*r
 */
export function coverSegment(a: Point, b: Point, r: number, columns: number, rows: number, visit: (index: number) => void, sy = 1): void {
  const box = segmentBox(a, b, r, columns, rows, sy);
  if (box === null) return;
  const [x0, y0, x1, y1] = box;
  const [ax, ay] = a;
  const [bx, by] = b;
  const dx = bx - ax;
  const dy = by - ay;
  const dys = dy * sy;
  const l2 = 0 + dx * 1 * (dx * 1) + dys * dys;
  const dyss = dy * (sy * sy);
  const r2 = r * r;
  for (let y = y0; y < y1; y++) {
    const base = y * columns;
    for (let x = x0; x < x1; x++) {
      let ex: number;
      let ey: number;
      if (l2 === 0) {
        ex = x - ax;
        ey = (y - ay) * sy;
      } else {
        let t = (0 + (x - ax) * dx + (y - ay) * dyss) / l2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        ex = x - (ax + t * dx);
        ey = (y - (ay + t * dy)) * sy;
      }
      if (0 + ex * ex + ey * ey <= r2) visit(base + x);
    }
  }
}

/** The pixels coverSegment may visit: the capsule's box clipped to the image (null: none);
 * it reaches r / sy rows up and down. */
export function segmentBox(a: Point, b: Point, r: number, columns: number, rows: number, sy = 1): MaskBox | null {
  const ry = r / sy;
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - r));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - ry));
  const x1 = Math.min(columns, Math.ceil(Math.max(a[0], b[0]) + r) + 1);
  const y1 = Math.min(rows, Math.ceil(Math.max(a[1], b[1]) + ry) + 1);
  return x1 <= x0 || y1 <= y0 ? null : [x0, y0, x1, y1];
}

/** Pixels covered by a whole stroke (stamps interpolated between the samples), as 0/1. */
export function strokeCoverage(points: readonly Point[], r: number, columns: number, rows: number, sy = 1): Uint8Array {
  const out = new Uint8Array(columns * rows);
  const set = (i: number): void => {
    out[i] = 1;
  };
  if (points.length === 1) coverSegment(points[0] as Point, points[0] as Point, r, columns, rows, set, sy);
  for (let i = 1; i < points.length; i++) coverSegment(points[i - 1] as Point, points[i] as Point, r, columns, rows, set, sy);
  return out;
}

// ---- the pending edit ---------------------------------------------------------------------

/** What a pending edit does to a pixel: nothing, set it, clear it. */
export const KEEP = 0;
export const SET = 1;
export const CLEAR = 2;

/**
 * Strokes painted but not applied yet, on one slice of one object (an existing bitmask or
 * polygon object, or a new bitmask object of `feature`). `effect` holds, per pixel, what the
 * strokes so far do in order (later strokes override earlier ones), so the preview is
 * `effect == SET ? 1 : effect == CLEAR ? 0 : committed`.
 */
export class PendingEdit {
  readonly effect: Uint8Array;
  /** the effect is KEEP outside this box (null: no pixel touched yet) */
  bound: MaskBox | null = null;
  /** where the effect changed since `takeDirty` last looked (null: nowhere) */
  private dirty: MaskBox | null = null;
  readonly strokes: StrokeSpec[] = [];
  /** sent with `overwrite`: the pixels it sets leave the other masks (fixed when applied;
   * until then the session's setting says, see `MaskSession.overwrites`) */
  overwrite = false;
  /** index in `strokes` where each of the user's strokes starts (a long one is several) */
  private readonly starts: number[] = [];
  /** pixels the strokes set (an edit of a new object that sets none is empty) */
  private setCount = 0;
  private valueOf: ((index: number) => number) | null = null;

  /**
   * An edit of slice `slice` of `plane` (its image is `columns` x `rows`; on a reformat a row
   * is `sy` column pixels high, see coverSegment).
   */
  constructor(
    readonly uuid: string,
    readonly feature: string | null,
    readonly slice: number,
    readonly series: string,
    readonly columns: number,
    readonly rows: number,
    readonly plane: Plane = "axial",
    readonly sy = 1,
  ) {
    this.effect = new Uint8Array(columns * rows);
  }

  /** true when applying it would add nothing to a new object */
  empty(): boolean {
    return this.strokes.length === 0 || (this.feature !== null && this.setCount === 0);
  }

  /** Start a stroke at `p`; `values(index)` gives modality values (threshold only). */
  begin(tool: MaskToolKind, radius: number, p: Point, range?: [number, number], values?: (index: number) => number): void {
    if (!(radius > 0 && radius <= MAX_RADIUS)) throw new Error(`brush radius must be in (0, ${MAX_RADIUS}], got ${radius}`);
    if (tool === "threshold" && (!range || !values)) throw new Error("the threshold brush needs a range and the slice's values");
    const s: StrokeSpec = { tool, radius, points: [[p[0], p[1]]] };
    if (tool === "threshold" && range) s.range = [range[0], range[1]];
    this.starts.push(this.strokes.length);
    this.strokes.push(s);
    if (values) this.valueOf = values;
    this.stamp(s, p, p);
  }

  /**
   * Take back the last stroke (Ctrl+Z before Apply): the preview is rebuilt from the strokes
   * before it. Returns false when there was none.
   */
  undoStroke(): boolean {
    const from = this.starts.pop();
    if (from === undefined) return false;
    this.strokes.splice(from);
    this.effect.fill(KEEP);
    this.bound = null;
    this.setCount = 0;
    for (const st of this.strokes) {
      const pts = st.points;
      this.stamp(st, pts[0] as Point, pts[0] as Point);
      for (let i = 1; i < pts.length; i++) this.stamp(st, pts[i - 1] as Point, pts[i] as Point);
    }
    return true;
  }

  /** Extend the current stroke to `p` (stamps interpolated from the previous sample). */
  extend(p: Point): void {
    let s = this.strokes[this.strokes.length - 1];
    if (!s) return;
    const last = s.points[s.points.length - 1] as Point;
    if (last[0] === p[0] && last[1] === p[1]) return;
    if (s.points.length >= MAX_STROKE_POINTS) {
      // continue in a new stroke from the last sample (same coverage)
      const next: StrokeSpec = { ...s, points: [[last[0], last[1]]] };
      this.strokes.push(next);
      s = next;
    }
    s.points.push([p[0], p[1]]);
    this.stamp(s, last, p);
  }

  /** Where the effect changed since the last call (null: nowhere): a preview redraws that. */
  takeDirty(): MaskBox | null {
    const d = this.dirty;
    this.dirty = null;
    return d;
  }

  private stamp(s: StrokeSpec, a: Point, b: Point): void {
    const eff = this.effect;
    const touched = segmentBox(a, b, s.radius, this.columns, this.rows, this.sy);
    this.bound = unionBox(this.bound, touched);
    this.dirty = unionBox(this.dirty, touched);
    if (s.tool === "eraser") {
      coverSegment(
        a,
        b,
        s.radius,
        this.columns,
        this.rows,
        (i) => {
          if (eff[i] === SET) this.setCount -= 1;
          eff[i] = CLEAR;
        },
        this.sy,
      );
      return;
    }
    const range = s.tool === "threshold" ? s.range : undefined;
    const values = this.valueOf;
    coverSegment(
      a,
      b,
      s.radius,
      this.columns,
      this.rows,
      (i) => {
        if (range && values) {
          const v = values(i);
          if (!(v >= range[0] && v <= range[1])) return;
        }
        if (eff[i] !== SET) this.setCount += 1;
        eff[i] = SET;
      },
      this.sy,
    );
  }

  /** The `paint` message (without series / request). */
  message(): Record<string, unknown> {
    const msg: Record<string, unknown> = {
      type: "paint",
      uuid: this.uuid,
      slice: this.slice,
      strokes: this.strokes.map((s) => ({ ...s, points: s.points.map((q) => [q[0], q[1]]) })),
    };
    if (this.feature !== null) msg.feature = this.feature;
    if (this.plane !== "axial") msg.plane = this.plane;
    return msg;
  }
}

/**
 * What the mask a pending edit previews: `committed` (0/1 or undefined) with `effect` applied,
 * on a slice `columns` wide. `effect` is KEEP outside `box` (PendingEdit.bound; null: nothing
 * touched), so only that box is visited and the rest is a copy of `committed`. With `clip`,
 * the result is that of only the pixels in `clip` (zero elsewhere). `taken`: the mask of
 * another object, which loses the pixels the edit sets (overwrite).
 */
export function previewMask(committed: Uint8Array | undefined, effect: Uint8Array, columns: number, box: MaskBox | null, clip?: MaskBox, taken = false): Uint8Array {
  let out: Uint8Array;
  if (!clip) out = committed && committed.length === effect.length ? committed.slice() : new Uint8Array(effect.length);
  else {
    // only `clip` of the result is used (a stroke's redrawn part): only it is filled
    out = new Uint8Array(effect.length);
    if (committed && committed.length === effect.length) {
      for (let y = clip[1]; y < clip[3]; y++) out.set(committed.subarray(y * columns + clip[0], y * columns + clip[2]), y * columns + clip[0]);
    }
  }
  if (box === null) return out;
  const x0 = clip ? Math.max(box[0], clip[0]) : box[0];
  const y0 = clip ? Math.max(box[1], clip[1]) : box[1];
  const x1 = clip ? Math.min(box[2], clip[2]) : box[2];
  const y1 = clip ? Math.min(box[3], clip[3]) : box[3];
  for (let y = y0; y < y1; y++) {
    for (let i = y * columns + x0, end = y * columns + x1; i < end; i++) {
      const e = effect[i];
      if (taken) {
        if (e === SET) out[i] = 0;
      } else if (e === SET) out[i] = 1;
      else if (e === CLEAR) out[i] = 0;
    }
  }
  return out;
}

function intersects(a: MaskBox, b: MaskBox | null): boolean {
  return b !== null && a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

// ---- composition --------------------------------------------------------------------------

/** Paint `mask`'s pixels into RGBA `out` in `rgb` with alpha `a` (0..255), over what is there;
 * with `clip`, only those in its box. */
export function blendMask(out: Uint8ClampedArray, mask: Uint8Array, rgb: [number, number, number], a: number, clip?: { box: MaskBox; columns: number }): void {
  if (a <= 0) return;
  if (clip) {
    // only the pixels of the box (of an image `columns` wide)
    const [x0, y0, x1, y1] = clip.box;
    for (let y = y0; y < y1; y++) {
      const row = y * clip.columns;
      blendRange(out, mask, rgb, a, row + x0, row + x1);
    }
    return;
  }
  blendRange(out, mask, rgb, a, 0, mask.length);
}

function blendRange(out: Uint8ClampedArray, mask: Uint8Array, rgb: [number, number, number], a: number, from: number, to: number): void {
  const k = a / 255;
  for (let i = from, j = from * 4; i < to; i++, j += 4) {
    if (!mask[i]) continue;
    const oa = (out[j + 3] as number) / 255;
    const na = k + oa * (1 - k);
    out[j] = (rgb[0] * k + (out[j] as number) * oa * (1 - k)) / na;
    out[j + 1] = (rgb[1] * k + (out[j + 1] as number) * oa * (1 - k)) / na;
    out[j + 2] = (rgb[2] * k + (out[j + 2] as number) * oa * (1 - k)) / na;
    out[j + 3] = na * 255;
  }
}

// ---- the session: settings, pending edit, cache, layer ------------------------------------

export interface MaskSettings {
  /** brush radius, voxels */
  radius: number;
  /** threshold range, modality units */
  range: [number, number];
  /** tint the pixels of the slice inside the range */
  thresholdPreview: boolean;
  /** mask overlay opacity, 0..1 */
  opacity: number;
}

export const MASK_TOOL_IDS: readonly MaskToolKind[] = ["brush", "eraser", "threshold"];

/** A mask shown on an image, and where it can be non-zero (null: nowhere; absent: anywhere). */
interface Shown {
  mask: Uint8Array | undefined;
  box: MaskBox | null | undefined;
  /** `mask` holds only the pixels of `box` (a cache region) */
  cropped?: boolean;
}
const THRESHOLD_TINT: [number, number, number] = [0, 229, 255];

export class MaskSession {
  readonly settings: MaskSettings = { radius: 8, range: [40, 200], thresholdPreview: false, opacity: 0.5 };
  /** the masks Python sent for this series (js/masks.ts) */
  cache: MaskCache | null = null;
  private series = "";
  /** slice -> labels revision its cached masks are complete and current at */
  private readonly valid = new Map<number, number>();
  /** bumped when the cache changes */
  private cacheGen = 0;
  pending: PendingEdit | null = null;
  /** applied edits waiting for Python: drawn until their revision arrives */
  readonly committing = new Map<number, { edit: PendingEdit; revision?: number }>();
  /** the stroke being drawn (pointer down) */
  stroking = false;
  /** voxel under the pointer (brush outline) */
  hover: Point | null = null;
  /** bumped when the pending edit / settings change */
  gen = 0;
  /** get_masks sent: "slice|revision" */
  private readonly asked = new Set<string>();
  private rangeInitFor = "";
  private composed: { key: string; base: string; canvas: HTMLCanvasElement | OffscreenCanvas | null } = { key: "", base: "", canvas: null };
  /** what of the composed image is out of date besides what its key says: "all", a box of it
   * (a stroke's new part, see `moved`), or null (nothing) */
  private stale: MaskBox | null | "all" = "all";
  /** the last frame's image and canvas, reused by the next of the same size */
  private frame: { image: ImageData | null; canvas: HTMLCanvasElement | OffscreenCanvas | null } = { image: null, canvas: null };
  /** the threshold tint of one slice and range (see tintOf) */
  private tint: { key: string; mask: Uint8Array | null } = { key: "", mask: null };
  readonly layer: Layer;

  constructor(readonly api: EditorApi) {
    this.settings.opacity = modelOpacity(api) ?? this.settings.opacity;
    this.layer = { draw: (ctx, m, k) => this.draw(ctx, m, k), key: () => this.drawKey() };
  }

  touch(): void {
    this.stale = "all";
    this.pending?.takeDirty(); // (covered)
    this.gen += 1;
    this.api.changed();
  }

  /**
   * A pointer move of a mask tool: only the part of the image the stroke changed is composed
   * again (none when hovering). Composing the whole image on every move cost ~40 ms a frame on
   * a 2048 x 2048 radiograph with the threshold preview (QA 23b D6).
   */
  moved(): void {
    const dirty = this.pending?.takeDirty() ?? null;
    if (dirty !== null) {
      if (this.stale !== "all") this.stale = unionBox(this.stale, dirty);
      this.gen += 1;
    }
    this.api.changed();
  }

  /** A stroke's new pixels leave the other bitmask objects (the popup's "Overwrite other
   * masks", Python's `w.mask_overwrite`). */
  overwrites(): boolean {
    return this.api.model.get("mask_overwrite") === true;
  }

  /** the current tool is a mask tool */
  maskToolActive(): boolean {
    return (MASK_TOOL_IDS as readonly string[]).includes(this.api.ui.tool);
  }

  /** Size of the series' own slices (masks are kept on them whatever plane is shown), and a
   * reset of the cache on a new series. */
  sync(): { columns: number; rows: number } | null {
    const info = this.api.info();
    if (!info) return null;
    const g = { columns: info.shape[2], rows: info.shape[1] };
    if (!this.cache || this.series !== info.id || this.cache.width !== g.columns || this.cache.height !== g.rows) {
      this.cache = new MaskCache(g.columns, g.rows);
      this.series = info.id;
      this.valid.clear();
      this.cacheGen += 1;
      this.asked.clear();
      if (this.pending && !this.pending.empty()) {
        // the series changed under it (from Python): the strokes cannot be applied any more
        this.api.toast(`${this.pending.strokes.length} unapplied stroke(s) discarded: the series changed`);
      }
      this.pending = null;
      this.committing.clear();
      this.gen += 1;
    }
    if (this.rangeInitFor !== info.id) {
      this.rangeInitFor = info.id;
      this.settings.range = defaultRange(info.units, info.value_range);
    }
    return { columns: g.columns, rows: g.rows };
  }

  /** bitmask objects with a keyframe on the series' own slice k (masks are painted there) */
  maskObjects(k: number): LabelObject[] {
    return this.api
      .labels()
      .objects.filter((o) => o.shape === "bitmask" && objectPlane(o) === "axial" && o.keyframes[String(k)] !== undefined);
  }

  /** For a reformat: ask for the masks of every own slice that has one. */
  ensureAll(): void {
    const slices = new Set<number>();
    for (const o of this.api.labels().objects) {
      if (o.shape !== "bitmask" || objectPlane(o) !== "axial") continue;
      for (const key of Object.keys(o.keyframes)) slices.add(Number(key));
    }
    for (const k of slices) this.ensure(k);
  }

  /**
   * Whether slice k's cached masks are those of the labels shown: every mask object there has
   * its keyframe's checksum (`mask_crc`) in the cache, and the cache holds no other. null when
   * the labels carry no checksums (an older kernel): then the revision alone decides.
   */
  private matches(k: number): boolean | null {
    const cache = this.cache;
    if (!cache) return false;
    const objects = this.maskObjects(k);
    for (const o of objects) {
      const want = o.keyframes[String(k)]?.mask_crc;
      if (typeof want !== "number") return null;
      if (cache.crc(k, o.uuid) !== want) return false;
    }
    const shown = new Set(objects.map((o) => o.uuid));
    return cache.uuids(k).every((u) => shown.has(u));
  }

  /** The labels revision slice k's cached masks are known to be current at (-1: unknown):
   * that of the labels shown when the checksums say so, though their revision moved on. */
  private heldAt(k: number): number {
    const held = this.valid.get(k) ?? -1;
    return this.matches(k) === true ? Math.max(held, this.api.labels().revision) : held;
  }

  /** Ask Python for slice k's masks when they are missing or not those of the labels (an
   * edit elsewhere, or of another slice, asks for nothing: the checksums tell). */
  ensure(k: number): void {
    const size = this.sync();
    const cache = this.cache;
    if (!size || !cache) return;
    const rev = this.api.labels().revision;
    // current at (or, a patch, newer than) the labels shown: nothing to look at (this runs
    // for every slice with masks on each frame of a reformat, so before the checksums)
    if ((this.valid.get(k) ?? -1) >= rev) return;
    const matches = this.matches(k);
    if (matches === true) {
      this.valid.set(k, rev); // their checksums say so: nothing to ask
      return;
    }
    if (matches === null && this.maskObjects(k).length === 0 && cache.uuids(k).length === 0) {
      this.valid.set(k, rev); // nothing to show there
      return;
    }
    const key = `${this.series}|${k}|${rev}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    this.api.send({ type: "get_masks", slice: k });
  }

  /** A kernel message: `masks` goes into the cache. */
  onMessage(raw: unknown, buffers: readonly DataView[]): void {
    if (typeof raw !== "object" || raw === null || (raw as { type?: unknown }).type !== "masks") return;
    const size = this.sync();
    const cache = this.cache;
    if (!size || !cache) return;
    const msg = parseMasksMsg(raw, buffers, size.columns, size.rows);
    if (!msg) return this.api.refuse("a masks message from Python was malformed (ignored)");
    if (msg.series !== this.series) return;
    const prefix = `${msg.series}|${msg.slice}|`;
    const complete = msg.items.every((it) => it.full) && [...this.asked].some((a) => a.startsWith(prefix));
    const held = this.heldAt(msg.slice);
    if (held > msg.revision) return; // older than what is shown
    // a patch keeps the slice current only when it follows the revision held
    const follows = complete || held >= msg.revision - 1;
    cache.apply(msg, complete, follows);
    if (follows) this.valid.set(msg.slice, msg.revision);
    else this.valid.delete(msg.slice);
    if (complete) for (const a of [...this.asked]) if (a.startsWith(prefix)) this.asked.delete(a);
    this.cacheGen += 1;
    this.api.changed();
  }

  /** New labels from Python: drop the committed edits it has taken. */
  onLabels(): void {
    const rev = this.api.labels().revision;
    let changed = false;
    const p = this.pending;
    // nothing left to apply them to: their object was deleted (an undo, the objects list,
    // Python), or review mode turned on (QA: the strokes vanished without a word, and Enter
    // then refused strokes no longer shown)
    const gone = p && p.feature === null && !this.api.object(p.uuid) ? "their object was deleted" : null;
    const why = gone ?? (p && this.api.readOnly() ? "the labels are read-only now (review mode)" : null);
    if (p && why) {
      this.pending = null;
      this.stroking = false;
      changed = true;
      if (!p.empty()) this.api.toast(`${p.strokes.length} unapplied stroke(s) discarded: ${why}`);
    }
    for (const [req, c] of this.committing) {
      if (c.revision !== undefined && rev >= c.revision) {
        this.committing.delete(req);
        changed = true;
        if (c.edit.feature !== null && this.api.selected() === null && this.api.object(c.edit.uuid)) this.api.select(c.edit.uuid);
      }
    }
    if (changed) this.touch();
  }

  /** Send the pending edit as ONE `paint` message. */
  apply(): boolean {
    const p = this.pending;
    if (!p) return false;
    this.pending = null;
    this.stroking = false;
    if (p.empty()) {
      this.touch();
      return true;
    }
    let request: number | null = null;
    p.overwrite = this.overwrites();
    request = this.api.request({ ...p.message(), ...(p.overwrite ? { overwrite: true } : {}) }, (a) => {
      const c = request === null ? undefined : this.committing.get(request);
      if (!a.ok) {
        if (request !== null) this.committing.delete(request);
        this.api.refuse(a.message);
      } else if (c) {
        c.revision = a.revision;
        this.onLabels();
      }
      this.touch();
    });
    if (request !== null) this.committing.set(request, { edit: p });
    this.touch();
    return true;
  }

  discard(): boolean {
    if (!this.pending) return false;
    this.pending = null;
    this.stroking = false;
    this.touch();
    return true;
  }

  private drawKey(): string {
    return `${this.gen}|${this.baseKey()}`;
  }

  /** What the composed image depends on but the pending edit (see `stale`). */
  private baseKey(): string {
    const k = this.api.slice();
    const threshold = this.api.ui.tool === "threshold" && this.settings.thresholdPreview && (this.api.model.get("slab") ?? 1) <= 1;
    const hidden = [...this.api.hidden()].join(",");
    const vol = this.api.volume();
    const arrived = this.api.plane() === "axial" ? (vol?.loaded[k] ?? 0) : (vol?.loadedCount ?? 0);
    return `${this.cacheGen}|${this.overwrites()}|${this.api.plane()}|${k}|${this.api.labels().revision}|${hidden}|${threshold ? `${this.settings.range}|${arrived}` : ""}|${this.settings.opacity}`;
  }

  /** the series the cache holds */
  seriesId(): string {
    return this.series;
  }

  /** The RGBA image of slice k's masks (and pending edits, threshold tint). */
  compose(k: number, tint = true, into?: ImageData, clip?: MaskBox): ImageData | null {
    const size = this.sync();
    const cache = this.cache;
    if (!size || !cache) return null;
    const { columns, rows } = size;
    const hidden = this.api.hidden();
    const byUuid = new Map(this.api.labels().objects.map((o) => [o.uuid, o]));
    const shown = new Set([...this.maskObjects(k).map((o) => o.uuid), ...cache.uuids(k).filter((u) => byUuid.get(u)?.shape === "bitmask")]);
    const base = new Map<string, Shown>();
    for (const uuid of shown) {
      if (!byUuid.has(uuid) || hidden.has(uuid)) continue;
      // where the mask can be non-zero: the cache's box (grown by each edit's below: only
      // those pixels are visited, an edit touches a stroke's box, not the whole slice)
      const region = cache.region(k, uuid);
      if (!region) base.set(uuid, { mask: undefined, box: null });
      else if (region.box === null) base.set(uuid, { mask: cache.get(k, uuid), box: undefined });
      else base.set(uuid, { mask: region.data, box: region.box, cropped: true });
    }
    return this.composeImage(base, byUuid, "axial", k, columns, rows, () => this.values(k), tint, into, clip);
  }

  /** The RGBA image of the masks cut by reformat slice k (the objects' colours), with the
   * edits pending on it and the threshold tint. */
  composePlane(plane: "coronal" | "sagittal", k: number, tint = true, into?: ImageData, clip?: MaskBox): ImageData | null {
    const size = this.sync();
    const cache = this.cache;
    const info = this.api.info();
    const dims = this.planeDims(plane);
    if (!size || !cache || !info || !dims) return null;
    const hidden = this.api.hidden();
    const byUuid = new Map(this.api.labels().objects.map((o) => [o.uuid, o]));
    const sections = crossSections(cache, plane, k, info.shape[0], (u) => byUuid.get(u)?.shape === "bitmask" && !hidden.has(u));
    const base = new Map<string, Shown>([...sections].map(([uuid, mask]) => [uuid, { mask, box: undefined }]));
    return this.composeImage(base, byUuid, plane, k, dims.columns, dims.rows, () => this.planeValues(plane, k), tint, into, clip);
  }

  /**
   * The masks of slice k of `plane` for a small view (the orthogonal thumbnails): the main
   * view's image of them, without the threshold tint, and a key that changes when it would.
   * Asks Python for the masks it needs; null when the labels have no mask objects.
   */
  thumbnail(plane: Plane, k: number): { key: string; image: () => ImageData | null } | null {
    if (!this.api.labels().objects.some((o) => o.shape === "bitmask")) return null;
    if (plane === "axial") this.ensure(k);
    else this.ensureAll();
    const hidden = [...this.api.hidden()].join(",");
    return {
      key: `${this.cacheGen}|${this.gen}|${plane}|${k}|${this.api.labels().revision}|${hidden}|${this.settings.opacity}`,
      image: () => (plane === "axial" ? this.compose(k, false) : this.composePlane(plane, k, false)),
    };
  }

  /**
   * Compose the masks `base` of slice k of `plane` (a `columns` x `rows` image; `byUuid`: the
   * labels' objects) with the applied-but-unconfirmed and pending edits made there, and (with
   * `tint`) the threshold tint from `values`; null when there is nothing to draw.
   */
  private composeImage(
    base: Map<string, Shown>,
    byUuid: ReadonlyMap<string, LabelObject>,
    plane: Plane,
    k: number,
    columns: number,
    rows: number,
    values: () => ((index: number) => number) | null,
    tint = true,
    into?: ImageData,
    clip?: MaskBox,
  ): ImageData | null {
    const n = columns * rows;
    const onto: Ontology | null = this.api.ontology();
    const hidden = this.api.hidden();
    const alpha = Math.round(Math.max(0, Math.min(1, this.settings.opacity)) * 255);
    const edits = [...this.committing.values()].map((c) => c.edit);
    if (this.pending) edits.push(this.pending);
    const onImage = edits.filter((e) => e.plane === plane && e.slice === k && e.series === this.series && e.columns === columns && e.rows === rows);
    const drawn = new Set<string>();
    const layers: MaskLayer[] = [];
    const erased: Uint8Array[] = [];
    // edits that take their pixels from the other masks (overwrite; not a polygon's)
    const taking = onImage.filter((e) => (e === this.pending ? this.overwrites() : e.overwrite) && e.bound !== null && byUuid.get(e.uuid)?.shape !== "polygon");
    for (const [uuid, shown] of base) {
      const o = byUuid.get(uuid);
      if (!o) continue;
      let { mask, box, cropped } = shown;
      for (const e of onImage) {
        const other = e.uuid !== uuid;
        if (other && (!taking.includes(e) || (box && !intersects(box, e.bound)))) continue;
        if (cropped) {
          // an edit's preview is of the whole image: from the cache's whole-slice copy
          mask = this.cache?.get(k, uuid);
          cropped = false;
        }
        mask = previewMask(mask, e.effect, columns, e.bound, clip, other);
        if (box !== undefined && !other) box = unionBox(box, e.bound);
      }
      drawn.add(uuid);
      if (mask) layers.push({ mask, color: hexToRgb(classColor(onto, o.feature)), box, cropped: cropped === true });
    }
    for (const e of onImage) {
      if (drawn.has(e.uuid) || hidden.has(e.uuid) || e.bound === null) continue;
      const o = byUuid.get(e.uuid);
      const set = new Uint8Array(n);
      const clear = new Uint8Array(n);
      const polygon = o?.shape === "polygon";
      const [x0, y0, x1, y1] = clip ? [Math.max(e.bound[0], clip[0]), Math.max(e.bound[1], clip[1]), Math.min(e.bound[2], clip[2]), Math.min(e.bound[3], clip[3])] : e.bound;
      for (let y = y0; y < y1; y++) {
        for (let i = y * columns + x0, end = y * columns + x1; i < end; i++) {
          if (e.effect[i] === SET) set[i] = 1;
          else if (e.effect[i] === CLEAR && polygon) clear[i] = 1;
        }
      }
      layers.push({ mask: set, color: hexToRgb(classColor(onto, e.feature ?? o?.feature ?? "")), box: e.bound });
      erased.push(clear);
    }
    // (not over a projection: the tint is of the slice's own values, see the threshold tool)
    const tinting = tint && this.api.ui.tool === "threshold" && this.settings.thresholdPreview && (this.api.model.get("slab") ?? 1) <= 1;
    // nothing to show (the usual slice): no image, no drawing (a slice-sized compose and
    // draw per frame would cost milliseconds while scrolling)
    if (layers.length === 0 && erased.length === 0 && !tinting) return null;
    // (a frame's image is reused for the next: 16 MB fresh for each pointer move of a stroke
    // on a 2048 x 2048 slice, QA 23b D7; composeMasks clears it)
    const img = into !== undefined && into.width === columns && into.height === rows ? into : new ImageData(columns, rows);
    const out = img.data;
    composeMasks(layers, columns, rows, this.settings.opacity, out, clip);
    const region = clip ? { box: clip, columns } : undefined;
    // erasing from a polygon (not a mask yet): the part that goes darkens
    for (const clear of erased) blendMask(out, clear, [0, 0, 0], Math.round(alpha * 0.8), region);
    const inRange = tinting ? this.tintOf(plane, k, columns, rows, values) : null;
    if (inRange) blendMask(out, inRange, THRESHOLD_TINT, 90, region);
    return img;
  }

  /** The pixels of slice k of `plane` inside the threshold range (null: values not there
   * yet). Kept for the slice and range: a stroke's every pointer move recomputed them, a
   * closure call per pixel (QA 23b D7: most of an 82 ms frame on 2048 x 2048). The values of
   * an arrived slice never change; a reformat's are there once every slice is. */
  private tintOf(plane: Plane, k: number, columns: number, rows: number, values: () => ((index: number) => number) | null): Uint8Array | null {
    const [lo, hi] = this.settings.range;
    const key = `${this.series}|${plane}|${k}|${columns}x${rows}|${lo}|${hi}`;
    if (this.tint.key === key) return this.tint.mask;
    const valueOf = values();
    if (!valueOf) return null;
    const n = columns * rows;
    const mask = this.tint.mask?.length === n ? this.tint.mask : new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = valueOf(i);
      mask[i] = v >= lo && v <= hi ? 1 : 0;
    }
    this.tint = { key, mask };
    return mask;
  }

  /** Size of `plane`'s images, and how many column pixels high a row is (sy: the brush is
   * round in mm, on the series' own slices of non-square pixels too (QA 21b D7: it was round
   * in pixels there); the kernel computes the same quotient, masks.plane_spacing). */
  planeDims(plane: Plane): { columns: number; rows: number; sy: number } | null {
    const info = this.api.info();
    if (!info) return null;
    const d = planeSize(info.shape, info.spacing, plane);
    const sy = d.rowSpacing / d.columnSpacing;
    return { columns: d.columns, rows: d.rows, sy: Number.isFinite(sy) && sy > 0 ? sy : 1 };
  }

  private draw(ctx: CanvasRenderingContext2D, m: Matrix, k: number): void {
    const key = this.drawKey();
    if (key !== this.composed.key && !this.recompose(key, k)) {
      const plane = this.api.plane();
      const reuse = this.frame.image ?? undefined;
      const img = plane === "coronal" || plane === "sagittal" ? this.composePlane(plane, k, true, reuse) : this.compose(k, true, reuse);
      this.composed = { key, base: this.baseKey(), canvas: null };
      if (img) {
        let c = this.frame.canvas;
        if (!c || c.width !== img.width || c.height !== img.height) {
          c = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(img.width, img.height) : document.createElement("canvas");
          c.width = img.width;
          c.height = img.height;
        }
        (c.getContext("2d") as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null)?.putImageData(img, 0, 0);
        this.composed.canvas = c;
        this.frame = { image: img, canvas: c };
      }
    }
    this.stale = null;
    const c = this.composed.canvas;
    if (!c) return;
    ctx.transform(m[0], m[1], m[2], m[3], m[4], m[5]);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(c, 0, 0);
  }

  /**
   * Bring the composed image up to `key` by composing again only what a stroke changed since
   * (`stale`), when nothing else did. Returns false when the whole image must be composed.
   */
  private recompose(key: string, k: number): boolean {
    const { image, canvas } = this.frame;
    const stale = this.stale;
    if (stale === "all" || !image || !canvas || this.composed.canvas !== canvas || this.composed.base !== this.baseKey()) return false;
    if (stale !== null) {
      const clip: MaskBox = [Math.max(0, stale[0]), Math.max(0, stale[1]), Math.min(image.width, stale[2]), Math.min(image.height, stale[3])];
      if (clip[2] > clip[0] && clip[3] > clip[1]) {
        const plane = this.api.plane();
        const img = plane === "coronal" || plane === "sagittal" ? this.composePlane(plane, k, true, image, clip) : this.compose(k, true, image, clip);
        if (img !== image) return false; // (nothing to draw any more, or another size)
        const ctx = canvas.getContext("2d") as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
        ctx?.putImageData(image, 0, 0, clip[0], clip[1], clip[2] - clip[0], clip[3] - clip[1]);
      }
    }
    this.composed.key = key;
    return true;
  }

  /** Modality value of pixel `index` of reformat k of `plane` (`stored * slope + intercept`
   * of each row's slice, as the kernel computes it); null until every slice has arrived. */
  planeValues(plane: "coronal" | "sagittal", k: number): ((index: number) => number) | null {
    const vol = this.api.volume();
    if (!vol || vol.samples !== 1 || vol.loadedCount < vol.slices) return null;
    const img = planeImage(vol, plane, k);
    const { values, columns, slope, intercept } = img;
    return (i) => {
      const row = Math.floor(i / columns);
      return (values[i] as number) * (slope[row] as number) + (intercept[row] as number);
    };
  }

  /** Modality value of pixel `index` of slice k (null when the slice is not loaded). */
  values(k: number): ((index: number) => number) | null {
    const vol = this.api.volume();
    if (!vol || !vol.loaded[k] || vol.samples !== 1) return null;
    const slope = vol.slope[k] as number;
    const icpt = vol.intercept[k] as number;
    const data = vol.slice(k);
    const sp = vol.samples;
    return (i) => (data[i * sp] as number) * slope + icpt;
  }
}

/** A first threshold range: soft tissue for HU, the middle half of the values otherwise. */
export function defaultRange(units: string | undefined, valueRange: [number, number] | undefined): [number, number] {
  if (units === "HU") return [40, 200];
  const [a, b] = valueRange ?? [0, 1];
  return [a + (b - a) / 4, a + ((b - a) * 3) / 4];
}

const SESSIONS = new WeakMap<EditorApi, MaskSession>();

/**
 * Send the pending mask edit of this editor, if any (before the user switches series: the
 * strokes would otherwise be dropped with the old series' cache). Returns whether one was sent.
 */
export function applyPendingMask(api: EditorApi): boolean {
  const s = SESSIONS.get(api);
  return s?.pending ? s.apply() : false;
}

/** The mask session of one editor (created on first use). */
/** The widget's `mask_opacity` (Python's `w.mask_opacity`), or null if it has none usable. */
export function modelOpacity(api: EditorApi): number | null {
  const opacity = api.model.get("mask_opacity");
  return typeof opacity === "number" && opacity >= 0 && opacity <= 1 ? opacity : null;
}

/** The editor's mask session if it has made one (null: no mask tool or layer yet). */
export function maskSessionIfAny(api: EditorApi): MaskSession | null {
  return SESSIONS.get(api) ?? null;
}

export function maskSession(api: EditorApi): MaskSession {
  let s = SESSIONS.get(api);
  if (!s) {
    s = new MaskSession(api);
    SESSIONS.set(api, s);
  }
  return s;
}
