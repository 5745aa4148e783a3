import { describe, expect, it } from "vitest";
import { formatArea, formatValue, patientPosition, sliceLocation } from "./format";

describe("format", () => {
  it("prints modality values compactly", () => {
    expect(formatValue(-1024)).toBe("-1024");
    expect(formatValue(12.345)).toBe("12.35");
    expect(formatValue(123.45)).toBe("123.5");
    expect(formatValue(0.0012345)).toBe("0.001234");
  });
  it("maps voxel (column, row, slice) to patient LPS through the affine", () => {
    const A = [
      [0.5, 0, 0, -100],
      [0, 0.7, 0, -50],
      [0, 0, 2, 30],
      [0, 0, 0, 1],
    ];
    expect(patientPosition(A, 10, 20, 3)).toEqual([-95, -36, 36]);
    expect(sliceLocation(A, 3)).toBe(36);
    expect(patientPosition(null, 0, 0, 0)).toBeNull();
    expect(patientPosition([[1, 2]], 0, 0, 0)).toBeNull();
  });
  it("prints areas with their unit, fewer decimals as they grow", () => {
    expect(formatArea(12.345)).toBe("12.35 mm²");
    expect(formatArea(123.45)).toBe("123.5 mm²");
    expect(formatArea(12345.6)).toBe("12346 mm²");
    expect(formatArea(40, "px²")).toBe("40.00 px²");
    expect(formatArea(Number.NaN)).toBe("? mm²");
  });
});
