// Multi-label: the classification buttons, any number of them on (classification.ts).

import type { ToolContext } from "./base";
import { ChoiceTool } from "./classification";

export const makeMultilabel = (ctx: ToolContext) => new ChoiceTool(ctx, true);
