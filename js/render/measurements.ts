/**
 * Measurements (Python `Labels.add_measurement`) drawn on the overlay: a distance as a line
 * with end ticks, an angle as two arms, an area as a closed outline, each with its value in
 * millimetres (degrees for an angle), or in pixels when the pixel spacing is unknown; an
 * area also with the mean and standard deviation of the modality values inside it (HU for
 * CT). The user's label is drawn as canvas text (never parsed as HTML).
 */
import type { Measurement } from "../labels";
import type { SeriesInfo, TypedArray } from "../protocol";
import type { Volume } from "../volume";
import { formatArea, formatValue, patientMap } from "../ui/format";
import { type Matrix, apply } from "./transform";
import { asPlane, planeImage, planeSize, planeToVoxel } from "./planes";

type Point = [number, number];

/** Millimetres per pixel along x and y of `plane`'s pixels (spacing is [slice, row, column]),
 * or null when the pixel spacing is unknown. */
export function planeSpacing(plane: string, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): [number, number] | null {
  if (!info?.spacing_known || !Array.isArray(info.spacing)) return null;
  const [s, r, c] = info.spacing;
  const xy: [number, number] = plane === "coronal" ? [c, s] : plane === "sagittal" ? [r, s] : [c, r];
  return xy.every((v) => Number.isFinite(v) && v > 0) ? xy : null;
}

type Vec3 = [number, number, number];

/** What measuring in millimetres needs of the series. */
export type MeasureInfo = Pick<SeriesInfo, "spacing" | "spacing_known"> & Partial<Pick<SeriesInfo, "affine" | "slice_origins">>;

/** `points` (plane (u, v), v along the series' slices) with a vertex wherever an edge
 * crosses a whole slice number: through uneven slice origins a straight edge in voxels bends
 * there in millimetres (Python's `_split_at_slices`). */
export function splitAtSlices(points: readonly Point[], closed: boolean): Point[] {
  const out: Point[] = [];
  const n = points.length;
  const edges = closed ? n : n - 1;
  for (let i = 0; i < edges; i++) {
    const [u0, v0] = points[i] as Point;
    const [u1, v1] = points[(i + 1) % n] as Point;
    out.push([u0, v0]);
    const first = Math.floor(Math.min(v0, v1)) + 1;
    const last = Math.ceil(Math.max(v0, v1)) - 1;
    const ks: number[] = [];
    for (let k = first; k <= last; k++) ks.push(k);
    if (v1 < v0) ks.reverse();
    for (const k of ks) {
      const t = (k - v0) / (v1 - v0);
      out.push([u0 + t * (u1 - u0), k]);
    }
  }
  if (!closed && n > 0) out.push(points[n - 1] as Point);
  return out;
}

const sub = (p: Vec3, q: Vec3): Vec3 => [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
const cross = (u: Vec3, v: Vec3): Vec3 => [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
const norm = (u: Vec3): number => Math.hypot(u[0], u[1], u[2]);
const dot = (u: Vec3, v: Vec3): number => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];

/** A measurement's value in patient millimetres (length, area or angle), computed as Python's
 * `measurements_to_dataframe` does; null without an affine or pixel spacing. */
export function measurementMm(m: Pick<Measurement, "kind" | "points" | "plane" | "slice">, info: MeasureInfo | null): number | null {
  if (!info?.spacing_known) return null;
  const map = patientMap(info.affine, info.slice_origins);
  if (!map) return null;
  const plane = asPlane(m.plane);
  const mm = (pts: readonly Point[]): Vec3[] => pts.map(([u, v]) => map(...planeToVoxel(plane, u, v, m.slice)));
  const bends = plane !== "axial" && Array.isArray(info.slice_origins) && info.slice_origins.length >= 2;
  if (m.kind === "angle") {
    const [a, v, b] = mm(m.points) as [Vec3, Vec3, Vec3];
    const u = sub(a, v);
    const w = sub(b, v);
    return (Math.atan2(norm(cross(u, w)), dot(u, w)) * 180) / Math.PI;
  }
  const closed = m.kind === "area";
  const path = mm(bends ? splitAtSlices(m.points, closed) : m.points);
  if (!closed) {
    let length = 0;
    for (let i = 1; i < path.length; i++) length += norm(sub(path[i] as Vec3, path[i - 1] as Vec3));
    return length;
  }
  const total: Vec3 = [0, 0, 0];
  path.forEach((p, i) => {
    const c = cross(p, path[(i + 1) % path.length] as Vec3);
    total[0] += c[0];
    total[1] += c[1];
    total[2] += c[2];
  });
  return 0.5 * norm(total);
}

/** The value of a measurement as text: "23.4 mm", "37.5°", "123.4 mm²" ("px" / "px²" when the
 * pixel spacing is unknown; an angle is measured in millimetres when it can be). In patient
 * millimetres through the series' geometry when the page has it (`measurementMm`: the same
 * number as Python's, on a sheared or unevenly spaced reformat too), else from the spacing. */
export function measurementValue(m: Pick<Measurement, "kind" | "points" | "plane" | "slice">, info: MeasureInfo | null): string {
  const exact = measurementMm(m, info);
  if (exact !== null) {
    if (m.kind === "distance") return `${exact >= 100 ? exact.toFixed(1) : exact.toFixed(2)} mm`;
    if (m.kind === "angle") return `${exact.toFixed(1)}°`;
    return formatArea(exact, "mm²");
  }
  const mm = planeSpacing(m.plane, info);
  const [sx, sy] = mm ?? [1, 1];
  const p = m.points.map(([x, y]) => [x * sx, y * sy] as Point);
  if (m.kind === "distance") {
    const [a, b] = p as [Point, Point];
    const d = Math.hypot(b[0] - a[0], b[1] - a[1]);
    return `${d >= 100 ? d.toFixed(1) : d.toFixed(2)} ${mm ? "mm" : "px"}`;
  }
  if (m.kind === "angle") {
    const [a, v, b] = p as [Point, Point, Point];
    const [ux, uy] = [a[0] - v[0], a[1] - v[1]];
    const [wx, wy] = [b[0] - v[0], b[1] - v[1]];
    const deg = (Math.atan2(Math.abs(ux * wy - uy * wx), ux * wx + uy * wy) * 180) / Math.PI;
    return `${deg.toFixed(1)}°`;
  }
  let twice = 0;
  for (let i = 0; i < p.length; i++) {
    const [x0, y0] = p[i] as Point;
    const [x1, y1] = p[(i + 1) % p.length] as Point;
    twice += x0 * y1 - x1 * y0;
  }
  return formatArea(Math.abs(twice) / 2, mm ? "mm²" : "px²");
}

/**
 * The pixels whose centre lies inside polygon `points` (even-odd rule), row by row: calls
 * `run(row, start, end)` (columns `start` to `end - 1`) for each run, clipped to the image.
 * The same pixels as Python's `kernels.polygons_to_mask` (the same scanline rule: crossings
 * of each row's centre line, half-open in y; a centre on a left crossing is inside, on a
 * right one outside), so page and Python measure the same pixels.
 */
export function polygonRuns(points: readonly Point[], rows: number, columns: number, run: (row: number, start: number, end: number) => void): void {
  const n = points.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, y] of points) {
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  const top = Math.max(0, Math.ceil(lo));
  const bottom = Math.min(rows - 1, Math.floor(hi));
  const xs: number[] = [];
  for (let y = top; y <= bottom; y++) {
    xs.length = 0;
    for (let i = 0; i < n; i++) {
      const [x0, y0] = points[i] as Point;
      const [x1, y1] = points[(i + 1) % n] as Point;
      if (y0 === y1) continue;
      if ((y0 <= y && y < y1) || (y1 <= y && y < y0)) xs.push(x0 + (y - y0) * ((x1 - x0) / (y1 - y0)));
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const start = Math.min(Math.max(Math.ceil(xs[i] as number), 0), columns);
      const end = Math.min(Math.max(Math.ceil(xs[i + 1] as number), 0), columns);
      if (end > start) run(y, start, end);
    }
  }
}

/** Modality values inside an area: pixel count, mean, standard deviation (of the pixels,
 * not of a sample), minimum and maximum. */
export interface AreaStats {
  pixels: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Statistics of the modality values (`stored * slope + intercept`) of the pixels inside
 * polygon `points` on a slice of `values` (rows x columns, first sample of each pixel); null
 * when no pixel centre lies inside. `slope` and `intercept` may be given per row (a
 * reformat's rows are slices, each with its own rescale). */
export function areaStats(
  points: readonly Point[],
  values: TypedArray,
  slope: number | ArrayLike<number>,
  intercept: number | ArrayLike<number>,
  rows: number,
  columns: number,
  samples = 1,
): AreaStats | null {
  // one pass, nothing kept (Welford's running mean and sum of squared deviations)
  let count = 0;
  let mean = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  polygonRuns(points, rows, columns, (row, start, end) => {
    const s = typeof slope === "number" ? slope : (slope[row] as number);
    const b = typeof intercept === "number" ? intercept : (intercept[row] as number);
    for (let c = start; c < end; c++) {
      const v = (values[(row * columns + c) * samples] as number) * s + b;
      count += 1;
      const d = v - mean;
      mean += d / count;
      sq += d * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  });
  if (count === 0) return null;
  return { pixels: count, mean, std: Math.sqrt(sq / count), min, max };
}

/** Statistics inside an area measurement from the page's volume: null for colour images, a
 * slice that has not arrived, or a reformat before every slice has. */
export function volumeAreaStats(volume: Volume | null, item: Measurement): AreaStats | null {
  const k = item.slice;
  if (!volume || volume.samples !== 1) return null;
  if (item.plane === "axial") {
    if (!volume.loaded[k]) return null;
    return areaStats(item.points, volume.slice(k), volume.slope[k] as number, volume.intercept[k] as number, volume.rows, volume.columns);
  }
  const plane = asPlane(item.plane);
  if (plane !== item.plane || volume.loadedCount < volume.slices) return null;
  const size = planeSize(volume.info.shape, volume.info.spacing, plane);
  if (!Number.isInteger(k) || k < 0 || k >= size.slices) return null;
  const image = planeImage(volume, plane, k);
  return areaStats(item.points, image.values, image.slope, image.intercept, image.rows, image.columns);
}

/** "mean 45.2 ± 12.3 HU" */
export function statsText(s: AreaStats, units: string): string {
  return `mean ${formatValue(s.mean)} ± ${formatValue(s.std)}${units ? ` ${units}` : ""}`;
}

/** Things the drawing needs from a 2D context (a subset, so tests can record calls). */
export type MeasureContext = Pick<
  CanvasRenderingContext2D,
  | "beginPath"
  | "moveTo"
  | "lineTo"
  | "closePath"
  | "stroke"
  | "fillText"
  | "strokeText"
  | "measureText"
  | "setLineDash"
  | "lineWidth"
  | "strokeStyle"
  | "fillStyle"
  | "font"
  | "textBaseline"
  | "lineJoin"
>;

export const MEASUREMENT_COLOR = "#ffd400";
/** A label longer than this is cut (with "…") on the image; the whole of it is in Python. */
export const LABEL_CHARS = 40;
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const TICK = 4;

/** The measurements on slice `k` of `plane`. */
export function measurementsOn(list: readonly Measurement[], plane: string, k: number): Measurement[] {
  return list.filter((m) => m.slice === k && m.plane === plane);
}

/**
 * Draw `list` (the measurements of the slice shown) through `m` (voxel -> screen, pixel
 * centres at +0.5 as for objects). Returns the texts written, in order (for tests).
 * `projected`: a MIP slab is shown, and an area's statistics are of its own slice, as
 * Python's (said beside them: QA 23a, a reader took them for the projection's).
 */
export function drawMeasurements(
  ctx: MeasureContext,
  list: readonly Measurement[],
  m: Matrix,
  info: (MeasureInfo & { units?: string }) | null,
  stats?: (item: Measurement) => AreaStats | null,
  viewport?: [number, number],
  projected = false,
): string[] {
  const texts: string[] = [];
  ctx.lineJoin = "round";
  ctx.setLineDash([]);
  ctx.font = "bold 12px sans-serif";
  ctx.textBaseline = "bottom";
  for (const item of list) {
    const pts = item.points.map(([x, y]) => apply(m, x, y));
    ctx.strokeStyle = MEASUREMENT_COLOR;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    if (item.kind === "area") ctx.closePath();
    if (item.kind === "distance") {
      // ticks across both ends
      const [a, b] = pts as [Point, Point];
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
      const nx = (-(b[1] - a[1]) / len) * TICK;
      const ny = ((b[0] - a[0]) / len) * TICK;
      for (const [x, y] of [a, b]) {
        ctx.moveTo(x - nx, y - ny);
        ctx.lineTo(x + nx, y + ny);
      }
    }
    ctx.stroke();
    let value = measurementValue(item, info);
    const inside = item.kind === "area" ? stats?.(item) : null;
    if (inside) value += ` · ${statsText(inside, info?.units ?? "")}${projected ? " (its slice, not the MIP)" : ""}`;
    // direction controls would reverse the value after the label: drawn without them
    const plain = item.label.replace(BIDI_CONTROLS, "");
    const label = plain.length > LABEL_CHARS ? `${plain.slice(0, LABEL_CHARS - 1)}…` : plain;
    const text = label ? `${label}: ${value}` : value;
    // beside the rightmost point, outlined so it reads on any image
    const anchor = pts.reduce((best, p) => (p[0] > best[0] ? p : best), pts[0] as Point);
    let [tx, ty] = [anchor[0] + 6, anchor[1] - 4];
    if (viewport) {
      // inside the view: left of the measurement when there is no room on its right
      const width = ctx.measureText(text).width;
      if (tx + width > viewport[0] - 2) tx = Math.max(2, viewport[0] - 2 - width);
      ty = Math.min(Math.max(ty, 14), viewport[1] - 2);
    }
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.8)";
    ctx.strokeText(text, tx, ty);
    ctx.fillStyle = MEASUREMENT_COLOR;
    ctx.fillText(text, tx, ty);
    texts.push(text);
  }
  return texts;
}
