/**
 * The orthogonal views: small images of the two planes not shown, through the crosshair,
 * in a corner of the viewport (toggled with Alt+O). Each shows where the other two planes cut
 * it, in the planes' colours; a click or drag in one moves the crosshair there (so the main
 * view follows along its own axis), a double-click shows that plane in the main view.
 *
 * The thumbnails are windowed like the main view, shown head up, with the masks they cut
 * (as the main view draws them), and made again only when their slice, the window, the
 * arrived slices or the masks change. The wheel over them scrolls the main
 * view.
 */
import { type Plane, PLANES, anatomicalName, drawPlaneLines, naturalView, paintPlane, planeAxis, planeImage, planeSize, planeToVoxel } from "../render/planes";
import { type Geometry, type ViewParams, imageToScreen, voxelUnder } from "../render/transform";
import { GreyRenderer } from "../render/window";
import type { Volume } from "../volume";
import { el, setText } from "./dom";

/** What the widget gives the orthogonal views. */
export interface OrthoHost {
  viewport: HTMLElement;
  signal: AbortSignal;
  volume(): Volume | null;
  plane(): Plane;
  crosshair(): [number, number, number];
  /** centre, width and whether the grey scale is shown inverted */
  windowing(): [number, number, boolean];
  setCrosshair(c: [number, number, number]): void;
  setPlane(p: Plane): void;
  /** the masks cut by slice k of `plane` (their image made on demand, and a key that changes
   * when it does); null when there are none to draw */
  masks(plane: Plane, k: number): { key: string; image: () => ImageData | null } | null;
}

/** Longest side of a thumbnail (CSS px). */
export const THUMB_PX = 150;
/** Shortest side of a thumbnail (CSS px): a thinner image is stretched to it (QA: the
 * reformats of a 20-slice series were 150 x 16 strips, too thin to see or aim at). */
export const THUMB_MIN_PX = 48;

/** Size (CSS px) and the pixel spacing to draw a thumbnail of `columns x rows` pixels of
 * `columnSpacing x rowSpacing` mm with: the aspect in millimetres, the longest side
 * THUMB_PX, the shortest at least THUMB_MIN_PX (the spacing across it grown to fill it). */
export function thumbFit(columns: number, rows: number, columnSpacing: number, rowSpacing: number): { width: number; height: number; columnSpacing: number; rowSpacing: number } {
  let cs = columnSpacing > 0 ? columnSpacing : 1;
  let rs = rowSpacing > 0 ? rowSpacing : 1;
  const s = THUMB_PX / Math.max(columns * cs, rows * rs, 1e-9);
  let width = Math.round(columns * cs * s);
  let height = Math.round(rows * rs * s);
  if (height < THUMB_MIN_PX) {
    rs *= THUMB_MIN_PX / Math.max(height, 1e-9);
    height = THUMB_MIN_PX;
  }
  if (width < THUMB_MIN_PX) {
    cs *= THUMB_MIN_PX / Math.max(width, 1e-9);
    width = THUMB_MIN_PX;
  }
  return { width, height, columnSpacing: cs, rowSpacing: rs };
}

interface Thumb {
  plane: Plane;
  figure: HTMLElement;
  canvas: HTMLCanvasElement;
  label: HTMLElement;
  /** the windowed image at its native size */
  image: HTMLCanvasElement;
  imageKey: string;
  /** the masks' image at native size (null: none to draw) */
  masks: HTMLCanvasElement | null;
  masksKey: string;
  drawnKey: string;
  geometry: Geometry | null;
  view: ViewParams;
}

export class OrthoViews {
  readonly node: HTMLElement;
  private readonly thumbs: Thumb[];
  private readonly renderer = new GreyRenderer();
  private shown = false;

  constructor(private readonly host: OrthoHost) {
    this.node = el("div", "daw-ortho", host.viewport);
    this.node.dataset.testid = "daw-ortho";
    this.node.hidden = true;
    this.thumbs = PLANES.map((plane) => {
      const figure = el("figure", "daw-ortho-view", this.node);
      figure.dataset.testid = `daw-ortho-${plane}`;
      const canvas = el("canvas", "daw-ortho-canvas", figure);
      const label = el("figcaption", "daw-ortho-label", figure);
      const thumb: Thumb = { plane, figure, canvas, label, image: document.createElement("canvas"), imageKey: "", masks: null, masksKey: "", drawnKey: "", geometry: null, view: { zoom: 1, pan: [0, 0], rotation: 0, flipH: false, flipV: false } };
      this.listen(thumb);
      return thumb;
    });
  }

  /** Show or hide the views; returns whether they are shown. */
  toggle(on = !this.shown): boolean {
    this.shown = on;
    this.update();
    return on;
  }

  get visible(): boolean {
    return this.shown;
  }

  update(): void {
    const volume = this.host.volume();
    const show = this.shown && volume !== null && volume.slices > 1;
    if (this.node.hidden === show) this.node.hidden = !show;
    if (!show || !volume) return;
    const main = this.host.plane();
    const cross = this.host.crosshair();
    const [center, width, invert] = this.host.windowing();
    for (const t of this.thumbs) {
      const visible = t.plane !== main;
      if (t.figure.hidden === visible) t.figure.hidden = !visible;
      if (!visible) continue;
      const size = planeSize(volume.info.shape, volume.info.spacing, t.plane);
      const index = cross[planeAxis(t.plane)];
      setText(t.label, `${anatomicalName(t.plane, volume.info.affine)} ${index + 1}/${size.slices}`);
      const imageKey = `${volume.info.id}|${t.plane}|${index}|${volume.loadedCount}|${center}|${width}|${invert}`;
      if (imageKey !== t.imageKey) {
        t.imageKey = imageKey;
        const image = planeImage(volume, t.plane, index);
        t.image.width = image.columns;
        t.image.height = image.rows;
        const ctx = t.image.getContext("2d");
        if (ctx) {
          const data = ctx.createImageData(image.columns, image.rows);
          paintPlane(this.renderer, image, center, width, invert, data.data, t.plane === "axial" ? null : volume.loaded, Boolean(volume.info.exact_window));
          ctx.putImageData(data, 0, 0);
        }
      }
      const masks = this.host.masks(t.plane, index);
      const masksKey = masks ? `${volume.info.id}|${masks.key}` : "";
      if (masksKey !== t.masksKey) {
        t.masksKey = masksKey;
        const img = masks?.image() ?? null;
        t.masks = null;
        if (img) {
          t.masks = document.createElement("canvas");
          t.masks.width = img.width;
          t.masks.height = img.height;
          t.masks.getContext("2d")?.putImageData(img, 0, 0);
        }
      }
      const natural = naturalView(t.plane, volume.info.affine);
      const fitted = thumbFit(size.columns, size.rows, size.columnSpacing, size.rowSpacing);
      // a quarter turn shows the image's columns down the thumbnail
      const [w, h] = natural.rotation % 180 === 0 ? [fitted.width, fitted.height] : [fitted.height, fitted.width];
      t.geometry = { columns: size.columns, rows: size.rows, columnSpacing: fitted.columnSpacing, rowSpacing: fitted.rowSpacing, width: w, height: h };
      t.view = { zoom: 1, pan: [0, 0], rotation: natural.rotation, flipH: false, flipV: natural.flipV };
      const dpr = window.devicePixelRatio || 1;
      const drawnKey = `${imageKey}|${masksKey}|${w}x${h}|${dpr}|${cross}|${main}`;
      if (drawnKey === t.drawnKey) continue;
      t.drawnKey = drawnKey;
      t.canvas.style.width = `${w}px`;
      t.canvas.style.height = `${h}px`;
      t.canvas.width = Math.round(w * dpr);
      t.canvas.height = Math.round(h * dpr);
      t.canvas.dataset.slice = String(index);
      this.draw(t, cross, dpr);
    }
  }

  private draw(t: Thumb, cross: [number, number, number], dpr: number): void {
    const ctx = t.canvas.getContext("2d");
    const g = t.geometry;
    if (!ctx || !g) return;
    const m = imageToScreen(g, t.view);
    ctx.setTransform(m[0] * dpr, m[1] * dpr, m[2] * dpr, m[3] * dpr, m[4] * dpr, m[5] * dpr);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(t.image, 0, 0);
    if (t.masks) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(t.masks, 0, 0);
    }
    t.canvas.dataset.masks = t.masks ? "1" : "0";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawPlaneLines(ctx, t.plane, cross, m, g.columns, g.rows, 1);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  /** The voxel under a pointer event in a thumbnail, or null outside its image. */
  private voxelAt(t: Thumb, e: MouseEvent): [number, number, number] | null {
    const g = t.geometry;
    if (!g) return null;
    const r = t.canvas.getBoundingClientRect();
    const at = voxelUnder(g, t.view, e.clientX - r.left, e.clientY - r.top);
    if (!at) return null;
    return planeToVoxel(t.plane, at[0], at[1], this.host.crosshair()[planeAxis(t.plane)]);
  }

  private listen(t: Thumb): void {
    const on = { signal: this.host.signal };
    let dragging: number | null = null;
    t.canvas.addEventListener(
      "pointerdown",
      (e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        e.stopPropagation(); // not a gesture of the main view under it
        (this.host.viewport.closest(".daw-root") as HTMLElement | null)?.focus({ preventScroll: true });
        dragging = e.pointerId;
        try {
          t.canvas.setPointerCapture(e.pointerId);
        } catch {
          // a pointer the browser will not capture still drags while over the thumbnail
        }
        const c = this.voxelAt(t, e);
        if (c) this.host.setCrosshair(c);
      },
      on,
    );
    t.canvas.addEventListener(
      "pointermove",
      (e) => {
        e.stopPropagation();
        if (dragging !== e.pointerId) return;
        const c = this.voxelAt(t, e);
        if (c) this.host.setCrosshair(c);
      },
      on,
    );
    const end = (e: PointerEvent): void => {
      e.stopPropagation();
      if (dragging === e.pointerId) dragging = null;
    };
    t.canvas.addEventListener("pointerup", end, on);
    t.canvas.addEventListener("pointercancel", end, on);
    t.canvas.addEventListener(
      "dblclick",
      (e) => {
        e.preventDefault();
        e.stopPropagation();
        this.host.setPlane(t.plane);
      },
      on,
    );
  }
}
