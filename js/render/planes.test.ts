import { describe, expect, it } from "vitest";
import { ctSeriesInfo } from "../fixtures.test-util";
import { Volume } from "../volume";
import { PLANE_COLOURS, anatomicalName, directionLetters, drawPlaneLines, missingPixel, orientationMarkers, naturalView, paintPlane, patientOrientationAffine, planeLineAt, planeImage, planeSize, planeToVoxel, planeValue, reformatNotice, slabForMm, slabOptions, slabRange, voxelToPlane } from "./planes";
import { GreyRenderer } from "./window";

/** A 3 x 4 x 5 volume whose stored value names its voxel: 100 k + 10 r + c. */
function volume(arrived: number[] = [0, 1, 2], rescale: (k: number) => [number, number] = () => [1, -1024]): Volume {
  const v = new Volume(ctSeriesInfo([3, 4, 5], [2, 0.5, 0.7]));
  for (const k of arrived) {
    const values = new Int16Array(20);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 5; c++) values[r * 5 + c] = 100 * k + 10 * r + c;
    const [slope, intercept] = rescale(k);
    v.put({ type: "slice", series: "s0", index: k, dtype: "int16", shape: [4, 5], slope, intercept }, new DataView(values.buffer));
  }
  return v;
}

describe("plane geometry", () => {
  it("sizes each plane's images from the series' shape and spacing", () => {
    const shape = [3, 4, 5];
    const spacing = [2, 0.5, 0.7];
    expect(planeSize(shape, spacing, "axial")).toEqual({ columns: 5, rows: 4, slices: 3, columnSpacing: 0.7, rowSpacing: 0.5, sliceSpacing: 2 });
    expect(planeSize(shape, spacing, "coronal")).toEqual({ columns: 5, rows: 3, slices: 4, columnSpacing: 0.7, rowSpacing: 2, sliceSpacing: 0.5 });
    expect(planeSize(shape, spacing, "sagittal")).toEqual({ columns: 4, rows: 3, slices: 5, columnSpacing: 0.5, rowSpacing: 2, sliceSpacing: 0.7 });
  });
  it("maps plane coordinates to voxels and back as labels/geometry.py does", () => {
    expect(planeToVoxel("axial", 1, 2, 3)).toEqual([1, 2, 3]);
    expect(planeToVoxel("coronal", 1, 2, 3)).toEqual([1, 3, 2]);
    expect(planeToVoxel("sagittal", 1, 2, 3)).toEqual([3, 1, 2]);
    for (const plane of ["axial", "coronal", "sagittal"] as const) {
      expect(planeToVoxel(plane, ...voxelToPlane(plane, [4, 5, 6]))).toEqual([4, 5, 6]);
    }
  });
  it("shows reformats head up: flipped when the slices advance towards the head", () => {
    const up = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]];
    const down = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -2, 0], [0, 0, 0, 1]];
    expect(naturalView("coronal", up)).toEqual({ rotation: 0, flipV: true });
    expect(naturalView("sagittal", up)).toEqual({ rotation: 0, flipV: true });
    expect(naturalView("coronal", down)).toEqual({ rotation: 0, flipV: false });
    expect(naturalView("axial", up)).toEqual({ rotation: 0, flipV: false });
    expect(naturalView("coronal", undefined)).toEqual({ rotation: 0, flipV: false });
  });
  it("shows every reformat of a sagittal or coronal acquisition as radiologists read it (QA 23a D2)", () => {
    // the markers of a view: the natural view's linear part, screen = F R (u, v)
    const markers = (plane: "coronal" | "sagittal", affine: number[][]): string => {
      const { rotation, flipV } = naturalView(plane, affine);
      const t = (rotation * Math.PI) / 180;
      const [cos, sin] = [Math.round(Math.cos(t)), Math.round(Math.sin(t))];
      const f = flipV ? -1 : 1;
      const m = orientationMarkers(affine, plane, [cos, f * sin, -sin, f * cos, 0, 0]);
      return `${m.top}/${m.left}/${m.right}/${m.bottom}`;
    };
    // sagittal MR: columns run to posterior, rows to the feet, slices to the patient's left
    const sagittalMr = [[0, 0, 1.2, -60], [0.9, 0, 0, -110], [0, -0.9, 0, 120], [0, 0, 0, 1]];
    expect(markers("coronal", sagittalMr)).toBe("A/R/L/P"); // an axial image: anterior up
    expect(markers("sagittal", sagittalMr)).toBe("S/R/L/I"); // a coronal one: head up
    expect(naturalView("coronal", sagittalMr)).toEqual({ rotation: 270, flipV: true });
    // coronal MR: columns to the patient's left, rows to the feet, slices to posterior
    const coronalMr = [[0.8, 0, 0, -100], [0, 0, 3, -40], [0, -0.8, 0, 90], [0, 0, 0, 1]];
    expect(markers("coronal", coronalMr)).toBe("A/R/L/P");
    expect(markers("sagittal", coronalMr)).toBe("S/A/P/I"); // anterior on the left
    // an axial CT's reformats as before
    const ct = [[0.7, 0, 0, 0], [0, 0.7, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]];
    expect(markers("coronal", ct)).toBe("S/R/L/I");
    expect(markers("sagittal", ct)).toBe("S/A/P/I");
  });
  it("centres slabs on the slice, clipped to the plane", () => {
    expect(slabRange(5, 1, 10)).toEqual([5, 5]);
    expect(slabRange(5, 3, 10)).toEqual([4, 6]);
    expect(slabRange(5, 4, 10)).toEqual([4, 7]);
    expect(slabRange(0, 5, 10)).toEqual([0, 2]);
    expect(slabRange(9, 5, 10)).toEqual([7, 9]);
  });
});

describe("planeImage", () => {
  it("reformats coronal and sagittal slices with each row's own rescale", () => {
    const v = volume([0, 1, 2], (k) => [k + 1, -k]);
    const cor = planeImage(v, "coronal", 2);
    expect([cor.columns, cor.rows]).toEqual([5, 3]);
    expect(Array.from(cor.values)).toEqual([20, 21, 22, 23, 24, 120, 121, 122, 123, 124, 220, 221, 222, 223, 224]);
    expect(Array.from(cor.slope)).toEqual([1, 2, 3]);
    expect(planeValue(cor, 3, 1)).toBe(123 * 2 - 1);
    const sag = planeImage(v, "sagittal", 4);
    expect([sag.columns, sag.rows]).toEqual([4, 3]);
    expect(Array.from(sag.values)).toEqual([4, 14, 24, 34, 104, 114, 124, 134, 204, 214, 224, 234]);
    expect(planeValue(sag, 2, 2)).toBe(224 * 3 - 2);
    expect(planeValue(sag, 4, 0)).toBeNull();
  });
  it("returns the stored slice itself for an axial image", () => {
    const v = volume();
    expect(planeImage(v, "axial", 1).values).toBe(v.slice(1));
  });
  it("projects the maximum over a slab in every plane", () => {
    const v = volume();
    expect(Array.from(planeImage(v, "axial", 1, 3).values)).toEqual(Array.from(v.slice(2)));
    expect(Array.from(planeImage(v, "axial", 0, 2).values)).toEqual(Array.from(v.slice(1)));
    // rows 1..3 of each slice: the maximum is row 3
    const cor = planeImage(v, "coronal", 2, 3);
    expect(Array.from(cor.values.subarray(0, 5))).toEqual([30, 31, 32, 33, 34]);
    const sag = planeImage(v, "sagittal", 0, 2);
    expect(Array.from(sag.values.subarray(4, 8))).toEqual([101, 111, 121, 131]);
  });
  it("leaves slices not arrived out of an axial slab, and projects modality values when the rescales differ", () => {
    const partial = volume([0, 1]);
    // slice 2 (the largest) has not arrived: slice 1 wins, not the zeros of slice 2
    expect(Array.from(planeImage(partial, "axial", 1, 3).values)).toEqual(Array.from(partial.slice(1)));
    const mixed = volume([0, 1, 2], (k) => (k === 2 ? [-1, 0] : [1, 0]));
    const mip = planeImage(mixed, "axial", 1, 3);
    expect(mip.values).toBeInstanceOf(Float32Array);
    expect(planeValue(mip, 0, 0)).toBe(100);
    expect(Array.from(mip.slope)).toEqual([1, 1, 1, 1]);
  });
  it("takes the minimum of stored values where a row's slope is negative", () => {
    const v = volume([0, 1, 2], () => [-1, 0]);
    const cor = planeImage(v, "coronal", 1, 3);
    expect(planeValue(cor, 2, 1)).toBe(-102);
    expect(Array.from(cor.values.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("plane names and slab menu", () => {
  const axialCt = [[0.7, 0, 0, 0], [0, 0.7, 0, 0], [0, 0, -2, 0], [0, 0, 0, 1]];
  // a sagittal MR: columns run anterior-posterior (y), rows head-feet (-z), slices left-right (x)
  const sagittalMr = [[0, 0, 1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]];
  it("names each plane by its anatomy, whatever the acquisition", () => {
    expect(["axial", "coronal", "sagittal"].map((p) => anatomicalName(p as "axial", axialCt))).toEqual(["axial", "coronal", "sagittal"]);
    expect(anatomicalName("axial", sagittalMr)).toBe("sagittal");
    expect(anatomicalName("coronal", sagittalMr)).toBe("axial");
    expect(anatomicalName("sagittal", sagittalMr)).toBe("coronal");
    expect(anatomicalName("axial", [[1, 0, 0], [0, 1, 0.9], [0, 0, 0.9]])).toBe("oblique");
    expect(anatomicalName("coronal", undefined)).toBe("coronal");
  });
  it("offers slabs in millimetres as whole slices, and keeps a value set from Python", () => {
    expect(slabOptions(2.5, 300, 1)).toEqual([
      { value: 1, label: "MIP off" },
      { value: 2, label: "MIP 5 mm" },
      { value: 4, label: "MIP 10 mm" },
      { value: 8, label: "MIP 20 mm" },
      { value: 16, label: "MIP 40 mm" },
    ]);
    // each says the thickness it gives (QA 23a D12: "MIP 5 mm" of 5 mm slices gave 10 mm)
    expect(slabOptions(5, 300, 1).map((o) => o.label)).toEqual(["MIP off", "MIP 10 mm", "MIP 20 mm", "MIP 40 mm"]);
    expect(slabOptions(2, 300, 1).map((o) => o.label)).toEqual(["MIP off", "MIP 6 mm", "MIP 10 mm", "MIP 20 mm", "MIP 40 mm"]);
    expect(slabOptions(2, 300, 7).at(-1)).toEqual({ value: 7, label: "MIP 14 mm (7 slices)" });
    expect(slabOptions(10, 8, 7).map((o) => o.value)).toEqual([1, 2, 4, 7]);
    expect(slabOptions(0.5, 3, 1).map((o) => o.value)).toEqual([1, 3]);
  });
});

describe("planeImage scratch", () => {
  it("says whether its values are its own, and reuses only such a scratch", () => {
    const v = volume();
    const own = planeImage(v, "axial", 1);
    expect(own.owned).toBe(false);
    const cor = planeImage(v, "coronal", 0);
    expect(cor.owned).toBe(true);
    const again = planeImage(v, "coronal", 3, 1, cor.values);
    expect(again.values).toBe(cor.values);
    expect(Array.from(again.values.subarray(0, 5))).toEqual([30, 31, 32, 33, 34]);
    expect(Array.from(v.slice(1))).toEqual(Array.from(planeImage(v, "axial", 1).values));
  });
});

describe("paintPlane and slabForMm", () => {
  it("stripes the rows of slices that have not arrived", () => {
    const v = volume([0, 2]);
    const image = planeImage(v, "coronal", 1);
    const out = new Uint8ClampedArray(image.columns * image.rows * 4);
    paintPlane(new GreyRenderer(), image, 40, 400, false, out, v.loaded);
    const px = new Uint32Array(out.buffer);
    const row = (y: number) => Array.from(px.subarray(y * 5, y * 5 + 5));
    expect(row(1)).toEqual([0, 1, 2, 3, 4].map((x) => missingPixel(x, 1) >>> 0));
    expect(row(0)).not.toEqual(row(1));
    const plain = new Uint8ClampedArray(out.length);
    paintPlane(new GreyRenderer(), image, 40, 400, false, plain);
    expect(Array.from(plain.subarray(0, 20))).toEqual(Array.from(out.subarray(0, 20)));
  });
  it("turns millimetres into whole slices, a projection staying one", () => {
    expect(slabForMm(10, 2, 100)).toBe(5);
    expect(slabForMm(10, 0.7, 100)).toBe(14);
    expect(slabForMm(1, 2, 100)).toBe(2);
    expect(slabForMm(100, 2, 20)).toBe(20);
    expect(slabForMm(10, 0, 3)).toBe(3);
  });
});

describe("orientation markers", () => {
  // an axial CT: columns to the patient's left (+x), rows to posterior (+y), slices to the head
  const ct = [[0.7, 0, 0, 0], [0, 0.7, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]];
  const upright = [2, 0, 0, 2, 0, 0]; // image -> screen, no rotation or flip
  const flippedV = [2, 0, 0, -2, 0, 100];
  it("names the patient's side at each edge", () => {
    expect(orientationMarkers(ct, "axial", upright)).toEqual({ right: "L", left: "R", bottom: "P", top: "A" });
    // reformats are shown head up (flipped when the slices advance towards the head)
    expect(orientationMarkers(ct, "coronal", flippedV)).toEqual({ right: "L", left: "R", bottom: "I", top: "S" });
    expect(orientationMarkers(ct, "sagittal", flippedV)).toEqual({ right: "P", left: "A", bottom: "I", top: "S" });
    // rotated 90° clockwise: the top of the image (anterior) is now on the right
    expect(orientationMarkers(ct, "axial", [0, 2, -2, 0, 0, 0]).right).toBe("A");
    expect(orientationMarkers(undefined, "axial", upright).left).toBe("");
  });
  it("gives two letters for an oblique direction", () => {
    expect(directionLetters([1, -0.8, 0.1])).toBe("LA");
    expect(directionLetters([0, 0, -3])).toBe("I");
    expect(directionLetters([0, 0, 0])).toBe("");
  });
});

describe("drawPlaneLines", () => {
  it("draws the two other planes through the crosshair, each in its colour, at pixel centres", () => {
    const calls: string[] = [];
    const ctx = {
      lineWidth: 0,
      strokeStyle: "",
      beginPath: () => calls.push(`begin ${ctx.strokeStyle}`),
      moveTo: (x: number, y: number) => calls.push(`move ${x},${y}`),
      lineTo: (x: number, y: number) => calls.push(`line ${x},${y}`),
      stroke: () => calls.push("stroke"),
    };
    // axial image of 5 x 4 pixels drawn at 10 px a pixel; crosshair column 2, row 1
    drawPlaneLines(ctx as unknown as CanvasRenderingContext2D, "axial", [2, 1, 7], [10, 0, 0, 10, 0, 0], 5, 4, 1.5);
    expect(calls).toEqual([
      `begin ${PLANE_COLOURS.sagittal}`, "move 25,0", "line 25,40", "stroke",
      `begin ${PLANE_COLOURS.coronal}`, "move 0,15", "line 50,15", "stroke",
    ]);
    expect(ctx.lineWidth).toBe(1.5);
    calls.length = 0;
    // on a coronal image the vertical line is the sagittal plane (u = column), the horizontal
    // one the axial plane (v = slice)
    drawPlaneLines(ctx as unknown as CanvasRenderingContext2D, "coronal", [2, 1, 3], [1, 0, 0, 1, 0, 0], 5, 4, 1);
    expect(calls.filter((c) => c.startsWith("begin"))).toEqual([`begin ${PLANE_COLOURS.sagittal}`, `begin ${PLANE_COLOURS.axial}`]);
    expect(calls).toContain("move 0,3.5");
  });
});

describe("reformatNotice", () => {
  const straight = [
    [0.5, 0, 0, 0],
    [0, 0.5, 0, 0],
    [0, 0, 2.5, 0],
    [0, 0, 0, 1],
  ];
  // slices 3 mm apart along z and 0.8 mm along y: tilted 14.9 degrees off their normal
  const tilted = [
    [0.5, 0, 0, 0],
    [0, 0.5, 0.8, 0],
    [0, 0, 3, 0],
    [0, 0, 0, 1],
  ];
  it("says nothing for the series' own slices or an even, untilted stack", () => {
    expect(reformatNotice("axial", tilted, [[0, 0, 0], [0, 0, 9]])).toBeNull();
    expect(reformatNotice("coronal", straight, null)).toBeNull();
    expect(reformatNotice("sagittal", undefined, undefined)).toBeNull();
  });
  it("names a gantry tilt and uneven slices on reformats (QA 23a D1, D3)", () => {
    expect(reformatNotice("coronal", tilted, null)).toBe(
      "Slices tilted 14.9° (gantry tilt): this reformat is shown unsheared. Not to scale; measurements are in patient mm.",
    );
    const text = reformatNotice("sagittal", straight, [[0, 0, 0], [0, 0, 2.5], [0, 0, 10]]);
    expect(text).toContain("Slices unevenly spaced");
    expect(text).not.toContain("tilted");
  });
});

describe("patientOrientationAffine", () => {
  it("gives a radiograph's markers from its PatientOrientation (QA 23a D5)", () => {
    const upright = [1, 0, 0, 1, 0, 0];
    const pa = patientOrientationAffine(["L", "F"]);
    expect(orientationMarkers(pa ?? undefined, "axial", upright)).toEqual({ left: "R", right: "L", top: "S", bottom: "I" });
    // a lateral view, and an oblique code
    expect(orientationMarkers(patientOrientationAffine(["A", "F"]) ?? undefined, "axial", upright).right).toBe("A");
    expect(orientationMarkers(patientOrientationAffine(["AL", "F"]) ?? undefined, "axial", upright).right).toBe("LA");
    // turned a quarter clockwise on screen: what was down is on the left
    expect(orientationMarkers(pa ?? undefined, "axial", [0, 1, -1, 0, 0, 0]).left).toBe("I");
  });
  it("is null for codes it cannot read", () => {
    expect(patientOrientationAffine(null)).toBeNull();
    expect(patientOrientationAffine(["L"])).toBeNull();
    expect(patientOrientationAffine(["L", "X"])).toBeNull();
    expect(patientOrientationAffine(["", "F"])).toBeNull();
  });
});

describe("planeLineAt", () => {
  it("finds the crosshair line a press is on, in screen px, through the view's transform", () => {
    // 2 px a voxel, shifted by (10, 20); crosshair at column 5, row 8 of slice 3
    const m = [2, 0, 0, 2, 10, 20];
    const at = (x: number, y: number, tol = 3) => planeLineAt("axial", [5, 8, 3], m, 16, 12, x, y, tol);
    // the line of constant u (column 5) is drawn at x = 10 + 2 * 5.5 = 21
    expect(at(21, 30)).toBe("u");
    expect(at(23.5, 30)).toBe("u");
    expect(at(24.5, 30)).toBeNull();
    // the line of constant v (row 8) at y = 20 + 2 * 8.5 = 37
    expect(at(40, 36)).toBe("v");
    expect(at(21, 37)).toBe("both");
    // only along the image: not beyond its end
    expect(at(21, 20 + 2 * 12 + 4)).toBeNull();
    // a quarter turn: the u line runs across the screen
    const turned = [0, 2, -2, 0, 100, 0]; // (x, y) -> (100 - 2y, 2x)
    expect(planeLineAt("axial", [5, 8, 3], turned, 16, 12, 90, 11, 1)).toBe("u");
    expect(planeLineAt("axial", [5, 8, 3], turned, 16, 12, 83, 25, 1)).toBe("v");
    expect(planeLineAt("axial", [5, 8, 3], turned, 16, 12, 83, 11, 1)).toBe("both");
  });
});
