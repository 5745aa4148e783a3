/**
 * The label editor of one view: the page's copy of Python's labels (`labels_state`), optimistic
 * previews of edits in flight, the selection, the class bar and tool buttons, and the dispatch
 * of pointer and key events to the chosen tool (js/tools/) and to the panels (js/ui/).
 *
 * Python owns the labels: `labels_state` is what it has accepted. Edits made here show at
 * once and are dropped when the echo (or an error) arrives.
 */
import type { AnyModel } from "@anywidget/types";
import {
  type Keyframe,
  type LabelObject,
  type LabelsState,
  type Measurement,
  type OntologyClass,
  type Point,
  type SliceItem,
  applyLabelsPatch,
  classColor,
  classHotkey,
  clampPoint,
  createObjectOp,
  deleteObjectOp,
  indexBySlice,
  parseEditAnswer,
  parseLabelsPatch,
  parseLabelsState,
  readLabelsTrait,
  round3,
  objectPlane,
  uuid4,
} from "./labels";
import { type AreaStats, drawMeasurements, measurementsOn, volumeAreaStats } from "./render/measurements";
import { MeasureHandler } from "./tools/measure";
import { SelectTool } from "./tools/select";
import type { SeriesInfo } from "./protocol";
import { drawOverlay, voxelMatrix, type BridgeCache } from "./render/overlay";
import {
  type Geometry,
  type Matrix,
  type ViewParams,
  backingSize,
  imageToScreen,
  screenToVoxel,
  viewScale,
} from "./render/transform";
import { TOOLS, type Tool, type UiState, type ViewState } from "./state";
import { applyPendingMask, maskSession, maskSessionIfAny, modelOpacity } from "./render/masklayer";
import type { Plane } from "./render/planes";
import { MASK_TOOLS } from "./tools/bitmask";
import { VECTOR_TOOLS } from "./tools/index";
import type { Answer, EditorApi, Layer, Panel, PanelFactory, PointerAt, Preview, ToolFactory, ToolHandler } from "./tools/types";
import { AUTOMATION_PANELS } from "./ui/automation";
import { MASK_PANELS } from "./ui/bitmask";
import { CLASSIFICATION_PANELS } from "./ui/classifications";
import { INSTANCE_PANELS } from "./ui/instances";
import { REVIEW_PANELS } from "./ui/review";
import { button, el, isAccel, keyLetter, setPressed } from "./ui/dom";
import type { Volume } from "./volume";

/** Set (or with null remove) a data attribute, only when it changes. */
function setData(node: HTMLElement, key: string, value: string | null): void {
  const old = node.dataset[key];
  if (value === null) {
    if (old !== undefined) delete node.dataset[key];
  } else if (old !== value) node.dataset[key] = value;
}

/** What the widget gives the editor. */
export interface EditorHost {
  model: AnyModel<ViewState>;
  signal: AbortSignal;
  ui: UiState;
  root: HTMLElement;
  viewport: HTMLElement;
  side: HTMLElement;
  toolbar: HTMLElement;
  rangeRow: HTMLElement;
  labelsCanvas: HTMLCanvasElement;
  info(): SeriesInfo | null;
  volume(): Volume | null;
  /** the plane shown ("axial": the series' own slices; "coronal" / "sagittal": reformats) */
  plane(): string;
  /** slices of the plane shown */
  sliceCount(): number;
  geometry(): Geometry | null;
  view(): ViewParams;
  setSlice(k: number): void;
  schedule(): void;
  refuse(message: string): void;
  /** Take back a refusal shown that starts with `prefix` (when its reason is gone). */
  clearRefusal?(prefix: string): void;
  toast(text: string): void;
  /** Send a message to the kernel; false when the page has lost its kernel. */
  send(content: Record<string, unknown>): boolean;
  /** Whether the kernel is connected (edits can reach Python). */
  connected(): boolean;
}

/** Why an edit is refused while the kernel is gone. */
export const OFFLINE_EDIT = "the kernel is not connected (restarted or shut down): run the cell again; this edit was not made";

interface Pending extends Preview {
  /** revision the kernel acknowledged the edit with */
  revision?: number;
  /** when it was sent (performance.now()) */
  sentAt?: number;
  onAnswer?: (a: Answer) => void;
}

/** Whether two collections of uuids hold the same ones (order and repeats aside). */
function sameMembers(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/** The tools and panels each view gets, in toolbar / panel order (each module lists its own). */
const TOOL_FACTORIES: ToolFactory[] = [...VECTOR_TOOLS, ...MASK_TOOLS];
const PANEL_FACTORIES: PanelFactory[] = [...INSTANCE_PANELS, ...CLASSIFICATION_PANELS, ...REVIEW_PANELS, ...MASK_PANELS, ...AUTOMATION_PANELS];

export class LabelEditor implements EditorApi {
  readonly model: AnyModel<ViewState>;
  readonly signal: AbortSignal;
  readonly ui: UiState;
  readonly root: HTMLElement;
  readonly viewport: HTMLElement;
  readonly side: HTMLElement;
  readonly toolGroup: HTMLElement;
  readonly classGroup: HTMLElement;
  readonly rangeRow: HTMLElement;
  readonly tools: ToolHandler[] = [];
  readonly panels: Panel[] = [];
  readonly layers: Layer[] = [];

  private state: LabelsState = parseLabelsState(undefined);
  /** The whole labels_state was asked for and has not come yet. */
  private resyncAsked = false;
  /** The `sent` number of the whole labels_state this view took last (null: none, or unnumbered). */
  private wholeSent: number | null = null;
  private bySlice = new Map<string, SliceItem[]>();
  /** the objects of `state` by uuid (object() is called per row, per frame) */
  private byUuid = new Map<string, LabelObject>();
  /** bumped whenever what the overlay shows may have changed */
  private gen = 0;
  /** Request numbers: each view starts at its own random point, so two views of one widget
   * (which both hear every answer) never take each other's answer for their own request. */
  private seq = Math.floor(Math.random() * 2 ** 40);
  private readonly pending = new Map<number, Pending>();
  private readonly hiddenSet = new Set<string>();
  /** polygon bridges found so far, by keyframe array (see drawOverlay) */
  private readonly bridges: BridgeCache = new WeakMap();
  /** area measurement statistics, by series, slice, measurement and points */
  private readonly statsCache = new Map<string, AreaStats | null>();
  private readonly messageHandlers = new Set<(msg: unknown, buffers: readonly DataView[]) => void>();
  private readonly labelsHandlers = new Set<() => void>();
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private readonly historyButtons: HTMLButtonElement[] = [];
  private readonly classButtons = new Map<string, HTMLButtonElement>();
  private classKey = "";
  private drawnKey = "";
  private continuingUuid: string | null = null;

  constructor(private readonly host: EditorHost) {
    this.model = host.model;
    this.signal = host.signal;
    this.ui = host.ui;
    this.root = host.root;
    this.viewport = host.viewport;
    this.side = host.side;
    this.rangeRow = host.rangeRow;
    this.toolGroup = el("div", "daw-group daw-tools", host.toolbar);
    this.toolGroup.dataset.testid = "daw-tools";
    this.classGroup = el("div", "daw-group daw-classes", host.toolbar);
    this.classGroup.dataset.testid = "daw-classes";
    this.classGroup.setAttribute("role", "radiogroup");
    this.classGroup.setAttribute("aria-label", "Object class");
    for (const make of TOOL_FACTORIES) {
      const tool = make(this);
      this.tools.push(tool);
      const b = button(this.toolGroup, { ...tool.button, testid: `daw-tool-${tool.id}`, toggle: true });
      b.addEventListener("click", () => this.setTool(tool.id), { signal: this.signal });
      this.toolButtons.set(tool.id, b);
    }
    // undo / redo by the mouse too (Python's history: one step per edit, from any view)
    for (const [type, title] of [
      ["undo", "Undo (Ctrl+Z)"],
      ["redo", "Redo (Ctrl+Shift+Z, Ctrl+Y)"],
    ] as const) {
      const b = button(this.toolGroup, { icon: type, title, testid: `daw-${type}` });
      b.classList.add(`daw-${type}`);
      b.addEventListener("click", () => this.sendHistory(type), { signal: this.signal });
      this.historyButtons.push(b);
    }
    for (const make of PANEL_FACTORIES) this.panels.push(make(this));
    // the synced trait is what Python sent last in whole; since then changes may have come
    // as patches this view never saw (it did not exist): it asks for the whole state, and
    // Python sends patches only once a view has asked
    this.askLabels();
  }

  // ---- EditorApi: reading ---------------------------------------------------------------
  labels(): LabelsState {
    return this.state;
  }
  ontology(): LabelsState["ontology"] {
    return this.state.ontology;
  }
  classes(): OntologyClass[] {
    return this.state.ontology?.objects ?? [];
  }
  activeClass(): OntologyClass | null {
    return this.classes().find((c) => c.id === this.ui.activeClass) ?? null;
  }
  /**
   * The label document's plane of the slices shown: "axial" names the series' own slices
   * (`volume[k]`) whatever way the series was acquired (docs/labels.md, Coordinates and
   * planes); "coronal" and "sagittal" the reformats of its rows and columns. `info.plane` is
   * the acquisition's anatomy (a coronal MR's own slices are still "axial" here).
   */
  plane(): string {
    return this.host.plane();
  }
  info(): SeriesInfo | null {
    return this.host.info();
  }
  volume(): Volume | null {
    return this.host.volume();
  }
  geometry(): Geometry | null {
    return this.host.geometry();
  }
  view(): ViewParams {
    return this.host.view();
  }
  voxelToScreen(): Matrix | null {
    const g = this.geometry();
    return g ? voxelMatrix(imageToScreen(g, this.view())) : null;
  }
  slice(): number {
    return this.model.get("slice");
  }
  setSlice(k: number): void {
    this.host.setSlice(k);
  }
  sliceCount(): number {
    return this.host.sliceCount();
  }
  readOnly(): boolean {
    return this.state.read_only;
  }
  object(uuid: string): LabelObject | undefined {
    return this.byUuid.get(uuid);
  }
  selected(): string | null {
    return this.ui.selected;
  }
  hidden(): ReadonlySet<string> {
    return this.hiddenSet;
  }
  /** uuids not drawn: hidden by the user or deleted optimistically */
  private invisible(): Set<string> {
    const out = new Set(this.hiddenSet);
    for (const p of this.pending.values()) if (p.kind === "delete") out.add(p.uuid);
    return out;
  }
  items(k: number): SliceItem[] {
    const hide = this.invisible();
    const updates = new Map<string, SliceItem>();
    const creates: SliceItem[] = [];
    for (const p of this.pending.values()) {
      if (p.slice !== k || !p.item) continue;
      if (p.kind === "update") updates.set(p.uuid, p.item);
      else if (p.kind === "create") creates.push(p.item);
    }
    const out: SliceItem[] = [];
    for (const it of this.bySlice.get(String(k)) ?? []) {
      if (hide.has(it.object.uuid)) continue;
      const u = updates.get(it.object.uuid);
      if (u) updates.delete(it.object.uuid);
      out.push(u ?? it);
    }
    // an update that adds a keyframe to an object on a new slice
    for (const u of updates.values()) if (!hide.has(u.object.uuid)) out.push(u);
    for (const c of creates) if (!hide.has(c.object.uuid)) out.push(c);
    return out;
  }

  // ---- EditorApi: changing --------------------------------------------------------------
  changed(): void {
    this.gen += 1;
    this.publish();
    this.host.schedule();
  }

  // ---- the model's selected / hidden / tool / active_class: Python sees and sets them ------
  /** Python selected an object this view does not list yet (its labels come next). */
  private selectWhenListed: string | null = null;
  /** Python chose a class this view does not know yet (its ontology comes with the labels). */
  private classWhenListed: string | null = null;
  /** Tell the model what the user chose here (only what differs from it). */
  private publish(): void {
    const changes: [string, unknown][] = [];
    const selected = this.model.get("selected") ?? null;
    // (an object drawn here is told once Python has it: before, Python would refuse the uuid)
    const listed = this.ui.selected === null || this.byUuid.has(this.ui.selected);
    if (this.ui.selected !== selected && this.selectWhenListed === null && listed) changes.push(["selected", this.ui.selected]);
    const hidden = [...this.hiddenSet].filter((uuid) => this.byUuid.has(uuid));
    if (!sameMembers(hidden, this.model.get("hidden") ?? [])) changes.push(["hidden", hidden.sort()]);
    // (the class before the tool: a view of the same widget elsewhere takes the class's tool
    // first, then this tool)
    if ((this.model.get("active_class") ?? null) !== this.ui.activeClass && this.classWhenListed === null) changes.push(["active_class", this.ui.activeClass]);
    if ((this.model.get("tool") ?? "select") !== this.ui.tool) changes.push(["tool", this.ui.tool]);
    if (changes.length === 0) return;
    const m = this.model as unknown as { set(key: string, value: unknown): void };
    // Each set tells fromModel at once: between two of them the model holds half of this
    // view's choice (the eraser with the box class, say), which fromModel must not take back
    // (QA 21b D1: the eraser and the threshold brush turned into the brush).
    this.publishing = true;
    try {
      for (const [key, value] of changes) m.set(key, value);
    } finally {
      this.publishing = false;
    }
    this.model.save_changes();
  }
  private publishing = false;
  /** Python (or another view of the widget) changed one of them: take it. */
  readonly fromModel = (): void => {
    if (this.publishing) return; // (this view's own choice, being told)
    const selected = this.model.get("selected") ?? null;
    if (selected === null || this.byUuid.has(selected)) {
      this.selectWhenListed = null;
      this.ui.selected = selected;
    } else this.selectWhenListed = selected;
    const hidden = new Set(this.model.get("hidden") ?? []);
    if (!sameMembers(hidden, this.hiddenSet)) {
      this.hiddenSet.clear();
      for (const uuid of hidden) this.hiddenSet.add(uuid);
      if (this.ui.selected !== null && hidden.has(this.ui.selected)) this.ui.selected = null;
    }
    const cid = this.model.get("active_class") ?? null;
    this.classWhenListed = null;
    if (cid !== null && cid !== this.ui.activeClass) {
      const c = this.classes().find((x) => x.id === cid);
      if (c) this.setClass(c);
      else this.classWhenListed = cid; // (taken when the labels bring their ontology)
    }
    const tool = this.model.get("tool") ?? "select";
    if (tool !== this.ui.tool && TOOLS.includes(tool as Tool)) this.setTool(tool as Tool);
    const opacity = modelOpacity(this);
    const masks = maskSessionIfAny(this);
    if (masks && opacity !== null && opacity !== masks.settings.opacity) {
      masks.settings.opacity = opacity;
      masks.touch();
    }
    this.changed();
  };
  refuse(message: string): void {
    this.host.refuse(message);
  }
  toast(text: string): void {
    this.host.toast(text);
  }
  select(uuid: string | null): void {
    if (uuid === this.ui.selected) return;
    this.ui.selected = uuid;
    this.changed();
  }
  continuing(): string | null {
    return this.continuingUuid;
  }
  continueTrack(uuid: string | null): void {
    const object = uuid ? this.object(uuid) : undefined;
    if (uuid && !object) return this.refuse("that object is not in the labels (yet)");
    this.continuingUuid = object ? uuid : null;
    if (object) {
      const c = this.classes().find((x) => x.id === object.feature);
      if (c) {
        const tool = this.toolFor(c);
        if (this.ui.activeClass !== c.id) this.cancelDraft();
        this.ui.activeClass = c.id;
        if (tool && !this.tool().shapes.includes(c.shape)) this.ui.tool = tool.id;
      }
      this.ui.selected = object.uuid;
    }
    this.changed();
  }
  addLayer(layer: Layer): void {
    this.layers.push(layer);
    this.gen += 1;
  }
  setHidden(uuid: string, hidden: boolean): void {
    if (hidden) this.hiddenSet.add(uuid);
    else this.hiddenSet.delete(uuid);
    if (hidden && this.ui.selected === uuid) this.ui.selected = null;
    this.changed();
  }
  toolFor(c: OntologyClass): ToolHandler | null {
    return this.tools.find((t) => t.shapes.includes(c.shape)) ?? null;
  }
  tool(): ToolHandler {
    return this.tools.find((t) => t.id === this.ui.tool) ?? (this.tools[0] as ToolHandler);
  }
  cancelDraft(): void {
    for (const t of this.tools) t.cancel();
  }
  drafting(): boolean {
    return this.tools.some((t) => t.active());
  }
  setTool(tool: Tool): void {
    const handler = this.tools.find((t) => t.id === tool);
    if (!handler) return;
    if (handler.shapes.length > 0) {
      if (this.state.read_only) return;
      const c = this.activeClass();
      if (!c || !handler.shapes.includes(c.shape)) {
        const first = this.classes().find((x) => handler.shapes.includes(x.shape));
        if (!first) return;
        this.ui.activeClass = first.id;
      }
    }
    if (this.ui.tool !== tool) this.cancelDraft();
    this.ui.tool = tool;
    this.leaveDragMode();
    this.changed();
  }
  /** A tool or class the user picks takes the left button back from the crosshair or window
   * drag (as a primary tool does in OHIF); the crosshair lines stay shown. */
  private leaveDragMode(): void {
    const mode = this.ui.mode;
    if (mode === "none") return;
    this.ui.mode = "none";
    this.toast(
      mode === "crosshair"
        ? "Crosshair drag off: the left button draws with the tool chosen (the lines stay; Alt+X hides them)"
        : "Window drag off: the left button draws with the tool chosen (Alt+W drags the window again)",
    );
  }
  /**
   * Make `c` the class new shapes are drawn with (its tool if the tool draws another shape).
   * `chosen`: the user chose it (its key or button): a selected object of another class is let
   * go, since choosing a class is choosing what the next stroke makes (QA 24a D9: the brush,
   * with a Liver polygon still selected from drawing it, painted into the polygon instead of
   * making the Tumour just chosen). Python's `w.active_class` keeps Python's `w.selected`.
   */
  setClass(c: OntologyClass, chosen = false): void {
    const tool = this.toolFor(c);
    if (!tool) {
      this.toast(`Drawing ${c.shape.replace("_", " ")} objects is not available yet`);
      return;
    }
    if (this.state.read_only) return;
    const selected = this.ui.selected !== null ? this.object(this.ui.selected) : undefined;
    if (chosen && selected && selected.feature !== c.id) this.ui.selected = null;
    if (this.ui.activeClass !== c.id) this.cancelDraft();
    this.continuingUuid = null;
    this.ui.activeClass = c.id;
    // a class whose shape the chosen tool also edits keeps that tool (brush vs eraser)
    if (!this.tool().shapes.includes(c.shape)) this.ui.tool = tool.id;
    this.leaveDragMode();
    this.changed();
  }

  private nextRequest(): number {
    this.seq += 1;
    return this.seq;
  }
  send(content: Record<string, unknown>): void {
    const i = this.info();
    if (!i) return;
    this.host.send({ ...content, series: i.id });
  }
  /** Send an edit, undo or redo to Python; false (refused with the reason) without a kernel. */
  private post(content: Record<string, unknown>): boolean {
    if (this.host.connected() && this.host.send(content)) return true;
    this.refuse(OFFLINE_EDIT);
    return false;
  }
  request(content: Record<string, unknown>, onAnswer?: (a: Answer) => void): number | null {
    const i = this.info();
    if (!i) return null;
    if (this.state.read_only) {
      this.refuse("the labels are read-only (review mode): edits are off");
      return null;
    }
    const request = this.nextRequest();
    this.pending.set(request, { kind: "update", uuid: "", slice: -1, onAnswer, sentAt: performance.now() });
    if (!this.post({ ...content, series: i.id, request })) {
      this.pending.delete(request);
      return null;
    }
    return request;
  }
  sendEdit(op: Record<string, unknown>, preview?: Preview | null, onAnswer?: (a: Answer) => void): boolean {
    const i = this.info();
    if (!i) return false;
    if (this.state.read_only) {
      this.refuse("the labels are read-only (review mode): edits are off");
      return false;
    }
    const request = this.nextRequest();
    this.pending.set(request, { ...(preview ?? { kind: "update", uuid: "", slice: -1 }), onAnswer, sentAt: performance.now() });
    this.host.refuse("");
    // not sent: nothing is shown as done, the edit is dropped with the reason
    const sent = this.post({ type: "edit", series: i.id, request, op });
    if (!sent) this.pending.delete(request);
    this.changed();
    return sent;
  }
  createObject(geometry: Keyframe, opts: { feature?: string; slice?: number; uuid?: string } = {}): string | null {
    const c = opts.feature ? this.classes().find((x) => x.id === opts.feature) : this.activeClass();
    if (!c) {
      this.refuse("choose an object class first");
      return null;
    }
    const k = opts.slice ?? this.slice();
    const cont = this.continuingUuid ? this.object(this.continuingUuid) : undefined;
    if (!opts.uuid && cont && cont.feature === c.id) {
      // instantiate existing: a keyframe of that object, same uuid
      this.continuingUuid = null;
      return this.setKeyframe(cont.uuid, k, geometry) ? cont.uuid : null;
    }
    const uuid = opts.uuid ?? uuid4();
    const keyframe: Keyframe = { manual: true, ...geometry };
    const object: LabelObject = { uuid, object_id: 0, feature: c.id, shape: c.shape, plane: this.plane(), keyframes: { [String(k)]: keyframe } };
    const ok = this.sendEdit(createObjectOp(uuid, c.id, this.plane(), k, geometry), {
      kind: "create",
      uuid,
      slice: k,
      item: { object, keyframe },
    });
    if (!ok) return null;
    this.ui.selected = uuid;
    return uuid;
  }
  setKeyframe(uuid: string, slice: number, geometry: Keyframe): boolean {
    const object = this.object(uuid);
    if (!object) {
      this.refuse("that object is not in the labels (yet): wait for Python's answer");
      return false;
    }
    const { manual: _m, ...geo } = geometry;
    const keyframe: Keyframe = { manual: true, ...geo };
    return this.sendEdit(
      { op: "set_keyframe", uuid, slice, geometry: geo, manual: true },
      { kind: "update", uuid, slice, item: { object, keyframe } },
    );
  }
  /**
   * Delete what the user sees of an object: its keyframe on this slice when it has others
   * (a track keeps its other slices; Shift+Delete deletes it everywhere), else the object.
   */
  deleteHere(uuid: string): boolean {
    const o = this.object(uuid);
    if (!o) return false;
    // an object's keyframes are slices of its own plane; a reformat's slice number is not one
    // of them (QA 24a D4: Delete on coronal slice 26 deleted the selected mask's axial slice 26)
    const plane = objectPlane(o);
    if (plane !== this.plane()) {
      const erase = o.shape === "bitmask" ? "erase what this view cuts with the eraser (h), or " : "";
      this.refuse(`#${o.object_id} is drawn on the ${plane} plane: Delete removes its keyframe there (this view shows the ${this.plane()} plane); ${erase}Shift+Delete deletes it on every slice`);
      return false;
    }
    const k = this.slice();
    const slices = Object.keys(o.keyframes);
    if (slices.length === 1) return this.deleteObject(uuid);
    if (!slices.includes(String(k))) {
      // (a second Delete after deleting this slice's keyframe deleted the whole track)
      this.toast(`#${o.object_id} is not on slice ${k + 1} (it is on ${slices.length} other slices): Shift+Delete deletes it on every slice`);
      return false;
    }
    const ok = this.sendEdit({ op: "delete_keyframe", uuid, slice: k });
    if (ok) {
      // the object stays selected, so that the toast's Shift+Delete deletes it (QA 21b D6)
      this.toast(`Deleted on slice ${k + 1} only (${slices.length - 1} other slice${slices.length === 2 ? "" : "s"} kept; Shift+Delete deletes it on every slice)`);
    }
    return ok;
  }
  deleteObject(uuid: string): boolean {
    if (!this.object(uuid)) return false; // a preview: wait for its echo
    const ok = this.sendEdit(deleteObjectOp(uuid), { kind: "delete", uuid, slice: this.slice() });
    if (ok && this.ui.selected === uuid) this.ui.selected = null;
    return ok;
  }
  sendHistory(type: "undo" | "redo"): void {
    const i = this.info();
    if (!i) return;
    if (this.state.read_only) return this.refuse("the labels are read-only (review mode): undo and redo are off");
    this.post({ type, series: i.id });
  }
  onMessage(handler: (msg: unknown, buffers: readonly DataView[]) => void): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }
  onLabels(handler: () => void): () => void {
    this.labelsHandlers.add(handler);
    return () => this.labelsHandlers.delete(handler);
  }

  // ---- geometry helpers -----------------------------------------------------------------
  voxelAt(e: { clientX: number; clientY: number }): Point | null {
    const g = this.geometry();
    if (!g) return null;
    const r = this.viewport.getBoundingClientRect();
    const [x, y] = screenToVoxel(g, this.view(), e.clientX - r.left, e.clientY - r.top);
    return clampPoint([x, y], g.columns, g.rows);
  }
  private rawVoxelAt(e: { clientX: number; clientY: number }): Point | null {
    const g = this.geometry();
    if (!g) return null;
    const r = this.viewport.getBoundingClientRect();
    const [x, y] = screenToVoxel(g, this.view(), e.clientX - r.left, e.clientY - r.top);
    return [round3(x), round3(y)];
  }
  pxToVoxels(px: number): number {
    const g = this.geometry();
    if (!g) return 1;
    const s = viewScale(g, this.view()) * (((g.columnSpacing || 1) + (g.rowSpacing || 1)) / 2);
    return s > 0 ? px / s : 1;
  }
  at(e: PointerEvent | MouseEvent): PointerAt | null {
    const p = this.voxelAt(e);
    const raw = this.rawVoxelAt(e);
    return p && raw ? { p, raw, e } : null;
  }

  // ---- from the widget ------------------------------------------------------------------
  /** A new labels_state from Python: the whole document (at first, after a series switch or
   * a large change, or when asked for); edits in between come as patches. */
  onLabelsState(): void {
    const trait = readLabelsTrait(this.model.get("labels_state"));
    if ("kept" in trait) {
      // Python's marker in place of the whole state: kept if this view took that state, else
      // (a view made since, a saved notebook reopened) the whole state is asked for
      if (trait.kept !== this.wholeSent) this.askLabels();
      return;
    }
    this.resyncAsked = false;
    this.wholeSent = trait.sent;
    this.takeState(trait.state);
  }
  /** Ask Python for the whole labels_state (sent to every view of the model). */
  private askLabels(): void {
    const i = this.info();
    if (this.resyncAsked || !i) return;
    this.resyncAsked = true;
    this.host.send({ type: "get_labels", series: i.id });
  }
  /** A labels_patch from Python: the objects that changed. One that does not start from the
   * revision held asks for the whole state (once, until it comes). */
  private onLabelsPatch(raw: unknown, buffers: readonly DataView[]): boolean {
    const patch = parseLabelsPatch(raw, buffers);
    if (!patch) return false;
    const i = this.info();
    if (i && (raw as { series?: unknown }).series !== i.id) return true; // a series shown before
    const next = applyLabelsPatch(this.state, patch);
    if (next) this.takeState(next);
    else this.askLabels();
    return true;
  }
  private takeState(state: LabelsState): void {
    // review mode over: its refusals no longer hold (QA: the banner stayed)
    if (this.state.read_only && !state.read_only) this.host.clearRefusal?.("the labels are read-only");
    this.state = state;
    this.byUuid = new Map();
    // the first of a uuid wins, as a linear find would
    for (const o of this.state.objects) if (!this.byUuid.has(o.uuid)) this.byUuid.set(o.uuid, o);
    this.bySlice = indexBySlice(this.state.objects, this.plane());
    this.reconcile();
    if (this.classWhenListed !== null) {
      const c = this.classes().find((x) => x.id === this.classWhenListed);
      if (c) {
        this.classWhenListed = null;
        this.setClass(c);
      }
    }
    if (this.state.read_only && this.drafting()) {
      this.cancelDraft();
      // said, not silently dropped (QA: pending strokes vanished when Python turned review on)
      this.toast("Review mode: the labels are read-only now; what was drawn and not applied is dropped");
    }
    if (this.ui.activeClass !== null && !this.activeClass()) this.ui.activeClass = null;
    for (const h of this.labelsHandlers) h();
    this.changed();
  }
  /** The user is about to switch series: a pending mask edit is sent first, not lost. */
  beforeSeriesSwitch(): void {
    applyPendingMask(this);
  }
  /** Another plane is about to be shown: a pending mask edit is applied (its slice is one of
   * this plane's). */
  beforePlaneSwitch(): void {
    applyPendingMask(this);
  }
  /** The masks on slice k of `plane`, for the orthogonal thumbnails (null: no mask objects). */
  maskThumbnail(plane: Plane, k: number): { key: string; image: () => ImageData | null } | null {
    return maskSession(this).thumbnail(plane, k);
  }
  /** The object classes with their hotkeys, and whether one draws bitmasks (for the
   * keyboard shortcuts card). */
  classKeys(): { classes: { name: string; hotkey: string }[]; masks: boolean } {
    const list = this.classes();
    return { classes: list.map((c, i) => ({ name: c.name, hotkey: classHotkey(c, i) ?? "" })), masks: list.some((c) => c.shape === "bitmask") };
  }
  /**
   * The slice changed (a wheel notch, a key, Python): a shape being drawn is dropped, with a
   * word, rather than finished on the new slice with the vertices placed on the old one
   * (QA 21b D5). A mask tool's pending strokes stay on their slice (applied with Enter).
   */
  readonly onSlice = (): void => {
    const drawing = this.tools.filter((t) => t.active() && !t.shapes.includes("bitmask"));
    if (drawing.length === 0) return;
    for (const t of drawing) t.cancel();
    this.toast("The shape being drawn was dropped: the slice changed (finish a shape before leaving its slice)");
    this.changed();
  };
  /** Another plane is shown: its objects, no draft; the selection only if it is a mask. */
  onPlane(): void {
    this.cancelDraft();
    this.continuingUuid = null;
    // a bitmask object kept on the series' own slices is painted from every plane: it stays
    // selected, as the selected segment does in Slicer (QA 23b D3: the next stroke on a
    // reformat started a second object of its class); any other object belongs to its plane
    const selected = this.ui.selected === null ? undefined : this.byUuid.get(this.ui.selected);
    if (!(selected?.shape === "bitmask" && objectPlane(selected) === "axial")) this.ui.selected = null;
    this.bySlice = indexBySlice(this.state.objects, this.plane());
    this.changed();
  }
  /** A new series: drop drafts, previews and the selection. */
  onSeries(): void {
    this.cancelDraft();
    // edits in flight keep their answer handlers (the kernel answers each, if only to refuse
    // it): a panel waiting for one would otherwise stay busy; their previews are dropped
    for (const [request, p] of this.pending) {
      if (p.onAnswer) this.pending.set(request, { kind: "update", uuid: "", slice: -1, onAnswer: p.onAnswer, revision: p.revision });
      else this.pending.delete(request);
    }
    this.hiddenSet.clear();
    this.continuingUuid = null;
    this.ui.selected = null;
    this.bySlice = indexBySlice(this.state.objects, this.plane());
    this.changed();
  }
  /** What reconcile() may change (the previews, the selection, hidden and continued objects). */
  private reconcileKey(): string {
    return `${this.pending.size}|${this.ui.selected}|${this.hiddenSet.size}|${this.continuingUuid}`;
  }
  private reconcile(): void {
    const present = this.byUuid;
    for (const [request, p] of this.pending) {
      if (p.uuid === "") {
        if (p.revision !== undefined && this.state.revision >= p.revision) this.pending.delete(request);
        continue;
      }
      const echoed = p.kind === "create" ? present.has(p.uuid) : p.kind === "delete" ? !present.has(p.uuid) : false;
      if (p.revision !== undefined && this.state.revision >= p.revision) this.pending.delete(request);
      else if (echoed) {
        // the echo came before the answer: the preview goes, the answer is still awaited (its
        // handler and the round-trip time; QA: creates never set data-edit-ms)
        this.pending.set(request, { kind: "update", uuid: "", slice: -1, onAnswer: p.onAnswer, sentAt: p.sentAt, revision: p.revision });
      }
    }
    if (this.selectWhenListed !== null && present.has(this.selectWhenListed)) {
      this.ui.selected = this.selectWhenListed;
      this.selectWhenListed = null;
    }
    const creating = [...this.pending.values()].some((p) => p.kind === "create" && p.uuid === this.ui.selected);
    if (this.ui.selected !== null && !present.has(this.ui.selected) && !creating) this.ui.selected = null;
    for (const uuid of [...this.hiddenSet]) if (!present.has(uuid)) this.hiddenSet.delete(uuid);
    if (this.continuingUuid && !present.has(this.continuingUuid)) {
      // (deleted elsewhere, e.g. from Python: the toast that said it continues must not stand)
      this.continuingUuid = null;
      this.toast("The object being continued was deleted: the next shape starts a new object");
    }
  }
  /**
   * A custom message from the kernel: answers to edits are taken here (and return true when
   * nothing else needs them); others go to the registered handlers.
   */
  onCustom(raw: unknown, buffers: readonly DataView[]): boolean {
    if (this.onLabelsPatch(raw, buffers)) return true;
    const msg = parseEditAnswer(raw);
    if (msg) {
      const p = this.pending.get(msg.request);
      if (msg.type === "edit_ack") {
        if (p) {
          if (p.sentAt !== undefined && p.revision === undefined) {
            // round trip of the last acknowledged request (page -> kernel -> answer), for
            // benchmarks; acks counted so a reader can tell a new one from the last
            this.root.dataset.editMs = (performance.now() - p.sentAt).toFixed(2);
            this.root.dataset.edits = String(Number(this.root.dataset.edits ?? "0") + 1);
          }
          p.revision = msg.revision;
          p.onAnswer?.({ ok: true, revision: msg.revision });
        }
        const before = this.reconcileKey();
        this.reconcile();
        // the labels_state of the edit came first and took its preview already: nothing to
        // redraw (a frame of hundreds of objects costs milliseconds the next edit would wait)
        if (p || this.reconcileKey() !== before) this.changed();
        return true;
      }
      // an error: the controller shows its message in the banner; drop the preview
      this.pending.delete(msg.request);
      p?.onAnswer?.({ ok: false, message: msg.message });
      if (p?.kind === "create" && this.ui.selected === p.uuid) this.ui.selected = null;
      this.changed();
      return false;
    }
    for (const h of this.messageHandlers) h(raw, buffers);
    return false;
  }

  // ---- events ---------------------------------------------------------------------------
  /** Left-button press on the viewport (no modifier); true when taken. */
  pointerDown(e: PointerEvent): boolean {
    const at = this.at(e);
    if (!at) return false;
    const tool = this.state.read_only ? (this.tools[0] as ToolHandler) : this.tool();
    tool.down(at);
    this.changed();
    return true;
  }
  /**
   * The pointer is over a crosshair line (`overLine`, the widget found it): whether a plain left
   * press there would move the line rather than be the tools'. Only the select tool leaves it
   * such a press, and not on an object or a handle of the selected one (the tool's: it picks,
   * moves or edits them). Its cursor says so (`SelectTool.crosshairHover`).
   */
  lineUnder(e: PointerEvent, overLine: boolean): boolean {
    const tool = this.state.read_only ? (this.tools[0] as ToolHandler) : this.tool();
    if (!(tool instanceof SelectTool)) return false;
    let free = false;
    if (overLine) {
      const at = this.at(e);
      free = at !== null && !tool.grabs(at);
    }
    if (tool.crosshairHover !== free) {
      tool.crosshairHover = free;
      this.changed();
    }
    return free;
  }
  pointerMove(e: PointerEvent): void {
    const tool = this.tool();
    const at = this.at(e);
    if (at) tool.move(at);
  }
  pointerUp(e: PointerEvent): void {
    const at = this.at(e);
    if (at) this.tool().up(at);
    this.changed();
  }
  dblclick(e: MouseEvent): boolean {
    const at = this.at(e);
    const tool = this.tool();
    return Boolean(at && tool.dblclick?.(at));
  }
  /** A key in the widget (not in a text field); true when the editor took it. */
  key(e: KeyboardEvent): boolean {
    const mod = e.ctrlKey || e.metaKey;
    const plain = !mod && !e.altKey;
    if (!this.state.read_only && this.tool().key?.(e)) return true;
    // a class key before the panels: an option with the same key (the ontology warns of it)
    // does not take it (QA 24a D8: '2' meant for class 2 answered the lesion's grade)
    const classKey = plain ? this.classes().find((c, idx) => classHotkey(c, idx) === e.key) : undefined;
    if (classKey) {
      this.setClass(classKey, true);
      return true;
    }
    for (const p of this.panels) if (p.key?.(e)) return true;
    if (isAccel(e, "z", true) || isAccel(e, "y")) {
      this.sendHistory("redo");
      return true;
    }
    if (isAccel(e, "z")) {
      this.sendHistory("undo");
      return true;
    }
    if (!mod && !e.altKey && (e.key === "Delete" || e.key === "Backspace")) {
      if (!this.ui.selected) return false;
      if (e.shiftKey) this.deleteObject(this.ui.selected);
      else this.deleteHere(this.ui.selected);
      return true;
    }
    // the measure tool, or (chosen already) the next kind of measurement
    if (plain && !e.shiftKey && keyLetter(e) === "l" && !this.state.read_only) {
      const tool = this.tool();
      if (tool instanceof MeasureHandler) tool.nextKind();
      else this.setTool("measure");
      return true;
    }
    if (e.key === "Escape" && this.continuingUuid && !this.drafting()) {
      this.continueTrack(null);
      return true;
    }
    if (e.key === "Escape" && this.drafting()) {
      this.cancelDraft();
      this.changed();
      return true;
    }
    if (e.key === "Escape" && this.ui.selected) {
      this.select(null);
      return true;
    }
    return false;
  }

  // ---- drawing --------------------------------------------------------------------------
  /** Class bar, tool buttons and panels. */
  updateControls(): void {
    const list = this.classes();
    const onto = this.state.ontology;
    const key = JSON.stringify(list.map((c, i) => [c.id, c.name, c.shape, classColor(onto, c.id), classHotkey(c, i)]));
    if (key !== this.classKey) {
      this.classKey = key;
      this.classButtons.clear();
      this.classGroup.replaceChildren();
      list.forEach((c, i) => {
        const hk = classHotkey(c, i);
        const tool = this.toolFor(c);
        const b = button(this.classGroup, {
          label: c.name,
          title: `${c.name} (${c.shape.replace("_", " ")})${hk ? ` · key ${hk}` : ""}${tool ? "" : " · drawing not available yet"}`,
          testid: `daw-class-${c.id}`,
          toggle: true,
        });
        b.classList.add("daw-class");
        const swatch = el("span", "daw-swatch");
        swatch.style.background = classColor(onto, c.id);
        b.prepend(swatch);
        if (hk) el("span", "daw-hotkey", b, hk);
        b.addEventListener("click", () => this.setClass(c, true), { signal: this.signal });
        this.classButtons.set(c.id, b);
      });
    }
    const ro = this.state.read_only;
    if (ro && this.ui.tool !== "select") {
      this.cancelDraft();
      this.ui.tool = "select";
    }
    const drawing = this.tool().shapes.length > 0;
    this.classGroup.hidden = list.length === 0;
    this.toolGroup.hidden = false; // (measuring needs no ontology)
    for (const [id, b] of this.classButtons) {
      const c = list.find((x) => x.id === id);
      b.disabled = ro || !c || !this.toolFor(c);
      const pressed = id === this.ui.activeClass && drawing;
      // a long class bar scrolls (a model's hundred classes): the chosen one comes into view
      if (pressed && b.getAttribute("aria-pressed") !== "true" && this.classGroup.scrollHeight > this.classGroup.clientHeight) b.scrollIntoView({ block: "nearest" });
      setPressed(b, pressed);
    }
    for (const t of this.tools) {
      const b = this.toolButtons.get(t.id);
      if (!b) continue;
      b.disabled = t.shapes.length > 0 ? ro || !list.some((c) => t.shapes.includes(c.shape)) : ro && t.id !== "select";
      b.hidden = t.shapes.length > 0 && !list.some((c) => t.shapes.includes(c.shape));
      setPressed(b, this.ui.tool === t.id);
    }
    const [undoBtn, redoBtn] = this.historyButtons;
    const noUndo = ro || !this.state.can_undo;
    const noRedo = ro || !this.state.can_redo;
    if (undoBtn && undoBtn.disabled !== noUndo) undoBtn.disabled = noUndo;
    if (redoBtn && redoBtn.disabled !== noRedo) redoBtn.disabled = noRedo;
    // written only when they change: an attribute write, even of the same value, makes the
    // browser recompute the styles of the widget (CSS keys on data-tool), every frame
    setData(this.root, "tool", this.ui.tool);
    setData(this.root, "continuing", this.continuingUuid);
    setData(this.root, "readOnly", String(ro));
    if (this.viewport.classList.contains("daw-drawing") !== drawing) this.viewport.classList.toggle("daw-drawing", drawing);
    const cursor = this.tool().cursor?.() ?? "";
    if (this.viewport.style.cursor !== cursor) this.viewport.style.cursor = cursor;
    for (const p of this.panels) p.update();
  }

  /** The overlay canvas: layers (masks), vector objects, the draft and tool handles. */
  draw(cssSize: [number, number]): void {
    const canvas = this.host.labelsCanvas;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const [bw, bh] = backingSize(cssSize[0], cssSize[1], dpr);
    const v = this.view();
    const k = this.slice();
    const layerKey = [...this.layers.map((l) => l.key()), ...this.panels.map((p) => p.drawKey?.() ?? "")].join("|");
    const plane = this.plane();
    const key = `${this.gen}|${plane}|${k}|${this.model.get("slab") ?? 1}|${bw}x${bh}|${cssSize}|${this.geometry()?.width}|${v.zoom}|${v.pan}|${v.rotation}|${v.flipH}|${v.flipV}|${this.info()?.id}|${layerKey}`;
    if (key === this.drawnKey && canvas.width === bw && canvas.height === bh) return;
    this.drawnKey = key;
    if (canvas.width !== bw || canvas.height !== bh) {
      canvas.width = bw;
      canvas.height = bh;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, bw, bh);
    const g = this.geometry();
    if (!g || cssSize[0] <= 0 || cssSize[1] <= 0) return;
    const started = performance.now();
    const items = this.items(k);
    const toScreen = imageToScreen(g, v);
    const vm = voxelMatrix(toScreen);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const layer of this.layers) {
      ctx.save();
      layer.draw(ctx, toScreen, k);
      ctx.restore();
    }
    const tool = this.tool();
    drawOverlay(ctx, items, vm, {
      ontology: this.state.ontology,
      selected: this.ui.selected,
      draft: tool.draft?.() ?? null,
      viewport: [cssSize[0], cssSize[1]],
      bridges: this.bridges,
    });
    const moving = tool instanceof MeasureHandler ? tool.movingMeasurement() : null;
    const measurements = measurementsOn(this.state.measurements, this.plane(), k).filter((x) => x.uuid !== moving);
    ctx.save();
    const projected = (this.model.get("slab") ?? 1) > 1;
    const measureTexts = drawMeasurements(ctx, measurements, vm, this.info(), (item) => this.areaStatsOf(item), [cssSize[0], cssSize[1]], projected);
    ctx.restore();
    for (const p of this.panels) {
      if (!p.draw) continue;
      ctx.save();
      p.draw(ctx, vm, k);
      ctx.restore();
    }
    if (tool.draw) {
      ctx.save();
      tool.draw(ctx, vm);
      ctx.restore();
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    canvas.dataset.slice = String(k);
    canvas.dataset.count = String(items.length);
    canvas.dataset.measurements = String(measurements.length);
    // what the measurements say (canvas text cannot be read back), for tests
    canvas.dataset.measureText = measureTexts.join(" | ");
    canvas.dataset.revision = String(this.state.revision);
    // cost of drawing the overlay (ms), for benchmarks
    canvas.dataset.drawMs = (performance.now() - started).toFixed(3);
    if (this.ui.selected) canvas.dataset.selected = this.ui.selected;
    else delete canvas.dataset.selected;
  }

  /** Modality statistics inside an area measurement on its (arrived) slice or reformat,
   * cached per measurement and points; null for colour images or what has not arrived. */
  private areaStatsOf(item: Measurement): AreaStats | null {
    const volume = this.volume();
    if (!volume) return null;
    // (a reformat's statistics wait for every slice: the count is in the key until then)
    const key = `${volume.info.id}|${item.plane}|${item.slice}|${item.uuid}|${item.points.join(";")}|${volume.loadedCount}`;
    const known = this.statsCache.get(key);
    if (known !== undefined) return known;
    const stats = volumeAreaStats(volume, item);
    if (this.statsCache.size > 256) this.statsCache.clear();
    this.statsCache.set(key, stats);
    return stats;
  }

  dispose(): void {
    for (const p of this.panels) p.dispose?.();
    this.messageHandlers.clear();
    this.labelsHandlers.clear();
  }
}
