/**
 * Pure logic behind the classification panels: inclusive slice ranges (merge, subtract, as
 * labels/_check.py does), answers of dynamic classifications on a slice, the range a dynamic
 * answer applies to, the operations that move a range's ends ("edit range"), and the
 * frame-classification key machine (c / v / x / n / m / z). No DOM.
 */
import type { AnswerValue, Classification, DynamicAnswer, FrameClassification, LabelObject } from "../labels";

/** An inclusive slice range [start, end]. */
export type Range = [number, number];

/** Sort inclusive ranges and merge those that overlap or touch (labels/_check.py). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0] || x[1] - y[1])) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) {
      if (b > last[1]) last[1] = b;
    } else out.push([a, b]);
  }
  return out;
}

/** Remove the inclusive range [start, end] from `ranges`, splitting where needed. */
export function subtractRange(ranges: readonly Range[], start: number, end: number): Range[] {
  const out: Range[] = [];
  for (const [a, b] of ranges) {
    if (b < start || a > end) {
      out.push([a, b]);
      continue;
    }
    if (a < start) out.push([a, start - 1]);
    if (b > end) out.push([end + 1, b]);
  }
  return out;
}

/** The answer of dynamic classification `cid` of an object on slice `k` (null: none). */
export function answerOn(dynamic: readonly DynamicAnswer[] | undefined, cid: string, k: number): AnswerValue {
  for (const d of dynamic ?? []) {
    if (d.classification === cid && d.range[0] <= k && k <= d.range[1]) return d.answer;
  }
  return null;
}

/** The answers of a frame classification instance set on slice `k` (null: none). */
export function frameOn(frames: readonly FrameClassification[], cid: string, plane: string, k: number): FrameClassification | null {
  for (const f of frames) {
    if (f.classification !== cid || f.plane !== plane) continue;
    if (f.ranges.some(([a, b]) => a <= k && k <= b)) return f;
  }
  return null;
}

/** First and last keyframe slice of an object (null without keyframes). */
export function trackExtent(object: LabelObject): Range | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const key of Object.keys(object.keyframes)) {
    const k = Number(key);
    if (!Number.isInteger(k)) continue;
    lo = Math.min(lo, k);
    hi = Math.max(hi, k);
  }
  return Number.isFinite(lo) ? [lo, hi] : null;
}

/** How the slices a dynamic answer applies to are chosen. */
export type RangeMode = "slice" | "toEnd" | "custom";

/**
 * Slices a dynamic answer given on slice `k` applies to: `slice` just k; `toEnd` k to the end of
 * the object's track (k alone past it); `custom` the edited [start, end] (ordered, clamped).
 */
export function dynamicRange(mode: RangeMode, k: number, n: number, object: LabelObject, custom: Range): Range {
  const clamp = (v: number): number => Math.max(0, Math.min(Math.max(0, n - 1), Math.round(v)));
  if (mode === "slice") return [clamp(k), clamp(k)];
  if (mode === "toEnd") {
    const ext = trackExtent(object);
    const end = ext && ext[1] > k ? ext[1] : k;
    return [clamp(k), clamp(end)];
  }
  const a = clamp(custom[0]);
  const b = clamp(custom[1]);
  return a <= b ? [a, b] : [b, a];
}

/** A checklist answer with `option` toggled (null when nothing is left). */
export function toggleOption(answer: AnswerValue, option: string, order: readonly string[]): AnswerValue {
  const have = new Set(Array.isArray(answer) ? answer : []);
  if (have.has(option)) have.delete(option);
  else have.add(option);
  const out = order.filter((o) => have.has(o));
  return out.length ? out : null;
}

/** Whether `answer` chooses `option` (so its nested classifications apply). */
export function selects(answer: AnswerValue | undefined, option: string): boolean {
  return Array.isArray(answer) ? answer.includes(option) : answer === option;
}

/** Name(s) of the options an answer chooses, or the text itself. */
export function answerText(c: Classification, answer: AnswerValue | undefined): string {
  if (answer === null || answer === undefined) return "";
  if (c.type === "text") return String(answer);
  const ids = Array.isArray(answer) ? answer : [answer];
  return ids.map((id) => c.options?.find((o) => o.id === id)?.name ?? id).join(", ");
}

/** A stable key of an answer (to group ranges by answer and pick colours). */
export function answerKey(answer: AnswerValue): string {
  return JSON.stringify(answer);
}

/** Ranges of one dynamic classification of an object, each with its answer, by start. */
export function dynamicSegments(dynamic: readonly DynamicAnswer[] | undefined, cid: string): { answer: AnswerValue; range: Range }[] {
  return (dynamic ?? [])
    .filter((d) => d.classification === cid)
    .map((d) => ({ answer: d.answer, range: [d.range[0], d.range[1]] as Range }))
    .sort((a, b) => a.range[0] - b.range[0]);
}

// ---- "edit range": dragging an end of a range on the bar ------------------------------------

/** Slice under `x` px of a bar `width` px wide for `n` slices (as the slice bar maps them). */
export function sliceAt(x: number, width: number, n: number): number {
  if (n <= 1 || width <= 0) return 0;
  return Math.min(n - 1, Math.max(0, Math.floor((x / width) * n)));
}

/** Left edge and width of a range on a bar, in percent of its width. */
export function rangeBox(range: Range, n: number): { left: number; width: number } {
  if (n <= 0) return { left: 0, width: 0 };
  return { left: (range[0] / n) * 100, width: ((range[1] - range[0] + 1) / n) * 100 };
}

/** The range after dragging its `end` ("start" or "end") to slice `k`: never inverted. */
export function dragRange(range: Range, end: "start" | "end", k: number, n: number): Range {
  const v = Math.max(0, Math.min(n - 1, k));
  if (end === "start") return [Math.min(v, range[1]), range[1]];
  return [range[0], Math.max(v, range[0])];
}

/** Slices of `before` no longer in `after` (to be cleared), as ranges. */
export function removedParts(before: Range, after: Range): Range[] {
  return subtractRange([before], after[0], after[1]);
}

/** The `set_dynamic` operations that move one answered range from `before` to `after`. */
export function dynamicEditOps(uuid: string, cid: string, answer: AnswerValue, before: Range, after: Range): Record<string, unknown>[] {
  const ops: Record<string, unknown>[] = removedParts(before, after).map(([a, b]) => ({
    op: "set_dynamic",
    uuid,
    classification: cid,
    answer: null,
    start: a,
    end: b,
  }));
  ops.push({ op: "set_dynamic", uuid, classification: cid, answer, start: after[0], end: after[1] });
  return ops;
}

/** The `set_frame_classification` operations that move a range of an instance. */
export function frameEditOps(f: FrameClassification, before: Range, after: Range): Record<string, unknown>[] {
  const base = { op: "set_frame_classification", classification: f.classification, plane: f.plane };
  const ops: Record<string, unknown>[] = removedParts(before, after).map(([a, b]) => ({ ...base, answers: null, start: a, end: b }));
  ops.push({ ...base, answers: f.answers, start: after[0], end: after[1] });
  return ops;
}

/** One operation, or a `batch` of several (undone as one). */
export function asOne(ops: Record<string, unknown>[], label: string): Record<string, unknown> | null {
  if (ops.length === 0) return null;
  if (ops.length === 1) return ops[0] as Record<string, unknown>;
  return { op: "batch", ops, label };
}

// ---- frame classifications: the c / v / x / n / m / z keys ---------------------------------

/**
 * The ranges being chosen for a frame classification: `c` sets the start, `v` the end, `x`
 * both to the current slice; `n` keeps the range and starts another; `m` saves them all, `z`
 * is `x` then `m`. A start without an end (or an end without a start) stands for the range
 * between it and the current slice.
 */
export class FrameDraft {
  start: number | null = null;
  end: number | null = null;
  ranges: Range[] = [];

  /** Nothing chosen yet (no end set, no range kept). */
  empty(): boolean {
    return this.start === null && this.end === null && this.ranges.length === 0;
  }
  /** The range being chosen (null when neither end is set). */
  current(k: number): Range | null {
    if (this.start === null && this.end === null) return null;
    const a = this.start ?? k;
    const b = this.end ?? k;
    return a <= b ? [a, b] : [b, a];
  }
  setStart(k: number): void {
    this.start = k;
  }
  setEnd(k: number): void {
    this.end = k;
  }
  thisFrame(k: number): void {
    this.start = k;
    this.end = k;
  }
  /** Keep the current range and begin another; false when there is none. */
  addRange(k: number): boolean {
    const r = this.current(k);
    if (!r) return false;
    this.ranges = mergeRanges([...this.ranges, r]);
    this.start = null;
    this.end = null;
    return true;
  }
  /** All ranges to save (the current one included), merged. */
  all(k: number): Range[] {
    const r = this.current(k);
    return mergeRanges(r ? [...this.ranges, r] : this.ranges);
  }
  clear(): void {
    this.start = null;
    this.end = null;
    this.ranges = [];
  }
  removeRange(i: number): void {
    this.ranges = this.ranges.filter((_, j) => j !== i);
  }
  /** A key of the state (to redraw when it changes). */
  key(): string {
    return `${this.start}|${this.end}|${JSON.stringify(this.ranges)}`;
  }
}

/** The `set_frame_classification` operations saving `answers` on `ranges` of `plane`. */
export function frameSaveOps(cid: string, answers: Record<string, AnswerValue>, ranges: readonly Range[], plane: string): Record<string, unknown>[] {
  return ranges.map(([a, b]) => ({ op: "set_frame_classification", classification: cid, answers, start: a, end: b, plane }));
}

/**
 * Answers of a frame classification draft reduced to what is shown: nested answers whose
 * parent option is no longer chosen are dropped; empty answers are left out.
 */
export function pruneAnswers(root: Classification, answers: Record<string, AnswerValue>): Record<string, AnswerValue> {
  const out: Record<string, AnswerValue> = {};
  const visit = (c: Classification): void => {
    const a = answers[c.id];
    if (a === null || a === undefined || (Array.isArray(a) && a.length === 0) || a === "") return;
    out[c.id] = a;
    for (const o of c.options ?? []) if (selects(a, o.id)) for (const sub of o.classifications ?? []) visit(sub);
  };
  visit(root);
  return out;
}

/** Every classification of a tree (the root and the nested ones), depth first. */
export function walkClassifications(list: readonly Classification[]): Classification[] {
  const out: Classification[] = [];
  const visit = (c: Classification): void => {
    out.push(c);
    for (const o of c.options ?? []) for (const sub of o.classifications ?? []) visit(sub);
  };
  for (const c of list) visit(c);
  return out;
}

/** Palette for answers on the range bars (by option position). */
const ANSWER_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/** Colour of an answer on the range bars: by the position of its (first) option. */
export function answerColour(c: Classification, answer: AnswerValue): string {
  if (c.type === "text" || answer === null) return "#7f7f7f";
  const first = Array.isArray(answer) ? answer[0] : answer;
  const i = c.options?.findIndex((o) => o.id === first) ?? -1;
  return ANSWER_COLOURS[(i >= 0 ? i : 0) % ANSWER_COLOURS.length] as string;
}
