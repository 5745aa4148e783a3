/**
 * DOM pieces shared by the classification panels: a question (radio / checklist / text, with
 * its nested questions under the chosen options) and a thin range bar aligned with the slice
 * bar whose ranges can be dragged by their ends ("edit range"). Text goes in via textContent.
 */
import type { AnswerValue, Classification, ClassificationOption } from "../labels";
import { capturePointer, el } from "./dom";
import { type Range, dragRange, rangeBox, selects, sliceAt } from "./ranges";

/**
 * A section that takes its place in `parent` only while shown, so a parent with nothing shown
 * stays `:empty` (and hidden by CSS); a comment marks its place among the other panels'.
 */
export class Slot<T extends HTMLElement> {
  private readonly anchor: Comment;
  constructor(
    parent: HTMLElement,
    readonly node: T,
  ) {
    this.anchor = document.createComment(node.className);
    parent.append(this.anchor);
  }
  show(on: boolean): void {
    if (on && !this.node.isConnected) this.anchor.after(this.node);
    else if (!on && this.node.isConnected) this.node.remove();
  }
}

/** What a question shows and what happens when it is answered. */
export interface QuestionHost {
  /** the answer shown for classification `cid` (null: none) */
  answer(cid: string): AnswerValue;
  /** an option button was pressed (radio / checklist) */
  option(c: Classification, o: ClassificationOption): void;
  /** a text answer was committed (Enter or leaving the field); "" clears */
  text(c: Classification, value: string): void;
  /** shown as a clear button when the question is answered (absent: no button) */
  clear?(c: Classification): void;
  /** prefix of the data-testid of the buttons and fields */
  testid: string;
  signal: AbortSignal;
  disabled: boolean;
  /** a small badge after the question's name (e.g. "dynamic") */
  badge?(c: Classification): string;
}

/** "slice 15" or "slices 15–18" (1-based, as the slice bar counts) for a 0-based range. */
export function sliceSpan(r: readonly [number, number]): string {
  return r[0] === r[1] ? `slice ${r[0] + 1}` : `slices ${r[0] + 1}–${r[1] + 1}`;
}

/** Render question `c` (and its nested questions under chosen options) into `parent`. */
export function renderQuestion(parent: HTMLElement, c: Classification, host: QuestionHost, depth = 0): void {
  const on = { signal: host.signal };
  const q = el("div", "daw-cls-q", parent);
  q.dataset.testid = `${host.testid}-q-${c.id}`;
  if (depth > 0) q.classList.add("daw-cls-nested");
  const head = el("div", "daw-cls-qhead", q);
  el("span", "daw-cls-qname", head, c.name);
  const badge = host.badge?.(c);
  if (badge) el("span", "daw-cls-badge", head, badge);
  const answer = host.answer(c.id);
  if (c.required) {
    // the ontology's `required` (QA: declared, never shown); stronger while unanswered
    const mark = el("span", "daw-cls-required", head, "required");
    mark.dataset.testid = `${host.testid}-required-${c.id}`;
    mark.dataset.answered = String(answer !== null);
    mark.title = answer === null ? `${c.name} is required and not answered yet` : `${c.name} is required`;
  }
  if (host.clear && answer !== null && !host.disabled) {
    const x = el("button", "daw-btn daw-cls-clear", head, "×");
    x.type = "button";
    x.title = `Clear ${c.name}`;
    x.dataset.testid = `${host.testid}-clear-${c.id}`;
    x.addEventListener("click", () => host.clear?.(c), on);
  }
  if (c.type === "text") {
    const input = el("input", "daw-input daw-cls-text", q);
    input.type = "text";
    input.value = typeof answer === "string" ? answer : "";
    input.placeholder = "Type, then Enter";
    input.disabled = host.disabled;
    input.dataset.testid = `${host.testid}-text-${c.id}`;
    input.setAttribute("aria-label", c.name);
    let committed = input.value;
    const commit = (): void => {
      if (input.value === committed) return;
      committed = input.value;
      host.text(c, input.value.trim());
    };
    input.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          commit();
        }
      },
      on,
    );
    input.addEventListener("blur", commit, on);
    return;
  }
  const row = el("div", "daw-cls-options", q);
  row.setAttribute("role", c.type === "radio" ? "radiogroup" : "group");
  row.setAttribute("aria-label", c.name);
  for (const o of c.options ?? []) {
    const b = el("button", "daw-btn daw-cls-option", row);
    b.type = "button";
    b.disabled = host.disabled;
    b.dataset.testid = `${host.testid}-opt-${c.id}-${o.id}`;
    b.setAttribute("aria-pressed", selects(answer, o.id) ? "true" : "false");
    if (c.type === "checklist") b.classList.add("daw-cls-check");
    el("span", "daw-btn-label", b, o.name);
    if (o.hotkey) el("span", "daw-hotkey", b, o.hotkey);
    b.title = `${c.name}: ${o.name}${o.hotkey ? ` · key ${o.hotkey}` : ""}`;
    b.addEventListener("click", () => host.option(c, o), on);
  }
  for (const o of c.options ?? []) {
    if (!selects(answer, o.id)) continue;
    for (const sub of o.classifications ?? []) renderQuestion(q, sub, host, depth + 1);
  }
}

/** The options with a hotkey among the questions shown (nested ones under chosen options). */
export function shownHotkeys(list: readonly Classification[], answer: (cid: string) => AnswerValue): { c: Classification; o: ClassificationOption }[] {
  const out: { c: Classification; o: ClassificationOption }[] = [];
  const visit = (c: Classification): void => {
    const a = answer(c.id);
    for (const o of c.options ?? []) {
      if (o.hotkey) out.push({ c, o });
      if (selects(a, o.id)) for (const sub of o.classifications ?? []) visit(sub);
    }
  };
  for (const c of list) visit(c);
  return out;
}

/** A range shown on a bar. */
export interface Segment {
  range: Range;
  colour: string;
  title: string;
  /** the range was dragged to `after` (absent: not editable) */
  edit?(after: Range): void;
  /** a draft range (shown outlined, not editable) */
  draft?: boolean;
}

/**
 * A thin bar under the slice bar (same width, slices mapped linearly) with ranges; each
 * editable range has a handle at both ends to drag.
 */
export class RangeBar {
  readonly node: HTMLDivElement;
  private readonly label: HTMLSpanElement;
  private key = "";
  private n = 0;
  private dragging: { seg: Segment; end: "start" | "end"; node: HTMLElement; after: Range } | null = null;

  constructor(
    parent: HTMLElement,
    private readonly signal: AbortSignal,
    name: string,
    testid: string,
    private readonly jump: (k: number) => void,
  ) {
    this.node = el("div", "daw-cls-bar", parent);
    this.node.dataset.testid = testid;
    this.label = el("span", "daw-cls-bar-label", this.node, name);
    const on = { signal };
    this.node.addEventListener("pointermove", (e) => this.move(e), on);
    this.node.addEventListener("pointerup", (e) => this.up(e), on);
    this.node.addEventListener("pointercancel", () => this.cancel(), on);
  }

  setName(name: string): void {
    if (this.label.textContent !== name) this.label.textContent = name;
  }

  private sliceOf(e: PointerEvent): number {
    const r = this.node.getBoundingClientRect();
    return sliceAt(e.clientX - r.left, r.width, this.n);
  }

  private move(e: PointerEvent): void {
    const d = this.dragging;
    if (!d) return;
    d.after = dragRange(d.seg.range, d.end, this.sliceOf(e), this.n);
    place(d.node, d.after, this.n);
    d.node.dataset.start = String(d.after[0]);
    d.node.dataset.end = String(d.after[1]);
  }

  private up(e: PointerEvent): void {
    const d = this.dragging;
    if (!d) return;
    this.move(e);
    this.dragging = null;
    this.key = "";
    if (d.after[0] !== d.seg.range[0] || d.after[1] !== d.seg.range[1]) d.seg.edit?.(d.after);
  }

  private cancel(): void {
    this.dragging = null;
    this.key = "";
  }

  /** Show `segments` for `n` slices (rebuilt only when `key` changes, never mid-drag). */
  set(segments: readonly Segment[], n: number, key: string): void {
    if (this.dragging || key === this.key) return;
    this.key = key;
    this.n = n;
    for (const child of [...this.node.children]) if (child !== this.label) child.remove();
    const on = { signal: this.signal };
    segments.forEach((seg, i) => {
      const s = el("div", "daw-cls-seg", this.node);
      s.dataset.testid = `${this.node.dataset.testid}-seg`;
      s.dataset.index = String(i);
      s.dataset.start = String(seg.range[0]);
      s.dataset.end = String(seg.range[1]);
      s.title = seg.title;
      s.style.setProperty("--daw-seg", seg.colour);
      place(s, seg.range, n);
      if (seg.draft) {
        s.classList.add("daw-cls-seg-draft");
        return;
      }
      s.addEventListener("click", () => this.jump(seg.range[0]), on);
      if (!seg.edit) return;
      for (const end of ["start", "end"] as const) {
        const h = el("div", `daw-cls-handle daw-cls-handle-${end}`, s);
        h.dataset.testid = `${this.node.dataset.testid}-${end}`;
        h.title = `Drag to move the ${end} of this range`;
        h.addEventListener(
          "pointerdown",
          (e) => {
            if (e.button !== 0) return;
            e.preventDefault();
            e.stopPropagation();
            capturePointer(this.node, e.pointerId);
            this.dragging = { seg, end, node: s, after: seg.range };
          },
          on,
        );
        h.addEventListener("click", (e) => e.stopPropagation(), on);
      }
    });
  }
}

function place(node: HTMLElement, range: Range, n: number): void {
  const box = rangeBox(range, n);
  node.style.left = `${box.left}%`;
  node.style.width = `${box.width}%`;
}
