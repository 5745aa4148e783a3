/**
 * The slice bar: where we are in the series, which slices have arrived (a light band), and
 * click or drag to scrub.
 */
import { capturePointer, el, setAttr } from "./dom";

/** Runs of arrived slices as [start, end) pairs (pure; drawn as the light band). */
export function loadedRuns(loaded: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= loaded.length; i++) {
    const on = i < loaded.length && loaded[i] === 1;
    if (on && start < 0) start = i;
    else if (!on && start >= 0) {
      runs.push([start, i]);
      start = -1;
    }
  }
  return runs;
}

/** Slice under a horizontal position `x` of a bar `width` pixels wide for `n` slices. */
export function sliceAtX(x: number, width: number, n: number): number {
  if (n <= 1 || width <= 0) return 0;
  return Math.min(n - 1, Math.max(0, Math.floor((x / width) * n)));
}

export class SliceBar {
  readonly node: HTMLDivElement;
  private readonly band: HTMLCanvasElement;
  private readonly thumb: HTMLDivElement;
  private bandKey = "";
  private thumbKey = "";
  /** CSS width of the bar, kept by a ResizeObserver: reading clientWidth while drawing a
   * frame would force a layout of the page every frame */
  private cssWidth = 0;

  constructor(
    parent: HTMLElement,
    signal: AbortSignal,
    private readonly onScrub: (k: number, phase: "start" | "move" | "end") => void,
    private readonly count: () => number,
    /** the bar changed size (its band must be drawn again) */
    onResize?: () => void,
  ) {
    this.node = el("div", "daw-slicebar", parent);
    this.node.dataset.testid = "daw-slicebar";
    this.node.title = "Slice bar: click or drag to scrub (light band = slices arrived)";
    this.node.setAttribute("role", "slider");
    this.node.setAttribute("aria-label", "Slice");
    this.band = el("canvas", "daw-slicebar-band", this.node);
    this.thumb = el("div", "daw-slicebar-thumb", this.node);
    let dragging = false;
    const at = (e: PointerEvent): number => {
      const r = this.node.getBoundingClientRect();
      return sliceAtX(e.clientX - r.left, r.width, this.count());
    };
    this.node.addEventListener(
      "pointerdown",
      (e) => {
        if (e.button !== 0) return;
        dragging = true;
        capturePointer(this.node, e.pointerId);
        this.onScrub(at(e), "start");
        e.preventDefault();
      },
      { signal },
    );
    this.node.addEventListener("pointermove", (e) => dragging && this.onScrub(at(e), "move"), { signal });
    const end = (e: PointerEvent): void => {
      if (!dragging) return;
      dragging = false;
      this.onScrub(at(e), "end");
    };
    this.node.addEventListener("pointerup", end, { signal });
    this.node.addEventListener("pointercancel", end, { signal });
    const resize = new ResizeObserver((entries) => {
      for (const entry of entries) this.cssWidth = entry.contentRect.width;
      onResize?.();
    });
    resize.observe(this.node);
    signal.addEventListener("abort", () => resize.disconnect(), { once: true });
  }

  update(n: number, current: number, loaded: Uint8Array | null, loadedCount: number): void {
    const thumb = `${n}|${current}`;
    if (thumb !== this.thumbKey) {
      this.thumbKey = thumb;
      const pct = n > 0 ? ((current + 0.5) / n) * 100 : 0;
      this.thumb.style.left = `${pct}%`;
      this.thumb.style.width = `max(3px, ${n > 0 ? 100 / n : 0}%)`;
      setAttr(this.node, "aria-valuemin", "1");
      setAttr(this.node, "aria-valuemax", String(n));
      setAttr(this.node, "aria-valuenow", String(current + 1));
    }
    setAttr(this.node, "data-loaded", String(loadedCount));
    const w = Math.max(1, Math.round(this.cssWidth * (window.devicePixelRatio || 1)));
    const key = `${n}|${loadedCount}|${w}`;
    if (key === this.bandKey || !loaded) return;
    this.bandKey = key;
    // resizing a canvas (even to its own size) clears and reallocates it: only when it changes
    if (this.band.width !== w) this.band.width = w;
    if (this.band.height !== 1) this.band.height = 1;
    const ctx = this.band.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, w, 1);
    ctx.fillStyle = "rgba(160, 200, 255, 0.55)";
    for (const [a, b] of loadedRuns(loaded)) {
      const x0 = (a / n) * w;
      ctx.fillRect(x0, 0, Math.max(1, (b / n) * w - x0), 1);
    }
  }

  reset(): void {
    this.bandKey = "";
    this.thumbKey = "";
  }
}
