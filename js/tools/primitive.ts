/**
 * Primitive tool: press and drag spans the class's skeleton template (its nodes' unit-square
 * positions stretched over the dragged box; a click places it at a default size around the
 * pointer). The selected primitive's nodes can be dragged with this tool too, and with "show
 * controls" each template edge gets a control whose click cycles it visible -> occluded ->
 * invisible. Keyframes are `{nodes: {id: [x, y]}, edges: [state per template edge]}` as
 * labels/geometry.py reads them.
 */
import { type OntologyClass, type Point, classColor, round3 } from "../labels";
import type { Matrix } from "../render/transform";
import { type GeoResult, placeTemplate } from "./edit";
import { CLICK_PX, Editing, drawPrimitiveEdges } from "./editing";
import { dotsScreen } from "./polyline";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { capturePointer } from "../ui/dom";

/** Size (CSS px) of a template placed with a click. */
export const DEFAULT_TEMPLATE_PX = 80;

/**
 * The template placed by a press at `a` and a release at `b` (voxels); a click (`click`)
 * places it `size` voxels wide and high centred on `a`, kept inside the image.
 */
export function templateFrom(cls: OntologyClass, a: Point, b: Point, click: boolean, size: number, columns: number, rows: number): GeoResult {
  if (!click) return placeTemplate(cls, a, b);
  const half = Math.min(size, columns, rows) / 2;
  const cx = Math.min(columns - 0.5 - half, Math.max(-0.5 + half, a[0]));
  const cy = Math.min(rows - 0.5 - half, Math.max(-0.5 + half, a[1]));
  return placeTemplate(cls, [round3(cx - half), round3(cy - half)], [round3(cx + half), round3(cy + half)]);
}

export class PrimitiveHandler implements ToolHandler {
  readonly id = "primitive" as const;
  readonly shapes = ["primitive"] as const;
  readonly button = {
    icon: ["M6 18l6-12 6 12z", "fill:M4.5 16.5h3v3h-3z", "fill:M10.5 4.5h3v3h-3z", "fill:M16.5 16.5h3v3h-3z"] as const,
    title: "Primitive: drag to place the class's template (a click places it); drag its nodes; 'show controls' sets each edge visible, occluded or invisible",
  };
  readonly editing: Editing;
  private start: Point | null = null;
  private end: Point | null = null;
  private client: [number, number] = [0, 0];

  constructor(private readonly api: EditorApi) {
    this.editing = new Editing(api);
  }

  active(): boolean {
    return this.start !== null || this.editing.drag !== null;
  }
  down(at: PointerAt): void {
    const sel = this.editing.selectedItem();
    if (sel?.object.shape === "primitive" && this.editing.begin(at)) return;
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    this.start = at.p;
    this.end = at.p;
    this.client = [at.e.clientX, at.e.clientY];
  }
  move(at: PointerAt): void {
    if (this.editing.move(at)) return;
    if (!this.start) return;
    this.end = at.p;
    this.api.changed();
  }
  up(at: PointerAt): void {
    if (this.editing.end(at)) return;
    const a = this.start;
    this.start = null;
    this.end = null;
    if (!a || at.e.type === "pointercancel") return;
    const r = this.template(a, at.p, Math.hypot(at.e.clientX - this.client[0], at.e.clientY - this.client[1]) < CLICK_PX);
    if (!r) return;
    if ("error" in r) this.api.refuse(r.error);
    else this.api.createObject(r.geometry);
    this.api.changed();
  }
  private template(a: Point, b: Point, click: boolean): GeoResult | null {
    const cls = this.api.activeClass();
    const g = this.api.geometry();
    if (!cls || cls.shape !== "primitive" || !g) return null;
    return templateFrom(cls, a, b, click, this.api.pxToVoxels(DEFAULT_TEMPLATE_PX), g.columns, g.rows);
  }
  cancel(): void {
    this.start = null;
    this.end = null;
    this.editing.cancel();
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    if (this.start && this.end) {
      const cls = this.api.activeClass();
      const r = this.template(this.start, this.end, false);
      if (cls && r && "geometry" in r && r.geometry.nodes) {
        const color = classColor(this.api.ontology(), cls.id);
        const object = { uuid: "", object_id: 0, feature: cls.id, shape: "primitive" as const, keyframes: {} };
        drawPrimitiveEdges(ctx, m, [{ object, keyframe: r.geometry }], this.api, true);
        ctx.fillStyle = color;
        dotsScreen(ctx, m, Object.values(r.geometry.nodes), 3.5);
      }
      return;
    }
    const sel = this.editing.selectedItem();
    if (sel?.object.shape === "primitive") this.editing.draw(ctx, m);
  }
  cursor(): string {
    return this.editing.drag ? "grabbing" : "crosshair";
  }
}
