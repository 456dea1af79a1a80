// Segmentation masks: brush and eraser with a cursor the size of the brush ([ and ] change it),
// polygon fill that adds or subtracts, "don't paint over other labels". Strokes are painted into
// a Uint8Array label map and only the changed rectangle of the overlay is redrawn; the answer is
// the exact one-channel PNG of that map (canvas strokes are anti-aliased and cannot be used).
// O ("Outline from box"): drag a box around an object; the server's box_to_mask assist
// (docs/ASSIST.md) finds it and its pixels get the current label (one undo step).
// S ("Superpixel fill"): each click fills the superpixel under it (the server's SLIC assist) with
// the current label, Shift+click clears it; one undo step per click. A marker shows each click
// until its answer arrives, the panel says what was filled; clicks may run ahead of answers.

import Konva from "konva";
import { boxFromCorners, clamp, round2, type Box, type Point } from "../canvas/geometry";
import { LabelMap, type Patch } from "../canvas/labelmap";
import { base64ToBytes, decodeMask, encodeMaskBase64 } from "../canvas/png";
import { ApiError, post } from "../core/api";
import { h } from "../core/dom";
import { explain } from "../core/errors";
import type { Answer } from "../core/types";
import { LabelBar, PALETTE, type Tool, type ToolContext } from "./base";

type Mode = "brush" | "eraser" | "fill" | "superpixel";
const ALPHA = 130;
const MIN_BOX = 4; // px in the image: a click is not a box to outline

export class MaskTool implements Tool {
  map: LabelMap;
  private mode: Mode = "brush";
  private size = 24; // brush diameter in image pixels
  private protect = false;
  private subtract = false;
  private last: Point | null = null;
  private fillPath: Point[] | null = null;
  private undoStack: Patch[] = [];
  private redoStack: Patch[] = [];
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private readonly cursor: Konva.Circle;
  private readonly fillLine: Konva.Line;
  private readonly labels: LabelBar;
  private readonly status: HTMLElement;
  private frame = 0;
  private repeatedClick = false;
  private readonly modeButtons: Record<Mode, HTMLButtonElement>;
  private outline = false; // "Outline from box" mode
  private outlineBox: { from: Point; rect: Konva.Rect } | null = null;
  private assisting = false;
  private destroyed = false;
  private readonly outlineButton: HTMLButtonElement;
  private readonly assistStatus: HTMLElement;
  private superpixelsPending = 0;

  constructor(private readonly ctx: ToolContext) {
    const viewer = ctx.viewer!;
    this.map = new LabelMap(ctx.width, ctx.height);
    this.canvas = document.createElement("canvas");
    this.canvas.width = ctx.width;
    this.canvas.height = ctx.height;
    this.context = this.canvas.getContext("2d")!;
    viewer.overlayLayer.add(new Konva.Image({ image: this.canvas, width: ctx.width, height: ctx.height }));
    this.cursor = new Konva.Circle({ radius: this.size / 2, stroke: "#fff", strokeWidth: 1.5, strokeScaleEnabled: false, dash: [4, 3], visible: false });
    this.fillLine = new Konva.Line({ points: [], stroke: "#fff", strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false });
    viewer.ui.add(this.cursor, this.fillLine);
    this.labels = new LabelBar(ctx.spec.labels, () => this.updateCursor());
    const modeButton = (m: Mode, text: string, key: string) =>
      h("button", { type: "button", class: "mode", "data-mode": m, onclick: () => this.setMode(m) }, h("kbd", {}, key), text);
    this.modeButtons = {
      brush: modeButton("brush", "Brush", "B"),
      eraser: modeButton("eraser", "Eraser", "E"),
      fill: modeButton("fill", "Polygon fill", "P"),
      superpixel: modeButton("superpixel", "Superpixel fill", "S"),
    };
    this.assistStatus = h("div", { class: "assist-status", "data-state": "idle", "data-pending": "0", "aria-live": "polite" });
    this.status = h("div", { class: "brush-size" });
    const protect = h("input", { type: "checkbox", onchange: (e: Event) => (this.protect = (e.target as HTMLInputElement).checked) });
    this.outlineButton = h("button", { type: "button", class: "mode", "aria-pressed": "false", "data-action": "outline-from-box", onclick: () => this.toggleOutline() },
      h("kbd", {}, "O"), "Outline from box") as HTMLButtonElement;
    if (!ctx.assignmentId || ctx.readOnly) {
      this.outlineButton.hidden = true;
      this.modeButtons.superpixel.hidden = true;
      this.assistStatus.hidden = true;
    }
    const subtract = h("input", { type: "checkbox", onchange: (e: Event) => (this.subtract = (e.target as HTMLInputElement).checked) });
    ctx.panel.append(
      this.labels.el,
      h("div", { class: "panel-title" }, "Tool"),
      h("div", { class: "modes" }, this.modeButtons.brush, this.modeButtons.eraser, this.modeButtons.fill, this.modeButtons.superpixel, this.outlineButton),
      this.status,
      this.assistStatus,
      h("label", { class: "check" }, protect, "Don't paint over other labels"),
      h("label", { class: "check" }, subtract, "Polygon fill subtracts"),
      h("p", { class: "hint" }, "Paint with the mouse or a finger; [ and ] (or Brush − and +) change the brush size. Polygon fill: click the outline, double-click or N to fill. O: drag a box around an object to fill it. S: click a region to fill its superpixel (Shift+click clears it)."),
    );
    viewer.stage.on("pointerdown.mask", (e) => this.onDown(e));
    viewer.stage.on("pointermove.mask", () => this.onMove());
    viewer.stage.on("pointerup.mask pointerleave.mask pointercancel.mask", () => this.onUp());
    // Two quick clicks at different places are two points; only a repeated click closes.
    viewer.stage.on("pointerdblclick.mask", () => this.repeatedClick && this.closeFill());
    viewer.stage.on("pointerenter.mask", () => this.cursor.visible(this.brushLike()));
    this.setMode("brush");
  }

  answer(): Answer {
    return { mask_png_base64: encodeMaskBase64(this.map) };
  }

  check(): string | null {
    return this.fillPath ? "Finish the polygon fill (double-click or N) or cancel it (Esc)." : null;
  }

  state(): unknown {
    return { mask_png_base64: encodeMaskBase64(this.map) };
  }

  restore(state: unknown): void {
    this.load(state as Answer);
  }

  load(answer: Answer): void {
    const b64 = answer.mask_png_base64;
    if (typeof b64 !== "string") return;
    const map = decodeMask(base64ToBytes(b64), this.ctx.width, this.ctx.height);
    if (!map) return this.ctx.flash("The existing mask does not fit this image and was not loaded.");
    const top = this.ctx.spec.labels.length;
    for (let i = 0; i < map.data.length; i++) if (map.data[i] > top) map.data[i] = 0;
    this.map = map;
    this.undoStack = [];
    this.redoStack = [];
    this.redraw({ x: 0, y: 0, w: this.ctx.width, h: this.ctx.height });
  }

  key(_e: KeyboardEvent, combo: string): boolean {
    if (this.labels.key(combo)) return true;
    const actions: Record<string, () => void> = {
      B: () => this.setMode("brush"),
      E: () => this.setMode("eraser"),
      P: () => this.setMode("fill"),
      "[": () => this.resize(1 / 1.25),
      "]": () => this.resize(1.25),
      N: () => this.closeFill(),
      Escape: () => (this.outlineBox ? this.cancelOutlineBox() : this.outline ? this.toggleOutline() : this.cancelFill()),
    };
    if (this.ctx.assignmentId && !this.ctx.readOnly) {
      actions.O = () => this.toggleOutline();
      actions.S = () => this.setMode("superpixel");
    }
    const act = actions[combo];
    if (!act) return false;
    act();
    return true;
  }

  undo(): void {
    if (this.outlineBox) return this.cancelOutlineBox();
    const patch = this.undoStack.pop();
    if (!patch) return;
    this.redoStack.push(this.map.applyPatch(patch));
    this.flush(true);
  }

  redo(): void {
    const patch = this.redoStack.pop();
    if (!patch) return;
    this.undoStack.push(this.map.applyPatch(patch));
    this.flush(true);
  }

  destroy(): void {
    this.destroyed = true;
    this.ctx.viewer?.stage.off(".mask");
    cancelAnimationFrame(this.frame);
  }

  /** Counts per label, for the test hook and the panel. */
  histogram(): number[] {
    return this.map.histogram();
  }

  private value(): number {
    return this.mode === "eraser" ? 0 : this.labels.current + 1;
  }

  private setMode(mode: Mode): void {
    this.cancelFill();
    if (this.outline) this.toggleOutline();
    this.mode = mode;
    Object.entries(this.modeButtons).forEach(([m, b]) => b.classList.toggle("active", m === mode));
    this.updateCursor();
  }

  private resize(factor: number): void {
    this.size = clamp(Math.round(this.size * factor), 1, 500);
    this.updateCursor();
  }

  private updateCursor(): void {
    this.cursor.radius(this.size / 2);
    const [r, g, b] = PALETTE[this.labels.current % PALETTE.length];
    this.cursor.stroke(this.mode === "eraser" ? "#fff" : `rgb(${r},${g},${b})`);
    this.cursor.visible(this.brushLike() && this.cursor.visible());
    this.status.textContent = this.mode === "fill" ? "Polygon fill" : this.mode === "superpixel" ? "Superpixel fill: click a region" : `Brush size ${this.size} px`;
    this.ctx.viewer!.ui.batchDraw();
  }

  private onDown(e: Konva.KonvaEventObject<MouseEvent>): void {
    const viewer = this.ctx.viewer!;
    if (this.ctx.readOnly || viewer.isPanning() || e.evt.button !== 0) return;
    const p = viewer.pointer();
    if (!p) return;
    if (this.outline) return this.startOutlineBox(p);
    if (this.mode === "superpixel") return void this.fillSuperpixel(p, e.evt.shiftKey);
    if (this.mode === "fill") {
      const last = this.fillPath?.[this.fillPath.length - 1];
      this.repeatedClick = !!last && Math.hypot(p[0] - last[0], p[1] - last[1]) * viewer.scale < 4;
      if (this.repeatedClick) return; // the 2nd click of a double-click
      this.fillPath = [...(this.fillPath || []), p];
      this.fillLine.points(this.fillPath.flat());
      viewer.ui.batchDraw();
      return;
    }
    this.map.beginStroke();
    this.last = p;
    this.map.paintSegment(p, p, this.size / 2, this.value(), this.protect);
    this.schedule();
  }

  private onMove(): void {
    const viewer = this.ctx.viewer!;
    const p = viewer.pointer();
    if (!p) return;
    if (this.outlineBox) {
      const [x, y, w, hgt] = boxFromCorners(this.outlineBox.from, p, this.ctx.width, this.ctx.height);
      this.outlineBox.rect.setAttrs({ x, y, width: w, height: hgt });
      viewer.ui.batchDraw();
      return;
    }
    if (this.brushLike() && !this.outline) {
      this.cursor.position({ x: p[0], y: p[1] });
      this.cursor.visible(true);
      viewer.ui.batchDraw();
    } else if (this.fillPath) {
      this.fillLine.points([...this.fillPath.flat(), p[0], p[1]]);
      viewer.ui.batchDraw();
    }
    if (!this.last) return;
    this.map.paintSegment(this.last, p, this.size / 2, this.value(), this.protect);
    this.last = p;
    this.schedule();
  }

  private onUp(): void {
    if (this.outlineBox) return this.finishOutlineBox();
    if (!this.last) return;
    this.last = null;
    this.finishEdit(this.map.endStroke());
  }

  private toggleOutline(): void {
    this.cancelOutlineBox();
    this.cancelFill();
    this.outline = !this.outline;
    this.outlineButton.setAttribute("aria-pressed", String(this.outline));
    this.outlineButton.classList.toggle("active", this.outline);
    Object.entries(this.modeButtons).forEach(([m, b]) => b.classList.toggle("active", !this.outline && m === this.mode));
    this.cursor.visible(false);
    this.ctx.viewer!.ui.batchDraw();
    this.ctx.flash(this.outline ? "Drag a box around an object to fill it with the current label." : "Paint with the mouse or a finger.");
  }

  private startOutlineBox(p: Point): void {
    if (this.assisting) return this.ctx.flash("Still finding the object…");
    const from: Point = [clamp(p[0], 0, this.ctx.width), clamp(p[1], 0, this.ctx.height)];
    const [r, g, b] = PALETTE[this.labels.current % PALETTE.length];
    const rect = new Konva.Rect({ x: from[0], y: from[1], width: 0, height: 0, stroke: `rgb(${r},${g},${b})`, strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false, listening: false });
    this.ctx.viewer!.ui.add(rect);
    this.outlineBox = { from, rect };
  }

  private finishOutlineBox(): void {
    if (!this.outlineBox) return;
    const p = this.ctx.viewer!.pointer() ?? this.outlineBox.from;
    const box = boxFromCorners(this.outlineBox.from, p, this.ctx.width, this.ctx.height);
    this.cancelOutlineBox();
    if (box[2] < MIN_BOX || box[3] < MIN_BOX) return this.ctx.flash("Drag a box around the object.");
    void this.maskFromBox(box);
  }

  private cancelOutlineBox(): void {
    this.outlineBox?.rect.destroy();
    this.outlineBox = null;
    this.ctx.viewer?.ui.batchDraw();
  }

  /** Ask the server for the object's mask in the box and merge it into the label map as one
   * undoable edit (with "don't paint over other labels" honoured); a refusal changes nothing. */
  private async maskFromBox(box: Box): Promise<void> {
    const index = this.labels.current;
    this.assisting = true;
    this.ctx.flash("Finding the object…");
    try {
      const res = await post<{ answer: { mask_png_base64?: string } }>("/v1/assist/box_to_mask", {
        assignment_id: this.ctx.assignmentId,
        box: box.map(round2),
        label: this.ctx.spec.labels[index],
      });
      if (this.destroyed) return;
      const b64 = res.answer.mask_png_base64;
      const suggestion = typeof b64 === "string" ? decodeMask(base64ToBytes(b64), this.ctx.width, this.ctx.height) : null;
      if (!suggestion) return this.ctx.flash("The server's mask does not fit this image.");
      this.map.beginStroke();
      this.map.merge(suggestion, index + 1, this.protect);
      this.finishEdit(this.map.endStroke());
      this.ctx.flash("Object filled: paint to correct it, or undo (Ctrl+Z).");
    } catch (err) {
      if (this.destroyed) return;
      const x = explain(err);
      this.ctx.flash(err instanceof ApiError && err.status === 422 ? x.message : `${x.title}: ${x.message} ${x.next}`);
    } finally {
      this.assisting = false;
    }
  }

  private brushLike(): boolean {
    return this.mode === "brush" || this.mode === "eraser";
  }

  private showAssist(state: "idle" | "working" | "filled" | "failed", text: string): void {
    this.assistStatus.dataset.state = state;
    this.assistStatus.dataset.pending = String(this.superpixelsPending);
    this.assistStatus.textContent = text;
  }

  /** Ask the server for the superpixel under `p` and give its pixels the current label (or
   * clear them, `clear`) as one undoable edit, "don't paint over other labels" honoured. A
   * marker stays at the click until the answer arrives; a refusal changes nothing. */
  private async fillSuperpixel(p: Point, clear: boolean): Promise<void> {
    const viewer = this.ctx.viewer!;
    const index = this.labels.current;
    const [r, g, b] = PALETTE[index % PALETTE.length];
    const marker = new Konva.Circle({ x: p[0], y: p[1], radius: 5 / viewer.scale, fill: clear ? "#fff" : `rgb(${r},${g},${b})`, stroke: "#000", strokeWidth: 1, strokeScaleEnabled: false, listening: false, name: "superpixel-pending" });
    viewer.ui.add(marker);
    viewer.ui.batchDraw();
    this.superpixelsPending++;
    this.showAssist("working", "Finding the region…");
    try {
      const res = await post<{ answer: { mask_png_base64?: string }; area: number }>("/v1/assist/superpixel", {
        assignment_id: this.ctx.assignmentId,
        point: p.map(round2),
        label: this.ctx.spec.labels[index],
      });
      if (this.destroyed) return;
      const b64 = res.answer.mask_png_base64;
      const region = typeof b64 === "string" ? decodeMask(base64ToBytes(b64), this.ctx.width, this.ctx.height) : null;
      if (!region) {
        this.superpixelsPending--;
        return this.showAssist("failed", "The server's region does not fit this image.");
      }
      this.map.beginStroke();
      this.map.merge(region, clear ? 0 : index + 1, this.protect);
      this.finishEdit(this.map.endStroke());
      this.superpixelsPending--;
      const what = clear ? "cleared" : `filled with ${this.ctx.spec.labels[index]}`;
      this.showAssist("filled", `Region of ${res.area} px ${what}. Click more, Shift+click clears, Ctrl+Z undoes.`);
    } catch (err) {
      if (this.destroyed) return;
      this.superpixelsPending--;
      const x = explain(err);
      const message = err instanceof ApiError && err.status === 422 ? x.message : `${x.title}: ${x.message} ${x.next}`;
      this.showAssist("failed", message);
      this.ctx.flash(message);
    } finally {
      marker.destroy();
      viewer.ui.batchDraw();
    }
  }

  private closeFill(): void {
    if (!this.fillPath) return;
    const ring = this.fillPath.filter((p, i, a) => i === 0 || Math.hypot(p[0] - a[i - 1][0], p[1] - a[i - 1][1]) > 0.5);
    if (ring.length < 3) return this.ctx.flash("A fill needs at least 3 points.");
    this.map.beginStroke();
    this.map.fillRing(ring, this.subtract ? 0 : this.labels.current + 1, this.protect);
    this.cancelFill();
    this.finishEdit(this.map.endStroke());
  }

  private cancelFill(): void {
    this.fillPath = null;
    this.fillLine.points([]);
    this.ctx.viewer?.ui.batchDraw();
  }

  private finishEdit(patch: Patch | null): void {
    this.flush(false);
    if (!patch) return;
    this.undoStack.push(patch);
    if (this.undoStack.length > 100) this.undoStack.shift();
    this.redoStack = [];
    this.ctx.changed();
  }

  /** Redraw on the next frame: many mouse moves, one redraw of their dirty rectangle. */
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.flush(false);
    });
  }

  private flush(notify: boolean): void {
    const dirty = this.map.takeDirty();
    if (dirty) this.redraw(dirty);
    if (notify) this.ctx.changed();
  }

  private redraw(rect: { x: number; y: number; w: number; h: number }): void {
    if (rect.w <= 0 || rect.h <= 0) return;
    const image = this.context.createImageData(rect.w, rect.h);
    this.map.toRGBA(rect, PALETTE, ALPHA, image.data);
    this.context.putImageData(image, rect.x, rect.y);
    this.ctx.viewer!.overlayLayer.batchDraw();
  }
}
