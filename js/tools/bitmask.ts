/** The bitmask tools (brush, eraser, threshold brush), in toolbar order. */
import type { ToolFactory } from "./types";

export const MASK_TOOLS: ToolFactory[] = [];
