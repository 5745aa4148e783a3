/**
 * The bitmask tools: brush (`f`), eraser (`h`) and threshold brush (`g`). A stroke previews
 * at once (discs stamped between pointer samples, the rule of kernels/brush.py); strokes pile
 * up in a pending edit until "Apply label" (Enter) sends them as ONE `paint` message, or
 * Discard (Escape) drops them. The selected bitmask object is painted (a selected polygon is
 * edited with the brush: Python converts the result back to a polygon); with none selected a
 * new object of the active bitmask class is created by the paint. The popup with the size,
 * range and opacity is js/ui/bitmask.ts; the shared state is js/render/masklayer.ts.
 */
import { type Point, uuid4, objectPlane } from "../labels";
import { MAX_RADIUS, type MaskSession, type MaskToolKind, PendingEdit, maskSession } from "../render/masklayer";
import { asPlane } from "../render/planes";
import type { Tool } from "../state";
import type { EditorApi, PointerAt, ToolFactory, ToolHandler } from "./types";
import { capturePointer, isAccel } from "../ui/dom";

/** Key of each mask tool (taken only when the ontology has a bitmask class). */
export const MASK_KEYS: Record<string, MaskToolKind> = { f: "brush", h: "eraser", g: "threshold" };

/** Shapes a stroke may edit when that object is selected. */
const PAINTABLE = new Set(["bitmask", "polygon"]);

/**
 * Where a stroke started now goes: its object, and the class of a new one. A selected bitmask
 * object (kept on the series' own slices) is painted from any plane, where the plane cuts it;
 * a selected polygon in its own plane only. With none selected, a new object's pending strokes
 * are continued: on their slice, and on another slice of the same plane and series while the
 * class is still the active one (painting a structure slice after slice before applying makes
 * one object, as applying on each slice does; it made one object per slice).
 */
export function strokeTarget(
  api: Pick<EditorApi, "selected" | "object" | "activeClass" | "plane">,
  pending: { uuid: string; feature: string | null; slice: number; plane: string; series?: string } | null,
  slice: number,
  tool: MaskToolKind,
  series?: string,
): { uuid: string; feature: string | null } | { error: string } {
  const sel = api.selected();
  const obj = sel ? api.object(sel) : undefined;
  const objPlane = objectPlane(obj ?? {});
  if (obj && PAINTABLE.has(obj.shape) && (obj.shape === "bitmask" ? objPlane === "axial" : objPlane === api.plane())) return { uuid: obj.uuid, feature: null };
  const c = api.activeClass();
  if (pending && pending.feature !== null && pending.plane === api.plane() && pending.series === series) {
    if (pending.slice === slice || (c && c.id === pending.feature)) return { uuid: pending.uuid, feature: pending.feature };
  }
  if (tool === "eraser") return { error: "select the mask (or polygon) to erase from" };
  if (!c || c.shape !== "bitmask") return { error: "choose a bitmask class first" };
  return { uuid: uuid4(), feature: c.id };
}

const ICON_BRUSH = ["M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16z", "fill:M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8z"];
const ICON_ERASER = ["M4 16l9-9 7 7-6 6H8z", "M9 11l7 7", "M8 20h12"];
const ICON_THRESHOLD = ["M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16z", "fill:M12 4a8 8 0 0 0 0 16z", "M3 12h2", "M19 12h2"];

export class MaskToolHandler implements ToolHandler {
  readonly shapes = ["bitmask"] as const;
  readonly button: ToolHandler["button"];
  private readonly session: MaskSession;

  constructor(
    private readonly api: EditorApi,
    readonly id: Tool & MaskToolKind,
  ) {
    this.session = maskSession(api);
    const names: Record<MaskToolKind, [string, readonly string[], string]> = {
      brush: ["Brush", ICON_BRUSH, "f"],
      eraser: ["Eraser", ICON_ERASER, "h"],
      threshold: ["Threshold brush", ICON_THRESHOLD, "g"],
    };
    const [name, icon, key] = names[id];
    this.button = {
      icon,
      title: `${name} (${key}): paint, then Apply label (Enter) or Discard (Esc)${id === "threshold" ? "; paints only the pixels inside the range" : ""}`,
    };
  }

  active(): boolean {
    return this.session.stroking;
  }

  down(at: PointerAt): void {
    const s = this.session;
    const plane = asPlane(this.api.plane());
    const dims = s.sync() && s.planeDims(plane);
    if (!dims) return;
    const k = this.api.slice();
    const series = s.seriesId();
    const target = strokeTarget(this.api, s.pending, k, this.id, series);
    if ("error" in target) return this.api.refuse(target.error);
    let values: ((i: number) => number) | undefined;
    if (this.id === "threshold") {
      // the range is compared with the slice's own values, not with a projection's
      if ((this.api.model.get("slab") ?? 1) > 1) return this.api.refuse("the threshold brush compares each slice's own values, not a projection's: set the MIP slab to 1 slice to use it");
      const v = plane === "axial" ? s.values(k) : s.planeValues(plane, k);
      if (!v) return this.api.refuse(plane === "axial" ? "this slice has not arrived yet: the threshold brush needs its values" : "the threshold brush on a reformat needs every slice's values: wait until the series has loaded");
      values = v;
    }
    const p = s.pending;
    if (p && (p.slice !== k || p.plane !== plane || p.uuid !== target.uuid || p.series !== series)) s.apply();
    if (!s.pending) s.pending = new PendingEdit(target.uuid, target.feature, k, series, dims.columns, dims.rows, plane, dims.sy);
    this.api.refuse("");
    const range = this.id === "threshold" ? s.settings.range : undefined;
    s.pending.begin(this.id, s.settings.radius, at.p, range, values);
    s.stroking = true;
    // like every drag tool: the release ends the stroke even outside the image or over the
    // popup (without capture the viewport never hears it and the stroke went on unpressed)
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    s.hover = at.p;
    s.touch();
  }

  move(at: PointerAt): void {
    const s = this.session;
    if (s.stroking && at.e.buttons === 0) {
      // the release was lost (e.g. the capture was refused): end here, adding nothing
      s.stroking = false;
    }
    s.hover = at.p;
    if (s.stroking && s.pending) s.pending.extend(at.p);
    s.moved();
  }

  up(at: PointerAt): void {
    const s = this.session;
    if (!s.stroking) return;
    s.pending?.extend(at.p);
    s.stroking = false;
    s.moved();
  }

  key(e: KeyboardEvent): boolean {
    return maskKey(this.api, e);
  }

  /** A stroke in progress ends (the pending edit stays until applied or discarded). */
  cancel(): void {
    this.session.stroking = false;
  }

  draw(ctx: CanvasRenderingContext2D, m: [number, number, number, number, number, number]): void {
    const h = this.session.hover;
    if (!h) return;
    const r = this.session.settings.radius;
    drawDisc(ctx, m, h, r, this.session.planeDims(asPlane(this.api.plane()))?.sy ?? 1);
  }

  cursor(): string {
    return "crosshair";
  }
}

/** The brush outline: a circle of radius r pixels around p (r / sy rows high: round in mm on
 * a reformat), 1 CSS px wide, light and dark. */
export function drawDisc(ctx: CanvasRenderingContext2D, m: [number, number, number, number, number, number], p: Point, r: number, sy = 1): void {
  ctx.save();
  ctx.transform(m[0], m[1], m[2], m[3], m[4], m[5]);
  ctx.beginPath();
  ctx.ellipse(p[0], p[1], r, r / sy, 0, 0, 2 * Math.PI);
  ctx.restore();
  ctx.lineWidth = 2.5;
  ctx.strokeStyle = "rgba(0,0,0,0.6)";
  ctx.stroke();
  ctx.lineWidth = 1;
  ctx.strokeStyle = "rgba(255,255,255,0.95)";
  ctx.stroke();
}

/** the ontology has a bitmask class */
export function hasMaskClass(api: Pick<EditorApi, "classes">): boolean {
  return api.classes().some((c) => c.shape === "bitmask");
}

/** Largest brush radius the size slider and `]` reach on an image of up to 400 pixels a side
 * (voxels; larger images reach further: `sliderMaxRadius`). */
export const SLIDER_MAX_RADIUS = 100;

/** Largest brush radius the size slider and `]` reach on a plane image of `columns` x `rows`:
 * a quarter of its longer side, at least SLIDER_MAX_RADIUS and at most MAX_RADIUS (Python's
 * limit). QA 23b: a lung field on a 2048 x 2048 radiograph was painted with a brush of 5 %
 * of the image's width at most. */
export function sliderMaxRadius(columns: number, rows: number): number {
  const quarter = Math.round(Math.max(columns, rows, 0) / 4);
  return Math.min(MAX_RADIUS, Math.max(SLIDER_MAX_RADIUS, Number.isFinite(quarter) ? quarter : 0));
}

/** The brush radius after `]` (up) or `[` (down): a step of about 15 % (at least 1 voxel),
 * within 1..`max`. */
export function nextRadius(r: number, direction: 1 | -1, max = SLIDER_MAX_RADIUS): number {
  const step = Math.max(1, Math.round(r * 0.15));
  return Math.min(max, Math.max(1, Math.round(r) + direction * step));
}

/**
 * Keys of the mask tools: f / h / g choose brush / eraser / threshold brush (only with a
 * bitmask class: otherwise `f` stays the viewer's fit), Enter applies and Escape discards the
 * pending edit, Ctrl/Cmd+Z takes back its last stroke, [ and ] make the brush smaller and larger.
 * Used by the tools and by the bitmask panel (when another tool is chosen).
 */
export function maskKey(api: EditorApi, e: KeyboardEvent): boolean {
  const s = maskSession(api);
  if (isAccel(e, "z") && s.pending && !s.stroking) {
    // before Apply, undo takes back the last stroke (as it takes back a polygon's last vertex)
    s.pending.undoStroke();
    if (s.pending.strokes.length === 0) s.pending = null;
    s.touch();
    return true;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return false;
  if (e.key === "Enter" && s.pending) return s.apply();
  if (e.key === "Escape" && s.pending) return s.discard();
  if ((e.key === "[" || e.key === "]") && s.maskToolActive()) {
    const g = api.geometry();
    const max = g ? sliderMaxRadius(g.columns, g.rows) : SLIDER_MAX_RADIUS;
    s.settings.radius = nextRadius(s.settings.radius, e.key === "]" ? 1 : -1, max);
    s.touch();
    return true;
  }
  const tool = MASK_KEYS[e.key.toLowerCase()];
  if (!tool || e.shiftKey || !hasMaskClass(api) || api.readOnly()) return false;
  api.setTool(tool);
  return true;
}

export const MASK_TOOLS: ToolFactory[] = [
  (api) => new MaskToolHandler(api, "brush"),
  (api) => new MaskToolHandler(api, "eraser"),
  (api) => new MaskToolHandler(api, "threshold"),
];
