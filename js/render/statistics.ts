/**
 * Segment volume of an object in the page, as Python's `Labels.statistics_to_records` counts
 * it (labels/table.py): the pixels of its keyframes whose centre lies inside (a mask's
 * `mask_area`; a polygon's or box's pixels by the scanline rule both sides share), each with
 * its own slice's voxel volume (pixel area times the slab between the half-way points to the
 * neighbouring slices, from the slices' positions when the series sends them).
 */
import { objectPlane } from "../labels";
import type { LabelObject } from "../labels";
import type { SeriesInfo } from "../protocol";
import { polygonRuns } from "./measurements";

type Vec = [number, number, number];

/** Voxel volume (mm³) of each slice; null when the pixel spacing is unknown or no affine. */
export function sliceVoxelVolumes(info: Pick<SeriesInfo, "shape" | "spacing_known" | "affine" | "slice_origins">): number[] | null {
  const a = info.affine;
  if (!info.spacing_known || !Array.isArray(a) || a.length < 3) return null;
  const col = (j: number): Vec => [Number(a[0]?.[j]), Number(a[1]?.[j]), Number(a[2]?.[j])];
  const u = col(0);
  const v = col(1);
  const normal: Vec = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  const origins = Array.isArray(info.slice_origins) && info.slice_origins.length >= 2 ? info.slice_origins : null;
  const step = col(2);
  const base = col(3);
  const origin = (s: number): Vec => {
    if (!origins) return [base[0] + step[0] * s, base[1] + step[1] * s, base[2] + step[2] * s];
    const i = Math.min(Math.max(Math.floor(s), 0), origins.length - 2);
    const t = s - i;
    const p = origins[i] as number[];
    const q = origins[i + 1] as number[];
    return [0, 1, 2].map((d) => (p[d] as number) + t * ((q[d] as number) - (p[d] as number))) as Vec;
  };
  const out: number[] = [];
  for (let k = 0; k < info.shape[0]; k++) {
    const lo = origin(k - 0.5);
    const hi = origin(k + 0.5);
    const w = Math.abs(normal[0] * (hi[0] - lo[0]) + normal[1] * (hi[1] - lo[1]) + normal[2] * (hi[2] - lo[2]));
    out.push(w);
  }
  return out.every((x) => Number.isFinite(x)) ? out : null;
}

/** `(width, height)` of `plane`'s images of a series of `shape` [slices, rows, columns]. */
function planeImageSize(plane: string, shape: [number, number, number]): [number, number] {
  const [s, r, c] = shape;
  return plane === "coronal" ? [c, s] : plane === "sagittal" ? [r, s] : [c, r];
}

export interface ObjectVolume {
  voxels: number;
  /** null without pixel spacing */
  mm3: number | null;
  /** slices of the track's range that have no keyframe (they count nothing) */
  missing: number;
}

/** The voxels and volume of a mask, polygon or box object (null for other shapes, or a
 * mask keyframe without its area). */
export function objectVolume(o: LabelObject, info: Pick<SeriesInfo, "shape" | "spacing_known" | "affine" | "slice_origins">, perSlice: number[] | null = sliceVoxelVolumes(info)): ObjectVolume | null {
  if (o.shape !== "bitmask" && o.shape !== "polygon" && o.shape !== "bounding_box") return null;
  const plane = objectPlane(o);
  const [width, height] = planeImageSize(plane, info.shape);
  let voxels = 0;
  let mm3 = 0;
  const keys = Object.keys(o.keyframes).map(Number);
  for (const k of keys) {
    const kf = o.keyframes[String(k)];
    if (!kf) continue;
    if (o.shape === "bitmask") {
      if (typeof kf.mask_area !== "number") return null;
      voxels += kf.mask_area;
      mm3 += kf.mask_area * (perSlice?.[k] ?? 0);
      continue;
    }
    let ring: [number, number][] | null = null;
    if (o.shape === "polygon" && Array.isArray(kf.points) && kf.points.length >= 3) ring = kf.points;
    if (o.shape === "bounding_box" && Array.isArray(kf.box) && kf.box.length === 4) {
      const [x0, y0, x1, y1] = kf.box;
      ring = [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ];
    }
    if (!ring) continue;
    polygonRuns(ring, height, width, (row, start, end) => {
      voxels += end - start;
      // on a reformat each image row is one slice of the stack
      mm3 += (end - start) * (perSlice?.[plane === "axial" ? k : row] ?? 0);
    });
  }
  const missing = keys.length ? Math.max(...keys) - Math.min(...keys) + 1 - keys.length : 0;
  return { voxels, mm3: perSlice ? mm3 : null, missing };
}

/** "volume 45.6 mL (2652 voxels)", "volume 840 mm³ (12 voxels)" below 1 mL, or "1234 voxels"
 * without a pixel size; with the slices of the range that have no keyframe, if any. The voxel
 * count names the volume's basis: voxels whose centres are inside, which for a one-slice outline
 * is not its geometric area times the slice thickness. */
export function volumeText(v: ObjectVolume): string {
  const voxels = `${v.voxels} voxel${v.voxels === 1 ? "" : "s"}`;
  const missing = v.missing > 0 ? `${v.missing} slice${v.missing === 1 ? "" : "s"} not drawn` : "";
  if (v.mm3 === null) return missing ? `${voxels} (${missing})` : voxels;
  const size = v.mm3 >= 1000 ? `${(v.mm3 / 1000).toFixed(v.mm3 >= 100_000 ? 0 : 1)} mL` : `${Math.round(v.mm3)} mm³`;
  return `volume ${size} (${voxels}${missing ? `; ${missing}` : ""})`;
}
