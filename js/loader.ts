/**
 * Per-model loading: keeps the page's copy of the series (a `Volume`), asks the kernel for
 * every slice in priority order (current slice, coarse pass, then nearest first), stores what
 * arrives and tells the views. When the user moves to a slice that has not arrived, the
 * remaining order is sent again around the new position (the kernel replaces its queue).
 */
import type { AnyModel } from "@anywidget/types";
import type { SeriesInfo, SliceMsg } from "./protocol";
import { ackEveryOf, parseKernelMsg, parseSlicesMsg } from "./protocol";
import { Volume, priorityOrder } from "./volume";

export interface WidgetState {
  series_info: SeriesInfo | null;
  slice: number;
  window: [number, number];
  /** the plane shown ("axial": the series' own slices) */
  plane?: string;
  /** (column, row, slice) where the planes cross */
  crosshair?: [number, number, number];
}

/** The series' own slice being looked at: the slice shown, or on a reformat the crosshair's
 * (loading starts around it, and its DICOM header is the one shown). */
export function ownSlice(model: { get<K extends keyof WidgetState>(key: K): WidgetState[K] }): number {
  const plane = model.get("plane") ?? "axial";
  if (plane === "axial") return model.get("slice");
  const k = model.get("crosshair")?.[2];
  return typeof k === "number" && Number.isFinite(k) ? k : 0;
}

export type Model = AnyModel<WidgetState>;

/** The model's event methods for an event that is not a trait change or a message. */
interface EventModel {
  on(event: string, callback: () => void): void;
  off(event: string, callback: () => void): void;
}

/** A coarse pass asks for about this many evenly spread slices first. */
const COARSE_SLICES = 16;
/** Re-prioritisation waits this long after the last jump (scrubbing sends one request). */
const REPRIORITISE_MS = 30;
/** Acknowledge received slices in groups of this many, unless the kernel's `slices` messages
 * say otherwise (`ack_every`: half its window of unacknowledged slices, fewer for large
 * slices; acknowledging less often than that would stop loading). */
const ACK_EVERY = 8;
/**
 * While loading, slices the view does not show tell the views at most this often (the slice
 * bar and status catch up); each notification costs the page a frame (controls, layout,
 * paint) that would otherwise delay receiving the next slices. The slice shown, errors and
 * the last slice are told at once.
 */
const LOADING_NOTIFY_MS = 100;
/**
 * A widget no view shows (its cell was run again, its output cleared, its notebook closed)
 * lets its volume go after this long: re-running a cell that opens a series made a new
 * widget, and the old one's volume (157 MB for 300 slices of 512 x 512) stayed in the page
 * until the kernel restarted. A view shown again (the same widget displayed anew) asks for
 * the slices again. The delay covers a view being re-made at once.
 */
export const RELEASE_MS = 5000;

/** Slice messages kept while the model has no series yet (the kernel sends one). */
export const EARLY_MESSAGES = 4;

/** One volume the page holds for a series (the kernel's `volume_key`): the widgets'
 * controllers that hold it, and those whose kernel is sending it (at most one, see
 * Controller.requestAround). */
interface SharedVolume {
  volume: Volume;
  holders: Set<Controller>;
  loading: Set<Controller>;
}

/**
 * The page's volumes by key: on `globalThis`, because each widget may get its own instance of
 * this module. Widgets showing the same kernel `Series` (e.g. two planes side by side) hold
 * one copy of its pixels: 157 MB for 300 slices of 512 x 512, not one per widget. Only the
 * pixels are shared (they never change once arrived); every widget keeps its own state,
 * requests and acknowledgements. A widget that finds the volume complete asks its kernel for
 * nothing; one that finds another widget's kernel sending it follows that loading (asking its
 * own kernel for the slice it shows only), and takes it over if that widget goes first.
 */
export function sharedVolumes(): Map<string, SharedVolume> {
  const g = globalThis as unknown as { __dawVolumes?: unknown };
  if (!(g.__dawVolumes instanceof Map)) g.__dawVolumes = new Map<string, SharedVolume>();
  return g.__dawVolumes as Map<string, SharedVolume>;
}

/** The key of a series' volume in `sharedVolumes` (null: not shared). */
export function volumeKey(info: SeriesInfo): string | null {
  if (typeof info.volume_key !== "string" || info.volume_key === "") return null;
  return [info.volume_key, info.id, info.shape.join("x"), info.dtype, info.samples_per_pixel].join("|");
}

export class Controller {
  volume: Volume | null = null;
  /** the key of the shared volume held (null: none, or one of its own) */
  private heldKey: string | null = null;
  /** Another widget's kernel is sending the shared volume: its arrivals are told to this
   * one's views (`onArrive`), and this one asks its kernel for the slice it shows only. */
  private following = false;
  error = "";
  /** Slices of the volume held that the kernel could not read (index -> its message): the
   * view says so rather than waiting for them. */
  readonly failed = new Map<number, string>();
  /** Errors reported so far: a view hides a dismissed error until the next one, even when
   * the next one has the same text. */
  errorCount = 0;
  /** Slice the kernel's current order was built around, and the first slice of that order. */
  private orderedAround = -1;
  private firstOfOrder = -1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  /** Slice messages that arrived before the model had its series_info (see onMessage). */
  private early: Array<[unknown, DataView[]]> = [];
  /** Those are being stored (they are not acknowledged: the kernel sent them unasked). */
  private replaying = false;
  /** Slice answers received and not yet acknowledged to the kernel. */
  private unacked = 0;
  /** Acknowledge at least every this many slice answers (the kernel's latest `ack_every`). */
  private ackEvery = ACK_EVERY;
  /** A message to the kernel could not be sent: the kernel restarted or shut down, and this
   * widget's model lost its connection (running the cell again makes a new one). */
  sendFailed = false;
  /** Views to tell of changes; `progressOnly`: only slices not shown arrived since. */
  private readonly views = new Set<(progressOnly: boolean) => void>();
  private releaseTimer: ReturnType<typeof setTimeout> | null = null;
  /** The volume was let go (no view for RELEASE_MS): the next view loads it again. */
  released = false;

  constructor(private readonly model: Model) {
    model.on("msg:custom", this.onMessage);
    model.on("change:series_info", this.onSeriesInfo);
    model.on("change:slice", this.onSlice);
    model.on("change:crosshair", this.onSlice);
    model.on("change:plane", this.onSlice);
    // ipywidgets tells a model that its kernel connection changed (the kernel restarting or
    // shutting down; the view itself is not marked): check at once whether messages still
    // go, rather than when the user's next edit is refused (QA: a restarted kernel's widget
    // looked live until then)
    (model as unknown as EventModel).on("comm_live_update", this.onCommLive);
    this.onSeriesInfo();
  }

  private readonly onCommLive = (): void => {
    this.send({ type: "ping" });
  };

  private fail(message: string): void {
    this.error = message;
    this.errorCount += 1;
  }

  /** Send a message to the kernel; false (`sendFailed` set, views told) when it cannot go. */
  send(content: Record<string, unknown>): boolean {
    try {
      this.model.send(content);
      return true;
    } catch {
      if (!this.sendFailed) {
        this.sendFailed = true;
        this.notify();
      }
      return false;
    }
  }

  /** Add a view; returns its removal. The last view's removal lets the volume go after
   * RELEASE_MS (see there); a view added after that loads it again. */
  subscribe(view: (progressOnly: boolean) => void): () => void {
    this.views.add(view);
    if (this.releaseTimer !== null) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = null;
    }
    if (this.released) {
      this.released = false;
      this.onSeriesInfo();
    }
    return () => {
      if (!this.views.delete(view) || this.views.size > 0 || this.releaseTimer !== null) return;
      this.releaseTimer = setTimeout(() => this.release(), RELEASE_MS);
    };
  }

  private release(): void {
    this.releaseTimer = null;
    if (this.views.size > 0) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // the kernel stops sending, and lets go of the pixels it decoded for this widget
    if (this.volume) this.send({ type: "release", series: this.volume.info.id });
    this.volume = null;
    this.letGo();
    this.released = true;
    this.orderedAround = -1;
    this.unacked = 0;
  }

  private notify(progressOnly = false): void {
    if (this.notifyTimer !== null) {
      clearTimeout(this.notifyTimer);
      this.notifyTimer = null;
    }
    for (const view of this.views) view(progressOnly);
  }

  /** Notify soon (at most every LOADING_NOTIFY_MS) rather than now. */
  private notifyLater(): void {
    if (this.notifyTimer !== null) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this.notify(true);
    }, LOADING_NOTIFY_MS);
  }

  private readonly onSeriesInfo = (): void => {
    if (this.released) return; // no view: nothing to load for (the next view loads it)
    const info = this.model.get("series_info");
    this.letGo();
    this.volume = info ? this.hold(info) : null;
    this.error = "";
    this.failed.clear();
    this.orderedAround = -1;
    this.unacked = 0;
    this.ackEvery = ACK_EVERY;
    // slices that came before their series' state: stored now, and not asked for again
    const early = this.early;
    this.early = [];
    this.replaying = true;
    try {
      for (const [raw, buffers] of early) this.onMessage(raw, buffers);
    } finally {
      this.replaying = false;
    }
    this.requestAround(ownSlice(this.model));
    this.notify();
  };

  /** The volume for `info`: the page's shared one for its key (made if new), else its own. */
  private hold(info: SeriesInfo): Volume {
    const key = volumeKey(info);
    if (key === null) return new Volume(info);
    const volumes = sharedVolumes();
    let entry = volumes.get(key);
    if (!entry) {
      entry = { volume: new Volume(info), holders: new Set(), loading: new Set() };
      volumes.set(key, entry);
    }
    entry.holders.add(this);
    this.heldKey = key;
    return entry.volume;
  }

  private shared(): SharedVolume | undefined {
    return this.heldKey === null ? undefined : sharedVolumes().get(this.heldKey);
  }

  /** Stop holding the shared volume: the last holder's going lets the page drop it; a holder
   * that was following this one's loading takes it over. */
  private letGo(): void {
    const entry = this.shared();
    this.stopFollowing();
    this.heldKey = null;
    if (!entry) return;
    entry.holders.delete(this);
    const wasLoading = entry.loading.delete(this);
    if (entry.holders.size === 0) {
      sharedVolumes().delete(volumeKey(entry.volume.info) as string);
      return;
    }
    if (wasLoading && entry.loading.size === 0) {
      for (const other of entry.holders) other.takeOver();
    }
  }

  /** The widget whose kernel was sending the shared volume went: ask this one's kernel for
   * the rest. */
  private takeOver(): void {
    if (!this.following) return;
    this.stopFollowing();
    this.orderedAround = -1;
    this.requestAround(ownSlice(this.model));
  }

  private stopFollowing(): void {
    if (!this.following) return;
    this.following = false;
    this.volume?.arrivals.delete(this.onArrive);
  }

  /** A slice another widget's kernel sent arrived in the shared volume. */
  private readonly onArrive = (index: number): void => {
    const volume = this.volume;
    if (!volume) return;
    if (index === ownSlice(this.model) || volume.loadedCount === volume.slices) this.notify();
    else this.notifyLater();
  };

  private requestAround(current: number): void {
    const volume = this.volume;
    if (!volume || volume.loadedCount === volume.slices) return;
    const entry = this.shared();
    if (entry && [...entry.loading].some((c) => c !== this)) {
      // another widget's kernel is sending this volume: follow it, and ask this one's kernel
      // only for the slice shown here (which may be far from where the other one loads)
      if (!this.following) {
        this.following = true;
        volume.arrivals.add(this.onArrive);
      }
      this.orderedAround = current;
      if (volume.loaded[current]) return;
      if (this.send({ type: "get_slices", series: volume.info.id, slices: [current] })) this.firstOfOrder = current;
      return;
    }
    const step = Math.max(1, Math.floor(volume.slices / COARSE_SLICES));
    const order = priorityOrder(volume.slices, current, volume.loaded, step);
    if (order.length === 0) return;
    this.orderedAround = current;
    // the slice shown already here (the kernel sent it unasked): nothing waits for the first
    // of the order, which the kernel then need not send alone and hold
    const hold = order[0] === current;
    if (!this.send({ type: "get_slices", series: volume.info.id, slices: order, ...(hold ? {} : { hold: false }) })) return;
    this.firstOfOrder = order[0] as number;
    entry?.loading.add(this);
  }

  private readonly onSlice = (): void => {
    const volume = this.volume;
    const k = ownSlice(this.model);
    if (!volume || volume.loaded[k] || k === this.orderedAround) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = ownSlice(this.model);
      if (this.volume === volume && !volume.loaded[now]) this.requestAround(now);
    }, REPRIORITISE_MS);
  };

  private readonly onMessage = (raw: unknown, buffers: DataView[]): void => {
    const batch = parseSlicesMsg(raw);
    if (batch !== null) {
      const volume = this.volume;
      if (!volume && !this.released && !this.model.get("series_info")) {
        // the kernel sends the first slice ahead of the state that describes it: kept for
        // onSeriesInfo (a few messages at most)
        if (this.early.length < EARLY_MESSAGES) this.early.push([raw, buffers]);
        return;
      }
      if (!volume || (raw as { series: string }).series !== volume.info.id) return; // stale
      this.ackEvery = ackEveryOf(raw) ?? this.ackEvery;
      let now = false;
      batch.forEach((item, i) => {
        if (item === null) {
          this.fail(`a slice answer (item ${i}) was malformed`);
          this.received();
          now = true;
        } else if (this.store(item, buffers[i])) now = true;
      });
      if (now) this.notify();
      else this.notifyLater();
      return;
    }
    const msg = parseKernelMsg(raw);
    if (msg === null) return; // not ours (or malformed): ignore, never throw in a listener
    if (msg.type === "error") {
      if (msg.notice) return; // the view shows it as a toast
      this.fail(msg.message);
      if (msg.index !== undefined) {
        this.failed.set(msg.index, msg.message);
        this.received();
      }
      this.notify();
      return;
    }
    this.receiveSlice(msg, buffers);
  };

  /**
   * Count one slice answer; acknowledge a group of them so the kernel sends more. `now`
   * acknowledges at once: the kernel holds the rest of a request back until the first slice
   * (the one shown) is acknowledged, so that the page can paint it before the next megabytes.
   */
  private received(now = false): void {
    const volume = this.volume;
    if (!volume) return;
    const complete = volume.loadedCount === volume.slices;
    if (complete) this.shared()?.loading.delete(this);
    if (this.replaying) return; // sent unasked, outside flow control: nothing to acknowledge
    this.unacked += 1;
    if (now || this.unacked >= this.ackEvery || complete) {
      this.send({ type: "ack", series: volume.info.id, count: this.unacked });
      this.unacked = 0;
    }
  }

  private receiveSlice(msg: SliceMsg, buffers: DataView[]): void {
    if (this.store(msg, buffers[0])) this.notify();
    else this.notifyLater();
  }

  /**
   * Store one arrived slice and count it. Returns whether the views should hear of it now
   * (the slice shown, the first or last slice, an error) rather than with the next batch.
   */
  private store(msg: SliceMsg, buffer: DataView | undefined): boolean {
    const volume = this.volume;
    if (!volume || msg.series !== volume.info.id) return false; // stale answer for a replaced series
    const hadError = this.error;
    try {
      if (!buffer) throw new Error(`slice ${msg.index} arrived without pixel data`);
      if (!volume.put(msg, buffer)) return false; // a band of a large slice: more to come
      this.failed.delete(msg.index); // (read on a later try)
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
    }
    const shown = msg.index === ownSlice(this.model) || msg.index === this.firstOfOrder;
    this.received(shown);
    return (
      this.error !== hadError ||
      shown ||
      volume.loadedCount <= 1 ||
      volume.loadedCount === volume.slices
    );
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:series_info", this.onSeriesInfo);
    this.model.off("change:slice", this.onSlice);
    this.model.off("change:crosshair", this.onSlice);
    this.model.off("change:plane", this.onSlice);
    (this.model as unknown as EventModel).off("comm_live_update", this.onCommLive);
    this.views.clear();
    this.volume = null;
    this.letGo();
  }
}
