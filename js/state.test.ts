import { describe, expect, it } from "vitest";
import { clampSlice, deletePreset, loadPresets, parseFrameskip, presetKey, presetsEvent, savePreset, snapSlice, stepSlice } from "./state";
import { WheelAccumulator, dragAction, wheelPixels } from "./tools/navigation";

class MemoryStore {
  data = new Map<string, string>();
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
}

describe("slice stepping with a frameskip", () => {
  it("steps by the interval and clamps at both ends", () => {
    expect(stepSlice(10, 1, 1, 20)).toBe(11);
    expect(stepSlice(10, 1, 5, 20)).toBe(15);
    expect(stepSlice(10, -1, 5, 20)).toBe(5);
    expect(stepSlice(18, 1, 5, 20)).toBe(19);
    expect(stepSlice(2, -1, 5, 20)).toBe(0);
    expect(stepSlice(4, 3, 2, 20)).toBe(10);
    expect(stepSlice(4, 1, 0, 20)).toBe(5); // a bad interval counts as 1
  });
  it("snaps scrub targets to the interval grid through the anchor", () => {
    expect(snapSlice(3, 9, 5, 20)).toBe(8);
    expect(snapSlice(3, 11, 5, 20)).toBe(13);
    expect(snapSlice(3, 19, 5, 20)).toBe(18);
    expect(snapSlice(3, 0, 5, 20)).toBe(3);
    expect(snapSlice(7, 0, 5, 20)).toBe(2);
    expect(snapSlice(3, 7, 1, 20)).toBe(7);
  });
  it("clamps slices", () => {
    expect(clampSlice(-3, 5)).toBe(0);
    expect(clampSlice(7.6, 5)).toBe(4);
    expect(clampSlice(Number.NaN, 5)).toBe(0);
  });
  it("parses custom intervals", () => {
    expect(parseFrameskip("3", 20)).toBe(3);
    expect(parseFrameskip(" 50 ", 20)).toBe(19);
    expect(parseFrameskip("0", 20)).toBeNull();
    expect(parseFrameskip("2.5", 20)).toBeNull();
    expect(parseFrameskip("x", 20)).toBeNull();
  });
});

describe("wheel", () => {
  it("moves one slice per mouse notch", () => {
    const w = new WheelAccumulator();
    expect(w.push(100)).toBe(1);
    expect(w.push(-120)).toBe(-1);
    expect(w.push(53)).toBe(1);
  });
  it("accumulates small trackpad deltas", () => {
    const w = new WheelAccumulator();
    const steps = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4].map((d) => w.push(d));
    expect(steps.reduce((a, b) => a + b, 0)).toBe(1);
    expect(w.push(-3)).toBe(0); // a direction change starts over
  });
  it("converts line and page deltas to pixels", () => {
    expect(wheelPixels(3, 1, 500)).toBe(48);
    expect(wheelPixels(1, 2, 500)).toBe(500);
    expect(wheelPixels(7, 0, 500)).toBe(7);
  });
});

describe("drag actions", () => {
  it("maps buttons and modifiers", () => {
    expect(dragAction(0, false, "none")).toBe("none");
    expect(dragAction(0, true, "none")).toBe("pan");
    expect(dragAction(1, false, "none")).toBe("pan");
    expect(dragAction(2, false, "none")).toBe("window");
    expect(dragAction(0, false, "window")).toBe("window");
    expect(dragAction(0, true, "window")).toBe("pan");
  });
});

describe("custom window presets", () => {
  it("are saved per modality and survive a reload", () => {
    const store = new MemoryStore();
    savePreset(store, "CT", { name: "my liver", center: 60, width: 160 });
    savePreset(store, "CT", { name: "wide", center: 0, width: 2000 });
    savePreset(store, "CT", { name: "my liver", center: 70, width: 150 });
    expect(loadPresets(store, "CT")).toEqual([
      { name: "wide", center: 0, width: 2000 },
      { name: "my liver", center: 70, width: 150 },
    ]);
    expect(loadPresets(store, "MR")).toEqual([]);
    expect(deletePreset(store, "CT", "wide")).toHaveLength(1);
  });
  it("refuse bad input and ignore corrupt storage", () => {
    const store = new MemoryStore();
    expect(() => savePreset(store, "CT", { name: " ", center: 1, width: 1 })).toThrow(/name/);
    expect(() => savePreset(store, "CT", { name: "x", center: 1, width: 0 })).toThrow(/positive/);
    store.setItem("dicom_annot_widget:window-presets:CT", "{not json");
    expect(loadPresets(store, "CT")).toEqual([]);
    store.setItem("dicom_annot_widget:window-presets:CT", '[{"name":"a","center":1,"width":-1},{"name":"b","center":1,"width":2}]');
    expect(loadPresets(store, "CT")).toEqual([{ name: "b", center: 1, width: 2 }]);
    expect(loadPresets(null, "CT")).toEqual([]);
  });
});

describe("presetsEvent (another page saved or deleted a preset)", () => {
  it("answers for the presets' keys and a cleared storage only", () => {
    expect(presetsEvent(presetKey("CT"))).toBe(true);
    expect(presetsEvent(presetKey(""))).toBe(true);
    expect(presetsEvent(null)).toBe(true); // localStorage.clear()
    expect(presetsEvent("jupyterlab:settings")).toBe(false);
  });
});
