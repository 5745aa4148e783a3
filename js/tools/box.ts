/**
 * Bounding-box tool: press, drag, release. Points are voxel (column, row), already clamped
 * into the image by the caller; the result is sorted, rounded to 1/1000 voxel and refused when
 * it has no area.
 */
import { type Point, round3 } from "../labels";

export type BoxResult = { box: [number, number, number, number] } | { error: string };

export class BoxTool {
  start: Point | null = null;
  end: Point | null = null;

  get active(): boolean {
    return this.start !== null;
  }

  down(p: Point): void {
    this.start = p;
    this.end = p;
  }

  move(p: Point): void {
    if (this.start) this.end = p;
  }

  /** Finish at `p`: the box, or why there is none. */
  up(p: Point): BoxResult | null {
    if (!this.start) return null;
    const s = this.start;
    this.cancel();
    return boxFrom(s, p);
  }

  cancel(): void {
    this.start = null;
    this.end = null;
  }
}

export function boxFrom(a: Point, b: Point): BoxResult {
  const x0 = round3(Math.min(a[0], b[0]));
  const x1 = round3(Math.max(a[0], b[0]));
  const y0 = round3(Math.min(a[1], b[1]));
  const y1 = round3(Math.max(a[1], b[1]));
  if (!(x1 > x0) || !(y1 > y0)) {
    return { error: `a bounding box needs a non-zero width and height (got ${x1 - x0} × ${y1 - y0} voxels)` };
  }
  return { box: [x0, y0, x1, y1] };
}
