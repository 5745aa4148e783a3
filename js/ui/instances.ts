/** Panels of the label editor: instances. */
import type { PanelFactory } from "../tools/types";

export const INSTANCE_PANELS: PanelFactory[] = [];
