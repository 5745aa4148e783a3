/** Shared test fixtures (imported by *.test.ts only; never bundled: widget.ts does not import it). */
import type { SeriesInfo } from "./protocol";

/** A CT series' info of `shape` [slices, rows, columns] (int16, HU, 1 mm pixels). */
export function ctSeriesInfo(shape: [number, number, number], spacing: [number, number, number] = [1, 1, 1]): SeriesInfo {
  return {
    id: "s0",
    shape,
    spacing,
    spacing_known: true,
    dtype: "int16",
    samples_per_pixel: 1,
    units: "HU",
    value_range: [-1024, 3071],
    windows: [],
    plane: "axial",
  };
}
