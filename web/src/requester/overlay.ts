// Answers drawn over an image, read-only, in SVG in the image's own pixel coordinates (viewBox
// = 0 0 width height): boxes, polygons, keypoints with their skeleton, points, and masks (the
// one-channel PNG coloured per label through a canvas). Used by the gallery and its detail view.

import { decode } from "fast-png";
import { base64ToBytes } from "../canvas/png";
import type { AnnotationSpec, Answer } from "../core/types";
import { PALETTE } from "../tools/base";
import { svg } from "../charts/svg";

export const labelColour = (spec: AnnotationSpec, label: unknown): string => {
  const i = Math.max(0, spec.labels.indexOf(String(label)));
  const [r, g, b] = PALETTE[i % PALETTE.length];
  return `rgb(${r}, ${g}, ${b})`;
};

export interface OverlayStyle {
  who: string; // "consensus" or a worker id: data-who on every shape (tests and toggles)
  dashed?: boolean;
  width?: number; // stroke width in screen pixels (non-scaling)
}

type Obj = { label?: string; box?: number[]; points?: number[][] };

/** The SVG of one answer; `null` for types without geometry (classification, multi-label). */
export function answerShapes(spec: AnnotationSpec, answer: Answer | null, width: number, height: number, style: OverlayStyle): SVGGElement | null {
  if (!answer) return null;
  const g = svg("g", { "data-who": style.who, class: "overlay" });
  const common = (colour: string) => ({
    stroke: colour,
    "stroke-width": style.width ?? 2,
    "vector-effect": "non-scaling-stroke",
    ...(style.dashed ? { "stroke-dasharray": "6 4" } : {}),
  });
  const objects = (answer.objects as Obj[] | undefined) ?? [];
  switch (spec.type) {
    case "bbox":
      objects.forEach((o, i) => {
        const [x, y, w, h] = o.box ?? [0, 0, 0, 0];
        g.append(svg("rect", { x, y, width: w, height: h, fill: "none", ...common(labelColour(spec, o.label)), "data-object": i, "data-label": String(o.label) }));
      });
      return g;
    case "polygon":
      objects.forEach((o, i) => {
        const colour = labelColour(spec, o.label);
        g.append(svg("polygon", { points: (o.points ?? []).map((p) => `${p[0]},${p[1]}`).join(" "), fill: colour, "fill-opacity": 0.15, ...common(colour), "data-object": i, "data-label": String(o.label) }));
      });
      return g;
    case "keypoints":
    case "points": {
      const r = Math.max(width, height) / 160;
      objects.forEach((o, i) => {
        const colour = labelColour(spec, o.label);
        const pts = o.points ?? [];
        if (spec.type === "keypoints") {
          for (const [a, b] of spec.skeleton ?? []) {
            const p = pts[a], q = pts[b];
            if (p && q && p[2] !== 0 && q[2] !== 0) g.append(svg("line", { x1: p[0], y1: p[1], x2: q[0], y2: q[1], ...common(colour) }));
          }
        }
        pts.forEach((p, k) => {
          if (spec.type === "keypoints" && p[2] === 0) return;
          const occluded = spec.type === "keypoints" && p[2] === 1;
          g.append(svg("circle", { cx: p[0], cy: p[1], r, fill: occluded ? "none" : colour, ...common(colour), "data-object": i, "data-point": k, "data-label": String(o.label) }));
        });
      });
      return g;
    }
    case "segmentation": {
      const b64 = answer.mask_png_base64;
      if (typeof b64 !== "string") return null;
      const url = maskImage(spec, b64);
      if (url) g.append(svg("image", { href: url, x: 0, y: 0, width, height, opacity: style.dashed ? 0.35 : 0.5, preserveAspectRatio: "none" }));
      return g;
    }
    default:
      return null;
  }
}

/** A mask PNG coloured per label (0 transparent) as a data: URL; null if it does not decode. */
export function maskImage(spec: AnnotationSpec, b64: string): string | null {
  let png;
  try {
    png = decode(base64ToBytes(b64));
  } catch {
    return null;
  }
  const { width, height, channels } = png;
  const src = png.data as Uint8Array;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  const img = ctx.createImageData(width, height);
  const rgba = maskColours(src, channels, spec.labels.length);
  img.data.set(rgba);
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL("image/png");
}

/** RGBA bytes of a label map: value k (label k-1) in its label's colour, 0 transparent. */
export function maskColours(src: Uint8Array, channels: number, labels: number): Uint8ClampedArray {
  const n = src.length / channels;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const v = src[i * channels];
    if (v === 0 || v > labels) continue;
    const [r, g, b] = PALETTE[(v - 1) % PALETTE.length];
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** The answer in words, for types without geometry and for tooltips. */
export function answerText(spec: AnnotationSpec, answer: Answer | null): string {
  if (!answer) return "—";
  if (spec.type === "classification") return String(answer.label ?? "—");
  if (spec.type === "multilabel") return ((answer.labels as string[]) ?? []).join(", ") || "(none)";
  if (spec.type === "segmentation") return "mask";
  const objects = (answer.objects as Obj[] | undefined) ?? [];
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(String(o.label), (counts.get(String(o.label)) ?? 0) + 1);
  return [...counts].map(([l, n]) => `${n} ${l}`).join(", ") || "nothing";
}
