import { describe, expect, it } from "vitest";
import { decodeLink, encodeLink, roundNumber, type ViewLink } from "./link";

const link: ViewLink = {
  series: "3f2a9c0d1e2b4a5f",
  plane: "axial",
  slice: 12,
  window: [40, 400],
  zoom: 2.5,
  pan: [-3.25, 10],
  rotation: 90,
  flip: [true, false],
  invert: false,
  viewPlane: "axial",
  slab: 1,
};

describe("view links", () => {
  it("round-trip", () => {
    const s = encodeLink(link);
    expect(s.startsWith("daw:")).toBe(true);
    expect(s).toMatch(/^daw:[A-Za-z0-9_-]+$/);
    expect(decodeLink(s)).toEqual(link);
  });
  it("have a fixed, compact form (the same string Python makes)", () => {
    const json = atob(encodeLink(link).slice(4).replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - ((encodeLink(link).length - 4) % 4)) % 4));
    expect(json).toBe('{"v":1,"s":"3f2a9c0d1e2b4a5f","p":"axial","k":12,"w":[40,400],"z":2.5,"c":[-3.25,10],"r":90,"f":[1,0]}');
  });
  it("are pinned to the string Python's view_link makes (tests/test_widget_view.py)", () => {
    expect(encodeLink(link)).toBe(
      "daw:eyJ2IjoxLCJzIjoiM2YyYTljMGQxZTJiNGE1ZiIsInAiOiJheGlhbCIsImsiOjEyLCJ3IjpbNDAsNDAwXSwie" +
        "iI6Mi41LCJjIjpbLTMuMjUsMTBdLCJyIjo5MCwiZiI6WzEsMF19",
    );
  });
  it("carry an inverted grey scale as a trailing \"i\":1 (pinned with Python's too)", () => {
    const s = encodeLink({ ...link, invert: true });
    expect(atob(s.slice(4).replace(/-/g, "+").replace(/_/g, "/")).endsWith('"f":[1,0],"i":1}')).toBe(true);
    expect(decodeLink(s)).toEqual({ ...link, invert: true });
    expect(s).toBe(
      "daw:eyJ2IjoxLCJzIjoiM2YyYTljMGQxZTJiNGE1ZiIsInAiOiJheGlhbCIsImsiOjEyLCJ3IjpbNDAsNDAwXSwie" +
        "iI6Mi41LCJjIjpbLTMuMjUsMTBdLCJyIjo5MCwiZiI6WzEsMF0sImkiOjF9",
    );
    const bad = "daw:" + btoa('{"v":1,"s":"a","p":"axial","k":1,"w":[1,2],"z":1,"c":[0,0],"r":0,"f":[0,0],"i":2}');
    expect(() => decodeLink(bad)).toThrow(/invert/);
  });
  it("carry a reformat and a slab as trailing \"m\" and \"b\" (pinned with Python's too)", () => {
    const s = encodeLink({ ...link, viewPlane: "coronal", slab: 5 });
    expect(s).toBe(
      "daw:eyJ2IjoxLCJzIjoiM2YyYTljMGQxZTJiNGE1ZiIsInAiOiJheGlhbCIsImsiOjEyLCJ3IjpbNDAsNDAwXSwieiI6Mi41LCJjIjpbLTMuMjUsMTBdLCJyIjo5MCwiZiI6WzEsMF0sIm0iOiJjb3JvbmFsIiwiYiI6NX0",
    );
    expect(decodeLink(s)).toEqual({ ...link, viewPlane: "coronal", slab: 5 });
    const head = '{"v":1,"s":"a","p":"axial","k":1,"w":[1,2],"z":1,"c":[0,0],"r":0,"f":[0,0]';
    expect(() => decodeLink("daw:" + btoa(head + ',"m":"oblique"}'))).toThrow(/plane shown/);
    expect(() => decodeLink("daw:" + btoa(head + ',"b":0}'))).toThrow(/slab/);
  });
  it("round numbers half up, without -0", () => {
    expect(roundNumber(0.125, 2)).toBe(0.13);
    expect(roundNumber(-0.0001, 3)).toBe(0);
    expect(Object.is(roundNumber(-0.0001, 3), -0)).toBe(false);
    expect(roundNumber(1.23456, 4)).toBe(1.2346);
  });
  it("refuse malformed input with a reason", () => {
    expect(() => decodeLink("http://x")).toThrow(/daw:/);
    expect(() => decodeLink("daw:@@@")).toThrow(/not valid/);
    const bad = "daw:" + btoa('{"v":1,"s":"a","p":"axial","k":-1,"w":[1,2],"z":1,"c":[0,0],"r":0,"f":[0,0]}');
    expect(() => decodeLink(bad)).toThrow(/slice/);
    const v2 = "daw:" + btoa('{"v":2}');
    expect(() => decodeLink(v2)).toThrow(/version/);
  });
  it("never contain more than the view", () => {
    const decoded = JSON.parse(atob(encodeLink(link).slice(4).replace(/-/g, "+").replace(/_/g, "/")));
    expect(Object.keys(decoded)).toEqual(["v", "s", "p", "k", "w", "z", "c", "r", "f"]);
  });
});
