import { describe, expect, it } from "vitest";
import {
  type LabelObject,
  type LabelsPatch,
  type LabelsState,
  type SliceItem,
  applyLabelsPatch,
  classColor,
  classHotkey,
  clampPoint,
  createObjectOp,
  deleteObjectOp,
  hitTest,
  indexBySlice,
  parseEditAnswer,
  parseLabelsPatch,
  parseLabelsState,
  readLabelsTrait,
  uuid4,
} from "./labels";

describe("labels state and messages", () => {
  it("reads the synced trait defensively", () => {
    expect(parseLabelsState(null)).toEqual({ revision: -1, ontology: null, objects: [], read_only: false, frame_classifications: [], measurements: [], can_undo: false, can_redo: false });
    const s = parseLabelsState({ revision: 3, ontology: { objects: [] }, objects: [{ uuid: "a", shape: "point", keyframes: {} }, { bad: 1 }], read_only: true });
    expect(s.revision).toBe(3);
    expect(s.objects).toHaveLength(1);
    expect(s.read_only).toBe(true);
  });

  it("decodes the trait from its binary JSON form", () => {
    const text = JSON.stringify({ revision: 5, ontology: null, objects: [{ uuid: "é", shape: "box", keyframes: {} }], read_only: false });
    const bytes = new TextEncoder().encode(text);
    const view = new DataView(bytes.buffer, 0, bytes.byteLength);
    const s = parseLabelsState(view);
    expect(s.revision).toBe(5);
    expect(s.objects[0]?.uuid).toBe("é");
    expect(parseLabelsState(bytes.buffer).revision).toBe(5);
    // broken JSON text reads as no labels, never throws
    expect(parseLabelsState(new DataView(new TextEncoder().encode("{oops").buffer)).revision).toBe(-1);
  });

  it("tells the whole state from the marker Python leaves in its place", () => {
    const bytes = (v: unknown) => new DataView(new TextEncoder().encode(JSON.stringify(v)).buffer);
    const whole = readLabelsTrait(bytes({ revision: 4, objects: [{ uuid: "a", shape: "point", keyframes: {} }], sent: 9 }));
    expect("kept" in whole).toBe(false);
    if (!("kept" in whole)) {
      expect(whole.sent).toBe(9);
      expect(whole.state.objects).toHaveLength(1);
    }
    expect(readLabelsTrait(bytes({ kept: 9 }))).toEqual({ kept: 9 });
    // a test's pushed state has no number; a document is never a marker
    expect(readLabelsTrait({ revision: 1, objects: [] })).toMatchObject({ sent: null });
    expect("kept" in readLabelsTrait({ kept: 3, objects: [] })).toBe(false);
    expect("kept" in readLabelsTrait(bytes({ kept: "9" }))).toBe(false);
  });

  it("parses edit answers", () => {
    expect(parseEditAnswer({ type: "edit_ack", request: 2, revision: 7 })).toEqual({ type: "edit_ack", request: 2, revision: 7 });
    expect(parseEditAnswer({ type: "error", message: "no", request: 2 })).toEqual({ type: "error", message: "no", request: 2 });
    expect(parseEditAnswer({ type: "error", message: "no" })).toBeNull(); // not about an edit
    expect(parseEditAnswer({ type: "slice" })).toBeNull();
  });

  it("builds create and delete operations in the form Labels.apply takes", () => {
    expect(createObjectOp("u", "lesion", "axial", 4, { box: [1, 2, 3, 4] })).toEqual({
      op: "create_object",
      object: { uuid: "u", feature: "lesion", plane: "axial", keyframes: { "4": { manual: true, box: [1, 2, 3, 4] } } },
    });
    expect(deleteObjectOp("u")).toEqual({ op: "delete_object", uuid: "u" });
  });

  it("makes version-4 uuids", () => {
    const u = uuid4();
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuid4()).not.toBe(u);
  });

  it("clamps points into the image and rounds them", () => {
    expect(clampPoint([-3, 10.12345], 64, 48)).toEqual([-0.5, 10.123]);
    expect(clampPoint([70, 50], 64, 48)).toEqual([63.5, 47.5]);
  });

  it("colours and hotkeys of classes", () => {
    const o = { objects: [{ id: "a", name: "A", shape: "polygon" as const, color: "#123456", hotkey: "3" }, { id: "b", name: "B", shape: "polygon" as const }] };
    expect(classColor(o, "a")).toBe("#123456");
    expect(classColor(o, "b")).toMatch(/^#[0-9a-f]{6}$/);
    expect(classHotkey(o.objects[0]!, 0)).toBe("3");
    expect(classHotkey(o.objects[1]!, 1)).toBe("2");
    expect(classHotkey({ ...o.objects[1]!, hotkey: null }, 1)).toBeNull();
  });

  it("hit-tests the smallest object under a point", () => {
    const items: SliceItem[] = [
      { object: { uuid: "big", object_id: 1, feature: "x", shape: "bounding_box", keyframes: {} }, keyframe: { box: [0, 0, 50, 50] } },
      { object: { uuid: "tri", object_id: 2, feature: "x", shape: "polygon", keyframes: {} }, keyframe: { points: [[10, 10], [20, 10], [10, 20]] } },
      { object: { uuid: "line", object_id: 3, feature: "x", shape: "polyline", keyframes: {} }, keyframe: { points: [[60, 0], [60, 40]] } },
    ];
    expect(hitTest(items, [12, 12], 1)).toBe("tri");
    expect(hitTest(items, [40, 40], 1)).toBe("big");
    expect(hitTest(items, [60.5, 20], 1)).toBe("line");
    expect(hitTest(items, [70, 70], 1)).toBeNull();
  });
});

describe("indexBySlice", () => {
  const o = (uuid: string, object_id: number, keys: string[], plane = "axial"): LabelObject => ({
    uuid,
    object_id,
    feature: "lesion",
    shape: "bounding_box",
    plane,
    keyframes: Object.fromEntries(keys.map((k) => [k, { box: [0, 0, 1, 1] }])),
  });

  it("lists the keyframes of one plane per slice in object_id order, sorted or not", () => {
    const a = o("a", 1, ["2", "03"]);
    const b = o("b", 2, ["2"]);
    const c = o("c", 3, ["2"], "coronal");
    for (const input of [[a, b, c], [c, b, a]]) {
      const idx = indexBySlice(input, "axial");
      expect([...idx.keys()].sort()).toEqual(["2", "3"]);
      expect(idx.get("2")?.map((it) => it.object.uuid)).toEqual(["a", "b"]);
      expect(idx.get("3")?.map((it) => it.object.uuid)).toEqual(["a"]);
    }
    // equal ids keep their order (a stable sort)
    const d = o("d", 2, ["2"]);
    expect(indexBySlice([a, b, d], "axial").get("2")?.map((it) => it.object.uuid)).toEqual(["a", "b", "d"]);
    expect(indexBySlice([d, a, b], "axial").get("2")?.map((it) => it.object.uuid)).toEqual(["a", "d", "b"]);
  });
});

describe("labels patches", () => {
  const o = (uuid: string, id: number): LabelObject => ({ uuid, object_id: id, feature: "f", shape: "bounding_box", plane: "axial", keyframes: {} }) as LabelObject;
  const state: LabelsState = { revision: 3, ontology: null, objects: [o("a", 1), o("b", 2), o("c", 3)], read_only: false, frame_classifications: [], measurements: [], can_undo: true, can_redo: false };
  const body = (p: unknown): DataView => new DataView(new TextEncoder().encode(JSON.stringify(p)).buffer);
  it("replace in place, remove, and append new objects last", () => {
    const b2 = { ...o("b", 2), feature: "g" };
    const patch = parseLabelsPatch({ type: "labels_patch", series: "s0" }, [body({ base: 3, revision: 4, upsert: [o("d", 4), b2], remove: ["a"], read_only: true, can_undo: false, can_redo: true })]);
    expect(patch).not.toBeNull();
    const next = applyLabelsPatch(state, patch as LabelsPatch);
    expect(next?.objects.map((x) => [x.uuid, x.feature])).toEqual([["b", "g"], ["c", "f"], ["d", "f"]]);
    expect(next?.revision).toBe(4);
    expect(next?.read_only).toBe(true);
    expect([next?.can_undo, next?.can_redo]).toEqual([false, true]); // the history's ends, for the buttons
    expect(next?.frame_classifications).toBe(state.frame_classifications);
  });
  it("refuse one that does not start from the revision held", () => {
    const patch = parseLabelsPatch({ type: "labels_patch" }, [body({ base: 2, revision: 3, upsert: [], remove: [] })]);
    expect(applyLabelsPatch(state, patch as LabelsPatch)).toBeNull();
  });
  it("read malformed messages as no patch, never throwing", () => {
    expect(parseLabelsPatch({ type: "edit_ack" }, [])).toBeNull();
    expect(parseLabelsPatch({ type: "labels_patch" }, [])).toBeNull();
    expect(parseLabelsPatch({ type: "labels_patch" }, [body({ base: 1, revision: 2, upsert: [{ uuid: 1 }], remove: [] })])).toBeNull();
    expect(parseLabelsPatch({ type: "labels_patch" }, [new DataView(new Uint8Array([123, 0]).buffer)])).toBeNull();
  });
});
