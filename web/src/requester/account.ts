// The requester's account: balance, a deposit form, the ledger (paginated), and API keys.

import { get } from "../core/api";
import { h, money, when } from "../core/dom";
import type { Router } from "../core/router";
import type { Page } from "../core/types";
import { errorBox } from "../core/ui";
import { accountPage } from "../worker/account";
import { depositForm } from "./project";

/** @schema LedgerEntryOut */
interface Entry {
  id: number;
  kind: string;
  reference: string;
  account: string;
  amount: string;
  created_at: string;
}

export async function requesterAccountPage(root: HTMLElement, _p: Record<string, string>, _q: URLSearchParams, router: Router): Promise<void> {
  const balances = h("dl", { class: "balances" });
  const ledger = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Older entries");
  const keys = h("div");
  let cursor: string | null = null;
  const loadBalance = async () => {
    const me = await get<{ balance: { available: string; escrowed: string } }>("/v1/me");
    balances.replaceChildren(
      h("div", {}, h("dt", {}, "Available"), h("dd", { "data-balance": "available" }, money(me.balance.available))),
      h("div", {}, h("dt", {}, "In escrow"), h("dd", { "data-balance": "escrowed" }, money(me.balance.escrowed))),
    );
  };
  const loadLedger = async (reset: boolean) => {
    if (reset) (ledger.replaceChildren(), (cursor = null));
    const page = await get<Page<Entry>>(`/v1/me/ledger?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
    ledger.append(...page.items.map((e) => h("tr", {}, h("td", {}, when(e.created_at)), h("td", {}, e.kind), h("td", {}, e.account.replace("requester_", "")), h("td", {}, e.reference), h("td", { class: Number(e.amount) < 0 ? "neg" : "pos" }, money(e.amount)))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", () => void loadLedger(false));
  root.replaceChildren(h("section", {},
    h("h1", {}, "Account"),
    balances,
    h("h2", {}, "Deposit"),
    depositForm(10, async () => (await loadBalance(), await loadLedger(true))),
    h("h2", {}, "Ledger"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "What"), h("th", {}, "Balance"), h("th", {}, "Reference"), h("th", {}, "Amount"))), ledger),
    more,
    keys,
  ));
  try {
    await Promise.all([loadBalance(), loadLedger(true), accountPage(keys, router)]);
  } catch (err) {
    balances.replaceChildren(errorBox(err, "load"));
  }
}
