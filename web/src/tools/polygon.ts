// Polygons: click to add vertices (Shift+drag draws freehand), right-click or Backspace removes
// the last one, double-click or N closes. Then drag a vertex, Alt-click deletes one, click an
// edge to insert one. A self-intersecting outline is refused while drawing and while editing,
// as the server would refuse it. Undo while drawing stays inside the shape being drawn.
// O ("Outline from box"): drag a box around an object; the server's box_to_polygon assist
// (docs/ASSIST.md) outlines it and the outline is added as an ordinary polygon (one undo step).
// S ("Snap to edges"): each clicked vertex, and each dragged one when dropped, moves to the
// nearest strong edge the server's snap assist finds within ~12 screen pixels; a green ring
// shows where it went, the panel says what happened, and a snap that would make the outline
// cross itself is not applied. A snapped drag is still one undo step.

import Konva from "konva";
import { boxFromCorners, canClose, clamp, nearestEdge, pathWouldCross, ringSelfIntersects, round2, snapRadius, withPointMoved, type Box, type Point } from "../canvas/geometry";
import { UndoStack } from "../canvas/undo";
import { ApiError, post } from "../core/api";
import { h } from "../core/dom";
import { explain } from "../core/errors";
import type { Answer } from "../core/types";
import { colour, deepCopy, LabelBar, type Tool, type ToolContext } from "./base";

interface PolygonObject {
  label: string;
  points: Point[];
}

interface State {
  objects: PolygonObject[];
}

interface AssistAnswer {
  answer: { objects?: PolygonObject[] };
}

interface SnapAnswer {
  point: [number, number];
  snapped: boolean;
}

type SnapState = "off" | "on" | "looking" | "snapped" | "none" | "refused";

const MIN_BOX = 4; // px in the image: a click is not a box to outline

export class PolygonTool implements Tool {
  private objects: PolygonObject[] = [];
  private selected = -1;
  private path: Point[] | null = null; // the outline being drawn
  private pathRedo: Point[] = [];
  private freehand = false;
  private repeatedClick = false; // the last click landed on the last point: half a double-click
  private readonly history = new UndoStack<State>();
  private readonly labels: LabelBar;
  private readonly list: HTMLElement;
  private readonly preview: Konva.Line;
  private outline = false; // "Outline from box" mode
  private outlineBox: { from: Point; rect: Konva.Rect } | null = null;
  private assisting = false; // a box_to_polygon call is on its way
  private destroyed = false;
  private readonly outlineButton: HTMLButtonElement;
  private snapping = false; // "Snap to edges" mode
  private snapsPending = 0;
  private readonly snapButton: HTMLButtonElement;
  private readonly snapStatus: HTMLElement;

  constructor(private readonly ctx: ToolContext) {
    const viewer = ctx.viewer!;
    this.labels = new LabelBar(ctx.spec.labels, (i) => this.relabelSelected(i));
    this.list = h("ol", { class: "objects" });
    this.outlineButton = h("button", { type: "button", class: "mode", "aria-pressed": "false", "data-action": "outline-from-box", onclick: () => this.toggleOutline() },
      "Outline from box (O)") as HTMLButtonElement;
    this.snapButton = h("button", { type: "button", class: "mode", "aria-pressed": "false", "data-action": "snap-to-edges", onclick: () => this.toggleSnap() },
      "Snap to edges (S)") as HTMLButtonElement;
    this.snapStatus = h("div", { class: "snap-status", "data-state": "off", "aria-live": "polite" });
    if (!ctx.assignmentId || ctx.readOnly) {
      this.outlineButton.hidden = true;
      this.snapButton.hidden = true;
      this.snapStatus.hidden = true;
    }
    ctx.panel.append(
      this.labels.el,
      h("div", { class: "panel-title" }, "Polygons"),
      this.list,
      this.outlineButton,
      this.snapButton,
      this.snapStatus,
      h("p", { class: "hint" }, "Click to add points (Shift+drag: freehand); double-click or N closes; right-click or Backspace removes the last point; Esc cancels. Selected: drag a point, Alt+click deletes it, click an edge to add one. O: drag a box around an object to outline it. S: snap new and dragged points to the nearest edge."),
    );
    this.preview = new Konva.Line({ points: [], stroke: "#fff", strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false });
    viewer.ui.add(this.preview);
    viewer.stage.on("pointerdown.poly", (e) => this.onDown(e));
    viewer.stage.on("pointermove.poly", () => this.onMove());
    viewer.stage.on("pointerup.poly pointercancel.poly", () => {
      this.freehand = false;
      this.finishOutlineBox();
    });
    viewer.stage.on("pointerdblclick.poly", () => this.isDoubleClickOnLastPoint() && this.close());
    viewer.onViewChange = () => this.render(false);
    this.render(false);
  }

  answer(): Answer {
    return { objects: this.objects.map((o) => ({ label: o.label, points: o.points.map(([x, y]) => [round2(x), round2(y)]) })) };
  }

  check(): string | null {
    if (this.path && this.path.length) return "Finish the polygon you are drawing (double-click or N) or cancel it (Esc).";
    const bad = this.objects.findIndex((o) => ringSelfIntersects(o.points));
    return bad >= 0 ? `Polygon ${bad + 1} crosses itself; move a point so its edges do not cross.` : null;
  }

  state(): unknown {
    return { objects: this.objects };
  }

  restore(state: unknown): void {
    this.objects = deepCopy((state as State).objects || []);
    this.render(false);
  }

  load(answer: Answer): void {
    const objects = (answer.objects as PolygonObject[] | undefined) || [];
    this.objects = objects.filter((o) => Array.isArray(o.points) && o.points.length >= 3).map((o) => ({
      label: this.ctx.spec.labels.includes(o.label) ? o.label : this.ctx.spec.labels[0],
      points: o.points.map(([x, y]) => [x, y] as Point),
    }));
    this.render(false);
  }

  key(_e: KeyboardEvent, combo: string): boolean {
    if (this.labels.key(combo)) return true;
    if (combo === "N") return this.close(), true;
    if (combo === "O" && !this.ctx.readOnly && this.ctx.assignmentId) return this.toggleOutline(), true;
    if (combo === "S" && !this.ctx.readOnly && this.ctx.assignmentId) return this.toggleSnap(), true;
    if (combo === "Escape") {
      if (this.outlineBox) this.cancelOutlineBox();
      else if (this.outline) this.toggleOutline();
      else if (this.path) this.cancel();
      else this.select(-1);
      return true;
    }
    if (combo === "Backspace" || combo === "Delete") {
      if (this.path) this.removeLastPoint();
      else if (this.selected >= 0) {
        this.edit(() => this.objects.splice(this.selected, 1));
        this.selected = -1;
        this.render();
      }
      return true;
    }
    return false;
  }

  undo(): void {
    if (this.outlineBox) return this.cancelOutlineBox();
    if (this.path) return this.removeLastPoint();
    const s = this.history.undo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  redo(): void {
    if (this.path) {
      const p = this.pathRedo.pop();
      if (p) {
        this.path.push(p);
        this.render(false);
      }
      return;
    }
    const s = this.history.redo({ objects: deepCopy(this.objects) });
    if (s) this.apply(s);
  }

  destroy(): void {
    this.destroyed = true;
    const viewer = this.ctx.viewer;
    viewer?.stage.off(".poly");
    if (viewer) viewer.onViewChange = null;
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

  private clampPoint(p: Point): Point {
    return [clamp(p[0], 0, this.ctx.width), clamp(p[1], 0, this.ctx.height)];
  }

  private onDown(e: Konva.KonvaEventObject<MouseEvent>): void {
    const viewer = this.ctx.viewer!;
    if (this.ctx.readOnly || viewer.isPanning()) return;
    if (e.evt.button === 2) {
      if (this.path) this.removeLastPoint();
      return;
    }
    if (e.evt.button !== 0) return;
    if (this.outline) return this.startOutlineBox();
    if (!this.path && e.target !== viewer.stage) return; // a shape handles its own click
    if (!this.path && this.selected >= 0) return this.select(-1);
    const raw = viewer.pointer();
    if (!raw) return;
    const p = this.clampPoint(raw);
    let added = true;
    if (!this.path) {
      this.path = [p];
      this.pathRedo = [];
      this.repeatedClick = false;
    } else added = this.addPoint(p);
    this.freehand = e.evt.shiftKey;
    this.render(false);
    if (added && this.snapping && !this.freehand) void this.snapPoint(p);
  }

  private addPoint(p: Point): boolean {
    const path = this.path!;
    const last = path[path.length - 1];
    const near = 3 / this.ctx.viewer!.scale;
    this.repeatedClick = Math.hypot(p[0] - last[0], p[1] - last[1]) < near;
    if (this.repeatedClick) return false; // the 2nd click of a double-click
    if (pathWouldCross(path, p)) {
      this.ctx.flash("That point would make the outline cross itself.");
      return false;
    }
    path.push(p);
    this.pathRedo = [];
    return true;
  }

  private onMove(): void {
    if (this.outlineBox) return this.moveOutlineBox();
    if (!this.path) return;
    const raw = this.ctx.viewer!.pointer();
    if (!raw) return;
    const p = this.clampPoint(raw);
    if (this.freehand) {
      const last = this.path[this.path.length - 1];
      if (Math.hypot(p[0] - last[0], p[1] - last[1]) * this.ctx.viewer!.scale >= 6) this.addPoint(p);
    }
    const pts = [...this.path, p].flat();
    this.preview.points(pts);
    this.ctx.viewer!.ui.batchDraw();
  }

  /** Konva reports two quick clicks anywhere as a double-click; only a second click on the
   * same spot (which added no point) closes the polygon. */
  private isDoubleClickOnLastPoint(): boolean {
    return this.repeatedClick;
  }

  private removeLastPoint(): void {
    if (!this.path) return;
    const p = this.path.pop();
    if (p) this.pathRedo.push(p);
    if (!this.path.length) this.path = null;
    this.render(false);
  }

  private close(): void {
    if (!this.path) return;
    if (this.path.length < 3) return this.ctx.flash("A polygon needs at least 3 points.");
    if (!canClose(this.path)) return this.ctx.flash("Closing here would make the outline cross itself; add or remove a point first.");
    const points = this.path;
    this.path = null;
    this.edit(() => this.objects.push({ label: this.ctx.spec.labels[this.labels.current], points }));
    this.selected = this.objects.length - 1;
    this.render();
  }

  private cancel(): void {
    this.path = null;
    this.render(false);
  }

  private render(notify = true): void {
    const viewer = this.ctx.viewer!;
    const layer = viewer.shapes;
    layer.destroyChildren();
    const r = 5 / viewer.scale;
    this.objects.forEach((o, i) => {
      const li = this.ctx.spec.labels.indexOf(o.label);
      const selected = i === this.selected;
      const line = new Konva.Line({
        points: o.points.flat(), closed: true, stroke: colour(li), strokeWidth: selected ? 3 : 2,
        strokeScaleEnabled: false, fill: selected ? "rgba(255,255,255,0.15)" : "rgba(255,255,255,0.04)",
        hitStrokeWidth: 12,
      });
      line.on("pointerdown", (e) => {
        if (viewer.isPanning() || this.path || this.outline || e.evt.button !== 0) return; // outline mode: the stage starts a box
        e.cancelBubble = true;
        if (!selected) return this.select(i);
        this.insertVertex(i);
      });
      layer.add(line);
      if (!selected || this.ctx.readOnly) return;
      o.points.forEach((pt, k) => {
        const dot = new Konva.Circle({ x: pt[0], y: pt[1], radius: r, fill: "#fff", stroke: colour(li), strokeWidth: 2, strokeScaleEnabled: false, draggable: true, name: "vertex" });
        let before: Point = pt;
        dot.on("pointerdown", (e) => {
          e.cancelBubble = true;
          if (e.evt.altKey) {
            e.evt.preventDefault();
            if (o.points.length <= 3) return this.ctx.flash("A polygon keeps at least 3 points.");
            const next = o.points.filter((_, j) => j !== k);
            if (ringSelfIntersects(next)) return this.ctx.flash("Removing that point would make the outline cross itself.");
            this.edit(() => (o.points = next));
            this.render();
          }
        });
        dot.on("dragstart", () => (before = [...o.points[k]] as Point));
        dot.on("dragmove", () => {
          const p = this.clampPoint([dot.x(), dot.y()]);
          dot.position({ x: p[0], y: p[1] });
          o.points[k] = p;
          line.points(o.points.flat());
        });
        dot.on("dragend", () => {
          const moved = o.points[k];
          o.points[k] = before;
          const next = o.points.map((q, j) => (j === k ? moved : q));
          if (ringSelfIntersects(next)) {
            this.ctx.flash("That would make the outline cross itself; the point went back.");
            this.render(false);
            return;
          }
          this.edit(() => (o.points = next));
          this.render();
          if (this.snapping) void this.snapPoint(moved);
        });
        layer.add(dot);
      });
    });
    if (this.path) {
      const li = this.labels.current;
      layer.add(new Konva.Line({ points: this.path.flat(), stroke: colour(li), strokeWidth: 2, strokeScaleEnabled: false, listening: false }));
      this.path.forEach((pt, k) => layer.add(new Konva.Circle({ x: pt[0], y: pt[1], radius: k === 0 ? r * 1.4 : r, fill: k === 0 ? colour(li) : "#fff", listening: false })));
    } else this.preview.points([]);
    // Drawn now, not on the next frame: the hit graph must know the new shapes before the
    // next click (a click right after an edit would otherwise fall through to the stage).
    layer.draw();
    viewer.ui.batchDraw();
    this.renderList();
    if (notify) this.ctx.changed();
  }

  private insertVertex(i: number): void {
    const p = this.ctx.viewer!.pointer();
    if (!p) return;
    const o = this.objects[i];
    const { after } = nearestEdge(o.points, p);
    const next = [...o.points.slice(0, after + 1), this.clampPoint(p), ...o.points.slice(after + 1)];
    if (ringSelfIntersects(next)) return this.ctx.flash("A point there would make the outline cross itself.");
    this.edit(() => (o.points = next));
    this.render();
  }

  private toggleOutline(): void {
    this.cancelOutlineBox();
    if (this.path) this.cancel();
    this.outline = !this.outline;
    this.outlineButton.setAttribute("aria-pressed", String(this.outline));
    this.outlineButton.classList.toggle("active", this.outline);
    this.ctx.flash(this.outline ? "Drag a box around an object to outline it." : "Click to add points.");
  }

  private startOutlineBox(): void {
    const viewer = this.ctx.viewer!;
    if (this.assisting) return this.ctx.flash("Still finding the outline…");
    const raw = viewer.pointer();
    if (!raw) return;
    const p = this.clampPoint(raw);
    const rect = new Konva.Rect({ x: p[0], y: p[1], width: 0, height: 0, stroke: colour(this.labels.current), strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false, listening: false });
    viewer.ui.add(rect);
    this.outlineBox = { from: p, rect };
  }

  private moveOutlineBox(): void {
    const p = this.ctx.viewer!.pointer();
    if (!p || !this.outlineBox) return;
    const [x, y, w, hgt] = boxFromCorners(this.outlineBox.from, p, this.ctx.width, this.ctx.height);
    this.outlineBox.rect.setAttrs({ x, y, width: w, height: hgt });
    this.ctx.viewer!.ui.batchDraw();
  }

  private finishOutlineBox(): void {
    if (!this.outlineBox) return;
    const p = this.ctx.viewer!.pointer() ?? this.outlineBox.from;
    const box = boxFromCorners(this.outlineBox.from, p, this.ctx.width, this.ctx.height);
    this.cancelOutlineBox();
    if (box[2] < MIN_BOX || box[3] < MIN_BOX) return this.ctx.flash("Drag a box around the object.");
    void this.outlineFromBox(box);
  }

  private cancelOutlineBox(): void {
    this.outlineBox?.rect.destroy();
    this.outlineBox = null;
    this.ctx.viewer?.ui.batchDraw();
  }

  /** Ask the server for the object's outline in the box; add it as one undoable edit. A
   * refusal (nothing found, too many calls, lease over) is shown in its words and changes nothing. */
  private async outlineFromBox(box: Box): Promise<void> {
    const label = this.ctx.spec.labels[this.labels.current];
    this.assisting = true;
    this.ctx.flash("Finding the outline…");
    try {
      const res = await post<AssistAnswer>("/v1/assist/box_to_polygon", {
        assignment_id: this.ctx.assignmentId,
        box: box.map(round2),
        label,
      });
      if (this.destroyed) return;
      const found = (res.answer.objects || [])
        .filter((o) => Array.isArray(o.points) && o.points.length >= 3)
        .map((o) => ({ label, points: o.points.map(([x, y]) => this.clampPoint([x, y])) }));
      if (!found.length) return this.ctx.flash("No outline was found in that box.");
      this.edit(() => this.objects.push(...found));
      this.selected = this.objects.length - 1;
      this.render();
      this.ctx.flash("Outline added: edit its points, or undo (Ctrl+Z).");
    } catch (err) {
      if (this.destroyed) return;
      // The server's words: a 422 (nothing found, a box outside the image) says it all; the
      // others (429, an expired lease) also say what to do next.
      const x = explain(err);
      this.ctx.flash(err instanceof ApiError && err.status === 422 ? x.message : `${x.title}: ${x.message} ${x.next}`);
    } finally {
      this.assisting = false;
    }
  }

  private toggleSnap(): void {
    this.snapping = !this.snapping;
    this.snapButton.setAttribute("aria-pressed", String(this.snapping));
    this.snapButton.classList.toggle("active", this.snapping);
    this.showSnap(this.snapping ? "on" : "off", this.snapping ? "Snapping to edges: new and dragged points move to the nearest edge." : "");
    this.ctx.flash(this.snapping ? "Snap to edges on: points you place move to the nearest edge." : "Snap to edges off.");
  }

  private showSnap(state: SnapState, text: string): void {
    this.snapStatus.dataset.state = state;
    this.snapStatus.textContent = text;
  }

  /** Ask the server for the nearest edge to the point `ref` (a vertex of the path being drawn
   * or of a polygon, found by identity so later edits do not confuse it) and move the vertex
   * there, unless it has gone or the move would make its outline cross itself. The move is no
   * new undo step: it completes the click or drag that placed the point. */
  private async snapPoint(ref: Point): Promise<void> {
    const radius = snapRadius(this.ctx.viewer!.scale);
    this.snapsPending++;
    this.snapStatus.dataset.pending = String(this.snapsPending);
    this.showSnap("looking", "Looking for an edge…");
    try {
      const res = await post<SnapAnswer>("/v1/assist/snap", {
        assignment_id: this.ctx.assignmentId,
        point: ref.map(round2),
        radius: round2(radius),
      });
      if (this.destroyed) return;
      if (!res.snapped) return this.showSnap("none", `No edge within ${Math.round(radius)} px: the point stays where you put it.`);
      const to = this.clampPoint(res.point);
      const moved = Math.hypot(to[0] - ref[0], to[1] - ref[1]);
      if (!this.moveVertex(ref, to)) return this.showSnap("refused", "An edge is near, but snapping there would make the outline cross itself; the point stays.");
      this.mark(to);
      this.showSnap("snapped", `Snapped to an edge (moved ${moved.toFixed(1)} px).`);
    } catch (err) {
      if (this.destroyed) return;
      const x = explain(err);
      this.showSnap("none", "Snapping failed; the point stays where you put it.");
      this.ctx.flash(err instanceof ApiError && err.status === 422 ? x.message : `${x.title}: ${x.message} ${x.next}`);
    } finally {
      this.snapsPending--;
      this.snapStatus.dataset.pending = String(this.snapsPending);
    }
  }

  private moveVertex(ref: Point, to: Point): boolean {
    if (this.path) {
      const k = this.path.indexOf(ref);
      if (k >= 0) {
        const next = withPointMoved(this.path, k, to, false);
        if (!next) return false;
        this.path = next;
        this.render(false);
        return true;
      }
    }
    const o = this.objects.find((obj) => obj.points.includes(ref));
    if (!o) return false;
    const next = withPointMoved(o.points, o.points.indexOf(ref), to, true);
    if (!next) return false;
    o.points = next;
    this.render();
    return true;
  }

  /** A short-lived green ring where a point snapped to. */
  private mark(p: Point): void {
    const viewer = this.ctx.viewer!;
    const ring = new Konva.Circle({ x: p[0], y: p[1], radius: 9 / viewer.scale, stroke: "#3ddc84", strokeWidth: 2, strokeScaleEnabled: false, listening: false, name: "snap-mark" });
    viewer.ui.add(ring);
    viewer.ui.batchDraw();
    window.setTimeout(() => {
      ring.destroy();
      viewer.ui.batchDraw();
    }, 900);
  }

  private renderList(): void {
    this.list.replaceChildren(
      ...this.objects.map((o, i) =>
        h("li", { class: i === this.selected ? "active" : "", onclick: () => this.select(i) },
          h("span", { class: "swatch", style: `background:${colour(this.ctx.spec.labels.indexOf(o.label))}` }),
          `${o.label} — ${o.points.length} points`,
        ),
      ),
    );
    if (!this.objects.length) this.list.append(h("li", { class: "empty" }, this.path ? "Drawing…" : "No polygons yet."));
  }
}
