/** Panels of the label editor: review. */
import type { PanelFactory } from "../tools/types";

export const REVIEW_PANELS: PanelFactory[] = [];
