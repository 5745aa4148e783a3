/**
 * Per-model loading: keeps the page's copy of the series (a `Volume`), asks the kernel for
 * every slice in priority order (current slice, coarse pass, then nearest first), stores what
 * arrives and tells the views. When the user moves to a slice that has not arrived, the
 * remaining order is sent again around the new position (the kernel replaces its queue).
 */
import type { AnyModel } from "@anywidget/types";
import type { SeriesInfo, SliceMsg } from "./protocol";
import { parseKernelMsg, parseSlicesMsg } from "./protocol";
import { Volume, priorityOrder } from "./volume";

export interface WidgetState {
  series_info: SeriesInfo | null;
  slice: number;
  window: [number, number];
}

export type Model = AnyModel<WidgetState>;

/** A coarse pass asks for about this many evenly spread slices first. */
const COARSE_SLICES = 16;
/** Re-prioritisation waits this long after the last jump (scrubbing sends one request). */
const REPRIORITISE_MS = 30;
/** Acknowledge received slices in groups of this many (the kernel sends a window ahead). */
const ACK_EVERY = 8;

export class Controller {
  volume: Volume | null = null;
  error = "";
  /** Slice the kernel's current order was built around. */
  private orderedAround = -1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Slice answers received and not yet acknowledged to the kernel. */
  private unacked = 0;
  private readonly views = new Set<() => void>();

  constructor(private readonly model: Model) {
    model.on("msg:custom", this.onMessage);
    model.on("change:series_info", this.onSeriesInfo);
    model.on("change:slice", this.onSlice);
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
    this.error = "";
    this.orderedAround = -1;
    this.unacked = 0;
    this.requestAround(this.model.get("slice"));
    this.notify();
  };

  private requestAround(current: number): void {
    const volume = this.volume;
    if (!volume || volume.loadedCount === volume.slices) return;
    const step = Math.max(1, Math.floor(volume.slices / COARSE_SLICES));
    const order = priorityOrder(volume.slices, current, volume.loaded, step);
    if (order.length === 0) return;
    this.orderedAround = current;
    this.model.send({ type: "get_slices", series: volume.info.id, slices: order });
  }

  private readonly onSlice = (): void => {
    const volume = this.volume;
    const k = this.model.get("slice");
    if (!volume || volume.loaded[k] || k === this.orderedAround) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.model.get("slice");
      if (this.volume === volume && !volume.loaded[now]) this.requestAround(now);
    }, REPRIORITISE_MS);
  };

  private readonly onMessage = (raw: unknown, buffers: DataView[]): void => {
    const batch = parseSlicesMsg(raw);
    if (batch !== null) {
      const volume = this.volume;
      if (!volume || (raw as { series: string }).series !== volume.info.id) return; // stale
      batch.forEach((item, i) => {
        if (item === null) {
          this.error = `a slice answer (item ${i}) was malformed`;
          this.received();
        } else this.receiveSlice(item, [buffers[i] as DataView]);
      });
      return;
    }
    const msg = parseKernelMsg(raw);
    if (msg === null) return; // not ours (or malformed): ignore, never throw in a listener
    if (msg.type === "error") {
      this.error = msg.message;
      if (msg.index !== undefined) this.received();
      this.notify();
      return;
    }
    this.receiveSlice(msg, buffers);
  };

  /** Count one slice answer; acknowledge a group of them so the kernel sends more. */
  private received(): void {
    const volume = this.volume;
    if (!volume) return;
    this.unacked += 1;
    const complete = volume.loadedCount === volume.slices;
    if (this.unacked >= ACK_EVERY || complete) {
      this.model.send({ type: "ack", series: volume.info.id, count: this.unacked });
      this.unacked = 0;
    }
  }

  private receiveSlice(msg: SliceMsg, buffers: DataView[]): void {
    const volume = this.volume;
    const buffer = buffers[0];
    if (!volume || msg.series !== volume.info.id) return; // stale answer for a replaced series
    try {
      if (!buffer) throw new Error(`slice ${msg.index} arrived without pixel data`);
      volume.put(msg, buffer);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.received();
    this.notify();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:series_info", this.onSeriesInfo);
    this.model.off("change:slice", this.onSlice);
    this.views.clear();
  }
}
