/**
 * Polygon tool: each click places a vertex; a double-click, or a click on the first vertex,
 * closes it; Escape cancels; Backspace removes the last vertex. With free-hand on (`d`),
 * press-drag draws the outline and the release closes it (simplified with the view's
 * tolerance, js/tools/freehand.ts). Points are voxel (column, row), clamped by the caller;
 * `tol` is the click tolerance in voxels.
 */
import { type Point, classColor, polygonArea, round3 } from "../labels";
import type { Draft } from "../render/overlay";
import type { Matrix } from "../render/transform";
import { type FreehandSettings, Stroke, freehandKey, freehandSettings, simplifyOnScreen } from "./freehand";
import { strokeScreen } from "./polyline";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { PICK_PX, VertexDraft, near } from "./vertices";
import { capturePointer } from "../ui/dom";

export type PolygonResult = { points: Point[] } | { error: string };

export class PolygonTool extends VertexDraft {
  /** A click at `p`: adds a vertex, or closes the polygon (returns the result). */
  click(p: Point, tol: number): PolygonResult | null {
    const first = this.points[0];
    if (first && this.points.length >= 3 && near(first, [round3(p[0]), round3(p[1])], tol)) return this.finish();
    this.add(p, tol);
    return null;
  }

  /** Close the polygon: its vertices, or why it cannot be one. The tool is reset either way. */
  finish(): PolygonResult {
    return polygonFrom(this.take());
  }
}

export function polygonFrom(points: readonly Point[]): PolygonResult {
  // drop repeated consecutive vertices (and a last one equal to the first)
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push([p[0], p[1]]);
  }
  const first = out[0];
  const last = out[out.length - 1];
  if (out.length > 1 && first && last && first[0] === last[0] && first[1] === last[1]) out.pop();
  const distinct = new Set(out.map((p) => `${p[0]},${p[1]}`)).size;
  if (distinct < 3) return { error: `a polygon needs at least 3 distinct vertices, got ${distinct}` };
  if (polygonArea(out) <= 0) return { error: "a polygon needs a non-zero area (its vertices are on one line)" };
  return { points: out };
}

/** The polygon tool in the editor. */
export class PolygonHandler implements ToolHandler {
  readonly id = "polygon" as const;
  readonly shapes = ["polygon"] as const;
  readonly button = {
    icon: "polygon" as const,
    title:
      "Polygon: click vertices; double-click, Enter or a click on the first vertex closes; d: free-hand (drag, release closes); Backspace removes the last vertex; Esc cancels",
  };
  readonly tool = new PolygonTool();
  readonly stroke = new Stroke();
  protected readonly freehand: FreehandSettings;

  constructor(protected readonly api: EditorApi) {
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
    this.finish(this.tool.click(at.p, this.api.pxToVoxels(PICK_PX)));
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
    this.api.changed();
    if (at.e.type === "pointercancel" || raw.length < 2) return; // a click draws nothing
    const m = this.api.voxelToScreen();
    const pts = m ? simplifyOnScreen(raw, m, this.freehand.tolerance) : raw;
    const before = this.tool.points;
    this.tool.cancel();
    this.finish(polygonFrom([...before, ...pts]));
  }
  dblclick(_at: PointerAt): boolean {
    if (!this.tool.active) return false;
    if (this.tool.points.length <= 1) {
      // a plain double-click: its own click placed the only vertex; nothing was drawn
      this.tool.cancel();
      this.api.changed();
      return true;
    }
    // two vertices cannot close: the polygon stays open for a third (not thrown away)
    if (this.tool.points.length < 3) return true;
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
    if (mod && e.key.toLowerCase() === "z" && !e.shiftKey) {
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
    if (!this.stroke.active) return;
    const c = this.api.activeClass();
    ctx.strokeStyle = c ? classColor(this.api.ontology(), c.id) : "#fff";
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    strokeScreen(ctx, m, [...this.tool.points, ...this.stroke.points]);
  }
  draft(): Draft | null {
    if (!this.tool.active) return null;
    const c = this.api.activeClass();
    const color = c ? classColor(this.api.ontology(), c.id) : "#fff";
    return { shape: "polygon", color, points: this.tool.points, cursor: this.tool.cursor };
  }
  cursor(): string {
    return "crosshair";
  }
  protected finish(result: PolygonResult | null): void {
    if (!result) return;
    if ("error" in result) this.api.refuse(result.error);
    else this.api.createObject({ points: result.points });
    this.api.changed();
  }
}

