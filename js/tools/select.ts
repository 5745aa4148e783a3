/**
 * Select tool: a click picks the object under the pointer on the current slice (the smallest
 * when nested), or clears the selection.
 */
import { pickAt } from "./box";
import type { EditorApi, PointerAt, ToolHandler } from "./types";

export class SelectTool implements ToolHandler {
  readonly id = "select" as const;
  readonly shapes = [] as const;
  readonly button = { icon: "pointer" as const, title: "Select: click an object (Delete / Backspace deletes it)" };

  constructor(protected readonly api: EditorApi) {}

  active(): boolean {
    return false;
  }
  down(at: PointerAt): void {
    this.api.select(pickAt(this.api, at.p));
  }
  move(_at: PointerAt): void {}
  up(_at: PointerAt): void {}
  cancel(): void {}
}
