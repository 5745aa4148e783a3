/**
 * Navigation gestures on the image: which drag does what (pan, window) and how wheel
 * movement becomes slice steps. Small, pure state machines, tested without a DOM.
 */
import type { Mode } from "../state";

/** Pixels of wheel movement per slice for smooth (trackpad) scrolling. */
export const WHEEL_STEP_PX = 40;

/**
 * Turns wheel events into slice steps. A mouse notch (one event of 40+ px) is one step;
 * trackpads send many small deltas, which accumulate until they add up to a step.
 */
export class WheelAccumulator {
  private acc = 0;

  /** Delta in pixels (see `wheelPixels`); returns whole steps to move (signed). */
  push(delta: number): number {
    if (!Number.isFinite(delta) || delta === 0) return 0;
    if (Math.abs(delta) >= WHEEL_STEP_PX) {
      this.acc = 0;
      return Math.sign(delta);
    }
    if (Math.sign(delta) !== Math.sign(this.acc)) this.acc = 0;
    this.acc += delta;
    const steps = Math.trunc(this.acc / WHEEL_STEP_PX) + 0;
    this.acc -= steps * WHEEL_STEP_PX;
    return steps;
  }

  reset(): void {
    this.acc = 0;
  }
}

/** WheelEvent delta in pixels whatever its deltaMode (0 px, 1 lines, 2 pages). */
export function wheelPixels(delta: number, deltaMode: number, pageSize: number): number {
  if (deltaMode === 1) return delta * 16;
  if (deltaMode === 2) return delta * pageSize;
  return delta;
}

/** What a pointer drag on the image does. */
export type DragAction = "none" | "pan" | "window" | "crosshair";

export function dragAction(button: number, shift: boolean, mode: Mode): DragAction {
  if (button === 1) return "pan"; // middle button
  if (button === 2) return "window"; // right button: windowing without the mode
  if (button !== 0) return "none";
  if (shift) return "pan";
  if (mode === "window") return "window";
  if (mode === "crosshair") return "crosshair";
  return "none";
}
