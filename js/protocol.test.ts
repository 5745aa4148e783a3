import { describe, expect, it } from "vitest";
import { displayInverted } from "./protocol";

describe("displayInverted", () => {
  it("follows the kernel's display_inverted (PresentationLUTShape INVERSE included)", () => {
    expect(displayInverted({ display_inverted: true, photometric_interpretation: "MONOCHROME2" })).toBe(true);
    expect(displayInverted({ display_inverted: false, photometric_interpretation: "MONOCHROME2" })).toBe(false);
  });
  it("falls back to MONOCHROME1 for a kernel that does not send it", () => {
    expect(displayInverted({ photometric_interpretation: "MONOCHROME1" })).toBe(true);
    expect(displayInverted({ photometric_interpretation: "MONOCHROME2" })).toBe(false);
    expect(displayInverted(null)).toBe(false);
  });
});
