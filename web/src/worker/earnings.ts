// Earnings: pending, available and paid-out money; a payout request with the minimum shown;
// accuracy per project.

import { get, post } from "../core/api";
import { h, money, when } from "../core/dom";
import type { Skill } from "../core/types";
import { errorBox } from "../core/ui";
import { projectNames } from "./projects";

/** @schema Me */
interface Me {
  balance: Record<string, string>;
}

/** @schema PayoutOut */
interface Payout {
  id: string;
  amount: string;
  status: string;
  created_at: string;
}

export async function earningsPage(root: HTMLElement): Promise<void> {
  const balances = h("dl", { class: "balances" });
  const payoutBox = h("div");
  const skillsBox = h("div");
  root.replaceChildren(h("section", {},
    h("h1", {}, "Earnings"), balances,
    h("h2", {}, "Withdraw"), payoutBox,
    h("h2", {}, "Your accuracy per project"), skillsBox,
  ));
  const refresh = async (message?: Node) => {
    const [me, config] = await Promise.all([get<Me>("/v1/me"), get<{ min_payout: string }>("/v1/web/config")]);
    const b = me.balance;
    balances.replaceChildren(
      ...[["pending", "Pending (under review or on hold)"], ["available", "Available"], ["in_flight", "Being paid out"], ["paid_out", "Paid out"]].map(([k, label]) =>
        h("div", { "data-balance": k }, h("dt", {}, label), h("dd", {}, money(b[k] ?? "0"))),
      ),
    );
    payoutBox.replaceChildren(payoutForm(b.available ?? "0", config.min_payout, refresh));
    if (message) payoutBox.append(message);
  };
  try {
    await refresh();
    const skills = await get<{ items: Skill[] }>("/v1/me/skills");
    const names = await projectNames(skills.items.map((s) => s.project_id));
    skillsBox.replaceChildren(
      skills.items.length
        ? h("table", { class: "skills" },
            h("thead", {}, h("tr", {}, h("th", {}, "Project"), h("th", {}, "Accuracy"), h("th", {}, "Graded answers"), h("th", {}, "Standing"))),
            h("tbody", {}, ...skills.items.map((s) =>
              h("tr", {},
                h("td", {}, names.get(s.project_id) ?? s.project_id),
                // Before any graded answer the estimate is the prior, not the worker's accuracy.
                h("td", {}, s.graded_answers > 0 ? `${Math.round(s.accuracy * 100)}%` : "not graded yet"),
                h("td", {}, String(s.graded_answers)),
                h("td", {}, s.banned ? `Banned: ${s.ban_reason ?? ""}` : s.qualified ? "Qualified" : "In good standing"),
              ),
            )),
          )
        : h("p", { class: "muted" }, "No graded answers yet."),
    );
  } catch (err) {
    root.append(errorBox(err, "load"));
  }
}

function payoutForm(available: string, minimum: string, refresh: (message?: Node) => Promise<void>): HTMLElement {
  const amount = h("input", { type: "text", inputmode: "decimal", placeholder: `all (${money(available)})`, "aria-label": "Amount in dollars" });
  const result = h("div");
  const enough = Number(available) >= Number(minimum);
  const form = h("form", { class: "payout" },
    h("p", {}, `Minimum payout ${money(minimum)}. `, enough ? "" : `You have ${money(available)} available.`),
    h("label", { class: "field inline" }, h("span", {}, "Amount ($)"), amount),
    h("button", { type: "submit", class: "primary", disabled: !enough }, "Request payout"),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = amount.value.trim() ? { amount: amount.value.trim() } : {};
      const payout = await post<Payout>("/v1/payouts", body);
      await refresh(h("p", { class: "success" }, `Payout of ${money(payout.amount)} requested ${when(payout.created_at)}: ${payout.status}.`));
    } catch (err) {
      result.replaceChildren(errorBox(err));
    }
  });
  return form;
}
