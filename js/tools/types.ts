/**
 * What a tool and a panel of the label editor see of it (js/editor.ts), and what they must
 * provide. One tool per file in js/tools/, one panel per file in js/ui/; each is registered in
 * js/editor.ts and knows nothing of the others.
 */
import type { AnyModel } from "@anywidget/types";
import type { Keyframe, LabelObject, LabelsState, Ontology, OntologyClass, Point, Shape, SliceItem } from "../labels";
import type { SeriesInfo } from "../protocol";
import type { Draft } from "../render/overlay";
import type { Geometry, Matrix, ViewParams } from "../render/transform";
import type { Tool, UiState, ViewState } from "../state";
import type { IconName } from "../ui/dom";
import type { Volume } from "../volume";

/** A pointer event on the viewport, with its voxel point (clamped into the image). */
export interface PointerAt {
  /** voxel (column, row), clamped into the image and rounded to 1/1000 */
  p: Point;
  /** the same point, not clamped (may lie outside the image) */
  raw: Point;
  e: PointerEvent | MouseEvent;
}

/** An optimistic preview of an edit, shown until Python's echo (or refusal) arrives. */
export interface Preview {
  kind: "create" | "delete" | "update";
  uuid: string;
  slice: number;
  /** create / update: what to show on `slice` meanwhile */
  item?: SliceItem;
}

/** Answer of the kernel to a request (edit_ack or error). */
export type Answer = { ok: true; revision: number } | { ok: false; message: string };

/** The label editor as seen by tools and panels. */
export interface EditorApi {
  readonly model: AnyModel<ViewState>;
  readonly signal: AbortSignal;
  readonly ui: UiState;
  /** the widget's root element (for popups that must stay inside the widget) */
  readonly root: HTMLElement;
  /** the viewport over the image (pointer events, popups over the image) */
  readonly viewport: HTMLElement;
  /** a column beside the viewport where panels stack (instances, classifications, ...) */
  readonly side: HTMLElement;
  /** the toolbar row of tool buttons */
  readonly toolGroup: HTMLElement;
  /** a row under the slice bar for slice-range displays (dynamic / frame classifications) */
  readonly rangeRow: HTMLElement;

  labels(): LabelsState;
  ontology(): Ontology | null;
  classes(): OntologyClass[];
  activeClass(): OntologyClass | null;
  /** choose the class new objects get (and the tool drawing its shape) */
  setClass(c: OntologyClass, chosen?: boolean): void;
  setTool(tool: Tool): void;
  plane(): string;
  info(): SeriesInfo | null;
  volume(): Volume | null;
  geometry(): Geometry | null;
  view(): ViewParams;
  /** voxel -> screen (CSS px) matrix of the current view */
  voxelToScreen(): Matrix | null;
  slice(): number;
  setSlice(k: number): void;
  /** number of slices of the series (0 before it is known) */
  sliceCount(): number;

  object(uuid: string): LabelObject | undefined;
  /** objects drawn on slice `k` (with optimistic previews, without hidden/deleted ones) */
  items(k: number): SliceItem[];
  selected(): string | null;
  select(uuid: string | null): void;
  /** objects hidden by the user (visibility toggles; never synced) */
  hidden(): ReadonlySet<string>;
  setHidden(uuid: string, hidden: boolean): void;

  /** Send an edit operation (labels/operations.py JSON form); false when refused locally. */
  sendEdit(op: Record<string, unknown>, preview?: Preview | null, onAnswer?: (a: Answer) => void): boolean;
  /** Create an object of the active class (or `feature`) with one manual keyframe on `slice`. */
  createObject(geometry: Keyframe, opts?: { feature?: string; slice?: number; uuid?: string }): string | null;
  /** Replace an object's geometry on a slice (a manual keyframe). */
  setKeyframe(uuid: string, slice: number, geometry: Keyframe): boolean;
  deleteObject(uuid: string): boolean;
  /** Send any other request (paint, interpolate, ...): adds `series` and `request`. */
  request(content: Record<string, unknown>, onAnswer?: (a: Answer) => void): number | null;
  /** Send a message without a request number (adds `series`). */
  send(content: Record<string, unknown>): void;
  /** Messages from the kernel (with their buffers); returns the unsubscribe. */
  onMessage(handler: (msg: unknown, buffers: readonly DataView[]) => void): () => void;
  /** Called after each new labels_state from Python; returns the unsubscribe. */
  onLabels(handler: () => void): () => void;

  voxelAt(e: { clientX: number; clientY: number }): Point | null;
  /** `px` CSS pixels expressed in voxels at the current zoom */
  pxToVoxels(px: number): number;
  /** the overlay (or panels) must be redrawn */
  changed(): void;
  refuse(message: string): void;
  toast(text: string): void;
  /** The labels are read-only (review mode). */
  readOnly(): boolean;
  /**
   * "Instantiate existing": while set, the next shape drawn with the tool of that object's
   * class becomes a keyframe of this object (same uuid) on the current slice instead of a
   * new object. Cleared after use, by Escape, or by choosing a class.
   */
  continuing(): string | null;
  continueTrack(uuid: string | null): void;
  /** Add a layer drawn under the vector overlay (masks). */
  addLayer(layer: Layer): void;
}

/** A drawing / editing tool: a small state machine driven by the editor. */
export interface ToolHandler {
  readonly id: Tool;
  /** shapes of ontology classes this tool draws (empty: not bound to a class) */
  readonly shapes: readonly Shape[];
  readonly button: { icon?: IconName | readonly string[]; label?: string; title: string };
  /** a drawing is in progress (Escape cancels it; the class cannot change meanwhile) */
  active(): boolean;
  down(at: PointerAt): void;
  move(at: PointerAt): void;
  up(at: PointerAt): void;
  /** handled double-click */
  dblclick?(at: PointerAt): boolean;
  /** handled key (plain keys, Enter, Backspace, ...); called only while this tool is chosen */
  key?(e: KeyboardEvent): boolean;
  cancel(): void;
  /** the shape being drawn, drawn by the vector overlay */
  draft?(): Draft | null;
  /** extra drawing over the overlay (handles, stroke preview), in CSS px */
  draw?(ctx: CanvasRenderingContext2D, voxelToScreen: Matrix): void;
  /** CSS cursor over the viewport */
  cursor?(): string;
}

/** A layer drawn under the vector overlay (mask overlays). */
export interface Layer {
  /** `imageToScreen`: image pixel (0..columns, 0..rows) -> CSS px matrix */
  draw(ctx: CanvasRenderingContext2D, imageToScreen: Matrix, slice: number): void;
  /** a key that changes whenever the layer's drawing changes */
  key(): string;
}

/** A panel or a set of keys: updated on every frame the editor draws. */
export interface Panel {
  update(): void;
  /** handled key; called for every key the active tool did not take */
  key?(e: KeyboardEvent): boolean;
  /** extra drawing over the vector overlay (CSS px), e.g. prediction marks */
  draw?(ctx: CanvasRenderingContext2D, voxelToScreen: Matrix, slice: number): void;
  /** a key that changes whenever draw() would draw something else */
  drawKey?(): string;
  dispose?(): void;
}

/** Makes a tool (or panel) for one view's editor. */
export type ToolFactory = (api: EditorApi) => ToolHandler;
export type PanelFactory = (api: EditorApi) => Panel;
