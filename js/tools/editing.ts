/**
 * Editing the selected object with the mouse, shared by the select, primitive and scissors
 * tools: drag a vertex, a box corner or side, a point or a primitive node; drag a midpoint
 * handle (or click an edge) to insert a vertex; drag the inside (or the outline) to move the
 * object; alt+click a vertex, or Delete while a vertex is chosen, deletes it; with "show
 * controls", a click on a primitive edge's control cycles it visible -> occluded -> invisible.
 *
 * A drag is shown as a preview drawn by the tool; each finished drag is one `set_keyframe`
 * edit (api.setKeyframe: the optimistic preview stays until Python's echo replaces it).
 * Refused shapes (a polygon with < 3 vertices...) are not sent: the refusal is shown.
 *
 * Per view, a layer draws the template edges of primitives (visible solid, occluded dashed,
 * invisible only as a faint dotted line while the controls are shown).
 */
import { type Keyframe, type OntologyClass, type Point, type SliceItem, classColor } from "../labels";
import { voxelMatrix } from "../render/overlay";
import type { Matrix } from "../render/transform";
import { button, capturePointer, setPressed } from "../ui/dom";
import {
  type Handle,
  cycleEdge,
  deleteVertex,
  dragTo,
  edgeStates,
  geometryOf,
  handles,
  hitHandle,
  insertVertex,
  projectOnSegment,
  sameGeometry,
  templateEdges,
} from "./edit";
import { dotsScreen, strokeScreen } from "./polyline";
import type { EditorApi, PointerAt } from "./types";
import "./tools.css";

/** Grab radius of handles (CSS px). */
export const GRAB_PX = 7;
/** Screen distance (CSS px) under which a press-release is a click, not a drag. */
export const CLICK_PX = 3;

/** The per-view "show controls" toggle of primitives, and the layer drawing their edges. */
export interface PrimitiveControls {
  on: boolean;
  refresh(): void;
}

const CONTROLS = new WeakMap<EditorApi, PrimitiveControls>();

const CONTROLS_ICON = ["M5 18L12 6l7 12", "fill:M3.5 16.5h3v3h-3z", "fill:M10.5 4.5h3v3h-3z", "fill:M17.5 16.5h3v3h-3z", "M8 18h8"];

/** Template edges of the primitives of a slice (under the vector overlay, which draws nodes). */
export function drawPrimitiveEdges(
  ctx: CanvasRenderingContext2D,
  m: Matrix,
  items: readonly SliceItem[],
  api: Pick<EditorApi, "ontology" | "classes">,
  controls: boolean,
): void {
  const classes = new Map(api.classes().map((c) => [c.id, c]));
  ctx.lineWidth = 1.5;
  for (const { object, keyframe: kf } of items) {
    if (object.shape !== "primitive" || !kf.nodes) continue;
    const cls = classes.get(object.feature);
    const states = edgeStates(kf, cls);
    const color = classColor(api.ontology(), object.feature);
    ctx.strokeStyle = color;
    templateEdges(cls).forEach(([s, t], i) => {
      const a = kf.nodes?.[s];
      const b = kf.nodes?.[t];
      const state = states[i];
      if (!a || !b || (state === "invisible" && !controls)) return;
      ctx.globalAlpha = state === "invisible" ? 0.45 : 1;
      ctx.setLineDash(state === "invisible" ? [1, 4] : state === "occluded" || kf.manual === false ? [6, 4] : []);
      strokeScreen(ctx, m, [a, b]);
    });
  }
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}

/** The view's primitive controls; the first call adds the toggle and the edge layer. */
export function primitiveControls(api: EditorApi): PrimitiveControls {
  const known = CONTROLS.get(api);
  if (known) return known;
  const holder = document.createElement("span");
  const b = button(holder, {
    icon: CONTROLS_ICON,
    title: "Show controls: click a primitive edge's control to make it visible, occluded or invisible",
    testid: "daw-primitive-controls",
    toggle: true,
  });
  b.classList.add("daw-primitive-controls");
  const controls: PrimitiveControls = {
    on: false,
    refresh() {
      setPressed(b, controls.on);
    },
  };
  b.addEventListener(
    "click",
    () => {
      controls.on = !controls.on;
      controls.refresh();
      api.changed();
    },
    { signal: api.signal },
  );
  // added once the view is built (adding a layer redraws, which the editor's constructor
  // cannot do yet)
  queueMicrotask(() => {
    if (api.signal.aborted) return;
    api.toolGroup.append(b); // after the tool buttons
    api.addLayer({
      draw(ctx, imageToScreen, slice) {
        drawPrimitiveEdges(ctx, voxelMatrix(imageToScreen), api.items(slice), api, controls.on);
      },
      key: () => {
        // the toggle only matters with primitive classes (cheap: called on every frame)
        b.hidden = !api.classes().some((c) => c.shape === "primitive");
        return `primitive-controls:${controls.on}`;
      },
    });
  });
  controls.refresh();
  CONTROLS.set(api, controls);
  return controls;
}

interface Drag {
  uuid: string;
  slice: number;
  handle: Handle;
  /** voxel point of the press */
  from: Point;
  /** client point of the press */
  client: [number, number];
  moved: boolean;
  keyframe: Keyframe;
  /** the geometry shown while dragging (the last valid one) */
  preview: Keyframe | null;
}

/** A chosen vertex of the selected object (Delete deletes it). */
interface ActiveVertex {
  uuid: string;
  slice: number;
  index: number;
}

export class Editing {
  drag: Drag | null = null;
  vertex: ActiveVertex | null = null;
  readonly controls: PrimitiveControls;

  constructor(private readonly api: EditorApi) {
    this.controls = primitiveControls(api);
  }

  /** The selected object's item on the current slice. */
  selectedItem(): SliceItem | null {
    const uuid = this.api.selected();
    if (!uuid) return null;
    return this.api.items(this.api.slice()).find((it) => it.object.uuid === uuid) ?? null;
  }

  classOf(item: SliceItem): OntologyClass | undefined {
    return this.api.classes().find((c) => c.id === item.object.feature);
  }

  private screen(at: { e: { clientX: number; clientY: number } }): Point {
    const r = this.api.viewport.getBoundingClientRect();
    return [at.e.clientX - r.left, at.e.clientY - r.top];
  }

  /** The handle of the selected object under the pointer. */
  hit(at: PointerAt | { e: { clientX: number; clientY: number } }, item = this.selectedItem()): Handle | null {
    const m = this.api.voxelToScreen();
    const s = this.screen(at);
    if (!item || !m) return null;
    return hitHandle(item.keyframe, item.object.shape, m, s, GRAB_PX, { cls: this.classOf(item), controls: this.controls.on });
  }

  /** Start dragging a handle of the selected object; false when the pointer is not on one. */
  begin(at: PointerAt): boolean {
    const item = this.selectedItem();
    const handle = item ? this.hit(at, item) : null;
    if (!item || !handle) return false;
    this.start(at, item, handle);
    return true;
  }

  /** Start dragging an object just picked: the vertex, node or box corner under the pointer
   * (as on a selected object: QA, a press on an unselected polygon's vertex moved the whole
   * polygon, and on a polyline's did nothing), else the whole object. */
  beginPicked(at: PointerAt, item: SliceItem): void {
    const handle = this.hit(at, item);
    const grab = handle && (handle.kind === "vertex" || handle.kind === "node" || handle.kind === "corner");
    this.start(at, item, grab ? handle : { kind: "body" });
  }

  private start(at: PointerAt, item: SliceItem, handle: Handle): void {
    capturePointer(this.api.viewport, (at.e as PointerEvent).pointerId);
    this.drag = {
      uuid: item.object.uuid,
      slice: this.api.slice(),
      handle,
      from: at.p,
      client: [at.e.clientX, at.e.clientY],
      moved: false,
      keyframe: item.keyframe,
      preview: null,
    };
    if (handle.kind === "vertex" && item.keyframe.points) {
      this.vertex = { uuid: item.object.uuid, slice: this.api.slice(), index: handle.index };
    }
  }

  move(at: PointerAt): boolean {
    const d = this.drag;
    if (!d) return false;
    if (!d.moved && Math.hypot(at.e.clientX - d.client[0], at.e.clientY - d.client[1]) < CLICK_PX) return true;
    if (d.handle.kind === "edge") return true;
    d.moved = true;
    const item = this.api.object(d.uuid);
    const g = this.api.geometry();
    if (!item || !g) return true;
    const r = dragTo(d.keyframe, item.shape, d.handle, d.from, at.p, g.columns, g.rows);
    if ("geometry" in r) d.preview = r.geometry;
    this.api.changed();
    return true;
  }

  /** End the drag (or click): one edit at most. */
  end(at: PointerAt): boolean {
    const d = this.drag;
    if (!d) return false;
    this.drag = null;
    this.api.changed();
    if (at.e.type === "pointercancel") return true;
    const object = this.api.object(d.uuid);
    const g = this.api.geometry();
    if (!object || !g) return true;
    const shape = object.shape;
    const kf = d.keyframe;
    if (!d.moved) {
      // clicks: insert on an edge or at a midpoint handle, cycle a primitive edge
      const h = d.handle;
      if (h.kind === "segment" && kf.points) {
        this.commit(d, insertVertex(kf, shape, h.index, projectOnSegment(kf.points, h.index, at.p)));
        this.vertex = { uuid: d.uuid, slice: d.slice, index: h.index + 1 };
      } else if (h.kind === "mid" && kf.points) {
        const a = kf.points[h.index] as Point;
        const b = kf.points[(h.index + 1) % kf.points.length] as Point;
        this.commit(d, insertVertex(kf, shape, h.index, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]));
        this.vertex = { uuid: d.uuid, slice: d.slice, index: h.index + 1 };
      } else if (h.kind === "edge") {
        const item = this.selectedItem();
        this.commit(d, cycleEdge(kf, item ? this.classOf(item) : undefined, h.index));
      }
      return true;
    }
    const r = dragTo(kf, shape, d.handle, d.from, at.p, g.columns, g.rows);
    this.commit(d, r);
    if (d.handle.kind === "mid") this.vertex = { uuid: d.uuid, slice: d.slice, index: d.handle.index + 1 };
    return true;
  }

  private commit(d: Drag, r: { geometry: Keyframe } | { error: string }): void {
    if ("error" in r) {
      this.api.refuse(r.error);
      return;
    }
    if (sameGeometry(r.geometry, d.keyframe)) return;
    this.api.setKeyframe(d.uuid, d.slice, r.geometry);
  }

  /** Delete the vertex under the pointer of the selected object (alt+click); true if one. */
  deleteAt(e: { clientX: number; clientY: number }): boolean {
    const item = this.selectedItem();
    const h = item ? this.hit({ e }, item) : null;
    if (!item || !h || h.kind !== "vertex" || !item.keyframe.points) return false;
    this.deleteVertexOf(item, h.index);
    return true;
  }

  private deleteVertexOf(item: SliceItem, index: number): void {
    const r = deleteVertex(item.keyframe, item.object.shape, index);
    if ("error" in r) {
      this.api.refuse(r.error);
      return;
    }
    this.api.setKeyframe(item.object.uuid, this.api.slice(), r.geometry);
    this.vertex = { uuid: item.object.uuid, slice: this.api.slice(), index: Math.max(0, index - 1) };
    this.api.changed();
  }

  /** The chosen vertex, if it still belongs to the selected object on this slice. */
  activeVertex(): number | null {
    const v = this.vertex;
    const item = this.selectedItem();
    if (!v || !item || v.uuid !== item.object.uuid || v.slice !== this.api.slice()) return null;
    const n = item.keyframe.points?.length ?? 0;
    return v.index < n ? v.index : null;
  }

  /** Delete / Backspace with a chosen vertex deletes that vertex. */
  key(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey || (e.key !== "Delete" && e.key !== "Backspace")) return false;
    const index = this.activeVertex();
    const item = this.selectedItem();
    if (index === null || !item) return false;
    this.deleteVertexOf(item, index);
    return true;
  }

  cancel(): void {
    this.drag = null;
  }

  /** CSS cursor for the pointer over the selected object's handle `h`. */
  static cursorFor(h: Handle | null): string {
    if (!h) return "";
    switch (h.kind) {
      case "corner":
        return h.index % 2 === 0 ? "nwse-resize" : "nesw-resize";
      case "side":
        return h.index % 2 === 0 ? "ns-resize" : "ew-resize";
      case "body":
      case "segment":
        return "move";
      case "edge":
        return "pointer";
      default:
        return "grab";
    }
  }

  /** Handles of the selected object, the chosen vertex, and the drag preview (CSS px). */
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    const item = this.selectedItem();
    if (!item) return;
    const color = classColor(this.api.ontology(), item.object.feature);
    const cls = this.classOf(item);
    const d = this.drag;
    const kf = d?.preview && d.uuid === item.object.uuid ? d.preview : item.keyframe;
    if (d?.preview && d.uuid === item.object.uuid) {
      // the shape as it will be: white under class colour, dashed
      const pts = kf.box
        ? [
            [kf.box[0], kf.box[1]],
            [kf.box[2], kf.box[1]],
            [kf.box[2], kf.box[3]],
            [kf.box[0], kf.box[3]],
          ]
        : (kf.points ?? (kf.point ? [kf.point] : []));
      const closed = Boolean(kf.box) || item.object.shape === "polygon";
      ctx.lineJoin = "round";
      ctx.setLineDash([5, 3]);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 3;
      strokeScreen(ctx, m, pts as Point[], closed);
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      strokeScreen(ctx, m, pts as Point[], closed);
      ctx.setLineDash([]);
      if (kf.nodes) {
        drawPrimitiveEdges(ctx, m, [{ object: item.object, keyframe: kf }], this.api, this.controls.on);
        ctx.fillStyle = color;
        dotsScreen(ctx, m, Object.values(kf.nodes), 3.5);
      }
    }
    const placed = handles(kf, item.object.shape, m, { cls, controls: this.controls.on });
    const states = kf.nodes ? edgeStates(kf, cls) : [];
    const active = this.activeVertex();
    for (const { handle: h, at } of placed) {
      ctx.beginPath();
      if (h.kind === "mid" || h.kind === "side") {
        ctx.rect(at[0] - 3, at[1] - 3, 6, 6);
        ctx.fillStyle = "rgba(255,255,255,0.85)";
        ctx.fill();
        ctx.strokeStyle = color;
        ctx.lineWidth = 1;
        ctx.stroke();
      } else if (h.kind === "corner") {
        ctx.rect(at[0] - 4, at[1] - 4, 8, 8);
        ctx.fillStyle = "#fff";
        ctx.fill();
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
      } else if (h.kind === "edge") {
        const state = states[h.index] ?? "visible";
        ctx.arc(at[0], at[1], 5, 0, 2 * Math.PI);
        ctx.fillStyle = state === "visible" ? color : state === "occluded" ? "rgba(255,255,255,0.9)" : "rgba(0,0,0,0.6)";
        ctx.fill();
        ctx.strokeStyle = state === "visible" ? "#fff" : color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
      } else if (h.kind === "vertex" && h.index === active) {
        ctx.arc(at[0], at[1], 6, 0, 2 * Math.PI);
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 2;
        ctx.stroke();
      }
    }
  }

  /** The geometry being shown for the selected object (its preview while dragging). */
  shownGeometry(): Keyframe | null {
    const item = this.selectedItem();
    if (!item) return null;
    return geometryOf(this.drag?.preview && this.drag.uuid === item.object.uuid ? this.drag.preview : item.keyframe);
  }
}
