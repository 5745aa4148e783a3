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
 * Patient position (LPS mm) of voxel (column, row, slice) through a 4x4 affine, or null.
 * With `origins` (each slice's ImagePositionPatient, when the affine's even spacing would
 * misplace some slice), the slice's own origin replaces the affine's: origin + column *
 * affine[:, 0] + row * affine[:, 1].
 */
export function patientPosition(
  affine: number[][] | null | undefined,
  column: number,
  row: number,
  slice: number,
  origins?: number[][] | null,
): [number, number, number] | null {
  if (!affine || affine.length < 3) return null;
  const origin = origins?.[slice];
  const own = origin && origin.length === 3 && origin.every(Number.isFinite) ? origin : null;
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = affine[i];
    if (!r || r.length < 4) return null;
    const base = own ? (own[i] as number) : (r[2] as number) * slice + (r[3] as number);
    out.push((r[0] as number) * column + (r[1] as number) * row + base);
  }
  return out.every(Number.isFinite) ? (out as [number, number, number]) : null;
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
