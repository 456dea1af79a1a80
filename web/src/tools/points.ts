// Points: one labelled click per object, for counting (cells, trees, people). Click to add,
// drag to move, Delete removes the selected point, number keys pick the label.

import Konva from "konva";
import { clamp, round2, type Point } from "../canvas/geometry";
import { UndoStack } from "../canvas/undo";
import { h } from "../core/dom";
import type { Answer } from "../core/types";
import { colour, deepCopy, LabelBar, type Tool, type ToolContext } from "./base";

interface PointObject {
  label: string;
  point: Point;
}

interface State {
  objects: PointObject[];
}

export class PointTool implements Tool {
  private objects: PointObject[] = [];
  private selected = -1;
  private readonly history = new UndoStack<State>();
  private readonly labels: LabelBar;
  private readonly count: HTMLElement;

  constructor(private readonly ctx: ToolContext) {
    this.labels = new LabelBar(ctx.spec.labels, (i) => this.relabelSelected(i));
    this.count = h("div", { class: "objects" });
    ctx.panel.append(this.labels.el, h("div", { class: "panel-title" }, "Points"), this.count,
      h("p", { class: "hint" }, "Click each object once. Drag a point to move it; Delete removes the selected one."));
    const viewer = ctx.viewer!;
    viewer.stage.on("pointerdown.points", (e) => {
      if (ctx.readOnly || viewer.isPanning() || e.evt.button !== 0 || e.target !== viewer.stage) return;
      const p = viewer.pointer();
      if (!p || p[0] < 0 || p[1] < 0 || p[0] > ctx.width || p[1] > ctx.height) return;
      this.edit(() => this.objects.push({ label: ctx.spec.labels[this.labels.current], point: p }));
      this.selected = this.objects.length - 1;
      this.render();
    });
    viewer.onViewChange = () => this.render(false);
    this.render(false);
  }

  answer(): Answer {
    return { objects: this.objects.map((o) => ({ label: o.label, point: [round2(o.point[0]), round2(o.point[1])] })) };
  }

  check(): string | null {
    return null;
  }

  state(): unknown {
    return { objects: this.objects };
  }

  restore(state: unknown): void {
    this.objects = deepCopy((state as State).objects || []);
    this.render(false);
  }

  load(answer: Answer): void {
    this.objects = ((answer.objects as PointObject[] | undefined) || []).map((o) => ({
      label: this.ctx.spec.labels.includes(o.label) ? o.label : this.ctx.spec.labels[0],
      point: [o.point[0], o.point[1]],
    }));
    this.render(false);
  }

  key(_e: KeyboardEvent, combo: string): boolean {
    if (this.labels.key(combo)) return true;
    if ((combo === "Delete" || combo === "Backspace") && this.selected >= 0) {
      this.edit(() => this.objects.splice(this.selected, 1));
      this.selected = -1;
      this.render();
      return true;
    }
    return false;
  }

  undo(): void {
    const s = this.history.undo({ objects: deepCopy(this.objects) });
    if (s) {
      this.objects = s.objects;
      this.selected = -1;
      this.render();
    }
  }

  redo(): void {
    const s = this.history.redo({ objects: deepCopy(this.objects) });
    if (s) {
      this.objects = s.objects;
      this.render();
    }
  }

  destroy(): void {
    const viewer = this.ctx.viewer;
    viewer?.stage.off(".points");
    if (viewer) viewer.onViewChange = null;
  }

  private edit(change: () => void): void {
    this.history.push({ objects: deepCopy(this.objects) });
    change();
  }

  private relabelSelected(i: number): void {
    if (this.selected < 0) return;
    this.edit(() => (this.objects[this.selected].label = this.ctx.spec.labels[i]));
    this.render();
  }

  private render(notify = true): void {
    const viewer = this.ctx.viewer!;
    const layer = viewer.shapes;
    layer.destroyChildren();
    const r = 6 / viewer.scale;
    this.objects.forEach((o, i) => {
      const dot = new Konva.Circle({
        x: o.point[0], y: o.point[1], radius: i === this.selected ? r * 1.3 : r,
        fill: colour(this.ctx.spec.labels.indexOf(o.label)), stroke: "#fff", strokeWidth: 2,
        strokeScaleEnabled: false, draggable: !this.ctx.readOnly,
      });
      dot.on("pointerdown", (e) => {
        e.cancelBubble = true;
        this.selected = i;
      });
      dot.on("dragstart", () => this.history.push({ objects: deepCopy(this.objects) }));
      dot.on("dragmove", () => dot.position({ x: clamp(dot.x(), 0, this.ctx.width), y: clamp(dot.y(), 0, this.ctx.height) }));
      dot.on("dragend", () => {
        o.point = [dot.x(), dot.y()];
        this.render();
      });
      layer.add(dot);
    });
    // Drawn now, not on the next frame: the hit graph must know the new shapes before the
    // next click (a click right after an edit would otherwise fall through to the stage).
    layer.draw();
    const counts = this.ctx.spec.labels.map((l) => `${l}: ${this.objects.filter((o) => o.label === l).length}`);
    this.count.textContent = counts.join(" · ");
    if (notify) this.ctx.changed();
  }
}
