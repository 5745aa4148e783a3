/** The vector tools, in toolbar order. */
import { BoxHandler } from "./box";
import { MeasureHandler } from "./measure";
import { PointHandler } from "./point";
import { PolygonHandler } from "./polygon";
import { PolylineHandler } from "./polyline";
import { PrimitiveHandler } from "./primitive";
import { ScissorsHandler } from "./scissors";
import { SelectTool } from "./select";
import type { ToolFactory } from "./types";

export const VECTOR_TOOLS: ToolFactory[] = [
  (api) => new SelectTool(api),
  (api) => new BoxHandler(api),
  (api) => new PolygonHandler(api),
  (api) => new PolylineHandler(api),
  (api) => new PointHandler(api),
  (api) => new PrimitiveHandler(api),
  (api) => new ScissorsHandler(api),
  (api) => new MeasureHandler(api),
];
