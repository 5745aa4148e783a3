/**
 * The keyboard shortcuts card (`?`, or the keyboard button): every key the widget answers,
 * grouped, with the ontology's own class hotkeys. Keys act only while the widget has the focus
 * and never reach the notebook. The same keys are documented in docs/annotating.md.
 */
import "./shortcuts.css";
import { button, el } from "./dom";

export type ShortcutRow = [keys: string, action: string];
export interface ShortcutGroup {
  title: string;
  rows: ShortcutRow[];
}

/** The groups of keys; `classes`: the ontology's object classes with their hotkeys, and
 * whether it has a bitmask class (then f / h / g are the mask tools, not "fit"). */
export function shortcutGroups(classes: { name: string; hotkey: string }[], masks: boolean): ShortcutGroup[] {
  const groups: ShortcutGroup[] = [
    {
      title: "Slices",
      rows: [
        ["← → ↑ ↓, wheel", "previous / next slice (by the frameskip)"],
        ["PageUp / PageDown", "10 steps"],
        ["Home / End", "first / last slice"],
        ["P", "cine: play / stop"],
      ],
    },
    {
      title: "View",
      rows: [
        ["Shift+↑ / Shift+↓, Shift+wheel", "zoom"],
        ["Shift+drag, middle-drag", "pan"],
        ["right-drag, Alt+W then drag", "window: up/down level, left/right width"],
        ...(masks ? [] : ([["F", "fit the image"]] as ShortcutRow[])),
        ["I", "data overlay"],
        ["Alt+A / Alt+C / Alt+S", "axial / coronal / sagittal"],
        ["Alt+X", "crosshairs"],
        ["Alt+O", "orthogonal views"],
        ["Escape", "leave window or crosshair mode, the maximised view, a drawing, the selection"],
      ],
    },
  ];
  if (classes.length > 0) {
    groups.push({
      title: "Labels",
      rows: [
        ...classes.filter((c) => c.hotkey).map((c): ShortcutRow => [c.hotkey, `class ${c.name} (and its tool)`]),
        ...(masks
          ? ([
              ["F / H / G", "brush / eraser / threshold brush"],
              ["[ / ]", "smaller / larger brush"],
              ["Enter / Escape", "apply / discard the pending strokes"],
            ] as ShortcutRow[])
          : []),
        ["L", "measure (again: distance → angle → area)"],
        ["D", "free-hand polygon (polygon tool)"],
        ["Q, W, E, …", "continue an object on this slice"],
        ["Delete / Backspace", "delete the selected object here (Shift: on every slice)"],
        [", / .", "previous / next prediction to review"],
        ["A", "accept the selected prediction, then the next (Shift+Delete rejects it)"],
        ["Ctrl+C / Ctrl+V", "copy / paste the selected shape to this slice"],
        ["Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"],
      ],
    });
  }
  groups.push({ title: "Help", rows: [["?", "this card"]] });
  return groups;
}

/** The card over the viewport; `show(groups)` fills and shows it, `hide()` hides it. */
export class ShortcutsCard {
  readonly node: HTMLElement;
  private readonly body: HTMLElement;

  constructor(parent: HTMLElement, signal: AbortSignal, onClose: () => void) {
    this.node = el("div", "daw-shortcuts", parent);
    this.node.dataset.testid = "daw-shortcuts";
    this.node.setAttribute("role", "dialog");
    this.node.setAttribute("aria-label", "Keyboard shortcuts");
    this.node.hidden = true;
    const head = el("div", "daw-shortcuts-head", this.node);
    el("span", "daw-shortcuts-title", head, "Keyboard shortcuts (with the widget focused)");
    const close = button(head, { icon: "close", title: "Close (Escape or ?)", testid: "daw-shortcuts-close" });
    close.addEventListener("click", onClose, { signal });
    this.body = el("div", "daw-shortcuts-body", this.node);
  }

  get shown(): boolean {
    return !this.node.hidden;
  }

  show(groups: ShortcutGroup[]): void {
    this.body.replaceChildren();
    for (const g of groups) {
      const section = el("section", "daw-shortcuts-group", this.body);
      el("h4", "", section, g.title);
      const table = el("table", "", section);
      for (const [keys, action] of g.rows) {
        const tr = el("tr", "", table);
        el("kbd", "", el("td", "", tr), keys); // text, never HTML (class names are user text)
        el("td", "", tr, action);
      }
    }
    this.node.hidden = false;
  }

  hide(): void {
    this.node.hidden = true;
  }
}
