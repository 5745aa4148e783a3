import { describe, expect, it } from "vitest";
import { BoxTool, boxFrom } from "./box";

describe("box tool", () => {
  it("drags a box, sorted and rounded to 1/1000 voxel", () => {
    const t = new BoxTool();
    expect(t.up([1, 1])).toBeNull(); // no press: nothing
    t.down([10.12345, 20.9876]);
    expect(t.active).toBe(true);
    t.move([3, 4]);
    expect(t.end).toEqual([3, 4]);
    expect(t.up([2.00049, 5.5])).toEqual({ box: [2, 5.5, 10.123, 20.988] });
    expect(t.active).toBe(false);
  });

  it("refuses a box without area", () => {
    const t = new BoxTool();
    t.down([5, 5]);
    const r = t.up([9, 5]);
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error).toMatch(/non-zero width and height/);
    expect(boxFrom([1, 1], [1.0001, 3])).toHaveProperty("error"); // rounds to zero width
  });

  it("cancels", () => {
    const t = new BoxTool();
    t.down([1, 1]);
    t.cancel();
    expect(t.active).toBe(false);
    expect(t.up([5, 5])).toBeNull();
  });
});
