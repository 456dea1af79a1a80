// The mask answer of API.md: a one-channel 8-bit PNG of the image's size, pixel k = label k-1.
// Encoded from the label map with fast-png (a canvas cannot write one-channel PNGs, and its
// anti-aliased strokes would put invalid values on every edge).

import { decode, encode } from "fast-png";
import { LabelMap } from "./labelmap";

export function encodeMask(map: LabelMap): Uint8Array {
  return encode({ width: map.width, height: map.height, data: map.data, channels: 1, depth: 8 });
}

export function encodeMaskBase64(map: LabelMap): string {
  return bytesToBase64(encodeMask(map));
}

/** A mask PNG (a pre-annotation, a draft) back into a label map; null if it does not fit. */
export function decodeMask(bytes: Uint8Array, width: number, height: number): LabelMap | null {
  const png = decode(bytes);
  if (png.width !== width || png.height !== height || png.depth !== 8) return null;
  const channels = png.channels;
  const src = png.data as Uint8Array;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = src[i * channels];
  return new LabelMap(width, height, out);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
