import { describe, expect, it } from "vitest";
import { THUMB_MIN_PX, THUMB_PX, thumbFit } from "./orthoviews";

describe("thumbFit", () => {
  it("keeps the aspect in millimetres, the longest side THUMB_PX", () => {
    // a coronal reformat of 64 columns (0.7 mm) by 12 slices (2 mm): 44.8 x 24 mm
    expect(thumbFit(64, 12, 0.7, 2)).toEqual({ width: THUMB_PX, height: Math.round((24 / 44.8) * THUMB_PX), columnSpacing: 0.7, rowSpacing: 2 });
    expect(thumbFit(100, 300, 1, 1)).toMatchObject({ width: 50, height: THUMB_PX });
  });
  it("stretches a thin image to THUMB_MIN_PX across (QA: 150 x 16 strips)", () => {
    // 512 columns of 0.98 mm by 20 slices of 2 mm: 500 x 40 mm
    const f = thumbFit(512, 20, 0.977, 2);
    expect([f.width, f.height]).toEqual([THUMB_PX, THUMB_MIN_PX]);
    expect(f.rowSpacing * 20 * (THUMB_PX / (512 * 0.977))).toBeCloseTo(THUMB_MIN_PX, 0);
    // unknown spacing counts as 1 mm
    expect(thumbFit(20, 512, 0, 0)).toMatchObject({ width: THUMB_MIN_PX, height: THUMB_PX, rowSpacing: 1 });
  });
});
