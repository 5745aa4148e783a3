/** Panels of the label editor: bitmask. */
import type { PanelFactory } from "../tools/types";

export const MASK_PANELS: PanelFactory[] = [];
