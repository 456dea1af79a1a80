// Boxes: drag to draw, 8 handles to resize, drag to move, arrows nudge 1 px (Shift: 10 px).
// T switches to drawing by four extreme points (CVAT's "by 4 points"): clicking an object's
// top-most, bottom-most, left-most and right-most points is faster and tighter than a drag.

import Konva from "konva";
import { boxFromCorners, boxFromPoints, clipBox, moveBox, round2, type Box, type Point } from "../canvas/geometry";
import { UndoStack } from "../canvas/undo";
import { h } from "../core/dom";
import type { Answer } from "../core/types";
import { colour, deepCopy, LabelBar, type Tool, type ToolContext } from "./base";

interface BoxObject {
  label: string;
  box: Box;
}

interface State {
  objects: BoxObject[];
}

const MIN_SIZE = 2; // px in the image: a click is not a box
const EXTREME_POINTS = 4;

export class BoxTool implements Tool {
  private objects: BoxObject[] = [];
  private selected = -1;
  private drawing: { from: Point; rect: Konva.Rect } | null = null;
  private byPoints = false;
  private extreme: { points: Point[]; dots: Konva.Circle[] } | null = null;
  private readonly modeButton: HTMLButtonElement;
  private readonly history = new UndoStack<State>();
  private readonly labels: LabelBar;
  private readonly transformer: Konva.Transformer;
  private readonly list: HTMLElement;

  constructor(private readonly ctx: ToolContext) {
    const viewer = ctx.viewer!;
    this.labels = new LabelBar(ctx.spec.labels, (i) => this.relabelSelected(i));
    this.list = h("ol", { class: "objects" });
    this.modeButton = h("button", { type: "button", class: "mode", "aria-pressed": "false", "data-action": "extreme-points", onclick: () => this.toggleMode() },
      "Draw by 4 extreme points (T)") as HTMLButtonElement;
    ctx.panel.append(
      this.labels.el,
      h("div", { class: "panel-title" }, "Boxes"),
      this.list,
      this.modeButton,
      h("p", { class: "hint" }, "Drag on the image to draw. Drag a box to move it, its handles to resize. Arrows nudge (Shift: 10 px); Delete removes. T: click the object's top, bottom, left and right-most points instead."),
    );
    this.transformer = new Konva.Transformer({
      rotateEnabled: false,
      flipEnabled: false,
      keepRatio: false,
      ignoreStroke: true,
      anchorSize: 10,
      borderStroke: "#fff",
      anchorStroke: "#1f4e79",
    });
    viewer.shapes.add(this.transformer);
    viewer.stage.on("pointerdown.boxes", (e) => this.onDown(e));
    viewer.stage.on("pointermove.boxes", () => this.onMove());
    viewer.stage.on("pointerup.boxes pointercancel.boxes", () => this.onUp());
    this.render();
  }

  answer(): Answer {
    return { objects: this.objects.map((o) => ({ label: o.label, box: o.box.map(round2) })) };
  }

  check(): string | null {
    return null; // no boxes is a valid answer: nothing to box in this image
  }

  state(): unknown {
    return { objects: this.objects };
  }

  restore(state: unknown): void {
    this.objects = deepCopy((state as State).objects || []);
    this.selected = -1;
    this.render(false);
  }

  load(answer: Answer): void {
    const objects = (answer.objects as BoxObject[] | undefined) || [];
    this.objects = objects
      .filter((o) => Array.isArray(o.box) && o.box.length === 4)
      .map((o) => ({ label: this.ctx.spec.labels.includes(o.label) ? o.label : this.ctx.spec.labels[0], box: clipBox(o.box, this.ctx.width, this.ctx.height) }));
    this.render(false);
  }

  key(e: KeyboardEvent, combo: string): boolean {
    if (this.labels.key(combo)) return true;
    if (combo === "T" && !this.ctx.readOnly) {
      this.toggleMode();
      return true;
    }
    if (combo === "Escape") {
      if (this.drawing || this.extreme) this.cancelDrawing();
      else this.select(-1);
      return true;
    }
    if ((combo === "Delete" || combo === "Backspace") && this.selected >= 0) {
      this.edit(() => this.objects.splice(this.selected, 1));
      this.selected = -1;
      this.render();
      return true;
    }
    const step = e.shiftKey ? 10 : 1;
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const d = arrows[e.key];
    if (d && this.selected >= 0) {
      this.edit(() => {
        const o = this.objects[this.selected];
        o.box = moveBox(o.box, d[0], d[1], this.ctx.width, this.ctx.height);
      });
      this.render();
      return true;
    }
    return false;
  }

  undo(): void {
    if (this.extreme) return this.dropLastPoint(); // undo stays inside the box being drawn
    if (this.drawing) return this.cancelDrawing();
    const s = this.history.undo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  redo(): void {
    const s = this.history.redo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  destroy(): void {
    this.ctx.viewer?.stage.off(".boxes");
  }

  private apply(s: State): void {
    this.objects = s.objects;
    this.selected = Math.min(this.selected, this.objects.length - 1);
    this.render();
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

  private select(i: number): void {
    this.selected = i;
    if (i >= 0) this.labels.current = Math.max(0, this.ctx.spec.labels.indexOf(this.objects[i].label));
    this.render(false);
  }

  private toggleMode(): void {
    this.cancelDrawing();
    this.byPoints = !this.byPoints;
    this.modeButton.setAttribute("aria-pressed", String(this.byPoints));
    this.modeButton.classList.toggle("active", this.byPoints);
    this.ctx.flash(this.byPoints ? "Click the object's top, bottom, left and right-most points." : "Drag to draw boxes.");
    this.select(-1);
  }

  /** Extreme-points mode: a click anywhere (an object's edge often lies inside another box)
   * places the next point; the fourth makes the box. */
  private addExtremePoint(p: Point): void {
    const viewer = this.ctx.viewer!;
    this.extreme ??= { points: [], dots: [] };
    const dot = new Konva.Circle({ x: p[0], y: p[1], radius: 4 / viewer.scale, fill: colour(this.labels.current), stroke: "#fff", strokeWidth: 1, strokeScaleEnabled: false, listening: false });
    viewer.ui.add(dot);
    this.extreme.points.push(p);
    this.extreme.dots.push(dot);
    viewer.ui.batchDraw();
    if (this.extreme.points.length < EXTREME_POINTS) return;
    const box = boxFromPoints(this.extreme.points, this.ctx.width, this.ctx.height);
    this.cancelDrawing();
    if (box[2] < MIN_SIZE || box[3] < MIN_SIZE) return this.ctx.flash("Those points make no box: click four points around the object.");
    this.addBox(box);
  }

  private dropLastPoint(): void {
    this.extreme?.dots.pop()?.destroy();
    this.extreme?.points.pop();
    if (!this.extreme?.points.length) this.extreme = null;
    this.ctx.viewer!.ui.batchDraw();
  }

  private addBox(box: Box): void {
    this.edit(() => this.objects.push({ label: this.ctx.spec.labels[this.labels.current], box }));
    this.selected = this.objects.length - 1;
    this.render();
  }

  private onDown(e: Konva.KonvaEventObject<MouseEvent>): void {
    const viewer = this.ctx.viewer!;
    if (this.ctx.readOnly || viewer.isPanning() || e.evt.button !== 0) return;
    if (this.byPoints) {
      const p = viewer.pointer();
      return void (p && this.addExtremePoint(p));
    }
    if (e.target !== viewer.stage) return; // on a box or a handle: Konva drags it
    const p = viewer.pointer();
    if (!p) return;
    this.select(-1);
    const rect = new Konva.Rect({ x: p[0], y: p[1], width: 0, height: 0, stroke: colour(this.labels.current), strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false });
    viewer.ui.add(rect);
    this.drawing = { from: p, rect };
  }

  private onMove(): void {
    if (!this.drawing) return;
    const p = this.ctx.viewer!.pointer();
    if (!p) return;
    const [x, y, w, hgt] = boxFromCorners(this.drawing.from, p, this.ctx.width, this.ctx.height);
    this.drawing.rect.setAttrs({ x, y, width: w, height: hgt });
    this.ctx.viewer!.ui.batchDraw();
  }

  private onUp(): void {
    if (!this.drawing) return;
    const p = this.ctx.viewer!.pointer() ?? this.drawing.from;
    const box = boxFromCorners(this.drawing.from, p, this.ctx.width, this.ctx.height);
    this.cancelDrawing();
    if (box[2] < MIN_SIZE || box[3] < MIN_SIZE) return;
    this.addBox(box);
  }

  private cancelDrawing(): void {
    this.drawing?.rect.destroy();
    this.drawing = null;
    this.extreme?.dots.forEach((d) => d.destroy());
    this.extreme = null;
    this.ctx.viewer!.ui.batchDraw();
  }

  private render(notify = true): void {
    const layer = this.ctx.viewer!.shapes;
    layer.find(".box").forEach((n) => n.destroy());
    this.transformer.nodes([]);
    this.objects.forEach((o, i) => {
      const li = this.ctx.spec.labels.indexOf(o.label);
      const rect = new Konva.Rect({
        name: "box",
        x: o.box[0], y: o.box[1], width: o.box[2], height: o.box[3],
        stroke: colour(li), strokeWidth: i === this.selected ? 3 : 2, strokeScaleEnabled: false,
        fill: i === this.selected ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.01)",
        draggable: !this.ctx.readOnly && !this.byPoints,
      });
      rect.on("pointerdown", (e) => {
        if (this.ctx.viewer!.isPanning() || this.byPoints) return; // the stage places the point
        e.cancelBubble = true;
        if (this.selected !== i) this.select(i);
      });
      rect.on("dragstart", () => this.history.push({ objects: deepCopy(this.objects) }));
      rect.on("dragmove", () => {
        const [x, y] = moveBox([rect.x(), rect.y(), o.box[2], o.box[3]], 0, 0, this.ctx.width, this.ctx.height);
        rect.position({ x, y });
      });
      rect.on("dragend", () => {
        o.box = [rect.x(), rect.y(), o.box[2], o.box[3]];
        this.render();
      });
      rect.on("transformstart", () => this.history.push({ objects: deepCopy(this.objects) }));
      rect.on("transformend", () => {
        o.box = clipBox([rect.x(), rect.y(), rect.width() * rect.scaleX(), rect.height() * rect.scaleY()], this.ctx.width, this.ctx.height);
        this.render();
      });
      layer.add(rect);
      if (i === this.selected && !this.ctx.readOnly && !this.byPoints) this.transformer.nodes([rect]);
    });
    this.transformer.moveToTop();
    // Drawn now, not on the next frame: the hit graph must know the new shapes before the
    // next click (a click right after an edit would otherwise fall through to the stage).
    layer.draw();
    this.renderList();
    if (notify) this.ctx.changed();
  }

  private renderList(): void {
    this.list.replaceChildren(
      ...this.objects.map((o, i) =>
        h("li", { class: i === this.selected ? "active" : "", onclick: () => this.select(i) },
          h("span", { class: "swatch", style: `background:${colour(this.ctx.spec.labels.indexOf(o.label))}` }),
          `${o.label} — ${Math.round(o.box[2])}×${Math.round(o.box[3])} at ${Math.round(o.box[0])}, ${Math.round(o.box[1])}`,
        ),
      ),
    );
    if (!this.objects.length) this.list.append(h("li", { class: "empty" }, "No boxes yet."));
  }
}
