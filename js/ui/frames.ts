/**
 * Frame classifications (questions about a slice as a whole): choose the classification and its
 * answer, then pick slice ranges with the keys c (start = current slice), v (end = current),
 * x (this slice only), n (keep the range, start another), m (save), z (this slice and save).
 * The keys are on only while the section is active (highlighted; click it or press its "keys"
 * button, Escape leaves). Saved instances are listed with their ranges: jump to a range, delete
 * it, load an instance's answers, or give its ranges the chosen answer. Under the slice bar a
 * bar per frame classification shows its ranges (drag their ends to change them).
 */
import type { AnswerValue, Classification, ClassificationOption, FrameClassification, LabelsState } from "../labels";
import type { EditorApi, Panel } from "../tools/types";
import { RangeBar, type Segment, Slot, renderQuestion, sliceSpan } from "./answers";
import { el, setPressed, setText } from "./dom";
import {
  FrameDraft,
  type Range,
  answerColour,
  answerText,
  asOne,
  frameEditOps,
  frameSaveOps,
  pruneAnswers,
  toggleOption,
  walkClassifications,
} from "./ranges";

const KEYS: { key: string; label: string; title: string }[] = [
  { key: "c", label: "Start", title: "Set the start of the range to the current slice (c)" },
  { key: "v", label: "End", title: "Set the end of the range to the current slice (v)" },
  { key: "x", label: "This slice", title: "The range is the current slice only (x)" },
  { key: "n", label: "Add range", title: "Keep this range and start another (n)" },
  { key: "m", label: "Save", title: "Save the answer on the ranges (m)" },
  { key: "z", label: "This slice + save", title: "Save the answer on the current slice (z)" },
];

/** Views whose frame-classification keys are on (other panels leave those keys alone). */
const ACTIVE = new WeakSet<EditorApi>();

/** Whether the frame-classification keys (c v x n m z) of this view's editor are on. */
export function frameKeysOn(api: EditorApi): boolean {
  return ACTIVE.has(api);
}

/** The keys the frame-classification section takes while it is active. */
export const FRAME_KEYS: readonly string[] = KEYS.map((k) => k.key);

const span = (r: Range): string => (r[0] === r[1] ? `${r[0] + 1}` : `${r[0] + 1}–${r[1] + 1}`);

/** The frame-classification section and its bars under the slice bar. */
export function framePanel(api: EditorApi): Panel {
  const on = { signal: api.signal };
  const section = el("section", "daw-cls daw-frames");
  section.dataset.testid = "daw-frames";
  section.dataset.active = "false";
  const slot = new Slot(api.side, section);
  const head = el("div", "daw-cls-head", section);
  el("span", "daw-cls-title", head, "Frame classifications");
  const keysBtn = el("button", "daw-btn daw-frames-keys", head, "keys");
  keysBtn.type = "button";
  keysBtn.title = "Keys c v x n m z for frame classifications (Escape leaves)";
  keysBtn.dataset.testid = "daw-frames-keys";
  keysBtn.setAttribute("aria-pressed", "false");
  const picker = el("div", "daw-cls-modes daw-frames-picker", section);
  picker.setAttribute("role", "radiogroup");
  picker.setAttribute("aria-label", "Frame classification");
  const question = el("div", "daw-cls-list", section);
  const actions = el("div", "daw-frames-actions", section);
  const draftLine = el("div", "daw-cls-applies", section);
  draftLine.dataset.testid = "daw-frames-draft";
  const instances = el("div", "daw-frames-list", section);
  instances.dataset.testid = "daw-frames-list";

  const bars = el("div", "daw-cls-bars daw-cls-bars-frames");
  bars.dataset.testid = "daw-cls-bars-frames";
  const barsSlot = new Slot(api.rangeRow, bars);
  const barMap = new Map<string, RangeBar>();

  let active = false;
  let chosen: string | null = null;
  let answers: Record<string, AnswerValue> = {};
  const draft = new FrameDraft();
  /** The series and plane the draft's slices were chosen on: slice numbers of one plane are
   * not those of another (QA 24a D7: axial slices 16-21 chosen, then saved on the coronal
   * reformat as its rows 16-21). */
  let draftWhere = "";
  const here = (): string => `${api.info()?.id ?? ""}|${api.plane()}`;
  /** Drop a draft chosen on another plane or series, saying so; true when it did. */
  const dropForeignDraft = (): boolean => {
    if (draft.empty() || draftWhere === here()) return false;
    const plane = draftWhere.split("|")[1] ?? "";
    draft.clear();
    api.toast(`The slices chosen on the ${plane} plane for a frame classification were dropped: choose them again here`);
    return true;
  };
  let ver = 0;
  let pickerKey = "";
  let questionKey = "";
  let listKey = "";
  let barsKey = "";

  // what the bars and the list show changes with the frame classifications (and the questions),
  // not with every labels_state: an edit of an object keeps them as they are
  let framesState: LabelsState | null = null;
  let framesText = "";
  let framesVer = 0;
  const framesVersion = (): number => {
    const st = api.labels();
    if (st !== framesState) {
      framesState = st;
      const text = JSON.stringify([st.frame_classifications, st.ontology?.classifications ?? null]);
      if (text !== framesText) {
        framesText = text;
        framesVer += 1;
      }
    }
    return framesVer;
  };

  const list = (): Classification[] => api.ontology()?.classifications ?? [];
  const root = (): Classification | null => list().find((c) => c.id === chosen) ?? list()[0] ?? null;
  const bump = (): void => {
    ver += 1;
    api.changed();
  };
  const setActive = (v: boolean): void => {
    if (active === v) return;
    active = v;
    if (v) ACTIVE.add(api);
    else ACTIVE.delete(api);
    // not bump(): the question's buttons must survive, or the click whose press activated
    // the section would land on a replaced button and be lost
    api.changed();
  };

  keysBtn.addEventListener(
    "click",
    (e) => {
      e.stopPropagation();
      setActive(!active);
    },
    on,
  );
  // using the section turns its keys on
  section.addEventListener("pointerdown", (e) => e.target !== keysBtn && setActive(true), on);

  const choose = (c: Classification, value: AnswerValue): void => {
    const next = { ...answers };
    if (value === null) delete next[c.id];
    else next[c.id] = value;
    const r = root();
    answers = r ? pruneAnswers(r, next) : next;
    bump();
  };
  const option = (c: Classification, o: ClassificationOption): void => {
    const now = answers[c.id] ?? null;
    if (c.type === "checklist") choose(c, toggleOption(now, o.id, (c.options ?? []).map((x) => x.id)));
    else choose(c, now === o.id ? null : o.id);
  };

  const send = (op: Record<string, unknown> | null): boolean => (op ? api.sendEdit(op) : false);

  const save = (): void => {
    const r = root();
    if (!r) return;
    const a = pruneAnswers(r, answers);
    if (a[r.id] === undefined) {
      api.refuse(`choose an answer to "${r.name}" first`);
      return;
    }
    const ranges = draft.all(api.slice());
    if (ranges.length === 0) {
      api.refuse("choose slices first: c start, v end, x this slice");
      return;
    }
    if (send(asOne(frameSaveOps(r.id, a, ranges, api.plane()), `${r.name}: ${answerText(r, a[r.id])}`))) {
      api.toast(`${r.name}: ${answerText(r, a[r.id])} on slices ${ranges.map(span).join(", ")}`);
      draft.clear();
      bump();
    }
  };

  const act = (key: string): void => {
    dropForeignDraft();
    const k = api.slice();
    if (draft.empty()) draftWhere = here();
    if (key === "c") draft.setStart(k);
    else if (key === "v") draft.setEnd(k);
    else if (key === "x") draft.thisFrame(k);
    else if (key === "n") {
      if (!draft.addRange(k)) api.refuse("no range to add: c start, v end or x this slice first");
    } else if (key === "m") save();
    else if (key === "z") {
      draft.thisFrame(k);
      save();
    }
    bump();
  };
  for (const a of KEYS) {
    const b = el("button", "daw-btn daw-frames-act", actions);
    b.type = "button";
    b.title = a.title;
    b.dataset.testid = `daw-frames-${a.key}`;
    el("span", "daw-btn-label", b, a.label);
    el("span", "daw-hotkey", b, a.key);
    b.addEventListener("click", () => act(a.key), on);
  }

  const instancesOf = (cid: string): FrameClassification[] =>
    api.labels().frame_classifications.filter((f) => f.classification === cid && f.plane === api.plane());

  const rebuildInstances = (r: Classification): void => {
    instances.replaceChildren();
    const k = api.slice();
    const ro = api.readOnly();
    for (const f of instancesOf(r.id)) {
      const row = el("div", "daw-frames-inst", instances);
      row.dataset.testid = "daw-frames-inst";
      row.dataset.uuid = f.uuid;
      const here = f.ranges.some(([a, b]) => a <= k && k <= b);
      row.classList.toggle("daw-here", here);
      const sw = el("span", "daw-swatch", row);
      sw.style.background = answerColour(r, f.answers[r.id] ?? null);
      const tree = walkClassifications([r]);
      const nested = Object.entries(f.answers)
        .filter(([cid]) => cid !== r.id)
        .map(([cid, v]) => {
          const q = tree.find((c) => c.id === cid);
          return q ? `${q.name}: ${answerText(q, v)}` : String(v);
        });
      const name = el("button", "daw-btn daw-frames-answer", row, [answerText(r, f.answers[r.id] ?? null), ...nested].join(" · "));
      name.type = "button";
      name.title = "Load these answers into the editor above";
      name.dataset.testid = "daw-frames-load";
      name.addEventListener(
        "click",
        () => {
          answers = { ...f.answers };
          bump();
        },
        on,
      );
      const apply = el("button", "daw-btn daw-frames-apply", row, "use answer");
      apply.type = "button";
      apply.title = "Give these ranges the answer chosen above";
      apply.dataset.testid = "daw-frames-apply";
      apply.disabled = ro;
      apply.addEventListener(
        "click",
        () => {
          const a = pruneAnswers(r, answers);
          if (a[r.id] === undefined) return api.refuse(`choose an answer to "${r.name}" first`);
          send(asOne(frameSaveOps(r.id, a, f.ranges, f.plane), `${r.name}: change answer`));
        },
        on,
      );
      const ranges = el("div", "daw-frames-ranges", row);
      for (const range of f.ranges) {
        const chip = el("span", "daw-frames-range", ranges);
        const jump = el("button", "daw-btn daw-frames-jump", chip, span(range));
        jump.type = "button";
        jump.title = `Go to slice ${range[0] + 1}`;
        jump.dataset.testid = "daw-frames-jump";
        jump.addEventListener("click", () => api.setSlice(range[0]), on);
        const del = el("button", "daw-btn daw-frames-del", chip, "×");
        del.type = "button";
        del.title = `Delete ${sliceSpan(range)}`;
        del.dataset.testid = "daw-frames-del";
        del.disabled = ro;
        del.addEventListener(
          "click",
          () => send({ op: "set_frame_classification", classification: r.id, answers: null, start: range[0], end: range[1], plane: f.plane }),
          on,
        );
      }
    }
    if (!instances.firstChild) el("div", "daw-cls-empty", instances, "No slices answered yet");
  };

  const updateBars = (): void => {
    const n = api.sliceCount();
    const k = api.slice();
    const cls = list();
    const draftRanges = draft.all(k);
    const key = `${framesVersion()}|${n}|${api.plane()}|${api.readOnly()}|${cls.map((c) => c.id)}|${chosen}|${JSON.stringify(draftRanges)}`;
    if (key === barsKey) return;
    barsKey = key;
    const want = new Set(cls.map((c) => c.id));
    for (const [cid, bar] of barMap) {
      if (!want.has(cid)) {
        bar.node.remove();
        barMap.delete(cid);
      }
    }
    barsSlot.show(cls.length > 0);
    const r = root();
    for (const c of cls) {
      let bar = barMap.get(c.id);
      if (!bar) {
        bar = new RangeBar(bars, api.signal, c.name, `daw-frames-bar-${c.id}`, (s) => api.setSlice(s));
        barMap.set(c.id, bar);
      }
      bar.setName(c.name);
      bars.append(bar.node);
      const segments: Segment[] = [];
      for (const f of instancesOf(c.id)) {
        const a = f.answers[c.id] ?? null;
        for (const range of f.ranges) {
          segments.push({
            range,
            colour: answerColour(c, a),
            title: `${c.name}: ${answerText(c, a)} · ${sliceSpan(range)}`,
            edit: api.readOnly() ? undefined : (after: Range) => send(asOne(frameEditOps(f, range, after), `edit range of ${c.name}`)),
          });
        }
      }
      if (r && c.id === r.id) {
        for (const range of draftRanges) segments.push({ range, colour: "currentColor", title: `to save: ${sliceSpan(range)}`, draft: true });
      }
      bar.set(segments, n, `${key}|${c.id}`);
    }
  };

  return {
    update(): void {
      if (dropForeignDraft()) bump();
      const cls = list();
      slot.show(cls.length > 0);
      updateBars();
      if (cls.length === 0) return;
      const r = root() as Classification;
      if (chosen !== r.id) {
        chosen = r.id;
        answers = {};
        draft.clear();
        ver += 1;
      }
      section.classList.toggle("daw-active", active);
      section.dataset.active = String(active);
      setPressed(keysBtn, active);
      const pk = cls.map((c) => `${c.id}:${c.name}`).join("|") + `|${chosen}`;
      if (pk !== pickerKey) {
        pickerKey = pk;
        picker.replaceChildren();
        picker.hidden = cls.length < 2;
        for (const c of cls) {
          const b = el("button", "daw-btn daw-cls-mode", picker, c.name);
          b.type = "button";
          b.dataset.testid = `daw-frames-pick-${c.id}`;
          setPressed(b, c.id === chosen);
          b.addEventListener(
            "click",
            () => {
              chosen = c.id;
              answers = {};
              draft.clear();
              bump();
            },
            on,
          );
        }
      }
      const k = api.slice();
      const current = draft.current(k);
      const all = draft.all(k);
      const parts = [
        `start ${draft.start === null ? "–" : draft.start + 1}`,
        `end ${draft.end === null ? "–" : draft.end + 1}`,
        all.length ? `to save: ${all.map(span).join(", ")}` : "nothing to save yet",
      ];
      setText(draftLine, parts.join(" · "));
      draftLine.dataset.ranges = JSON.stringify(all);
      draftLine.dataset.current = JSON.stringify(current);
      const qk = `${chosen}|${ver}|${api.readOnly()}`;
      const focused = document.activeElement;
      if (qk !== questionKey && !(focused instanceof HTMLInputElement && question.contains(focused))) {
        questionKey = qk;
        question.replaceChildren();
        renderQuestion(question, r, {
          answer: (cid) => answers[cid] ?? null,
          option,
          text: (c, value) => choose(c, value === "" ? null : value),
          testid: "daw-frames",
          signal: api.signal,
          disabled: false,
        });
      }
      const lk = `${chosen}|${framesVersion()}|${k}|${api.plane()}|${api.readOnly()}`;
      if (lk !== listKey) {
        listKey = lk;
        rebuildInstances(r);
      }
    },
    key(e: KeyboardEvent): boolean {
      if (!active || list().length === 0) return false;
      if (e.key === "Escape") {
        setActive(false);
        return true;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return false;
      const key = e.key.toLowerCase();
      if (!KEYS.some((a) => a.key === key)) return false;
      act(key);
      return true;
    },
  };
}
