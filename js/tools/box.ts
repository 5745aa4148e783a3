/**
 * Bounding-box tool: press, drag, release. Points are voxel (column, row), already clamped
 * into the image by the caller; the result is sorted, rounded to 1/1000 voxel and refused when
 * it has no area.
 */
import { type Point, classColor, hitTest, round3 } from "../labels";
import type { Draft } from "../render/overlay";
import type { Matrix } from "../render/transform";
import { Editing } from "./editing";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { PICK_PX } from "./vertices";
import { maskSession } from "../render/masklayer";
import { asPlane, planeToVoxel } from "../render/planes";
import { capturePointer } from "../ui/dom";

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

/** Screen distance (CSS px) under which a press-release is a click, not a box. */
const CLICK_PX = 3;

/**
 * The box tool in the editor: drag to draw; a click selects instead; the selected box's
 * corner and side handles resize it (the select tool also moves it).
 */
export class BoxHandler implements ToolHandler {
  readonly id = "box" as const;
  readonly shapes = ["bounding_box"] as const;
  readonly button = { icon: "box" as const, title: "Bounding box: drag to draw; drag the selected box's corners or sides to resize it" };
  private readonly tool = new BoxTool();
  private readonly editing: Editing;
  private from: [number, number] | null = null;

  constructor(private readonly api: EditorApi) {
    this.editing = new Editing(api);
  }

  active(): boolean {
    return this.tool.active || this.editing.drag !== null;
  }
  /** The selected box's corner or side under the pointer. */
  private resizeHandle(at: PointerAt): boolean {
    const item = this.editing.selectedItem();
    if (!item?.keyframe.box) return false;
    const h = this.editing.hit(at, item);
    return h?.kind === "corner" || h?.kind === "side";
  }
  down(at: PointerAt): void {
    if (this.resizeHandle(at) && this.editing.begin(at)) return;
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    this.tool.down(at.p);
    this.from = [at.e.clientX, at.e.clientY];
  }
  move(at: PointerAt): void {
    if (this.editing.move(at)) return;
    if (!this.tool.active) return;
    this.tool.move(at.p);
    this.api.changed();
  }
  up(at: PointerAt): void {
    if (this.editing.end(at)) return;
    if (!this.tool.active || !this.from) return;
    const click = Math.hypot(at.e.clientX - this.from[0], at.e.clientY - this.from[1]) < CLICK_PX;
    this.from = null;
    if (click || at.e.type === "pointercancel") {
      this.tool.cancel();
      if (click) this.api.select(pickAt(this.api, at.p));
      return;
    }
    const result = this.tool.up(at.p);
    if (result && "error" in result) this.api.refuse(result.error);
    else if (result) this.api.createObject({ box: result.box });
  }
  cancel(): void {
    this.tool.cancel();
    this.editing.cancel();
    this.from = null;
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    if (this.editing.selectedItem()?.keyframe.box) this.editing.draw(ctx, m);
  }
  draft(): Draft | null {
    if (!this.tool.start || !this.tool.end) return null;
    const c = this.api.activeClass();
    return { shape: "bounding_box", color: c ? classColor(this.api.ontology(), c.id) : "#fff", points: [this.tool.start, this.tool.end] };
  }
  cursor(): string {
    return "crosshair";
  }
}

/**
 * The object under voxel point `p` on the current slice: a vector shape within PICK_PX CSS
 * px, else a shown bitmask object whose mask covers the voxel (the smallest, if several).
 */
export function pickAt(api: EditorApi, p: Point): string | null {
  const k = api.slice();
  const vector = hitTest(api.items(k), p, api.pxToVoxels(PICK_PX));
  if (vector !== null) return vector;
  // masks are kept per own slice: on a reformat, the voxel under the point is looked up there
  const cache = maskSession(api).cache;
  if (!cache) return null;
  const [x, y, s] = planeToVoxel(asPlane(api.plane()), Math.round(p[0]), Math.round(p[1]), k);
  if (x < 0 || y < 0 || x >= cache.width || y >= cache.height) return null;
  const hidden = api.hidden();
  let best: string | null = null;
  let bestArea = Number.POSITIVE_INFINITY;
  for (const uuid of cache.uuids(s)) {
    if (hidden.has(uuid) || !api.object(uuid)) continue;
    if (!cache.at(s, uuid, x, y)) continue;
    const b = cache.bound(s, uuid);
    const area = b ? (b[2] - b[0]) * (b[3] - b[1]) : Number.POSITIVE_INFINITY;
    if (area <= bestArea) {
      best = uuid;
      bestArea = area;
    }
  }
  return best;
}
