import { describe, expect, it } from "vitest";
import { clipBand, isAccel, keyLetter, toastDuration, toastPlacement } from "./dom";

const key = (k: string, code: string, mods: Partial<KeyboardEvent> = {}): KeyboardEvent =>
  ({ key: k, code, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods }) as KeyboardEvent;

describe("keyLetter / isAccel", () => {
  it("takes the typed Latin letter, else the US position's letter", () => {
    expect(keyLetter(key("z", "KeyZ"))).toBe("z");
    expect(keyLetter(key("Z", "KeyZ"))).toBe("z");
    expect(keyLetter(key("z", "KeyW"))).toBe("z"); // AZERTY: the z is where W is on US
    expect(keyLetter(key("я", "KeyZ"))).toBe("z"); // Cyrillic
    expect(keyLetter(key("Enter", "Enter"))).toBe("enter");
  });
  it("matches ctrl or cmd with the letter, shift as asked, never alt", () => {
    expect(isAccel(key("z", "KeyZ", { ctrlKey: true }), "z")).toBe(true);
    expect(isAccel(key("z", "KeyZ", { metaKey: true }), "z")).toBe(true);
    expect(isAccel(key("z", "KeyZ"), "z")).toBe(false);
    expect(isAccel(key("Z", "KeyZ", { ctrlKey: true, shiftKey: true }), "z")).toBe(false);
    expect(isAccel(key("Z", "KeyZ", { ctrlKey: true, shiftKey: true }), "z", true)).toBe(true);
    expect(isAccel(key("z", "KeyZ", { ctrlKey: true, altKey: true }), "z")).toBe(false);
    expect(isAccel(key("с", "KeyC", { ctrlKey: true }), "c")).toBe(true);
  });
});

const rect = (left: number, top: number, width: number, height: number): DOMRectReadOnly =>
  ({ left, top, width, height, right: left + width, bottom: top + height, x: left, y: top }) as DOMRectReadOnly;

describe("clipBand", () => {
  const box = (overflowY: string, top: number, bottom: number, width = 800) => ({ overflowY, top, bottom, width, height: bottom - top });
  it("cuts the window by every ancestor that clips", () => {
    expect(clipBand([box("auto", 60, 910), box("visible", -500, 5000), box("auto", 91, 970)], 1000)).toEqual({ top: 91, bottom: 910 });
  });
  it("leaves out an ancestor of no size (JupyterLab's 0 px high jp-ThemedContainer)", () => {
    // QA: the band came out as 91..0, empty, and toasts went over the tool bar
    expect(clipBand([box("auto", 91, 970), box("hidden", 0, 0), box("hidden", 0, 1000, 0)], 1000)).toEqual({ top: 91, bottom: 970 });
  });
});

describe("toastPlacement", () => {
  // a narrow widget: toolbar 40 px, image 400 px, objects panel below it
  const root = rect(100, 1000, 400, 900);
  const image = rect(100, 1040, 400, 400);

  it("puts the toast near the top of the image when the image is on screen", () => {
    expect(toastPlacement(root, image, { top: 0, bottom: 2000 })).toEqual({ top: 48, left: 200 });
  });

  it("follows the top of the image's visible part when its top is scrolled away", () => {
    expect(toastPlacement(root, image, { top: 1200, bottom: 2000 })).toEqual({ top: 208, left: 200 });
  });

  it("goes to the top of the visible panel when the image is scrolled out of view", () => {
    // only 20 px of the image left on screen: the user looks at the panel below it
    expect(toastPlacement(root, image, { top: 1420, bottom: 2000 })).toEqual({ top: 428, left: 200 });
  });

  it("stays inside the widget when the widget is nearly off screen", () => {
    expect(toastPlacement(root, image, { top: 1890, bottom: 2500 }).top).toBe(868);
    expect(toastPlacement(root, image, { top: 0, bottom: 1020 }).top).toBe(8);
  });
});

describe("toastDuration", () => {
  it("gives a short toast 1.6 s and a long one time to read it, at most 8 s", () => {
    expect(toastDuration("Copied #1")).toBe(1600);
    const dropped = 'The answer to "Malignancy" went with the old class (ctrl+z brings it back)';
    expect(toastDuration(dropped)).toBeGreaterThanOrEqual(4000);
    expect(toastDuration("x".repeat(500))).toBe(8000);
  });
});
