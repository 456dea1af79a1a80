// One annotation tool on one image, as the worker sees it: used by the project form's live
// preview and by the gold editor (the requester draws the known answer with the workers' tool).

import { Viewer } from "../canvas/viewer";
import { h } from "../core/dom";
import { comboOf, Shortcuts } from "../core/keys";
import type { AnnotationSpec, Answer } from "../core/types";
import { Notice } from "../core/ui";
import { TOOLS, type Tool } from "../tools";
import { editBar } from "../tools/editbar";

export class ToolEditor {
  readonly el: HTMLElement;
  readonly stage = h("div", { class: "stage", tabindex: "-1" });
  readonly panel = h("aside", { class: "tool-panel" });
  private readonly notice = new Notice();
  private readonly shortcuts = new Shortcuts();
  viewer: Viewer | null = null;
  tool: Tool | null = null;

  constructor() {
    this.el = h("div", { class: "task-body editor" }, this.stage, this.panel, this.notice.el);
    this.shortcuts.push((e) => {
      if (!this.tool || document.querySelector(".modal-backdrop")) return false;
      const combo = comboOf(e);
      if (combo === "Ctrl+Z") return this.tool.undo(), true;
      if (combo === "Ctrl+Shift+Z" || combo === "Ctrl+Y") return this.tool.redo(), true;
      if (combo === "F") return this.viewer?.fit(), true;
      return this.tool.key(e, combo);
    });
  }

  /** Show `spec`'s tool on `image` (an <img> or a <canvas>) of the given size. */
  show(spec: AnnotationSpec, image: HTMLImageElement | HTMLCanvasElement | null, width: number, height: number, onChange?: () => void): void {
    this.clear();
    const descriptor = TOOLS[spec.type];
    if (!descriptor) return;
    this.viewer = new Viewer(this.stage, width, height, image as HTMLImageElement | null);
    this.tool = descriptor.make({ viewer: this.viewer, spec, width, height, panel: this.panel, changed: () => onChange?.(), flash: (m) => this.notice.show(m) });
    const bar = editBar(spec.type, this.tool, this.viewer);
    if (bar) this.panel.prepend(bar);
    this.stage.dataset.ready = "true";
    this.viewer.stage.draw();
  }

  answer(): Answer | null {
    return this.tool?.answer() ?? null;
  }

  check(): string | null {
    return this.tool ? this.tool.check() : "No tool";
  }

  clear(): void {
    this.tool?.destroy();
    this.viewer?.destroy();
    this.tool = null;
    this.viewer = null;
    this.stage.replaceChildren();
    this.panel.replaceChildren();
    delete this.stage.dataset.ready;
  }

  destroy(): void {
    this.clear();
    this.shortcuts.destroy();
  }
}

/** A made-up picture for the preview: sky, a road, two boxes and a disc. */
export function sampleImage(width = 640, height = 420): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const g = c.getContext("2d");
  if (!g) return c;
  g.fillStyle = "#8fb8de";
  g.fillRect(0, 0, width, height);
  g.fillStyle = "#5a6b57";
  g.fillRect(0, height * 0.62, width, height * 0.38);
  g.fillStyle = "#d9b44a";
  g.fillRect(width * 0.15, height * 0.4, width * 0.25, height * 0.3);
  g.fillStyle = "#b44a4a";
  g.fillRect(width * 0.55, height * 0.48, width * 0.2, height * 0.22);
  g.beginPath();
  g.arc(width * 0.82, height * 0.2, height * 0.1, 0, Math.PI * 2);
  g.fillStyle = "#f3e27a";
  g.fill();
  return c;
}
