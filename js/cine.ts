/**
 * Cine: the plane's slices shown one after the other at the model's `cine` frames per second
 * (0: stopped), looping, with the frameskip. One timer per widget (not per view: two views of
 * one widget would otherwise play at twice the speed); the views give it their way of
 * stepping. A frame waits until the slice shown has arrived, so a series still loading plays
 * as fast as it comes, never over empty slices.
 */

/** Fastest cine (frames per second), as Python's MAX_CINE_FPS. */
export const MAX_CINE_FPS = 60;

/** What a view gives the cine: whether the slice it shows has arrived, and the next step. */
export interface CineView {
  ready(): boolean;
  advance(): void;
}

interface CineModel {
  get(name: "cine"): unknown;
  on(event: "change:cine", callback: () => void): void;
  off(event: "change:cine", callback: () => void): void;
}

/** Frames per second from a model value: 0 for anything that is not a number in range. */
export function cineFps(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.min(value, MAX_CINE_FPS) : 0;
}

/** The next slice of a loop over `n` slices with `frameskip`: past the end, back to the
 * first slice of the grid through `current` (so every loop shows the same slices). */
export function nextCineSlice(current: number, frameskip: number, n: number): number {
  if (n <= 1) return 0;
  const skip = Math.max(1, Math.round(frameskip) || 1);
  const next = current + skip;
  return next <= n - 1 ? next : current % skip;
}

export class Cine {
  private readonly views: CineView[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** the speed the timer was set for */
  private fps = 0;

  constructor(private readonly model: CineModel) {
    model.on("change:cine", this.sync);
  }

  /** Add a view; returns its removal. */
  attach(view: CineView): () => void {
    this.views.push(view);
    this.sync();
    return () => {
      const i = this.views.indexOf(view);
      if (i >= 0) this.views.splice(i, 1);
      this.sync();
    };
  }

  get playing(): boolean {
    return this.timer !== null;
  }

  private readonly sync = (): void => {
    const fps = cineFps(this.model.get("cine"));
    const play = fps > 0 && this.views.length > 0;
    // a new speed applies from now, not after the frame due at the old one
    if (this.timer !== null && (!play || fps !== this.fps)) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (play && this.timer === null) {
      this.fps = fps;
      this.timer = setTimeout(this.tick, 1000 / fps);
    }
  };

  private readonly tick = (): void => {
    this.timer = null;
    const fps = cineFps(this.model.get("cine"));
    const view = this.views[this.views.length - 1];
    if (fps <= 0 || !view) return;
    if (view.ready()) view.advance();
    this.fps = fps;
    this.timer = setTimeout(this.tick, 1000 / fps);
  };

  dispose(): void {
    this.model.off("change:cine", this.sync);
    this.views.length = 0;
    this.sync();
  }
}
