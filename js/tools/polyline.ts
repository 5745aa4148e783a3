/**
 * Polyline tool: each click places a vertex; a double-click or Enter finishes it; Backspace
 * removes the last vertex; Escape cancels. With free-hand on (`d`), press-drag draws and the
 * release finishes. The total length is shown while drawing and for the selected polyline, in
 * mm when the series spacing is known (else in pixels).
 */
import { type Point, classColor, round3 } from "../labels";
import { type Matrix, apply } from "../render/transform";
import { capturePointer, el } from "../ui/dom";
import { type FreehandSettings, Stroke, freehandKey, freehandSettings, simplifyOnScreen } from "./freehand";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { PICK_PX, VertexDraft } from "./vertices";
import "./tools.css";

export type PolylineResult = { points: Point[] } | { error: string };

/** Drop repeated consecutive vertices; refuse fewer than 2 distinct ones. */
export function polylineFrom(points: readonly Point[]): PolylineResult {
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push([p[0], p[1]]);
  }
  const distinct = new Set(out.map((p) => `${p[0]},${p[1]}`)).size;
  if (distinct < 2) return { error: `a polyline needs at least 2 distinct vertices, got ${distinct}` };
  return { points: out };
}

/** Length of a polyline of voxel points with `sx` mm between columns and `sy` between rows. */
export function polylineLength(points: readonly Point[], sx = 1, sy = 1): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as Point;
    const b = points[i] as Point;
    total += Math.hypot((b[0] - a[0]) * sx, (b[1] - a[1]) * sy);
  }
  return total;
}

/** "12.3 mm" (or "12.3 px" when the spacing is unknown). */
export function formatLength(value: number, unit: "mm" | "px"): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** Length of voxel points in the view's units: mm when the spacing is known, else px. */
export function measure(api: EditorApi, points: readonly Point[]): { value: number; unit: "mm" | "px"; text: string } {
  const info = api.info();
  const g = api.geometry();
  const known = Boolean(info && info.spacing_known !== false && g && g.columnSpacing > 0 && g.rowSpacing > 0);
  const value = known && g ? polylineLength(points, g.columnSpacing, g.rowSpacing) : polylineLength(points);
  const unit = known ? "mm" : "px";
  return { value, unit, text: formatLength(value, unit) };
}

const MEASURES = new WeakMap<EditorApi, HTMLElement>();

/**
 * Show (or hide, with null) the length readout of the view at screen point `at` (CSS px in the
 * viewport). The element carries the value in `data-length` and the unit in `data-unit`.
 */
export function showLength(api: EditorApi, points: readonly Point[] | null, at?: Point): void {
  let node = MEASURES.get(api);
  if (!node) {
    node = el("div", "daw-measure", api.viewport);
    node.dataset.testid = "daw-measure";
    node.setAttribute("aria-live", "polite");
    MEASURES.set(api, node);
  }
  if (!points || points.length < 2) {
    node.hidden = true;
    delete node.dataset.length;
    return;
  }
  const m = measure(api, points);
  node.hidden = false;
  node.textContent = `Length ${m.text}`;
  node.dataset.length = m.value.toFixed(3);
  node.dataset.unit = m.unit;
  if (at) {
    // beside the point, kept inside the viewport
    const w = api.viewport.clientWidth;
    const h = api.viewport.clientHeight;
    const x = Math.min(Math.max(0, at[0] + 12), Math.max(0, w - node.offsetWidth - 4));
    const y = Math.min(Math.max(0, at[1] + 12), Math.max(0, h - node.offsetHeight - 4));
    node.style.left = `${Math.round(x)}px`;
    node.style.top = `${Math.round(y)}px`;
  }
}

/** Click-by-click polyline (pure state machine). `tol`: double-click tolerance in voxels. */
export class PolylineTool extends VertexDraft {
  click(p: Point, tol: number): void {
    this.add(p, tol);
  }

  finish(): PolylineResult {
    return polylineFrom(this.take());
  }
}

/** Stroke a voxel polyline on screen (CSS px). */
export function strokeScreen(ctx: CanvasRenderingContext2D, m: Matrix, pts: readonly Point[], closed = false): void {
  if (pts.length === 0) return;
  ctx.beginPath();
  pts.forEach((p, i) => {
    const [x, y] = apply(m, p[0], p[1]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  if (closed) ctx.closePath();
  ctx.stroke();
}

/** Dots at voxel points (CSS px radius `r`). */
export function dotsScreen(ctx: CanvasRenderingContext2D, m: Matrix, pts: readonly Point[], r: number): void {
  ctx.beginPath();
  for (const p of pts) {
    const [x, y] = apply(m, p[0], p[1]);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  ctx.fill();
}

/** The polyline tool in the editor. */
export class PolylineHandler implements ToolHandler {
  readonly id = "polyline" as const;
  readonly shapes = ["polyline"] as const;
  readonly button = {
    icon: ["M3 18l5-9 5 5 8-9", "fill:M1.5 16.5h3v3h-3z", "fill:M19.5 3.5h3v3h-3z"] as const,
    title: "Polyline: click vertices, double-click or Enter finishes; d: free-hand; Backspace removes the last vertex; Esc cancels",
  };
  readonly tool = new PolylineTool();
  readonly stroke = new Stroke();
  private readonly freehand: FreehandSettings;

  constructor(private readonly api: EditorApi) {
    this.freehand = freehandSettings(api);
  }

  active(): boolean {
    return this.tool.active || this.stroke.active;
  }
  down(at: PointerAt): void {
    if (this.freehand.on) {
      capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
      this.stroke.start([round3(at.p[0]), round3(at.p[1])]);
      return;
    }
    this.tool.click(at.p, this.api.pxToVoxels(PICK_PX));
    this.tool.move(at.p);
  }
  move(at: PointerAt): void {
    if (this.stroke.active) {
      this.stroke.add([round3(at.p[0]), round3(at.p[1])], this.api.pxToVoxels(1));
      this.api.changed();
      return;
    }
    if (!this.tool.active) return;
    this.tool.move(at.p);
    this.api.changed();
  }
  up(at: PointerAt): void {
    if (!this.stroke.active) return;
    this.stroke.add([round3(at.p[0]), round3(at.p[1])], this.api.pxToVoxels(1));
    const raw = this.stroke.finish();
    if (at.e.type === "pointercancel") return;
    if (raw.length < 2) return; // a click in free-hand mode draws nothing
    const m = this.api.voxelToScreen();
    const pts = m ? simplifyOnScreen(raw, m, this.freehand.tolerance) : raw;
    this.finish(polylineFrom([...this.tool.points, ...pts]));
    this.tool.cancel();
  }
  dblclick(_at: PointerAt): boolean {
    if (!this.tool.active) return false;
    if (this.tool.points.length <= 1) {
      // a plain double-click: its own click placed the only vertex; nothing was drawn
      this.tool.cancel();
      this.api.changed();
      return true;
    }
    this.finish(this.tool.finish());
    return true;
  }
  key(e: KeyboardEvent): boolean {
    if (freehandKey(this.freehand, e)) {
      this.api.changed();
      return true;
    }
    const mod = e.ctrlKey || e.metaKey;
    // Backspace takes back the draft's vertices: one press too many (a key's auto-repeat)
    // does nothing, it never deletes the object selected before (QA 24a D2: it did)
    if (!this.tool.active) return e.key === "Backspace" && !mod && !e.altKey && !e.shiftKey;
    if ((e.key === "Backspace" || e.key === "Delete") && !mod) {
      this.tool.undoVertex();
      this.api.changed();
      return true;
    }
    if (e.key === "Enter" && !mod) {
      this.finish(this.tool.finish());
      return true;
    }
    return false;
  }
  cancel(): void {
    this.tool.cancel();
    this.stroke.cancel();
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    const c = this.api.activeClass();
    const color = c ? classColor(this.api.ontology(), c.id) : "#fff";
    const pts = this.stroke.active ? this.stroke.points : this.tool.cursor ? [...this.tool.points, this.tool.cursor] : this.tool.points;
    if (pts.length > 0) {
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 1.5;
      ctx.lineJoin = "round";
      strokeScreen(ctx, m, pts);
      if (!this.stroke.active) dotsScreen(ctx, m, this.tool.points, 3);
      const last = pts[pts.length - 1] as Point;
      showLength(this.api, pts, apply(m, last[0], last[1]));
      return;
    }
    showSelectedLength(this.api, m);
  }
  cursor(): string {
    return "crosshair";
  }
  private finish(result: PolylineResult | null): void {
    if (!result) return;
    if ("error" in result) this.api.refuse(result.error);
    else this.api.createObject({ points: result.points });
    this.api.changed();
  }
}

/** The length of the selected polyline on this slice (hidden when none). */
export function showSelectedLength(api: EditorApi, m: Matrix, shown?: readonly Point[]): void {
  const uuid = api.selected();
  const item = uuid ? api.items(api.slice()).find((it) => it.object.uuid === uuid) : undefined;
  const pts = item && item.object.shape === "polyline" ? (shown ?? item.keyframe.points) : undefined;
  if (!pts || pts.length < 2) return showLength(api, null);
  const last = pts[pts.length - 1] as Point;
  showLength(api, pts, apply(m, last[0], last[1]));
}
