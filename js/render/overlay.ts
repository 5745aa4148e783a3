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

export const LINE_WIDTH = 1.5;
export const SELECTED_WIDTH = 2.5;
const DASH = [6, 4];
const NO_DASH: number[] = [];
const HANDLE = 3;

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

/** All points beyond one edge of the screen (with room for the id and handles). */
function outside(pts: readonly Point[], [w, h]: [number, number]): boolean {
  const margin = 24;
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const p of pts) {
    if (p[0] < x0) x0 = p[0];
    if (p[0] > x1) x1 = p[0];
    if (p[1] < y0) y0 = p[1];
    if (p[1] > y1) y1 = p[1];
  }
  return x1 < -margin || y1 < -margin || x0 > w + margin || y0 > h + margin;
}

function path(ctx: OverlayContext, pts: readonly Point[], closed: boolean): void {
  ctx.beginPath();
  subpath(ctx, pts, closed);
}

function subpath(ctx: OverlayContext, pts: readonly Point[], closed: boolean): void {
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
 * Draw the slice's objects and the draft. Outlines of one colour and dash style are stroked as
 * one path (a few stroke calls for hundreds of objects); ids are written on top.
 */
export function drawOverlay(ctx: OverlayContext, items: readonly SliceItem[], m: Matrix, opts: OverlayOptions): void {
  ctx.lineJoin = "round";
  ctx.textBaseline = "bottom";
  ctx.font = "bold 11px sans-serif";
  ctx.setLineDash(NO_DASH);
  interface Group {
    color: string;
    dashed: boolean;
    outlines: { pts: Point[]; closed: boolean }[];
    dots: Point[];
    labels: [string, number, number][];
  }
  const groups = new Map<string, Group>();
  const colours = new Map<string, string>();
  let selectedShape: { pts: Point[]; closed: boolean; color: string } | null = null;
  for (const { object, keyframe } of items) {
    if (opts.hidden?.has(object.uuid)) continue;
    const shape = screenShape(m, keyframe, object.shape);
    const pts = shape.pts;
    if (pts.length === 0) continue;
    if (opts.viewport && outside(pts, opts.viewport)) continue;
    let color = colours.get(object.feature);
    if (!color) colours.set(object.feature, (color = classColor(opts.ontology, object.feature)));
    const dashed = keyframe.manual === false;
    const key = `${color}|${dashed}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { color, dashed, outlines: [], dots: [], labels: [] }));
    if (object.shape === "point" || object.shape === "primitive" || pts.length === 1) g.dots.push(...pts);
    else g.outlines.push(shape);
    if (object.uuid === opts.selected) selectedShape = { ...shape, color };
    if (object.object_id > 0) {
      // the object id above the topmost point
      let top = pts[0] as Point;
      for (const p of pts) if (p[1] < top[1]) top = p;
      g.labels.push([String(object.object_id), top[0] + 2, top[1] - 3]);
    }
  }
  ctx.lineWidth = LINE_WIDTH;
  for (const g of groups.values()) {
    ctx.strokeStyle = g.color;
    ctx.fillStyle = g.color;
    if (g.outlines.length) {
      ctx.setLineDash(g.dashed ? DASH : NO_DASH);
      ctx.beginPath();
      for (const { pts, closed } of g.outlines) subpath(ctx, pts, closed);
      ctx.stroke();
    }
    if (g.dots.length) dots(ctx, g.dots, HANDLE + 0.5);
  }
  ctx.setLineDash(NO_DASH);
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0,0,0,0.8)";
  for (const g of groups.values()) for (const [t, x, y] of g.labels) ctx.strokeText(t, x, y);
  for (const g of groups.values()) {
    ctx.fillStyle = g.color;
    for (const [t, x, y] of g.labels) ctx.fillText(t, x, y);
  }
  if (selectedShape) {
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
      path(ctx, pts, closed);
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
