import { describe, expect, it } from "vitest";
import type { LabelObject } from "../labels";
import { objectVolume, sliceVoxelVolumes, volumeText } from "./statistics";

// Python's test series (tests/test_labels_table.py gap_series): 7 slices, slice 4 of 8
// missing, pixels 0.5 x 0.7 mm; series_info as the kernel sends it
const info = {
  shape: [7, 12, 10] as [number, number, number],
  spacing_known: true,
  affine: [
    [0.7, 0, 0, -10],
    [0, 0.5, 0, -20],
    [0, 0, 2.5, -40],
    [0, 0, 0, 1],
  ],
  slice_origins: [-40, -37.5, -35, -32.5, -27.5, -25, -22.5].map((z) => [-10, -20, z]),
};

const object = (shape: LabelObject["shape"], keyframes: LabelObject["keyframes"], plane = "axial"): LabelObject => ({ uuid: "u", object_id: 1, feature: "f", shape, plane, keyframes });

describe("segment volume in the page (= Python's statistics_to_records)", () => {
  it("gives each slice its share of the stack", () => {
    expect(sliceVoxelVolumes(info)?.map((v) => v / 0.35)).toEqual([2.5, 2.5, 2.5, 3.75, 3.75, 2.5, 2.5].map((t) => expect.closeTo(t, 9)));
    expect(sliceVoxelVolumes({ ...info, slice_origins: null })?.every((v) => Math.abs(v - 0.875) < 1e-12)).toBe(true);
    expect(sliceVoxelVolumes({ ...info, spacing_known: false })).toBeNull();
  });
  it("counts the pixels and volumes Python counts (values printed by Python)", () => {
    const mask = objectVolume(object("bitmask", { "3": { mask_area: 30 } }), info);
    expect(mask?.voxels).toBe(30);
    expect(mask?.mm3).toBeCloseTo(39.375, 9);
    const polygon = objectVolume(object("polygon", { "5": { points: [[1, 1], [8, 2], [6, 9]] } }), info);
    expect([polygon?.voxels, polygon?.mm3]).toEqual([25, expect.closeTo(21.875, 9)]);
    const coronal = objectVolume(object("polygon", { "6": { points: [[1, 0.2], [8, 0.2], [8, 5.8], [1, 5.8]] } }, "coronal"), info);
    expect([coronal?.voxels, coronal?.mm3]).toEqual([35, expect.closeTo(36.75, 9)]);
    const box = objectVolume(object("bounding_box", { "0": { box: [2, 2, 6, 5] }, "6": { box: [2, 2, 6, 5] } }), info);
    expect(box).toEqual({ voxels: 24, mm3: expect.closeTo(21, 9), missing: 5 });
    expect(objectVolume(object("polyline", { "1": { points: [[0, 0], [3, 3]] } }), info)).toBeNull();
  });
  it("says it in mL, mm³ or voxels", () => {
    expect(volumeText({ voxels: 10, mm3: 45_612, missing: 0 })).toBe("volume 45.6 mL (10 voxels)");
    expect(volumeText({ voxels: 10, mm3: 1_234_567, missing: 0 })).toBe("volume 1235 mL (10 voxels)");
    expect(volumeText({ voxels: 10, mm3: 840.4, missing: 2 })).toBe("volume 840 mm³ (10 voxels; 2 slices not drawn)");
    expect(volumeText({ voxels: 1234, mm3: null, missing: 1 })).toBe("1234 voxels (1 slice not drawn)");
    expect(volumeText({ voxels: 1, mm3: 2, missing: 0 })).toBe("volume 2 mm³ (1 voxel)");
  });
});
