/**
 * Scissors tool: on the selected polygon or polyline, drag a lasso (or, after `b`, a box)
 * around vertices to remove them all at once: one edit, refused when fewer than 3 (polygon) /
 * 2 (polyline) vertices would remain. A click picks the object to cut.
 */
import { type Point, pointInPolygon, round3 } from "../labels";
import type { Matrix } from "../render/transform";
import { pickAt } from "./box";
import { removeInside } from "./edit";
import { CLICK_PX } from "./editing";
import { Stroke } from "./freehand";
import { dotsScreen, strokeScreen } from "./polyline";
import type { EditorApi, PointerAt, ToolHandler } from "./types";
import { capturePointer } from "../ui/dom";

/** The region of a scissors drag: the lasso itself, or the box spanned by its ends. */
export function scissorsRegion(points: readonly Point[], box: boolean): Point[] {
  if (!box) return points.map((p) => [p[0], p[1]] as Point);
  const a = points[0];
  const b = points[points.length - 1];
  if (!a || !b) return [];
  return [
    [a[0], a[1]],
    [b[0], a[1]],
    [b[0], b[1]],
    [a[0], b[1]],
  ];
}

export class ScissorsHandler implements ToolHandler {
  readonly id = "scissors" as const;
  readonly shapes = [] as const;
  readonly button = {
    icon: ["M6 7a2.5 2.5 0 1 0 0 .1", "M6 17a2.5 2.5 0 1 0 0 .1", "M8 8l12 9", "M8 16l12-9"] as const,
    title: "Scissors: drag a lasso around vertices of the selected polygon or polyline to remove them (b: box instead of lasso)",
  };
  box = false;
  private readonly stroke = new Stroke();
  private client: [number, number] = [0, 0];
  /** how far (screen px) the pointer went from the press: a closed lasso ends where it began */
  private travel = 0;

  constructor(private readonly api: EditorApi) {}

  private target(): { uuid: string; points: Point[]; shape: "polygon" | "polyline" } | null {
    const uuid = this.api.selected();
    const item = uuid ? this.api.items(this.api.slice()).find((it) => it.object.uuid === uuid) : undefined;
    const shape = item?.object.shape;
    if (!item || !item.keyframe.points || (shape !== "polygon" && shape !== "polyline")) return null;
    return { uuid: item.object.uuid, points: item.keyframe.points, shape };
  }

  active(): boolean {
    return this.stroke.active;
  }
  down(at: PointerAt): void {
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    this.stroke.start([round3(at.p[0]), round3(at.p[1])]);
    this.client = [at.e.clientX, at.e.clientY];
    this.travel = 0;
  }
  move(at: PointerAt): void {
    if (!this.stroke.active) return;
    this.travel = Math.max(this.travel, Math.hypot(at.e.clientX - this.client[0], at.e.clientY - this.client[1]));
    this.stroke.add([round3(at.p[0]), round3(at.p[1])], this.api.pxToVoxels(1));
    this.api.changed();
  }
  up(at: PointerAt): void {
    if (!this.stroke.active) return;
    this.stroke.add([round3(at.p[0]), round3(at.p[1])], 0);
    const pts = this.stroke.finish();
    this.api.changed();
    if (at.e.type === "pointercancel") return;
    // a click only if the pointer stayed near the press all along (QA 21b D4: a lasso closed
    // where it began was taken for a click, which unselected the object and cut nothing)
    const end = Math.hypot(at.e.clientX - this.client[0], at.e.clientY - this.client[1]);
    const click = Math.max(this.travel, end) < CLICK_PX;
    if (click) {
      // a click chooses the object to cut
      this.api.select(pickAt(this.api, at.p));
      return;
    }
    const target = this.target();
    if (!target) {
      this.api.refuse("scissors: select a polygon or polyline first (click it with the scissors)");
      return;
    }
    const item = this.api.items(this.api.slice()).find((it) => it.object.uuid === target.uuid);
    if (!item) return;
    const r = removeInside(item.keyframe, target.shape, scissorsRegion(pts, this.box));
    if ("error" in r) {
      this.api.refuse(r.error);
      return;
    }
    this.api.setKeyframe(target.uuid, this.api.slice(), r.geometry);
  }
  key(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== "b") return false;
    this.box = !this.box;
    this.api.toast(this.box ? "Scissors: box selection" : "Scissors: lasso selection");
    this.api.root.dataset.scissors = this.box ? "box" : "lasso";
    return true;
  }
  cancel(): void {
    this.stroke.cancel();
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    const target = this.target();
    if (!this.stroke.active) return;
    const region = scissorsRegion(this.stroke.points, this.box);
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "rgba(255,255,255,0.12)";
    strokeScreen(ctx, m, region, true);
    ctx.fill();
    ctx.setLineDash([]);
    if (target && region.length >= 3) {
      ctx.fillStyle = "#ff4040";
      dotsScreen(
        ctx,
        m,
        target.points.filter((p) => pointInPolygon(p, region)),
        4.5,
      );
    }
  }
  cursor(): string {
    return "crosshair";
  }
}
