/** Text formatting of numbers for the readout and the overlay (pure). */

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(4);
}

export function formatMm(v: number): string {
  return Number.isFinite(v) ? v.toFixed(1) : "?";
}

/**
 * The overlay's spacing line. On the acquired (axial) plane the slice spacing comes from the
 * slices' positions, known without a PixelSpacing (whose absence the view's warning names); on
 * a reformat the slice spacing is a pixel spacing, assumed (1 mm) when the series has none.
 */
export function spacingLine(opts: {
  plane: string;
  sliceSpacing: number;
  pixelSpacingKnown: boolean;
  slab?: number;
  thickness?: number | null;
}): string {
  const { plane, sliceSpacing, pixelSpacingKnown } = opts;
  const slab = Math.max(1, opts.slab ?? 1);
  const acquired = plane === "axial";
  const spacing = `Spacing ${formatMm(sliceSpacing)} mm${acquired || pixelSpacingKnown ? "" : " (assumed)"}`;
  const parts =
    slab > 1
      ? [`MIP ${slab} slices (${formatMm(slab * sliceSpacing)} mm)`, spacing]
      : [...(acquired && opts.thickness ? [`Thick ${formatMm(opts.thickness)} mm`] : []), spacing];
  return parts.join("  ·  ");
}

/** An area with its unit: "12.35 mm²", "123.5 mm²", "12346 mm²" ("px²" without a pixel size). */
export function formatArea(v: number, unit: "mm²" | "px²" = "mm²"): string {
  if (!Number.isFinite(v)) return `? ${unit}`;
  const a = Math.abs(v);
  const text = a >= 1000 ? String(Math.round(v)) : a >= 100 ? v.toFixed(1) : v.toFixed(2);
  return `${text} ${unit}`;
}

/**
 * Voxel (column, row, slice) -> patient LPS mm through a 4x4 affine, as Python's
 * `PatientGeometry.to_mm`: the affine's in-plane axes from the slice's origin. The origin is
 * the affine's (its third column may lean: a gantry tilt) or, with `origins` (each slice's
 * ImagePositionPatient, sent when the affine's even spacing would misplace some slice), the
 * slice's own; a fractional slice (a reformat's geometry) lies linearly between its
 * neighbours'. An unusable origin is the affine's. Null without a usable affine.
 */
export function patientMap(
  affine: readonly (readonly number[])[] | null | undefined,
  origins?: readonly (readonly number[])[] | null,
): ((column: number, row: number, slice: number) => [number, number, number]) | null {
  if (!Array.isArray(affine) || affine.length < 3) return null;
  const rows = affine.slice(0, 3);
  if (!rows.every((r) => Array.isArray(r) && r.length >= 4 && r.every(Number.isFinite))) return null;
  const fromAffine = (s: number): number[] => rows.map((r) => (r[3] as number) + (r[2] as number) * s);
  const own = Array.isArray(origins) && origins.length >= 2 ? origins : null;
  const originOf = (k: number): readonly number[] => {
    const o = own?.[k];
    return o && o.length === 3 && o.every(Number.isFinite) ? o : fromAffine(k);
  };
  return (column, row, slice) => {
    let o: readonly number[];
    if (own) {
      const i = Math.min(Math.max(Math.floor(slice), 0), own.length - 2);
      const t = slice - i;
      const p = originOf(i);
      const q = originOf(i + 1);
      o = [0, 1, 2].map((j) => (p[j] as number) + t * ((q[j] as number) - (p[j] as number)));
    } else o = fromAffine(slice);
    return [0, 1, 2].map((j) => (o[j] as number) + (rows[j]?.[0] as number) * column + (rows[j]?.[1] as number) * row) as [number, number, number];
  };
}

/** Patient position (LPS mm) of voxel (column, row, slice), or null (see `patientMap`). */
export function patientPosition(
  affine: number[][] | null | undefined,
  column: number,
  row: number,
  slice: number,
  origins?: number[][] | null,
): [number, number, number] | null {
  const p = patientMap(affine, origins)?.(column, row, slice) ?? null;
  return p && p.every(Number.isFinite) ? p : null;
}

/** Slice location: the position of slice k's origin along the unit slice normal, in mm. */
export function sliceLocation(
  affine: number[][] | null | undefined,
  slice: number,
  origins?: number[][] | null,
): number | null {
  const p = patientPosition(affine, 0, 0, slice, origins);
  if (!p || !affine) return null;
  const n = [0, 1, 2].map((i) => (affine[i]?.[2] as number) ?? 0);
  const len = Math.hypot(n[0]!, n[1]!, n[2]!);
  if (!(len > 0)) return null;
  return (p[0] * n[0]! + p[1] * n[1]! + p[2] * n[2]!) / len;
}
