import { describe, expect, it } from "vitest";
import type { LabelObject, Ontology } from "../labels";
import { acceptOp, bounds, pendingByClass, rejectOp, reviewKey, reviewTitle } from "./review";

const o = (id: number, feature: string, review: string | null, source = "det"): LabelObject => ({
  uuid: `u${id}`,
  object_id: id,
  feature,
  shape: "bounding_box",
  keyframes: { "1": { box: [0, 0, 2, 2] } },
  source,
  review,
  confidence: 0.5,
});

const ONTO: Ontology = {
  objects: [
    { id: "liver", name: "Liver", shape: "polygon" },
    { id: "lesion", name: "Lesion", shape: "bounding_box" },
  ],
};

describe("review logic", () => {
  it("groups pending predictions by class in ontology order", () => {
    const g = pendingByClass([o(5, "lesion", "pending"), o(2, "liver", "pending"), o(3, "lesion", "accepted"), o(4, "lesion", null, "manual"), o(1, "lesion", "pending"), o(9, "ghost", "pending")], ONTO);
    expect([...g.keys()]).toEqual(["liver", "lesion", "ghost"]);
    expect(g.get("lesion")?.map((x) => x.object_id)).toEqual([1, 5]);
    expect(pendingByClass([o(1, "liver", "accepted")], ONTO).size).toBe(0);
  });

  it("builds the batches Labels.accept / Labels.reject apply", () => {
    expect(acceptOp(["a", "b"])).toEqual({
      op: "batch",
      label: "accept predictions",
      ops: [
        { op: "update_object", uuid: "a", changes: { review: "accepted" } },
        { op: "update_object", uuid: "b", changes: { review: "accepted" } },
      ],
    });
    expect(rejectOp(["a"])).toEqual({ op: "batch", label: "reject predictions", ops: [{ op: "delete_object", uuid: "a" }] });
  });

  it("bounds screen points", () => {
    expect(bounds([])).toBeNull();
    expect(bounds([[3, 4], [-1, 9], [2, 0]])).toEqual([-1, 0, 3, 9]);
  });
});

describe("reviewKey (list rebuilt only when it changes)", () => {
  it("is the same for the same predictions parsed again, and changes with what is listed", () => {
    const list = [o(1, "lesion", "pending"), o(2, "liver", "pending"), o(3, "lesion", null)];
    const again = JSON.parse(JSON.stringify(list)) as LabelObject[];
    const base = reviewKey(pendingByClass(list, ONTO), ONTO, false);
    expect(reviewKey(pendingByClass(again, ONTO), ONTO, false)).toBe(base);
    expect(reviewKey(pendingByClass(again, ONTO), ONTO, true)).not.toBe(base);
    expect(reviewKey(pendingByClass([...again, o(4, "liver", "pending")], ONTO), ONTO, false)).not.toBe(base);
    const accepted = again.map((x) => (x.object_id === 1 ? { ...x, review: "accepted" } : x));
    expect(reviewKey(pendingByClass(accepted, ONTO), ONTO, false)).not.toBe(base);
    const moreSlices = again.map((x) => (x.object_id === 2 ? { ...x, keyframes: { ...x.keyframes, "4": { box: [0, 0, 1, 1] as [number, number, number, number] } } } : x));
    expect(reviewKey(pendingByClass(moreSlices, ONTO), ONTO, false)).not.toBe(base);
    const renamed: Ontology = { objects: ONTO.objects.map((c) => (c.id === "liver" ? { ...c, name: "Hepar" } : c)) };
    expect(reviewKey(pendingByClass(again, renamed), renamed, false)).not.toBe(base);
  });
});

describe("reviewTitle", () => {
  it("says how many predictions wait here and on other planes", () => {
    expect(reviewTitle(3, 0)).toBe("Predictions (3 to review)");
    expect(reviewTitle(3, 2)).toBe("Predictions (3 to review; 2 on other planes)");
    expect(reviewTitle(0, 5)).toBe("Predictions: 5 on other planes to review");
  });
});
