// The account page: named API keys for scripts (a new key is shown once), and signing out.

import { del, get, post } from "../core/api";
import { h, when } from "../core/dom";
import type { Router } from "../core/router";
import { account, signOut } from "../core/session";
import { confirmDialog, errorBox } from "../core/ui";

/** @schema ApiKeyOut */
interface Key {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
}

export async function accountPage(root: HTMLElement, router: Router): Promise<void> {
  const me = account();
  const list = h("ul", { class: "keys" });
  const shown = h("div");
  const name = h("input", { type: "text", maxlength: "100", placeholder: "e.g. laptop script", "aria-label": "Key name", required: "" });
  const create = h("form", { class: "inline-form" }, name, h("button", { type: "submit", class: "primary" }, "Create key"));
  root.replaceChildren(h("section", {},
    h("h1", {}, "Account"),
    h("p", {}, `${me?.name ?? ""} · ${me?.email ?? ""} · ${me?.role ?? ""} account`),
    h("h2", {}, "API keys"),
    h("p", { class: "muted" }, "Scripts use a key as `Authorization: Bearer <key>`. A key is shown once, when it is made."),
    create, shown, list,
    h("h2", {}, "Session"),
    h("button", { type: "button", "data-action": "signout", onclick: async () => { await signOut().catch(() => undefined); router.go("/signin"); } }, "Sign out"),
  ));
  const refresh = async () => {
    const keys = await get<{ items: Key[] }>("/v1/me/api-keys");
    list.replaceChildren(...keys.items.map((k) =>
      h("li", { "data-key": k.id },
        h("strong", {}, k.name), ` ${k.prefix}… made ${when(k.created_at)} `,
        h("button", { type: "button", onclick: async () => {
          if (!(await confirmDialog("Revoke this key?", `Scripts using “${k.name}” will stop working at once.`, "Revoke"))) return;
          try {
            await del(`/v1/me/api-keys/${encodeURIComponent(k.id)}`);
            await refresh();
          } catch (err) {
            shown.replaceChildren(errorBox(err));
          }
        } }, "Revoke"),
      ),
    ));
  };
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const made = await post<Key & { api_key: string }>("/v1/me/api-keys", { name: name.value });
      name.value = "";
      shown.replaceChildren(h("div", { class: "success" }, h("p", {}, `Your new key “${made.name}” (copy it now, it is not shown again):`), h("code", { class: "secret" }, made.api_key)));
      await refresh();
    } catch (err) {
      shown.replaceChildren(errorBox(err));
    }
  });
  try {
    await refresh();
  } catch (err) {
    shown.replaceChildren(errorBox(err, "load"));
  }
}
