// What every annotation tool provides to the task page (and later to the requester's gold editor
// and read-only result overlays): an answer in API.md's shape, a draft state, undo/redo, keys.

import type { Viewer } from "../canvas/viewer";
import type { AnnotationSpec, Answer } from "../core/types";
import { h } from "../core/dom";

export interface ToolContext {
  viewer: Viewer | null; // null for tools without a canvas
  spec: AnnotationSpec;
  width: number;
  height: number;
  panel: HTMLElement; // the tool's controls go here
  changed: () => void; // the answer changed: save the draft, update the view
  flash: (message: string) => void; // a short notice (a refused vertex…)
  readOnly?: boolean;
  assignmentId?: string; // the worker's lease, for the assist endpoints (absent: no assist)
}

export interface Tool {
  answer(): Answer;
  /** Why the answer cannot be submitted yet, in the worker's words; null when it can. */
  check(): string | null;
  state(): unknown;
  restore(state: unknown): void;
  /** Show a pre-annotation (or a stored answer) as editable shapes. */
  load(answer: Answer): void;
  key(e: KeyboardEvent, combo: string): boolean;
  undo(): void;
  redo(): void;
  destroy(): void;
}

export const PALETTE: [number, number, number][] = [
  [230, 57, 70], [29, 120, 255], [42, 157, 80], [244, 162, 97], [156, 81, 182],
  [0, 180, 200], [233, 196, 106], [255, 99, 180], [120, 120, 120], [140, 90, 40],
];

export const colour = (i: number): string => {
  const [r, g, b] = PALETTE[i % PALETTE.length];
  return `rgb(${r}, ${g}, ${b})`;
};

/** Label buttons with their number keys; `current` is the label new shapes get. */
export class LabelBar {
  current = 0;
  readonly el: HTMLElement;
  private buttons: HTMLButtonElement[] = [];

  constructor(private readonly labels: string[], private readonly onPick: (i: number) => void, title = "Label") {
    this.el = h("div", { class: "labels", role: "group", "aria-label": title },
      h("div", { class: "panel-title" }, title),
      ...labels.map((label, i) => {
        const b = h("button", { type: "button", class: "label", "data-label": label, onclick: () => this.pick(i) },
          i < 9 ? h("kbd", {}, String(i + 1)) : null,
          h("span", { class: "swatch", style: `background:${colour(i)}` }),
          label,
        );
        this.buttons.push(b);
        return b;
      }),
    );
    this.render();
  }

  pick(i: number): void {
    if (i < 0 || i >= this.labels.length) return;
    this.current = i;
    this.render();
    this.onPick(i);
  }

  /** Number keys 1-9 pick a label. */
  key(combo: string): boolean {
    if (/^[1-9]$/.test(combo) && Number(combo) <= this.labels.length) {
      this.pick(Number(combo) - 1);
      return true;
    }
    return false;
  }

  private render(): void {
    this.buttons.forEach((b, i) => b.classList.toggle("active", i === this.current));
  }
}

export const deepCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
