/**
 * Free-hand drawing for the polygon and polyline tools: `d` toggles it; press-drag draws a
 * stroke, release ends it. The stroke is simplified (Douglas-Peucker) with a tolerance in
 * screen pixels, so "coarseness" means the same at any zoom. The setting is per view (each
 * view's editor has its own), shown as a small control in the tool group.
 */
import type { Point } from "../labels";
import { type Matrix, apply } from "../render/transform";
import { button, el, setPressed } from "../ui/dom";
import type { EditorApi } from "./types";

/** Default simplification tolerance (screen px). */
export const DEFAULT_TOLERANCE = 2;
export const MIN_TOLERANCE = 0.5;
export const MAX_TOLERANCE = 10;

/** Distance from `p` to the segment `a`-`b` (ends included). */
export function segmentDistance(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/**
 * Indices of the points Douglas-Peucker keeps with tolerance `tol` (same units as the points):
 * always the first and the last; a point between is kept when it lies farther than `tol` from
 * the segment joining the kept points around it. Iterative (long strokes cannot overflow the
 * stack); sorted ascending.
 */
export function simplifyIndices(points: readonly Point[], tol: number): number[] {
  const n = points.length;
  if (n <= 2) return points.map((_, i) => i);
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length > 0) {
    const [lo, hi] = stack.pop() as [number, number];
    const a = points[lo] as Point;
    const b = points[hi] as Point;
    let worst = -1;
    let at = -1;
    for (let i = lo + 1; i < hi; i++) {
      const d = segmentDistance(points[i] as Point, a, b);
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    if (at >= 0 && worst > tol) {
      keep[at] = 1;
      stack.push([lo, at], [at, hi]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(i);
  return out;
}

/** The points Douglas-Peucker keeps (see `simplifyIndices`). */
export function simplify(points: readonly Point[], tol: number): Point[] {
  return simplifyIndices(points, tol).map((i) => points[i] as Point);
}

/**
 * Simplify a stroke of voxel points with a tolerance in screen px: the points are measured on
 * screen (`voxelToScreen`), the voxel points kept are returned.
 */
export function simplifyOnScreen(points: readonly Point[], voxelToScreen: Matrix, tolPx: number): Point[] {
  const screen = points.map((p) => apply(voxelToScreen, p[0], p[1]) as Point);
  return simplifyIndices(screen, tolPx).map((i) => points[i] as Point);
}

/** A stroke being drawn: voxel points, skipping moves of less than `minStep` voxels. */
export class Stroke {
  points: Point[] = [];

  get active(): boolean {
    return this.points.length > 0;
  }

  start(p: Point): void {
    this.points = [p];
  }

  add(p: Point, minStep: number): void {
    const last = this.points[this.points.length - 1];
    if (!last) return;
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= minStep) this.points.push(p);
  }

  /** End the stroke: its points (the tool resets). */
  finish(): Point[] {
    const pts = this.points;
    this.points = [];
    return pts;
  }

  cancel(): void {
    this.points = [];
  }
}

/** Free-hand mode and tolerance of one view (shared by its polygon and polyline tools). */
export interface FreehandSettings {
  on: boolean;
  /** Douglas-Peucker tolerance in screen px */
  tolerance: number;
  /** show the current state in the control */
  refresh(): void;
}

const SETTINGS = new WeakMap<EditorApi, FreehandSettings>();

const FREEHAND_ICON = ["M4 17c3-8 5 2 8-4s5-7 8-3", "fill:M3 16h3v3H3z"];

/** The view's free-hand settings; the first call adds the control to the tool group. */
export function freehandSettings(api: EditorApi): FreehandSettings {
  const known = SETTINGS.get(api);
  if (known) return known;
  const box = el("span", "daw-freehand");
  box.dataset.testid = "daw-freehand";
  // after the tool buttons (the editor adds each tool's button after making the tool)
  queueMicrotask(() => api.toolGroup.append(box));
  const toggle = button(box, {
    icon: FREEHAND_ICON,
    title: "Free-hand drawing (d): press and drag draws, release ends the shape",
    testid: "daw-freehand-toggle",
    toggle: true,
  });
  const range = el("input", "daw-freehand-tolerance", box);
  range.type = "range";
  range.min = String(MIN_TOLERANCE);
  range.max = String(MAX_TOLERANCE);
  range.step = "0.5";
  range.dataset.testid = "daw-freehand-tolerance";
  range.title = "Free-hand coarseness: simplification tolerance in screen pixels";
  range.setAttribute("aria-label", range.title);
  const value = el("span", "daw-freehand-value", box);
  const settings: FreehandSettings = {
    on: false,
    tolerance: DEFAULT_TOLERANCE,
    refresh() {
      setPressed(toggle, settings.on);
      range.value = String(settings.tolerance);
      value.textContent = `${settings.tolerance} px`;
      box.dataset.on = String(settings.on);
    },
  };
  toggle.addEventListener(
    "click",
    () => {
      settings.on = !settings.on;
      settings.refresh();
      api.changed();
    },
    { signal: api.signal },
  );
  range.addEventListener(
    "input",
    () => {
      const v = Number(range.value);
      if (Number.isFinite(v)) settings.tolerance = Math.min(MAX_TOLERANCE, Math.max(MIN_TOLERANCE, v));
      settings.refresh();
    },
    { signal: api.signal },
  );
  settings.refresh();
  SETTINGS.set(api, settings);
  return settings;
}

/** `d` (no modifier) toggles free-hand drawing; true when taken. */
export function freehandKey(settings: FreehandSettings, e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== "d") return false;
  settings.on = !settings.on;
  settings.refresh();
  return true;
}
