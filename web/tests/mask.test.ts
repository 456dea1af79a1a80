import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import { LabelMap } from "../src/canvas/labelmap";
import { decodeMask, encodeMask } from "../src/canvas/png";

describe("LabelMap", () => {
  it("paints exact label values with no anti-aliased edge", () => {
    const m = new LabelMap(50, 40);
    m.paintSegment([10, 10], [30, 10], 5, 2);
    const values = new Set(m.data);
    expect([...values].sort()).toEqual([0, 2]);
    expect(m.data[10 * 50 + 20]).toBe(2);
    expect(m.data[30 * 50 + 20]).toBe(0);
  });
  it("reports the dirty rectangle once", () => {
    const m = new LabelMap(100, 100);
    m.paintSegment([50, 50], [50, 50], 4, 1);
    const d = m.takeDirty()!;
    expect(d.x).toBeGreaterThanOrEqual(45);
    expect(d.x + d.w).toBeLessThanOrEqual(55);
    expect(m.takeDirty()).toBeNull();
  });
  it("does not paint over other labels when asked", () => {
    const m = new LabelMap(20, 20);
    m.fillRing([[0, 0], [10, 0], [10, 20], [0, 20]], 1);
    m.fillRing([[0, 0], [20, 0], [20, 20], [0, 20]], 2, true);
    expect(m.histogram().slice(0, 3)).toEqual([0, 200, 200]);
  });
  it("undoes a stroke exactly, and redoes it", () => {
    const m = new LabelMap(600, 300);
    m.beginStroke();
    m.paintSegment([100, 100], [500, 200], 30, 3);
    const patch = m.endStroke()!;
    const painted = m.data.slice();
    const redo = m.applyPatch(patch);
    expect(m.histogram()[3]).toBe(0);
    m.applyPatch(redo);
    expect(m.data.every((v, i) => v === painted[i])).toBe(true);
  });
});

describe("LabelMap.merge", () => {
  it("writes the value where the suggestion is set, as one undoable patch", () => {
    const m = new LabelMap(300, 20);
    m.fillRing([[0, 0], [5, 0], [5, 20], [0, 20]], 2);
    const before = Uint8Array.from(m.data);
    m.takeDirty();
    const s = new LabelMap(300, 20);
    s.fillRing([[2, 2], [280, 2], [280, 10], [2, 10]], 9); // any non-zero value counts
    m.beginStroke();
    m.merge(s, 1, true);
    const patch = m.endStroke()!;
    expect(m.data[3 * 300 + 3]).toBe(2); // protected: another label keeps its pixel
    expect(m.data[3 * 300 + 270]).toBe(1);
    expect(m.data[15 * 300 + 100]).toBe(0);
    expect(m.takeDirty()).toEqual({ x: 2, y: 2, w: 278, h: 8 });
    m.applyPatch(patch);
    expect(m.data.every((v, i) => v === before[i])).toBe(true);
  });
});

describe("mask PNG", () => {
  it("is one channel, 8 bits, the image's size, and decodes to the same labels", () => {
    const m = new LabelMap(64, 48);
    m.paintSegment([5, 5], [60, 40], 6, 1);
    m.fillRing([[40, 2], [62, 2], [62, 20]], 2);
    const png = decode(encodeMask(m));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([64, 48, 1, 8]);
    const back = decodeMask(encodeMask(m), 64, 48)!;
    expect(back.data.every((v, i) => v === m.data[i])).toBe(true);
  });
  it("refuses a mask of another size", () => {
    expect(decodeMask(encodeMask(new LabelMap(10, 10)), 11, 10)).toBeNull();
  });
});
