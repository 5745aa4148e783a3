/** Panels of the label editor: classifications. */
import type { PanelFactory } from "../tools/types";

export const CLASSIFICATION_PANELS: PanelFactory[] = [];
