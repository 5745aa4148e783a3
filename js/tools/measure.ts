/**
 * Measure tool (`l`; `l` again cycles distance, angle, area): drag a distance, click the three
 * points of an angle (the vertex in the middle), or click the corners of an area. The value
 * (mm, degrees, mm²; px without a pixel spacing) shows while drawing, and the measurement is
 * saved with the labels (Python `Labels.add_measurement`, the same edit). A click on a
 * measurement selects it; its points can then be dragged (the measurement is replaced, same
 * uuid and label, in one undoable edit); Delete or Backspace removes it; Escape cancels. Not bound to an
 * object class: it works in a viewer without an ontology too.
 */
import { type Measurement, type Point, round3, uuid4 } from "../labels";
import { MEASUREMENT_COLOR, drawMeasurements, measurementsOn, volumeAreaStats } from "../render/measurements";
import { type Matrix, apply } from "../render/transform";
import { button, capturePointer, el, keyLetter, setPressed, textField } from "../ui/dom";
import { segmentDistance } from "./freehand";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { PICK_PX } from "./vertices";

/** Screen distance (CSS px) under which a press-release is a click, not a measurement. */
const CLICK_PX = 3;

/** The measurement of `list` whose line passes within `px` of screen point `q` (the nearest),
 * or null. `m` maps voxels to screen. */
export function measurementAt(list: readonly Measurement[], q: Point, m: Matrix, px: number = PICK_PX): Measurement | null {
  let best: Measurement | null = null;
  let bestD = px;
  for (const item of list) {
    const pts = item.points.map(([x, y]) => apply(m, x, y));
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

export type MeasureKind = Measurement["kind"];

const KINDS: readonly { kind: MeasureKind; icon: readonly string[]; title: string }[] = [
  { kind: "distance", icon: ["M5 19L19 5", "M3 17l4 4", "M17 3l4 4"], title: "Distance: drag from one end to the other" },
  { kind: "angle", icon: ["M20 6L5 19h15", "M11 14a6 6 0 0 1 2 5"], title: "Angle: click the end of one arm, the vertex, then the end of the other arm" },
  { kind: "area", icon: ["M5 8l7-4 7 6-3 9H7z"], title: "Area: click the corners; double-click, Enter or a click on the first corner closes it" },
];

/** Remove points closer than 1/1000 voxel to the one before (a double-click places two). */
function distinct(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) > 1e-3) out.push(p);
  }
  return out;
}

export class MeasureHandler implements ToolHandler {
  readonly id = "measure" as const;
  readonly shapes = [] as const;
  readonly button = {
    icon: ["M5 19L19 5", "M3 17l4 4", "M17 3l4 4", "M9 15l1.5 1.5", "M12 12l1.5 1.5"] as const,
    title: "Measure (l; l again: distance, angle, area): the value shows in mm as you draw; click a measurement to select it, then drag its points, Enter to label it, or Delete",
  };
  /** what the next measurement is */
  kind: MeasureKind = "distance";
  /** distance: the drag's start and end */
  private start: Point | null = null;
  private end: Point | null = null;
  private from: [number, number] | null = null;
  /** angle, area: the points placed so far, and the pointer */
  private points: Point[] = [];
  private cursorAt: Point | null = null;
  /** uuid of the selected measurement */
  private chosen: string | null = null;
  /** the measurement last sent, chosen before Python's echo brings it */
  private sentUuid: string | null = null;
  /** the slice the measurement being drawn is on (a slice change drops it) */
  private draftSlice = -1;
  /** distance: the measurement under the press (a click selects it, a drag draws anew) */
  private pressed: string | null = null;
  /** a point of the selected measurement being dragged: the measurement as it will be, and
   * the index of the point; kept (and drawn instead of the labels' one) until Python answers */
  private moving: { measurement: Measurement; index: number; sent: boolean } | null = null;
  /** the label input, while one is open */
  private labelling: { measurement: Measurement; input: HTMLInputElement; ac: AbortController } | null = null;
  private readonly kindButtons = new Map<MeasureKind, HTMLButtonElement>();

  constructor(private readonly api: EditorApi) {
    const box = el("span", "daw-measure-kinds");
    box.dataset.testid = "daw-measure-kinds";
    box.setAttribute("role", "radiogroup");
    box.setAttribute("aria-label", "What to measure");
    for (const k of KINDS) {
      const b = button(box, { icon: k.icon, title: k.title, testid: `daw-measure-${k.kind}`, toggle: true });
      b.addEventListener("click", () => this.setKind(k.kind), { signal: api.signal });
      this.kindButtons.set(k.kind, b);
    }
    // after the tool buttons (the editor adds each tool's button after making the tool)
    queueMicrotask(() => api.toolGroup.append(box));
    this.refresh();
  }

  /** Measure `kind` next (a measurement being drawn is dropped). */
  setKind(kind: MeasureKind): void {
    this.cancelDraft();
    this.kind = kind;
    this.refresh();
    this.api.changed();
  }

  /** The next kind of measurement (`l` again): distance, angle, area, distance... */
  nextKind(): void {
    const i = KINDS.findIndex((k) => k.kind === this.kind);
    this.setKind((KINDS[(i + 1) % KINDS.length] as (typeof KINDS)[number]).kind);
  }

  private refresh(): void {
    for (const [k, b] of this.kindButtons) setPressed(b, k === this.kind);
    this.api.root.dataset.measureKind = this.kind;
  }

  private shown(): Measurement[] {
    return measurementsOn(this.api.labels().measurements, this.api.plane(), this.api.slice());
  }

  active(): boolean {
    return this.start !== null || this.points.length > 0 || (this.moving !== null && !this.moving.sent);
  }

  /** The uuid of the measurement whose point is being moved (the editor does not draw it). */
  movingMeasurement(): string | null {
    this.syncSlice();
    return this.moving?.measurement.uuid ?? null;
  }

  /** The index of the selected measurement's point under screen point `q`, or -1. */
  private handleAt(q: Point, m: Matrix): number {
    const chosen = this.shown().find((x) => x.uuid === this.chosen);
    if (!chosen) return -1;
    return chosen.points.findIndex(([x, y]) => {
      const [sx, sy] = apply(m, x, y);
      return Math.hypot(sx - q[0], sy - q[1]) <= PICK_PX;
    });
  }

  private send(kind: MeasureKind, points: readonly Point[]): void {
    // the new measurement is the one chosen: Delete right after drawing it removes it, not
    // the object selected before (QA 24a D2: it deleted that object)
    const uuid = uuid4();
    this.chosen = uuid;
    this.sentUuid = uuid;
    const measurement = {
      uuid,
      kind,
      plane: this.api.plane(),
      slice: this.api.slice(),
      points: points.map(([x, y]) => [round3(x), round3(y)]),
      label: "",
    };
    this.api.sendEdit({ op: "add_measurement", measurement });
  }

  /**
   * Drop what belongs to another slice: a measurement being drawn (or a point being moved)
   * when the slice changed, and the selection when the selected measurement is not on the
   * slice shown (or is gone), so Delete never acts on what cannot be seen.
   */
  private syncSlice(): void {
    const k = this.api.slice();
    if (this.active() && this.draftSlice !== k) this.cancelDraft();
    if (this.moving && !this.moving.sent && this.moving.measurement.slice !== k) this.moving = null;
    if (this.moving?.sent) {
      // Python's echo is in: the labels' measurement is the moved one (the answer may come later)
      const { uuid, points } = this.moving.measurement;
      const echoed = this.api.labels().measurements.find((x) => x.uuid === uuid);
      if (echoed?.points.every(([x, y], i) => x === round3(points[i]?.[0] ?? NaN) && y === round3(points[i]?.[1] ?? NaN))) this.moving = null;
    }
    const shown = this.chosen !== null && this.shown().some((x) => x.uuid === this.chosen);
    if (shown && this.chosen === this.sentUuid) this.sentUuid = null; // (its echo is in)
    if (this.chosen && !shown && this.chosen !== this.sentUuid) this.chosen = null;
  }

  down(at: PointerAt): void {
    this.syncSlice();
    const m = this.api.voxelToScreen();
    if (!this.active() && this.moving === null && m && !this.api.readOnly()) {
      // a press on a point of the selected measurement: drag it
      const index = this.handleAt(screenPoint(this.api, at), m);
      const chosen = this.shown().find((x) => x.uuid === this.chosen);
      if (chosen && index >= 0) {
        capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
        this.moving = { measurement: { ...chosen, points: [...chosen.points] }, index, sent: false };
        return;
      }
    }
    const hit = !this.active() && m ? measurementAt(this.shown(), screenPoint(this.api, at), m) : null;
    if (hit && (this.kind !== "distance" || this.api.readOnly())) {
      // a click on a measurement selects it (a distance: see up(), a drag draws a new one)
      this.chosen = hit.uuid;
      this.api.changed();
      return;
    }
    if (this.api.readOnly()) return this.api.refuse("the labels are read-only (review mode): edits are off");
    this.chosen = null;
    this.draftSlice = this.api.slice();
    if (this.kind === "distance") {
      capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
      this.start = at.p;
      this.end = at.p;
      this.from = [at.e.clientX, at.e.clientY];
      this.pressed = hit?.uuid ?? null;
      return;
    }
    // angle and area: a click places a point
    const first = this.points[0];
    if (this.kind === "area" && first && this.points.length >= 3 && m) {
      const [fx, fy] = apply(m, first[0], first[1]);
      const [sx, sy] = screenPoint(this.api, at);
      if (Math.hypot(sx - fx, sy - fy) <= PICK_PX) return this.closeArea();
    }
    const last = this.points[this.points.length - 1];
    if (last && Math.hypot(at.p[0] - last[0], at.p[1] - last[1]) <= 1e-3) return; // a double-click's second press
    this.points.push(at.p);
    this.cursorAt = at.p;
    if (this.kind === "angle" && this.points.length === 3) {
      const pts = this.points;
      this.cancelDraft();
      this.send("angle", pts);
    }
    this.api.changed();
  }
  move(at: PointerAt): void {
    this.syncSlice();
    const moving = this.moving;
    if (moving && !moving.sent) {
      moving.measurement.points[moving.index] = at.p;
      this.api.changed();
    } else if (this.start) {
      this.end = at.p;
      this.api.changed();
    } else if (this.points.length > 0) {
      this.cursorAt = at.p;
      this.api.changed();
    }
  }
  up(at: PointerAt): void {
    this.syncSlice();
    if (this.moving && !this.moving.sent) return this.finishMove(at);
    if (!this.start) return;
    const start = this.start;
    const from = this.from;
    const pressed = this.pressed;
    this.cancelDraft();
    if (!from || at.e.type === "pointercancel") return;
    if (Math.hypot(at.e.clientX - from[0], at.e.clientY - from[1]) < CLICK_PX) {
      this.chosen = pressed; // a click: selects the measurement under it (or nothing)
      return;
    }
    this.send("distance", [start, at.p]);
  }
  /** Send the moved point: the measurement replaced (same uuid and label) in one edit. */
  private finishMove(at: PointerAt): void {
    const moving = this.moving;
    if (!moving) return;
    const old = this.shown().find((x) => x.uuid === moving.measurement.uuid);
    const points = moving.measurement.points.map(([x, y]) => [round3(x), round3(y)]);
    const unchanged = old?.points.every(([x, y], i) => x === points[i]?.[0] && y === points[i]?.[1]);
    if (!old || unchanged || at.e.type === "pointercancel") {
      this.moving = null;
      this.api.changed();
      return;
    }
    moving.sent = true;
    const done = (): void => {
      if (this.moving === moving) this.moving = null;
      this.api.changed();
    };
    if (!this.replace({ ...moving.measurement, points: points as Point[] }, "move a measurement point", done)) done();
  }

  /** Replace a measurement by `m` (same uuid; author and creation time kept), one undoable
   * edit, as Python's `set_measurement`. False when refused locally. */
  private replace(m: Measurement, what: string, done?: () => void): boolean {
    const { uuid, kind, plane, slice, points, label, author, created } = m;
    const kept = created === undefined ? {} : { author: author ?? null, created };
    const op = {
      op: "batch",
      label: what,
      ops: [
        { op: "delete_measurement", uuid },
        { op: "add_measurement", measurement: { uuid, kind, plane, slice, points, label, ...kept } },
      ],
    };
    return this.api.sendEdit(op, null, done);
  }

  /** Enter on a selected measurement: an input for its label over the image (Enter or
   * leaving it keeps the text, Escape cancels; keys typed in it stay in it). */
  private editLabel(m: Measurement): void {
    this.finishLabel(false);
    const vm = this.api.voxelToScreen();
    if (!vm) return;
    const { input, ac } = textField(
      {
        className: "daw-measure-label",
        testid: "daw-measure-label",
        value: m.label,
        placeholder: "label",
        label: "Label of the measurement",
        maxLength: 1000,
      },
      (keep) => {
        const hadFocus = document.activeElement === input;
        this.finishLabel(keep);
        if (hadFocus) this.api.root.focus({ preventScroll: true });
      },
    );
    const anchor = m.points.reduce((best, p) => (p[0] > best[0] ? p : best), m.points[0] as Point);
    const [x, y] = apply(vm, anchor[0], anchor[1]);
    const r = this.api.viewport.getBoundingClientRect();
    input.style.left = `${Math.max(0, Math.min(x + 6, r.width - 180))}px`;
    input.style.top = `${Math.max(0, Math.min(y + 4, r.height - 24))}px`;
    this.api.signal.addEventListener("abort", () => ac.abort(), { signal: ac.signal });
    this.labelling = { measurement: m, input, ac };
    this.api.viewport.append(input);
    input.focus();
    input.select();
  }

  private finishLabel(commit: boolean): void {
    const l = this.labelling;
    if (!l) return;
    this.labelling = null;
    l.ac.abort();
    l.input.remove();
    const text = l.input.value.trim();
    if (commit && text !== l.measurement.label) this.replace({ ...l.measurement, label: text }, "label a measurement");
  }

  dblclick(_at: PointerAt): boolean {
    this.syncSlice();
    if (this.kind !== "area" || this.points.length === 0) return false;
    this.closeArea();
    return true;
  }
  private closeArea(): void {
    const pts = distinct(this.points);
    if (pts.length < 3) {
      this.api.refuse(`an area needs at least 3 distinct corners (got ${pts.length})`);
      return;
    }
    let twice = 0;
    pts.forEach(([x0, y0], i) => {
      const [x1, y1] = pts[(i + 1) % pts.length] as Point;
      twice += x0 * y1 - x1 * y0;
    });
    if (Math.abs(twice) < 1e-6) {
      this.api.refuse("an area needs corners that are not all on one line");
      return;
    }
    this.cancelDraft();
    this.send("area", pts);
    this.api.changed();
  }
  key(e: KeyboardEvent): boolean {
    this.syncSlice();
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && keyLetter(e) === "z" && this.active()) {
      // ctrl+z while drawing takes back the last point (a distance: the drawing), not a saved edit
      if (this.points.length > 0) this.points.pop();
      else this.cancelDraft();
      this.api.changed();
      return true;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "Escape" && (this.active() || this.chosen)) {
      this.cancel();
      this.api.changed();
      return true;
    }
    if (e.key === "Enter" && this.kind === "area" && this.points.length > 0) {
      this.closeArea();
      return true;
    }
    if (e.key === "Backspace" && this.points.length > 0) {
      this.points.pop();
      this.api.changed();
      return true;
    }
    // (one press too many takes nothing else: not the object selected before, QA 24a D2)
    if (e.key === "Backspace" && !this.chosen && !e.shiftKey) return true;
    const chosen = this.shown().find((x) => x.uuid === this.chosen);
    if (e.key === "Enter" && chosen && !this.active()) {
      this.editLabel(chosen);
      return true;
    }
    if ((e.key === "Delete" || e.key === "Backspace") && this.chosen) {
      const uuid = this.chosen;
      this.chosen = null;
      if (!this.shown().some((x) => x.uuid === uuid)) {
        this.sentUuid = null;
        return true; // (sent, not echoed yet, or refused: nothing to delete here)
      }
      this.api.sendEdit({ op: "delete_measurement", uuid });
      this.api.changed();
      return true;
    }
    return false;
  }
  private cancelDraft(): void {
    this.start = null;
    this.end = null;
    this.from = null;
    this.pressed = null;
    this.points = [];
    this.cursorAt = null;
  }
  cancel(): void {
    this.finishLabel(false);
    this.cancelDraft();
    this.chosen = null;
    if (this.moving && !this.moving.sent) this.moving = null;
  }
  /** The measurement being drawn, as far as it goes (null: none). */
  private draftMeasurement(): Measurement | null {
    const base = { uuid: "", plane: this.api.plane(), slice: this.api.slice(), label: "" };
    if (this.start && this.end) return { ...base, kind: "distance", points: [this.start, this.end] };
    if (this.points.length === 0) return null;
    const pts = distinct(this.cursorAt ? [...this.points, this.cursorAt] : this.points);
    if (pts.length < 2) return null;
    if (pts.length === 2) return { ...base, kind: "distance", points: pts };
    return { ...base, kind: this.kind === "angle" ? "angle" : "area", points: pts };
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    this.syncSlice();
    const chosen = this.shown().find((x) => x.uuid === this.chosen);
    if (chosen) {
      // the selected one: its points as handles
      ctx.fillStyle = MEASUREMENT_COLOR;
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1;
      for (const [x, y] of chosen.points) {
        ctx.beginPath();
        const [sx, sy] = apply(m, x, y);
        ctx.arc(sx, sy, 4, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    const draft = this.moving?.measurement ?? this.draftMeasurement();
    if (draft && draft.slice === this.api.slice()) {
      const r = this.api.viewport.getBoundingClientRect();
      // (an area being drawn shows its statistics as it grows)
      drawMeasurements(ctx, [draft], m, this.api.info(), (item) => volumeAreaStats(this.api.volume(), item), [r.width, r.height], (this.api.model.get("slab") ?? 1) > 1);
    }
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
