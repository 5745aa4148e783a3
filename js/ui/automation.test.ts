import { describe, expect, it } from "vitest";
import type { LabelObject } from "../labels";
import { defaultSpan, derivedCount, interpolable, interpolateRequest, interpolationSummary, revealIn } from "./automation";

const obj = (uuid: string, frames: Record<string, boolean>): LabelObject => ({
  uuid,
  object_id: 1,
  feature: "liver",
  shape: "polygon",
  keyframes: Object.fromEntries(Object.entries(frames).map(([k, manual]) => [k, { manual, points: [] }])),
});

const A = obj("a", { "2": true, "8": true, "5": false });
const B = obj("b", { "4": true });
const C = obj("c", { "1": true, "3": true });

describe("automation drawer", () => {
  it("interpolates only objects with two manual keyframes", () => {
    expect(interpolable([A, B, C]).map((o) => o.uuid)).toEqual(["a", "c"]);
    expect(defaultSpan([A, C])).toEqual([1, 8]);
    expect(defaultSpan([B])).toEqual([4, 4]);
    expect(derivedCount([A, B, C], ["a"])).toBe(1);
  });
  it("builds the interpolate message (1-based inputs, 0-based slices)", () => {
    const all = interpolateRequest("all", [A, B, C], null, new Set(), "3", "9", 20);
    expect(all).toEqual({ msg: { type: "interpolate", uuids: null, start: 2, end: 8 }, uuids: ["a", "c"] });
    const sel = interpolateRequest("selected", [A, B, C], "a", new Set(), "", "", 20);
    expect(sel).toEqual({ msg: { type: "interpolate", uuids: ["a"], start: null, end: null }, uuids: ["a"] });
    const list = interpolateRequest("list", [A, B, C], null, new Set(["c", "b"]), "", "", 20);
    expect("msg" in list && list.msg.uuids).toEqual(["c"]);
  });
  it("says why it cannot run", () => {
    expect(interpolateRequest("selected", [A, B], "b", new Set(), "", "", 20)).toEqual({ error: "object 1 needs at least two manual keyframes" });
    expect(interpolateRequest("selected", [A], null, new Set(), "", "", 20)).toEqual({ error: "select an object first" });
    expect(interpolateRequest("all", [B], null, new Set(), "", "", 20)).toHaveProperty("error");
    expect(interpolateRequest("list", [A], null, new Set(), "", "", 20)).toEqual({ error: "tick at least one object" });
    expect(interpolateRequest("all", [A], null, new Set(), "0", "", 20)).toEqual({ error: 'start must be a slice number from 1 to 20, got "0"' });
    expect(interpolateRequest("all", [A], null, new Set(), "9", "3", 20)).toEqual({ error: "start (9) is after end (3)" });
  });
});

describe("revealIn", () => {
  const box = (top: number, bottom: number) => ({ top, bottom }) as DOMRect;
  const fake = (rect: () => DOMRect) => ({ getBoundingClientRect: rect, scrollTop: 0 }) as unknown as HTMLElement;
  it("scrolls the container down just enough to show an opened drawer below its fold", () => {
    const side = fake(() => box(100, 300));
    let scrolled = 0;
    Object.defineProperty(side, "scrollTop", { get: () => scrolled, set: (v: number) => (scrolled = v) });
    const drawer = fake(() => box(250 - scrolled, 350 - scrolled));
    revealIn(side, drawer);
    expect(scrolled).toBe(50); // bottom 350 -> 300
    // a drawer taller than the container: its top comes first
    scrolled = 0;
    const tall = fake(() => box(280 - scrolled, 700 - scrolled));
    revealIn(side, tall);
    expect(scrolled).toBe(180); // top 280 -> 100
    // already in view: nothing moves
    scrolled = 0;
    revealIn(side, fake(() => box(120, 200)));
    expect(scrolled).toBe(0);
  });
});

describe("interpolationSummary", () => {
  it("counts the objects that have interpolated keyframes, not those it ran on", () => {
    const a = obj("a", { "15": true, "16": false, "17": false, "20": true });
    const b = obj("b", { "18": true, "20": true });
    expect(interpolationSummary([a, b], ["a", "b"], 0)).toBe("Done: 1 of 2 objects now has 2 interpolated keyframes (0 before)");
    const c = obj("c", { "1": true, "2": false, "3": true });
    expect(interpolationSummary([a, b, c], ["a", "c"], 1)).toBe("Done: 2 objects now have 3 interpolated keyframes (1 before)");
    expect(interpolationSummary([c], ["c"], 0)).toBe("Done: 1 object now has 1 interpolated keyframe (0 before)");
  });
});
