/**
 * The vector overlay: the objects with a keyframe on the current slice, drawn in screen space
 * over the view canvas (so lines keep their width at any zoom), in their class colour, with
 * their object id; interpolated keyframes (`manual: false`) dashed; the selected object
 * highlighted; the shape being drawn (draft) on top.
 *
 * Pure: draws on any object with the 2D-context methods used, given the voxel -> screen
 * matrix. The caller clears the canvas and sets its device-pixel-ratio scale.
 */
import { type Ontology, type Point, type SliceItem, classColor } from "../labels";
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

/** Whether a box in screen space lies beyond one edge of the screen (with room for the id). */
function offScreen(x0: number, y0: number, x1: number, y1: number, [w, h]: readonly [number, number]): boolean {
  const margin = 24;
  return x1 < -margin || y1 < -margin || x0 > w + margin || y0 > h + margin;
}

/**
 * The bridges of a "keyhole" ring: edges i -> i+1 whose reverse is also an edge of the ring.
 * A polygon keyframe holds one ring, so a polygon with holes or several parts (e.g. after a
 * brush edit) joins them with zero-width bridges, each walked once in both directions; they
 * are not drawn. Null when the ring repeats no vertex (the usual case: no work).
 */
export function bridgeEdges(pts: readonly Point[]): Set<number> | null {
  const n = pts.length;
  if (n < 4 || !repeatsVertex(pts)) return null;
  const keys = pts.map((p) => `${p[0]},${p[1]}`);
  const edges = new Set<string>();
  for (let i = 0; i < n; i++) edges.add(`${keys[i]}|${keys[(i + 1) % n]}`);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) if (edges.has(`${keys[(i + 1) % n]}|${keys[i]}`)) out.add(i);
  return out.size ? out : null;
}

/** Whether a vertex occurs twice (drawn every frame for every polygon: no allocation for the
 * usual small rings). */
function repeatsVertex(pts: readonly Point[]): boolean {
  const n = pts.length;
  if (n > 96) return new Set(pts.map((p) => `${p[0]},${p[1]}`)).size !== n;
  for (let i = 0; i < n; i++) {
    const p = pts[i] as Point;
    for (let j = i + 1; j < n; j++) {
      const q = pts[j] as Point;
      if (p[0] === q[0] && p[1] === q[1]) return true;
    }
  }
  return false;
}

/** A ring's outline without its bridges (see bridgeEdges); `tr` maps a vertex to the screen. */
function ringWithoutBridges(ctx: OverlayContext, pts: readonly Point[], bridges: ReadonlySet<number>, tr: (p: Point) => Point): void {
  const n = pts.length;
  const first = tr(pts[0] as Point);
  ctx.moveTo(first[0], first[1]);
  for (let i = 0; i < n; i++) {
    const q = tr(pts[(i + 1) % n] as Point);
    if (bridges.has(i)) ctx.moveTo(q[0], q[1]);
    else ctx.lineTo(q[0], q[1]);
  }
}

function path(ctx: OverlayContext, pts: readonly Point[], closed: boolean, bridges: ReadonlySet<number> | null = null): void {
  ctx.beginPath();
  if (closed && bridges) {
    ringWithoutBridges(ctx, pts, bridges, (p) => p);
    return;
  }
  const first = pts[0] as Point;
  ctx.moveTo(first[0], first[1]);
  for (let i = 1; i < pts.length; i++) {
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

/**
 * A function snapping a screen coordinate (CSS px) so that a line of `width` CSS px lies on
 * whole device pixels: at the centre of a device pixel for odd device widths, on a pixel edge
 * for even ones. The device pixel ratio is read from the context's transform (the caller scales
 * it by devicePixelRatio); a context without `getTransform` (tests) counts as ratio 1.
 */
export function pixelSnapper(ctx: OverlayContext, width: number): (v: number) => number {
  const getTransform = (ctx as Partial<Pick<CanvasRenderingContext2D, "getTransform">>).getTransform;
  const t = typeof getTransform === "function" ? getTransform.call(ctx) : null;
  const scale = t && Number.isFinite(t.a) && t.a > 0 && t.b === 0 && t.c === 0 ? t.a : 1;
  const offset = (Math.max(1, Math.round(width * scale)) % 2) / 2;
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

/** The voxel vertices of an outline keyframe (box corners are made), or null for dots. */
function outlineOf(kf: SliceItem["keyframe"], shape: string): readonly Point[] | null {
  if (shape === "point" || shape === "primitive") return null;
  if (kf.box) {
    const [x0, y0, x1, y1] = kf.box;
    return [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ];
  }
  return kf.points && kf.points.length > 1 ? kf.points : null;
}

/** An id's box (CSS px) around its text anchor (bottom-left of the text). */
const ID_PAD = 1.5;
const ID_HEIGHT = 13;
const ID_ABOVE = 12;
/** Cell size (CSS px) of the grid that finds overlapping id boxes. */
const ID_CELL = 32;

/**
 * Which ids to write: each id unless its box would overlap the box of an id already kept
 * (the selected object's first, then in drawing order). Overlapping ids cannot be read
 * anyway, and writing them is the most expensive part of a crowded frame; zooming in spreads
 * the objects apart and brings their ids back. A grid of cells keeps this linear.
 */
export function visibleIds(text: readonly string[], xy: readonly number[], first: number): number[] {
  const kept: number[] = [];
  const boxes: number[] = []; // x0, y0, x1, y1 of kept ids
  const grid = new Map<number, number[]>();
  const order = first >= 0 ? [first] : [];
  for (let i = 0; i < text.length; i++) if (i !== first) order.push(i);
  for (const i of order) {
    const x0 = (xy[2 * i] as number) - ID_PAD;
    const y0 = (xy[2 * i + 1] as number) - ID_ABOVE;
    const x1 = x0 + DIGIT_PX * (text[i] as string).length + 2 * ID_PAD;
    const y1 = y0 + ID_HEIGHT;
    const cx0 = Math.floor(x0 / ID_CELL);
    const cx1 = Math.floor(x1 / ID_CELL);
    const cy0 = Math.floor(y0 / ID_CELL);
    const cy1 = Math.floor(y1 / ID_CELL);
    let free = true;
    for (let cx = cx0; cx <= cx1 && free; cx++) {
      for (let cy = cy0; cy <= cy1 && free; cy++) {
        for (const j of grid.get(cx * 65536 + cy) ?? []) {
          const b = 4 * j;
          if (x0 < (boxes[b + 2] as number) && x1 > (boxes[b] as number) && y0 < (boxes[b + 3] as number) && y1 > (boxes[b + 1] as number)) {
            free = false;
            break;
          }
        }
      }
    }
    if (!free) continue;
    const k = kept.push(i) - 1;
    boxes.push(x0, y0, x1, y1);
    for (let cx = cx0; cx <= cx1; cx++) {
      for (let cy = cy0; cy <= cy1; cy++) {
        const key = cx * 65536 + cy;
        const cell = grid.get(key);
        if (cell) cell.push(k);
        else grid.set(key, [k]);
      }
    }
  }
  return kept;
}

/** The ids that do not overlap (see `visibleIds`), each on a dark box that keeps it readable
 * on any image: the boxes in one path and one fill (a text halo with strokeText costs as much
 * as the text itself), then the text, colour by colour as it comes. */
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
  ctx.beginPath();
  for (const i of kept) {
    const w = DIGIT_PX * (text[i] as string).length + 2 * ID_PAD;
    ctx.rect((xy[2 * i] as number) - ID_PAD, (xy[2 * i + 1] as number) - ID_ABOVE, w, ID_HEIGHT);
  }
  ctx.fill();
  let current = -1;
  for (const i of kept) {
    const ci = colorIndex[i] as number;
    if (ci !== current) ctx.fillStyle = colors[(current = ci)] as string;
    ctx.fillText(text[i] as string, xy[2 * i] as number, xy[2 * i + 1] as number);
  }
}

/**
 * Draw the slice's objects and the draft.
 *
 * Cost (500 objects in software-rasterised Chromium): outlines are hairlines (`LINE_WIDTH` 1,
 * which Skia draws with its hairline rasteriser, about 4 times cheaper than 1.5 px strokes)
 * and each is stroked as its own small path (one path of hundreds of outlines costs twice as
 * much to rasterise: its bounds cover the screen). Objects are grouped by colour and dash, so
 * the style changes a few times per frame, never per object (no save/restore); vertices go
 * from voxels to the screen straight into the path, without arrays per point. Ids are drawn
 * as text last, only those that do not overlap another (`visibleIds`): in a crowded frame,
 * writing every id cost as much as all the outlines.
 */
export function drawOverlay(ctx: OverlayContext, items: readonly SliceItem[], m: Matrix, opts: OverlayOptions): void {
  ctx.lineJoin = "round";
  ctx.textBaseline = "bottom";
  ctx.font = "bold 11px sans-serif";
  ctx.setLineDash(NO_DASH);
  const [a, b, c, d, e, f] = m;
  const viewport = opts.viewport;
  const snap = pixelSnapper(ctx, LINE_WIDTH);
  interface Group {
    color: string;
    dashed: boolean;
    items: SliceItem[];
  }
  const groups = new Map<string, Group>();
  const colours = new Map<string, string>();
  let selected: SliceItem | null = null;
  let selectedColor = "";
  for (const item of items) {
    const object = item.object;
    if (opts.hidden?.has(object.uuid)) continue;
    let color = colours.get(object.feature);
    if (!color) colours.set(object.feature, (color = classColor(opts.ontology, object.feature)));
    const dashed = item.keyframe.manual === false;
    const key = dashed ? `${color}|-` : color;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { color, dashed, items: [] }));
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
    let dotsOpen = false;
    for (const item of g.items) {
      const { object, keyframe } = item;
      const outline = outlineOf(keyframe, object.shape);
      // screen bounds and the topmost vertex (where the id goes), without arrays per point
      let x0 = Number.POSITIVE_INFINITY;
      let y0 = Number.POSITIVE_INFINITY;
      let x1 = Number.NEGATIVE_INFINITY;
      let y1 = Number.NEGATIVE_INFINITY;
      let topX = 0;
      const pts = outline ?? dotPoints(keyframe);
      if (pts.length === 0) continue;
      for (const p of pts) {
        const x = a * p[0] + c * p[1] + e;
        const y = b * p[0] + d * p[1] + f;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) {
          y0 = y;
          topX = x;
        }
        if (y > y1) y1 = y;
      }
      if (viewport && offScreen(x0, y0, x1, y1, viewport)) continue;
      if (outline) {
        // vertices snapped to device pixel centres: a 1 px line then covers whole pixels
        // (crisp and opaque) instead of two half-covered ones; the shift is < half a pixel
        ctx.beginPath();
        const bridges = object.shape === "polygon" ? bridgeEdges(outline) : null;
        if (bridges) {
          ringWithoutBridges(ctx, outline, bridges, (p) => [snap(a * p[0] + c * p[1] + e), snap(b * p[0] + d * p[1] + f)]);
        } else {
          const p0 = outline[0] as Point;
          ctx.moveTo(snap(a * p0[0] + c * p0[1] + e), snap(b * p0[0] + d * p0[1] + f));
          for (let i = 1; i < outline.length; i++) {
            const p = outline[i] as Point;
            ctx.lineTo(snap(a * p[0] + c * p[1] + e), snap(b * p[0] + d * p[1] + f));
          }
          if (keyframe.box || object.shape === "polygon") ctx.closePath();
        }
        ctx.stroke();
      } else {
        if (!dotsOpen) ctx.beginPath();
        dotsOpen = true;
        const r = HANDLE + 0.5;
        for (const p of pts) {
          const x = a * p[0] + c * p[1] + e;
          const y = b * p[0] + d * p[1] + f;
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
        }
      }
      if (object.object_id > 0) {
        if (item === selected) selectedLabel = labelText.length;
        labelText.push(String(object.object_id));
        labelXY.push(topX + 2, y0 - 3);
        labelColor.push(ci);
      }
    }
    if (dotsOpen) ctx.fill();
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
