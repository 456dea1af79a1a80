// Buttons for what the keyboard does on a shape tool: undo, redo, delete the selected shape,
// close an outline or a fill, the brush size, a keypoint not in the image or occluded, fit the
// image. On the worker's task page, the project form's preview and the gold editor alike. A
// phone or a tablet has no keys to press, and on a desktop they show that these actions exist.
// Each button goes through the tool's own key handling, so a button and its key always do the
// same thing.

import type { Viewer } from "../canvas/viewer";
import { h } from "../core/dom";
import type { AnnotationType } from "../core/types";
import type { Tool } from "./base";

const SHAPE_TYPES: ReadonlySet<AnnotationType> = new Set(["bbox", "polygon", "segmentation", "keypoints", "points"]);

interface Action {
  action: string;
  label: string;
  key: string;
  run: () => void;
}

/** The edit bar for a task of `type`, or null for types without shapes to edit. */
export function editBar(type: AnnotationType, tool: Tool, viewer: Viewer | null): HTMLElement | null {
  if (!SHAPE_TYPES.has(type)) return null;
  const press = (key: string, combo: string) => () => void tool.key(new KeyboardEvent("keydown", { key }), combo);
  const actions: Action[] = [
    { action: "undo", label: "Undo", key: "Ctrl+Z", run: () => tool.undo() },
    { action: "redo", label: "Redo", key: "Ctrl+Shift+Z", run: () => tool.redo() },
  ];
  // A mask has no shape to select: the eraser takes paint away.
  if (type !== "segmentation") actions.push({ action: "delete", label: "Delete", key: "Del", run: press("Delete", "Delete") });
  if (type === "polygon") actions.push({ action: "close-shape", label: "Close outline", key: "N", run: press("n", "N") });
  if (type === "segmentation") {
    actions.push(
      { action: "close-shape", label: "Close fill", key: "N", run: press("n", "N") },
      { action: "brush-smaller", label: "Brush −", key: "[", run: press("[", "[") },
      { action: "brush-larger", label: "Brush +", key: "]", run: press("]", "]") },
    );
  }
  if (type === "keypoints") {
    actions.push(
      { action: "not-in-image", label: "Not in image", key: "X", run: press("x", "X") },
      { action: "occluded", label: "Occluded", key: "V", run: press("v", "V") },
    );
  }
  if (viewer) actions.push({ action: "fit", label: "Fit", key: "F", run: () => viewer.fit() });
  return h("div", { class: "edit-bar", role: "toolbar", "aria-label": "Edit" },
    ...actions.map((a) =>
      // The key in the tooltip, not on the button: the panel keeps the four on one row.
      h("button", { type: "button", "data-action": a.action, title: `${a.label} (${a.key})`, onclick: a.run }, a.label),
    ),
  );
}
