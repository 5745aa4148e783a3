/**
 * The instances panel: every object of the current plane with its class, object id, a bar of
 * the slices where it has keyframes (manual / interpolated), visibility, jump-to-slice,
 * "continue" (instantiate existing: the next shape drawn becomes its keyframe here) and
 * delete. Selection goes both ways: picking an object on the canvas highlights its row (scrolled
 * into view), clicking a row selects the object and shows a slice where it is drawn.
 *
 * Hotkeys q, w, e, r, t, y, u, o, p continue the first instances of the active class (i is the
 * overlay toggle, and letters that answer classifications are left to them). The list is
 * virtual (only the rows in view are in the DOM) and rebuilt only when a new labels_state
 * arrives (or the class, plane or read-only state changes), keeping the rendered rows whose
 * object shows the same (`rowKey`); selection, visibility and the current slice only refresh
 * the rendered rows, so hundreds of objects cost little per frame and per edit.
 * Copy / paste between slices (js/ui/clipboard.ts) is registered with this panel.
 *
 * An object can be given a name (double-click its name, or its rename button): an input that
 * commits on Enter or when it loses the focus and cancels on Escape, sent as `update_object`
 * with `changes.name`. Names are user text: always set as text, never as HTML. Under the list,
 * the selected object's area on the current slice (polygon, box, bitmask) in mm², or in px²
 * when the pixel spacing is unknown.
 */
import "./instances.css";
import { type Classification, type Keyframe, type LabelObject, type LabelsState, type Ontology, type OntologyClass, classColor, polygonArea, objectPlane } from "../labels";
import type { SeriesInfo } from "../protocol";
import { formatLength, polylineLength } from "../tools/polyline";
import type { Answer, EditorApi, Panel, PanelFactory } from "../tools/types";
import { ClipboardPanel } from "./clipboard";
import { objectVolume, volumeText } from "../render/statistics";
import { button, el, followScroll, icon, setPressed, textField } from "./dom";
import { formatArea } from "./format";

/** Keys that continue the n-th instance of the active class: not the viewer's own keys
 * ("i" toggles the overlay, "p" plays the cine: QA 24a D1, with nine objects listed "p"
 * continued the ninth instead, and the next shape drawn joined its track). */
export const INSTANCE_KEYS: readonly string[] = ["q", "w", "e", "r", "t", "y", "u", "o"];

/** Slices where an object has keyframes: manual ones, interpolated ones, and its extent. */
export interface Track {
  manual: number[];
  interpolated: number[];
  /** first and last keyframe slice, or null without keyframes */
  extent: [number, number] | null;
}

/** Keyframe slices of an object, sorted. Keys that are not whole numbers are ignored. */
export function trackOf(object: LabelObject): Track {
  const manual: number[] = [];
  const interpolated: number[] = [];
  for (const [key, kf] of Object.entries(object.keyframes)) {
    const k = Number(key);
    if (!Number.isInteger(k) || typeof kf !== "object" || kf === null) continue;
    (kf.manual === false ? interpolated : manual).push(k);
  }
  manual.sort((a, b) => a - b);
  interpolated.sort((a, b) => a - b);
  const all = [...manual, ...interpolated];
  const extent: [number, number] | null = all.length ? [Math.min(...all), Math.max(...all)] : null;
  return { manual, interpolated, extent };
}

/** The keyframe slice of `object` nearest to slice `k` (the lower one on a tie), or null. */
export function nearestKeyframe(object: LabelObject, k: number): number | null {
  let best: number | null = null;
  for (const key of Object.keys(object.keyframes)) {
    const s = Number(key);
    if (!Number.isInteger(s)) continue;
    if (best === null || Math.abs(s - k) < Math.abs(best - k) || (Math.abs(s - k) === Math.abs(best - k) && s < best)) best = s;
  }
  return best;
}

/** The plane buttons' names and keys, for the note about objects on other planes. */
const PLANE_BUTTONS: Record<string, string> = { axial: "Axi, Alt+A", coronal: "Cor, Alt+C", sagittal: "Sag, Alt+S" };

/** Objects of `plane` in object_id order (as the panel lists them). */
export function listObjects(objects: readonly LabelObject[], plane: string): LabelObject[] {
  return objects.filter((o) => objectPlane(o) === plane).sort((a, b) => a.object_id - b.object_id);
}

/** Every classification of `list`, nested ones (under an option) included. */
function allClassifications(list: readonly Classification[] | undefined, out: Classification[] = []): Classification[] {
  for (const c of list ?? []) {
    out.push(c);
    for (const o of c.options ?? []) allClassifications(o.classifications, out);
  }
  return out;
}

/** The names of the questions `object` has answers to that class `feature` does not ask
 * (Python drops those answers when the class changes), in the order first answered. */
export function droppedAnswers(object: LabelObject, ontology: Ontology | null, feature: string): string[] {
  const classOf = (id: string): OntologyClass | undefined => ontology?.objects.find((c) => c.id === id);
  const kept = new Set(allClassifications(classOf(feature)?.classifications).map((c) => c.id));
  const names = new Map(allClassifications(classOf(object.feature)?.classifications).map((c) => [c.id, c.name]));
  const answered = [...Object.keys(object.static ?? {}), ...(object.dynamic ?? []).map((d) => d.classification)];
  return [...new Set(answered.filter((id) => !kept.has(id)))].map((id) => names.get(id) ?? id);
}

/** What an empty objects panel says when the document has no object at all. */
const NO_OBJECTS = "No objects yet: draw one, or add it from Python.";

/**
 * What the panel says of objects it does not list: those drawn on another plane than the one
 * shown (the series' own slices, or its coronal or sagittal reformat), and where to see them;
 * null when there are none.
 */
export function otherPlanesNote(objects: readonly LabelObject[], plane: string): string | null {
  const counts = new Map<string, number>();
  // masks kept on the series' own slices are shown cut by a reformat: said apart
  let cut = 0;
  for (const o of objects) {
    const p = objectPlane(o);
    if (p === plane) continue;
    if (plane !== "axial" && p === "axial" && o.shape === "bitmask") cut += 1;
    else counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const notes: string[] = [];
  if (counts.size > 0) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([p, c]) => `${c} ${p}`);
    const which = total === 1 ? "1 object" : `${total} objects`;
    const buttons = [...counts.keys()].sort().map((p) => PLANE_BUTTONS[p] ?? p).join(" / ");
    notes.push(`${which} on other planes (${parts.join(", ")}) not listed here: show ${total === 1 ? "its" : "their"} plane (${buttons}) to see ${total === 1 ? "it" : "them"}.`);
  }
  if (cut > 0) {
    notes.push(`${cut === 1 ? "1 mask" : `${cut} masks`} shown cut by this plane ${cut === 1 ? "is" : "are"} listed on the axial plane (${PLANE_BUTTONS.axial}), where masks are painted.`);
  }
  return notes.length ? notes.join(" ") : null;
}

/** Hotkeys (lower case) the ontology gives classification options, nested ones included. */
export function reservedKeys(ontology: Ontology | null): Set<string> {
  const out = new Set<string>();
  const walk = (list: readonly Classification[] | undefined): void => {
    for (const c of list ?? []) {
      for (const o of c.options ?? []) {
        if (typeof o.hotkey === "string" && o.hotkey) out.add(o.hotkey.toLowerCase());
        walk(o.classifications);
      }
    }
  };
  for (const c of ontology?.objects ?? []) walk(c.classifications);
  walk(ontology?.classifications);
  return out;
}

/**
 * Hotkey letters of the listed objects: the first instances of the active class get q, w, e
 * ... in list order (of all objects when no class is active), skipping letters that answer
 * classifications (`reserved`). Returns uuid -> key.
 */
export function instanceHotkeys(
  listed: readonly LabelObject[],
  activeClass: string | null,
  reserved: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const letters = INSTANCE_KEYS.filter((k) => !reserved.has(k));
  const out = new Map<string, string>();
  for (const o of listed) {
    if (out.size >= letters.length) break;
    if (activeClass !== null && o.feature !== activeClass) continue;
    out.set(o.uuid, letters[out.size] as string);
  }
  return out;
}

/** Whether an object is a model prediction not yet accepted (Python: `LabelObject.pending`). */
export function isPending(o: LabelObject): boolean {
  return o.review === "pending";
}

/** Longest object name the labels accept (labels/document.py NAME_MAX_LEN). */
export const NAME_MAX_LEN = 200;

/** The name the user gave an object (labels_state `name`), or null. */
export function objectName(o: LabelObject): string | null {
  const name = (o as { name?: unknown }).name;
  return typeof name === "string" && name ? name : null;
}

/**
 * What a typed name becomes before it is sent: control characters (a pasted tab or line
 * break) as spaces, trimmed, at most NAME_MAX_LEN characters; null when nothing is left (the
 * object's name is removed).
 */
export function cleanName(text: string): string | null {
  const line = text
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")
    // a lone surrogate (half an emoji) cannot be saved as UTF-8: the labels refuse it
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "")
    .trim();
  // NAME_MAX_LEN counts characters, as Python does: never cut a pair of UTF-16 units in two
  const name = Array.from(line).slice(0, NAME_MAX_LEN).join("").trim();
  return name ? name : null;
}

/** The update_object op that sets (or, with null, removes) an object's name. */
export function renameOp(uuid: string, name: string | null): Record<string, unknown> {
  return { op: "update_object", uuid, changes: { name } };
}

/** Area in square pixels of a keyframe of a polygon, box or bitmask object; null for others. */
export function keyframeAreaPx(shape: string, kf: Keyframe | undefined): number | null {
  if (!kf) return null;
  if (shape === "polygon" && Array.isArray(kf.points) && kf.points.length >= 3) return polygonArea(kf.points);
  if (shape === "bounding_box" && Array.isArray(kf.box) && kf.box.length === 4) {
    const [x0, y0, x1, y1] = kf.box;
    return Math.abs((x1 - x0) * (y1 - y0));
  }
  if (shape === "bitmask" && typeof kf.mask_area === "number") return kf.mask_area;
  return null;
}

/**
 * Area of one pixel of `plane` in mm² from the series spacing [slice, row, column]: axial
 * column x row, coronal column x slice, sagittal row x slice; null when the pixel spacing is
 * unknown (or not a positive number).
 */
export function pixelAreaMm2(plane: string, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): number | null {
  const spacing = planePixelSpacing(plane, info);
  return spacing === null ? null : spacing[0] * spacing[1];
}

/**
 * "area 123.5 mm²" of `object` on slice `k` of its plane (polygon, box or bitmask), "area 40.00
 * px² (pixel spacing unknown)" without a pixel size; null when it has no area there.
 */
export function areaText(object: LabelObject, k: number, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): string | null {
  const px = keyframeAreaPx(object.shape, object.keyframes[String(k)]);
  if (px === null) return null;
  const mm2 = pixelAreaMm2(objectPlane(object), info);
  return mm2 === null ? `area ${formatArea(px, "px²")} (pixel spacing unknown)` : `area ${formatArea(px * mm2)}`;
}

/**
 * Pixel spacing [column, row] in mm of `plane`'s images from the series spacing [slice, row,
 * column] (axial column x row, coronal column x slice, sagittal row x slice); null when the
 * pixel spacing is unknown.
 */
export function planePixelSpacing(plane: string, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): [number, number] | null {
  if (!info?.spacing_known || !Array.isArray(info.spacing)) return null;
  const [s, r, c] = info.spacing;
  const spacing: [number, number] = plane === "coronal" ? [c, s] : plane === "sagittal" ? [r, s] : [c, r];
  return spacing.every((v) => Number.isFinite(v) && v > 0) ? spacing : null;
}

/**
 * "length 12.3 mm" of a polyline `object` on slice `k` of its plane ("length 40.0 px (pixel
 * spacing unknown)" without a pixel size); null for other shapes or without a line there.
 */
export function lengthText(object: LabelObject, k: number, info: Pick<SeriesInfo, "spacing" | "spacing_known"> | null): string | null {
  const points = object.shape === "polyline" ? object.keyframes[String(k)]?.points : undefined;
  if (!Array.isArray(points) || points.length < 2) return null;
  const spacing = planePixelSpacing(objectPlane(object), info);
  if (spacing === null) return `length ${formatLength(polylineLength(points), "px")} (pixel spacing unknown)`;
  return `length ${formatLength(polylineLength(points, spacing[0], spacing[1]), "mm")}`;
}

/** Things a 2D context needs to draw a track bar (a subset, so tests can record calls). */
export type BarContext = Pick<CanvasRenderingContext2D, "fillRect" | "clearRect" | "fillStyle" | "globalAlpha">;

/**
 * Draw a track bar of `width` x `height` px for `n` slices: the extent as a faint band,
 * interpolated keyframes as half-height ticks, manual keyframes as full-height ticks.
 */
export function drawTrack(ctx: BarContext, track: Track, n: number, width: number, height: number, color: string): void {
  ctx.clearRect(0, 0, width, height);
  if (n <= 0) return;
  const w = width / n;
  const x = (k: number): number => Math.max(0, Math.min(width - 1, Math.floor(k * w)));
  const tick = Math.max(1, Math.ceil(w));
  ctx.fillStyle = color;
  if (track.extent) {
    ctx.globalAlpha = 0.2;
    const x0 = x(track.extent[0]);
    ctx.fillRect(x0, 0, Math.max(tick, x(track.extent[1]) + tick - x0), height);
  }
  ctx.globalAlpha = 0.55;
  const h2 = Math.ceil(height / 2);
  for (const k of track.interpolated) ctx.fillRect(x(k), height - h2, tick, h2);
  ctx.globalAlpha = 1;
  for (const k of track.manual) ctx.fillRect(x(k), 0, tick, height);
}

/** Short "model 0.87" text of a prediction (or its source alone). */
export function predictionTag(o: LabelObject): string {
  const src = o.source ?? "";
  const tag = typeof o.confidence === "number" ? `${src} ${o.confidence.toFixed(2)}` : src;
  // a prediction a person changed is no longer the model's output (SEG: SEMIAUTOMATIC)
  return o.edited ? `${tag} · edited` : tag;
}

const ICON_EYE = ["M2 12s3.5-6.5 10-6.5S22 12 22 12s-3.5 6.5-10 6.5S2 12 2 12z", "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z"];
const ICON_EYE_OFF = ["M2 12s3.5-6.5 10-6.5S22 12 22 12s-3.5 6.5-10 6.5S2 12 2 12z", "M4 4l16 16"];
const ICON_JUMP = ["M4 12h12", "M12 7l5 5-5 5", "M20 5v14"];
const ICON_CONTINUE = ["M5 5h9v9H5z", "M10 19h9v-9", "M17 3v4", "M15 5h4"];
const ICON_RENAME = ["M4 20h4L19 9l-4-4L4 16z", "M13 7l4 4"];

const BAR_W = 200;
const BAR_H = 8;
/** Height of a row (CSS px, fixed: the list only renders the rows in view). */
export const ROW_H = 40;
/** Most the list grows to before it scrolls (CSS px). */
const LIST_MAX = 320;
/** Rows rendered above and below the visible ones. */
const OVERSCAN = 6;

/** Indices [first, last) of the rows to render for a scroll position (with overscan). */
export function rowWindow(scrollTop: number, height: number, count: number, rowH = ROW_H, overscan = OVERSCAN): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowH) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + Math.max(height, rowH)) / rowH) + overscan);
  return [first, Math.max(first, last)];
}

/** The scrollTop that brings row `index` into view (unchanged when it is visible). */
export function scrollFor(index: number, scrollTop: number, height: number, rowH = ROW_H): number {
  const top = index * rowH;
  if (top < scrollTop) return top;
  if (top + rowH > scrollTop + height) return Math.max(0, top + rowH - height);
  return scrollTop;
}

/** The name being typed in a row (see InstancesPanel.startRename). */
interface Renaming {
  uuid: string;
  row: HTMLElement;
  nameEl: HTMLElement;
  input: HTMLInputElement;
  /** the input's listeners */
  ac: AbortController;
}

/** What a rendered row shows (set when it is made, refreshed when the state changes). */
interface RowParts {
  row: HTMLElement;
  hide: HTMLButtonElement;
  hiddenShown: boolean;
  /** what the row was made from (see rowKey): a row whose key is unchanged is kept */
  key: string;
  /** its position in the list */
  index: number;
}

/**
 * What a row shows of an object, besides its position and the state-dependent parts: a new
 * labels_state keeps the rendered rows whose key is unchanged (no DOM work, no new canvas).
 */
export function rowKey(o: LabelObject, hotkey: string, color: string, name: string, n: number, ro: boolean): string {
  let frames = "";
  for (const key in o.keyframes) {
    const kf = o.keyframes[key];
    frames += `${key}${typeof kf === "object" && kf !== null ? (kf.manual === false ? "i" : "m") : "x"},`;
  }
  return `${o.object_id}|${o.feature}|${o.review ?? ""}|${o.confidence ?? ""}|${o.source ?? ""}|${o.edited === true}|${hotkey}|${color}|${name}|${n}|${ro}|${JSON.stringify(objectName(o))}|${frames}`;
}

/**
 * The list is virtual: a spacer as tall as all rows, and only the rows in view (plus a few)
 * in the DOM, so a labels_state with hundreds of objects costs a few dozen elements, and
 * selection / slice / visibility changes touch only those.
 */
class InstancesPanel implements Panel {
  private readonly section: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly statusText: HTMLElement;
  private readonly list: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  /** what is said of objects on other planes (see otherPlanesNote) */
  private readonly other: HTMLElement;
  private readonly area: HTMLElement;
  private volumeKey = "";
  private volumeShown: string | null = null;
  /** the selected object's class, to change it (to a class of the same shape) */
  private readonly classRow: HTMLElement;
  private readonly classSelect: HTMLSelectElement;
  private classKey = "";
  private readonly badge: HTMLElement;
  private readonly template: HTMLElement;
  /** rendered rows by uuid */
  private readonly rows = new Map<string, RowParts>();
  private listed: LabelObject[] = [];
  private index = new Map<string, number>();
  private hotkeys = new Map<string, string>();
  private onto: Ontology | null = null;
  private names = new Map<string, string>();
  private ro = false;
  private n = 0;
  private listHeight = 0;
  private builtState: LabelsState | null = null;
  private builtKey = "";
  private stateKey = "";
  private shownSelected: string | null = null;
  private shownContinuing: string | null | undefined = undefined;
  /**
   * The list's scrollTop as last read or set: reading it after the DOM changed would make the
   * page lay out at once (about 10 ms with the panels of a big document), so it is read only
   * in scroll events and checked again once the frame is drawn (see checkScroll).
   */
  private top = 0;
  private checking = false;
  /** the rename input, while one is open */
  private renaming: Renaming | null = null;

  constructor(private readonly api: EditorApi) {
    const on = { signal: api.signal };
    this.section = el("section", "daw-panel daw-instances", api.side);
    this.section.dataset.testid = "daw-instances";
    this.section.hidden = true;
    const head = el("div", "daw-panel-head", this.section);
    this.title = el("span", "daw-panel-title", head, "Objects");
    this.status = el("div", "daw-inst-status", this.section);
    this.status.dataset.testid = "daw-inst-continuing";
    this.status.hidden = true;
    this.statusText = el("span", "daw-inst-status-text", this.status);
    const stop = button(this.status, { icon: "close", title: "Stop continuing (Escape)", testid: "daw-inst-continue-cancel" });
    stop.addEventListener("click", () => this.api.continueTrack(null), on);
    this.list = el("div", "daw-inst-list", this.section);
    this.list.dataset.testid = "daw-inst-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Objects");
    this.spacer = el("div", "daw-inst-spacer", this.list);
    this.empty = el("div", "daw-inst-empty", this.section, NO_OBJECTS);
    this.other = el("div", "daw-inst-other", this.section);
    this.other.dataset.testid = "daw-inst-other";
    this.other.hidden = true;
    // the selected object's area on this slice
    this.area = el("div", "daw-inst-area", this.section);
    this.area.dataset.testid = "daw-inst-area";
    this.area.hidden = true;
    this.classRow = el("label", "daw-inst-class", this.section);
    this.classRow.dataset.testid = "daw-inst-class";
    this.classRow.hidden = true;
    el("span", "", this.classRow, "Class");
    this.classSelect = el("select", "", this.classRow);
    this.classSelect.dataset.testid = "daw-inst-class-select";
    this.classSelect.title = "The selected object's class (one of the classes of its shape)";
    this.classSelect.addEventListener("change", () => this.changeClass(), on);
    // the toolbar also says when the next shape continues an object
    this.badge = el("span", "daw-continue-badge", api.toolGroup);
    this.badge.dataset.testid = "daw-continue-badge";
    this.badge.hidden = true;
    this.template = this.makeTemplate();
    this.list.addEventListener("click", (e) => this.onClick(e), on);
    this.list.addEventListener("dblclick", (e) => this.onDblClick(e), on);
    this.list.addEventListener("keydown", (e) => this.onTab(e), on);
    api.signal.addEventListener("abort", () => this.finishRename(false), { once: true });
    followScroll(this.list, api.signal, (top) => {
      this.top = top;
      this.renderWindow();
    });
  }

  private makeTemplate(): HTMLElement {
    const row = el("div", "daw-inst-row");
    row.setAttribute("role", "option");
    row.dataset.testid = "daw-inst-row";
    const top = el("div", "daw-inst-top", row);
    el("span", "daw-inst-key", top);
    el("span", "daw-swatch", top);
    el("span", "daw-inst-id", top);
    el("span", "daw-inst-name", top);
    el("span", "daw-inst-cls", top);
    el("span", "daw-inst-tag", top);
    const actions = el("span", "daw-inst-actions", top);
    const mk = (action: string, title: string, paths: readonly string[]): void => {
      const b = el("button", "daw-btn daw-inst-btn", actions);
      b.type = "button";
      b.title = title;
      b.setAttribute("aria-label", title);
      b.dataset.action = action;
      b.append(icon(paths));
    };
    // the eye last: it is the one button shown at rest, and the others, shown where the
    // pointer is, appear to its left without moving it (QA: a click in the middle of a row
    // hid the object, once the eye had slid there as the row's buttons appeared)
    mk("jump", "Go to its nearest keyframe", ICON_JUMP);
    mk("continue", "Continue this object on the current slice: the next shape drawn becomes its keyframe", ICON_CONTINUE);
    mk("rename", "Rename this object (or double-click its name)", ICON_RENAME);
    mk("delete", "Delete this object (all slices)", ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"]);
    mk("hide", "Hide this object", ICON_EYE);
    actions.lastElementChild?.setAttribute("aria-pressed", "false");
    const bar = el("div", "daw-inst-bar", row);
    const canvas = el("canvas", "daw-inst-track", bar);
    canvas.width = BAR_W;
    canvas.height = BAR_H;
    bar.title = "Click: go to the keyframe nearest to that slice";
    el("span", "daw-inst-cur", bar);
    return row;
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as Element;
    if (target.closest?.(".daw-inst-rename")) return; // a click in the name being typed
    const row = target.closest?.<HTMLElement>(".daw-inst-row");
    const uuid = row?.dataset.uuid;
    if (!row || !uuid) return;
    const object = this.api.object(uuid);
    if (!object) return;
    const action = target.closest?.<HTMLButtonElement>("button[data-action]");
    if (action) {
      if (action.disabled) return;
      const what = action.dataset.action;
      if (what === "hide") this.api.setHidden(uuid, !this.api.hidden().has(uuid));
      else if (what === "jump") this.show(object, true);
      else if (what === "continue") this.startContinue(object);
      else if (what === "rename") this.startRename(uuid);
      else if (what === "delete") this.api.deleteObject(uuid);
      return;
    }
    const bar = target.closest?.<HTMLElement>(".daw-inst-bar");
    if (bar && this.n > 0) {
      // a click on the track bar: the keyframe nearest to the slice under the pointer
      const r = bar.getBoundingClientRect();
      const k = Math.floor(((e.clientX - r.left) / Math.max(1, r.width)) * this.n);
      const to = nearestKeyframe(object, Math.max(0, Math.min(this.n - 1, k)));
      if (this.api.hidden().has(uuid)) this.api.setHidden(uuid, false);
      if (to !== null && to !== this.api.slice()) this.api.setSlice(to);
      this.api.select(uuid);
      return;
    }
    this.show(object, false);
  }

  /** A double-click on an object's name (or class) renames it. */
  private onDblClick(e: MouseEvent): void {
    const target = e.target as Element;
    const uuid = target.closest?.<HTMLElement>(".daw-inst-name, .daw-inst-cls")?.closest<HTMLElement>(".daw-inst-row")?.dataset.uuid;
    if (!uuid) return;
    e.preventDefault();
    this.startRename(uuid);
  }

  /** Open the name input in the row of `uuid` (Enter or leaving it commits, Escape cancels). */
  private startRename(uuid: string): void {
    if (this.api.readOnly()) return this.api.refuse("the labels are read-only (review mode): edits are off");
    const object = this.api.object(uuid);
    const parts = this.rows.get(uuid);
    const nameEl = parts?.row.querySelector<HTMLElement>(".daw-inst-name");
    if (!object || !parts || !nameEl) return;
    if (this.renaming?.uuid === uuid) return this.renaming.input.focus();
    this.finishRename(true);
    const { input, ac } = textField(
      {
        className: "daw-inst-rename",
        testid: "daw-inst-rename",
        value: objectName(object) ?? "",
        placeholder: this.names.get(object.feature) ?? object.feature,
        label: `Name of object #${object.object_id}`,
        maxLength: NAME_MAX_LEN,
      },
      (keep) => this.finishRename(keep),
    );
    nameEl.hidden = true;
    nameEl.after(input);
    parts.row.classList.add("daw-inst-renaming");
    this.renaming = { uuid, row: parts.row, nameEl, input, ac };
    input.focus({ preventScroll: true });
    input.select();
  }

  /** Close the name input; with `commit`, send the name typed if it changed. */
  private finishRename(commit: boolean): void {
    const r = this.renaming;
    if (!r) return;
    this.renaming = null;
    r.ac.abort(); // first: removing the focused input must not commit it again (blur)
    const hadFocus = document.activeElement === r.input;
    r.input.remove();
    r.nameEl.hidden = false;
    r.row.classList.remove("daw-inst-renaming");
    if (hadFocus && !this.api.signal.aborted) this.api.root.focus({ preventScroll: true });
    const object = this.api.object(r.uuid);
    const name = cleanName(r.input.value);
    if (commit && object && name !== objectName(object) && !this.api.signal.aborted) {
      // shown at once; Python's echo (or its state again after a refusal) redraws the row
      r.nameEl.textContent = name ?? this.names.get(object.feature) ?? object.feature;
      this.api.sendEdit(renameOp(r.uuid, name), null, (a: Answer) => {
        if (!a.ok) this.redrawRow(r.uuid);
      });
    }
    // a row kept while its object changed (see rebuild) is drawn again now
    const parts = this.rows.get(r.uuid);
    const o = this.listed[this.index.get(r.uuid) ?? -1];
    if (parts && (!o || parts.key !== this.keyOf(o))) this.redrawRow(r.uuid);
  }

  /** Make the rendered row of `uuid` again from the current labels. */
  private redrawRow(uuid: string): void {
    const parts = this.rows.get(uuid);
    if (!parts || this.renaming?.uuid === uuid || this.api.signal.aborted) return;
    parts.row.remove();
    this.rows.delete(uuid);
    this.renderWindow();
  }

  /** Select `object` and go to a slice where it is drawn (its nearest keyframe). */
  private show(object: LabelObject, jump: boolean): void {
    const k = this.api.slice();
    if (this.api.hidden().has(object.uuid)) this.api.setHidden(object.uuid, false);
    const here = object.keyframes[String(k)] !== undefined;
    if (jump || !here) {
      const target = nearestKeyframe(object, k);
      if (target !== null && target !== k) this.api.setSlice(target);
    }
    this.api.select(object.uuid);
  }

  private startContinue(object: LabelObject): void {
    if (this.api.readOnly()) return this.api.refuse("the labels are read-only (review mode): edits are off");
    this.api.continueTrack(object.uuid);
    if (this.api.continuing() !== object.uuid) return;
    const cls = this.api.classes().find((c) => c.id === object.feature);
    const k = this.api.slice();
    const shape = (cls?.shape ?? object.shape).replace("_", " ");
    const replaces = object.keyframes[String(k)] !== undefined ? " (replaces its keyframe here)" : "";
    this.api.toast(`Draw a ${shape}: it continues #${object.object_id} on slice ${k + 1}${replaces}`);
  }

  key(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return false;
    const letter = e.key.toLowerCase();
    if (!INSTANCE_KEYS.includes(letter)) return false;
    const active = this.api.activeClass()?.id ?? null;
    const st = this.api.labels();
    const keys = instanceHotkeys(listObjects(st.objects, this.api.plane()), active, reservedKeys(st.ontology));
    let uuid: string | null = null;
    for (const [u, kk] of keys) if (kk === letter) uuid = u;
    const object = uuid ? this.api.object(uuid) : undefined;
    if (!object) return false;
    this.startContinue(object);
    return true;
  }

  update(): void {
    const api = this.api;
    const st = api.labels();
    const active = api.activeClass()?.id ?? null;
    const n = api.sliceCount();
    const key = `${api.plane()}|${n}|${st.read_only}|${active}`;
    const rebuilt = st !== this.builtState || key !== this.builtKey;
    if (rebuilt) {
      this.builtState = st;
      this.builtKey = key;
      this.rebuild(st, active, n);
    }
    const k = api.slice();
    const sel = api.selected();
    const cont = api.continuing();
    const hidden = api.hidden();
    const stateKey = `${k}|${sel}|${cont}|${hidden.size ? [...hidden].join(",") : ""}`;
    if (stateKey === this.stateKey && !rebuilt) return;
    this.stateKey = stateKey;
    this.list.style.setProperty("--daw-cur", String(n > 0 ? (k + 0.5) / n : 0));
    const selIndex = sel ? this.index.get(sel) : undefined;
    // a newly selected object (on the canvas, say): bring its row into view, once it is
    // listed (one just drawn is selected before Python's echo lists it)
    if (sel !== this.shownSelected && (sel === null || selIndex !== undefined)) {
      this.shownSelected = sel;
      const i = selIndex;
      if (i !== undefined) {
        const top = scrollFor(i, this.top, this.listHeight);
        if (top !== this.top) {
          this.list.scrollTop = top;
          this.top = top;
          this.renderWindow();
        }
      }
    }
    for (const [uuid, parts] of this.rows) this.paint(parts, uuid);
    this.showArea(sel, k);
    this.showClass(sel);
    if (cont !== this.shownContinuing) {
      this.shownContinuing = cont;
      const object = cont ? api.object(cont) : undefined;
      this.status.hidden = !object;
      this.badge.hidden = !object;
      if (object && cont) {
        const name = this.names.get(object.feature) ?? object.feature;
        this.statusText.textContent = `Next shape continues #${object.object_id} ${name}`;
        this.badge.textContent = `→ continues #${object.object_id}`;
        this.badge.title = `The next shape drawn becomes a keyframe of #${object.object_id} (${name}); Escape stops`;
        this.status.dataset.uuid = cont;
      } else {
        delete this.status.dataset.uuid;
      }
    }
  }

  /** The selected object's class as a choice among the classes of its shape (hidden when
   * there is no other; disabled in review mode). */
  private showClass(sel: string | null): void {
    const object = sel ? this.listed[this.index.get(sel) ?? -1] : undefined;
    const choices = object ? this.api.classes().filter((c) => c.shape === object.shape) : [];
    const ro = this.api.readOnly();
    const key = object && choices.length > 1 ? `${object.uuid}|${object.feature}|${ro}|${choices.map((c) => `${c.id}:${c.name}`).join(",")}` : "";
    if (key === this.classKey) return;
    this.classKey = key;
    this.classRow.hidden = key === "";
    if (!object || key === "") return;
    this.classSelect.replaceChildren(
      ...choices.map((c) => {
        const option = el("option", "", undefined, c.name); // (class names are text, never HTML)
        option.value = c.id;
        return option;
      }),
    );
    this.classSelect.value = object.feature;
    this.classSelect.disabled = ro;
    this.classRow.dataset.uuid = object.uuid;
  }

  /** The class chosen for the selected object: one update_object edit (a prediction whose
   * class a person changes becomes an edited prediction, in Python). */
  private changeClass(): void {
    const uuid = this.classRow.dataset.uuid;
    const object = uuid ? this.api.object(uuid) : undefined;
    const feature = this.classSelect.value;
    if (!uuid || !object || object.feature === feature) return;
    if (this.api.readOnly()) return this.api.refuse("the labels are read-only (review mode): edits are off");
    this.api.sendEdit({ op: "update_object", uuid, changes: { feature } });
    // QA: the answers the new class does not ask went without a word
    const dropped = droppedAnswers(object, this.api.labels().ontology, feature);
    if (dropped.length > 0) {
      const what = dropped.map((n) => `"${n}"`).join(", ");
      this.api.toast(`The answer${dropped.length === 1 ? "" : "s"} to ${what} went with the old class (ctrl+z brings ${dropped.length === 1 ? "it" : "them"} back)`);
    }
  }

  /** The selected object's volume (as Python's segment statistics count it), made again only
   * when the object or the series changes. */
  private volumeOf(object: LabelObject): string | null {
    const info = this.api.info();
    if (!info) return null;
    const key = `${info.id}|${this.api.labels().revision}|${object.uuid}`;
    if (this.volumeKey !== key) {
      this.volumeKey = key;
      const v = objectVolume(object, info);
      this.volumeShown = v && v.voxels > 0 ? volumeText(v) : null;
    }
    return this.volumeShown;
  }

  /** The selected object's area (a polyline's length) on slice `k` and its volume, under the
   * list (hidden when it has neither). */
  private showArea(sel: string | null, k: number): void {
    const object = sel ? this.listed[this.index.get(sel) ?? -1] : undefined;
    const text = object ? (areaText(object, k, this.api.info()) ?? lengthText(object, k, this.api.info())) : null;
    const volume = object ? this.volumeOf(object) : null;
    // the numbers first: a long name wraps after them and never hides them
    const numbers = [text ? `${text} on slice ${k + 1}` : "", volume ?? ""].filter(Boolean).join(" · ");
    const line = object && numbers ? `${numbers} · #${object.object_id} ${objectName(object) ?? this.names.get(object.feature) ?? object.feature}` : "";
    if (this.area.textContent !== line) {
      this.area.textContent = line;
      this.area.title = line;
    }
    if (this.area.hidden !== !line) this.area.hidden = !line;
  }

  /** Refresh the state-dependent parts of a rendered row. */
  private paint(p: RowParts, uuid: string): void {
    const api = this.api;
    const object = this.listed[this.index.get(uuid) ?? -1];
    if (!object) return;
    p.row.setAttribute("aria-selected", String(api.selected() === uuid));
    p.row.classList.toggle("daw-inst-continuing", api.continuing() === uuid);
    p.row.classList.toggle("daw-inst-here", object.keyframes[String(api.slice())] !== undefined);
    const h = api.hidden().has(uuid);
    if (h !== p.hiddenShown) {
      p.hiddenShown = h;
      p.row.classList.toggle("daw-inst-hidden", h);
      setPressed(p.hide, h);
      p.hide.replaceChildren(icon(h ? ICON_EYE_OFF : ICON_EYE));
      p.hide.title = h ? "Show this object" : "Hide this object";
      p.hide.setAttribute("aria-label", p.hide.title);
    }
  }

  private rebuild(st: LabelsState, active: string | null, n: number): void {
    this.onto = st.ontology;
    this.ro = st.read_only;
    this.n = n;
    this.names = new Map((st.ontology?.objects ?? []).map((c) => [c.id, c.name]));
    this.listed = listObjects(st.objects, this.api.plane());
    this.index = new Map(this.listed.map((o, i) => [o.uuid, i]));
    this.hotkeys = this.ro ? new Map() : instanceHotkeys(this.listed, active, reservedKeys(st.ontology));
    // keep the rendered rows whose object shows the same (most of them after an edit)
    for (const [uuid, parts] of this.rows) {
      const i = this.index.get(uuid);
      const o = i === undefined ? undefined : this.listed[i];
      // the row being renamed stays (drawn again once the name is in: see finishRename)
      if (i !== undefined && o && (parts.key === this.keyOf(o) || this.renaming?.uuid === uuid)) {
        if (parts.index !== i) {
          parts.index = i;
          parts.row.style.top = `${i * ROW_H}px`;
        }
        continue;
      }
      if (this.renaming?.uuid === uuid) this.finishRename(false); // its object is gone
      parts.row.remove();
      this.rows.delete(uuid);
    }
    this.shownContinuing = undefined;
    // unchanged values are not written again (each write would make the page lay out again)
    const count = this.listed.length;
    const spacerHeight = `${count * ROW_H}px`;
    if (this.spacer.style.height !== spacerHeight) this.spacer.style.height = spacerHeight;
    this.listHeight = Math.min(LIST_MAX, count * ROW_H);
    const listHeight = `${this.listHeight}px`;
    if (this.list.style.height !== listHeight) this.list.style.height = listHeight;
    const title = `Objects (${count})`;
    if (this.title.textContent !== title) this.title.textContent = title;
    const classes = st.ontology?.objects.length ?? 0;
    const empty = count > 0 || classes === 0;
    if (this.empty.hidden !== empty) this.empty.hidden = empty;
    // the document may hold objects listed on other planes (said in the note below)
    const emptyText = st.objects.length > 0 ? "No objects on this plane." : NO_OBJECTS;
    if (this.empty.textContent !== emptyText) this.empty.textContent = emptyText;
    const note = otherPlanesNote(st.objects, this.api.plane());
    if (this.other.textContent !== (note ?? "")) this.other.textContent = note ?? "";
    if (this.other.hidden !== (note === null)) this.other.hidden = note === null;
    const hidden = classes === 0 && count === 0 && note === null;
    if (this.section.hidden !== hidden) this.section.hidden = hidden;
    // a shorter list scrolls back as the browser does
    this.top = Math.max(0, Math.min(this.top, count * ROW_H - this.listHeight));
    this.renderWindow();
    this.checkScroll();
  }

  /** Once the frame is drawn (reading is cheap then), make sure the rows match the scroll. */
  private checkScroll(): void {
    if (this.checking) return;
    this.checking = true;
    setTimeout(() => {
      this.checking = false;
      if (this.api.signal.aborted) return;
      const top = this.list.scrollTop;
      if (top === this.top) return;
      this.top = top;
      this.renderWindow();
    }, 0);
  }

  private keyOf(o: LabelObject): string {
    const dpr = window.devicePixelRatio || 1; // the track bar's canvas is sized by it
    return `${dpr}|${rowKey(o, this.hotkeys.get(o.uuid) ?? "", classColor(this.onto, o.feature), this.names.get(o.feature) ?? o.feature, this.n, this.ro)}`;
  }

  /** Render the rows in view (and a few more); drop the others. */
  /**
   * Tab / Shift+Tab from a row's last / first button goes to the next / previous row's, which
   * may not be in the page yet (only the rows in view are): it is brought into view first
   * (QA: Shift+Tab left a long list half way, then came back out of order).
   */
  private onTab(e: KeyboardEvent): void {
    if (e.key !== "Tab" || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement;
    const row = target.closest?.<HTMLElement>(".daw-inst-row");
    const i = row?.dataset.uuid ? this.index.get(row.dataset.uuid) : undefined;
    if (!row || i === undefined) return;
    const buttons = (r: HTMLElement): HTMLButtonElement[] =>
      Array.from(r.querySelectorAll<HTMLButtonElement>("button.daw-inst-btn")).filter((b) => !b.disabled);
    const mine = buttons(row);
    const at = mine.indexOf(target as HTMLButtonElement);
    const back = e.shiftKey;
    if (at < 0 || (back ? at > 0 : at < mine.length - 1)) return; // within the row
    const j = back ? i - 1 : i + 1;
    if (j < 0 || j >= this.listed.length) return; // out of the list, as the browser goes
    e.preventDefault();
    const top = j * ROW_H;
    if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (top + ROW_H > this.list.scrollTop + this.listHeight) this.list.scrollTop = top + ROW_H - this.listHeight;
    this.top = this.list.scrollTop;
    this.renderWindow();
    const next = this.rows.get((this.listed[j] as LabelObject).uuid)?.row;
    const there = next ? buttons(next) : [];
    (back ? there[there.length - 1] : there[0])?.focus({ preventScroll: true });
  }

  private renderWindow(): void {
    const [first, last] = rowWindow(this.top, this.listHeight, this.listed.length);
    const keep = new Set<string>();
    for (let i = first; i < last; i++) keep.add((this.listed[i] as LabelObject).uuid);
    if (this.renaming) keep.add(this.renaming.uuid);
    for (const [uuid, { row }] of this.rows) {
      if (keep.has(uuid)) continue;
      row.remove();
      this.rows.delete(uuid);
    }
    for (let i = first; i < last; i++) {
      const o = this.listed[i] as LabelObject;
      if (this.rows.has(o.uuid)) continue;
      const parts = this.makeRow(o, i);
      this.rows.set(o.uuid, parts);
      this.spacer.append(parts.row);
      this.paint(parts, o.uuid);
    }
  }

  private makeRow(o: LabelObject, i: number): RowParts {
    const row = this.template.cloneNode(true) as HTMLElement;
    row.style.top = `${i * ROW_H}px`;
    row.dataset.uuid = o.uuid;
    row.dataset.objectId = String(o.object_id);
    const top = row.firstElementChild as HTMLElement;
    const [keyEl, swatch, idEl, nameEl, clsEl, tagEl, actions] = Array.from(top.children) as HTMLElement[];
    const button = (action: string): HTMLButtonElement | null => actions?.querySelector(`button[data-action="${action}"]`) ?? null;
    const [cont, ren, del, hide] = ["continue", "rename", "delete", "hide"].map(button);
    const color = classColor(this.onto, o.feature);
    const hk = this.hotkeys.get(o.uuid);
    (keyEl as HTMLElement).textContent = hk ?? "";
    if (hk) (keyEl as HTMLElement).title = `key ${hk}: continue this object`;
    (swatch as HTMLElement).style.background = color;
    (idEl as HTMLElement).textContent = `#${o.object_id}`;
    // the name the user gave it (user text: textContent only), then its class; else the class
    const className = this.names.get(o.feature) ?? o.feature;
    const name = objectName(o);
    (nameEl as HTMLElement).textContent = name ?? className;
    // the row is narrow: the whole name (and class) in the tooltip
    const full = name === null ? className : `${name} (${className})`;
    (nameEl as HTMLElement).title = this.ro ? full : `${full}: double-click to rename`;
    (clsEl as HTMLElement).textContent = name === null ? "" : className;
    (clsEl as HTMLElement).hidden = name === null;
    row.classList.toggle("daw-inst-named", name !== null);
    const pending = isPending(o);
    // the row is narrow: the confidence here, the model's name in the tooltip (and in review)
    const conf = typeof o.confidence === "number" ? o.confidence.toFixed(2) : "model";
    (tagEl as HTMLElement).textContent = pending ? (o.edited ? `✎ ${conf}` : conf) : "";
    (tagEl as HTMLElement).title = pending ? `prediction awaiting review${o.edited ? ", edited by a person" : ""}: ${predictionTag(o)}` : "";
    (tagEl as HTMLElement).hidden = !pending;
    row.classList.toggle("daw-inst-pred", pending);
    (cont as HTMLButtonElement).disabled = this.ro;
    (del as HTMLButtonElement).disabled = this.ro;
    (ren as HTMLButtonElement).disabled = this.ro;
    if (hk) (cont as HTMLButtonElement).title += ` (key ${hk})`;
    const canvas = row.querySelector("canvas");
    const ctx = canvas?.getContext("2d");
    if (canvas && ctx) {
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(BAR_W * dpr);
      canvas.height = Math.round(BAR_H * dpr);
      const track = trackOf(o);
      drawTrack(ctx, track, this.n || (track.extent ? track.extent[1] + 1 : 0), canvas.width, canvas.height, color);
      canvas.title = trackTitle(track);
    }
    return { row, hide: hide as HTMLButtonElement, hiddenShown: false, key: this.keyOf(o), index: i };
  }
}

/** "keyframes on slices 3-5, 9 (interpolated: 4)" with 1-based slice numbers. */
export function trackTitle(track: Track): string {
  const ranges = (ks: number[]): string => {
    const out: string[] = [];
    let i = 0;
    while (i < ks.length) {
      let j = i;
      while (j + 1 < ks.length && (ks[j + 1] as number) === (ks[j] as number) + 1) j++;
      const a = (ks[i] as number) + 1;
      const b = (ks[j] as number) + 1;
      out.push(a === b ? String(a) : `${a}-${b}`);
      i = j + 1;
    }
    return out.join(", ");
  };
  if (!track.extent) return "no keyframes";
  const parts = [`keyframes on slices ${ranges(track.manual) || "none"}`];
  if (track.interpolated.length) parts.push(`interpolated: ${ranges(track.interpolated)}`);
  return parts.join("; ");
}

export const INSTANCE_PANELS: PanelFactory[] = [(api) => new InstancesPanel(api), (api) => new ClipboardPanel(api)];
