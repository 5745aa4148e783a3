import { describe, expect, it } from "vitest";
import { countElements, filterElements, formatTag, normaliseElements } from "./metadata";

const raw = [
  { tag: "00100010", keyword: "PatientName", VR: "PN", value: "<img src=x onerror=alert(1)>" },
  { tag: "(0028,0030)", keyword: "PixelSpacing", VR: "DS", value: [0.977, 0.977] },
  {
    tag: "00081140",
    keyword: "ReferencedImageSequence",
    VR: "SQ",
    items: [
      [
        { tag: "00081150", keyword: "ReferencedSOPClassUID", VR: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
        { tag: "00081155", keyword: "ReferencedSOPInstanceUID", VR: "UI", value: "1.2.3" },
      ],
      [{ tag: "00081155", keyword: "ReferencedSOPInstanceUID", VR: "UI", value: "4.5.6" }],
    ],
  },
  { tag: 0x00291010, keyword: "", VR: "OB", value: null },
];

describe("metadata", () => {
  const elements = normaliseElements(raw);
  it("normalises tags, values and sequences", () => {
    expect(formatTag("00280030")).toBe("(0028,0030)");
    expect(formatTag(0x00291010)).toBe("(0029,1010)");
    expect(elements[1]!.value).toBe("0.977\\0.977");
    expect(elements[2]!.items).toHaveLength(2);
    expect(countElements(elements)).toBe(7);
    expect(normaliseElements({ elements: raw })).toHaveLength(4);
    expect(normaliseElements("junk")).toEqual([]);
  });
  it("finds by keyword, tag (any spelling) and value, case-insensitively", () => {
    expect(filterElements(elements, "pixelspacing").map((e) => e.keyword)).toEqual(["PixelSpacing"]);
    expect(filterElements(elements, "(0028,0030)").map((e) => e.keyword)).toEqual(["PixelSpacing"]);
    expect(filterElements(elements, "00280030").map((e) => e.keyword)).toEqual(["PixelSpacing"]);
    expect(filterElements(elements, "0028,0030").map((e) => e.keyword)).toEqual(["PixelSpacing"]);
    expect(filterElements(elements, "onerror").map((e) => e.keyword)).toEqual(["PatientName"]);
    expect(filterElements(elements, "")).toBe(elements);
  });
  it("keeps sequences that contain matches, with only the matching items", () => {
    const hit = filterElements(elements, "4.5.6");
    expect(hit).toHaveLength(1);
    expect(hit[0]!.keyword).toBe("ReferencedImageSequence");
    expect(hit[0]!.items).toHaveLength(1);
    // a matching sequence keeps all its items
    expect(filterElements(elements, "ReferencedImageSeq")[0]!.items).toHaveLength(2);
  });
});

import { loadedRuns, sliceAtX } from "./slicebar";

describe("slice bar", () => {
  it("turns the arrival bitmap into runs", () => {
    expect(loadedRuns(new Uint8Array([1, 1, 0, 1, 0, 0, 1]))).toEqual([[0, 2], [3, 4], [6, 7]]);
    expect(loadedRuns(new Uint8Array(0))).toEqual([]);
  });
  it("maps a position to a slice", () => {
    expect(sliceAtX(0, 100, 10)).toBe(0);
    expect(sliceAtX(99.9, 100, 10)).toBe(9);
    expect(sliceAtX(150, 100, 10)).toBe(9);
    expect(sliceAtX(-5, 100, 10)).toBe(0);
  });
});
