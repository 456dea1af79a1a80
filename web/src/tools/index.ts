// The annotation tool of each type: the one place the web app maps a type to its editor. Each
// type's module is web/src/tools/<tool>.ts, named by the type's descriptor on the server
// (app/annotations/types/, `tool=`; tests/annotations/test_registry.py checks the file).

import type { AnnotationType } from "../core/types";
import type { Tool, ToolContext } from "./base";
import { BoxTool } from "./bbox";
import { ChoiceTool } from "./classification";
import { KeypointTool } from "./keypoints";
import { makeMultilabel } from "./multilabel";
import { PointTool } from "./points";
import { PolygonTool } from "./polygon";
import { MaskTool } from "./segmentation";

export interface ToolDescriptor {
  title: string;
  make: (ctx: ToolContext) => Tool;
}

export const TOOLS: Record<AnnotationType, ToolDescriptor> = {
  classification: { title: "Classification", make: (ctx) => new ChoiceTool(ctx, false) },
  multilabel: { title: "Multi-label", make: makeMultilabel },
  bbox: { title: "Boxes", make: (ctx) => new BoxTool(ctx) },
  polygon: { title: "Polygons", make: (ctx) => new PolygonTool(ctx) },
  segmentation: { title: "Segmentation mask", make: (ctx) => new MaskTool(ctx) },
  keypoints: { title: "Keypoints", make: (ctx) => new KeypointTool(ctx) },
  points: { title: "Points", make: (ctx) => new PointTool(ctx) },
};

export type { Tool, ToolContext } from "./base";
