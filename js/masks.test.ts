import { describe, expect, it } from "vitest";
import {
  MaskCache,
  type MaskBox,
  type MasksMsg,
  type StampMode,
  bytesOf,
  composeMasks,
  crossSections,
  hexToRgb,
  packRegion,
  parseMasksMsg,
  stampStroke,
} from "./masks";

// Generated once with dicom_annot_widget.kernels.brush (stroke_mask / apply_stroke) on a
// 20 x 24 image; '#' = covered. Each case: the stroke alone, then the running mask.
const FIX_W = 24;
const FIX_H = 20;
const FIXTURE: { name: string; points: [number, number][]; radius: number; mode: StampMode; stroke: string[]; after: string[] }[] = [
  {
    name: "single point, integer radius (ties on the rim)",
    points: [[5, 5]],
    radius: 2.0,
    mode: "paint",
    stroke: [
      "........................",
      "........................",
      "........................",
      ".....#..................",
      "....###.................",
      "...#####................",
      "....###.................",
      ".....#..................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "........................",
      "........................",
      "........................",
      ".....#..................",
      "....###.................",
      "...#####................",
      "....###.................",
      ".....#..................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
  },
  {
    name: "fast diagonal stroke, fractional coordinates",
    points: [[1.3, 2.7], [17.9, 13.1]],
    radius: 3.3,
    mode: "paint",
    stroke: [
      "####....................",
      "#####...................",
      "#######.................",
      "########................",
      "##########..............",
      "############............",
      ".############...........",
      "..#############.........",
      "....############........",
      "......############......",
      ".......#############....",
      ".........############...",
      "..........############..",
      "............##########..",
      "..............########..",
      "...............######...",
      ".................###....",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "####....................",
      "#####...................",
      "#######.................",
      "########................",
      "##########..............",
      "############............",
      ".############...........",
      "..#############.........",
      "....############........",
      "......############......",
      ".......#############....",
      ".........############...",
      "..........############..",
      "............##########..",
      "..............########..",
      "...............######...",
      ".................###....",
      "........................",
      "........................",
      "........................",
    ],
  },
  {
    name: "polyline with a repeated sample, half-integer centres",
    points: [[3.5, 15.5], [3.5, 15.5], [12.5, 17.5], [20.25, 8.75]],
    radius: 2.5,
    mode: "paint",
    stroke: [
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "...................####.",
      "..................#####.",
      ".................######.",
      "................#######.",
      "...............#######..",
      "...............######...",
      "..............######....",
      "..#######....######.....",
      "..#################.....",
      "..################......",
      "..###############.......",
      "....############........",
      "........#######.........",
    ],
    after: [
      "####....................",
      "#####...................",
      "#######.................",
      "########................",
      "##########..............",
      "############............",
      ".############...........",
      "..#############....####.",
      "....############..#####.",
      "......#################.",
      ".......################.",
      ".........#############..",
      "..........############..",
      "............##########..",
      "..#######....#########..",
      "..###################...",
      "..##################....",
      "..###############.......",
      "....############........",
      "........#######.........",
    ],
  },
  {
    name: "partly outside the image",
    points: [[-3, 4], [6, -2.5], [26, 1]],
    radius: 4.75,
    mode: "paint",
    stroke: [
      "########################",
      "########################",
      "########################",
      "#######...##############",
      "######..........########",
      "####..................##",
      "###.....................",
      "#.......................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "########################",
      "########################",
      "########################",
      "########..##############",
      "##########......########",
      "############..........##",
      "#############...........",
      "#.#############....####.",
      "....############..#####.",
      "......#################.",
      ".......################.",
      ".........#############..",
      "..........############..",
      "............##########..",
      "..#######....#########..",
      "..###################...",
      "..##################....",
      "..###############.......",
      "....############........",
      "........#######.........",
    ],
  },
  {
    name: "tiny radius between pixel centres",
    points: [[10.5, 10.5], [14.5, 10.5]],
    radius: 0.5,
    mode: "paint",
    stroke: [
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "...........####.........",
      "...........####.........",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "########################",
      "########################",
      "########################",
      "########..##############",
      "##########......########",
      "############..........##",
      "#############...........",
      "#.#############....####.",
      "....############..#####.",
      "......#################.",
      ".......################.",
      ".........#############..",
      "..........############..",
      "............##########..",
      "..#######....#########..",
      "..###################...",
      "..##################....",
      "..###############.......",
      "....############........",
      "........#######.........",
    ],
  },
  {
    name: "rounding tie 1",
    points: [[1.6, 17.5], [2.8, 14.0]],
    radius: 4.0,
    mode: "paint",
    stroke: [
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      ".#####..................",
      "#######.................",
      "#######.................",
      "#######.................",
      "#######.................",
      "#######.................",
      "#######.................",
      "######..................",
      "######..................",
    ],
    after: [
      "########################",
      "########################",
      "########################",
      "########..##############",
      "##########......########",
      "############..........##",
      "#############...........",
      "#.#############....####.",
      "....############..#####.",
      "......#################.",
      ".......################.",
      ".#####...#############..",
      "#######...############..",
      "#######.....##########..",
      "#########....#########..",
      "#####################...",
      "####################....",
      "#################.......",
      "################........",
      "######..#######.........",
    ],
  },
  {
    name: "rounding tie 2",
    points: [[19.1, 0.8], [2.5, 7.8]],
    radius: 1.3,
    mode: "paint",
    stroke: [
      "..................###...",
      "................#####...",
      ".............#######....",
      "...........#######......",
      ".........######.........",
      "......#######...........",
      "....#######.............",
      "..######................",
      "..####..................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "########################",
      "########################",
      "########################",
      "########..##############",
      "###############.########",
      "#############.........##",
      "#############...........",
      "#.#############....####.",
      "..##############..#####.",
      "......#################.",
      ".......################.",
      ".#####...#############..",
      "#######...############..",
      "#######.....##########..",
      "#########....#########..",
      "#####################...",
      "####################....",
      "#################.......",
      "################........",
      "######..#######.........",
    ],
  },
  {
    name: "rounding tie 3 (hypot differs)",
    points: [[16.0, 10.1], [19.2, 7.4]],
    radius: 4.1,
    mode: "paint",
    stroke: [
      "........................",
      "........................",
      "........................",
      "........................",
      ".................#####..",
      "................#######.",
      "...............#########",
      "..............##########",
      ".............###########",
      ".............##########.",
      "............###########.",
      ".............#########..",
      ".............########...",
      "..............#####.....",
      "...............###......",
      "........................",
      "........................",
      "........................",
      "........................",
      "........................",
    ],
    after: [
      "########################",
      "########################",
      "########################",
      "########..##############",
      "###############.########",
      "#############...########",
      "#############..#########",
      "#.######################",
      "..######################",
      "......#################.",
      ".......################.",
      ".#####...#############..",
      "#######...############..",
      "#######.....##########..",
      "#########....#########..",
      "#####################...",
      "####################....",
      "#################.......",
      "################........",
      "######..#######.........",
    ],
  },
  {
    name: "eraser over the previous strokes",
    points: [[2, 3], [20, 16]],
    radius: 1.75,
    mode: "erase",
    stroke: [
      "........................",
      "........................",
      ".###....................",
      ".####...................",
      ".######.................",
      "..######................",
      "....######..............",
      ".....######.............",
      "......######............",
      "........######..........",
      ".........######.........",
      "...........######.......",
      "............######......",
      ".............######.....",
      "...............######...",
      "................######..",
      "..................####..",
      "...................###..",
      "........................",
      "........................",
    ],
    after: [
      "########################",
      "########################",
      "#...####################",
      "#....###..##############",
      "#......########.########",
      "##......#####...########",
      "####......###..#########",
      "#.###......#############",
      "..####......############",
      "......##......#########.",
      ".......##......########.",
      ".#####...##......#####..",
      "#######...##......####..",
      "#######.....#......###..",
      "#########....##......#..",
      "################........",
      "##################......",
      "#################.......",
      "################........",
      "######..#######.........",
    ],
  },
];
// numpy.packbits of a 3 x 5 region (rows below), from Python
const PACKED = [177, 120];
const REGION = ["#.##.", "..#.#", "###.."];

const rows = (mask: Uint8Array, width: number, height: number): string[] =>
  Array.from({ length: height }, (_, y) =>
    Array.from({ length: width }, (_, x) => (mask[y * width + x] ? "#" : ".")).join(""),
  );

const fromRows = (lines: string[]): Uint8Array => {
  const width = (lines[0] as string).length;
  const out = new Uint8Array(width * lines.length);
  lines.forEach((line, y) => [...line].forEach((c, x) => (out[y * width + x] = c === "#" ? 1 : 0)));
  return out;
};

describe("stampStroke reproduces the kernel's coverage rule exactly", () => {
  it("matches every pixel of each stroke of the Python fixture", () => {
    for (const c of FIXTURE) {
      const alone = new Uint8Array(FIX_W * FIX_H);
      stampStroke(alone, FIX_W, FIX_H, c.points, c.radius, "paint");
      expect(rows(alone, FIX_W, FIX_H), c.name).toEqual(c.stroke);
    }
  });

  it("matches the running mask, eraser included", () => {
    const mask = new Uint8Array(FIX_W * FIX_H);
    for (const c of FIXTURE) {
      stampStroke(mask, FIX_W, FIX_H, c.points, c.radius, c.mode);
      expect(rows(mask, FIX_W, FIX_H), c.name).toEqual(c.after);
    }
  });

  it("includes pixels exactly on the rim and returns the clipped footprint box", () => {
    const mask = new Uint8Array(10 * 10);
    const box = stampStroke(mask, 10, 10, [[5, 5]], 2, "paint");
    expect(box).toEqual([3, 3, 8, 8]);
    expect(mask[5 * 10 + 7]).toBe(1); // distance exactly 2
    expect(mask[7 * 10 + 7]).toBe(0);
    expect(stampStroke(mask, 10, 10, [[-20, -20]], 2, "paint")).toBeNull();
  });

  it("threshold brush paints only pixels in range; invalid input changes nothing", () => {
    const within = new Uint8Array(8 * 8).map((_, i) => (i % 2 === 0 ? 1 : 0));
    const mask = new Uint8Array(8 * 8);
    stampStroke(mask, 8, 8, [[3, 3]], 1.5, "paint", within);
    const disc = new Uint8Array(8 * 8);
    stampStroke(disc, 8, 8, [[3, 3]], 1.5, "paint");
    expect([...mask]).toEqual([...disc].map((v, i) => (v && within[i] ? 1 : 0)));
    expect(mask.some((v) => v === 1)).toBe(true);
    const before = [...mask];
    expect(stampStroke(mask, 8, 8, [[3, Number.NaN]], 2, "paint")).toBeNull();
    expect(stampStroke(mask, 8, 8, [[3, 3]], 0, "paint")).toBeNull();
    expect(stampStroke(mask, 8, 8, [], 2, "paint")).toBeNull();
    expect([...mask]).toEqual(before);
  });
});

const dataViewAt = (bytes: number[], offset: number): DataView => {
  const big = new ArrayBuffer(bytes.length + offset + 3);
  new Uint8Array(big).set(bytes, offset);
  return new DataView(big, offset, bytes.length);
};

const msgOf = (items: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: "masks",
  series: "s0",
  slice: 2,
  revision: 5,
  items,
  ...extra,
});

describe("parseMasksMsg", () => {
  it("decodes packbits buffers from an offset DataView and from an ArrayBuffer", () => {
    const item = { uuid: "u1", box: [4, 1, 9, 4], full: true, area: 8 };
    for (const buffer of [dataViewAt(PACKED, 5), new Uint8Array(PACKED).buffer]) {
      const msg = parseMasksMsg(msgOf([item]), [buffer], 16, 8);
      expect(msg).not.toBeNull();
      const cache = new MaskCache(16, 8);
      cache.apply(msg as MasksMsg);
      const mask = cache.get(2, "u1") as Uint8Array;
      const region = rows(mask, 16, 8)
        .slice(1, 4)
        .map((r) => r.slice(4, 9));
      expect(region).toEqual(REGION);
      expect(mask.reduce((a, b) => a + b, 0)).toBe(8);
      expect([...packRegion(mask, 16, [4, 1, 9, 4])]).toEqual(PACKED);
    }
  });

  it("returns null for malformed messages instead of throwing", () => {
    const good = { uuid: "u1", box: [4, 1, 9, 4], full: true, area: 8 };
    const buf = [new Uint8Array(PACKED).buffer];
    expect(parseMasksMsg(msgOf([good]), buf, 16, 8)).not.toBeNull();
    const bad: [unknown, unknown[]][] = [
      [null, buf],
      ["masks", buf],
      [msgOf([good], { type: "slice" }), buf],
      [msgOf([good], { series: 3 }), buf],
      [msgOf([good], { slice: -1 }), buf],
      [msgOf([good], { slice: 1.5 }), buf],
      [msgOf([good], { revision: Number.NaN }), buf],
      [msgOf([good], { items: "x" }), buf],
      [msgOf([good]), []],
      [msgOf([good]), [new Uint8Array(3).buffer]],
      [msgOf([good]), ["not a buffer"]],
      [msgOf([{ ...good, uuid: "" }]), buf],
      [msgOf([{ ...good, full: "yes" }]), buf],
      [msgOf([{ ...good, area: -1 }]), buf],
      [msgOf([{ ...good, box: [4, 1, 4, 4] }]), buf],
      [msgOf([{ ...good, box: [4, 1, 9] }]), buf],
      [msgOf([{ ...good, box: [4, 1, 17, 4] }]), [new Uint8Array(6).buffer]],
      [msgOf([{ ...good, box: [4, -1, 9, 2] }]), buf],
      [msgOf([{ ...good, box: null }]), buf],
      [msgOf([{ ...good, crc: -3 }]), buf],
      [msgOf([{ ...good, crc: "abc" }]), buf],
      [msgOf([42]), buf],
    ];
    expect(parseMasksMsg(msgOf([{ ...good, crc: 4294967295 }]), buf, 16, 8)?.items[0]?.crc).toBe(4294967295);
    for (const [msg, buffers] of bad) {
      expect(() => parseMasksMsg(msg, buffers, 16, 8)).not.toThrow();
      expect(parseMasksMsg(msg, buffers, 16, 8), JSON.stringify(msg)).toBeNull();
    }
    expect(parseMasksMsg(msgOf([{ ...good, box: null, area: 0 }]), [new ArrayBuffer(0)])).not.toBeNull();
    expect(parseMasksMsg(msgOf([]), undefined)?.items).toEqual([]);
  });

  it("bytesOf respects byteOffset and byteLength", () => {
    expect([...(bytesOf(dataViewAt([7, 8, 9], 2)) as Uint8Array)]).toEqual([7, 8, 9]);
    expect(bytesOf("x")).toBeNull();
  });
});

const item = (uuid: string, box: MaskBox | null, lines: string[], full: boolean, area: number) => {
  const w = box === null ? 0 : box[2] - box[0];
  const packed = box === null ? new Uint8Array(0) : packRegion(fromRows(lines), w, [0, 0, w, lines.length]);
  return { uuid, box, full, area, bits: packed };
};

describe("MaskCache", () => {
  it("applies full items, then patches over the cached mask", () => {
    const cache = new MaskCache(6, 4);
    const full = item("a", [1, 1, 4, 3], ["###", "#.#"], true, 5);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 1, items: [full] });
    expect(rows(cache.get(0, "a") as Uint8Array, 6, 4)).toEqual(["......", ".###..", ".#.#..", "......"]);
    const patch = item("a", [2, 2, 5, 4], ["###", "..#"], false, 8);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 2, items: [patch] });
    expect(rows(cache.get(0, "a") as Uint8Array, 6, 4)).toEqual(["......", ".###..", ".####.", "....#."]);
    expect(cache.revision(0)).toBe(2);
    // the box outside which the mask is zero: the full item's, grown by the patch's
    expect(cache.bound(0, "a")).toEqual([1, 1, 5, 4]);
    // a patch that empties the object drops it
    const erase = item("a", [1, 1, 5, 4], ["....", "....", "...."], false, 0);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 3, items: [erase] });
    expect(cache.get(0, "a")).toBeUndefined();
    expect(cache.bound(0, "a")).toBeUndefined();
    expect(cache.has(0)).toBe(true);
    // a full item replaces the bound
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 4, items: [full] });
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 5, items: [item("a", [0, 0, 1, 1], ["#"], true, 1)] });
    expect(cache.bound(0, "a")).toEqual([0, 0, 1, 1]);
  });

  it("keeps only each mask's box, and whole-slice copies that follow every change", () => {
    const cache = new MaskCache(512, 512);
    const organ = item("a", [100, 200, 120, 230], Array.from({ length: 30 }, () => "#".repeat(20)), true, 600);
    for (let s = 0; s < 300; s++) cache.apply({ type: "masks", series: "s0", slice: s, revision: 1, items: [organ] });
    // a whole-slice mask each would be 300 x 256 kB
    expect(cache.bytes()).toBe(300 * 20 * 30);
    expect(cache.at(7, "a", 100, 200)).toBe(true);
    expect(cache.at(7, "a", 99, 200)).toBe(false);
    expect(cache.at(7, "a", 119, 229)).toBe(true);
    expect(cache.at(7, "a", 120, 229)).toBe(false);
    const before = cache.get(7, "a") as Uint8Array;
    expect(before.length).toBe(512 * 512);
    expect(before.reduce((a, v) => a + v, 0)).toBe(600);
    // a patch beyond the box grows it and keeps what was there; the copy follows
    const patch = item("a", [118, 228, 124, 231], ["......", "..####", "######"], false, 606);
    cache.apply({ type: "masks", series: "s0", slice: 7, revision: 2, items: [patch] });
    expect(cache.bound(7, "a")).toEqual([100, 200, 124, 231]);
    const after = cache.get(7, "a") as Uint8Array;
    expect(after[228 * 512 + 118]).toBe(0); // (the patch cleared it)
    expect(after[229 * 512 + 121]).toBe(1);
    expect(after[230 * 512 + 100]).toBe(0);
    expect(after[230 * 512 + 123]).toBe(1);
    expect(after[200 * 512 + 100]).toBe(1);
    expect(cache.region(7, "a")?.data.length).toBe(24 * 31);
    // the copies kept are few, whatever is asked for
    for (let s = 0; s < 300; s++) cache.get(s, "a");
    expect(cache.bytes()).toBeLessThan(299 * 600 + 24 * 31 + 8 * 512 * 512 + 1);
  });

  it("composes a cached region exactly as the same mask over the whole image", () => {
    const cache = new MaskCache(6, 4);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 1, items: [item("a", [1, 1, 4, 3], ["###", "#.#"], true, 5)] });
    const region = cache.region(0, "a");
    const color = [10, 20, 30] as const;
    const cropped = composeMasks([{ mask: region?.data as Uint8Array, box: region?.box, color, cropped: true }], 6, 4, 1);
    const whole = composeMasks([{ mask: cache.get(0, "a") as Uint8Array, color }], 6, 4, 1);
    expect([...cropped]).toEqual([...whole]);
    expect(cropped.filter((v, i) => i % 4 === 3 && v === 255).length).toBe(5);
  });

  it("a patch for an object not cached yet starts from an empty mask", () => {
    const cache = new MaskCache(4, 2);
    cache.apply({ type: "masks", series: "s0", slice: 1, revision: 1, items: [item("b", [0, 1, 2, 2], ["##"], false, 2)] });
    expect(rows(cache.get(1, "b") as Uint8Array, 4, 2)).toEqual(["....", "##.."]);
  });

  it("replaceSlice drops objects the get_masks answer does not list", () => {
    const cache = new MaskCache(4, 2);
    const a = item("a", [0, 0, 1, 1], ["#"], true, 1);
    const b = item("b", [1, 0, 2, 1], ["#"], true, 1);
    cache.apply({ type: "masks", series: "s0", slice: 3, revision: 1, items: [a, b] });
    expect(cache.uuids(3).sort()).toEqual(["a", "b"]);
    cache.apply({ type: "masks", series: "s0", slice: 3, revision: 2, items: [b] }, true);
    expect(cache.uuids(3)).toEqual(["b"]);
    cache.apply({ type: "masks", series: "s0", slice: 3, revision: 3, items: [] }, true);
    expect(cache.uuids(3)).toEqual([]);
    cache.invalidate(3);
    expect(cache.has(3)).toBe(false);
    expect(() => new MaskCache(0, 3)).toThrow(/positive integers/);
  });

  it("keeps each item's checksum, but not a patch's that may have met an outdated mask", () => {
    const cache = new MaskCache(4, 2);
    const a = { ...item("a", [0, 0, 1, 1], ["#"], true, 1), crc: 11 };
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 1, items: [a] });
    expect(cache.crc(0, "a")).toBe(11);
    const patch = { ...item("a", [1, 0, 2, 1], ["#"], false, 2), crc: 12 };
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 2, items: [patch] });
    expect(cache.crc(0, "a")).toBe(12);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 4, items: [{ ...patch, crc: 13 }] }, false, false);
    expect(cache.crc(0, "a")).toBeUndefined(); // to be asked for again
    expect(cache.get(0, "a")).toBeDefined();
    // an item without one (an older kernel) leaves none; an emptied object none either
    cache.apply({ type: "masks", series: "s0", slice: 1, revision: 4, items: [item("b", [0, 0, 1, 1], ["#"], true, 1)] });
    expect(cache.crc(1, "b")).toBeUndefined();
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 5, items: [{ ...item("a", null, [], true, 0), crc: 0 }] });
    expect(cache.crc(0, "a")).toBeUndefined();
    cache.invalidate(1);
    expect(cache.crc(1, "b")).toBeUndefined();
  });

  it("ignores items whose box does not fit the series", () => {
    const cache = new MaskCache(2, 2);
    const n = cache.apply({ type: "masks", series: "s0", slice: 0, revision: 1, items: [item("a", [0, 0, 3, 1], ["###"], true, 3)] });
    expect(n).toBe(0);
    expect(cache.get(0, "a")).toBeUndefined();
  });
});

describe("composeMasks", () => {
  it("draws the topmost covering layer with the given opacity", () => {
    const a = fromRows(["##.", "..."]);
    const b = fromRows([".##", "..."]);
    const rgba = composeMasks(
      [
        { mask: a, color: [255, 0, 0] },
        { mask: b, color: [0, 0, 255] },
      ],
      3,
      2,
      0.5,
    );
    expect([...rgba.slice(0, 12)]).toEqual([255, 0, 0, 128, 0, 0, 255, 128, 0, 0, 255, 128]);
    expect([...rgba.slice(12)]).toEqual(new Array(12).fill(0));
    // reuses the output array and clears it; opacity 0 draws nothing
    const again = composeMasks([{ mask: a, color: [1, 2, 3] }], 3, 2, 0, rgba);
    expect(again).toBe(rgba);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it("visits only a layer's box, with the same result as the whole slice", () => {
    const a = fromRows(["....", ".##.", "...."]);
    const b = fromRows(["...#", "....", "#..."]);
    const whole = composeMasks([{ mask: a, color: [9, 8, 7] }, { mask: b, color: [1, 2, 3] }], 4, 3, 1);
    const boxed = composeMasks(
      [
        { mask: a, color: [9, 8, 7], box: [1, 1, 3, 2] },
        { mask: b, color: [1, 2, 3] },
      ],
      4,
      3,
      1,
    );
    expect([...boxed]).toEqual([...whole]);
    // pixels outside a layer's box are not drawn; a null box draws nothing
    const cut = composeMasks([{ mask: a, color: [9, 8, 7], box: [1, 1, 2, 2] }], 4, 3, 1);
    expect(cut[(1 * 4 + 1) * 4 + 3]).toBe(255);
    expect(cut[(1 * 4 + 2) * 4 + 3]).toBe(0);
    expect(composeMasks([{ mask: a, color: [9, 8, 7], box: null }], 4, 3, 1).every((v) => v === 0)).toBe(true);
  });

  it("parses class colours", () => {
    expect(hexToRgb("#ff8000")).toEqual([255, 128, 0]);
    expect(hexToRgb("#0f0")).toEqual([0, 255, 0]);
    expect(hexToRgb("red")).toEqual([128, 128, 128]);
  });
});

describe("crossSections", () => {
  it("cuts each slice's mask along a row (coronal) or a column (sagittal)", () => {
    const cache = new MaskCache(4, 3);
    cache.apply({ type: "masks", series: "s0", slice: 0, revision: 1, items: [item("a", [0, 0, 4, 3], ["....", ".##.", "...."], true, 2)] });
    cache.apply({ type: "masks", series: "s0", slice: 2, revision: 1, items: [item("a", [0, 0, 4, 3], ["..#.", "#...", "..#."], true, 3), item("b", [3, 0, 4, 3], ["#", "#", "#"], true, 3)] });
    const cor = crossSections(cache, "coronal", 1, 3, () => true);
    expect([...cor.keys()]).toEqual(["a", "b"]);
    expect(rows(cor.get("a") as Uint8Array, 4, 3)).toEqual([".##.", "....", "#..."]);
    expect(rows(cor.get("b") as Uint8Array, 4, 3)).toEqual(["....", "....", "...#"]);
    const sag = crossSections(cache, "sagittal", 2, 3, (u) => u === "a");
    expect(rows(sag.get("a") as Uint8Array, 3, 3)).toEqual([".#.", "...", "#.#"]);
    expect(sag.has("b")).toBe(false);
    // an object whose box misses the cut is skipped
    expect(crossSections(cache, "sagittal", 0, 3, (u) => u === "b").size).toBe(0);
  });
});
