/**
 * Panels of the label editor: classifications.
 *
 * - The selected object's classifications (a section beside the viewport): static answers
 *   answer the object (`set_static`); dynamic ones answer a slice range (`set_dynamic`): this
 *   slice, from here to the end of the object's track, or an edited range. Option hotkeys work
 *   while an object is selected.
 * - Under the slice bar, a thin bar per dynamic classification of the selected object shows its
 *   answered ranges; drag a range's ends to change it ("edit range").
 * - Frame classifications: js/ui/frames.ts.
 */
import { objectPlane } from "../labels";
import type { AnswerValue, Classification, ClassificationOption, LabelObject, LabelsState, OntologyClass } from "../labels";
import type { EditorApi, Panel, PanelFactory } from "../tools/types";
import { RangeBar, type Segment, Slot, renderQuestion, shownHotkeys, sliceSpan } from "./answers";
import { el, setPressed, setText } from "./dom";
import { FRAME_KEYS, framePanel, frameKeysOn } from "./frames";
import {
  type Range,
  type RangeMode,
  answerColour,
  answerOn,
  answerText,
  asOne,
  dynamicEditOps,
  dynamicRange,
  dynamicSegments,
  toggleOption,
  walkClassifications,
} from "./ranges";
import "./classifications.css";

const MODES: { mode: RangeMode; label: string; title: string }[] = [
  { mode: "slice", label: "This slice", title: "Dynamic answers apply to the current slice only" },
  { mode: "toEnd", label: "To end", title: "Dynamic answers apply from the current slice to the end of the object's track" },
  { mode: "custom", label: "Range", title: "Dynamic answers apply to the range below" },
];

const plain = (e: KeyboardEvent): boolean => !e.ctrlKey && !e.metaKey && !e.altKey;

/** The classifications of the selected object, and its dynamic ranges under the slice bar. */
export function objectPanel(api: EditorApi): Panel {
  const on = { signal: api.signal };
  const section = el("section", "daw-cls daw-cls-object");
  section.dataset.testid = "daw-cls-object";
  const slot = new Slot(api.side, section);
  const head = el("div", "daw-cls-head", section);
  const title = el("span", "daw-cls-title", head);
  title.dataset.testid = "daw-cls-title";

  // where dynamic answers apply
  const rangeBox = el("div", "daw-cls-rangebox", section);
  rangeBox.dataset.testid = "daw-cls-rangebox";
  const modeRow = el("div", "daw-cls-modes", rangeBox);
  modeRow.setAttribute("role", "radiogroup");
  modeRow.setAttribute("aria-label", "Slices dynamic answers apply to");
  const modeButtons = new Map<RangeMode, HTMLButtonElement>();
  let mode: RangeMode = "toEnd";
  let custom: Range = [0, 0];
  let customFor = "";
  for (const m of MODES) {
    const b = el("button", "daw-btn daw-cls-mode", modeRow, m.label);
    b.type = "button";
    b.title = m.title;
    b.dataset.testid = `daw-cls-mode-${m.mode}`;
    b.setAttribute("aria-pressed", "false");
    b.addEventListener(
      "click",
      () => {
        if (m.mode === "custom" && mode !== "custom") custom = effective() ?? custom;
        mode = m.mode;
        api.changed();
      },
      on,
    );
    modeButtons.set(m.mode, b);
  }
  const edits = el("div", "daw-cls-edits", rangeBox);
  const startIn = numberInput(edits, "daw-cls-start", "First slice");
  el("span", "daw-cls-dash", edits, "–");
  const endIn = numberInput(edits, "daw-cls-end", "Last slice");
  const startHere = el("button", "daw-btn daw-cls-here", edits, "start = here");
  startHere.type = "button";
  startHere.title = "Set the start of the range to the current slice";
  startHere.dataset.testid = "daw-cls-start-here";
  const endHere = el("button", "daw-btn daw-cls-here", edits, "end = here");
  endHere.type = "button";
  endHere.title = "Set the end of the range to the current slice";
  endHere.dataset.testid = "daw-cls-end-here";
  const applies = el("div", "daw-cls-applies", rangeBox);
  applies.dataset.testid = "daw-cls-applies";

  const list = el("div", "daw-cls-list", section);
  list.dataset.testid = "daw-cls-list";

  const bars = el("div", "daw-cls-bars daw-cls-bars-object");
  bars.dataset.testid = "daw-cls-bars-object";
  const barsSlot = new Slot(api.rangeRow, bars);
  const barMap = new Map<string, RangeBar>();

  let listKey = "";
  let barsKey = "";
  // the list and bars show the selected object's answers (and its class's questions): they are
  // rebuilt when those change, not on every labels_state (an edit of another object, say)
  let answersState: LabelsState | null = null;
  let answersFor = "";
  let answersText = "";
  const answersKey = (object: LabelObject, cls: OntologyClass): string => {
    const st = api.labels();
    if (st !== answersState || object.uuid !== answersFor) {
      answersState = st;
      answersFor = object.uuid;
      answersText = JSON.stringify([object.static ?? null, object.dynamic ?? null, cls]);
    }
    return answersText;
  };

  const current = (): { object: LabelObject; cls: OntologyClass } | null => {
    const uuid = api.selected();
    const object = uuid ? api.object(uuid) : undefined;
    if (!object) return null;
    const cls = api.classes().find((c) => c.id === object.feature);
    return cls && (cls.classifications ?? []).length > 0 ? { object, cls } : null;
  };
  /** The selected object is of another plane than the one shown (an axial mask stays
   * selected on a reformat): this plane's slice numbers are not its slices, so no per-slice
   * answer is given here (QA 24a D5: coronal slice 27's answer was stored on axial slice 27). */
  const foreignPlane = (object: LabelObject): string | null => {
    const plane = objectPlane(object);
    return plane === api.plane() ? null : plane;
  };
  const effective = (): Range | null => {
    const cur = current();
    if (!cur || foreignPlane(cur.object) !== null) return null;
    return dynamicRange(mode, api.slice(), api.sliceCount(), cur.object, custom);
  };
  const setCustom = (r: Range): void => {
    mode = "custom";
    custom = r;
    api.changed();
  };
  const fromInput = (input: HTMLInputElement): number | null => {
    const v = Number(input.value);
    return Number.isFinite(v) && input.value.trim() !== "" ? Math.round(v) - 1 : null;
  };
  startIn.addEventListener(
    "change",
    () => {
      const r = effective();
      const v = fromInput(startIn);
      if (r && v !== null) setCustom([v, r[1]]);
    },
    on,
  );
  endIn.addEventListener(
    "change",
    () => {
      const r = effective();
      const v = fromInput(endIn);
      if (r && v !== null) setCustom([r[0], v]);
    },
    on,
  );
  startHere.addEventListener(
    "click",
    () => {
      const r = effective();
      if (r) setCustom([api.slice(), Math.max(api.slice(), r[1])]);
    },
    on,
  );
  endHere.addEventListener(
    "click",
    () => {
      const r = effective();
      if (r) setCustom([Math.min(r[0], api.slice()), api.slice()]);
    },
    on,
  );

  const isDynamic = (cls: OntologyClass, cid: string): boolean => {
    for (const top of cls.classifications ?? []) {
      if (walkClassifications([top]).some((c) => c.id === cid)) return top.dynamic === true;
    }
    return false;
  };
  const answerOf = (object: LabelObject, cls: OntologyClass, cid: string): AnswerValue =>
    isDynamic(cls, cid) ? (foreignPlane(object) !== null ? null : answerOn(object.dynamic, cid, api.slice())) : (object.static?.[cid] ?? null);

  /** Give `c` of the selected object the answer `value` (null clears). */
  const answer = (c: Classification, value: AnswerValue): void => {
    const cur = current();
    if (!cur) return;
    const { object, cls } = cur;
    if (isDynamic(cls, c.id)) {
      const plane = foreignPlane(object);
      if (plane !== null) {
        api.refuse(`per-slice answers of #${object.object_id} are given on its own (${plane}) slices: show the ${plane} plane to give them`);
        return;
      }
      const r = effective();
      if (!r) return;
      api.sendEdit({ op: "set_dynamic", uuid: object.uuid, classification: c.id, answer: value, start: r[0], end: r[1] });
      return;
    }
    const had = object.static?.[c.id];
    if (value === null && (had === undefined || had === null)) return;
    api.sendEdit({ op: "set_static", uuid: object.uuid, classification: c.id, answer: value });
  };
  const pickOption = (c: Classification, o: ClassificationOption): void => {
    const cur = current();
    if (!cur) return;
    const now = answerOf(cur.object, cur.cls, c.id);
    if (c.type === "checklist") {
      answer(c, toggleOption(now, o.id, (c.options ?? []).map((x) => x.id)));
    } else if (now === o.id && !isDynamic(cur.cls, c.id)) {
      answer(c, null); // pressing the chosen option of a static radio clears it
    } else {
      answer(c, o.id);
    }
  };

  const rebuildList = (object: LabelObject, cls: OntologyClass): void => {
    list.replaceChildren();
    for (const c of cls.classifications ?? []) {
      renderQuestion(list, c, {
        answer: (cid) => answerOf(object, cls, cid),
        option: pickOption,
        text: (q, value) => answer(q, value === "" ? null : value),
        clear: (q) => answer(q, null),
        testid: "daw-cls",
        signal: api.signal,
        disabled: api.readOnly(),
        badge: (q) => (isDynamic(cls, q.id) ? "per slice" : ""),
      });
    }
  };

  const updateBars = (cur: { object: LabelObject; cls: OntologyClass } | null): void => {
    const n = api.sliceCount();
    const dyn = cur ? walkClassifications(cur.cls.classifications ?? []).filter((c) => isDynamic(cur.cls, c.id)) : [];
    const key = cur ? `${cur.object.uuid}|${answersKey(cur.object, cur.cls)}|${n}|${api.readOnly()}` : "";
    if (key === barsKey) return;
    barsKey = key;
    const want = new Set(dyn.map((c) => c.id));
    for (const [cid, bar] of barMap) {
      if (!want.has(cid)) {
        bar.node.remove();
        barMap.delete(cid);
      }
    }
    barsSlot.show(dyn.length > 0);
    if (!cur) return;
    const { object } = cur;
    for (const c of dyn) {
      let bar = barMap.get(c.id);
      if (!bar) {
        bar = new RangeBar(bars, api.signal, c.name, `daw-cls-bar-${c.id}`, (k) => api.setSlice(k));
        barMap.set(c.id, bar);
      }
      bars.append(bar.node); // ontology order
      const segments: Segment[] = dynamicSegments(object.dynamic, c.id).map(({ answer: a, range }) => ({
        range,
        colour: answerColour(c, a),
        title: `${c.name}: ${answerText(c, a)} · ${sliceSpan(range)}`,
        edit: api.readOnly()
          ? undefined
          : (after: Range) => {
              const op = asOne(dynamicEditOps(object.uuid, c.id, a, range, after), `edit range of ${c.name}`);
              if (op) api.sendEdit(op);
            },
      }));
      bar.set(segments, n, `${key}|${JSON.stringify(segments.map((s) => [s.range, s.colour, s.title]))}`);
    }
  };

  return {
    update(): void {
      const cur = current();
      updateBars(cur);
      slot.show(cur !== null);
      if (!cur) {
        listKey = "";
        return;
      }
      const { object, cls } = cur;
      const k = api.slice();
      const hasDynamic = (cls.classifications ?? []).some((c) => c.dynamic === true);
      if (rangeBox.hidden === hasDynamic) rangeBox.hidden = !hasDynamic;
      if (customFor !== object.uuid) {
        customFor = object.uuid;
        custom = dynamicRange("toEnd", k, api.sliceCount(), object, custom);
      }
      for (const [m, b] of modeButtons) setPressed(b, m === mode);
      const r = effective();
      const plane = foreignPlane(object);
      if (plane !== null) setText(applies, `Per-slice answers are given on #${object.object_id}'s own (${plane}) slices: show the ${plane} plane`);
      if (r) {
        setValue(startIn, String(r[0] + 1));
        setValue(endIn, String(r[1] + 1));
        const max = String(api.sliceCount());
        if (startIn.max !== max) startIn.max = endIn.max = max;
        const where = sliceSpan(r);
        setText(applies, `Per-slice answers apply to ${where}`);
        if (applies.dataset.start !== String(r[0])) applies.dataset.start = String(r[0]);
        if (applies.dataset.end !== String(r[1])) applies.dataset.end = String(r[1]);
      }
      setText(title, `#${object.object_id} ${cls.name}`);
      const key = `${object.uuid}|${answersKey(object, cls)}|${k}|${api.readOnly()}|${plane}`;
      if (key === listKey) return;
      // keep a text field being typed in
      const focused = document.activeElement;
      if (focused instanceof HTMLInputElement && list.contains(focused)) return;
      listKey = key;
      rebuildList(object, cls);
    },
    key(e: KeyboardEvent): boolean {
      if (!plain(e) || e.key.length !== 1 || api.readOnly()) return false;
      const cur = current();
      if (!cur) return false;
      const k = e.key.toLowerCase();
      // while the frame-classification keys are on, c v x n m z are theirs
      if (frameKeysOn(api) && FRAME_KEYS.includes(k)) return false;
      const hit = shownHotkeys(cur.cls.classifications ?? [], (cid) => answerOf(cur.object, cur.cls, cid)).find(
        ({ o }) => (o.hotkey ?? "").toLowerCase() === k,
      );
      if (!hit) return false;
      pickOption(hit.c, hit.o);
      return true;
    },
  };
}

/** Show `value` in a field the user is not typing in. */
function setValue(input: HTMLInputElement, value: string): void {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}

function numberInput(parent: HTMLElement, testid: string, label: string): HTMLInputElement {
  const input = el("input", "daw-input daw-cls-num", parent);
  input.type = "number";
  input.min = "1";
  input.step = "1";
  input.title = label;
  input.setAttribute("aria-label", label);
  input.dataset.testid = testid;
  return input;
}

/** The selected object's classifications, then frame classifications (js/ui/frames.ts). */
export const CLASSIFICATION_PANELS: PanelFactory[] = [objectPanel, framePanel];
