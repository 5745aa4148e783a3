import { describe, expect, it } from "vitest";
import { shortcutGroups } from "./shortcuts";

const keys = (groups: ReturnType<typeof shortcutGroups>): string[] => groups.flatMap((g) => g.rows.map(([k]) => k));

describe("shortcutGroups", () => {
  it("lists the viewer's keys, and fit on F without a bitmask class", () => {
    const viewer = shortcutGroups([], false);
    expect(viewer.map((g) => g.title)).toEqual(["Slices", "View", "Help"]);
    expect(keys(viewer)).toEqual(expect.arrayContaining(["P", "F", "I", "Alt+O", "?"]));
  });
  it("adds the ontology's class keys and, with a bitmask class, the mask tools (F paints)", () => {
    const groups = shortcutGroups(
      [
        { name: "Liver", hotkey: "1" },
        { name: "<b>Cyst</b>", hotkey: "2" },
        { name: "No key", hotkey: "" },
      ],
      true,
    );
    const labels = groups.find((g) => g.title === "Labels");
    expect(labels?.rows.slice(0, 2)).toEqual([
      ["1", "class Liver (and its tool)"],
      ["2", "class <b>Cyst</b> (and its tool)"],
    ]);
    expect(keys(groups)).toContain("F / H / G");
    expect(keys(groups)).toContain("[ / ]");
    expect(keys(groups)).not.toContain("F");
  });
});
