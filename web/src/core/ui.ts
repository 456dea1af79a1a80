// Shared bits of page furniture: a modal, a confirm dialog, a notice line, an error box.

import { h } from "./dom";
import { explain, type Explained } from "./errors";

export function modal(title: string, body: Node, onClose?: () => void): () => void {
  const close = () => {
    overlay.remove();
    window.removeEventListener("keydown", onKey, true);
    onClose?.();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      close();
    }
  };
  const overlay = h("div", { class: "modal-backdrop", onclick: (e: Event) => e.target === overlay && close() },
    h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": title },
      h("header", {}, h("h2", {}, title), h("button", { type: "button", class: "close", "aria-label": "Close", onclick: close }, "×")),
      h("div", { class: "modal-body" }, body),
    ),
  );
  document.body.append(overlay);
  window.addEventListener("keydown", onKey, true);
  (overlay.querySelector("button.close") as HTMLElement).focus();
  return close;
}

export function confirmDialog(title: string, message: string, yes: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    const answer = (v: boolean) => {
      if (answered) return;
      answered = true;
      close();
      resolve(v);
    };
    const body = h("div", {},
      h("p", {}, message),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", "data-confirm": "yes", onclick: () => answer(true) }, yes),
        h("button", { type: "button", onclick: () => answer(false) }, "Cancel"),
      ),
    );
    const close = modal(title, body, () => answer(false));
  });
}

/** A box that shows an explained error: what happened, and what to do next. */
export function errorBox(e: Explained | unknown, context?: Parameters<typeof explain>[1]): HTMLElement {
  const x = e && typeof e === "object" && "title" in e && "next" in e ? (e as Explained) : explain(e, context);
  return h("div", { class: "error", role: "alert" }, h("strong", {}, x.title), h("p", {}, x.message), h("p", { class: "next" }, x.next));
}

export class Notice {
  readonly el = h("div", { class: "notice", role: "status", "aria-live": "polite" });
  private timer = 0;

  show(text: string, ms = 3500): void {
    this.el.textContent = text;
    this.el.classList.add("visible");
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.el.classList.remove("visible"), ms);
  }
}
