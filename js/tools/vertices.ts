/**
 * The vertices placed so far by a click-by-click tool (polygon, polyline), and the rubber-band
 * cursor. Points are voxel (column, row), rounded to 1/1000 voxel.
 */
import { type Point, round3 } from "../labels";

/** Screen distance (CSS px) within which a click hits an object or a vertex. */
export const PICK_PX = 6;

export class VertexDraft {
  points: Point[] = [];
  cursor: Point | null = null;

  get active(): boolean {
    return this.points.length > 0;
  }

  /** Add a vertex at `p`, unless it lands within `tol` voxels of the last one (the second
   * click of a double-click). Returns the rounded point. */
  protected add(p: Point, tol: number): Point {
    const q: Point = [round3(p[0]), round3(p[1])];
    const last = this.points[this.points.length - 1];
    if (!last || !near(last, q, tol)) this.points.push(q);
    return q;
  }

  move(p: Point): void {
    this.cursor = this.active ? [round3(p[0]), round3(p[1])] : null;
  }

  undoVertex(): void {
    this.points.pop();
    if (!this.active) this.cursor = null;
  }

  cancel(): void {
    this.points = [];
    this.cursor = null;
  }

  /** The vertices, and the tool reset. */
  protected take(): Point[] {
    const pts = this.points;
    this.cancel();
    return pts;
  }
}

export function near(a: Point, b: Point, tol: number): boolean {
  return Math.hypot(a[0] - b[0], a[1] - b[1]) <= tol;
}
