import { describe, expect, it } from "vitest";
import { type LabelObject, polygonArea } from "../labels";
import type { Ontology } from "../labels";
import {
  type BarContext,
  INSTANCE_KEYS,
  NAME_MAX_LEN,
  areaText,
  lengthText,
  cleanName,
  otherPlanesNote,
  drawTrack,
  instanceHotkeys,
  isPending,
  keyframeAreaPx,
  listObjects,
  nearestKeyframe,
  objectName,
  pixelAreaMm2,
  predictionTag,
  droppedAnswers,
  renameOp,
  reservedKeys,
  rowKey,
  rowWindow,
  scrollFor,
  trackOf,
  trackTitle,
} from "./instances";

const obj = (id: number, feature: string, keyframes: Record<string, { manual?: boolean }>, extra: Partial<LabelObject> = {}): LabelObject => ({
  uuid: `u${id}`,
  object_id: id,
  feature,
  shape: "bounding_box",
  plane: "axial",
  keyframes: Object.fromEntries(Object.entries(keyframes).map(([k, v]) => [k, { box: [0, 0, 1, 1], ...v }])),
  ...extra,
});

describe("instances panel logic", () => {
  it("splits keyframes into manual and interpolated, with the extent", () => {
    const t = trackOf(obj(1, "a", { "9": {}, "2": {}, "4": { manual: false }, "3": { manual: false }, x: {} }));
    expect(t.manual).toEqual([2, 9]);
    expect(t.interpolated).toEqual([3, 4]);
    expect(t.extent).toEqual([2, 9]);
    expect(trackOf(obj(2, "a", {})).extent).toBeNull();
    expect(trackTitle(t)).toBe("keyframes on slices 3, 10; interpolated: 4-5");
    expect(trackTitle(trackOf(obj(3, "a", { "0": {}, "1": {}, "2": {} })))).toBe("keyframes on slices 1-3");
  });

  it("finds the nearest keyframe (the lower one on a tie)", () => {
    const o = obj(1, "a", { "2": {}, "6": {}, "20": {} });
    expect(nearestKeyframe(o, 6)).toBe(6);
    expect(nearestKeyframe(o, 4)).toBe(2);
    expect(nearestKeyframe(o, 5)).toBe(6);
    expect(nearestKeyframe(o, 100)).toBe(20);
    expect(nearestKeyframe(obj(2, "a", {}), 3)).toBeNull();
  });

  it("lists the plane's objects in object_id order", () => {
    const list = listObjects([obj(3, "a", {}), obj(1, "a", {}), obj(2, "a", {}, { plane: "coronal" }), obj(5, "a", {}, { plane: undefined })], "axial");
    expect(list.map((o) => o.object_id)).toEqual([1, 3, 5]);
  });

  it("gives q, w, e ... to the first instances of the active class", () => {
    const list = [obj(1, "a", {}), obj(2, "b", {}), obj(3, "a", {}), obj(4, "a", {})];
    expect([...instanceHotkeys(list, "a")]).toEqual([
      ["u1", "q"],
      ["u3", "w"],
      ["u4", "e"],
    ]);
    expect([...instanceHotkeys(list, "b")]).toEqual([["u2", "q"]]);
    expect([...instanceHotkeys(list, null).values()]).toEqual(["q", "w", "e", "r"]);
    const many = Array.from({ length: 20 }, (_, i) => obj(i + 1, "a", {}));
    const keys = [...instanceHotkeys(many, "a").values()];
    expect(keys).toEqual([...INSTANCE_KEYS]);
    expect(keys).not.toContain("i"); // the overlay toggle
    expect(keys).not.toContain("p"); // the cine (QA 24a D1: the ninth object took it)
    expect(keys.length).toBe(8);
  });

  it("leaves the letters of classification options to them", () => {
    const onto: Ontology = {
      objects: [
        {
          id: "a",
          name: "A",
          shape: "bounding_box",
          classifications: [
            { id: "c1", name: "C1", type: "radio", options: [{ id: "o1", name: "O1", hotkey: "W", classifications: [{ id: "c2", name: "C2", type: "checklist", options: [{ id: "o2", name: "O2", hotkey: "r" }] }] }] },
          ],
        },
      ],
      classifications: [{ id: "f", name: "F", type: "radio", options: [{ id: "o3", name: "O3", hotkey: null }, { id: "o4", name: "O4", hotkey: "1" }] }],
    };
    const reserved = reservedKeys(onto);
    expect([...reserved].sort()).toEqual(["1", "r", "w"]);
    const list = [obj(1, "a", {}), obj(2, "a", {}), obj(3, "a", {})];
    expect([...instanceHotkeys(list, "a", reserved).values()]).toEqual(["q", "e", "t"]);
    expect(reservedKeys(null).size).toBe(0);
  });

  it("names the answers a class change drops (QA: they went without a word)", () => {
    const onto: Ontology = {
      objects: [
        {
          id: "lesion",
          name: "Lesion",
          shape: "bounding_box",
          classifications: [
            { id: "lesion.malignancy", name: "Malignancy", type: "radio", options: [{ id: "m", name: "malignant", classifications: [{ id: "lesion.grade", name: "Grade", type: "text" }] }] },
            { id: "lesion.phase", name: "Phase", type: "radio", dynamic: true, options: [{ id: "a", name: "arterial" }] },
          ],
        },
        { id: "cyst", name: "Cyst", shape: "bounding_box" },
      ],
      classifications: [],
    };
    const o = obj(1, "lesion", {}, {
      static: { "lesion.malignancy": "m", "lesion.grade": "2" },
      dynamic: [{ classification: "lesion.phase", answer: "a", range: [3, 5] }],
    });
    expect(droppedAnswers(o, onto, "cyst")).toEqual(["Malignancy", "Grade", "Phase"]);
    expect(droppedAnswers(o, onto, "lesion")).toEqual([]);
    expect(droppedAnswers(obj(2, "lesion", {}), onto, "cyst")).toEqual([]);
  });

  it("marks pending predictions and tags them with model and confidence", () => {
    const p = obj(1, "a", {}, { source: "detector", confidence: 0.8666, review: "pending" });
    expect(isPending(p)).toBe(true);
    expect(predictionTag(p)).toBe("detector 0.87");
    expect(isPending({ ...p, review: "accepted" })).toBe(false);
    expect(isPending(obj(2, "a", {}, { source: "manual", review: null }))).toBe(false);
    expect(predictionTag({ ...p, confidence: null })).toBe("detector");
    // QA: a prediction a person changed looked untouched
    expect(predictionTag({ ...p, edited: true })).toBe("detector 0.87 · edited");
    expect(rowKey({ ...p, edited: true }, "", "#f00", "A", 1, false)).not.toBe(rowKey(p, "", "#f00", "A", 1, false));
  });

  it("draws manual keyframes full height, interpolated ones half height, the extent faintly", () => {
    const calls: [number, number, number, number, number][] = [];
    const ctx: BarContext = {
      fillStyle: "",
      globalAlpha: 1,
      clearRect: () => {},
      fillRect: (x: number, y: number, w: number, h: number) => {
        calls.push([x, y, w, h, ctx.globalAlpha]);
      },
    };
    drawTrack(ctx, trackOf(obj(1, "a", { "2": {}, "5": { manual: false }, "7": {} })), 10, 100, 8, "#f00");
    expect(calls).toEqual([
      [20, 0, 60, 8, 0.2], // slices 2..7
      [50, 4, 10, 4, 0.55], // interpolated 5
      [20, 0, 10, 8, 1], // manual 2
      [70, 0, 10, 8, 1], // manual 7
    ]);
    calls.length = 0;
    drawTrack(ctx, trackOf(obj(1, "a", { "2": {} })), 0, 100, 8, "#f00");
    expect(calls).toEqual([]);
  });

  it("renders only the rows in view, plus a few", () => {
    expect(rowWindow(0, 320, 500, 40, 6)).toEqual([0, 14]);
    expect(rowWindow(4000, 320, 500, 40, 6)).toEqual([94, 114]);
    expect(rowWindow(19800, 320, 500, 40, 6)).toEqual([489, 500]);
    expect(rowWindow(0, 0, 3, 40, 6)).toEqual([0, 3]);
    expect(rowWindow(0, 320, 0, 40, 6)).toEqual([0, 0]);
  });

  it("scrolls just enough to show a row", () => {
    expect(scrollFor(2, 0, 320, 40)).toBe(0); // visible: unchanged
    expect(scrollFor(20, 0, 320, 40)).toBe(520); // below: its bottom at the bottom
    expect(scrollFor(3, 400, 320, 40)).toBe(120); // above: its top at the top
  });
});

describe("rowKey (rows kept across labels_state)", () => {
  const key = (o: LabelObject, hk = "q", n = 12, ro = false): string => rowKey(o, hk, "#3cb44b", "Lesion", n, ro);

  it("is the same for an equal object parsed again (a new labels_state)", () => {
    const a = obj(3, "lesion", { "2": { manual: true }, "5": { manual: false } });
    const b = JSON.parse(JSON.stringify(a)) as LabelObject;
    expect(key(b)).toBe(key(a));
    // geometry alone is not shown by the row: moving a box keeps the row
    (b.keyframes["2"] as { box: number[] }).box = [5, 5, 9, 9];
    expect(key(b)).toBe(key(a));
  });

  it("changes with what the row shows", () => {
    const a = obj(3, "lesion", { "2": { manual: true } });
    const base = key(a);
    expect(key(obj(3, "lesion", { "2": { manual: true }, "4": {} }))).not.toBe(base); // a keyframe more
    expect(key(obj(3, "lesion", { "2": { manual: false } }))).not.toBe(base); // interpolated now
    expect(key(obj(4, "lesion", { "2": { manual: true } }))).not.toBe(base); // object id
    expect(key(obj(3, "liver", { "2": { manual: true } }))).not.toBe(base); // class
    expect(key(obj(3, "lesion", { "2": { manual: true } }, { review: "pending", confidence: 0.5 }))).not.toBe(base);
    expect(key(a, "w")).not.toBe(base); // hotkey
    expect(key(a, "q", 20)).not.toBe(base); // slice count (track bar scale)
    expect(key(a, "q", 12, true)).not.toBe(base); // read-only disables buttons
    expect(rowKey(a, "q", "#000000", "Lesion", 12, false)).not.toBe(base); // colour
    expect(rowKey(a, "q", "#3cb44b", "Tumour", 12, false)).not.toBe(base); // class name
    const named = obj(3, "lesion", { "2": { manual: true } }, { name: "left" } as Partial<LabelObject>);
    expect(key(named)).not.toBe(base); // the name the user gave it
    expect(key({ ...named, name: "right" } as LabelObject)).not.toBe(key(named));
  });
});

describe("object names", () => {
  it("reads the name from labels_state, ignoring what is not a non-empty string", () => {
    expect(objectName(obj(1, "a", {}, { name: "<b>left</b> lobe" } as Partial<LabelObject>))).toBe("<b>left</b> lobe");
    expect(objectName(obj(1, "a", {}))).toBeNull();
    expect(objectName(obj(1, "a", {}, { name: "" } as Partial<LabelObject>))).toBeNull();
    expect(objectName(obj(1, "a", {}, { name: 7 } as unknown as Partial<LabelObject>))).toBeNull();
  });

  it("cleans what was typed as Python does: trimmed, one line, at most 200 characters", () => {
    expect(cleanName("  Segment IV ")).toBe("Segment IV");
    expect(cleanName("a\tb\nc")).toBe("a b c");
    expect(cleanName("   ")).toBeNull();
    expect(cleanName("")).toBeNull();
    expect(cleanName("x".repeat(300))).toBe("x".repeat(NAME_MAX_LEN));
    expect(cleanName(`${"y".repeat(NAME_MAX_LEN - 1)} z`)).toBe("y".repeat(NAME_MAX_LEN - 1));
    // characters, not UTF-16 units: 150 emoji (300 units) stay whole, a cut never halves one
    const emoji = "\u{1F600}";
    expect(cleanName(`a${emoji.repeat(150)}`)).toBe(`a${emoji.repeat(150)}`);
    const long = cleanName(emoji.repeat(250)) ?? "";
    expect(Array.from(long)).toHaveLength(NAME_MAX_LEN);
    expect(long).toBe(emoji.repeat(NAME_MAX_LEN));
    // a lone surrogate pasted in is dropped (Python refuses it: it cannot be saved)
    expect(cleanName("a\ud83d b")).toBe("a b");
    expect(cleanName("\ude00x")).toBe("x");
  });

  it("sends the name as an update_object change (null removes it)", () => {
    expect(renameOp("u1", "left")).toEqual({ op: "update_object", uuid: "u1", changes: { name: "left" } });
    expect(renameOp("u1", null)).toEqual({ op: "update_object", uuid: "u1", changes: { name: null } });
  });
});

describe("areas", () => {
  const info = { spacing: [2, 0.5, 0.8] as [number, number, number], spacing_known: true };

  it("measures polygons (either winding), boxes and bitmasks in pixels", () => {
    expect(polygonArea([[0, 0], [4, 0], [4, 3]])).toBe(6);
    expect(polygonArea([[4, 3], [4, 0], [0, 0]])).toBe(6);
    expect(polygonArea([[0, 0], [10, 0], [10, 10], [0, 10]])).toBe(100);
    expect(keyframeAreaPx("polygon", { points: [[0, 0], [4, 0], [4, 3]] })).toBe(6);
    expect(keyframeAreaPx("bounding_box", { box: [1, 2, 5, 8] })).toBe(24);
    expect(keyframeAreaPx("bitmask", { mask_area: 37 })).toBe(37);
    expect(keyframeAreaPx("polyline", { points: [[0, 0], [4, 0], [4, 3]] })).toBeNull(); // open
    expect(keyframeAreaPx("point", { point: [1, 1] })).toBeNull();
    expect(keyframeAreaPx("polygon", undefined)).toBeNull();
  });

  it("takes the pixel size of the object's plane from the spacing [slice, row, column]", () => {
    expect(pixelAreaMm2("axial", info)).toBeCloseTo(0.4); // column x row
    expect(pixelAreaMm2("coronal", info)).toBeCloseTo(1.6); // column x slice
    expect(pixelAreaMm2("sagittal", info)).toBeCloseTo(1.0); // row x slice
    expect(pixelAreaMm2("axial", { ...info, spacing_known: false })).toBeNull();
    expect(pixelAreaMm2("axial", null)).toBeNull();
  });

  it("says the area of the object on a slice, in px² when the spacing is unknown", () => {
    const poly: LabelObject = { ...obj(1, "a", {}), shape: "polygon", keyframes: { "4": { points: [[0, 0], [10, 0], [10, 10], [0, 10]] } } };
    expect(areaText(poly, 4, info)).toBe("area 40.00 mm²");
    expect(areaText({ ...poly, plane: "coronal" }, 4, info)).toBe("area 160.0 mm²");
    expect(areaText(poly, 4, { ...info, spacing_known: false })).toBe("area 100.0 px² (pixel spacing unknown)");
    expect(areaText(poly, 5, info)).toBeNull(); // no keyframe there
  });
  it("gives a polyline's length on a slice in mm of its plane (px without a pixel size)", () => {
    const line = {
      uuid: "l",
      object_id: 3,
      feature: "f",
      shape: "polyline",
      plane: "axial",
      keyframes: { "4": { manual: true, points: [[0, 0], [3, 4], [3, 14]] as [number, number][] } },
    } as unknown as LabelObject;
    const spaced = { spacing: [2, 0.5, 1] as [number, number, number], spacing_known: true };
    // axial: 1 mm columns, 0.5 mm rows: (3, 2) -> sqrt(13), then 5 mm
    expect(lengthText(line, 4, spaced)).toBe(`length ${(Math.sqrt(13) + 5).toFixed(2)} mm`);
    // coronal: columns 1 mm, rows are slices (2 mm)
    expect(lengthText({ ...line, plane: "coronal" }, 4, spaced)).toBe(`length ${(Math.hypot(3, 8) + 20).toFixed(1)} mm`);
    expect(lengthText(line, 4, { ...spaced, spacing_known: false })).toBe("length 15.0 px (pixel spacing unknown)");
    expect(lengthText(line, 5, spaced)).toBeNull();
    expect(areaText(line, 4, spaced)).toBeNull();
    const mask: LabelObject = { ...obj(2, "t", {}), shape: "bitmask", keyframes: { "4": { manual: true, mask_area: 1234 } } };
    expect(areaText(mask, 4, info)).toBe("area 493.6 mm²");
  });
});

describe("otherPlanesNote", () => {
  const o = (plane: string | undefined, id: number) => ({ uuid: `u${id}`, object_id: id, feature: "f", shape: "bounding_box", plane, keyframes: {} }) as unknown as LabelObject;
  it("is null when every object is on the plane shown", () => {
    expect(otherPlanesNote([o("axial", 1), o(undefined, 2)], "axial")).toBeNull();
  });
  it("counts the others by plane", () => {
    const note = otherPlanesNote([o("axial", 1), o("sagittal", 2), o("coronal", 3), o("coronal", 4)], "axial") ?? "";
    expect(note).toBe("3 objects on other planes (2 coronal, 1 sagittal) not listed here: show their plane (Cor, Alt+C / Sag, Alt+S) to see them.");
    expect(otherPlanesNote([o("axial", 1)], "coronal")).toBe("1 object on other planes (1 axial) not listed here: show its plane (Axi, Alt+A) to see it.");
  });
  it("says apart the masks a reformat shows cut (QA: it said to go elsewhere to see them)", () => {
    const mask = (id: number) => ({ ...o("axial", id), shape: "bitmask" }) as LabelObject;
    expect(otherPlanesNote([mask(1), mask(2), o("sagittal", 3)], "coronal")).toBe(
      "1 object on other planes (1 sagittal) not listed here: show its plane (Sag, Alt+S) to see it. 2 masks shown cut by this plane are listed on the axial plane (Axi, Alt+A), where masks are painted.",
    );
    expect(otherPlanesNote([mask(1)], "axial")).toBeNull();
  });
});
