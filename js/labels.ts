/**
 * The page's read-only view of the label document (synced trait `labels_state`) and the
 * messages that change it. Python is the source of truth: the page sends edits and shows what
 * comes back. Pure functions, no DOM.
 */

export type Point = [number, number];

export type Shape = "bounding_box" | "polygon" | "polyline" | "point" | "primitive" | "bitmask";

/** An option of a radio or checklist classification (nested questions asked when chosen). */
export interface ClassificationOption {
  id: string;
  name: string;
  hotkey?: string | null;
  classifications?: Classification[];
}

/** A question: radio (one option), checklist (several) or free text. */
export interface Classification {
  id: string;
  name: string;
  type: "radio" | "checklist" | "text";
  /** attached to an object class: answers change across slices (with ranges) */
  dynamic?: boolean;
  required?: boolean;
  options?: ClassificationOption[];
}

export interface OntologyClass {
  id: string;
  name: string;
  shape: Shape;
  color?: string;
  hotkey?: string | null;
  nodes?: { id: string; name?: string; position?: Point }[];
  edges?: [string, string][];
  classifications?: Classification[];
}

export interface Ontology {
  objects: OntologyClass[];
  /** frame-level classifications (questions about a slice as a whole) */
  classifications?: Classification[];
}

/** An answer: option id (radio), option ids (checklist), text, or null (cleared). */
export type AnswerValue = string | string[] | null;

/** A dynamic answer of an object on the inclusive slice range. */
export interface DynamicAnswer {
  classification: string;
  answer: AnswerValue;
  range: [number, number];
}

/** A frame classification instance: answers on slice ranges of a plane. */
export interface FrameClassification {
  uuid: string;
  classification: string;
  plane: string;
  answers: Record<string, AnswerValue>;
  ranges: [number, number][];
}

export interface Keyframe {
  manual?: boolean;
  box?: [number, number, number, number];
  points?: Point[];
  point?: Point;
  nodes?: Record<string, Point>;
  edges?: string[];
  mask?: string;
  /** bitmask keyframes in labels_state: foreground pixels of that slice (no pixels synced) */
  mask_area?: number;
  /** bitmask keyframes in labels_state: a checksum of the slice's mask (masks.ts MaskCache) */
  mask_crc?: number;
}

export interface LabelObject {
  uuid: string;
  object_id: number;
  feature: string;
  shape: Shape;
  plane?: string;
  keyframes: Record<string, Keyframe>;
  /** "manual", "interpolation" or the name of the model that predicted it */
  source?: string;
  review?: string | null;
  confidence?: number | null;
  /** A prediction a person changed after the import (absent otherwise). */
  edited?: boolean;
  static?: Record<string, AnswerValue>;
  dynamic?: DynamicAnswer[];
}

/** A measurement on one slice (Python `Measurement`): `distance` (2 points), `angle` (3,
 * the vertex in the middle) or `area` (a polygon); points are (column, row) pixel
 * coordinates of its plane. `label` is user text: drawn as text, never as HTML. */
export interface Measurement {
  uuid: string;
  kind: "distance" | "angle" | "area";
  plane: string;
  slice: number;
  points: [number, number][];
  label: string;
  author?: string | null;
  created?: string;
}

/** Synced trait `labels_state`. */
export interface LabelsState {
  revision: number;
  ontology: Ontology | null;
  objects: LabelObject[];
  read_only: boolean;
  frame_classifications: FrameClassification[];
  measurements: Measurement[];
  /** Python's history has an edit to take back / to do again (true when not said) */
  can_undo: boolean;
  can_redo: boolean;
}

const MEASUREMENT_POINTS: Record<string, (n: number) => boolean> = {
  distance: (n) => n === 2,
  angle: (n) => n === 3,
  area: (n) => n >= 3,
};

/** The well-formed measurements of a list (malformed ones are left out, never thrown on). */
export function parseMeasurements(raw: unknown): Measurement[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((m): m is Measurement => {
    if (!isObj(m) || typeof m.uuid !== "string" || typeof m.kind !== "string") return false;
    const fits = MEASUREMENT_POINTS[m.kind];
    if (!fits || !Number.isInteger(m.slice) || typeof m.plane !== "string" || !Array.isArray(m.points)) return false;
    if (typeof m.label !== "string" || !fits(m.points.length)) return false;
    return m.points.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v)));
  });
}

/** Page -> kernel. */
export type LabelsPageMsg =
  | { type: "edit"; series: string; request: number; op: Record<string, unknown> }
  | { type: "undo"; series: string }
  | { type: "redo"; series: string };

/** Kernel -> page answers to an edit. */
export type EditAnswer =
  | { type: "edit_ack"; request: number; revision: number }
  | { type: "error"; message: string; request: number };

export function parseEditAnswer(msg: unknown): EditAnswer | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type === "edit_ack" && Number.isInteger(m.request) && Number.isInteger(m.revision)) {
    return { type: "edit_ack", request: m.request as number, revision: m.revision as number };
  }
  if (m.type === "error" && typeof m.message === "string" && Number.isInteger(m.request)) {
    return { type: "error", message: m.message, request: m.request as number };
  }
  return null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The trait arrives as a binary buffer of UTF-8 JSON (see annotator.py); tests push objects. */
function decodeJson(raw: unknown): unknown {
  let bytes: Uint8Array | null = null;
  if (raw instanceof DataView) bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  else if (raw instanceof ArrayBuffer) bytes = new Uint8Array(raw);
  else if (raw instanceof Uint8Array) bytes = raw;
  if (bytes === null) return raw;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/**
 * What the synced trait holds: the whole document (`sent`: its number, or null when it has
 * none, as a test's), or the marker Python puts in its place once the views that asked have
 * it (`kept`: the number of the whole state it stands for; see `send_state` in annotator.py),
 * so that a saved notebook does not keep labels as they were long ago.
 */
export type LabelsTrait = { kept: number } | { sent: number | null; state: LabelsState };

export function readLabelsTrait(raw0: unknown): LabelsTrait {
  const raw = decodeJson(raw0);
  if (isObj(raw) && typeof raw.kept === "number" && !("objects" in raw)) return { kept: raw.kept };
  return { sent: isObj(raw) && typeof raw.sent === "number" ? raw.sent : null, state: parseLabelsState(raw) };
}

/** Narrow the synced trait; anything malformed reads as "no labels" (never throws). */
export function parseLabelsState(raw0: unknown): LabelsState {
  const raw = decodeJson(raw0);
  if (!isObj(raw)) return { revision: -1, ontology: null, objects: [], read_only: false, frame_classifications: [], measurements: [], can_undo: false, can_redo: false };
  const ontology = isObj(raw.ontology) && Array.isArray(raw.ontology.objects) ? (raw.ontology as unknown as Ontology) : null;
  const objects = Array.isArray(raw.objects)
    ? (raw.objects.filter(
        (o) => isObj(o) && typeof o.uuid === "string" && isObj(o.keyframes) && typeof o.shape === "string",
      ) as unknown as LabelObject[])
    : [];
  return {
    revision: typeof raw.revision === "number" ? raw.revision : -1,
    ontology,
    objects,
    read_only: raw.read_only === true,
    frame_classifications: Array.isArray(raw.frame_classifications)
      ? (raw.frame_classifications.filter(
          (f) => isObj(f) && typeof f.uuid === "string" && typeof f.classification === "string" && Array.isArray(f.ranges),
        ) as unknown as FrameClassification[])
      : [],
    measurements: parseMeasurements(raw.measurements),
    can_undo: raw.can_undo !== false,
    can_redo: raw.can_redo !== false,
  };
}

/** Kernel -> page: the objects that changed since revision `base` (annotator.py
 * `labels_patch`); the whole labels_state comes instead when much changed. */
export interface LabelsPatch {
  base: number;
  revision: number;
  upsert: LabelObject[];
  remove: string[];
  read_only: boolean;
  can_undo: boolean;
  can_redo: boolean;
  frame_classifications?: FrameClassification[];
  /** all measurements, when they changed */
  measurements?: Measurement[];
}

/** A `labels_patch` message (its body is buffer 0: UTF-8 JSON), or null if it is not one or
 * is malformed (never throws). */
export function parseLabelsPatch(msg: unknown, buffers: readonly DataView[]): LabelsPatch | null {
  if (!isObj(msg) || msg.type !== "labels_patch") return null;
  const raw = decodeJson(buffers[0]);
  if (!isObj(raw) || !Number.isInteger(raw.base) || !Number.isInteger(raw.revision)) return null;
  if (!Array.isArray(raw.upsert) || !Array.isArray(raw.remove)) return null;
  const upsert = raw.upsert.filter(
    (o) => isObj(o) && typeof o.uuid === "string" && isObj(o.keyframes) && typeof o.shape === "string",
  ) as unknown as LabelObject[];
  if (upsert.length !== raw.upsert.length || !raw.remove.every((u) => typeof u === "string")) return null;
  const out: LabelsPatch = {
    base: raw.base as number,
    revision: raw.revision as number,
    upsert,
    remove: raw.remove as string[],
    read_only: raw.read_only === true,
    can_undo: raw.can_undo !== false,
    can_redo: raw.can_redo !== false,
  };
  if (Array.isArray(raw.frame_classifications)) {
    out.frame_classifications = raw.frame_classifications.filter(
      (f) => isObj(f) && typeof f.uuid === "string" && typeof f.classification === "string" && Array.isArray(f.ranges),
    ) as unknown as FrameClassification[];
  }
  if (Array.isArray(raw.measurements)) out.measurements = parseMeasurements(raw.measurements);
  return out;
}

/**
 * The state after a patch, or null when the patch does not start from this state's revision
 * (then the whole state must be asked for). Objects keep their order; new ones come last, as
 * in Python's document.
 */
export function applyLabelsPatch(state: LabelsState, patch: LabelsPatch): LabelsState | null {
  if (patch.base !== state.revision) return null;
  const drop = new Set(patch.remove);
  const replace = new Map(patch.upsert.map((o) => [o.uuid, o]));
  const objects: LabelObject[] = [];
  for (const o of state.objects) {
    if (drop.has(o.uuid)) continue;
    const next = replace.get(o.uuid);
    if (next) replace.delete(o.uuid);
    objects.push(next ?? o);
  }
  for (const o of replace.values()) objects.push(o);
  return {
    revision: patch.revision,
    ontology: state.ontology,
    objects,
    read_only: patch.read_only,
    frame_classifications: patch.frame_classifications ?? state.frame_classifications,
    measurements: patch.measurements ?? state.measurements,
    can_undo: patch.can_undo,
    can_redo: patch.can_redo,
  };
}

/** Palette for classes without a colour (and unknown features). */
const PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"];

export function classColor(ontology: Ontology | null, feature: string): string {
  const list = ontology?.objects ?? [];
  const i = list.findIndex((c) => c.id === feature);
  const c = list[i]?.color;
  if (typeof c === "string" && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(c)) return c;
  let h = 0;
  for (const ch of feature) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[(i >= 0 ? i : h) % PALETTE.length] as string;
}

/** The plane an object is drawn on (its keyframes are that plane's slices; axial when it
 * does not say). */
export function objectPlane(o: { plane?: string }): string {
  return o.plane ?? "axial";
}

/** Hotkey of the class at `index`: its own ("1".."9"), none when null, else its position. */
export function classHotkey(c: OntologyClass, index: number): string | null {
  if (c.hotkey === null) return null;
  if (typeof c.hotkey === "string") return c.hotkey;
  return index < 9 ? String(index + 1) : null;
}

/** One object's keyframe on one slice. */
export interface SliceItem {
  object: LabelObject;
  keyframe: Keyframe;
}

/** Objects by slice key of one plane, in object_id order (built once per labels_state). */
export function indexBySlice(objects: readonly LabelObject[], plane: string): Map<string, SliceItem[]> {
  const out = new Map<string, SliceItem[]>();
  // Python sends them in object_id order: sort (stable) only when they are not
  let inOrder = true;
  for (let i = 1; i < objects.length && inOrder; i++) inOrder = (objects[i - 1] as LabelObject).object_id <= (objects[i] as LabelObject).object_id;
  const sorted = inOrder ? objects : [...objects].sort((a, b) => a.object_id - b.object_id);
  for (const object of sorted) {
    if (objectPlane(object) !== plane) continue;
    const keyframes = object.keyframes;
    for (const key of Object.keys(keyframes)) {
      const keyframe = keyframes[key];
      if (!isObj(keyframe)) continue;
      const k = String(Number(key));
      let list = out.get(k);
      if (!list) out.set(k, (list = []));
      list.push({ object, keyframe });
    }
  }
  return out;
}

/** New coordinates are rounded to 1/1000 voxel (as Python does). */
export function round3(v: number): number {
  return Math.round(v * 1000) / 1000 + 0;
}

/** A point clamped into the plane image ([-0.5, size - 0.5]) and rounded. */
export function clampPoint(p: Point, columns: number, rows: number): Point {
  const c = (v: number, n: number): number => round3(Math.min(n - 0.5, Math.max(-0.5, v)));
  return [c(p[0], columns), c(p[1], rows)];
}

/** A random (version 4) UUID; crypto.randomUUID needs a secure context, this does not. */
export function uuid4(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const b = random(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The `create_object` operation (labels/operations.py) for one keyframe on `slice`. */
export function createObjectOp(
  uuid: string,
  feature: string,
  plane: string,
  slice: number,
  geometry: Keyframe,
): Record<string, unknown> {
  return {
    op: "create_object",
    object: { uuid, feature, plane, keyframes: { [String(slice)]: { manual: true, ...geometry } } },
  };
}

export function deleteObjectOp(uuid: string): Record<string, unknown> {
  return { op: "delete_object", uuid };
}

function distToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i] as Point;
    const [xj, yj] = poly[j] as Point;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The bridges of a "keyhole" ring: edges i -> i+1 whose reverse is also an edge of the ring.
 * A polygon keyframe holds one ring, so a polygon with holes or several parts (e.g. after a
 * brush edit) joins them with zero-width bridges, each walked once in both directions; they
 * are not drawn. Null when the ring repeats no vertex (the usual case: no work).
 */
export function bridgeEdges(pts: readonly Point[]): Set<number> | null {
  const n = pts.length;
  if (n < 4 || !repeatsVertex(pts)) return null;
  const keys = pts.map((p) => `${p[0]},${p[1]}`);
  const edges = new Set<string>();
  for (let i = 0; i < n; i++) edges.add(`${keys[i]}|${keys[(i + 1) % n]}`);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) if (edges.has(`${keys[(i + 1) % n]}|${keys[i]}`)) out.add(i);
  return out.size ? out : null;
}

/** Whether a vertex occurs twice (drawn every frame for every polygon: no allocation for the
 * usual small rings). */
function repeatsVertex(pts: readonly Point[]): boolean {
  const n = pts.length;
  if (n > 96) return new Set(pts.map((p) => `${p[0]},${p[1]}`)).size !== n;
  for (let i = 0; i < n; i++) {
    const p = pts[i] as Point;
    for (let j = i + 1; j < n; j++) {
      const q = pts[j] as Point;
      if (p[0] === q[0] && p[1] === q[1]) return true;
    }
  }
  return false;
}

export function polygonArea(poly: readonly Point[]): number {
  let a = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i] as Point;
    const [xj, yj] = poly[j] as Point;
    a += xj * yi - xi * yj;
  }
  return Math.abs(a) / 2;
}

/**
 * The object under voxel point `p` on one slice: inside a box or polygon, or within `tol`
 * voxels of an outline, polyline or point. Among several, the smallest (so nested objects stay
 * selectable), then the one drawn last.
 */
export function hitTest(items: readonly SliceItem[], p: Point, tol: number): string | null {
  let best: string | null = null;
  let bestSize = Number.POSITIVE_INFINITY;
  for (const { object, keyframe: kf } of items) {
    let hit = false;
    let size = 0;
    if (kf.box) {
      const [x0, y0, x1, y1] = kf.box;
      hit = p[0] >= x0 - tol && p[0] <= x1 + tol && p[1] >= y0 - tol && p[1] <= y1 + tol;
      size = (x1 - x0) * (y1 - y0);
    } else if (kf.points && object.shape === "polygon") {
      const near = kf.points.some((a, i) => distToSegment(p, a, kf.points![(i + 1) % kf.points!.length] as Point) <= tol);
      hit = near || pointInPolygon(p, kf.points);
      size = polygonArea(kf.points);
    } else if (kf.points) {
      hit = kf.points.some((a, i) => i > 0 && distToSegment(p, kf.points![i - 1] as Point, a) <= tol);
    } else if (kf.point) {
      hit = Math.hypot(p[0] - kf.point[0], p[1] - kf.point[1]) <= tol;
    } else if (kf.nodes) {
      hit = Object.values(kf.nodes).some((q) => Math.hypot(p[0] - q[0], p[1] - q[1]) <= tol);
    }
    if (hit && size <= bestSize) {
      best = object.uuid;
      bestSize = size;
    }
  }
  return best;
}
