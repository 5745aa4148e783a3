import { describe, expect, it } from "vitest";
import { sliceSpan } from "./answers";

describe("sliceSpan", () => {
  it("names one slice alone and a range by its ends, 1-based", () => {
    expect(sliceSpan([14, 14])).toBe("slice 15");
    expect(sliceSpan([20, 23])).toBe("slices 21–24");
  });
});
