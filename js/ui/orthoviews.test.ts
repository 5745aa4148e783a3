import { describe, expect, it } from "vitest";
import { THUMB_PX, thumbSize } from "./orthoviews";

describe("thumbSize", () => {
  it("keeps the aspect in millimetres, the longest side THUMB_PX", () => {
    // a coronal reformat of 64 columns (0.7 mm) by 12 slices (2 mm): 44.8 x 24 mm
    expect(thumbSize(64, 12, 0.7, 2)).toEqual([THUMB_PX, Math.round((24 / 44.8) * THUMB_PX)]);
    expect(thumbSize(40, 300, 1, 1)).toEqual([Math.round((40 / 300) * THUMB_PX), THUMB_PX]);
    // unknown spacing counts as 1 mm; never smaller than 16 px a side
    expect(thumbSize(512, 2, 0, 0)).toEqual([THUMB_PX, 16]);
  });
});
