/**
 * Review of model predictions. Objects awaiting review (`review == "pending"`, as Python's
 * `LabelObject.pending`) are drawn with a dashed halo and a "model 0.87" tag until accepted; a
 * section lists them by class with accept / reject per object, per class and for all. The page
 * sends what `w.labels.accept()` / `reject()` apply: a `batch` of `update_object {review:
 * "accepted"}` or of `delete_object`, so one undo reverts a bulk decision.
 *
 * In read-only review mode a "Review mode: read-only" badge heads the side column and every
 * edit control is disabled.
 */
import "./review.css";
import { type LabelObject, type LabelsState, type Ontology, classColor } from "../labels";
import { maskSession } from "../render/masklayer";
import { screenShape } from "../render/overlay";
import type { Matrix } from "../render/transform";
import type { EditorApi, Panel, PanelFactory } from "../tools/types";
import { button, el, followScroll } from "./dom";
import { isPending, listObjects, nearestKeyframe, predictionTag, rowWindow, scrollFor } from "./instances";

/** Pending predictions grouped by class, in ontology order then object_id order. */
export function pendingByClass(objects: readonly LabelObject[], ontology: Ontology | null): Map<string, LabelObject[]> {
  const out = new Map<string, LabelObject[]>();
  for (const c of ontology?.objects ?? []) out.set(c.id, []);
  const sorted = [...objects].filter(isPending).sort((a, b) => a.object_id - b.object_id);
  for (const o of sorted) {
    let list = out.get(o.feature);
    if (!list) out.set(o.feature, (list = []));
    list.push(o);
  }
  for (const [k, v] of out) if (v.length === 0) out.delete(k);
  return out;
}

/** The review section's title: the predictions to review on the plane shown, and how many
 * more wait on other planes (listed there). */
export function reviewTitle(here: number, elsewhere: number): string {
  if (elsewhere <= 0) return `Predictions (${here} to review)`;
  const other = `${elsewhere} on other planes`;
  return here > 0 ? `Predictions (${here} to review; ${other})` : `Predictions: ${other} to review`;
}

/** Height of an item of the review list, a class or a prediction (CSS px, fixed: the list
 * renders only the items in view, so that thousands of predictions cost what a dozen do). */
export const REVIEW_ITEM_H = 24;
/** Most the list grows to before it scrolls (CSS px): eleven items. */
const REVIEW_LIST_MAX = 11 * REVIEW_ITEM_H;

/** An item of the review list: a class's head (`object` null), then its predictions. */
export interface ReviewItem {
  feature: string;
  object: LabelObject | null;
}

/** "slice 7" (1-based) for a prediction on one slice, else "12 slices". */
export function sliceText(o: LabelObject): string {
  const kfs = Object.keys(o.keyframes).map(Number).filter(Number.isInteger);
  return kfs.length === 1 ? `slice ${(kfs[0] as number) + 1}` : `${kfs.length} slices`;
}

/** The identity of a review item: its prediction's uuid, or "class:" and the class id. */
export function itemId(it: ReviewItem): string {
  return it.object ? it.object.uuid : `class:${it.feature}`;
}

/** The review list's items, in the order shown. */
export function reviewItems(groups: ReadonlyMap<string, readonly LabelObject[]>): ReviewItem[] {
  const out: ReviewItem[] = [];
  for (const [feature, objects] of groups) {
    out.push({ feature, object: null });
    for (const object of objects) out.push({ feature, object });
  }
  return out;
}

/** What the review list shows of `groups` (its DOM is rebuilt only when this changes). */
export function reviewKey(groups: ReadonlyMap<string, readonly LabelObject[]>, ontology: Ontology | null, ro: boolean): string {
  const names = new Map((ontology?.objects ?? []).map((c) => [c.id, c.name]));
  let key = String(ro);
  for (const [feature, objects] of groups) {
    key += `|${feature}:${names.get(feature) ?? ""}:${classColor(ontology, feature)}`;
    for (const o of objects) {
      let frames = 0;
      let first = Number.POSITIVE_INFINITY;
      for (const k of Object.keys(o.keyframes)) {
        const s = Number(k);
        if (!Number.isInteger(s)) continue;
        frames += 1;
        if (s < first) first = s;
      }
      key += `;${o.uuid},${o.object_id},${predictionTag(o)},${frames},${first}`;
    }
  }
  return key;
}

/** The operation accepting `uuids` (one undo step, as `Labels.accept`). */
export function acceptOp(uuids: readonly string[]): Record<string, unknown> {
  return {
    op: "batch",
    label: "accept predictions",
    ops: uuids.map((uuid) => ({ op: "update_object", uuid, changes: { review: "accepted" } })),
  };
}

/** The operation rejecting (deleting) `uuids` (one undo step, as `Labels.reject`). */
export function rejectOp(uuids: readonly string[]): Record<string, unknown> {
  return { op: "batch", label: "reject predictions", ops: uuids.map((uuid) => ({ op: "delete_object", uuid })) };
}

/** Screen bounds [x0, y0, x1, y1] of screen points, or null. */
export function bounds(pts: readonly [number, number][]): [number, number, number, number] | null {
  if (pts.length === 0) return null;
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const [x, y] of pts) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

const HALO_PAD = 5;

class ReviewPanel implements Panel {
  private readonly badge: HTMLElement;
  private readonly section: HTMLElement;
  private readonly title: HTMLElement;
  private readonly acceptAll: HTMLButtonElement;
  private readonly rejectAll: HTMLButtonElement;
  private readonly list: HTMLElement;
  private builtState: LabelsState | null = null;
  /** the plane the list was built for (it lists that plane's predictions) */
  private builtPlane = "";
  private builtKey: string | null = null;
  private pending: LabelObject[] = [];
  private groups = new Map<string, LabelObject[]>();
  private shownSelected: string | null | undefined = undefined;
  private readonly spacer: HTMLElement;
  private items: ReviewItem[] = [];
  /** the items rendered, by itemId, with what they show */
  private readonly rendered = new Map<string, { el: HTMLElement; key: string }>();
  /** the list's scrollTop as last read or set, and its height */
  private top = 0;
  private listHeight = 0;
  private names = new Map<string, string>();
  private onto: Ontology | null = null;
  private ro = false;
  /** Predictions with a decision on its way to the kernel: a second click before its answer
   * (a double-click) would send the same batch again, an empty undo step or a refused delete. */
  private readonly deciding = new Map<string, number | undefined>(); // uuid -> revision of its answer

  constructor(private readonly api: EditorApi) {
    const on = { signal: api.signal };
    this.badge = el("div", "daw-readonly-badge");
    this.badge.dataset.testid = "daw-readonly-badge";
    this.badge.setAttribute("role", "status");
    this.badge.textContent = "Review mode: read-only";
    this.badge.title = "The labels are read-only: nothing can be edited here (set w.labels.read_only = False to edit)";
    this.badge.hidden = true;
    api.side.prepend(this.badge);
    this.section = el("section", "daw-panel daw-review", api.side);
    this.section.dataset.testid = "daw-review";
    this.section.hidden = true;
    const head = el("div", "daw-panel-head", this.section);
    this.title = el("span", "daw-panel-title", head, "Predictions");
    const actions = el("span", "daw-review-actions", head);
    this.acceptAll = button(actions, { label: "Accept all", title: "Accept every prediction", testid: "daw-review-accept-all" });
    this.rejectAll = button(actions, { label: "Reject all", title: "Reject (delete) every prediction", testid: "daw-review-reject-all" });
    this.acceptAll.classList.add("daw-review-accept");
    this.rejectAll.classList.add("daw-review-reject");
    this.acceptAll.addEventListener("click", () => this.decide(true, this.pending), on);
    this.rejectAll.addEventListener("click", () => this.decide(false, this.pending), on);
    this.list = el("div", "daw-review-list", this.section);
    this.list.dataset.testid = "daw-review-list";
    this.spacer = el("div", "daw-review-spacer", this.list);
    this.list.addEventListener("click", (e) => this.onClick(e), on);
    this.list.addEventListener("keydown", (e) => this.onTab(e), on);
    followScroll(this.list, api.signal, (top) => {
      this.top = top;
      this.renderWindow();
    });
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as Element;
    const b = target.closest?.<HTMLButtonElement>("button[data-action]");
    if (b) {
      if (b.disabled) return;
      const accept = b.dataset.action === "accept";
      const cls = b.dataset.feature;
      const uuid = b.dataset.uuid;
      if (cls !== undefined) this.decide(accept, this.groups.get(cls) ?? []);
      else if (uuid) {
        const o = this.api.object(uuid);
        if (o) this.decide(accept, [o]);
      }
      return;
    }
    const row = target.closest?.<HTMLElement>(".daw-review-row");
    const o = row?.dataset.uuid ? this.api.object(row.dataset.uuid) : undefined;
    if (o) this.show(o);
  }

  /**
   * Review by keys (QA 22a: hundreds of predictions by the mouse alone): `.` / `,` select the
   * next / previous prediction to review on this plane and show its slice; `a` accepts the
   * selected prediction and goes on to the next (Shift+Delete rejects it, as it deletes any
   * object).
   */
  key(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "." || e.key === ",") return this.step(e.key === "." ? 1 : -1);
    if (e.key !== "a" || this.api.labels().read_only) return false;
    const sel = this.api.selected();
    const o = sel === null ? undefined : this.api.object(sel);
    if (!o || !isPending(o) || this.deciding.has(o.uuid)) return false;
    const next = this.after(o.uuid, 1);
    this.decide(true, [o]);
    if (next) this.show(next);
    return true;
  }

  /** The prediction to review `dir` places from `uuid` on this plane (wrapping), if another. */
  private after(uuid: string | null, dir: number): LabelObject | undefined {
    const open = this.pending.filter((o) => !this.deciding.has(o.uuid) || o.uuid === uuid);
    const n = open.length;
    if (n === 0) return undefined;
    const i = uuid === null ? -1 : open.findIndex((o) => o.uuid === uuid);
    const j = i < 0 ? (dir > 0 ? 0 : n - 1) : (((i + dir) % n) + n) % n;
    const next = open[j] as LabelObject;
    return next.uuid === uuid ? undefined : next;
  }

  private step(dir: number): boolean {
    if (this.pending.length === 0) return false;
    const next = this.after(this.api.selected(), dir);
    if (next) this.show(next);
    return true;
  }

  /** Select a prediction and show a slice where it is drawn. */
  private show(o: LabelObject): void {
    const k = this.api.slice();
    if (o.keyframes[String(k)] === undefined) {
      const to = nearestKeyframe(o, k);
      if (to !== null) this.api.setSlice(to);
    }
    this.api.select(o.uuid);
  }

  private decide(accept: boolean, objects: readonly LabelObject[]): void {
    const uuids = objects.filter((o) => isPending(o) && !this.deciding.has(o.uuid)).map((o) => o.uuid);
    if (uuids.length === 0) return;
    const preview = !accept && uuids.length === 1 ? { kind: "delete" as const, uuid: uuids[0] as string, slice: this.api.slice() } : null;
    const n = uuids.length;
    for (const u of uuids) this.deciding.set(u, undefined);
    const ok = this.api.sendEdit(accept ? acceptOp(uuids) : rejectOp(uuids), preview, (a) => {
      // decided once the labels state has the answer's revision (see update)
      for (const u of uuids) {
        if (a.ok) this.deciding.set(u, a.revision);
        else this.deciding.delete(u);
      }
      this.forgetDecided();
      if (a.ok) this.api.toast(`${accept ? "Accepted" : "Rejected"} ${n} prediction${n === 1 ? "" : "s"}`);
    });
    if (!ok) for (const u of uuids) this.deciding.delete(u);
    if (ok && !accept && this.api.selected() !== null && uuids.includes(this.api.selected() as string)) this.api.select(null);
  }

  private forgetDecided(): void {
    const revision = this.api.labels().revision;
    for (const [u, r] of this.deciding) if (r !== undefined && revision >= r) this.deciding.delete(u);
  }

  update(): void {
    const st = this.api.labels();
    if (this.deciding.size > 0) this.forgetDecided();
    const ro = st.read_only;
    this.badge.hidden = !ro;
    // QA: built for the labels only, the list kept the plane shown at the last labels change
    const plane = this.api.plane();
    if (st !== this.builtState || plane !== this.builtPlane) {
      this.builtState = st;
      this.builtPlane = plane;
      this.rebuild(st);
      this.shownSelected = undefined;
    }
    const sel = this.api.selected();
    if (sel !== this.shownSelected) {
      this.shownSelected = sel;
      // a prediction selected on the image (or in the objects list) comes into view here too
      const i = sel === null ? -1 : this.items.findIndex((it) => it.object?.uuid === sel);
      if (i >= 0) this.bringIntoView(i);
      for (const row of this.spacer.querySelectorAll<HTMLElement>(".daw-review-row")) {
        row.setAttribute("aria-selected", String(row.dataset.uuid === sel));
      }
    }
  }

  private rebuild(st: LabelsState): void {
    const ro = st.read_only;
    const onto = st.ontology;
    const listed = listObjects(st.objects, this.api.plane());
    this.groups = pendingByClass(listed, onto);
    this.pending = [...this.groups.values()].flat();
    const n = this.pending.length;
    // pending on other planes: said, so that nobody takes this plane's list for the whole
    const elsewhere = st.objects.filter(isPending).length - n;
    // the same predictions shown the same way (most edits): keep the DOM as it is
    const key = `${elsewhere}#${reviewKey(this.groups, onto, ro)}`;
    if (key === this.builtKey) return;
    this.builtKey = key;
    this.section.hidden = n === 0 && elsewhere === 0;
    this.section.dataset.count = String(n);
    this.section.dataset.elsewhere = String(elsewhere);
    this.title.textContent = reviewTitle(n, elsewhere);
    this.acceptAll.disabled = ro || n === 0;
    this.rejectAll.disabled = ro || n === 0;
    // the list is the plane's: so are the buttons (QA 22a: "every prediction" left some)
    const these = elsewhere > 0 ? `the ${n} prediction${n === 1 ? "" : "s"} of this plane (${elsewhere} more on other planes are listed there)` : "every prediction";
    this.acceptAll.title = `Accept ${these}`;
    this.rejectAll.title = `Reject (delete) ${these}`;
    this.onto = onto;
    this.ro = ro;
    this.names = new Map((onto?.objects ?? []).map((c) => [c.id, c.name]));
    this.items = reviewItems(this.groups);
    const count = this.items.length;
    this.spacer.style.height = `${count * REVIEW_ITEM_H}px`;
    this.listHeight = Math.min(REVIEW_LIST_MAX, count * REVIEW_ITEM_H);
    this.list.style.height = `${this.listHeight}px`;
    // a shorter list scrolls back as the browser does
    this.top = Math.max(0, Math.min(this.top, count * REVIEW_ITEM_H - this.listHeight));
    this.renderWindow();
  }

  /** Render the items in view (and a few more), in list order (the order Tab follows); an
   * item that shows the same as before is kept (a focused button stays focused). */
  private renderWindow(): void {
    const [first, last] = rowWindow(this.top, this.listHeight, this.items.length, REVIEW_ITEM_H, 4);
    const wanted: { id: string; key: string; i: number }[] = [];
    for (let i = first; i < last; i++) {
      const it = this.items[i] as ReviewItem;
      const o = it.object;
      const id = itemId(it);
      const key = o ? `${o.object_id}|${predictionTag(o)}|${sliceText(o)}|${this.ro}` : `${this.groups.get(it.feature)?.length}|${this.names.get(it.feature)}|${classColor(this.onto, it.feature)}|${this.ro}`;
      wanted.push({ id, key, i });
    }
    const keep = new Set(wanted.map((w) => w.id));
    for (const [id, r] of this.rendered) {
      if (keep.has(id)) continue;
      r.el.remove();
      this.rendered.delete(id);
    }
    let at: Element | null = this.spacer.firstElementChild;
    for (const w of wanted) {
      let r = this.rendered.get(w.id);
      if (!r || r.key !== w.key) {
        if (r) {
          if (r.el === at) at = r.el.nextElementSibling;
          r.el.remove();
        }
        r = { el: this.makeItem(this.items[w.i] as ReviewItem), key: w.key };
        r.el.dataset.item = w.id;
        this.rendered.set(w.id, r);
      }
      const top = `${w.i * REVIEW_ITEM_H}px`;
      if (r.el.style.top !== top) r.el.style.top = top;
      if (r.el !== at) this.spacer.insertBefore(r.el, at);
      at = r.el.nextElementSibling;
    }
  }

  /** Scroll item `i` into the list's view (if it is not) and render it. */
  private bringIntoView(i: number): void {
    const top = scrollFor(i, this.top, this.listHeight, REVIEW_ITEM_H);
    if (top === this.top) return;
    this.list.scrollTop = top;
    this.top = top;
    this.renderWindow();
  }

  private makeItem(it: ReviewItem): HTMLElement {
    const o = it.object;
    const name = this.names.get(it.feature) ?? it.feature;
    if (!o) {
      const head = el("div", "daw-review-item daw-review-class");
      head.dataset.feature = it.feature;
      head.dataset.testid = `daw-review-class-${it.feature}`;
      const swatch = el("span", "daw-swatch", head);
      swatch.style.background = classColor(this.onto, it.feature);
      el("span", "daw-review-name", head, `${name} (${this.groups.get(it.feature)?.length ?? 0})`);
      const acts = el("span", "daw-review-actions", head);
      for (const accept of [true, false]) {
        const b = el("button", `daw-btn ${accept ? "daw-review-accept" : "daw-review-reject"}`, acts, accept ? "Accept" : "Reject");
        b.type = "button";
        b.dataset.action = accept ? "accept" : "reject";
        b.dataset.feature = it.feature;
        b.dataset.testid = `daw-review-${accept ? "accept" : "reject"}-class`;
        b.title = `${accept ? "Accept" : "Reject"} all ${name} predictions`;
        b.disabled = this.ro;
      }
      return head;
    }
    const row = el("div", "daw-review-item daw-review-row");
    row.dataset.uuid = o.uuid;
    row.dataset.testid = "daw-review-row";
    row.setAttribute("aria-selected", String(o.uuid === this.api.selected()));
    el("span", "daw-inst-id", row, `#${o.object_id}`);
    el("span", "daw-review-tag", row, predictionTag(o));
    el("span", "daw-review-slices", row, sliceText(o));
    const acts = el("span", "daw-review-actions", row);
    for (const accept of [true, false]) {
      const b = el("button", `daw-btn daw-review-one ${accept ? "daw-review-accept" : "daw-review-reject"}`, acts, accept ? "✓" : "✕");
      b.type = "button";
      b.dataset.action = accept ? "accept" : "reject";
      b.dataset.uuid = o.uuid;
      b.dataset.testid = `daw-review-${accept ? "accept" : "reject"}`;
      b.title = `${accept ? "Accept" : "Reject"} #${o.object_id}`;
      b.setAttribute("aria-label", b.title);
      b.disabled = this.ro;
    }
    return row;
  }

  /**
   * Tab / Shift+Tab from an item's last / first button goes to the next / previous item's,
   * which may not be in the page yet (only the items in view are): it is rendered first.
   */
  private onTab(e: KeyboardEvent): void {
    if (e.key !== "Tab" || e.ctrlKey || e.metaKey || e.altKey) return;
    const item = (e.target as HTMLElement).closest?.<HTMLElement>(".daw-review-item");
    if (!item) return;
    const buttons = (x: HTMLElement): HTMLButtonElement[] => Array.from(x.querySelectorAll<HTMLButtonElement>("button")).filter((b) => !b.disabled);
    const mine = buttons(item);
    const at = mine.indexOf(e.target as HTMLButtonElement);
    const back = e.shiftKey;
    if (at < 0 || (back ? at > 0 : at < mine.length - 1)) return; // within the item
    const i = this.items.findIndex((it) => itemId(it) === item.dataset.item);
    const j = back ? i - 1 : i + 1;
    if (i < 0 || j < 0 || j >= this.items.length) return; // out of the list, as the browser goes
    e.preventDefault();
    this.bringIntoView(j);
    const r = this.rendered.get(itemId(this.items[j] as ReviewItem));
    const there = r ? buttons(r.el) : [];
    (back ? there[there.length - 1] : there[0])?.focus({ preventScroll: true });
  }

  drawKey(): string {
    return String(this.api.labels().revision);
  }

  /** Dashed halo and "model 0.87" tag around each pending prediction on slice `k`. */
  draw(ctx: CanvasRenderingContext2D, m: Matrix, k: number): void {
    const items = this.api.items(k);
    const onto = this.api.ontology();
    ctx.font = "10px sans-serif";
    ctx.textBaseline = "top";
    for (const { object, keyframe } of items) {
      if (!isPending(object)) continue;
      let pts = screenShape(m, keyframe, object.shape).pts;
      if (pts.length === 0 && object.shape === "bitmask") {
        // a mask's outline is its pixels: the halo goes round the box they lie in (known once
        // the slice's masks have arrived; their arrival redraws this layer)
        const box = maskSession(this.api).cache?.bound(k, object.uuid);
        if (box) pts = screenShape(m, { box: [box[0] - 0.5, box[1] - 0.5, box[2] - 0.5, box[3] - 0.5] }, "bounding_box").pts;
      }
      const b = bounds(pts);
      if (!b) continue;
      const color = classColor(onto, object.feature);
      const x0 = b[0] - HALO_PAD;
      const y0 = b[1] - HALO_PAD;
      const w = b[2] - b[0] + 2 * HALO_PAD;
      const h = b[3] - b[1] + 2 * HALO_PAD;
      ctx.setLineDash([2, 3]);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(0,0,0,0.55)";
      ctx.strokeRect(x0, y0, w, h);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = color;
      ctx.strokeRect(x0, y0, w, h);
      ctx.setLineDash([]);
      const tag = predictionTag(object);
      if (!tag) continue;
      const tw = ctx.measureText(tag).width + 6;
      const ty = y0 + h + 2;
      ctx.fillStyle = "rgba(0,0,0,0.7)";
      ctx.fillRect(x0, ty, tw, 13);
      ctx.fillStyle = color;
      ctx.fillText(tag, x0 + 3, ty + 1.5);
    }
  }
}

export const REVIEW_PANELS: PanelFactory[] = [(api) => new ReviewPanel(api)];
