import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Controller, type Model, RELEASE_MS, sharedVolumes, volumeKey } from "./loader";
import type { SeriesInfo } from "./protocol";
import { ctSeriesInfo } from "./fixtures.test-util";

const info: SeriesInfo = ctSeriesInfo([20, 2, 2]);

type Handler = (...args: unknown[]) => void;

/** The part of an anywidget model the controller uses. */
class FakeModel {
  state: Record<string, unknown> = { series_info: info, slice: 10, window: [40, 400] };
  sent: Record<string, unknown>[] = [];
  handlers = new Map<string, Set<Handler>>();
  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    for (const h of this.handlers.get(`change:${key}`) ?? []) h();
  }
  send(content: Record<string, unknown>): void {
    this.sent.push(content);
  }
  on(event: string, h: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(h);
  }
  off(event: string, h: Handler): void {
    this.handlers.get(event)?.delete(h);
  }
  /** A `slices` message from the kernel with these slice indices, each slice 4 int16. */
  deliver(indices: number[], series = "s0", extra: Record<string, unknown> = {}): void {
    const items = indices.map((index) => ({ index, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024 }));
    // one message buffer per item, offset by one byte inside a larger buffer (misaligned)
    const buffers = indices.map((index) => {
      const bytes = new Uint8Array(1 + 8);
      bytes.set(new Uint8Array(new Int16Array([index, index + 1, index + 2, index + 3]).buffer), 1);
      return new DataView(bytes.buffer, 1, 8);
    });
    for (const h of this.handlers.get("msg:custom") ?? []) h({ type: "slices", series, items, ...extra }, buffers);
  }
}

function setup(): { model: FakeModel; controller: Controller; notified: () => number; kinds: boolean[] } {
  const model = new FakeModel();
  const controller = new Controller(model as unknown as Model);
  let count = 0;
  const kinds: boolean[] = [];
  controller.subscribe((progressOnly) => {
    count += 1;
    kinds.push(progressOnly);
  });
  return { model, controller, notified: () => count, kinds };
}

describe("Controller", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks for the current slice first and stores arrived slices", () => {
    const { model, controller } = setup();
    const request = model.sent[0] as { type: string; slices: number[]; hold?: boolean };
    expect(request.type).toBe("get_slices");
    expect(request.slices[0]).toBe(10);
    expect(request.slices).toHaveLength(20);
    expect(request.hold).toBeUndefined(); // the slice shown comes first: the kernel holds
    model.deliver([10, 11]);
    expect(Array.from(controller.volume?.slice(11) ?? [])).toEqual([11, 12, 13, 14]);
    expect(controller.volume?.loadedCount).toBe(2);
    controller.dispose();
  });

  it("keeps a slice that comes before its series' state, and does not ask for it again", () => {
    const model = new FakeModel();
    model.state = { series_info: null, slice: 0, window: [40, 400] };
    const controller = new Controller(model as unknown as Model);
    model.deliver([10]); // the kernel sends the first slice ahead of series_info
    expect(controller.volume).toBeNull();
    expect(model.sent).toEqual([]);
    // the state arrives: slice 10 is there, not acknowledged (the kernel sent it outside
    // flow control), and the order leaves it out
    model.state.slice = 10;
    model.set("series_info", info);
    expect(controller.volume?.loadedCount).toBe(1);
    expect(Array.from(controller.volume?.slice(10) ?? [])).toEqual([10, 11, 12, 13]);
    expect(model.sent).toHaveLength(1);
    const request = model.sent[0] as { type: string; slices: number[] };
    expect(request.type).toBe("get_slices");
    expect(request.slices).toHaveLength(19);
    expect(request.slices).not.toContain(10);
    // the slice shown is here: nothing waits for the first of the order
    expect((request as { hold?: boolean }).hold).toBe(false);
    // later messages for another series are stale as before (not kept for later); the
    // slices asked for are acknowledged as before
    model.deliver([3], "s9");
    expect(controller.volume?.loadedCount).toBe(1);
    model.deliver(request.slices.slice(0, 1));
    expect(model.sent[1]).toEqual({ type: "ack", series: "s0", count: 1 });
    controller.dispose();
  });

  it("keeps at most a few early messages", () => {
    const model = new FakeModel();
    model.state = { series_info: null, slice: 0, window: [40, 400] };
    const controller = new Controller(model as unknown as Model);
    for (let k = 0; k < 10; k++) model.deliver([k]);
    model.set("series_info", info);
    expect(controller.volume?.loadedCount).toBe(4);
    controller.dispose();
  });

  it("tells the views at once about the slice shown, and batches the others while loading", () => {
    const { model, controller, notified } = setup();
    model.deliver([10]); // the slice shown: at once
    expect(notified()).toBe(1);
    model.deliver([11, 9]);
    model.deliver([12]);
    expect(notified()).toBe(1); // not yet
    vi.advanceTimersByTime(150);
    expect(notified()).toBe(2); // one notification for both messages
    vi.advanceTimersByTime(1000);
    expect(notified()).toBe(2);
    controller.dispose();
  });

  it("says which notifications are loading progress only (slices not shown)", () => {
    const { model, controller, kinds } = setup();
    model.deliver([10]); // the slice shown
    model.deliver([11, 9]);
    vi.advanceTimersByTime(150); // batched: progress only
    model.set("slice", 3);
    model.deliver([3]); // the slice now shown: a whole update
    model.deliver([4]);
    vi.advanceTimersByTime(150);
    expect(kinds).toEqual([false, true, false, true]);
    const rest = Array.from({ length: 20 }, (_, k) => k).filter((k) => ![10, 11, 9, 3, 4].includes(k));
    model.deliver(rest); // the last slice: a whole update
    expect(kinds.at(-1)).toBe(false);
    controller.dispose();
  });

  it("notifies at once when the last slice arrives", () => {
    const { model, controller, notified } = setup();
    model.deliver([10]);
    const rest = Array.from({ length: 20 }, (_, k) => k).filter((k) => k !== 10);
    model.deliver(rest.slice(0, 10));
    const before = notified();
    model.deliver(rest.slice(10));
    expect(notified()).toBe(before + 1);
    expect(controller.volume?.loadedCount).toBe(20);
    controller.dispose();
  });

  it("acknowledges as often as the kernel's messages say (its window may be small)", () => {
    const { model, controller } = setup();
    const acks = (): number[] => model.sent.filter((m) => m.type === "ack").map((m) => m.count as number);
    model.deliver([10], "s0", { ack_every: 2 });
    expect(acks()).toEqual([1]);
    model.deliver([11], "s0", { ack_every: 2 });
    expect(acks()).toEqual([1]);
    model.deliver([12], "s0", { ack_every: 2 });
    expect(acks()).toEqual([1, 2]);
    // a malformed value keeps the last one
    model.deliver([13, 14], "s0", { ack_every: 0 });
    expect(acks()).toEqual([1, 2, 2]);
    controller.dispose();
  });

  it("acknowledges the slice shown at once, the others in groups and when complete", () => {
    const { model, controller } = setup();
    const acks = (): number[] => model.sent.filter((m) => m.type === "ack").map((m) => m.count as number);
    model.deliver([10]); // first of the order, the slice shown: the kernel waits for this ack
    expect(acks()).toEqual([1]);
    model.deliver([11, 12]);
    expect(acks()).toEqual([1]);
    model.deliver([13, 14, 15, 16, 17, 9]);
    expect(acks()).toEqual([1, 8]);
    model.deliver([0, 1, 2, 3, 4, 5, 6, 7, 8, 18, 19]);
    expect(acks().reduce((a, b) => a + b, 0)).toBe(20);
    controller.dispose();
  });

  it("counts a large slice sent in bands of rows once, when its last band is in", () => {
    const { model, controller } = setup();
    const acks = (): number[] => model.sent.filter((m) => m.type === "ack").map((m) => m.count as number);
    const band = (rows: [number, number], values: number[]): void => {
      const item = { index: 10, dtype: "int16", shape: [2, 2], slope: 1, intercept: -1024, rows };
      for (const h of model.handlers.get("msg:custom") ?? []) h({ type: "slices", series: "s0", items: [item] }, [new DataView(new Int16Array(values).buffer)]);
    };
    band([1, 2], [7, 8]);
    expect(acks()).toEqual([]);
    expect(controller.volume?.loaded[10]).toBe(0);
    band([0, 1], [5, 6]);
    expect(acks()).toEqual([1]); // the slice shown, now whole
    expect(Array.from(controller.volume?.slice(10) ?? [])).toEqual([5, 6, 7, 8]);
    expect(controller.error).toBe("");
    controller.dispose();
  });

  it("lets the volume go when no view shows it, and loads it again for a new view", () => {
    const { model, controller } = setup();
    model.deliver([10, 11]);
    const later = controller.subscribe(() => {});
    later(); // one of two views goes: the volume stays
    vi.advanceTimersByTime(RELEASE_MS * 2);
    expect(controller.volume?.loadedCount).toBe(2);
    // the last view goes (a cell run again): after RELEASE_MS the 2 slices are let go
    const fresh = new Controller(model as unknown as Model);
    const gone = fresh.subscribe(() => {});
    model.deliver([10]);
    gone();
    vi.advanceTimersByTime(RELEASE_MS - 1);
    expect(fresh.volume?.loadedCount).toBe(1);
    const sentBefore = model.sent.length;
    vi.advanceTimersByTime(1);
    expect(fresh.volume).toBeNull();
    expect(fresh.released).toBe(true);
    expect(model.sent.slice(sentBefore)).toEqual([{ type: "release", series: "s0" }]);
    // slices still on their way are dropped, a new series loads nothing without a view
    model.deliver([12]);
    model.set("series_info", { ...info });
    expect(fresh.volume).toBeNull();
    // shown again: a new volume, asked for around the slice shown
    const before = model.sent.length;
    const back = fresh.subscribe(() => {});
    expect(fresh.volume?.loadedCount).toBe(0);
    expect(model.sent.slice(before).map((m) => m.type)).toEqual(["get_slices"]);
    // a view re-made at once keeps the volume
    model.deliver([10]);
    back();
    vi.advanceTimersByTime(RELEASE_MS / 2);
    const again = fresh.subscribe(() => {});
    vi.advanceTimersByTime(RELEASE_MS * 2);
    expect(fresh.volume?.loadedCount).toBe(1);
    again();
    fresh.dispose();
    controller.dispose();
  });

  it("ignores answers for another series and stops notifying after dispose", () => {
    const { model, controller, notified } = setup();
    model.deliver([10], "other");
    expect(controller.volume?.loadedCount).toBe(0);
    model.deliver([10]);
    expect(notified()).toBe(1);
    model.deliver([11]); // batched
    controller.dispose();
    vi.advanceTimersByTime(500);
    expect(notified()).toBe(1);
  });
});

describe("Controllers of widgets showing the same kernel series", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const shared = (key: string): FakeModel => {
    const m = new FakeModel();
    m.state.series_info = { ...info, volume_key: key };
    return m;
  };

  it("hold one volume: a second widget finds it complete and asks its kernel for nothing", () => {
    const a = shared("k1");
    const ca = new Controller(a as unknown as Model);
    const stopA = ca.subscribe(() => {});
    a.deliver(Array.from({ length: 20 }, (_, i) => i));
    expect(ca.volume?.loadedCount).toBe(20);
    const b = shared("k1");
    const cb = new Controller(b as unknown as Model);
    expect(cb.volume).toBe(ca.volume);
    expect(b.sent.filter((m) => m.type === "get_slices")).toEqual([]);
    // a widget of another series object (another key) has its own
    const c = shared("k2");
    const cc = new Controller(c as unknown as Model);
    expect(cc.volume).not.toBe(ca.volume);
    expect(c.sent.filter((m) => m.type === "get_slices")).toHaveLength(1);
    // the first widget's views go: the volume stays for the second, and goes with it
    stopA();
    vi.advanceTimersByTime(RELEASE_MS + 1);
    expect(ca.volume).toBeNull();
    expect(sharedVolumes().get(volumeKey(b.state.series_info as SeriesInfo) as string)?.volume).toBe(cb.volume);
    cb.dispose();
    expect(sharedVolumes().has(volumeKey(b.state.series_info as SeriesInfo) as string)).toBe(false);
    cc.dispose();
    ca.dispose();
    expect(sharedVolumes().size).toBe(0);
  });

  it("made together, the second follows the first one's loading and asks only for its slice", () => {
    const a = shared("k3");
    const b = shared("k3");
    b.state.slice = 3;
    const ca = new Controller(a as unknown as Model);
    const cb = new Controller(b as unknown as Model);
    let told = 0;
    cb.subscribe(() => (told += 1));
    expect((a.sent[0] as { slices: number[] }).slices).toHaveLength(20);
    expect(b.sent.filter((m) => m.type === "get_slices")).toEqual([{ type: "get_slices", series: "s0", slices: [3] }]);
    // the second one's slice comes from its own kernel (and is acknowledged to it)...
    b.deliver([3]);
    expect(b.sent.filter((m) => m.type === "ack")).toEqual([{ type: "ack", series: "s0", count: 1 }]);
    // ...the rest from the first one's: its views hear of it (its own slice at once)
    told = 0;
    a.deliver([10]);
    const first = ca.volume?.slice(10);
    expect(cb.volume?.loaded[10]).toBe(1);
    vi.advanceTimersByTime(200);
    expect(told).toBeGreaterThan(0);
    // a copy that arrives again keeps the first one, counted once
    b.deliver([10]);
    expect(cb.volume?.slice(10)).toBe(first);
    expect(cb.volume?.loadedCount).toBe(2);
    // scrolled to a slice not arrived: the second one asks for that slice alone
    b.set("slice", 17);
    vi.advanceTimersByTime(50);
    expect(b.sent.filter((m) => m.type === "get_slices").at(-1)).toEqual({ type: "get_slices", series: "s0", slices: [17] });
    // the first one goes before the end: the second asks its kernel for everything missing
    ca.dispose();
    const rest = b.sent.filter((m) => m.type === "get_slices").at(-1) as { slices: number[] };
    expect(rest.slices).toHaveLength(18); // all but 3 and 10, from where it is (17)
    expect(rest.slices[0]).toBe(17);
    cb.dispose();
    expect(sharedVolumes().size).toBe(0);
  });

  it("a series info without a key keeps a volume of its own", () => {
    const { controller } = setup();
    expect(sharedVolumes().size).toBe(0);
    expect(controller.volume).not.toBeNull();
    controller.dispose();
  });
});
