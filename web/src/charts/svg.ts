// Charts in plain SVG (no library, nothing from outside): a line/area chart over time and a bar
// chart. Presentation attributes only (fill, stroke): the CSP forbids style attributes.

const NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

/** The top of an axis of `ticks` equal steps that covers `max`, each step a round number
 * (1, 2, 2.5, 5 × 10^k); whole numbers only when the values are counts. */
export function axisMax(max: number, ticks = 4, integer = false): number {
  if (!(max > 0)) return integer ? ticks : 1;
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * p;
    if (integer && (step < 1 || !Number.isInteger(step))) continue;
    if (step * ticks >= max - 1e-12) return step * ticks;
  }
  return 10 * p * ticks;
}

/** Linear map of `domain` onto `range`. */
export function scale([d0, d1]: [number, number], [r0, r1]: [number, number]): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** The SVG path of a polyline through points already in screen coordinates. */
export function linePath(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
}

export interface Series {
  name: string;
  colour: string;
  points: [number, number][]; // x: epoch ms (or any number), y: value
}

const W = 560, H = 220, PAD = { l: 48, r: 12, t: 12, b: 28 };

function frame(title: string, name: string): SVGSVGElement {
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title, "data-chart": name });
}

function yAxis(root: SVGElement, max: number, y: (v: number) => number, format: (v: number) => string): void {
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    root.append(
      svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), stroke: "#e3e7ec" }),
      svg("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6776" }, format(v)),
    );
  }
}

/** `domain`: the x range to show (a time window), else the points' own range. */
export function lineChart(title: string, name: string, series: Series[], opts: { format?: (v: number) => string; time?: boolean; domain?: [number, number] } = {}): SVGSVGElement {
  const root = frame(title, name);
  const fmt = opts.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = opts.domain?.[0] ?? Math.min(...xs, Infinity), x1 = opts.domain?.[1] ?? Math.max(...xs, -Infinity);
  const max = axisMax(Math.max(0, ...ys), 4, ys.every(Number.isInteger));
  const x = scale(Number.isFinite(x0) ? [x0, x1 === x0 ? x0 + 1 : x1] : [0, 1], [PAD.l, W - PAD.r]);
  const y = scale([0, max], [H - PAD.b, PAD.t]);
  yAxis(root, max, y, fmt);
  if (Number.isFinite(x0)) {
    // Seconds on the time axis when the span is short (else both ends read the same minute).
    const short = x1 - x0 < 5 * 60_000;
    const label = (v: number) => (opts.time ? new Date(v).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(short ? { second: "2-digit" } : {}) }) : String(v));
    root.append(
      svg("text", { x: PAD.l, y: H - 8, "font-size": 11, fill: "#5b6776" }, label(x0)),
      svg("text", { x: W - PAD.r, y: H - 8, "font-size": 11, fill: "#5b6776", "text-anchor": "end" }, label(x1)),
    );
  }
  series.forEach((s, i) => {
    const pts = s.points.map(([a, b]) => [x(a), y(b)] as [number, number]);
    if (pts.length) root.append(svg("path", { d: linePath(pts), fill: "none", stroke: s.colour, "stroke-width": 2, "data-series": s.name }));
    // Dots where points are few, so a single point still shows.
    if (pts.length < 40) for (const [px, py] of pts) root.append(svg("circle", { cx: px, cy: py, r: 2.5, fill: s.colour }));
    root.append(
      svg("rect", { x: PAD.l + 8 + i * 140, y: PAD.t, width: 10, height: 10, fill: s.colour }),
      svg("text", { x: PAD.l + 22 + i * 140, y: PAD.t + 9, "font-size": 11, fill: "#1b2430" }, s.name),
    );
  });
  root.append(svg("title", {}, title));
  return root;
}

export interface Bar {
  label: string;
  value: number;
  colour?: string;
}

export function barChart(title: string, name: string, bars: Bar[], opts: { format?: (v: number) => string; max?: number } = {}): SVGSVGElement {
  const root = frame(title, name);
  const fmt = opts.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const max = opts.max ?? axisMax(Math.max(0, ...bars.map((b) => b.value)), 4, bars.every((b) => Number.isInteger(b.value)));
  const y = scale([0, max], [H - PAD.b, PAD.t]);
  yAxis(root, max, y, fmt);
  const slot = (W - PAD.l - PAD.r) / Math.max(bars.length, 1);
  bars.forEach((b, i) => {
    const x = PAD.l + i * slot + slot * 0.15;
    const top = y(b.value);
    root.append(
      svg("rect", { x, y: top, width: slot * 0.7, height: H - PAD.b - top, fill: b.colour ?? "#2d6ea8", "data-value": b.value, "data-label": b.label },
        svg("title", {}, `${b.label}: ${fmt(b.value)}`)),
      svg("text", { x: x + slot * 0.35, y: H - 10, "font-size": 10, fill: "#5b6776", "text-anchor": "middle" }, b.label),
    );
  });
  root.append(svg("title", {}, title));
  return root;
}
