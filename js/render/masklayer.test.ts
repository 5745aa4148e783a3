import { describe, expect, it } from "vitest";
import type { Point } from "../labels";
import type { EditorApi } from "../tools/types";
import { type MaskBox, packRegion, stampStroke } from "../masks";
import { CLEAR, KEEP, MaskSession, PendingEdit, SET, coverSegment, previewMask, strokeCoverage } from "./masklayer";

const art = (m: Uint8Array, cols: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < m.length; i += cols) out.push(Array.from(m.subarray(i, i + cols), (v) => (v ? "#" : ".")).join(""));
  return out;
};

// expected masks printed by dicom_annot_widget.kernels.brush.stroke_mask on a (10, 12) slice
const KERNEL: [Point[], number, string[]][] = [
  [
    [
      [3.3, 4.7],
      [9.1, 2.2],
      [9.4, 7.6],
    ],
    2.5,
    ["........###.", "......######", "....########", "..##########", ".###########", ".###########", "..##########", "...##..#####", ".......#####", "........####"],
  ],
  [[[5, 5]], 2.0, ["............", "............", "............", ".....#......", "....###.....", "...#####....", "....###.....", ".....#......", "............", "............"]],
  [
    [
      [0.2, 0.4],
      [0.2, 0.4],
      [11.7, 9.3],
    ],
    1.3,
    ["##..........", "####........", ".####.......", "..####......", "...####.....", ".....####...", "......####..", ".......####.", "........####", "..........##"],
  ],
];

describe("brush coverage", () => {
  it("is the kernel's (kernels/brush.py stroke_mask) pixel for pixel", () => {
    for (const [pts, r, want] of KERNEL) expect(art(strokeCoverage(pts, r, 12, 10), 12)).toEqual(want);
  });
  it("is round in mm on a reformat: the kernel's stroke_mask with spacing (sy, 1), pixel for pixel", () => {
    // printed by stroke_mask(points, r, (10, 12), spacing=(sy, 1.0)); the first case has
    // pixels exactly on the boundary ((5, 3): (3 - 5) * 2 = -4, 16 <= 16)
    const cases: [Point[], number, number, string[]][] = [
      [[[5, 5]], 4.0, 2.0, ["............", "............", "............", ".....#......", "..#######...", ".#########..", "..#######...", ".....#......", "............", "............"]],
      [
        [
          [2.3, 1.4],
          [9.6, 6.2],
        ],
        2.5,
        2.0 / 0.977,
        ["............", "#####.......", ".######.....", "..######....", "....######..", ".....######.", ".......#####", "........####", "............", "............"],
      ],
      [
        [
          [0.5, 8.2],
          [6, 3],
          [11.4, 7.9],
        ],
        3.0,
        3.125,
        ["............", "............", "............", "...#######..", "..#########.", ".###########", "######.#####", "#####...####", "####.....###", "###........."],
      ],
    ];
    for (const [pts, r, sy, want] of cases) expect(art(strokeCoverage(pts, r, 12, 10, sy), 12)).toEqual(want);
  });
  it("on a reformat sends its plane, and its preview is the same coverage", () => {
    const p = new PendingEdit("u", null, 7, "s0", 12, 10, "coronal", 2);
    p.begin("brush", 4, [5, 5]);
    expect(p.message()).toMatchObject({ type: "paint", uuid: "u", slice: 7, plane: "coronal" });
    expect(Array.from(p.effect, (v) => (v === SET ? 1 : 0))).toEqual(Array.from(strokeCoverage([[5, 5]], 4, 12, 10, 2)));
    expect(p.bound).toEqual([1, 3, 10, 8]);
    expect(new PendingEdit("u", null, 7, "s0", 12, 10).message()).not.toHaveProperty("plane");
  });
  it("leaves no gap between far-apart samples", () => {
    const m = strokeCoverage(
      [
        [1, 5],
        [30, 5],
      ],
      1,
      32,
      10,
    );
    for (let x = 1; x <= 30; x++) expect(m[5 * 32 + x]).toBe(1);
  });
  it("clips to the slice", () => {
    const seen: number[] = [];
    coverSegment([-2, -2], [-2, -2], 3, 5, 5, (i) => seen.push(i));
    expect(seen).toEqual([0]); // only (0, 0) is within 3 of (-2, -2)
  });
});

describe("pending edit", () => {
  it("applies strokes in order: brush, then the eraser removes part of it", () => {
    const p = new PendingEdit("u", "liver", 0, "s0", 12, 10);
    p.begin("brush", 2, [3, 5]);
    p.extend([8, 5]);
    p.begin("eraser", 1, [5, 5]);
    expect(p.effect[5 * 12 + 5]).toBe(CLEAR);
    expect(p.effect[5 * 12 + 3]).toBe(SET);
    expect(p.effect[0]).toBe(KEEP);
    expect(p.message()).toEqual({
      type: "paint",
      uuid: "u",
      slice: 0,
      feature: "liver",
      strokes: [
        {
          tool: "brush",
          radius: 2,
          points: [
            [3, 5],
            [8, 5],
          ],
        },
        { tool: "eraser", radius: 1, points: [[5, 5]] },
      ],
    });
    // the preview over a committed mask: erased pixels go, others stay
    const committed = new Uint8Array(120).fill(1);
    const prev = previewMask(committed, p.effect, 12, [0, 0, 12, 10]);
    expect(prev[5 * 12 + 5]).toBe(0);
    expect(prev[0]).toBe(1);
  });
  it("threshold strokes set only the pixels in range, and carry the range", () => {
    const p = new PendingEdit("u", null, 3, "s0", 12, 10);
    const values = (i: number): number => (i % 12 < 6 ? 100 : 500); // left half in range
    p.begin("threshold", 3, [6, 5], [40, 200], values);
    expect(p.effect[5 * 12 + 4]).toBe(SET);
    expect(p.effect[5 * 12 + 7]).toBe(KEEP);
    expect((p.message().strokes as { range: number[] }[])[0]?.range).toEqual([40, 200]);
    expect(p.message().feature).toBeUndefined();
  });
  it("a new object whose strokes add nothing is empty", () => {
    const p = new PendingEdit("u", "liver", 0, "s0", 12, 10);
    p.begin("brush", 2, [3, 5]);
    expect(p.empty()).toBe(false);
    p.begin("eraser", 4, [3, 5]);
    expect(p.empty()).toBe(true);
  });
  it("keeps the box its strokes touched", () => {
    const p = new PendingEdit("u", "liver", 0, "s0", 12, 10);
    expect(p.bound).toBeNull();
    p.begin("brush", 1, [3, 5]);
    p.extend([6, 5]);
    expect(p.bound).toEqual([2, 4, 8, 7]);
    p.begin("eraser", 2, [11, 9]); // clipped to the slice
    expect(p.bound).toEqual([2, 4, 12, 10]);
    // the preview of an untouched committed mask outside the box is a copy of it
    const committed = new Uint8Array(120).fill(1);
    const prev = previewMask(committed, p.effect, 12, p.bound);
    expect(prev).not.toBe(committed);
    expect(prev[0]).toBe(1);
    expect(previewMask(undefined, new Uint8Array(120), 12, null).every((v) => v === 0)).toBe(true);
  });
  it("refuses a bad radius", () => {
    const p = new PendingEdit("u", "liver", 0, "s0", 12, 10);
    expect(() => p.begin("brush", 0, [1, 1])).toThrow(/radius/);
  });
});

describe("agreement with js/masks.ts stampStroke", () => {
  it("the pending edit's coverage equals stampStroke on random strokes (paint, erase, threshold)", () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const W = 40;
    const H = 30;
    const values = (i: number): number => ((i * 37) % 101) - 20;
    const within = Uint8Array.from({ length: W * H }, (_, i) => (values(i) >= 10 && values(i) <= 60 ? 1 : 0));
    for (let trial = 0; trial < 40; trial++) {
      const strokes: { tool: "brush" | "eraser" | "threshold"; r: number; pts: Point[] }[] = [];
      for (let j = 0; j < 3; j++) {
        const pts: Point[] = [];
        const m = 1 + Math.floor(rnd() * 6);
        for (let q = 0; q < m; q++) pts.push([Math.round((rnd() * 50 - 5) * 1000) / 1000, Math.round((rnd() * 40 - 5) * 1000) / 1000]);
        strokes.push({ tool: (["brush", "eraser", "threshold"] as const)[Math.floor(rnd() * 3)]!, r: 0.5 + rnd() * 6, pts });
      }
      const p = new PendingEdit("u", null, 0, "s0", W, H);
      const want = new Uint8Array(W * H).fill(0);
      for (let i = 0; i < want.length; i += 3) want[i] = 1; // a committed mask
      for (const st of strokes) {
        p.begin(st.tool, st.r, st.pts[0]!, st.tool === "threshold" ? [10, 60] : undefined, st.tool === "threshold" ? values : undefined);
        for (const q of st.pts.slice(1)) p.extend(q);
        stampStroke(want, W, H, st.pts, st.r, st.tool === "eraser" ? "erase" : "paint", st.tool === "threshold" ? within : undefined);
      }
      const base = new Uint8Array(W * H);
      for (let i = 0; i < base.length; i += 3) base[i] = 1;
      // over the whole slice, and over only the edit's box: the same mask as stampStroke's
      expect(Array.from(previewMask(base, p.effect, W, [0, 0, W, H]))).toEqual(Array.from(want));
      expect(Array.from(previewMask(base, p.effect, W, p.bound))).toEqual(Array.from(want));
      for (let i = 0; i < W * H; i++) {
        if (p.effect[i] === KEEP) continue;
        const [x, y] = [i % W, Math.floor(i / W)];
        const b = p.bound;
        expect(b !== null && x >= b[0] && x < b[2] && y >= b[1] && y < b[3]).toBe(true);
      }
    }
  });
});

// (node has no ImageData: a plain one of the same shape)
class PlainImageData {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8ClampedArray(width * height * 4);
  }
}

/** A mask session on a 40 x 30 slice of made-up values, with the labels `objects` and the
 * model values `model`; in the cache `m1` has a 12 x 10 block at (5, 5), `m2` one pixel. */
function sessionOn(objects: Record<string, unknown>[], model: Record<string, unknown> = {}): { session: MaskSession; values: Int16Array } {
  const W = 40;
  const H = 30;
  const values = new Int16Array(W * H).map((_, i) => ((i * 37) % 200) - 50);
  const labels = { revision: 3, ontology: null, objects, read_only: false, frame_classifications: [], measurements: [], can_undo: false, can_redo: false };
  const volume = { loaded: new Uint8Array([1]), loadedCount: 1, slices: 1, samples: 1, slope: new Float64Array([1]), intercept: new Float64Array([0]), slice: () => values };
  const api = {
    info: () => ({ id: "s0", shape: [1, H, W], spacing: [1, 1, 1], units: "HU", value_range: [-50, 150] }),
    labels: () => labels,
    hidden: () => new Set<string>(),
    ontology: () => null,
    ui: { tool: "threshold" },
    model: { get: (key: string) => model[key] },
    volume: () => volume,
    slice: () => 0,
    plane: () => "axial",
    changed: () => undefined,
    toast: () => undefined,
    object: (u: string) => objects.find((o) => o.uuid === u),
  };
  const session = new MaskSession(api as unknown as EditorApi);
  session.sync();
  const block = Array.from({ length: 10 }, () => "#".repeat(12));
  const bits = packRegion(fromRowsOf(block), 12, [0, 0, 12, 10]);
  const dot = packRegion(Uint8Array.of(1), 1, [0, 0, 1, 1]);
  const items = [
    { uuid: "m1", box: [5, 5, 17, 15] as MaskBox, full: true, area: 120, bits },
    { uuid: "m2", box: [30, 25, 31, 26] as MaskBox, full: true, area: 1, bits: dot },
  ];
  session.cache?.apply({ type: "masks", series: "s0", slice: 0, revision: 3, items });
  return { session, values };
}

function withImageData<T>(run: () => T): T {
  const g = globalThis as unknown as { ImageData?: unknown };
  const had = g.ImageData;
  g.ImageData = PlainImageData;
  try {
    return run();
  } finally {
    g.ImageData = had;
  }
}

const MASK_OBJECTS = [
  { uuid: "m2", object_id: 3, feature: "Kidney", shape: "bitmask", keyframes: { "0": {} } },
  { uuid: "m1", object_id: 1, feature: "Liver", shape: "bitmask", keyframes: { "0": {} } },
  { uuid: "p1", object_id: 2, feature: "Spleen", shape: "polygon", keyframes: { "0": {} } },
];

describe("stroke preview redrawn in part", () => {
  it("composing only each move's changed box gives the image of a whole compose", () => {
    withImageData(() => {
      for (const overwrite of [false, true]) {
        const { session, values } = sessionOn(MASK_OBJECTS, { mask_overwrite: overwrite });
        session.settings.thresholdPreview = true;
        const whole = (): number[] => [...(session.compose(0, true) as unknown as PlainImageData).data];
        for (const [uuid, tool] of [
          ["m1", "eraser"],
          ["m1", "threshold"],
          ["p1", "brush"],
          ["m2", "brush"],
        ] as const) {
          const edit = new PendingEdit(uuid, null, 0, "s0", 40, 30);
          session.pending = edit;
          edit.begin(tool, 3, [4, 6], tool === "threshold" ? [0, 100] : undefined, tool === "threshold" ? (i) => values[i] as number : undefined);
          edit.takeDirty();
          const frame = session.compose(0, true) as unknown as PlainImageData;
          for (const p of [
            [9, 8],
            [15, 12],
            [22, 20],
            [30, 9],
            [38, 3],
          ] as Point[]) {
            edit.extend(p);
            const clip = edit.takeDirty();
            expect(clip).not.toBeNull();
            session.compose(0, true, frame as unknown as ImageData, clip as MaskBox);
            expect([...frame.data]).toEqual(whole());
          }
        }
      }
    });
  });

  it("with overwrite, a stroke's preview takes its pixels from the other masks", () => {
    withImageData(() => {
      // m2 is drawn under m1: a stroke of m2 across m1's block shows only where m1 gives
      // its pixels up
      const colourAt = (overwrite: boolean): number[] => {
        const { session } = sessionOn(MASK_OBJECTS, { mask_overwrite: overwrite });
        const edit = new PendingEdit("m2", null, 0, "s0", 40, 30);
        session.pending = edit;
        edit.begin("brush", 2, [2, 10]);
        edit.extend([30, 10]);
        const rgba = (session.compose(0, false) as unknown as PlainImageData).data;
        const o = (10 * 40 + 10) * 4; // inside the block, under the stroke
        const outside = (10 * 40 + 25) * 4; // the stroke, beyond the block
        return [...rgba.subarray(o, o + 3), ...rgba.subarray(outside, outside + 3)];
      };
      const over = colourAt(true);
      const under = colourAt(false);
      expect(over.slice(0, 3)).toEqual(over.slice(3)); // m2's colour in the block too
      expect(under.slice(0, 3)).not.toEqual(under.slice(3)); // m1's colour on top
    });
  });
});

function fromRowsOf(lines: string[]): Uint8Array {
  return Uint8Array.from(lines.join("").split(""), (c) => (c === "#" ? 1 : 0));
}
