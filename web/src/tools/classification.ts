// Classification (one label) and multi-label (any number): big buttons, number keys toggle.

import { UndoStack } from "../canvas/undo";
import { h } from "../core/dom";
import type { Answer } from "../core/types";
import { colour, type Tool, type ToolContext } from "./base";

export class ChoiceTool implements Tool {
  private chosen: string[] = [];
  private readonly history = new UndoStack<string[]>();
  private readonly buttons: HTMLButtonElement[] = [];

  constructor(private readonly ctx: ToolContext, private readonly multi: boolean) {
    const labels = ctx.spec.labels;
    ctx.panel.append(
      h("div", { class: "panel-title" }, multi ? "Pick every label that applies" : "Pick one label"),
      h("div", { class: "choices", role: multi ? "group" : "radiogroup" },
        ...labels.map((label, i) => {
          const b = h("button", { type: "button", class: "choice", "data-label": label, "aria-pressed": "false", onclick: () => this.toggle(label) },
            i < 9 ? h("kbd", {}, String(i + 1)) : null,
            h("span", { class: "swatch", style: `background:${colour(i)}` }),
            label,
          );
          this.buttons.push(b);
          return b;
        }),
      ),
      h("p", { class: "hint" }, multi ? "Number keys toggle labels; Ctrl+Enter submits." : "A number key picks a label; Enter or Ctrl+Enter submits."),
    );
  }

  toggle(label: string): void {
    this.history.push([...this.chosen]);
    if (this.multi) {
      this.chosen = this.chosen.includes(label) ? this.chosen.filter((l) => l !== label) : [...this.chosen, label];
    } else {
      this.chosen = this.chosen[0] === label ? [] : [label];
    }
    this.render();
  }

  answer(): Answer {
    if (this.multi) {
      const order = this.ctx.spec.labels;
      return { labels: order.filter((l) => this.chosen.includes(l)) };
    }
    return { label: this.chosen[0] };
  }

  check(): string | null {
    if (!this.multi && this.chosen.length === 0) return "Pick a label first.";
    return null;
  }

  state(): unknown {
    return { chosen: this.chosen };
  }

  restore(state: unknown): void {
    const s = state as { chosen?: string[] };
    this.chosen = (s.chosen || []).filter((l) => this.ctx.spec.labels.includes(l));
    this.render(false);
  }

  load(answer: Answer): void {
    const labels = this.multi ? (answer.labels as string[] | undefined) : answer.label ? [answer.label as string] : [];
    this.chosen = (labels || []).filter((l) => this.ctx.spec.labels.includes(l));
    this.render(false);
  }

  key(_e: KeyboardEvent, combo: string): boolean {
    if (/^[1-9]$/.test(combo)) {
      const label = this.ctx.spec.labels[Number(combo) - 1];
      if (label !== undefined) {
        this.toggle(label);
        return true;
      }
    }
    return false;
  }

  undo(): void {
    const s = this.history.undo(this.chosen);
    if (s) {
      this.chosen = s;
      this.render();
    }
  }

  redo(): void {
    const s = this.history.redo(this.chosen);
    if (s) {
      this.chosen = s;
      this.render();
    }
  }

  destroy(): void {}

  private render(notify = true): void {
    this.buttons.forEach((b) => {
      const on = this.chosen.includes(b.dataset.label || "");
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", String(on));
    });
    if (notify) this.ctx.changed();
  }
}
