// Keypoints: placed in the project's order with the next name highlighted; the object is done
// when every point is placed; skeleton lines appear as points do; points are draggable; V toggles
// "occluded" (v=1) on the selected point, X marks the next one "not labelled" (v=0).

import Konva from "konva";
import { clamp, round2 } from "../canvas/geometry";
import { UndoStack } from "../canvas/undo";
import { h } from "../core/dom";
import type { Answer } from "../core/types";
import { colour, deepCopy, LabelBar, type Tool, type ToolContext } from "./base";

type Triple = [number, number, 0 | 1 | 2];

interface KeypointObject {
  label: string;
  points: Triple[]; // fewer than the names while being placed
}

interface State {
  objects: KeypointObject[];
}

export class KeypointTool implements Tool {
  private objects: KeypointObject[] = [];
  private selected: { object: number; point: number } | null = null;
  private readonly history = new UndoStack<State>();
  private readonly names: string[];
  private readonly skeleton: [number, number][];
  private readonly labels: LabelBar;
  private readonly guide: HTMLElement;

  constructor(private readonly ctx: ToolContext) {
    this.names = ctx.spec.keypoints || [];
    this.skeleton = ctx.spec.skeleton || [];
    this.labels = new LabelBar(ctx.spec.labels, () => undefined, "Object");
    this.guide = h("ol", { class: "keypoints" });
    ctx.panel.append(
      ctx.spec.labels.length > 1 ? this.labels.el : h("div"),
      h("div", { class: "panel-title" }, "Points, in order"),
      this.guide,
      h("p", { class: "hint" }, "Click to place the highlighted point. X: not in the image (skip). V: occluded on/off for the selected point. Drag a point to move it."),
    );
    const viewer = ctx.viewer!;
    viewer.stage.on("pointerdown.kp", (e) => this.onDown(e));
    viewer.onViewChange = () => this.render(false);
    this.render(false);
  }

  answer(): Answer {
    return {
      objects: this.objects.map((o) => ({
        label: o.label,
        points: o.points.map(([x, y, v]) => (v === 0 ? [0, 0, 0] : [round2(x), round2(y), v])),
      })),
    };
  }

  check(): string | null {
    const open = this.openObject();
    if (open >= 0) {
      const next = this.names[this.objects[open].points.length];
      return `Place “${next}” (or press X if it is not in the image) to finish the object.`;
    }
    const empty = this.objects.findIndex((o) => o.points.every((p) => p[2] === 0));
    if (empty >= 0) return `Object ${empty + 1} has no point in the image; remove it (Delete) or place its points.`;
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
    const objects = (answer.objects as KeypointObject[] | undefined) || [];
    this.objects = objects.map((o) => ({
      label: this.ctx.spec.labels.includes(o.label) ? o.label : this.ctx.spec.labels[0],
      points: (o.points || []).slice(0, this.names.length).map(([x, y, v]) => [x, y, v] as Triple),
    }));
    this.render(false);
  }

  key(_e: KeyboardEvent, combo: string): boolean {
    if (this.ctx.spec.labels.length > 1 && this.labels.key(combo)) return true;
    if (combo === "X") {
      this.place([0, 0, 0]);
      return true;
    }
    if (combo === "V") {
      const s = this.selected ?? this.lastPlaced();
      if (!s) return true;
      const p = this.objects[s.object].points[s.point];
      if (p[2] === 0) return true;
      this.edit(() => (p[2] = p[2] === 2 ? 1 : 2));
      this.render();
      return true;
    }
    if (combo === "Delete" || combo === "Backspace") {
      const s = this.selected ?? this.lastPlaced();
      if (!s) return true;
      this.edit(() => this.objects.splice(s.object, 1));
      this.selected = null;
      this.render();
      return true;
    }
    if (combo === "Escape") {
      this.selected = null;
      this.render(false);
      return true;
    }
    return false;
  }

  undo(): void {
    const s = this.history.undo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  redo(): void {
    const s = this.history.redo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  destroy(): void {
    const viewer = this.ctx.viewer;
    viewer?.stage.off(".kp");
    if (viewer) viewer.onViewChange = null;
  }

  private apply(s: State): void {
    this.objects = s.objects;
    this.selected = null;
    this.render();
  }

  private edit(change: () => void): void {
    this.history.push({ objects: deepCopy(this.objects) });
    change();
  }

  private openObject(): number {
    return this.objects.findIndex((o) => o.points.length < this.names.length);
  }

  private lastPlaced(): { object: number; point: number } | null {
    for (let i = this.objects.length - 1; i >= 0; i--) {
      const pts = this.objects[i].points;
      for (let k = pts.length - 1; k >= 0; k--) if (pts[k][2] !== 0) return { object: i, point: k };
    }
    return null;
  }

  private place(point: Triple): void {
    this.edit(() => {
      let i = this.openObject();
      if (i < 0) {
        this.objects.push({ label: this.ctx.spec.labels[this.labels.current], points: [] });
        i = this.objects.length - 1;
      }
      this.objects[i].points.push(point);
      this.selected = point[2] === 0 ? null : { object: i, point: this.objects[i].points.length - 1 };
    });
    this.render();
  }

  private onDown(e: Konva.KonvaEventObject<MouseEvent>): void {
    const viewer = this.ctx.viewer!;
    if (this.ctx.readOnly || viewer.isPanning() || e.evt.button !== 0 || e.target !== viewer.stage) return;
    const p = viewer.pointer();
    if (!p || p[0] < 0 || p[1] < 0 || p[0] > this.ctx.width || p[1] > this.ctx.height) return;
    this.place([p[0], p[1], 2]);
  }

  private render(notify = true): void {
    const viewer = this.ctx.viewer!;
    const layer = viewer.shapes;
    layer.destroyChildren();
    const r = 6 / viewer.scale;
    this.objects.forEach((o, i) => {
      const c = colour(this.ctx.spec.labels.indexOf(o.label) + i);
      for (const [a, b] of this.skeleton) {
        const pa = o.points[a], pb = o.points[b];
        if (!pa || !pb || pa[2] === 0 || pb[2] === 0) continue;
        layer.add(new Konva.Line({ points: [pa[0], pa[1], pb[0], pb[1]], stroke: c, strokeWidth: 2, strokeScaleEnabled: false, listening: false }));
      }
      o.points.forEach((pt, k) => {
        if (pt[2] === 0) return;
        const selected = this.selected?.object === i && this.selected.point === k;
        const dot = new Konva.Circle({
          x: pt[0], y: pt[1], radius: selected ? r * 1.3 : r,
          fill: pt[2] === 2 ? c : "rgba(255,255,255,0.55)", stroke: pt[2] === 2 ? "#fff" : c,
          strokeWidth: pt[2] === 2 ? 2 : 3, dash: pt[2] === 1 ? [4, 3] : undefined, strokeScaleEnabled: false, draggable: !this.ctx.readOnly,
        });
        dot.on("pointerdown", (ev) => {
          ev.cancelBubble = true;
          this.selected = { object: i, point: k };
          this.renderGuide();
        });
        dot.on("dragstart", () => this.history.push({ objects: deepCopy(this.objects) }));
        dot.on("dragmove", () => dot.position({ x: clamp(dot.x(), 0, this.ctx.width), y: clamp(dot.y(), 0, this.ctx.height) }));
        dot.on("dragend", () => {
          o.points[k] = [dot.x(), dot.y(), pt[2]];
          this.render();
        });
        layer.add(dot);
      });
    });
    // Drawn now, not on the next frame: the hit graph must know the new shapes before the
    // next click (a click right after an edit would otherwise fall through to the stage).
    layer.draw();
    this.renderGuide();
    if (notify) this.ctx.changed();
  }

  private renderGuide(): void {
    const open = this.openObject();
    // The object the list describes: the one being placed, else the selected one, else the last.
    const index = open >= 0 ? open : this.selected?.object ?? this.objects.length - 1;
    const focus = this.objects[index];
    const nextIndex = open >= 0 ? this.objects[open].points.length : this.objects.length ? -1 : 0;
    const items = this.names.map((name, k) => {
      const p = focus?.points[k];
      const status = !p ? "" : p[2] === 2 ? "visible" : p[2] === 1 ? "occluded" : "not in image";
      const selected = this.selected?.object === index && this.selected.point === k;
      const cls = [k === nextIndex ? "next" : "", selected ? "active" : ""].join(" ").trim();
      return h("li", { class: cls, "data-name": name }, h("span", {}, name), status ? h("em", {}, status) : null);
    });
    const done = open < 0 && this.objects.length
      ? h("li", { class: "done" }, `All points placed (${this.objects.length} object${this.objects.length > 1 ? "s" : ""}). Click to start another, or submit.`)
      : null;
    this.guide.replaceChildren(...items, ...(done ? [done] : []));
  }
}
