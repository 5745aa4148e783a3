/** Point (keypoint) tool: a click places a point of the active class. */
import { round3 } from "../labels";
import type { EditorApi, PointerAt, ToolHandler } from "./types";

export class PointHandler implements ToolHandler {
  readonly id = "point" as const;
  readonly shapes = ["point"] as const;
  readonly button = {
    icon: ["M12 4v5", "M12 15v5", "M4 12h5", "M15 12h5", "fill:M10 10h4v4h-4z"] as const,
    title: "Point: click to place a keypoint",
  };

  constructor(private readonly api: EditorApi) {}

  active(): boolean {
    return false;
  }
  down(at: PointerAt): void {
    this.api.createObject({ point: [round3(at.p[0]), round3(at.p[1])] });
    this.api.changed();
  }
  move(_at: PointerAt): void {}
  up(_at: PointerAt): void {}
  cancel(): void {}
  cursor(): string {
    return "crosshair";
  }
}
