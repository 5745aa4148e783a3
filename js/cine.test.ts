import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Cine, MAX_CINE_FPS, cineFps, nextCineSlice } from "./cine";

class FakeModel {
  value: unknown = 0;
  private readonly handlers = new Set<() => void>();
  get(): unknown {
    return this.value;
  }
  set(v: unknown): void {
    this.value = v;
    for (const h of this.handlers) h();
  }
  on(_: "change:cine", h: () => void): void {
    this.handlers.add(h);
  }
  off(_: "change:cine", h: () => void): void {
    this.handlers.delete(h);
  }
  get listeners(): number {
    return this.handlers.size;
  }
}

describe("cine", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reads the model's speed, refusing what is not one", () => {
    expect([cineFps(10), cineFps(0), cineFps(-3), cineFps(Number.NaN), cineFps("10"), cineFps(null), cineFps(500)]).toEqual([10, 0, 0, 0, 0, 0, MAX_CINE_FPS]);
  });

  it("loops over the plane's slices on the frameskip's grid", () => {
    expect([0, 1, 2, 3].map((k) => nextCineSlice(k, 1, 4))).toEqual([1, 2, 3, 0]);
    // every 3rd slice through slice 4 of 10: 4, 7, then back to 1 (4 % 3), 4, 7 ...
    expect(nextCineSlice(4, 3, 10)).toBe(7);
    expect(nextCineSlice(7, 3, 10)).toBe(1);
    expect(nextCineSlice(0, 1, 1)).toBe(0);
  });

  it("plays at the model's speed, once per widget whatever its views, waiting for slices", () => {
    const model = new FakeModel();
    const cine = new Cine(model);
    const a = { ready: vi.fn(() => true), advance: vi.fn() };
    const b = { ready: vi.fn(() => true), advance: vi.fn() };
    const detachA = cine.attach(a);
    const detachB = cine.attach(b);
    vi.advanceTimersByTime(1000);
    expect(a.advance).not.toHaveBeenCalled(); // stopped
    model.set(10);
    vi.advanceTimersByTime(1000);
    // ten frames in a second, by one view (two views do not play twice as fast)
    expect(a.advance.mock.calls.length + b.advance.mock.calls.length).toBe(10);
    // the slice shown has not arrived: the frame waits
    b.ready.mockReturnValue(false);
    a.ready.mockReturnValue(false);
    vi.advanceTimersByTime(500);
    expect(a.advance.mock.calls.length + b.advance.mock.calls.length).toBe(10);
    b.ready.mockReturnValue(true);
    a.ready.mockReturnValue(true);
    model.set(20);
    vi.advanceTimersByTime(500);
    expect(a.advance.mock.calls.length + b.advance.mock.calls.length).toBe(20);
    // the views go: it stops; one comes back: it plays again
    detachB();
    detachA();
    expect(cine.playing).toBe(false);
    const before = a.advance.mock.calls.length;
    vi.advanceTimersByTime(1000);
    expect(a.advance.mock.calls.length).toBe(before);
    const detach = cine.attach(a);
    expect(cine.playing).toBe(true);
    model.set(0);
    expect(cine.playing).toBe(false);
    detach();
    cine.dispose();
    expect(model.listeners).toBe(0);
  });
});
