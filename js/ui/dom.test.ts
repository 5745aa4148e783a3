import { describe, expect, it } from "vitest";
import { isAccel, keyLetter } from "./dom";

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
