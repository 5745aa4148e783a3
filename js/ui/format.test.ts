import { describe, expect, it } from "vitest";
import { formatArea, formatValue, patientPosition, sliceLocation, spacingLine } from "./format";

describe("format", () => {
  it("names what is unknown in the spacing line: the pixel spacing, not the slice spacing", () => {
    const base = { plane: "axial", sliceSpacing: 2.5, pixelSpacingKnown: true };
    expect(spacingLine({ ...base, thickness: 3 })).toBe("Thick 3.0 mm  ·  Spacing 2.5 mm");
    // the slice spacing comes from the positions: known (the view's warning names the
    // missing pixel spacing; QA: "Spacing 2.5 mm (unknown)")
    expect(spacingLine({ ...base, pixelSpacingKnown: false })).toBe("Spacing 2.5 mm");
    // on a reformat the slice spacing is a pixel spacing, assumed when there is none
    expect(spacingLine({ ...base, plane: "coronal", sliceSpacing: 1, pixelSpacingKnown: false, thickness: 3 })).toBe(
      "Spacing 1.0 mm (assumed)",
    );
    expect(spacingLine({ ...base, plane: "coronal", sliceSpacing: 0.7 })).toBe("Spacing 0.7 mm");
    expect(spacingLine({ ...base, slab: 8, thickness: 3 })).toBe("MIP 8 slices (20.0 mm)  ·  Spacing 2.5 mm");
  });
  /** 0.5 x 0.7 mm pixels, 2 mm slices, origin (-100, -50, 30) */
  const A = [
    [0.5, 0, 0, -100],
    [0, 0.7, 0, -50],
    [0, 0, 2, 30],
    [0, 0, 0, 1],
  ];
  it("prints modality values compactly", () => {
    expect(formatValue(-1024)).toBe("-1024");
    expect(formatValue(12.345)).toBe("12.35");
    expect(formatValue(123.45)).toBe("123.5");
    expect(formatValue(0.0012345)).toBe("0.001234");
  });
  it("maps voxel (column, row, slice) to patient LPS through the affine", () => {
    expect(patientPosition(A, 10, 20, 3)).toEqual([-95, -36, 36]);
    expect(sliceLocation(A, 3)).toBe(36);
    expect(patientPosition(null, 0, 0, 0)).toBeNull();
    expect(patientPosition([[1, 2]], 0, 0, 0)).toBeNull();
  });
  it("places a slice at its own origin when the series gives one (a missing slice)", () => {
    // slices 0-2 at z = 30, 32, 34; slice 3 at 38 (the one at 36 is missing)
    const origins = [
      [-100, -50, 30],
      [-100, -50, 32],
      [-100, -50, 34],
      [-100, -50, 38],
    ];
    expect(patientPosition(A, 10, 20, 3, origins)).toEqual([-95, -36, 38]);
    expect(patientPosition(A, 10, 20, 1, origins)).toEqual([-95, -36, 32]);
    expect(sliceLocation(A, 3, origins)).toBe(38);
    // no origins, or an unusable one: the affine places the slice
    expect(patientPosition(A, 10, 20, 3, null)).toEqual([-95, -36, 36]);
    expect(patientPosition(A, 10, 20, 3, [[0, 0, 0], [0, 0, 0], [0, 0, 0], [Number.NaN, 0, 0]])).toEqual([-95, -36, 36]);
  });
  it("prints areas with their unit, fewer decimals as they grow", () => {
    expect(formatArea(12.345)).toBe("12.35 mm²");
    expect(formatArea(123.45)).toBe("123.5 mm²");
    expect(formatArea(12345.6)).toBe("12346 mm²");
    expect(formatArea(40, "px²")).toBe("40.00 px²");
    expect(formatArea(Number.NaN)).toBe("? mm²");
  });
});
