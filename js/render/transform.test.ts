import { describe, expect, it } from "vitest";
import {
  IDENTITY_VIEW,
  type Geometry,
  type ViewParams,
  apply,
  backingSize,
  clampZoom,
  fit,
  fitScale,
  imageToScreen,
  isFitted,
  viewportAspect,
  invert,
  normaliseRotation,
  panBy,
  rotateBy,
  screenToVoxel,
  voxelToScreen,
  voxelUnder,
  zoomAbout,
} from "./transform";

const square: Geometry = { columns: 100, rows: 100, columnSpacing: 1, rowSpacing: 1, width: 400, height: 400 };
const close = (a: [number, number], b: [number, number], eps = 1e-9): void => {
  expect(Math.abs(a[0] - b[0])).toBeLessThan(eps);
  expect(Math.abs(a[1] - b[1])).toBeLessThan(eps);
};

describe("fit and aspect", () => {
  it("fits the image into the viewport and centres it", () => {
    expect(fitScale(square)).toBe(4);
    close(voxelToScreen(square, IDENTITY_VIEW, -0.5, -0.5), [0, 0]);
    close(voxelToScreen(square, IDENTITY_VIEW, 99.5, 99.5), [400, 400]);
    close(voxelToScreen(square, IDENTITY_VIEW, 49.5, 49.5), [200, 200]);
  });
  it("uses pixel spacing for the aspect ratio", () => {
    // 100 columns of 0.5 mm = 50 mm wide, 100 rows of 1 mm = 100 mm high
    const g = { ...square, columnSpacing: 0.5, rowSpacing: 1 };
    const m = imageToScreen(g, IDENTITY_VIEW);
    const [x0, y0] = apply(m, 0, 0);
    const [x1, y1] = apply(m, 100, 100);
    expect((x1 - x0) / (y1 - y0)).toBeCloseTo(0.5, 12);
    expect(y1 - y0).toBeCloseTo(400, 9);
    expect(x0).toBeCloseTo(100, 9);
  });
  it("letterboxes a wide viewport", () => {
    const g = { ...square, width: 800, height: 400 };
    close(voxelToScreen(g, IDENTITY_VIEW, -0.5, -0.5), [200, 0]);
  });
  it("treats unknown or zero spacing as 1 mm", () => {
    expect(fitScale({ ...square, columnSpacing: 0, rowSpacing: Number.NaN })).toBe(4);
  });
});

describe("screen <-> voxel", () => {
  const views: ViewParams[] = [
    IDENTITY_VIEW,
    { zoom: 2.5, pan: [3, -7], rotation: 0, flipH: false, flipV: false },
    { zoom: 0.7, pan: [-1, 2], rotation: 90, flipH: true, flipV: false },
    { zoom: 1.3, pan: [0, 5], rotation: 33.3, flipH: false, flipV: true },
    { zoom: 4, pan: [10, 10], rotation: 270, flipH: true, flipV: true },
  ];
  it("round-trips for any zoom, pan, rotation and flip", () => {
    const g = { ...square, columnSpacing: 0.7, rowSpacing: 1.3, width: 640, height: 480 };
    for (const v of views) {
      for (const [c, r] of [[0, 0], [12.25, 80], [99, 3]] as [number, number][]) {
        const [x, y] = voxelToScreen(g, v, c, r);
        close(screenToVoxel(g, v, x, y), [c, r], 1e-9);
      }
    }
  });
  it("inverts matrices", () => {
    const m = imageToScreen(square, views[3]!);
    const mi = invert(m);
    const [x, y] = apply(m, 17, 42);
    close(apply(mi, x, y), [17, 42]);
  });
  it("rotates clockwise on screen in exact 90-degree steps", () => {
    const v = { ...IDENTITY_VIEW, rotation: 90 };
    // the top-left corner of the image goes to the top-right of the screen
    close(apply(imageToScreen(square, v), 0, 0), [400, 0]);
    const m = imageToScreen(square, v);
    expect(m[0]).toBe(0); // exact zero, not 6e-17
  });
  it("flips horizontally and vertically in screen space", () => {
    close(apply(imageToScreen(square, { ...IDENTITY_VIEW, flipH: true }), 0, 0), [400, 0]);
    close(apply(imageToScreen(square, { ...IDENTITY_VIEW, flipV: true }), 0, 0), [0, 400]);
    // flip after a rotation still mirrors the screen left-right
    const v = { ...IDENTITY_VIEW, rotation: 90, flipH: true };
    close(apply(imageToScreen(square, v), 0, 0), [0, 0]);
  });
  it("finds the voxel under a point, or none outside the image", () => {
    expect(voxelUnder(square, IDENTITY_VIEW, 1, 1)).toEqual([0, 0]);
    expect(voxelUnder(square, IDENTITY_VIEW, 399, 5)).toEqual([99, 1]);
    const wide = { ...square, width: 800 };
    expect(voxelUnder(wide, IDENTITY_VIEW, 100, 100)).toBeNull();
  });
});

describe("zoom, pan, rotate", () => {
  it("zooms about a point, keeping the voxel under it", () => {
    const v0 = { ...IDENTITY_VIEW, rotation: 30, flipH: true };
    const before = screenToVoxel(square, v0, 123, 321);
    const v1 = zoomAbout(square, v0, 2, 123, 321);
    expect(v1.zoom).toBe(2);
    close(screenToVoxel(square, v1, 123, 321), before, 1e-9);
  });
  it("clamps zoom", () => {
    expect(clampZoom(1000)).toBe(64);
    expect(clampZoom(0)).toBe(0.05);
    expect(clampZoom(Number.NaN)).toBe(1);
    expect(zoomAbout(square, IDENTITY_VIEW, 1e6, 0, 0).zoom).toBe(64);
  });
  it("pans by screen pixels whatever the zoom", () => {
    const v = panBy(square, { ...IDENTITY_VIEW, zoom: 2 }, 80, -40);
    const [x, y] = voxelToScreen(square, v, 49.5, 49.5);
    close([x, y], [280, 160]);
  });
  it("normalises rotation to [0, 360)", () => {
    expect(normaliseRotation(-90)).toBe(270);
    expect(normaliseRotation(720)).toBe(0);
    expect(rotateBy({ ...IDENTITY_VIEW, rotation: 270 }, 90).rotation).toBe(0);
  });
  it("fit resets zoom and pan, keeps rotation and flips", () => {
    const v = fit(square, { zoom: 3, pan: [4, 5], rotation: 90, flipH: true, flipV: false });
    expect(v).toEqual({ zoom: 1, pan: [0, 0], rotation: 90, flipH: true, flipV: false });
  });
  it("isFitted says whether a view is what fit gives for its rotation", () => {
    const strip: Geometry = { columns: 512, rows: 20, columnSpacing: 0.98, rowSpacing: 2, width: 600, height: 300 };
    const v = fit(strip, { ...IDENTITY_VIEW });
    expect(isFitted(strip, v)).toBe(true);
    // turned a quarter, zoom 1 fits the strip upright (QA 21a: it ran off screen, and the
    // viewport kept its wide shape: a thin strip); at other angles fit zooms out
    const turned = rotateBy(v, 90);
    expect(isFitted(strip, turned)).toBe(true);
    const [[x0, y0], [x1, y1]] = [voxelToScreen(strip, turned, -0.5, -0.5), voxelToScreen(strip, turned, 511.5, 19.5)];
    expect(Math.max(Math.abs(y1 - y0), Math.abs(x1 - x0))).toBeCloseTo(300, 6); // the viewport's height
    const slanted = rotateBy(v, 30);
    expect(isFitted(strip, slanted)).toBe(false);
    expect(isFitted(strip, fit(strip, slanted))).toBe(true);
    expect(fit(strip, slanted).zoom).toBeLessThan(v.zoom);
    expect(isFitted(strip, { ...v, pan: [1, 0] })).toBe(false);
    expect(isFitted(strip, { ...v, zoom: v.zoom * 1.5 })).toBe(false);
  });
  it("fit makes a rotated image fit whole: every corner inside the viewport", () => {
    const wide: Geometry = { columns: 200, rows: 100, columnSpacing: 1, rowSpacing: 1, width: 400, height: 200 };
    for (const rotation of [0, 33, 90, 135, 270]) {
      const v = fit(wide, { ...IDENTITY_VIEW, zoom: 5, rotation });
      const corners = [[-0.5, -0.5], [199.5, -0.5], [-0.5, 99.5], [199.5, 99.5]].map(([c, r]) => voxelToScreen(wide, v, c as number, r as number));
      for (const [x, y] of corners) {
        expect(x).toBeGreaterThanOrEqual(-1e-6);
        expect(x).toBeLessThanOrEqual(400 + 1e-6);
        expect(y).toBeGreaterThanOrEqual(-1e-6);
        expect(y).toBeLessThanOrEqual(200 + 1e-6);
      }
      // and it touches the viewport on one axis (as large as fits)
      const xs = corners.map((p) => p[0] as number);
      const ys = corners.map((p) => p[1] as number);
      const fillX = (Math.max(...xs) - Math.min(...xs)) / 400;
      const fillY = (Math.max(...ys) - Math.min(...ys)) / 200;
      expect(Math.max(fillX, fillY)).toBeCloseTo(1, 6);
    }
  });
  it("sizes the backing store by devicePixelRatio", () => {
    expect(backingSize(300, 200, 2)).toEqual([600, 400]);
    expect(backingSize(300.4, 200, 1.5)).toEqual([451, 300]);
    expect(backingSize(0, 0, Number.NaN)).toEqual([1, 1]);
  });
});

describe("viewportAspect", () => {
  it("is the image's shape in mm", () => {
    expect(viewportAspect(350, 350)).toBe("350 / 350");
    expect(viewportAspect(500, 300)).toBe("500 / 300");
    expect(viewportAspect(300, 500)).toBe("300 / 500");
  });
  it("stops at 2.5 either way: a 20-slice series' coronal plane is letterboxed", () => {
    expect(viewportAspect(500, 40)).toBe("2.5 / 1");
    expect(viewportAspect(40, 500)).toBe("1 / 2.5");
    expect(viewportAspect(250, 100)).toBe("250 / 100");
  });
  it("is square for unknown sizes", () => {
    expect(viewportAspect(0, 40)).toBe("1 / 1");
    expect(viewportAspect(Number.NaN, 40)).toBe("1 / 1");
    expect(viewportAspect(40, Number.POSITIVE_INFINITY)).toBe("1 / 1");
  });
});
