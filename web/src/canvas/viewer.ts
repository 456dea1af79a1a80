// The image under every tool: a Konva stage whose transform maps image pixels to the screen.
// Wheel zooms around the cursor, Space+drag or the middle button pans, fit() shows it whole.
// The image layer does not listen for events (no hit tests on a 24-megapixel bitmap), and a big
// image is drawn from a downscaled copy while it is shown smaller than that copy: panning a
// 6000x4000 photo at fit then scales 3 megapixels per frame instead of 24.

import Konva from "konva";
import { isTextField } from "../core/keys";
import type { Point } from "./geometry";

const PREVIEW_MAX_SIDE = 2048; // px: sharper than any screen shows a whole image

Konva.pixelRatio = 1; // one canvas pixel per CSS pixel: 4x less to draw on high-DPI screens

export class Viewer {
  readonly stage: Konva.Stage;
  readonly imageLayer: Konva.Layer;
  readonly overlayLayer: Konva.Layer; // masks: drawn, never hit-tested
  readonly shapes: Konva.Layer; // editable shapes
  readonly ui: Konva.Layer; // cursors, the shape being drawn
  spaceHeld = false;
  private panFrom: { x: number; y: number; sx: number; sy: number } | null = null;
  private readonly resize: ResizeObserver;
  private readonly cleanups: (() => void)[] = [];
  onViewChange: (() => void) | null = null;
  private readonly picture: Konva.Image | null = null;
  private preview: HTMLCanvasElement | null = null;
  private full: HTMLImageElement | null = null;
  private destroyed = false;

  constructor(
    readonly container: HTMLElement,
    readonly width: number,
    readonly height: number,
    image: HTMLImageElement | null,
  ) {
    this.stage = new Konva.Stage({
      container: container as HTMLDivElement,
      width: container.clientWidth || 800,
      height: container.clientHeight || 600,
    });
    this.imageLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
    this.overlayLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
    this.shapes = new Konva.Layer();
    this.ui = new Konva.Layer({ listening: false });
    this.stage.add(this.imageLayer, this.overlayLayer, this.shapes, this.ui);
    this.imageLayer.add(new Konva.Rect({ width, height, fill: "#222" }));
    if (image) {
      this.picture = new Konva.Image({ image, width, height });
      this.imageLayer.add(this.picture);
      // After the first frame: the task is on screen at once, the copy follows.
      if (Math.max(width, height) > PREVIEW_MAX_SIDE) requestAnimationFrame(() => this.makePreview(image));
    }
    this.resize = new ResizeObserver(() => this.fitContainer());
    this.resize.observe(container);
    this.stage.on("wheel", (e) => this.onWheel(e.evt));
    this.listen(container, "pointerdown", (e) => this.onDown(e as MouseEvent), true);
    this.listen(window, "pointermove", (e) => this.onMove(e as MouseEvent));
    this.listen(window, "pointerup", () => this.endPan());
    this.listen(window, "pointercancel", () => this.endPan()); // the browser took the pointer
    this.listen(window, "keydown", (e) => this.onKey(e as KeyboardEvent, true));
    this.listen(window, "keyup", (e) => this.onKey(e as KeyboardEvent, false));
    this.listen(container, "contextmenu", (e) => e.preventDefault());
    this.fit();
  }

  get scale(): number {
    return this.stage.scaleX();
  }

  /** The pointer in image pixels (may lie outside the image), or null off the stage. */
  pointer(): Point | null {
    const p = this.stage.getRelativePointerPosition();
    return p ? [p.x, p.y] : null;
  }

  /** Whether a pointer event belongs to panning rather than to the tool. */
  isPanning(): boolean {
    return this.spaceHeld || this.panFrom !== null;
  }

  fit(): void {
    const w = this.stage.width(), h = this.stage.height();
    const s = Math.min(w / this.width, h / this.height) * 0.98;
    this.stage.scale({ x: s, y: s });
    this.stage.position({ x: (w - this.width * s) / 2, y: (h - this.height * s) / 2 });
    this.changed();
  }

  zoomAt(screen: { x: number; y: number }, factor: number): void {
    const old = this.scale;
    const fitScale = Math.min(this.stage.width() / this.width, this.stage.height() / this.height);
    const next = Math.min(Math.max(old * factor, fitScale * 0.25), 40);
    const pos = this.stage.position();
    const at = { x: (screen.x - pos.x) / old, y: (screen.y - pos.y) / old };
    this.stage.scale({ x: next, y: next });
    this.stage.position({ x: screen.x - at.x * next, y: screen.y - at.y * next });
    this.changed();
  }

  panBy(dx: number, dy: number): void {
    const p = this.stage.position();
    this.stage.position({ x: p.x + dx, y: p.y + dy });
    this.changed();
  }

  destroy(): void {
    this.destroyed = true;
    this.resize.disconnect();
    this.cleanups.forEach((c) => c());
    this.stage.destroy();
  }

  private makePreview(image: HTMLImageElement): void {
    if (!this.picture || this.destroyed) return; // the task may have moved on before this frame
    const k = PREVIEW_MAX_SIDE / Math.max(this.width, this.height);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(this.width * k);
    canvas.height = Math.round(this.height * k);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    this.preview = canvas;
    this.full = image;
    this.changed();
  }

  /** The downscaled copy while the image is shown no bigger than it, else the original. */
  private pickLevel(): void {
    if (!this.picture || !this.preview || !this.full) return;
    const shown = this.scale * Math.max(this.width, this.height);
    const want = shown <= PREVIEW_MAX_SIDE ? this.preview : this.full;
    if (this.picture.image() !== want) this.picture.image(want);
  }

  private changed(): void {
    this.pickLevel();
    this.stage.batchDraw();
    this.onViewChange?.();
  }

  private fitContainer(): void {
    const w = this.container.clientWidth, h = this.container.clientHeight;
    if (!w || !h || (w === this.stage.width() && h === this.stage.height())) return;
    this.stage.size({ width: w, height: h });
    this.fit();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.stage.getPointerPosition();
    if (!p) return;
    this.zoomAt(p, Math.exp(-e.deltaY * 0.0015));
  }

  private onDown(e: MouseEvent): void {
    if (e.button === 1 || (e.button === 0 && this.spaceHeld)) {
      e.preventDefault();
      e.stopPropagation();
      const p = this.stage.position();
      this.panFrom = { x: e.clientX, y: e.clientY, sx: p.x, sy: p.y };
      this.container.classList.add("panning");
    }
  }

  private onMove(e: MouseEvent): void {
    if (!this.panFrom) return;
    this.stage.position({ x: this.panFrom.sx + e.clientX - this.panFrom.x, y: this.panFrom.sy + e.clientY - this.panFrom.y });
    this.changed();
  }

  private endPan(): void {
    if (!this.panFrom) return;
    this.panFrom = null;
    this.container.classList.remove("panning");
  }

  private onKey(e: KeyboardEvent, down: boolean): void {
    if (e.key !== " " || isTextField(e.target)) return;
    e.preventDefault();
    this.spaceHeld = down;
    this.container.classList.toggle("pan-ready", down);
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void, capture = false): void {
    target.addEventListener(type, fn, capture);
    this.cleanups.push(() => target.removeEventListener(type, fn, capture));
  }
}
