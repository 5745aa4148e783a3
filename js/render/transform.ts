/**
 * The view transform: where the slice image lands on the screen.
 *
 * Pure functions, no DOM. Coordinates:
 * - voxel (column, row): pixel centres at integers, as everywhere in the project;
 * - image (u, v): the offscreen canvas that holds the windowed slice, u = column + 0.5;
 * - screen (x, y): CSS pixels from the top-left corner of the viewport.
 *
 * screen = C + s * (F * R * P + pan), with P the point in millimetres from the image centre
 * (so pixel spacing gives the correct aspect), R the rotation (clockwise on screen, degrees),
 * F the flips (applied in screen space: "flip horizontal" always mirrors what is seen
 * left-right), s = fit scale * zoom (CSS px per mm), C the viewport centre and `pan` a
 * screen-aligned shift in millimetres (so it does not depend on the viewport's size in pixels).
 */

export interface ViewParams {
  /** 1 = the whole image fits the viewport */
  zoom: number;
  /** screen-aligned shift of the image centre, millimetres */
  pan: [number, number];
  /** degrees clockwise, [0, 360) */
  rotation: number;
  flipH: boolean;
  flipV: boolean;
}

export interface Geometry {
  columns: number;
  rows: number;
  /** millimetres between columns (x) and between rows (y) */
  columnSpacing: number;
  rowSpacing: number;
  /** viewport size in CSS pixels */
  width: number;
  height: number;
}

/** 2D affine in canvas order: x' = a x + c y + e, y' = b x + d y + f. */
export type Matrix = [number, number, number, number, number, number];

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 64;

export const IDENTITY_VIEW: ViewParams = {
  zoom: 1,
  pan: [0, 0],
  rotation: 0,
  flipH: false,
  flipV: false,
};

export function normaliseRotation(degrees: number): number {
  if (!Number.isFinite(degrees)) return 0;
  const r = ((degrees % 360) + 360) % 360;
  return r === 360 ? 0 : r;
}

export function clampZoom(zoom: number): number {
  if (!Number.isFinite(zoom)) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

function spacingOf(g: Geometry): [number, number] {
  const ok = (s: number): boolean => Number.isFinite(s) && s > 0;
  return [ok(g.columnSpacing) ? g.columnSpacing : 1, ok(g.rowSpacing) ? g.rowSpacing : 1];
}

/** Whether `rotation` (degrees) turns the image a quarter (90 or 270): its width is then
 * shown upright and its height across. */
export function quarterTurned(rotation: number): boolean {
  const r = normaliseRotation(rotation);
  return Math.abs(r - 90) < 1e-9 || Math.abs(r - 270) < 1e-9;
}

/** CSS pixels per millimetre at zoom 1 (the image fits the viewport, aspect kept; turned a
 * quarter, as turned: a wide reformat turned upright fills a tall viewport, not a strip). */
export function fitScale(g: Geometry, rotation = 0): number {
  const [cs, rs] = spacingOf(g);
  const [across, upright] = [g.columns * cs, g.rows * rs];
  const [w, h] = quarterTurned(rotation) ? [upright, across] : [across, upright];
  if (w <= 0 || h <= 0 || g.width <= 0 || g.height <= 0) return 1;
  return Math.min(g.width / w, g.height / h);
}

/** The widest shape a viewport takes (and, turned, the tallest): an image beyond it shows
 * letterboxed. */
export const MAX_VIEWPORT_ASPECT = 2.5;

/** The CSS `aspect-ratio` of a viewport for an image `mmW` x `mmH` millimetres: the image's
 * own shape, within MAX_VIEWPORT_ASPECT either way (square when a size is unknown). */
export function viewportAspect(mmW: number, mmH: number): string {
  if (!(mmW > 0) || !(mmH > 0) || !Number.isFinite(mmW) || !Number.isFinite(mmH)) return "1 / 1";
  const r = mmW / mmH;
  if (r > MAX_VIEWPORT_ASPECT) return `${MAX_VIEWPORT_ASPECT} / 1`;
  if (r < 1 / MAX_VIEWPORT_ASPECT) return `1 / ${MAX_VIEWPORT_ASPECT}`;
  return `${mmW} / ${mmH}`;
}

/** CSS pixels per millimetre of the current view. */
export function viewScale(g: Geometry, v: ViewParams): number {
  return fitScale(g, v.rotation) * v.zoom;
}

/** Image (offscreen canvas) coordinates -> screen CSS pixels. */
export function imageToScreen(g: Geometry, v: ViewParams): Matrix {
  const [cs, rs] = spacingOf(g);
  const s = viewScale(g, v);
  const t = (normaliseRotation(v.rotation) * Math.PI) / 180;
  // Exact values at right angles, so 90-degree views are pixel exact.
  const quarter = Math.round(t / (Math.PI / 2));
  const exact = Math.abs(t - (quarter * Math.PI) / 2) < 1e-12;
  const cos = exact ? [1, 0, -1, 0][quarter % 4]! : Math.cos(t);
  const sin = exact ? [0, 1, 0, -1][quarter % 4]! : Math.sin(t);
  const fx = v.flipH ? -1 : 1;
  const fy = v.flipV ? -1 : 1;
  // L = s * F * R * diag(cs, rs)
  const a = s * fx * cos * cs;
  const c = s * fx * -sin * rs;
  const b = s * fy * sin * cs;
  const d = s * fy * cos * rs;
  const cu = g.columns / 2;
  const cv = g.rows / 2;
  const e = g.width / 2 + s * v.pan[0] - (a * cu + c * cv);
  const f = g.height / 2 + s * v.pan[1] - (b * cu + d * cv);
  return [a, b, c, d, e, f];
}

export function invert(m: Matrix): Matrix {
  const [a, b, c, d, e, f] = m;
  const det = a * d - b * c;
  if (det === 0 || !Number.isFinite(det)) throw new Error("the view transform is not invertible");
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, ic, id, -(ia * e + ic * f), -(ib * e + id * f)];
}

export function apply(m: Matrix, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

/** Screen CSS pixels -> voxel (column, row), floats, pixel centres at integers. */
export function screenToVoxel(g: Geometry, v: ViewParams, x: number, y: number): [number, number] {
  const [u, w] = apply(invert(imageToScreen(g, v)), x, y);
  return [u - 0.5, w - 0.5];
}

/** Voxel (column, row) -> screen CSS pixels. */
export function voxelToScreen(g: Geometry, v: ViewParams, column: number, row: number): [number, number] {
  return apply(imageToScreen(g, v), column + 0.5, row + 0.5);
}

/** The voxel whose pixel covers a screen point, or null outside the image. */
export function voxelUnder(
  g: Geometry,
  v: ViewParams,
  x: number,
  y: number,
): [number, number] | null {
  const [cf, rf] = screenToVoxel(g, v, x, y);
  const col = Math.round(cf) + 0;
  const row = Math.round(rf) + 0;
  if (col < 0 || row < 0 || col >= g.columns || row >= g.rows) return null;
  return [col, row];
}

/** Zoom by `factor`, keeping the image point under screen point (x, y) where it is. */
export function zoomAbout(g: Geometry, v: ViewParams, factor: number, x: number, y: number): ViewParams {
  const s = viewScale(g, v);
  const zoom = clampZoom(v.zoom * factor);
  const s2 = fitScale(g, v.rotation) * zoom;
  const dx = x - g.width / 2;
  const dy = y - g.height / 2;
  return {
    ...v,
    zoom,
    pan: [dx / s2 - dx / s + v.pan[0], dy / s2 - dy / s + v.pan[1]],
  };
}

/** Move the image by (dx, dy) screen CSS pixels. */
export function panBy(g: Geometry, v: ViewParams, dx: number, dy: number): ViewParams {
  const s = viewScale(g, v);
  return { ...v, pan: [v.pan[0] + dx / s, v.pan[1] + dy / s] };
}

/** Rotate by `degrees` (clockwise on screen). */
export function rotateBy(v: ViewParams, degrees: number): ViewParams {
  return { ...v, rotation: normaliseRotation(v.rotation + degrees) };
}

/**
 * Whole image centred in the viewport, rotation and flips kept. Zoom 1 fits the image
 * upright or turned a quarter; at other angles it fits by its rotated bounding box (smaller
 * for a viewport of the image's shape).
 */
export function fit(g: Geometry, v: ViewParams): ViewParams {
  const [cs, rs] = spacingOf(g);
  const w = g.columns * cs;
  const h = g.rows * rs;
  const base = fitScale(g, v.rotation);
  const t = (normaliseRotation(v.rotation) * Math.PI) / 180;
  const cos = Math.abs(Math.cos(t));
  const sin = Math.abs(Math.sin(t));
  const bw = w * cos + h * sin;
  const bh = w * sin + h * cos;
  let zoom = 1;
  if (base > 0 && bw > 0 && bh > 0 && g.width > 0 && g.height > 0) {
    zoom = clampZoom(Math.min(g.width / bw, g.height / bh) / base);
    if (Math.abs(zoom - 1) < 1e-9) zoom = 1;
  }
  return { ...v, zoom, pan: [0, 0] };
}

/** Whether the view shows the whole image as `fit` would (centred, at its zoom). */
export function isFitted(g: Geometry, v: ViewParams): boolean {
  return v.pan[0] === 0 && v.pan[1] === 0 && Math.abs(v.zoom - fit(g, v).zoom) < 1e-6;
}

/** Backing-store size of a canvas for a CSS size: crisp on high-DPI screens. */
export function backingSize(cssWidth: number, cssHeight: number, dpr: number): [number, number] {
  const r = Number.isFinite(dpr) && dpr > 0 ? dpr : 1;
  return [Math.max(1, Math.round(cssWidth * r)), Math.max(1, Math.round(cssHeight * r))];
}
