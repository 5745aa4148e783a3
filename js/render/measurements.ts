/**
 * Measurements (Python `Labels.add_measurement`) drawn on the overlay: a distance as a line
 * with end ticks, an angle as two arms, an area as a closed outline, each with its value in
 * millimetres (degrees for an angle), or in pixels when the pixel spacing is unknown. The
 * user's label is drawn as canvas text (never parsed as HTML).
 */
import type { Measurement } from "../labels";
import type { SeriesInfo } from "../protocol";
import { formatArea } from "../ui/format";
import { type Matrix, apply } from "./transform";

type Point = [number, number];

/** Millimetres per pixel along x and y of `plane`'s pixels (spacing is [slice, row, column]),
 * or null when the pixel spacing is unknown. */
export function planeSpacing(plane: string, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): [number, number] | null {
  if (!info?.spacing_known || !Array.isArray(info.spacing)) return null;
  const [s, r, c] = info.spacing;
  const xy: [number, number] = plane === "coronal" ? [c, s] : plane === "sagittal" ? [r, s] : [c, r];
  return xy.every((v) => Number.isFinite(v) && v > 0) ? xy : null;
}

/** The value of a measurement as text: "23.4 mm", "37.5°", "123.4 mm²" ("px" / "px²" when the
 * pixel spacing is unknown; an angle is measured in millimetres when it can be). */
export function measurementValue(m: Pick<Measurement, "kind" | "points" | "plane">, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): string {
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
  | "setLineDash"
  | "lineWidth"
  | "strokeStyle"
  | "fillStyle"
  | "font"
  | "textBaseline"
  | "lineJoin"
>;

export const MEASUREMENT_COLOR = "#ffd400";
const TICK = 4;

/** The measurements on slice `k` of `plane`. */
export function measurementsOn(list: readonly Measurement[], plane: string, k: number): Measurement[] {
  return list.filter((m) => m.slice === k && m.plane === plane);
}

/**
 * Draw `list` (the measurements of the slice shown) through `m` (voxel -> screen, pixel
 * centres at +0.5 as for objects). Returns the texts written, in order (for tests).
 */
export function drawMeasurements(
  ctx: MeasureContext,
  list: readonly Measurement[],
  m: Matrix,
  info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null,
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
    const value = measurementValue(item, info);
    const text = item.label ? `${item.label}: ${value}` : value;
    // beside the rightmost point, outlined so it reads on any image
    const anchor = pts.reduce((best, p) => (p[0] > best[0] ? p : best), pts[0] as Point);
    const [tx, ty] = [anchor[0] + 6, anchor[1] - 4];
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.8)";
    ctx.strokeText(text, tx, ty);
    ctx.fillStyle = MEASUREMENT_COLOR;
    ctx.fillText(text, tx, ty);
    texts.push(text);
  }
  return texts;
}
