import { describe, expect, it } from "vitest";
import { SLIDER_MAX_RADIUS, nextRadius } from "./bitmask";

describe("nextRadius ([ and ])", () => {
  it("steps by about 15 %, at least one voxel", () => {
    expect(nextRadius(8, 1)).toBe(9);
    expect(nextRadius(8, -1)).toBe(7);
    expect(nextRadius(40, 1)).toBe(46);
    expect(nextRadius(40, -1)).toBe(34);
  });
  it("stays within 1 and the slider's maximum", () => {
    expect(nextRadius(1, -1)).toBe(1);
    expect(nextRadius(SLIDER_MAX_RADIUS, 1)).toBe(SLIDER_MAX_RADIUS);
    expect(nextRadius(95, 1)).toBe(SLIDER_MAX_RADIUS);
  });
  it("goes back and forth over the small sizes one by one", () => {
    let r = 1;
    const seen = [r];
    for (let i = 0; i < 5; i++) seen.push((r = nextRadius(r, 1)));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
