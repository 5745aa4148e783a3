/** Panels of the label editor: automation. */
import type { PanelFactory } from "../tools/types";

export const AUTOMATION_PANELS: PanelFactory[] = [];
