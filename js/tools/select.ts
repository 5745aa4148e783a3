/**
 * Select tool: a click picks the object under the pointer on the current slice (the smallest
 * when nested), or clears the selection. The selected object is edited in place (js/tools/
 * editing.ts): drag its vertices, box corners and sides, point or primitive nodes; drag a
 * midpoint handle or click an edge to insert a vertex; alt+click a vertex (or Delete while a
 * vertex is chosen) to delete it; drag the inside to move the whole object. Pressing on an
 * object that is not selected selects it, and a drag moves the vertex, node or box corner
 * under the pointer, else the whole object, at once.
 */
import type { Matrix } from "../render/transform";
import { pickAt } from "./box";
import { Editing } from "./editing";
import { showSelectedLength } from "./polyline";
import type { EditorApi, PointerAt, ToolHandler } from "./types";

export class SelectTool implements ToolHandler {
  readonly id = "select" as const;
  readonly shapes = [] as const;
  readonly button = {
    icon: "pointer" as const,
    title:
      "Select and edit: click an object; drag its handles, inside or vertices; click an edge to add a vertex; alt+click a vertex (or Delete) removes it; Delete / Backspace deletes the object",
  };
  readonly editing: Editing;
  private hover = "";
  /** The pointer is over a crosshair line a press would move (the widget says, see
   * `LabelEditor.lineUnder`): the cursor says so. */
  crosshairHover = false;

  constructor(protected readonly api: EditorApi) {
    this.editing = new Editing(api);
    // alt+click deletes a vertex: the widget does not pass modified presses to the tools
    api.viewport.addEventListener(
      "pointerdown",
      (e: PointerEvent) => {
        if (e.button !== 0 || !e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
        if (api.ui.tool !== this.id || api.readOnly()) return;
        if (this.editing.deleteAt(e)) e.preventDefault();
      },
      { signal: api.signal },
    );
  }

  active(): boolean {
    return this.editing.drag !== null;
  }
  down(at: PointerAt): void {
    if (this.api.readOnly()) {
      this.api.select(pickAt(this.api, at.p));
      return;
    }
    if (this.editing.begin(at)) return;
    const uuid = pickAt(this.api, at.p);
    this.api.select(uuid);
    this.editing.vertex = null;
    const item = uuid ? this.api.items(this.api.slice()).find((it) => it.object.uuid === uuid) : undefined;
    if (item) this.editing.beginPicked(at, item);
  }
  move(at: PointerAt): void {
    if (this.editing.move(at)) return;
    // hover: the cursor tells what a press would grab
    const h = this.api.readOnly() ? null : this.editing.hit(at);
    const cursor = Editing.cursorFor(h);
    if (cursor !== this.hover) {
      this.hover = cursor;
      this.api.changed();
    }
  }
  up(at: PointerAt): void {
    this.editing.end(at);
  }
  key(e: KeyboardEvent): boolean {
    return this.editing.key(e);
  }
  cancel(): void {
    this.editing.cancel();
  }
  draw(ctx: CanvasRenderingContext2D, m: Matrix): void {
    this.editing.draw(ctx, m);
    showSelectedLength(this.api, m, this.editing.shownGeometry()?.points);
  }
  cursor(): string {
    if (this.editing.drag) return this.editing.drag.handle.kind === "body" ? "move" : "grabbing";
    return this.hover || (this.crosshairHover ? "move" : "");
  }

  /** Whether a press at `at` takes hold of something: a handle of the selected object or an
   * object under the pointer (a press elsewhere only clears the selection). */
  grabs(at: PointerAt): boolean {
    if (!this.api.readOnly() && this.editing.hit(at) !== null) return true;
    return pickAt(this.api, at.p) !== null;
  }
}
