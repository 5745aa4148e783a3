/**
 * UI-only state and the pure rules of navigation. Nothing here is synced to Python: the
 * synced view state lives in the model (`plane`, `slice`, `crosshair`, `slab`, `window`, `zoom`, `pan`, `rotation`, `flip`,
 * `frameskip`, `series_index`).
 */
import type { WidgetState } from "./loader";

/** Synced traits this front end reads and writes (the loader's plus the view state). */
export interface ViewState extends WidgetState {
  /** the plane shown, in the label document's names ("axial": the series' own slices) */
  plane: string;
  /** (column, row, slice): where the three planes cross; `slice` is its component of the plane shown */
  crosshair: [number, number, number];
  /** slices in the maximum intensity projection around the slice (1: none) */
  slab: number;
  zoom: number;
  pan: [number, number];
  rotation: number;
  flip: [boolean, boolean];
  /** the grey scale shown inverted (negative), relative to how DICOM presents the image */
  invert: boolean;
  /** the crosshair lines shown (where the planes cross) */
  crosshair_lines?: boolean;
  frameskip: number;
  /** cine frames per second (0: stopped; js/cine.ts) */
  cine: number;
  series_index: number;
  series_count: number;
  /** the label document in compact form (see js/labels.ts); absent before Python sets it */
  labels_state?: unknown;
  /** the selected object's uuid (null: none); set from either side */
  selected?: string | null;
  /** uuids of the objects not drawn (the objects panel's eye button) */
  hidden?: string[];
  /** the tool chosen (a `Tool`) */
  tool?: string;
  /** the id of the object class new shapes get (null: none chosen) */
  active_class?: string | null;
  /** the opacity of the masks drawn over the image, 0..1 */
  mask_opacity?: number;
  /** a stroke's new pixels leave the other bitmask objects (one object a voxel) */
  mask_overwrite?: boolean;
}

/** Annotation tools: select (click an object) or draw a shape of the active class. */
export type Tool =
  | "select"
  | "box"
  | "polygon"
  | "polyline"
  | "point"
  | "primitive"
  | "brush"
  | "eraser"
  | "threshold"
  | "scissors"
  | "measure";

/** Every tool (Python's `TOOLS` in widget/annotator.py has the same ids). */
export const TOOLS: readonly Tool[] = ["select", "box", "polygon", "polyline", "point", "primitive", "brush", "eraser", "threshold", "scissors", "measure"];

/** What a left-drag on the image does besides the tools: nothing, windowing, or moving the
 * crosshair. */
export type Mode = "none" | "window" | "crosshair";

/** Per-view UI state (hover, mode, panels): never synced, never global. */
export interface UiState {
  mode: Mode;
  overlay: boolean;
  metadataOpen: boolean;
  maximised: boolean;
  /** voxel under the pointer, or null */
  hover: [number, number] | null;
  tool: Tool;
  /** ontology class id new objects get */
  activeClass: string | null;
  /** uuid of the selected object */
  selected: string | null;
}

export function initialUiState(): UiState {
  return { mode: "none", overlay: true, metadataOpen: false, maximised: false, hover: null, tool: "select", activeClass: null, selected: null };
}

export function clampSlice(k: number, n: number): number {
  if (n <= 0 || !Number.isFinite(k)) return 0;
  return Math.min(n - 1, Math.max(0, Math.round(k)));
}

/** One step of `steps` frameskip intervals from slice `current` (clamped to the series). */
export function stepSlice(current: number, steps: number, frameskip: number, n: number): number {
  const skip = Math.max(1, Math.round(frameskip) || 1);
  return clampSlice(current + steps * skip, n);
}

/**
 * Scrubbing with a frameskip: the slice nearest `target` on the grid of every `frameskip`-th
 * slice through `anchor` (the slice where the scrub began), clamped to the series.
 */
export function snapSlice(anchor: number, target: number, frameskip: number, n: number): number {
  const skip = Math.max(1, Math.round(frameskip) || 1);
  const k = anchor + Math.round((target - anchor) / skip) * skip;
  if (k > n - 1) return clampSlice(k - skip * Math.ceil((k - (n - 1)) / skip), n);
  if (k < 0) return clampSlice(k + skip * Math.ceil(-k / skip), n);
  return clampSlice(k, n);
}

/** Frameskip presets offered in the menu; any positive integer is allowed. */
export const FRAMESKIP_PRESETS = [1, 2, 5, 10] as const;

export function parseFrameskip(text: string, n: number): number | null {
  const v = Number(text.trim());
  if (!Number.isInteger(v) || v < 1) return null;
  return Math.min(v, Math.max(1, n - 1));
}

// -- custom window presets (localStorage, per modality) --------------------------------------

export interface CustomPreset {
  name: string;
  center: number;
  width: number;
}

/** Minimal storage interface (localStorage, or a stand-in in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function presetKey(modality: string): string {
  return `${PRESET_KEY_PREFIX}${modality || "OT"}`;
}
const PRESET_KEY_PREFIX = "dicom_annot_widget:window-presets:";
/** Told on `window` when a widget saved or deleted a preset: the other widgets of the page
 * read theirs again (the `storage` event tells other pages only). */
export const PRESETS_CHANGED = "dicom_annot_widget:window-presets";
/** Whether a `storage` event (another page of this origin) concerns the saved presets. */
export function presetsEvent(key: string | null): boolean {
  return key === null || key.startsWith(PRESET_KEY_PREFIX);
}

export function loadPresets(store: KeyValueStore | null, modality: string): CustomPreset[] {
  if (!store) return [];
  try {
    const raw: unknown = JSON.parse(store.getItem(presetKey(modality)) ?? "[]");
    if (!Array.isArray(raw)) return [];
    return raw.filter(
      (p): p is CustomPreset =>
        typeof p === "object" &&
        p !== null &&
        typeof p.name === "string" &&
        Number.isFinite(p.center) &&
        Number.isFinite(p.width) &&
        p.width > 0,
    );
  } catch {
    return [];
  }
}

/** Save (or replace, by name) a preset; returns the new list. */
export function savePreset(
  store: KeyValueStore | null,
  modality: string,
  preset: CustomPreset,
): CustomPreset[] {
  const name = preset.name.trim().slice(0, 60);
  if (!name) throw new Error("a preset needs a name");
  if (!Number.isFinite(preset.center) || !Number.isFinite(preset.width) || preset.width <= 0) {
    throw new Error("a preset needs a finite centre and a positive width");
  }
  const list = loadPresets(store, modality).filter((p) => p.name !== name);
  list.push({ name, center: preset.center, width: preset.width });
  try {
    store?.setItem(presetKey(modality), JSON.stringify(list));
  } catch {
    // storage full or blocked: keep the preset for this session only
  }
  return list;
}

export function deletePreset(store: KeyValueStore | null, modality: string, name: string): CustomPreset[] {
  const list = loadPresets(store, modality).filter((p) => p.name !== name);
  try {
    store?.setItem(presetKey(modality), JSON.stringify(list));
  } catch {
    // ignore
  }
  return list;
}

/** localStorage when the page allows it (sandboxed frames may throw on access). */
export function browserStore(): KeyValueStore | null {
  try {
    const s = globalThis.localStorage;
    return s ?? null;
  } catch {
    return null;
  }
}
