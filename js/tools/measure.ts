/**
 * Measure tool (`l`): drag to measure a distance; the value (mm, or px without a pixel
 * spacing) shows while dragging, and the measurement is saved with the labels (Python
 * `Labels.add_measurement`, the same edit). A click on a measurement selects it; Delete or
 * Backspace removes it; Escape cancels. Not bound to an object class: it works in a viewer
 * without an ontology too.
 */
import { type Measurement, type Point, round3 } from "../labels";
import { MEASUREMENT_COLOR, drawMeasurements, measurementsOn } from "../render/measurements";
import type { Matrix } from "../render/transform";
import { capturePointer } from "../ui/dom";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { PICK_PX } from "./vertices";

/** Screen distance (CSS px) under which a press-release is a click, not a measurement. */
const CLICK_PX = 3;

/** Distance from screen point `q` to segment `a`-`b` (CSS px). */
export function segmentDistance(q: Point, a: Point, b: Point): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(q[0] - (a[0] + t * dx), q[1] - (a[1] + t * dy));
}

/** The measurement of `list` whose line passes within `px` of screen point `q` (the nearest),
 * or null. `m` maps voxels to screen. */
export function measurementAt(list: readonly Measurement[], q: Point, m: Matrix, px: number = PICK_PX): Measurement | null {
  const screen = ([x, y]: Point): Point => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
  let best: Measurement | null = null;
  let bestD = px;
  for (const item of list) {
    const pts = item.points.map(screen);
    const closed = item.kind === "area";
    for (let i = 0; i + 1 < pts.length + (closed ? 1 : 0); i++) {
      const d = segmentDistance(q, pts[i] as Point, pts[(i + 1) % pts.length] as Point);
      if (d <= bestD) {
        bestD = d;
        best = item;
      }
    }
  }
  return best;
}

export class MeasureHandler implements ToolHandler {
  readonly id = "measure" as const;
  readonly shapes = [] as const;
  readonly button = {
    icon: ["M5 19L19 5", "M3 17l4 4", "M17 3l4 4", "M9 15l1.5 1.5", "M12 12l1.5 1.5"] as const,
    title: "Measure (l): drag to measure a distance in mm; click a measurement, then Delete to remove it",
  };
  private start: Point | null = null;
  private end: Point | null = null;
  private from: [number, number] | null = null;
  /** uuid of the selected measurement */
  private chosen: string | null = null;

  constructor(private readonly api: EditorApi) {}

  /** The selected measurement's uuid (for tests and the overlay). */
  selectedMeasurement(): string | null {
    return this.chosen;
  }

  private shown(): Measurement[] {
    return measurementsOn(this.api.labels().measurements, this.api.plane(), this.api.slice());
  }

  active(): boolean {
    return this.start !== null;
  }
  down(at: PointerAt): void {
    const m = this.api.voxelToScreen();
    const hit = m ? measurementAt(this.shown(), screenPoint(this.api, at), m) : null;
    if (hit) {
      this.chosen = hit.uuid;
      this.api.changed();
      return;
    }
    if (this.api.readOnly()) return this.api.refuse("the labels are read-only (review mode): edits are off");
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    this.chosen = null;
    this.start = at.p;
    this.end = at.p;
    this.from = [at.e.clientX, at.e.clientY];
  }
  move(at: PointerAt): void {
    if (!this.start) return;
    this.end = at.p;
    this.api.changed();
  }
  up(at: PointerAt): void {
    const start = this.start;
    const from = this.from;
    this.cancelDrag();
    if (!start || !from || at.e.type === "pointercancel") return;
    if (Math.hypot(at.e.clientX - from[0], at.e.clientY - from[1]) < CLICK_PX) return;
    const points = [start, at.p].map(([x, y]) => [round3(x), round3(y)]);
    const measurement = { kind: "distance", plane: this.api.plane(), slice: this.api.slice(), points, label: "" };
    this.api.sendEdit({ op: "add_measurement", measurement });
  }
  key(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "Escape" && (this.start || this.chosen)) {
      this.cancel();
      this.api.changed();
      return true;
    }
    if ((e.key === "Delete" || e.key === "Backspace") && this.chosen) {
      const uuid = this.chosen;
      this.chosen = null;
      this.api.sendEdit({ op: "delete_measurement", uuid });
      this.api.changed();
      return true;
    }
    return false;
  }
  private cancelDrag(): void {
    this.start = null;
    this.end = null;
    this.from = null;
  }
  cancel(): void {
    this.cancelDrag();
    this.chosen = null;
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    const chosen = this.shown().find((x) => x.uuid === this.chosen);
    if (chosen) {
      // the selected one: its points as handles
      ctx.fillStyle = MEASUREMENT_COLOR;
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1;
      for (const [x, y] of chosen.points) {
        const sx = m[0] * x + m[2] * y + m[4];
        const sy = m[1] * x + m[3] * y + m[5];
        ctx.beginPath();
        ctx.arc(sx, sy, 4, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    if (!this.start || !this.end) return;
    const draft: Measurement = { uuid: "", kind: "distance", plane: this.api.plane(), slice: this.api.slice(), points: [this.start, this.end], label: "" };
    drawMeasurements(ctx, [draft], m, this.api.info());
  }
  cursor(): string {
    return "crosshair";
  }
}

/** The screen (CSS px) point of a pointer event, relative to the viewport. */
function screenPoint(api: EditorApi, at: PointerAt): Point {
  const r = api.viewport.getBoundingClientRect();
  return [at.e.clientX - r.left, at.e.clientY - r.top];
}
