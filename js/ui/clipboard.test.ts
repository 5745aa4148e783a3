import { describe, expect, it } from "vitest";
import type { Keyframe, LabelObject, SliceItem } from "../labels";
import type { EditorApi } from "../tools/types";
import { ClipboardPanel, copyGeometry, pasteMessage } from "./clipboard";

const key = (k: string, mod: Partial<KeyboardEvent> = { ctrlKey: true }): KeyboardEvent =>
  ({ key: k, code: `Key${k.toUpperCase()}`, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mod }) as KeyboardEvent;

function fakeApi(objects: LabelObject[], readOnly = false) {
  const log: string[] = [];
  const sent: [string, number, Keyframe][] = [];
  let slice = 3;
  let plane = "axial";
  let selected: string | null = null;
  const api = {
    slice: () => slice,
    plane: () => plane,
    setPlane: (p: string) => {
      plane = p;
    },
    setSlice: (k: number) => {
      slice = k;
    },
    selected: () => selected,
    select: (u: string | null) => {
      selected = u;
    },
    readOnly: () => readOnly,
    object: (u: string) => objects.find((o) => o.uuid === u),
    items: (k: number): SliceItem[] =>
      objects.flatMap((o) => (o.keyframes[String(k)] ? [{ object: o, keyframe: o.keyframes[String(k)] as Keyframe }] : [])),
    setKeyframe: (u: string, k: number, g: Keyframe) => {
      sent.push([u, k, g]);
      return true;
    },
    toast: (t: string) => log.push(`toast: ${t}`),
    refuse: (t: string) => log.push(`refuse: ${t}`),
  };
  return { api: api as unknown as EditorApi, log, sent, setSlice: api.setSlice, select: api.select, setPlane: api.setPlane };
}

const box: LabelObject = {
  uuid: "b1",
  object_id: 4,
  feature: "lesion",
  shape: "bounding_box",
  keyframes: { "3": { manual: true, box: [1, 2, 10, 12] }, "5": { manual: false, box: [2, 2, 9, 9] } },
};

describe("clipboard", () => {
  it("copies only geometry, as a deep copy", () => {
    const kf: Keyframe = { manual: true, points: [[1, 2], [3, 4], [5, 1]] };
    const g = copyGeometry(kf) as Keyframe;
    expect(g).toEqual({ points: [[1, 2], [3, 4], [5, 1]] });
    (kf.points as [number, number][])[0] = [9, 9];
    expect(g.points?.[0]).toEqual([1, 2]);
    expect(copyGeometry({ manual: true, nodes: { a: [1, 1] }, edges: ["visible"] })).toEqual({ nodes: { a: [1, 1] }, edges: ["visible"] });
    expect(copyGeometry({ manual: true, mask_area: 40 })).toBeNull();
  });

  it("pastes the copied geometry as a keyframe of the same object on another slice", () => {
    const f = fakeApi([box]);
    const p = new ClipboardPanel(f.api);
    expect(p.key(key("c"))).toBe(false); // nothing selected: left to the browser
    expect(f.log).toEqual([]);
    f.select("b1");
    expect(p.key(key("c", { metaKey: true }))).toBe(true); // cmd+c on macOS
    expect(p.clip()).toEqual({ uuid: "b1", objectId: 4, slice: 3, geometry: { box: [1, 2, 10, 12] } });
    f.setSlice(4);
    f.select(null);
    expect(p.key(key("v"))).toBe(true);
    expect(f.sent).toEqual([["b1", 4, { box: [1, 2, 10, 12] }]]);
    expect(f.log.pop()).toBe(`toast: ${pasteMessage(box, 4, false)}`);
    // on a slice with a keyframe of that object: replaced, and the toast says so
    f.setSlice(5);
    p.key(key("v"));
    expect(f.sent[1]).toEqual(["b1", 5, { box: [1, 2, 10, 12] }]);
    expect(f.log.pop()).toMatch(/replaces the keyframe/);
  });

  it("ignores other keys and refuses in read-only mode", () => {
    const f = fakeApi([box], true);
    const p = new ClipboardPanel(f.api);
    expect(p.key(key("c", { ctrlKey: false }))).toBe(false);
    expect(p.key(key("c", { ctrlKey: true, shiftKey: true }))).toBe(false);
    expect(p.key(key("x"))).toBe(false);
    f.select("b1");
    p.key(key("c")); // copying is not an edit
    f.setSlice(4);
    expect(p.key(key("v"))).toBe(true);
    expect(f.sent).toEqual([]);
    expect(f.log.pop()).toMatch(/^refuse: .*read-only/);
  });

  it("pastes only on the plane the object is drawn on", () => {
    // QA 24a D3: an axial box pasted on coronal slice 31 became a keyframe of axial slice 31
    const f = fakeApi([box]);
    const p = new ClipboardPanel(f.api);
    f.select("b1");
    p.key(key("c"));
    f.setPlane("coronal");
    f.setSlice(30);
    expect(p.key(key("v"))).toBe(true);
    expect(f.sent).toEqual([]);
    expect(f.log.pop()).toBe("refuse: #4 is drawn on the axial plane: paste it there (this view shows the coronal plane)");
    f.setPlane("axial");
    p.key(key("v"));
    expect(f.sent).toEqual([["b1", 30, { box: [1, 2, 10, 12] }]]);
  });

  it("says when the copied object is gone or has no shape here", () => {
    const objects = [box];
    const f = fakeApi(objects);
    const p = new ClipboardPanel(f.api);
    f.select("b1");
    f.setSlice(8);
    p.key(key("c"));
    expect(f.log.pop()).toMatch(/no shape on this slice/);
    expect(p.clip()).toBeNull();
    f.setSlice(3);
    p.key(key("c"));
    objects.pop();
    p.key(key("v"));
    expect(f.sent).toEqual([]);
    expect(f.log.pop()).toMatch(/^refuse: object #4 was deleted/);
  });
});
