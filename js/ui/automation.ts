/**
 * The "Automated labeling" drawer beside the viewport: interpolation of tracks (which objects:
 * all / the selected one / a checklist; the slice range, by default the span of their manual
 * keyframes) sent as ONE `interpolate` request, the same as `w.interpolate(objects=..., start=...,
 * end=...)`; and "Auto-segment", which tightens the selected polygon on the current slice
 * (`autosegment`). Python answers with edit_ack or an error, shown in the drawer.
 */
import { objectPlane } from "../labels";
import "./automation.css";
import type { LabelObject } from "../labels";
import type { EditorApi, Panel, PanelFactory } from "../tools/types";
import { el } from "./dom";

export type Which = "all" | "selected" | "list";

/** Slices (0-based) of an object's manual keyframes, sorted. */
export function manualSlices(o: LabelObject): number[] {
  return Object.entries(o.keyframes)
    .filter(([, kf]) => kf && kf.manual !== false)
    .map(([k]) => Number(k))
    .filter((k) => Number.isInteger(k))
    .sort((a, b) => a - b);
}

/** Objects that can be interpolated: at least two manual keyframes. */
export function interpolable(objects: readonly LabelObject[]): LabelObject[] {
  return objects.filter((o) => manualSlices(o).length >= 2);
}

/** The default range: from the first to the last manual keyframe of the objects (0-based). */
export function defaultSpan(objects: readonly LabelObject[]): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const o of objects) {
    const s = manualSlices(o);
    if (s.length === 0) continue;
    lo = Math.min(lo, s[0] as number);
    hi = Math.max(hi, s[s.length - 1] as number);
  }
  return Number.isFinite(lo) ? [lo, hi] : null;
}

/**
 * The `interpolate` message body for the choice made, or why it cannot be sent. `start` /
 * `end` are the 1-based slice numbers typed (empty: open), `n` the number of slices.
 */
export function interpolateRequest(
  which: Which,
  objects: readonly LabelObject[],
  selected: string | null,
  checked: ReadonlySet<string>,
  start: string,
  end: string,
  n: number,
): { msg: Record<string, unknown>; uuids: string[] } | { error: string } {
  let uuids: string[] | null;
  const able = interpolable(objects);
  if (which === "all") {
    if (able.length === 0) return { error: "no object has two manual keyframes to interpolate between" };
    uuids = null;
  } else if (which === "selected") {
    const o = objects.find((x) => x.uuid === selected);
    if (!o) return { error: "select an object first" };
    if (manualSlices(o).length < 2) return { error: `object ${o.object_id} needs at least two manual keyframes` };
    uuids = [o.uuid];
  } else {
    uuids = able.filter((o) => checked.has(o.uuid)).map((o) => o.uuid);
    if (uuids.length === 0) return { error: "tick at least one object" };
  }
  const parse = (text: string, what: string): number | null | { error: string } => {
    const t = text.trim();
    if (t === "") return null;
    const v = Number(t);
    if (!Number.isInteger(v) || v < 1 || v > Math.max(1, n)) return { error: `${what} must be a slice number from 1 to ${n}, got "${t}"` };
    return v - 1;
  };
  const a = parse(start, "start");
  const b = parse(end, "end");
  if (a !== null && typeof a === "object") return a;
  if (b !== null && typeof b === "object") return b;
  if (a !== null && b !== null && a > b) return { error: `start (${a + 1}) is after end (${b + 1})` };
  const msg: Record<string, unknown> = { type: "interpolate", uuids, start: a, end: b };
  return { msg, uuids: uuids ?? able.map((o) => o.uuid) };
}

/** Count the interpolated (derived) keyframes of `uuids`. */
export function derivedCount(objects: readonly LabelObject[], uuids: readonly string[]): number {
  const want = new Set(uuids);
  let n = 0;
  for (const o of objects) if (want.has(o.uuid)) for (const kf of Object.values(o.keyframes)) if (kf && kf.manual === false) n += 1;
  return n;
}

/** What an interpolation run says once done: how many of the objects it ran on have
 * interpolated keyframes now (QA: it said all of them, as "2 objects now have 8", when one
 * had none), and how many such keyframes they have, before and after. */
export function interpolationSummary(objects: readonly LabelObject[], uuids: readonly string[], before: number): string {
  const after = derivedCount(objects, uuids);
  const want = new Set(uuids);
  const withSome = objects.filter((o) => want.has(o.uuid) && derivedCount([o], [o.uuid]) > 0).length;
  const keyframes = `${after} interpolated keyframe${after === 1 ? "" : "s"} (${before} before)`;
  if (uuids.length === 1) return `Done: 1 object now has ${keyframes}`;
  const which = withSome === uuids.length ? `${uuids.length} objects` : `${withSome} of ${uuids.length} objects`;
  return `Done: ${which} now ${withSome === 1 ? "has" : "have"} ${keyframes}`;
}

/** Scroll `container` (not its ancestors) so that as much of `child` as fits is in view,
 * its top first. */
export function revealIn(container: HTMLElement, child: HTMLElement): void {
  const c = container.getBoundingClientRect();
  const r = child.getBoundingClientRect();
  if (r.bottom > c.bottom) container.scrollTop += Math.min(r.bottom - c.bottom, r.top - c.top);
  else if (r.top < c.top) container.scrollTop -= c.top - r.top;
}

class AutomationPanel implements Panel {
  private readonly box: HTMLDetailsElement;
  private readonly which: HTMLSelectElement;
  private readonly list: HTMLElement;
  private readonly start: HTMLInputElement;
  private readonly end: HTMLInputElement;
  private readonly run: HTMLButtonElement;
  private readonly autoseg: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly checked = new Set<string>();
  private listKey = "";
  private spanKey = "";
  private busy = false;

  constructor(private readonly api: EditorApi) {
    const on = { signal: api.signal };
    const box = el("details", "daw-auto", api.side);
    box.dataset.testid = "daw-automation";
    this.box = box;
    const summary = el("summary", "daw-auto-title", box, "Automated labeling");
    summary.dataset.testid = "daw-automation-toggle";
    box.addEventListener(
      "toggle",
      () => {
        api.changed();
        // an opened drawer below the fold of the side column is scrolled into it (QA: it
        // opened out of sight); only the side column scrolls, not the notebook
        if (box.open) requestAnimationFrame(() => revealIn(api.side, box));
      },
      on,
    );

    const methodRow = el("label", "daw-auto-row", box);
    el("span", "daw-auto-label", methodRow, "Method");
    const method = el("select", "daw-auto-input", methodRow);
    method.dataset.testid = "daw-auto-method";
    const opt = el("option", "", method, "Interpolation");
    opt.value = "interpolate";

    const whichRow = el("label", "daw-auto-row", box);
    el("span", "daw-auto-label", whichRow, "Objects");
    this.which = el("select", "daw-auto-input", whichRow);
    this.which.dataset.testid = "daw-auto-which";
    for (const [v, t] of [
      ["all", "All tracks"],
      ["selected", "Selected object"],
      ["list", "Choose…"],
    ] as const) {
      const o = el("option", "", this.which, t);
      o.value = v;
    }
    this.which.addEventListener("change", () => this.refresh(true), on);
    this.list = el("div", "daw-auto-list", box);
    this.list.dataset.testid = "daw-auto-list";

    const rangeRow = el("div", "daw-auto-row", box);
    el("span", "daw-auto-label", rangeRow, "Slices");
    this.start = this.sliceInput(rangeRow, "daw-auto-start", "First slice (empty: from the first keyframe)");
    el("span", "", rangeRow, "–");
    this.end = this.sliceInput(rangeRow, "daw-auto-end", "Last slice (empty: to the last keyframe)");

    const actions = el("div", "daw-auto-actions", box);
    this.run = el("button", "daw-btn", actions, "Run");
    this.run.type = "button";
    this.run.dataset.testid = "daw-auto-run";
    this.run.title = "Interpolate the chosen tracks over the slice range (one undoable edit)";
    this.run.addEventListener("click", () => this.interpolate(), on);
    this.autoseg = el("button", "daw-btn", actions, "Auto-segment");
    this.autoseg.type = "button";
    this.autoseg.dataset.testid = "daw-auto-segment";
    this.autoseg.title = "Tighten the selected polygon to the edges of what it encloses, on this slice";
    this.autoseg.addEventListener("click", () => this.autosegment(), on);
    this.status = el("div", "daw-auto-status", box);
    this.status.dataset.testid = "daw-auto-status";
    this.status.setAttribute("role", "status");
  }

  private sliceInput(parent: HTMLElement, testid: string, title: string): HTMLInputElement {
    const i = el("input", "daw-auto-num", parent);
    i.type = "number";
    i.min = "1";
    i.step = "1";
    i.title = title;
    i.dataset.testid = testid;
    return i;
  }

  private chosen(): LabelObject[] {
    const objects = this.api.labels().objects.filter((o) => objectPlane(o) === this.api.plane());
    const which = this.which.value as Which;
    if (which === "selected") return objects.filter((o) => o.uuid === this.api.selected());
    if (which === "list") return objects.filter((o) => this.checked.has(o.uuid));
    return interpolable(objects);
  }

  /** Checklist and default range, rebuilt only when what they show changes. */
  private refresh(force = false): void {
    const objects = interpolable(this.api.labels().objects.filter((o) => objectPlane(o) === this.api.plane()));
    const onto = this.api.ontology();
    const showList = this.which.value === "list";
    const listKey = JSON.stringify([showList, objects.map((o) => [o.uuid, o.object_id, o.feature])]);
    if (force || listKey !== this.listKey) {
      this.listKey = listKey;
      this.list.replaceChildren();
      this.list.hidden = !showList;
      for (const u of [...this.checked]) if (!objects.some((o) => o.uuid === u)) this.checked.delete(u);
      if (showList) {
        if (objects.length === 0) el("div", "daw-auto-empty", this.list, "No object has two manual keyframes");
        for (const o of objects) {
          const row = el("label", "daw-auto-item", this.list);
          const cb = el("input", "", row);
          cb.type = "checkbox";
          cb.checked = this.checked.has(o.uuid);
          cb.dataset.testid = `daw-auto-obj-${o.uuid}`;
          cb.addEventListener(
            "change",
            () => {
              if (cb.checked) this.checked.add(o.uuid);
              else this.checked.delete(o.uuid);
              this.refresh(true);
            },
            { signal: this.api.signal },
          );
          const name = onto?.objects.find((c) => c.id === o.feature)?.name ?? o.feature;
          el("span", "", row, `${name} #${o.object_id} (${manualSlices(o).length} keyframes)`);
        }
      }
    }
    const chosen = this.chosen();
    const span = defaultSpan(chosen);
    const spanKey = JSON.stringify([this.which.value, span, [...this.checked], this.api.selected()]);
    if (force || spanKey !== this.spanKey) {
      this.spanKey = spanKey;
      this.start.value = span ? String(span[0] + 1) : "";
      this.end.value = span ? String(span[1] + 1) : "";
    }
  }

  private interpolate(): void {
    const n = this.api.sliceCount();
    const r = interpolateRequest(
      this.which.value as Which,
      this.api.labels().objects.filter((o) => objectPlane(o) === this.api.plane()),
      this.api.selected(),
      this.checked,
      this.start.value,
      this.end.value,
      n,
    );
    if ("error" in r) return this.say(r.error, "error");
    this.busy = true;
    this.say("Interpolating…", "busy");
    const uuids = r.uuids;
    const before = derivedCount(this.api.labels().objects, uuids);
    const req = this.api.request(r.msg, (a) => {
      this.busy = false;
      if (!a.ok) return this.say(a.message, "error");
      this.say(`Done (revision ${a.revision})`, "done");
      // the count shows once the labels of that revision arrive
      const done = (): void => {
        this.say(interpolationSummary(this.api.labels().objects, uuids, before), "done");
      };
      const off = this.api.onLabels(() => {
        if (this.api.labels().revision < a.revision) return;
        off();
        done();
      });
      if (this.api.labels().revision >= a.revision) {
        off();
        done();
      }
    });
    if (req === null) {
      this.busy = false;
      this.say("not sent (read-only labels or no series)", "error");
    }
  }

  private autosegTarget(): LabelObject | null {
    const sel = this.api.selected();
    const o = sel ? this.api.object(sel) : undefined;
    if (!o || o.shape !== "polygon" || o.keyframes[String(this.api.slice())] === undefined) return null;
    return o;
  }

  private autosegment(): void {
    const o = this.autosegTarget();
    if (!o) return this.say("select a polygon with an outline on this slice", "error");
    this.busy = true;
    this.say("Auto-segmenting…", "busy");
    const req = this.api.request({ type: "autosegment", uuid: o.uuid, slice: this.api.slice() }, (a) => {
      this.busy = false;
      this.say(a.ok ? `Outline tightened (revision ${a.revision})` : a.message, a.ok ? "done" : "error");
    });
    if (req === null) {
      this.busy = false;
      this.say("not sent (read-only labels or no series)", "error");
    }
  }

  private say(text: string, kind: "busy" | "done" | "error"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
    this.api.changed();
  }

  update(): void {
    const has = this.api.classes().length > 0;
    if (this.box.hidden === has) this.box.hidden = !has;
    if (!has || !this.box.open) return;
    this.refresh();
    const ro = this.api.readOnly();
    this.run.disabled = ro || this.busy;
    this.autoseg.disabled = ro || this.busy || !this.autosegTarget();
  }
}

export const AUTOMATION_PANELS: PanelFactory[] = [(api) => new AutomationPanel(api)];
