/**
 * Per-model loading: keeps the page's copy of the series (a `Volume`), asks the kernel for
 * slices nearest to the current one first, stores what arrives and tells the views.
 */
import type { AnyModel } from "@anywidget/types";
import type { SeriesInfo, SliceMsg } from "./protocol";
import { parseKernelMsg } from "./protocol";
import { Volume, nextRequests } from "./volume";

export interface WidgetState {
  series_info: SeriesInfo | null;
  slice: number;
  window: [number, number];
}

export type Model = AnyModel<WidgetState>;

/** Slices asked for per request, and at most this many unanswered at once. */
const BATCH = 4;
const MAX_IN_FLIGHT = 16;

/** Per-model state: the volume, what has been requested, and the views to repaint. */
export class Controller {
  volume: Volume | null = null;
  requested = new Uint8Array(0);
  inFlight = 0;
  error = "";
  private readonly views = new Set<() => void>();

  constructor(private readonly model: Model) {
    model.on("msg:custom", this.onMessage);
    model.on("change:series_info", this.onSeriesInfo);
    model.on("change:slice", this.pump);
    this.onSeriesInfo();
  }

  subscribe(view: () => void): () => void {
    this.views.add(view);
    return () => this.views.delete(view);
  }

  private notify(): void {
    for (const view of this.views) view();
  }

  private readonly onSeriesInfo = (): void => {
    const info = this.model.get("series_info");
    this.volume = info ? new Volume(info) : null;
    this.requested = new Uint8Array(info ? info.shape[0] : 0);
    this.inFlight = 0;
    this.pump();
    this.notify();
  };

  /** Ask for the slices nearest to the current one while few requests are outstanding. */
  readonly pump = (): void => {
    const volume = this.volume;
    if (!volume) return;
    while (this.inFlight < MAX_IN_FLIGHT) {
      const next = nextRequests(volume.slices, this.model.get("slice"), this.requested, BATCH);
      if (next.length === 0) return;
      for (const k of next) this.requested[k] = 1;
      this.inFlight += next.length;
      this.model.send({ type: "get_slices", series: volume.info.id, slices: next });
    }
  };

  private readonly onMessage = (raw: unknown, buffers: DataView[]): void => {
    const msg = parseKernelMsg(raw);
    if (msg === null) return; // not ours (or malformed): ignore, never throw in a listener
    if (msg.type === "error") {
      this.error = msg.message;
      this.notify();
      return;
    }
    this.receiveSlice(msg, buffers);
  };

  private receiveSlice(msg: SliceMsg, buffers: DataView[]): void {
    const volume = this.volume;
    const buffer = buffers[0];
    if (!volume || msg.series !== volume.info.id) return; // stale answer for a replaced series
    this.inFlight = Math.max(0, this.inFlight - 1);
    try {
      if (!buffer) throw new Error(`slice ${msg.index} arrived without pixel data`);
      volume.put(msg, buffer);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.pump();
    this.notify();
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:series_info", this.onSeriesInfo);
    this.model.off("change:slice", this.pump);
    this.views.clear();
  }
}

