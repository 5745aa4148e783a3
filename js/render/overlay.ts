/**
 * The vector overlay: the objects with a keyframe on the current slice, drawn in screen space
 * over the view canvas (so lines keep their width at any zoom), in their class colour, with
 * their object id; interpolated keyframes (`manual: false`) dashed; the selected object
 * highlighted; the shape being drawn (draft) on top.
 *
 * Pure: draws on any object with the 2D-context methods used, given the voxel -> screen
 * matrix. The caller clears the canvas and sets its device-pixel-ratio scale.
 */
import { type Ontology, type Point, type SliceItem, bridgeEdges, classColor } from "../labels";
import type { Matrix } from "./transform";

export type OverlayContext = Pick<
  CanvasRenderingContext2D,
  | "beginPath"
  | "moveTo"
  | "lineTo"
  | "closePath"
  | "arc"
  | "stroke"
  | "fill"
  | "fillText"
  | "strokeText"
  | "rect"
  | "fillRect"
  | "setLineDash"
  | "strokeStyle"
  | "fillStyle"
  | "lineWidth"
  | "globalAlpha"
  | "font"
  | "textBaseline"
  | "lineJoin"
>;

/** A shape being drawn (not sent yet): polygon vertices so far plus the cursor, or a box. */
export interface Draft {
  shape: "bounding_box" | "polygon";
  color: string;
  /** box: [start, end]; polygon: the vertices placed */
  points: Point[];
  /** polygon: where the next vertex would go */
  cursor?: Point | null;
}

export interface OverlayOptions {
  ontology: Ontology | null;
  selected: string | null;
  /** objects not to draw (deleted optimistically) */
  hidden?: ReadonlySet<string>;
  draft?: Draft | null;
  /** screen size (CSS px): objects entirely outside it are skipped (zoomed-in views) */
  viewport?: [number, number];
  /** the view's cache of polygon bridges (none: found again on every frame) */
  bridges?: BridgeCache;
}

/** Outline width (CSS px): 1 px lines are drawn by the hairline rasteriser (see drawOverlay). */
export const LINE_WIDTH = 1;
export const SELECTED_WIDTH = 2.5;
const DASH = [6, 4];
const NO_DASH: number[] = [];
const HANDLE = 3;
/** width of a digit of the ids' font (bold 11px sans-serif), for the box behind them */
const DIGIT_PX = 6.5;

/** voxel (column, row) -> screen matrix from the image -> screen one (pixel centres at +0.5). */
export function voxelMatrix(imageToScreen: Matrix): Matrix {
  const [a, b, c, d, e, f] = imageToScreen;
  return [a, b, c, d, e + 0.5 * (a + c), f + 0.5 * (b + d)];
}

/** The screen points of a keyframe's geometry and whether the outline closes. */
export function screenShape(m: Matrix, kf: SliceItem["keyframe"], shape: string): { pts: Point[]; closed: boolean } {
  const [a, b, c, d, e, f] = m;
  const tr = (x: number, y: number): Point => [a * x + c * y + e, b * x + d * y + f];
  if (kf.box) {
    const [x0, y0, x1, y1] = kf.box;
    return { pts: [tr(x0, y0), tr(x1, y0), tr(x1, y1), tr(x0, y1)], closed: true };
  }
  if (kf.points) return { pts: kf.points.map((p) => tr(p[0], p[1])), closed: shape === "polygon" };
  if (kf.point) return { pts: [tr(kf.point[0], kf.point[1])], closed: false };
  if (kf.nodes) return { pts: Object.values(kf.nodes).map((p) => tr(p[0], p[1])), closed: false };
  return { pts: [], closed: false };
}

/** A ring's outline without its bridges (see bridgeEdges), from its `n` screen vertices in
 * `xy` (x, y pairs). */
function ringWithoutBridges(ctx: OverlayContext, xy: Float64Array, n: number, bridges: ReadonlySet<number>): void {
  ctx.moveTo(xy[0] as number, xy[1] as number);
  for (let i = 0; i < n; i++) {
    const j = 2 * ((i + 1) % n);
    if (bridges.has(i)) ctx.moveTo(xy[j] as number, xy[j + 1] as number);
    else ctx.lineTo(xy[j] as number, xy[j + 1] as number);
  }
}

/** Bridges of polygon rings by vertex array, kept by each view (see
 * `OverlayOptions.bridges`): a ring is searched once, not on every frame. Keyframe arrays are
 * never changed in place (each labels_state brings new ones), so an array is its own key. */
export type BridgeCache = WeakMap<readonly Point[], Set<number> | null>;

function cachedBridges(pts: readonly Point[], cache: BridgeCache | undefined): Set<number> | null {
  if (!cache) return bridgeEdges(pts);
  let out = cache.get(pts);
  if (out === undefined) cache.set(pts, (out = bridgeEdges(pts)));
  return out;
}

function path(ctx: OverlayContext, pts: readonly Point[], closed: boolean, bridges: ReadonlySet<number> | null = null): void {
  ctx.beginPath();
  const n = pts.length;
  const first = pts[0] as Point;
  ctx.moveTo(first[0], first[1]);
  if (closed && bridges) {
    for (let i = 0; i < n; i++) {
      const q = pts[(i + 1) % n] as Point;
      if (bridges.has(i)) ctx.moveTo(q[0], q[1]);
      else ctx.lineTo(q[0], q[1]);
    }
    return;
  }
  for (let i = 1; i < n; i++) {
    const p = pts[i] as Point;
    ctx.lineTo(p[0], p[1]);
  }
  if (closed) ctx.closePath();
}

function dots(ctx: OverlayContext, pts: readonly Point[], r: number): void {
  ctx.beginPath();
  for (const p of pts) {
    ctx.moveTo(p[0] + r, p[1]);
    ctx.arc(p[0], p[1], r, 0, 2 * Math.PI);
  }
  ctx.fill();
}

/** The device pixel grid of a context: its device pixel ratio (read from the context's transform,
 * which the caller scales by devicePixelRatio; a context without `getTransform`, as in tests,
 * counts as ratio 1) and the offset (0 or 0.5 device px) that puts a line of `width` CSS px
 * on whole device pixels. */
function deviceGrid(ctx: OverlayContext, width: number): { scale: number; offset: number } {
  const getTransform = (ctx as Partial<Pick<CanvasRenderingContext2D, "getTransform">>).getTransform;
  const t = typeof getTransform === "function" ? getTransform.call(ctx) : null;
  const scale = t && Number.isFinite(t.a) && t.a > 0 && t.b === 0 && t.c === 0 ? t.a : 1;
  return { scale, offset: (Math.max(1, Math.round(width * scale)) % 2) / 2 };
}

/**
 * A function snapping a screen coordinate (CSS px) so that a line of `width` CSS px lies on
 * whole device pixels: at the centre of a device pixel for odd device widths, on a pixel edge
 * for even ones (see `deviceGrid`).
 */
export function pixelSnapper(ctx: OverlayContext, width: number): (v: number) => number {
  const { scale, offset } = deviceGrid(ctx, width);
  return (v) => (Math.round(v * scale - offset) + offset) / scale;
}

/** The voxel positions drawn as dots: a point, a primitive's nodes, a single vertex. */
function dotPoints(kf: SliceItem["keyframe"]): readonly Point[] {
  if (kf.point) return [kf.point];
  if (kf.nodes) return Object.values(kf.nodes);
  if (kf.points) return kf.points;
  if (kf.box) return [[kf.box[0], kf.box[1]]];
  return [];
}

/** Whether a keyframe is drawn as an outline (a box, or two vertices or more) or as dots. */
function isOutline(kf: SliceItem["keyframe"], shape: string): boolean {
  if (shape === "point" || shape === "primitive") return false;
  return kf.box !== undefined || (kf.points !== undefined && kf.points.length > 1);
}

/**
 * Voxel -> screen projection of one object's vertices at a time into a buffer reused by every
 * object and frame (`xy`: x, y pairs), with their screen bounds and the x of the topmost
 * vertex (where the id goes): no array per vertex or object. Outline vertices are snapped
 * to device pixel centres (see `pixelSnapper`): a 1 px line then covers whole pixels (crisp
 * and opaque) instead of two half-covered ones; the shift is under half a pixel.
 */
class Projector {
  xy = new Float64Array(256);
  x0 = 0;
  y0 = 0;
  x1 = 0;
  y1 = 0;
  topX = 0;

  private readonly a: number;
  private readonly b: number;
  private readonly c: number;
  private readonly d: number;
  private readonly e: number;
  private readonly f: number;

  constructor(
    m: Matrix,
    private readonly scale: number,
    private readonly offset: number,
  ) {
    [this.a, this.b, this.c, this.d, this.e, this.f] = m;
  }

  /** Project `pts` (snapped when `snap`); returns how many. */
  points(pts: readonly Point[], snap: boolean): number {
    const n = pts.length;
    if (this.xy.length < 2 * n) this.xy = new Float64Array(4 * n);
    this.start();
    for (let i = 0; i < n; i++) {
      const p = pts[i] as Point;
      this.put(i, p[0], p[1], snap);
    }
    return n;
  }

  /** Project a box's corners, clockwise from (x0, y0) (snapped); returns 4. */
  box([x0, y0, x1, y1]: readonly [number, number, number, number]): number {
    this.start();
    this.put(0, x0, y0, true);
    this.put(1, x1, y0, true);
    this.put(2, x1, y1, true);
    this.put(3, x0, y1, true);
    return 4;
  }

  /** Whether the last projection lies beyond an edge of a `w` x `h` screen (with room for
   * the id). */
  offScreen([w, h]: readonly [number, number]): boolean {
    const margin = 24;
    return this.x1 < -margin || this.y1 < -margin || this.x0 > w + margin || this.y0 > h + margin;
  }

  private start(): void {
    this.x0 = Number.POSITIVE_INFINITY;
    this.y0 = Number.POSITIVE_INFINITY;
    this.x1 = Number.NEGATIVE_INFINITY;
    this.y1 = Number.NEGATIVE_INFINITY;
  }

  private put(i: number, vx: number, vy: number, snap: boolean): void {
    const x = this.a * vx + this.c * vy + this.e;
    const y = this.b * vx + this.d * vy + this.f;
    if (x < this.x0) this.x0 = x;
    if (x > this.x1) this.x1 = x;
    if (y < this.y0) {
      this.y0 = y;
      this.topX = x;
    }
    if (y > this.y1) this.y1 = y;
    if (snap) {
      const { scale, offset } = this;
      this.xy[2 * i] = (Math.round(x * scale - offset) + offset) / scale;
      this.xy[2 * i + 1] = (Math.round(y * scale - offset) + offset) / scale;
    } else {
      this.xy[2 * i] = x;
      this.xy[2 * i + 1] = y;
    }
  }
}

/** An id's box (CSS px) around its text anchor (bottom-left of the text). */
const ID_PAD = 1.5;
const ID_HEIGHT = 13;
const ID_ABOVE = 12;
/** Cell size (CSS px) of the grid that finds overlapping id boxes. */
const ID_CELL = 32;
/** Most cells in that grid (a bigger area gets bigger cells). */
const ID_CELLS = 1 << 14;
/** Ids farther than this (CSS px) from the screen's origin, or not at a number, are not
 * written (a degenerate view): no screen is that big. */
const ID_FAR = 1e9;

/**
 * Which ids to write: each id unless its box would overlap the box of an id already kept
 * (the selected object's first, then in drawing order). Overlapping ids cannot be read
 * anyway, and writing them is the most expensive part of a crowded frame; zooming in spreads
 * the objects apart and brings their ids back. A grid of cells (linked lists in typed
 * arrays) keeps this linear.
 */
export function visibleIds(text: readonly string[], xy: readonly number[], first: number): number[] {
  const n = text.length;
  const kept: number[] = [];
  if (n === 0) return kept;
  const box = new Float64Array(4 * n); // x0, y0, x1, y1 of every id
  let gx = Number.POSITIVE_INFINITY;
  let gy = Number.POSITIVE_INFINITY;
  let gx1 = Number.NEGATIVE_INFINITY;
  let gy1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x0 = (xy[2 * i] as number) - ID_PAD;
    const y0 = (xy[2 * i + 1] as number) - ID_ABOVE;
    const x1 = x0 + DIGIT_PX * (text[i] as string).length + 2 * ID_PAD;
    const y1 = y0 + ID_HEIGHT;
    box[4 * i] = x0;
    box[4 * i + 1] = y0;
    box[4 * i + 2] = x1;
    box[4 * i + 3] = y1;
    if (!(Math.abs(x0) < ID_FAR && Math.abs(y0) < ID_FAR)) continue; // not written
    if (x0 < gx) gx = x0;
    if (y0 < gy) gy = y0;
    if (x1 > gx1) gx1 = x1;
    if (y1 > gy1) gy1 = y1;
  }
  if (gx > gx1) return kept;
  let cell = ID_CELL;
  while ((Math.floor((gx1 - gx) / cell) + 1) * (Math.floor((gy1 - gy) / cell) + 1) > ID_CELLS) cell *= 2;
  const nx = Math.floor((gx1 - gx) / cell) + 1;
  const head = new Int32Array(nx * (Math.floor((gy1 - gy) / cell) + 1)).fill(-1);
  const entryId: number[] = []; // the id of each cell entry
  const entryNext: number[] = []; // the next entry of the same cell, or -1
  const visit = (i: number, insert: boolean): boolean => {
    const x0 = box[4 * i] as number;
    const y0 = box[4 * i + 1] as number;
    const x1 = box[4 * i + 2] as number;
    const y1 = box[4 * i + 3] as number;
    const cx1 = Math.floor((x1 - gx) / cell);
    const cy1 = Math.floor((y1 - gy) / cell);
    for (let cy = Math.floor((y0 - gy) / cell); cy <= cy1; cy++) {
      for (let cx = Math.floor((x0 - gx) / cell); cx <= cx1; cx++) {
        const c = cy * nx + cx;
        if (insert) {
          entryNext.push(head[c] as number);
          head[c] = entryId.push(i) - 1;
          continue;
        }
        for (let k = head[c] as number; k >= 0; k = entryNext[k] as number) {
          const j = 4 * (entryId[k] as number);
          if (x0 < (box[j + 2] as number) && x1 > (box[j] as number) && y0 < (box[j + 3] as number) && y1 > (box[j + 1] as number)) return false;
        }
      }
    }
    return true;
  };
  for (let o = first >= 0 && first < n ? -1 : 0; o < n; o++) {
    const i = o < 0 ? first : o;
    if (o === first || !(Math.abs(box[4 * i] as number) < ID_FAR && Math.abs(box[4 * i + 1] as number) < ID_FAR) || !visit(i, false)) continue;
    kept.push(i);
    visit(i, true);
  }
  return kept;
}

/** The ids that do not overlap (see `visibleIds`), each on a dark box that keeps it readable
 * on any image (a text halo with strokeText costs as much as the text itself), then the text,
 * colour by colour as it comes. The boxes are one `fillRect` each: Skia fills a rectangle
 * directly, while one path of all the boxes is filled by the general scan converter over the
 * whole screen (about 1 ms for 271 boxes). */
function drawIds(
  ctx: OverlayContext,
  text: readonly string[],
  xy: readonly number[],
  colorIndex: readonly number[],
  colors: readonly string[],
  selected: number,
): void {
  const kept = visibleIds(text, xy, selected);
  ctx.fillStyle = "rgba(0,0,0,0.6)";
  for (const i of kept) {
    const w = DIGIT_PX * (text[i] as string).length + 2 * ID_PAD;
    ctx.fillRect((xy[2 * i] as number) - ID_PAD, (xy[2 * i + 1] as number) - ID_ABOVE, w, ID_HEIGHT);
  }
  let current = -1;
  for (const i of kept) {
    const ci = colorIndex[i] as number;
    if (ci !== current) ctx.fillStyle = colors[(current = ci)] as string;
    ctx.fillText(text[i] as string, xy[2 * i] as number, xy[2 * i + 1] as number);
  }
}

/** Objects drawn with the same style: colour, and dashed outlines, solid ones or dots. */
interface Group {
  color: string;
  dashed: boolean;
  dots: boolean;
  items: SliceItem[];
}

/** Vertices drawn at once (one stroke of outlines, one fill of dots): a few objects per path.
 * One stroke per object costs a fixed price per draw; one path of hundreds of objects costs
 * more again (building it slows down as it grows, and a filled path is scanned over all its
 * bounds); a few objects per path is the cheapest in Chromium. */
const BATCH_VERTICES = 128;
const BATCH_DOTS = 8;

/**
 * Draw the slice's objects and the draft.
 *
 * Cost (500 objects in software-rasterised Chromium, `benchmarks/overlay.py`): outlines are
 * hairlines (`LINE_WIDTH` 1, which Skia draws with its hairline rasteriser, about 4 times
 * cheaper than 1.5 px strokes). Objects are grouped by colour and by dashed, solid or dots, so
 * the style changes a few times per frame, never per object (no save/restore). Within a group
 * a few objects share a path and a stroke (`BATCH_VERTICES`): each contour of a path is
 * dashed from its own start and each hairline segment is drawn on its own, so this looks the
 * same as a stroke per object. Vertices go from voxels to the screen through one reused
 * buffer (`Projector`); a box on an upright view is one `rect`. Ids are drawn as text last,
 * only those that do not overlap another (`visibleIds`): in a crowded frame, writing every
 * id cost as much as all the outlines.
 */
export function drawOverlay(ctx: OverlayContext, items: readonly SliceItem[], m: Matrix, opts: OverlayOptions): void {
  ctx.lineJoin = "round";
  ctx.textBaseline = "bottom";
  ctx.font = "bold 11px sans-serif";
  ctx.setLineDash(NO_DASH);
  const viewport = opts.viewport;
  const { scale, offset } = deviceGrid(ctx, LINE_WIDTH);
  const proj = new Projector(m, scale, offset);
  const upright = m[1] === 0 && m[2] === 0;
  const groups = new Map<string, Group>();
  const colours = new Map<string, string>();
  let selected: SliceItem | null = null;
  let selectedColor = "";
  for (const item of items) {
    const object = item.object;
    if (opts.hidden?.has(object.uuid)) continue;
    let color = colours.get(object.feature);
    if (!color) colours.set(object.feature, (color = classColor(opts.ontology, object.feature)));
    const dots = !isOutline(item.keyframe, object.shape);
    const dashed = !dots && item.keyframe.manual === false;
    const key = dots ? `${color}|o` : dashed ? `${color}|-` : color;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { color, dashed, dots, items: [] }));
    g.items.push(item);
    if (object.uuid === opts.selected) {
      selected = item;
      selectedColor = color;
    }
  }
  // ids to write: text, x, y, colour index (into `labelColors`)
  const labelText: string[] = [];
  const labelXY: number[] = [];
  const labelColor: number[] = [];
  const labelColors: string[] = [];
  let selectedLabel = -1;
  ctx.lineWidth = LINE_WIDTH;
  for (const g of groups.values()) {
    ctx.strokeStyle = g.color;
    ctx.fillStyle = g.color;
    ctx.setLineDash(g.dashed ? DASH : NO_DASH);
    const ci = labelColors.push(g.color) - 1;
    let open = 0; // vertices in the path not drawn yet
    for (const item of g.items) {
      const { object, keyframe } = item;
      const box = g.dots ? undefined : keyframe.box;
      const pts = box ? null : g.dots ? dotPoints(keyframe) : (keyframe.points as Point[]);
      const n = box ? proj.box(box) : proj.points(pts as Point[], !g.dots);
      if (n === 0 || (viewport && proj.offScreen(viewport))) continue;
      if (open === 0) ctx.beginPath();
      const xy = proj.xy;
      if (g.dots) {
        const r = HANDLE + 0.5;
        for (let i = 0; i < 2 * n; i += 2) {
          ctx.moveTo((xy[i] as number) + r, xy[i + 1] as number);
          ctx.arc(xy[i] as number, xy[i + 1] as number, r, 0, 2 * Math.PI);
        }
      } else {
        const bridges = pts && object.shape === "polygon" ? cachedBridges(pts, opts.bridges) : null;
        if (box && upright) {
          // the same four corners in the same order as the general case, in one call
          ctx.rect(xy[0] as number, xy[1] as number, (xy[4] as number) - (xy[0] as number), (xy[5] as number) - (xy[1] as number));
        } else if (bridges) {
          ringWithoutBridges(ctx, xy, n, bridges);
        } else {
          ctx.moveTo(xy[0] as number, xy[1] as number);
          for (let i = 2; i < 2 * n; i += 2) ctx.lineTo(xy[i] as number, xy[i + 1] as number);
          if (box || object.shape === "polygon") ctx.closePath();
        }
      }
      open += n;
      if (open >= (g.dots ? BATCH_DOTS : BATCH_VERTICES)) {
        if (g.dots) ctx.fill();
        else ctx.stroke();
        open = 0;
      }
      if (object.object_id > 0) {
        if (item === selected) selectedLabel = labelText.length;
        labelText.push(String(object.object_id));
        labelXY.push(proj.topX + 2, proj.y0 - 3);
        labelColor.push(ci);
      }
    }
    if (open > 0) {
      if (g.dots) ctx.fill();
      else ctx.stroke();
    }
  }
  ctx.setLineDash(NO_DASH);
  if (labelText.length) drawIds(ctx, labelText, labelXY, labelColor, labelColors, selectedLabel);
  const selectedShape = selected ? { ...screenShape(m, selected.keyframe, selected.object.shape), color: selectedColor } : null;
  if (selectedShape && selectedShape.pts.length > 0) {
    const { pts, closed, color } = selectedShape;
    if (pts.length > 1) {
      ctx.fillStyle = color;
      ctx.globalAlpha = 0.18;
      if (closed) {
        path(ctx, pts, true);
        ctx.fill();
      }
      ctx.globalAlpha = 1;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = SELECTED_WIDTH + 2;
      path(ctx, pts, closed, closed ? bridgeEdges(pts) : null);
      ctx.stroke();
      ctx.strokeStyle = color;
      ctx.lineWidth = SELECTED_WIDTH;
      ctx.stroke();
    }
    ctx.fillStyle = "#fff";
    dots(ctx, pts, HANDLE + 1);
    ctx.fillStyle = color;
    dots(ctx, pts, HANDLE);
  }
  const draft = opts.draft;
  if (draft && draft.points.length > 0) {
    const [a, b, c, d, e, f] = m;
    const tr = (p: Point): Point => [a * p[0] + c * p[1] + e, b * p[0] + d * p[1] + f];
    ctx.strokeStyle = draft.color;
    ctx.fillStyle = draft.color;
    ctx.lineWidth = LINE_WIDTH;
    if (draft.shape === "bounding_box") {
      const [s, t] = [draft.points[0] as Point, (draft.points[1] ?? draft.points[0]) as Point];
      path(ctx, [tr(s), tr([t[0], s[1]]), tr(t), tr([s[0], t[1]])], true);
      ctx.stroke();
    } else {
      const pts = draft.points.map(tr);
      path(ctx, draft.cursor ? [...pts, tr(draft.cursor)] : pts, false);
      ctx.stroke();
      if (draft.cursor && pts.length > 1) {
        // the closing edge, dashed
        ctx.setLineDash(DASH);
        const last = tr(draft.cursor);
        path(ctx, [last, pts[0] as Point], false);
        ctx.stroke();
        ctx.setLineDash(NO_DASH);
      }
      dots(ctx, pts, HANDLE);
    }
  }
}
