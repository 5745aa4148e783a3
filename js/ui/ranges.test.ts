import { describe, expect, it } from "vitest";
import type { Classification, FrameClassification, LabelObject } from "../labels";
import {
  FrameDraft,
  answerOn,
  asOne,
  dragRange,
  dynamicEditOps,
  dynamicRange,
  frameEditOps,
  frameOn,
  frameSaveOps,
  mergeRanges,
  pruneAnswers,
  rangeBox,
  removedParts,
  sliceAt,
  subtractRange,
  toggleOption,
  trackExtent,
} from "./ranges";

const object = (slices: number[]): LabelObject => ({
  uuid: "u",
  object_id: 1,
  feature: "lesion",
  shape: "bounding_box",
  keyframes: Object.fromEntries(slices.map((k) => [String(k), { box: [0, 0, 1, 1] }])),
});

describe("ranges", () => {
  it("merges overlapping and touching ranges, keeps gaps", () => {
    expect(mergeRanges([[5, 7], [0, 2], [3, 3], [9, 9], [6, 8]])).toEqual([[0, 3], [5, 9]]);
    expect(mergeRanges([[4, 4], [6, 6]])).toEqual([[4, 4], [6, 6]]);
    expect(mergeRanges([])).toEqual([]);
  });

  it("subtracts a range, splitting where needed", () => {
    expect(subtractRange([[0, 9]], 3, 5)).toEqual([[0, 2], [6, 9]]);
    expect(subtractRange([[0, 9]], 0, 9)).toEqual([]);
    expect(subtractRange([[2, 4], [8, 9]], 4, 8)).toEqual([[2, 3], [9, 9]]);
    expect(subtractRange([[2, 4]], 6, 7)).toEqual([[2, 4]]);
  });

  it("finds the dynamic answer on a slice", () => {
    const dyn = [
      { classification: "c", answer: "a", range: [2, 4] as [number, number] },
      { classification: "c", answer: "b", range: [5, 5] as [number, number] },
      { classification: "d", answer: "x", range: [0, 9] as [number, number] },
    ];
    expect(answerOn(dyn, "c", 1)).toBeNull();
    expect(answerOn(dyn, "c", 2)).toBe("a");
    expect(answerOn(dyn, "c", 4)).toBe("a");
    expect(answerOn(dyn, "c", 5)).toBe("b");
    expect(answerOn(undefined, "c", 5)).toBeNull();
  });

  it("finds the frame instance on a slice of a plane", () => {
    const f: FrameClassification = { uuid: "f", classification: "q", plane: "axial", answers: { q: "good" }, ranges: [[1, 2], [6, 6]] };
    expect(frameOn([f], "q", "axial", 6)).toBe(f);
    expect(frameOn([f], "q", "axial", 4)).toBeNull();
    expect(frameOn([f], "q", "coronal", 1)).toBeNull();
  });

  it("chooses the slices a dynamic answer applies to", () => {
    const o = object([2, 7, 5]);
    expect(trackExtent(o)).toEqual([2, 7]);
    expect(trackExtent(object([]))).toBeNull();
    expect(dynamicRange("slice", 4, 12, o, [0, 0])).toEqual([4, 4]);
    expect(dynamicRange("toEnd", 4, 12, o, [0, 0])).toEqual([4, 7]);
    // past the end of the track: just this slice
    expect(dynamicRange("toEnd", 9, 12, o, [0, 0])).toEqual([9, 9]);
    expect(dynamicRange("custom", 4, 12, o, [8, 3])).toEqual([3, 8]);
    expect(dynamicRange("custom", 4, 12, o, [-3, 40])).toEqual([0, 11]);
  });

  it("toggles checklist options in ontology order, empty is null", () => {
    const order = ["a", "b", "c"];
    expect(toggleOption(null, "b", order)).toEqual(["b"]);
    expect(toggleOption(["c"], "a", order)).toEqual(["a", "c"]);
    expect(toggleOption(["a"], "a", order)).toBeNull();
  });
});

describe("edit range", () => {
  it("maps bar positions to slices like the slice bar", () => {
    expect(sliceAt(0, 120, 12)).toBe(0);
    expect(sliceAt(9.99, 120, 12)).toBe(0);
    expect(sliceAt(10, 120, 12)).toBe(1);
    expect(sliceAt(119.9, 120, 12)).toBe(11);
    expect(sliceAt(500, 120, 12)).toBe(11);
    expect(sliceAt(-5, 120, 12)).toBe(0);
    const box = rangeBox([3, 5], 12);
    expect(box.left).toBeCloseTo(25);
    expect(box.width).toBeCloseTo(25);
    // the middle of the box's first and last slices map back to the range ends
    expect(sliceAt(((box.left + 100 / 24) / 100) * 120, 120, 12)).toBe(3);
    expect(sliceAt(((box.left + box.width - 100 / 24) / 100) * 120, 120, 12)).toBe(5);
  });

  it("drags an end without inverting the range", () => {
    expect(dragRange([3, 6], "start", 1, 12)).toEqual([1, 6]);
    expect(dragRange([3, 6], "start", 9, 12)).toEqual([6, 6]);
    expect(dragRange([3, 6], "end", 10, 12)).toEqual([3, 10]);
    expect(dragRange([3, 6], "end", 0, 12)).toEqual([3, 3]);
    expect(dragRange([3, 6], "end", 99, 12)).toEqual([3, 11]);
  });

  it("clears the removed part and sets the new range (dynamic)", () => {
    expect(removedParts([3, 8], [5, 8])).toEqual([[3, 4]]);
    expect(removedParts([3, 8], [1, 9])).toEqual([]);
    const ops = dynamicEditOps("u", "c", "a", [3, 8], [5, 8]);
    expect(ops).toEqual([
      { op: "set_dynamic", uuid: "u", classification: "c", answer: null, start: 3, end: 4 },
      { op: "set_dynamic", uuid: "u", classification: "c", answer: "a", start: 5, end: 8 },
    ]);
    expect(asOne(ops, "edit range")).toEqual({ op: "batch", ops, label: "edit range" });
    expect(asOne(ops.slice(1), "x")).toEqual(ops[1]);
    expect(asOne([], "x")).toBeNull();
  });

  it("moves a frame instance's range", () => {
    const f: FrameClassification = { uuid: "f", classification: "q", plane: "axial", answers: { q: "bad" }, ranges: [[2, 6]] };
    expect(frameEditOps(f, [2, 6], [2, 3])).toEqual([
      { op: "set_frame_classification", classification: "q", plane: "axial", answers: null, start: 4, end: 6 },
      { op: "set_frame_classification", classification: "q", plane: "axial", answers: { q: "bad" }, start: 2, end: 3 },
    ]);
  });
});

describe("frame keys", () => {
  it("c / v / n / m: several ranges, an open end stands for the current slice", () => {
    const d = new FrameDraft();
    expect(d.current(4)).toBeNull();
    expect(d.empty()).toBe(true);
    d.setStart(2);
    expect(d.empty()).toBe(false);
    expect(d.current(5)).toEqual([2, 5]);
    d.setEnd(4);
    expect(d.current(9)).toEqual([2, 4]);
    expect(d.addRange(9)).toBe(true);
    expect(d.current(9)).toBeNull();
    d.setEnd(7); // end before its start: the range from the current slice
    d.setStart(9);
    expect(d.all(0)).toEqual([[2, 4], [7, 9]]);
    expect(d.empty()).toBe(false); // (ranges kept)
    d.clear();
    expect(d.empty()).toBe(true);
    expect(d.all(3)).toEqual([]);
    expect(d.addRange(3)).toBe(false);
  });

  it("x is this frame only; touching ranges merge", () => {
    const d = new FrameDraft();
    d.thisFrame(5);
    d.addRange(0);
    d.thisFrame(6);
    expect(d.all(0)).toEqual([[5, 6]]);
    d.removeRange(0);
    expect(d.all(0)).toEqual([[6, 6]]);
  });

  it("saves one operation per range", () => {
    expect(frameSaveOps("q", { q: "good" }, [[1, 2], [5, 5]], "axial")).toEqual([
      { op: "set_frame_classification", classification: "q", answers: { q: "good" }, start: 1, end: 2, plane: "axial" },
      { op: "set_frame_classification", classification: "q", answers: { q: "good" }, start: 5, end: 5, plane: "axial" },
    ]);
  });

  it("drops nested answers of options no longer chosen", () => {
    const root: Classification = {
      id: "q",
      name: "Quality",
      type: "radio",
      options: [
        { id: "bad", name: "bad", classifications: [{ id: "q.bad.why", name: "Why", type: "text" }] },
        { id: "good", name: "good" },
      ],
    };
    expect(pruneAnswers(root, { q: "bad", "q.bad.why": "motion" })).toEqual({ q: "bad", "q.bad.why": "motion" });
    expect(pruneAnswers(root, { q: "good", "q.bad.why": "motion" })).toEqual({ q: "good" });
    expect(pruneAnswers(root, { "q.bad.why": "motion" })).toEqual({});
  });
});
