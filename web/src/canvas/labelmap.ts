// A segmentation mask as a label map: one byte per image pixel, 0 = none, k = label k-1.
// Painting writes exact label values (no anti-aliasing), so the PNG encoded from this map is
// valid as it stands; the canvas only ever *shows* it. Pure: unit-tested without a browser.

import { pointInRing, type Point } from "./geometry";

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const TILE = 256;

/** The pixels one stroke changed, saved per 256×256 tile, so undo costs what the stroke touched. */
export interface Patch {
  tiles: Map<number, Uint8Array>;
}

export class LabelMap {
  readonly data: Uint8Array;
  private dirty: Rect | null = null;
  private stroke: Map<number, Uint8Array> | null = null;
  private readonly tilesX: number;

  constructor(readonly width: number, readonly height: number, data?: Uint8Array) {
    if (data && data.length !== width * height) throw new Error("label map size mismatch");
    this.data = data ?? new Uint8Array(width * height);
    this.tilesX = Math.ceil(width / TILE);
  }

  /** The region changed since the last call (what needs redrawing), then forgets it. */
  takeDirty(): Rect | null {
    const d = this.dirty;
    this.dirty = null;
    return d;
  }

  beginStroke(): void {
    this.stroke = new Map();
  }

  /** Ends the stroke and returns what it changed (null if nothing). */
  endStroke(): Patch | null {
    const tiles = this.stroke;
    this.stroke = null;
    return tiles && tiles.size ? { tiles } : null;
  }

  /** Puts a patch's saved tiles back and returns the patch that redoes what it undid. */
  applyPatch(patch: Patch): Patch {
    const inverse = new Map<number, Uint8Array>();
    for (const [index, saved] of patch.tiles) {
      const r = this.tileRect(index);
      inverse.set(index, this.copyRect(r));
      let k = 0;
      for (let y = r.y; y < r.y + r.h; y++) {
        this.data.set(saved.subarray(k, k + r.w), y * this.width + r.x);
        k += r.w;
      }
      this.markDirty(r.x, r.y, r.x + r.w, r.y + r.h);
    }
    return { tiles: inverse };
  }

  /** Paints a round brush of radius r swept from a to b (a capsule: no gaps however fast). */
  paintSegment(a: Point, b: Point, r: number, value: number, protect = false): void {
    const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - r));
    const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - r));
    const x1 = Math.min(this.width, Math.ceil(Math.max(a[0], b[0]) + r));
    const y1 = Math.min(this.height, Math.ceil(Math.max(a[1], b[1]) + r));
    if (x0 >= x1 || y0 >= y1) return;
    this.save(x0, y0, x1, y1);
    // Distance from each pixel centre to the segment, inline: this loop runs per mouse move.
    const r2 = r * r;
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const len2 = dx * dx + dy * dy;
    for (let y = y0; y < y1; y++) {
      const row = y * this.width;
      const py = y + 0.5 - a[1];
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5 - a[0];
        let t = len2 === 0 ? 0 : (px * dx + py * dy) / len2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = px - t * dx, ey = py - t * dy;
        if (ex * ex + ey * ey <= r2) this.write(row + x, value, protect);
      }
    }
    this.markDirty(x0, y0, x1, y1);
  }

  /** Fills a polygon (pixel centres inside it) with `value`; 0 subtracts. */
  fillRing(ring: Point[], value: number, protect = false): void {
    if (ring.length < 3) return;
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs)));
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const x1 = Math.min(this.width, Math.ceil(Math.max(...xs)));
    const y1 = Math.min(this.height, Math.ceil(Math.max(...ys)));
    if (x0 >= x1 || y0 >= y1) return;
    this.save(x0, y0, x1, y1);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        if (pointInRing(ring, x + 0.5, y + 0.5)) this.write(y * this.width + x, value, protect);
      }
    }
    this.markDirty(x0, y0, x1, y1);
  }

  /** Writes `value` wherever `other` is not 0 (a suggestion from the server, same size). */
  merge(other: LabelMap, value: number, protect = false): void {
    if (other.width !== this.width || other.height !== this.height) throw new Error("label map size mismatch");
    let x0 = this.width, y0 = this.height, x1 = 0, y1 = 0;
    for (let y = 0; y < this.height; y++) {
      const row = y * this.width;
      for (let x = 0; x < this.width; x++) {
        if (other.data[row + x] === 0) continue;
        if (x < x0) x0 = x;
        if (x >= x1) x1 = x + 1;
        if (y < y0) y0 = y;
        y1 = y + 1;
      }
    }
    if (x0 >= x1 || y0 >= y1) return;
    this.save(x0, y0, x1, y1);
    for (let y = y0; y < y1; y++) {
      const row = y * this.width;
      for (let x = x0; x < x1; x++) if (other.data[row + x] !== 0) this.write(row + x, value, protect);
    }
    this.markDirty(x0, y0, x1, y1);
  }

  /** How many pixels hold each value (index = value). */
  histogram(): number[] {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < this.data.length; i++) counts[this.data[i]]++;
    return counts;
  }

  /** Writes RGBA for the rectangle: label colours at `alpha`, transparent where 0. */
  toRGBA(rect: Rect, palette: [number, number, number][], alpha: number, out: Uint8ClampedArray): void {
    let k = 0;
    for (let y = rect.y; y < rect.y + rect.h; y++) {
      let i = y * this.width + rect.x;
      for (let x = 0; x < rect.w; x++, i++, k += 4) {
        const v = this.data[i];
        if (v === 0) {
          out[k + 3] = 0;
          continue;
        }
        const c = palette[(v - 1) % palette.length];
        out[k] = c[0];
        out[k + 1] = c[1];
        out[k + 2] = c[2];
        out[k + 3] = alpha;
      }
    }
  }

  private write(i: number, value: number, protect: boolean): void {
    // "Don't paint over other labels": a pixel of another label keeps it.
    if (protect && value !== 0 && this.data[i] !== 0 && this.data[i] !== value) return;
    this.data[i] = value;
  }

  private markDirty(x0: number, y0: number, x1: number, y1: number): void {
    const d = this.dirty;
    if (!d) {
      this.dirty = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      return;
    }
    const nx0 = Math.min(d.x, x0), ny0 = Math.min(d.y, y0);
    const nx1 = Math.max(d.x + d.w, x1), ny1 = Math.max(d.y + d.h, y1);
    this.dirty = { x: nx0, y: ny0, w: nx1 - nx0, h: ny1 - ny0 };
  }

  private tileRect(index: number): Rect {
    const tx = index % this.tilesX, ty = Math.floor(index / this.tilesX);
    const x = tx * TILE, y = ty * TILE;
    return { x, y, w: Math.min(TILE, this.width - x), h: Math.min(TILE, this.height - y) };
  }

  private copyRect(r: Rect): Uint8Array {
    const out = new Uint8Array(r.w * r.h);
    for (let y = 0; y < r.h; y++) {
      const start = (r.y + y) * this.width + r.x;
      out.set(this.data.subarray(start, start + r.w), y * r.w);
    }
    return out;
  }

  /** Before a stroke first writes into a tile, keep the tile's old pixels for undo. */
  private save(x0: number, y0: number, x1: number, y1: number): void {
    if (!this.stroke) return;
    for (let ty = Math.floor(y0 / TILE); ty <= Math.floor((y1 - 1) / TILE); ty++) {
      for (let tx = Math.floor(x0 / TILE); tx <= Math.floor((x1 - 1) / TILE); tx++) {
        const index = ty * this.tilesX + tx;
        if (!this.stroke.has(index)) this.stroke.set(index, this.copyRect(this.tileRect(index)));
      }
    }
  }
}
