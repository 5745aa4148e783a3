/** The vector tools, in toolbar order. */
import { BoxHandler } from "./box";
import { PolygonHandler } from "./polygon";
import { SelectTool } from "./select";
import type { ToolFactory } from "./types";

export const VECTOR_TOOLS: ToolFactory[] = [(api) => new SelectTool(api), (api) => new BoxHandler(api), (api) => new PolygonHandler(api)];
