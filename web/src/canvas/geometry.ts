// Pure geometry in image pixels: no DOM, no Konva, unit-tested in tests/geometry.test.ts.

export type Point = [number, number];
export type Box = [number, number, number, number]; // x, y, w, h (COCO order)

export const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** The box spanned by two corners, clipped to the image. */
export function boxFromCorners(a: Point, b: Point, width: number, height: number): Box {
  const x0 = clamp(Math.min(a[0], b[0]), 0, width);
  const y0 = clamp(Math.min(a[1], b[1]), 0, height);
  const x1 = clamp(Math.max(a[0], b[0]), 0, width);
  const y1 = clamp(Math.max(a[1], b[1]), 0, height);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** The box whose edges touch the given points (an object's four extreme points: top-most,
 * bottom-most, left-most, right-most, in any order), kept inside the image. */
export function boxFromPoints(points: Point[], width: number, height: number): Box {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  return boxFromCorners([Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)], width, height);
}

/** The box moved by (dx, dy), kept whole inside the image. */
export function moveBox(box: Box, dx: number, dy: number, width: number, height: number): Box {
  const [x, y, w, h] = box;
  return [clamp(x + dx, 0, width - w), clamp(y + dy, 0, height - h), w, h];
}

/** The box clipped to the image (a resize may drag an edge outside). */
export function clipBox(box: Box, width: number, height: number): Box {
  return boxFromCorners([box[0], box[1]], [box[0] + box[2], box[1] + box[3]], width, height);
}

/** Coordinates rounded to 1/100 px: stable JSON, far below what anyone can click. */
export const round2 = (v: number): number => Math.round(v * 100) / 100;

function orientation(a: Point, b: Point, c: Point): number {
  const v = (b[1] - a[1]) * (c[0] - b[0]) - (b[0] - a[0]) * (c[1] - b[1]);
  return Math.abs(v) < 1e-12 ? 0 : v > 0 ? 1 : 2;
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1])
  );
}

/** Whether segments ab and cd share any point (touching counts). */
export function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const o1 = orientation(a, b, c), o2 = orientation(a, b, d);
  const o3 = orientation(c, d, a), o4 = orientation(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) ||
    (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b))
  );
}

/** Whether the closed ring crosses or touches itself (the server refuses such polygons). */
export function ringSelfIntersects(ring: Point[]): boolean {
  const n = ring.length;
  if (n < 4) return n === 3 && polygonArea(ring) === 0;
  for (let i = 0; i < n; i++) {
    const a = ring[i], b = ring[(i + 1) % n];
    for (let j = i + 1; j < n; j++) {
      if (j === i || (j + 1) % n === i || j === (i + 1) % n) continue; // neighbours share a vertex
      if (segmentsIntersect(a, b, ring[j], ring[(j + 1) % n])) return true;
    }
  }
  return polygonArea(ring) === 0;
}

/** Whether adding `next` to an open path being drawn would cross the path so far. */
export function pathWouldCross(path: Point[], next: Point): boolean {
  const n = path.length;
  if (n < 2) return false;
  const last = path[n - 1];
  for (let i = 0; i < n - 2; i++) {
    if (segmentsIntersect(path[i], path[i + 1], last, next)) return true;
  }
  return false;
}

/** Whether closing the path (last point back to the first) makes a simple polygon. */
export function canClose(path: Point[]): boolean {
  return path.length >= 3 && !ringSelfIntersects(path);
}

export function polygonArea(ring: Point[]): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i], [x2, y2] = ring[(i + 1) % ring.length];
    s += x1 * y2 - x2 * y1;
  }
  return Math.abs(s) / 2;
}

/** Squared distance from p to segment ab, and where along it (0..1) the nearest point lies. */
export function distanceToSegment(p: Point, a: Point, b: Point): { d2: number; t: number } {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : clamp(((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2, 0, 1);
  const x = a[0] + t * dx - p[0], y = a[1] + t * dy - p[1];
  return { d2: x * x + y * y, t };
}

/** The edge of the ring nearest to p: insert a vertex after index `after`. */
export function nearestEdge(ring: Point[], p: Point): { after: number; d2: number } {
  let best = { after: 0, d2: Infinity };
  for (let i = 0; i < ring.length; i++) {
    const { d2 } = distanceToSegment(p, ring[i], ring[(i + 1) % ring.length]);
    if (d2 < best.d2) best = { after: i, d2 };
  }
  return best;
}

/** Even-odd rule: is the pixel centre (x, y) inside the ring? */
export function pointInRing(ring: Point[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether an open path (a polygon being drawn) crosses or touches itself. */
export function pathSelfIntersects(path: Point[]): boolean {
  for (let i = 0; i + 1 < path.length; i++) {
    for (let j = i + 2; j + 1 < path.length; j++) {
      if (segmentsIntersect(path[i], path[i + 1], path[j], path[j + 1])) return true;
    }
  }
  return false;
}

/** The points with the k-th one moved to p; null when that would make the outline cross itself
 * (`closed`: a finished polygon's ring; otherwise the open path being drawn). */
export function withPointMoved(points: Point[], k: number, p: Point, closed: boolean): Point[] | null {
  if (k < 0 || k >= points.length) return null;
  const next = points.map((q, j) => (j === k ? p : q));
  return (closed ? ringSelfIntersects(next) : pathSelfIntersects(next)) ? null : next;
}

/** How far (image pixels) a click looks for an edge to snap to: ~12 screen pixels at the
 * current zoom, within what the server accepts (≤ 50). */
export const snapRadius = (scale: number): number => clamp(12 / (scale > 0 ? scale : 1), 1, 50);
