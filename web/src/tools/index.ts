// The annotation tool of each type: the one place the web app maps a type to its editor.

import type { AnnotationType } from "../core/types";
import type { Tool, ToolContext } from "./base";
import { BoxTool } from "./boxes";
import { ChoiceTool } from "./choice";
import { KeypointTool } from "./keypoints";
import { MaskTool } from "./masks";
import { PolygonTool } from "./polygons";

export interface ToolDescriptor {
  title: string;
  make: (ctx: ToolContext) => Tool;
}

export const TOOLS: Record<AnnotationType, ToolDescriptor> = {
  classification: { title: "Classification", make: (ctx) => new ChoiceTool(ctx, false) },
  multilabel: { title: "Multi-label", make: (ctx) => new ChoiceTool(ctx, true) },
  bbox: { title: "Boxes", make: (ctx) => new BoxTool(ctx) },
  polygon: { title: "Polygons", make: (ctx) => new PolygonTool(ctx) },
  segmentation: { title: "Segmentation mask", make: (ctx) => new MaskTool(ctx) },
  keypoints: { title: "Keypoints", make: (ctx) => new KeypointTool(ctx) },
};

export type { Tool, ToolContext } from "./base";
