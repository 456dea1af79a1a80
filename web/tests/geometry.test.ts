import { describe, expect, it } from "vitest";
import { boxFromCorners, boxFromPoints, canClose, clipBox, moveBox, nearestEdge, pathSelfIntersects, pathWouldCross, pointInRing, ringSelfIntersects, snapRadius, withPointMoved, type Point } from "../src/canvas/geometry";

describe("boxes", () => {
  it("span two corners in any order, clipped to the image", () => {
    expect(boxFromCorners([50, 40], [10, 10], 100, 100)).toEqual([10, 10, 40, 30]);
    expect(boxFromCorners([-5, -5], [120, 20], 100, 100)).toEqual([0, 0, 100, 20]);
  });
  it("boxes four extreme points given in any order, inside the image", () => {
    expect(boxFromPoints([[40, 10], [70, 50], [40, 90], [10, 50]], 100, 100)).toEqual([10, 10, 60, 80]);
    expect(boxFromPoints([[-3, 5], [50, 120], [20, 0], [99, 7]], 100, 100)).toEqual([0, 0, 99, 100]);
  });
  it("move but stay whole inside the image", () => {
    expect(moveBox([90, 0, 20, 10], 50, -5, 100, 100)).toEqual([80, 0, 20, 10]);
    expect(clipBox([90, 90, 20, 20], 100, 100)).toEqual([90, 90, 10, 10]);
  });
});

describe("polygons", () => {
  const square: Point[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
  const bowtie: Point[] = [[0, 0], [10, 10], [10, 0], [0, 10]];
  it("a square is simple, a bow-tie crosses itself", () => {
    expect(ringSelfIntersects(square)).toBe(false);
    expect(ringSelfIntersects(bowtie)).toBe(true);
  });
  it("collinear points have no area and are refused", () => {
    expect(ringSelfIntersects([[0, 0], [5, 0], [10, 0]])).toBe(true);
  });
  it("a point that would cross the path drawn so far is refused", () => {
    const path: Point[] = [[0, 0], [10, 0], [10, 10]];
    expect(pathWouldCross(path, [5, -5])).toBe(true);
    expect(pathWouldCross(path, [0, 10])).toBe(false);
  });
  it("closing is allowed only when the ring is simple", () => {
    expect(canClose(square)).toBe(true);
    expect(canClose(bowtie)).toBe(false);
    expect(canClose([[0, 0], [1, 1]])).toBe(false);
  });
  it("finds the edge nearest to a click, to insert a vertex there", () => {
    expect(nearestEdge(square, [10.4, 5]).after).toBe(1);
    expect(nearestEdge(square, [5, 10.2]).after).toBe(2);
  });
  it("tests pixel centres with the even-odd rule", () => {
    expect(pointInRing(square, 5, 5)).toBe(true);
    expect(pointInRing(square, 15, 5)).toBe(false);
  });
});

describe("snapping a vertex", () => {
  const square: Point[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
  it("moves a ring's vertex when the ring stays simple", () => {
    expect(withPointMoved(square, 1, [12, -1], true)).toEqual([[0, 0], [12, -1], [10, 10], [0, 10]]);
    expect(square[1]).toEqual([10, 0]); // the input is left as it was
  });
  it("refuses a move that makes the ring cross itself", () => {
    expect(withPointMoved(square, 1, [-5, 5], true)).toBeNull();
    expect(withPointMoved(square, 7, [1, 1], true)).toBeNull();
  });
  it("checks an open path as open: its last point may sit anywhere not crossing", () => {
    const path: Point[] = [[0, 0], [10, 0], [10, 10]];
    expect(withPointMoved(path, 2, [-2, 0.5], false)).toEqual([[0, 0], [10, 0], [-2, 0.5]]);
    expect(withPointMoved([[0, 0], [10, 0], [10, 10], [5, 5]], 3, [5, -5], false)).toBeNull();
    expect(pathSelfIntersects([[0, 0], [10, 0], [10, 10], [0, 10]])).toBe(false);
  });
  it("looks ~12 screen pixels around, within the server's 1-50", () => {
    expect(snapRadius(1)).toBe(12);
    expect(snapRadius(4)).toBe(3);
    expect(snapRadius(0.1)).toBe(50);
    expect(snapRadius(100)).toBe(1);
  });
});
