import { describe, expect, it } from "vitest";
import { SLIDER_MAX_RADIUS, nextRadius, sliderMaxRadius, strokeTarget } from "./bitmask";
import type { OntologyClass } from "../labels";

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

describe("strokeTarget", () => {
  const organ = { id: "organ", name: "Organ", shape: "bitmask" } as OntologyClass;
  const bone = { id: "bone", name: "Bone", shape: "bitmask" } as OntologyClass;
  const api = (active: OntologyClass | null, plane = "axial") => ({
    selected: () => null,
    object: () => undefined,
    activeClass: () => active,
    plane: () => plane,
  });
  const pending = { uuid: "u1", feature: "organ", slice: 60, plane: "axial", series: "s0" };

  it("continues a new object's pending strokes on the next slice (QA 21b D2: two objects)", () => {
    expect(strokeTarget(api(organ), pending, 61, "brush", "s0")).toEqual({ uuid: "u1", feature: "organ" });
    expect(strokeTarget(api(organ), pending, 60, "eraser", "s0")).toEqual({ uuid: "u1", feature: "organ" });
  });

  it("starts a new object for another class, plane or series", () => {
    const other = strokeTarget(api(bone), pending, 61, "brush", "s0");
    expect(other).toMatchObject({ feature: "bone" });
    expect((other as { uuid: string }).uuid).not.toBe("u1");
    expect((strokeTarget(api(organ, "coronal"), pending, 61, "brush", "s0") as { uuid: string }).uuid).not.toBe("u1");
    expect((strokeTarget(api(organ), pending, 61, "brush", "s1") as { uuid: string }).uuid).not.toBe("u1");
    expect(strokeTarget(api(organ), null, 61, "eraser", "s0")).toEqual({ error: "select the mask (or polygon) to erase from" });
  });
});

describe("sliderMaxRadius", () => {
  it("reaches a quarter of a large image's side, up to Python's 512 (QA 23b D6)", () => {
    expect(sliderMaxRadius(512, 512)).toBe(128);
    expect(sliderMaxRadius(300, 200)).toBe(SLIDER_MAX_RADIUS);
    expect(sliderMaxRadius(2048, 2048)).toBe(512);
    expect(sliderMaxRadius(4096, 3328)).toBe(512);
    expect(nextRadius(500, 1, sliderMaxRadius(2048, 2048))).toBe(512);
    expect(nextRadius(120, 1, sliderMaxRadius(2048, 2048))).toBe(138);
  });
});
