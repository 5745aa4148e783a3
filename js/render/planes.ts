/**
 * Multiplanar reformats and MIP slabs of the page's copy of a series (pure, unit-tested).
 *
 * A plane image follows the label document's convention (`labels/geometry.py`,
 * `plane_to_voxel`): `u` runs along the image's columns, `v` along its rows, and the plane's
 * own slice index is the remaining voxel axis.
 *
 *   plane     u        v        slice index   NumPy
 *   axial     column   row      slice         volume[k]
 *   coronal   column   slice    row           volume[:, row, :]
 *   sagittal  row      slice    column        volume[:, :, column]
 *
 * So a coronal or sagittal image has one row per stored slice, and that row's rescale is its
 * slice's: the images keep stored values and carry a slope and intercept per row.
 */
import type { TypedArray } from "../protocol";
import { zerosOf } from "../protocol";
import type { Volume } from "../volume";
import { type GreyRenderer, renderRGB } from "./window";

export type Plane = "axial" | "coronal" | "sagittal";
export const PLANES: readonly Plane[] = ["axial", "coronal", "sagittal"];

/** The plane named by a synced value ("axial" for anything else). */
export function asPlane(value: unknown): Plane {
  return value === "coronal" || value === "sagittal" ? value : "axial";
}

/** Which component of a voxel [column, row, slice] a plane's slice index is. */
export function planeAxis(plane: Plane): 0 | 1 | 2 {
  return plane === "axial" ? 2 : plane === "coronal" ? 1 : 0;
}

export interface PlaneSize {
  columns: number;
  rows: number;
  /** slices of this plane (its slice index runs over 0..slices-1) */
  slices: number;
  columnSpacing: number;
  rowSpacing: number;
  /** distance between this plane's slices (mm) */
  sliceSpacing: number;
}

/** Size and spacing of a plane's images, from the series' [slices, rows, columns] and spacing. */
export function planeSize(shape: readonly number[], spacing: readonly number[], plane: Plane): PlaneSize {
  const [s, r, c] = shape as [number, number, number];
  const [ds, dr, dc] = spacing as [number, number, number];
  if (plane === "coronal") return { columns: c, rows: s, slices: r, columnSpacing: dc, rowSpacing: ds, sliceSpacing: dr };
  if (plane === "sagittal") return { columns: r, rows: s, slices: c, columnSpacing: dr, rowSpacing: ds, sliceSpacing: dc };
  return { columns: c, rows: r, slices: s, columnSpacing: dc, rowSpacing: dr, sliceSpacing: ds };
}

/** Plane coordinates (u, v) on slice s of `plane` -> voxel [column, row, slice]. */
export function planeToVoxel(plane: Plane, u: number, v: number, s: number): [number, number, number] {
  if (plane === "coronal") return [u, s, v];
  if (plane === "sagittal") return [s, u, v];
  return [u, v, s];
}

/** Voxel [column, row, slice] -> [u, v, s] of `plane` (the inverse of planeToVoxel). */
export function voxelToPlane(plane: Plane, voxel: readonly number[]): [number, number, number] {
  const [c, r, k] = voxel as [number, number, number];
  if (plane === "coronal") return [c, k, r];
  if (plane === "sagittal") return [r, k, c];
  return [c, r, k];
}

/** How a plane is shown before the user's own rotation and flips: turned `rotation` degrees
 * clockwise, then flipped vertically when `flipV` (the view flips after it rotates). */
export interface NaturalView {
  rotation: 0 | 90 | 180 | 270;
  flipV: boolean;
}

/** Screen right and screen down in the patient (LPS) for each anatomical plane, as radiologists
 * read them: axial with the patient's left on the right and anterior up; coronal with the
 * patient's left on the right and the head up; sagittal with anterior on the left and the head
 * up. Indexed by the patient axis of the plane's normal (x: sagittal, y: coronal, z: axial). */
const READING: readonly [readonly number[], readonly number[]][] = [
  [[0, 1, 0], [0, 0, -1]],
  [[1, 0, 0], [0, 0, -1]],
  [[1, 0, 0], [0, 1, 0]],
];

/**
 * How a reformat is shown so that it reads as radiologists expect (`READING`), whatever way
 * the series was acquired: a coronal or sagittal reformat of an axial CT head up; the "axial"
 * reformat of a sagittal MR anterior up with the patient's left on the right (QA 23a D2: it
 * was shown turned a quarter, and the coronal one lying on its side). The plane's image axes
 * (`u`, `v`: voxel axes through the affine) are matched to screen right and down: whichever
 * pairing and signs fit best, as a quarter turn and a flip. The series' own slices are shown
 * as stored (as every viewer shows an acquisition), as is anything without an affine.
 */
export function naturalView(plane: Plane, affine: readonly (readonly number[])[] | null | undefined): NaturalView {
  const none: NaturalView = { rotation: 0, flipV: false };
  if (plane === "axial" || !affine) return none;
  const column = (j: number): number[] => [0, 1, 2].map((r) => affine[r]?.[j] ?? 0);
  const unit = (v: number[]): number[] => {
    const n = Math.hypot(...v);
    return n > 0 && Number.isFinite(n) ? v.map((x) => x / n) : [0, 0, 0];
  };
  const [ua, va] = plane === "coronal" ? [0, 2] : [1, 2];
  const U = unit(column(ua));
  const V = unit(column(va));
  const normal = column(planeAxis(plane)).map(Math.abs);
  const [right, down] = READING[normal.indexOf(Math.max(...normal))] as [readonly number[], readonly number[]];
  const dot = (a: readonly number[], b: readonly number[]): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
  const sign = (x: number): number => (x < 0 ? -1 : 1);
  // screen = N (u, v): u across and v down, or (transposed) v across and u down
  const straight = Math.abs(dot(U, right)) + Math.abs(dot(V, down));
  const crossed = Math.abs(dot(V, right)) + Math.abs(dot(U, down));
  const N =
    crossed > straight + 1e-9
      ? [[0, sign(dot(V, right))], [sign(dot(U, down)), 0]]
      : [[sign(dot(U, right)), 0], [0, sign(dot(V, down))]];
  const [[a, b], [c, d]] = N as [[number, number], [number, number]];
  // N = F R(rotation), F = diag(1, -1) when N mirrors; R = [[cos, -sin], [sin, cos]]
  const flipV = a * d - b * c < 0;
  const [cos, sin] = flipV ? [a, -c] : [a, c];
  const rotation = ((Math.round((Math.atan2(sin, cos) * 180) / Math.PI) + 360) % 360) as NaturalView["rotation"];
  return { rotation, flipV };
}

/** The slices [first, last] of a slab of `slab` slices around `index` (the extra slice of an
 * even slab goes after it), clipped to 0..count-1. Python's `kernels.mpr.slab_range` agrees. */
export function slabRange(index: number, slab: number, count: number): [number, number] {
  const n = Math.max(1, Math.floor(slab));
  const first = index - Math.floor((n - 1) / 2);
  return [Math.max(0, first), Math.min(count - 1, first + n - 1)];
}

/** One plane image: stored values (or modality values, when `slope` is all 1 and `intercept`
 * all 0), row-major with `samples` values a pixel, and each row's rescale. */
export interface PlaneImage {
  values: TypedArray;
  columns: number;
  rows: number;
  samples: number;
  slope: Float64Array;
  intercept: Float64Array;
  /** false when `values` is the volume's own slice (never to be written: not a scratch) */
  owned: boolean;
}

/** The modality value (HU for CT) at (u, v) of a grey plane image, or null outside it. */
export function planeValue(image: PlaneImage, u: number, v: number): number | null {
  if (u < 0 || v < 0 || u >= image.columns || v >= image.rows) return null;
  const stored = image.values[(v * image.columns + u) * image.samples] as number;
  return stored * (image.slope[v] as number) + (image.intercept[v] as number);
}

/**
 * The image of slice `index` of `plane`, or with `slab` > 1 the maximum intensity projection
 * of the slab of that many slices around it (grey series only; slices not arrived yet are
 * left out of it). A reformat shows a slice that has not arrived as zeros.
 *
 * `scratch` (an earlier result's `values` when it was `owned`) is reused for the values when
 * it has the right type and length.
 */
export function planeImage(volume: Volume, plane: Plane, index: number, slab = 1, scratch?: TypedArray | null): PlaneImage {
  const size = planeSize(volume.info.shape, volume.info.spacing, plane);
  const samples = volume.samples;
  const { columns, rows } = size;
  const slope = new Float64Array(rows);
  const intercept = new Float64Array(rows);
  const mip = slab > 1 && samples === 1;
  if (plane === "axial" && !mip) {
    slope.fill(volume.slope[index] as number);
    intercept.fill(volume.intercept[index] as number);
    return { values: volume.slice(index), columns, rows, samples, slope, intercept, owned: false };
  }
  if (plane === "axial") return axialMip(volume, index, slab, slope, intercept, scratch);
  const length = columns * rows * samples;
  const values = scratch && scratch.length === length && scratch.constructor === volume.slice(0).constructor ? scratch : zerosOf(volume.info.dtype, length);
  const [first, last] = mip ? slabRange(index, slab, size.slices) : [index, index];
  const C = volume.columns;
  const rowLength = columns * samples;
  for (let k = 0; k < rows; k++) {
    const src = volume.slice(k);
    const s = volume.slope[k] as number;
    slope[k] = s;
    intercept[k] = volume.intercept[k] as number;
    const base = k * rowLength;
    if (plane === "coronal") {
      if (!mip) {
        values.set(src.subarray(first * C * samples, (first + 1) * C * samples), base);
        continue;
      }
      // the projection of one stored slice's rows first..last (its own rescale: the
      // maximum of stored values is the maximum of modality values when the slope is
      // positive, the minimum when it is negative); row by row, in memory order
      values.set(src.subarray(first * C, first * C + C), base);
      for (let r = first + 1; r <= last; r++) {
        const at = r * C;
        if (s >= 0) {
          for (let x = 0; x < C; x++) if ((src[at + x] as number) > (values[base + x] as number)) values[base + x] = src[at + x] as number;
        } else {
          for (let x = 0; x < C; x++) if ((src[at + x] as number) < (values[base + x] as number)) values[base + x] = src[at + x] as number;
        }
      }
      continue;
    }
    // sagittal: u is the row of the stored slice, the column is the slice index
    const R = volume.rows;
    if (!mip) {
      for (let y = 0; y < R; y++) {
        for (let c = 0; c < samples; c++) values[base + y * samples + c] = src[(y * C + first) * samples + c] as number;
      }
      continue;
    }
    // column by column (each pass reads the same cache lines, warm after the first)
    for (let y = 0; y < R; y++) values[base + y] = src[y * C + first] as number;
    for (let x = first + 1; x <= last; x++) {
      if (s >= 0) {
        for (let y = 0; y < R; y++) if ((src[y * C + x] as number) > (values[base + y] as number)) values[base + y] = src[y * C + x] as number;
      } else {
        for (let y = 0; y < R; y++) if ((src[y * C + x] as number) < (values[base + y] as number)) values[base + y] = src[y * C + x] as number;
      }
    }
  }
  return { values, columns, rows, samples, slope, intercept, owned: true };
}

/** An axial slab's maximum intensity projection: stored values when every arrived slice of
 * the slab has one positive rescale, else modality values (float32, rescale 1 / 0). */
function axialMip(volume: Volume, index: number, slab: number, slope: Float64Array, intercept: Float64Array, scratch?: TypedArray | null): PlaneImage {
  const [first, last] = slabRange(index, slab, volume.slices);
  const n = volume.rows * volume.columns;
  const ks: number[] = [];
  for (let k = first; k <= last; k++) if (volume.loaded[k]) ks.push(k);
  const columns = volume.columns;
  const rows = volume.rows;
  if (ks.length === 0) {
    slope.fill(volume.slope[index] as number);
    intercept.fill(volume.intercept[index] as number);
    return { values: volume.slice(index), columns, rows, samples: 1, slope, intercept, owned: false };
  }
  const k0 = ks[0] as number;
  const s0 = volume.slope[k0] as number;
  const i0 = volume.intercept[k0] as number;
  const uniform = s0 > 0 && ks.every((k) => volume.slope[k] === s0 && volume.intercept[k] === i0);
  if (uniform) {
    const first0 = volume.slice(k0);
    const values = scratch && scratch.length === n && scratch.constructor === first0.constructor ? scratch : zerosOf(volume.info.dtype, n);
    values.set(first0);
    for (const k of ks.slice(1)) {
      const src = volume.slice(k);
      for (let i = 0; i < n; i++) if ((src[i] as number) > (values[i] as number)) values[i] = src[i] as number;
    }
    slope.fill(s0);
    intercept.fill(i0);
    return { values, columns, rows, samples: 1, slope, intercept, owned: true };
  }
  const values = scratch instanceof Float32Array && scratch.length === n ? scratch : new Float32Array(n);
  values.fill(-Infinity);
  for (const k of ks) {
    const src = volume.slice(k);
    const s = volume.slope[k] as number;
    const b = volume.intercept[k] as number;
    for (let i = 0; i < n; i++) {
      const value = (src[i] as number) * s + b;
      if (value > (values[i] as number)) values[i] = value;
    }
  }
  slope.fill(1);
  intercept.fill(0);
  return { values, columns, rows, samples: 1, slope, intercept, owned: true };
}

/**
 * What a plane of the series is anatomically ("axial", "coronal", "sagittal"; "oblique" when
 * its normal leans more than 45° off every axis): from the affine, since a series' own slices
 * are "axial" in the label document whatever way it was acquired. Without an affine: the
 * document's name.
 */
export function anatomicalName(plane: Plane, affine: readonly (readonly number[])[] | undefined): string {
  if (!affine) return plane;
  // the plane's normal is the voxel axis its slice index runs along
  const axis = planeAxis(plane);
  const n = [0, 1, 2].map((r) => Math.abs(affine[r]?.[axis] ?? 0));
  const len = Math.hypot(...n);
  if (!(len > 0)) return plane;
  const best = n.indexOf(Math.max(...n));
  if ((n[best] as number) / len < Math.SQRT1_2) return "oblique";
  return (["sagittal", "coronal", "axial"] as const)[best] as string;
}

/** Tilts of the slice axis off the slices' normal below this (degrees) are not mentioned. */
const TILT_NOTICE_DEG = 0.5;

/**
 * What a coronal or sagittal reformat does not show as it is (null: nothing). Its rows are
 * the series' slices laid out evenly and at right angles to its columns, so slices tilted off
 * their normal (a gantry tilt) are shown unsheared, and unevenly spaced slices (a missing
 * one: the kernel then sends `slice_origins`) evenly; the measurements are right either way
 * (they go through the slices' positions), the picture is not to scale (QA 23a D1, D3).
 */
export function reformatNotice(
  plane: Plane,
  affine: readonly (readonly number[])[] | null | undefined,
  sliceOrigins: readonly (readonly number[])[] | null | undefined,
): string | null {
  if (plane === "axial") return null;
  const notes: string[] = [];
  if (affine && affine.length >= 3) {
    const col = (j: number): number[] => [0, 1, 2].map((r) => affine[r]?.[j] ?? 0);
    const [u, v, w] = [col(0), col(1), col(2)] as [number[], number[], number[]];
    const n = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
    const lengths = Math.hypot(...n) * Math.hypot(...w);
    if (lengths > 0) {
      const cos = Math.abs(n[0]! * w[0]! + n[1]! * w[1]! + n[2]! * w[2]!) / lengths;
      const deg = (Math.acos(Math.min(1, cos)) * 180) / Math.PI;
      if (deg >= TILT_NOTICE_DEG) notes.push(`Slices tilted ${deg.toFixed(1)}° (gantry tilt): this reformat is shown unsheared.`);
    }
  }
  if (Array.isArray(sliceOrigins) && sliceOrigins.length >= 2) {
    notes.push("Slices unevenly spaced (missing slices?): this reformat shows them evenly.");
  }
  if (notes.length === 0) return null;
  return `${notes.join(" ")} Not to scale; measurements are in patient mm.`;
}

/** A projection of `mm` millimetres on a plane whose slices are `sliceSpacing` mm apart, in
 * slices (at least 2: still a projection; at most the plane's `slices`). Python's
 * `DicomAnnotator` keeps a slab's millimetres the same way when the plane changes. */
export function slabForMm(mm: number, sliceSpacing: number, slices: number): number {
  const n = Math.round(mm / (sliceSpacing > 0 ? sliceSpacing : 1));
  return Math.max(1, Math.min(slices, Math.max(2, Number.isFinite(n) ? n : 2)));
}

/** MIP slab thicknesses offered (mm), as slices of a plane `sliceSpacing` mm apart. */
export const SLAB_MM = [5, 10, 20, 40] as const;

/** The slab menu of a plane: 1 (off), then each of SLAB_MM as a whole number of slices (at
 * least 2, at most the plane's slices, no repeats), labelled with the millimetres that many
 * slices span, and `current` when it is none of them. */
export function slabOptions(sliceSpacing: number, slices: number, current: number): { value: number; label: string }[] {
  const out = [{ value: 1, label: "MIP off" }];
  const spacing = sliceSpacing > 0 ? sliceSpacing : 1;
  // each labelled with the thickness it gives (QA 23a D12: "MIP 5 mm" on 5 mm slices gave
  // 10 mm, as the overlay said): whole slices rarely make the round figure
  const thick = (n: number): string => `${Math.round(n * spacing * 10) / 10} mm`;
  for (const mm of SLAB_MM) {
    const n = Math.min(slices, Math.max(2, Math.round(mm / spacing)));
    if (n >= 2 && !out.some((o) => o.value === n)) out.push({ value: n, label: `MIP ${thick(n)}` });
  }
  if (!out.some((o) => o.value === current)) out.push({ value: current, label: `MIP ${thick(current)} (${current} slices)` });
  return out;
}

/** The pattern a reformat shows where a slice has not arrived: dark diagonal stripes (its
 * zeros windowed would look like tissue: 0 HU is water). */
export function missingPixel(x: number, y: number): number {
  const g = (x + y) % 8 < 3 ? 0x38 : 0x10;
  return (0xff << 24) | (g << 16) | (g << 8) | g;
}

/** Window a plane image into RGBA pixels (`out`: its ImageData's data, columns x rows), rows
 * of one rescale at a time (a reformat's rows are slices: usually all of one). With
 * `rowsArrived` (a reformat's rows are slices: the volume's arrival flags), the rows of
 * slices not arrived get the `missingPixel` stripes. `seriesExact`: SeriesInfo.exact_window. */
export function paintPlane(renderer: GreyRenderer, image: PlaneImage, center: number, width: number, invert: boolean, out: Uint8ClampedArray, rowsArrived?: Uint8Array | null, seriesExact = false): void {
  const pixels = new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
  paintValues(renderer, image, center, width, invert, out, pixels, seriesExact);
  if (!rowsArrived) return;
  const C = image.columns;
  for (let y = 0; y < image.rows; y++) {
    if (rowsArrived[y]) continue;
    for (let x = 0; x < C; x++) pixels[y * C + x] = missingPixel(x, y);
  }
}

function paintValues(renderer: GreyRenderer, image: PlaneImage, center: number, width: number, invert: boolean, out: Uint8ClampedArray, pixels: Uint32Array, seriesExact: boolean): void {
  if (image.samples === 3) return renderRGB(image.values, out, invert);
  const C = image.columns;
  for (let r0 = 0; r0 < image.rows; ) {
    let r1 = r0 + 1;
    while (r1 < image.rows && image.slope[r1] === image.slope[r0] && image.intercept[r1] === image.intercept[r0]) r1++;
    const whole = r0 === 0 && r1 === image.rows;
    const values = whole ? image.values : image.values.subarray(r0 * C, r1 * C);
    renderer.render(values, image.slope[r0] as number, image.intercept[r0] as number, center, width, whole ? pixels : pixels.subarray(r0 * C, r1 * C), invert, seriesExact);
    r0 = r1;
  }
}

/** The patient direction (LPS) of a vector, as the letters of its main components: R/L, A/P,
 * I/S, largest first, those at least half the largest ("L", "LA", ...); "" for none. */
export function directionLetters(p: readonly number[]): string {
  const names: [string, string][] = [["R", "L"], ["A", "P"], ["I", "S"]];
  const mags = [0, 1, 2].map((i) => Math.abs(p[i] ?? 0));
  const top = Math.max(...mags);
  if (!(top > 0)) return "";
  return [0, 1, 2]
    .filter((i) => (mags[i] as number) >= 0.5 * top)
    .sort((a, b) => (mags[b] as number) - (mags[a] as number))
    .map((i) => (names[i] as [string, string])[(p[i] as number) > 0 ? 1 : 0])
    .join("");
}

/** LPS unit vectors of PatientOrientation's letters (H and F are S and I). */
const PO_LETTERS: Record<string, [number, number, number]> = {
  L: [1, 0, 0],
  R: [-1, 0, 0],
  P: [0, 1, 0],
  A: [0, -1, 0],
  H: [0, 0, 1],
  F: [0, 0, -1],
};

/**
 * An affine whose axes point as a radiograph's PatientOrientation says (the directions along
 * its rows and down its columns, e.g. ["L", "F"], "AL" for oblique): only for the markers of
 * an image without ImageOrientationPatient, whose own affine is a stand-in. Null unless both
 * codes are made of those letters.
 */
export function patientOrientationAffine(codes: readonly string[] | null | undefined): number[][] | null {
  if (!codes || codes.length !== 2) return null;
  const vectors: number[][] = [];
  for (const code of codes) {
    const v = [0, 0, 0];
    if (typeof code !== "string" || code === "") return null;
    for (const ch of code.toUpperCase()) {
      const u = PO_LETTERS[ch];
      if (!u) return null;
      for (let i = 0; i < 3; i++) v[i] = (v[i] as number) + u[i]!;
    }
    vectors.push(v);
  }
  const [c, r] = vectors as [number[], number[]];
  return [0, 1, 2].map((i) => [c[i]!, r[i]!, 0, 0]).concat([[0, 0, 0, 1]]);
}

/**
 * The orientation markers of a view: which way the patient lies towards each edge of the
 * screen, from the affine (voxel -> LPS) and `m`, the image -> screen matrix of the view
 * (rotation, flips and the head-up flip of reformats included). Empty without an affine.
 */
export function orientationMarkers(
  affine: readonly (readonly number[])[] | undefined,
  plane: Plane,
  m: readonly number[],
): { left: string; right: string; top: string; bottom: string } {
  const none = { left: "", right: "", top: "", bottom: "" };
  if (!affine) return none;
  const [a, b, c, d] = m as [number, number, number, number];
  const det = a * d - b * c;
  if (!det || !Number.isFinite(det)) return none;
  // the voxel axes of the image's u and v (column, row or slice of the series)
  const [ua, va] = plane === "axial" ? [0, 1] : plane === "coronal" ? [0, 2] : [1, 2];
  const axis = (j: number): number[] => [0, 1, 2].map((r) => affine[r]?.[j] ?? 0);
  const U = axis(ua);
  const V = axis(va);
  // a screen direction (x, y) -> image (du, dv) = inverse of the linear part -> patient
  const toward = (x: number, y: number): string => {
    const du = (d * x - c * y) / det;
    const dv = (-b * x + a * y) / det;
    return directionLetters([0, 1, 2].map((r) => du * (U[r] as number) + dv * (V[r] as number)));
  };
  return { right: toward(1, 0), left: toward(-1, 0), bottom: toward(0, 1), top: toward(0, -1) };
}

/** Each plane's colour for its lines (as in 3D Slicer: axial red, coronal green, sagittal
 * yellow). */
export const PLANE_COLOURS: Record<Plane, string> = { axial: "#e8554e", coronal: "#5fbf5a", sagittal: "#e6c84a" };

type LineContext = Pick<CanvasRenderingContext2D, "beginPath" | "moveTo" | "lineTo" | "stroke" | "strokeStyle" | "lineWidth">;

/**
 * Draw where the two other planes cut `plane` through `crosshair` (voxel [column, row,
 * slice]): a line across the image (`columns` x `rows`) for each, in its colour. `m` maps the
 * image's canvas coordinates (pixel u spans [u, u + 1]: its centre is u + 0.5) to the
 * context's.
 */
export function drawPlaneLines(ctx: LineContext, plane: Plane, crosshair: readonly number[], m: readonly number[], columns: number, rows: number, lineWidth: number): void {
  const [u, v] = voxelToPlane(plane, crosshair);
  const at = (x: number, y: number): [number, number] => [(m[0] as number) * x + (m[2] as number) * y + (m[4] as number), (m[1] as number) * x + (m[3] as number) * y + (m[5] as number)];
  // the vertical line (constant u) is the plane whose slice index u is; the horizontal one v's
  const others = PLANES.filter((q) => q !== plane);
  const vertical = others.find((q) => planeToVoxel(plane, 1, 0, 0)[planeAxis(q)] === 1) as Plane;
  const horizontal = others.find((q) => q !== vertical) as Plane;
  ctx.lineWidth = lineWidth;
  for (const [q, a, b] of [
    [vertical, at(u + 0.5, 0), at(u + 0.5, rows)],
    [horizontal, at(0, v + 0.5), at(columns, v + 0.5)],
  ] as const) {
    ctx.strokeStyle = PLANE_COLOURS[q];
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }
}

/** Which crosshair line a press would take: the one of constant u (drawn across the rows),
 * the one of constant v, or both (near their crossing). */
export type PlaneLine = "u" | "v" | "both";

/**
 * The crosshair line (as `drawPlaneLines` draws it: `m` maps image to screen CSS px) within
 * `tolerance` px of screen point (x, y), or null.
 */
export function planeLineAt(plane: Plane, crosshair: readonly number[], m: readonly number[], columns: number, rows: number, x: number, y: number, tolerance: number): PlaneLine | null {
  const [u, v] = voxelToPlane(plane, crosshair);
  const at = (px: number, py: number): [number, number] => [(m[0] as number) * px + (m[2] as number) * py + (m[4] as number), (m[1] as number) * px + (m[3] as number) * py + (m[5] as number)];
  const near = (a: [number, number], b: [number, number]): boolean => {
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.min(1, Math.max(0, ((x - a[0]) * dx + (y - a[1]) * dy) / len2)) : 0;
    return Math.hypot(x - (a[0] + t * dx), y - (a[1] + t * dy)) <= tolerance;
  };
  const onU = near(at(u + 0.5, 0), at(u + 0.5, rows));
  const onV = near(at(0, v + 0.5), at(columns, v + 0.5));
  return onU && onV ? "both" : onU ? "u" : onV ? "v" : null;
}
