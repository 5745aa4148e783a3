/**
 * Messages between the page and the kernel. Names mirror `dicom_annot_widget/widget/protocol.py`.
 *
 * Pixels never travel in synced state: the page asks for slices with `get_slices` and the kernel
 * answers one `slice` message per slice, each carrying one binary buffer.
 */

export type DType =
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "float32"
  | "float64";

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface WindowPreset {
  name: string;
  center: number;
  width: number;
  source: string;
}

/** Small, PHI-free description of the series shown (synced trait `series_info`). */
export interface SeriesInfo {
  id: string;
  /** [slices, rows, columns] */
  shape: [number, number, number];
  /** [slice, row, column] in millimetres */
  spacing: [number, number, number];
  spacing_known: boolean;
  dtype: DType;
  /** every slice windowed with LINEAR_EXACT: the series' modality values are floats (float
   * pixel data, or a fractional rescale on any of its slices) */
  exact_window?: boolean;
  samples_per_pixel: number;
  units: string;
  value_range: [number, number];
  windows: WindowPreset[];
  plane: string;
  /** DICOM Modality ("CT", "MR", ...; "" when unknown); keys the saved window presets */
  modality?: string;
  /** DICOM PhotometricInterpretation; MONOCHROME1 is shown inverted (minimum white) */
  photometric_interpretation?: string;
  /** DICOM presents the grey scale inverted (minimum white): MONOCHROME1, or a
   * PresentationLUTShape of INVERSE (absent from older kernels: MONOCHROME1 alone). */
  display_inverted?: boolean;
  /** each slice's InstanceNumber (null where it has none); absent when none has one */
  instance_numbers?: (number | null)[] | null;
  /** a cine loop: its frames are moments, not slices (no reformats) */
  temporal?: boolean;
  /** frames per second it was recorded at (the cine's speed), if it says */
  frame_rate?: number | null;
  /** PatientOrientation (row and column directions) of an image without orientation */
  patient_orientation?: string[] | null;
  /** 4x4, voxel (column, row, slice, 1) -> patient LPS millimetres */
  affine?: number[][];
  /** false when the series has no patient orientation (an array): no orientation markers */
  orientation_known?: boolean;
  /** each slice's ImagePositionPatient (LPS mm), sent only when the affine's even spacing
   * would misplace a slice (a missing slice, uneven spacing); null otherwise */
  slice_origins?: number[][] | null;
  /** hash of the SeriesInstanceUID (never the UID or names): the series in view links */
  uid_hash?: string;
  /** position of this series in the widget's list of series, and how many there are */
  series_index?: number;
  series_count?: number;
  /** a random token per kernel `Series` object: widgets showing the same one share its pixels
   * in the page (loader.ts sharedVolumes) */
  volume_key?: string;
}

export interface GetSlicesMsg {
  type: "get_slices";
  series: string;
  slices: number[];
  /** false: the slice shown is already here, nothing waits for the first one (default true) */
  hold?: boolean;
}

export interface SliceMsg {
  type: "slice";
  series: string;
  index: number;
  dtype: DType;
  /** [rows, columns] or [rows, columns, samples] */
  shape: number[];
  slope: number;
  intercept: number;
  /** a band of a large slice: its rows [first, end) (the kernel sends a slice above 4 MB in
   * parts of whole rows, a message each); absent for a whole slice */
  rows?: [number, number];
}

/** The page asks for the DICOM elements of one slice (for the metadata viewer). */
export interface GetMetadataMsg {
  type: "get_metadata";
  series: string;
  slice: number;
}

/** The kernel's answer: a JSON tree of elements (tag, keyword, VR, value, items). */
export interface MetadataMsg {
  type: "metadata";
  series: string;
  slice: number;
  elements: unknown[];
}

export interface ErrorMsg {
  type: "error";
  message: string;
  /** Set when the error replaces the answer for this slice (it counts as received). */
  index?: number;
  /** A refusal that is no fault (e.g. nothing to undo): shown briefly, not as an error. */
  notice?: boolean;
}

/** Flow control: the page has received `count` more slice answers of `series`. */
export interface AckMsg {
  type: "ack";
  series: string;
  count: number;
}

export type KernelMsg = SliceMsg | ErrorMsg;
export type PageMsg = GetSlicesMsg | GetMetadataMsg | AckMsg;

const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(CTORS, value);
}

/**
 * View a received buffer as a typed array of `dtype`, honouring the view's byteOffset and
 * byteLength (buffers arrive as DataViews into a larger ArrayBuffer). Copies only when the
 * offset is not aligned to the element size.
 */
export function typedArrayFrom(dtype: DType, view: DataView | ArrayBuffer | ArrayBufferView): TypedArray {
  const Ctor = CTORS[dtype];
  let buffer: ArrayBufferLike;
  let offset = 0;
  let length: number;
  if (view instanceof ArrayBuffer) {
    buffer = view;
    length = view.byteLength;
  } else {
    buffer = view.buffer;
    offset = view.byteOffset;
    length = view.byteLength;
  }
  const size = Ctor.BYTES_PER_ELEMENT;
  if (length % size !== 0) {
    throw new Error(`buffer of ${length} bytes is not a whole number of ${dtype} values`);
  }
  if (offset % size !== 0) {
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(buffer, offset, length));
    return new Ctor(copy.buffer, 0, length / size);
  }
  return new Ctor(buffer as ArrayBuffer, offset, length / size);
}

/** Bytes per value of `dtype`. */
export function bytesPerValue(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** A zero-filled typed array of `length` values of `dtype`. */
export function zerosOf(dtype: DType, length: number): TypedArray {
  return new CTORS[dtype](length);
}

/** Narrow an unknown kernel message to a known one, or return null. */
export function parseKernelMsg(msg: unknown): KernelMsg | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type === "error" && typeof m.message === "string") {
    const out: ErrorMsg = { type: "error", message: m.message };
    if (Number.isInteger(m.index)) out.index = m.index as number;
    if (m.notice === true) out.notice = true;
    return out;
  }
  if (
    m.type === "slice" &&
    typeof m.series === "string" &&
    Number.isInteger(m.index) &&
    isDType(m.dtype) &&
    Array.isArray(m.shape) &&
    typeof m.slope === "number" &&
    typeof m.intercept === "number"
  ) {
    return m as unknown as SliceMsg;
  }
  return null;
}

/**
 * Split a `slices` message (several slices, buffer i for item i) into slice messages. Items
 * that are malformed come back as null, so that they still count as answered. Returns null
 * when the message is not a `slices` message at all.
 */
export function parseSlicesMsg(msg: unknown): (SliceMsg | null)[] | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type !== "slices" || typeof m.series !== "string" || !Array.isArray(m.items)) return null;
  const series = m.series;
  return m.items.map((item: unknown) =>
    typeof item === "object" && item !== null
      ? (parseKernelMsg({ ...(item as object), type: "slice", series }) as SliceMsg | null)
      : null,
  );
}

/** The `ack_every` of a `slices` message: acknowledge at least every that many slices (the
 * kernel's window of unacknowledged slices is twice that); null when absent or malformed. */
export function ackEveryOf(msg: unknown): number | null {
  if (typeof msg !== "object" || msg === null) return null;
  const v = (msg as Record<string, unknown>).ack_every;
  return typeof v === "number" && Number.isInteger(v) && v >= 1 ? v : null;
}

/** Narrow a kernel message to a metadata answer, or return null (kept apart from
 * `parseKernelMsg`, whose callers expect only slices and errors). */
export function parseMetadataMsg(msg: unknown): MetadataMsg | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (
    m.type === "metadata" &&
    typeof m.series === "string" &&
    Number.isInteger(m.slice) &&
    Array.isArray(m.elements)
  ) {
    return m as unknown as MetadataMsg;
  }
  return null;
}

/** Whether DICOM presents the series' grey scale inverted (before the user's invert). */
export function displayInverted(info: Pick<SeriesInfo, "display_inverted" | "photometric_interpretation"> | null | undefined): boolean {
  if (!info) return false;
  return typeof info.display_inverted === "boolean" ? info.display_inverted : info.photometric_interpretation === "MONOCHROME1";
}
