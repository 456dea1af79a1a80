// Keyboard shortcuts. One listener; never fires while focus is in a text field (BoundingBoxEditor
// #101, brat #171); label keys 1-9 can never clash with the reserved keys below (label-studio #1957).

export const RESERVED = {
  undo: "Ctrl+Z",
  redo: "Ctrl+Shift+Z",
  submit: "Ctrl+Enter",
  cancel: "Escape",
  remove: "Delete / Backspace",
  pan: "Space + drag",
  fit: "F",
  instructions: "I",
  closePolygon: "N",
  occluded: "V",
  notLabelled: "X",
  brushSmaller: "[",
  brushBigger: "]",
  eraser: "E",
  brush: "B",
  fill: "P",
  extremePoints: "T",
  outlineFromBox: "O",
} as const;

export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "range", "submit", "reset", "color", "file"].includes(target.type);
  }
  return false;
}

/** "Ctrl+Shift+Z", "Ctrl+Enter", "ArrowLeft", "Shift+ArrowLeft", "1", "[" … */
export function comboOf(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (e.ctrlKey || e.metaKey) parts.push("Ctrl");
  if (e.altKey) parts.push("Alt");
  const key = e.key.length === 1 ? e.key.toUpperCase() : e.key;
  if (e.shiftKey && (key.length > 1 || /[A-Z]/.test(key))) parts.push("Shift");
  parts.push(key === " " ? "Space" : key);
  return parts.join("+");
}

export type KeyHandler = (e: KeyboardEvent) => boolean | void;

/** A stack of handlers: the newest (a modal, the current tool) sees the key first. */
export class Shortcuts {
  private handlers: KeyHandler[] = [];
  private readonly onKey = (e: KeyboardEvent) => {
    if (isTextField(e.target)) return;
    for (let i = this.handlers.length - 1; i >= 0; i--) {
      if (this.handlers[i](e) === true) {
        e.preventDefault();
        return;
      }
    }
  };

  constructor(private readonly target: Window = window) {
    target.addEventListener("keydown", this.onKey);
  }

  push(handler: KeyHandler): () => void {
    this.handlers.push(handler);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }

  destroy(): void {
    this.target.removeEventListener("keydown", this.onKey);
    this.handlers = [];
  }
}
