// The operator's area (a chunk of its own): the market's figures over time, the ledger check,
// workers with accuracy and flags (ban/unban with a reason), and settings with their audit trail.

import "../requester/pages.css";
import { get, patch, post } from "../core/api";
import { h, money, when } from "../core/dom";
import type { Router } from "../core/router";
import type { Page, ProjectSkill } from "../core/types";
import { confirmDialog, errorBox, Notice } from "../core/ui";
import { barChart, lineChart } from "../charts/svg";

/** @schema StatsFigures */
interface Figures {
  answers: number; leases: number; answers_per_minute: number; leases_per_minute: number;
  completed_tasks: number; average_confidence: number | null; decided: number; rejected: number; rejection_rate: number | null;
  spend: string; fees: string; refunds: string; deposits: string; payouts_paid: string; payouts_failed: string;
}
/** @schema StatsOut */
interface Stats {
  window: { since: string; until: string; window_s: number; bucket_s: number };
  totals: Figures;
  series: (Figures & { start: string })[];
  accounts: Record<string, number>;
  tasks_waiting: number;
}

const WINDOWS: [number, string][] = [[3600, "last hour"], [6 * 3600, "last 6 hours"], [86400, "last day"], [7 * 86400, "last week"]];

export async function marketPage(root: HTMLElement, _p: Record<string, string>, query: URLSearchParams, _router: Router): Promise<() => void> {
  const select = h("select", { name: "window" }, ...WINDOWS.map(([s, l]) => h("option", { value: s }, l)));
  select.value = query.get("window") ?? "3600";
  const totals = h("dl", { class: "balances" });
  const charts = h("div", { class: "charts" });
  const verify = h("div", { "data-verify": "" });
  const message = h("div");
  const every = Math.max(1000, Number(query.get("poll")) || 10000);
  let timer = 0;
  root.replaceChildren(h("section", { class: "market" },
    h("div", { class: "page-head" }, h("h1", {}, "The market"), h("label", { class: "field inline" }, h("span", {}, "Window"), select)),
    message, totals, charts,
    h("h2", {}, "Ledger check"), verify,
  ));
  const series = (s: Stats, key: keyof Figures, name: string, colour: string) => ({ name, colour, points: s.series.map((b) => [Date.parse(b.start), Number(b[key] ?? 0)] as [number, number]) });
  const load = async () => {
    clearTimeout(timer);
    try {
      const s = await get<Stats>(`/v1/admin/stats?window_s=${select.value}`);
      const t = s.totals;
      const fact = (l: string, v: string, k: string) => h("div", {}, h("dt", {}, l), h("dd", { "data-total": k }, v));
      totals.replaceChildren(
        fact("Answers / min", t.answers_per_minute.toFixed(2), "answers_per_minute"),
        fact("Leases / min", t.leases_per_minute.toFixed(2), "leases_per_minute"),
        fact("Spend", money(t.spend), "spend"),
        fact("Fee income", money(t.fees), "fees"),
        fact("Refunds", money(t.refunds), "refunds"),
        fact("Payouts sent / failed", `${money(t.payouts_paid)} / ${money(t.payouts_failed)}`, "payouts"),
        fact("Average confidence", t.average_confidence === null ? "—" : t.average_confidence.toFixed(2), "average_confidence"),
        fact("Rejection rate", t.rejection_rate === null ? "—" : `${Math.round(t.rejection_rate * 100)}%`, "rejection_rate"),
      );
      const minutes = `per ${Math.round(s.window.bucket_s / 60)} min`;
      // Every chart spans the whole window (a single bucket with data sits where it happened).
      const domain: [number, number] = [Date.parse(s.window.since), Date.parse(s.window.until)];
      charts.replaceChildren(
        h("figure", { class: "card" }, h("figcaption", {}, `Throughput (answers and leases per minute, ${minutes} points)`), lineChart("Throughput", "throughput", [series(s, "answers_per_minute", "answers/min", "#1f4e79"), series(s, "leases_per_minute", "leases/min", "#f4a261")], { time: true, domain })),
        h("figure", { class: "card" }, h("figcaption", {}, `Money (${minutes})`), lineChart("Spend and fees", "money", [series(s, "spend", "spend $", "#1f4e79"), series(s, "fees", "fees $", "#2a9d50"), series(s, "refunds", "refunds $", "#b45309"), series(s, "payouts_paid", "payouts $", "#9c51b6")], { time: true, domain, format: (v) => `$${v.toFixed(2)}` })),
        h("figure", { class: "card" }, h("figcaption", {}, "Quality: average confidence and rejection rate"), lineChart("Quality", "quality", [
          { name: "avg confidence", colour: "#2a9d50", points: s.series.filter((b) => b.average_confidence !== null).map((b) => [Date.parse(b.start), b.average_confidence!]) },
          { name: "rejection rate", colour: "#e63946", points: s.series.filter((b) => b.rejection_rate !== null).map((b) => [Date.parse(b.start), b.rejection_rate!]) },
        ], { time: true, domain, format: (v) => v.toFixed(2) })),
        h("figure", { class: "card" }, h("figcaption", {}, "Accounts"), barChart("Accounts by role", "accounts", Object.entries(s.accounts).map(([label, value]) => ({ label, value })))),
      );
      message.replaceChildren();
    } catch (err) {
      message.replaceChildren(errorBox(err, "load"));
    }
    timer = window.setTimeout(() => void load(), every);
  };
  select.addEventListener("change", () => void load());
  await load();
  await ledgerCheck(verify);
  return () => clearTimeout(timer);
}

/** GET /v1/admin/ledger/verify into `into`: all good, or each violation listed. */
async function ledgerCheck(into: HTMLElement): Promise<void> {
  into.replaceChildren(h("p", { class: "muted" }, "Checking every ledger invariant…"));
  try {
    const v = await get<{ ok: boolean; accounts: number; total: string; violations: string[] }>("/v1/admin/ledger/verify");
    into.replaceChildren(
      h("p", { class: v.ok ? "success" : "error", "data-ok": String(v.ok) },
        v.ok ? `Every invariant holds over ${v.accounts} ledger accounts (sum ${money(v.total)}).` : `${v.violations.length} violation${v.violations.length === 1 ? "" : "s"} over ${v.accounts} ledger accounts (sum ${money(v.total)}):`),
      ...(v.ok ? [] : [h("ul", { class: "violations" }, ...v.violations.map((x) => h("li", { "data-violation": "" }, x)))]),
      h("button", { type: "button", "data-action": "verify", onclick: () => void ledgerCheck(into) }, "Check again"),
    );
  } catch (err) {
    into.replaceChildren(errorBox(err, "load"));
  }
}

/** @schema AdminPayoutOut */
interface PayoutRow {
  id: string; worker_id: string; worker_name: string | null; amount: string; status: string; provider: string;
  attempts: number; failure_reason: string | null; created_at: string; next_attempt_at: string | null; settled_at: string | null;
}
/** @schema AdminPayoutPage */
interface PayoutPage extends Page<PayoutRow> { counts: Record<string, number> }

const PAYOUT_FILTERS: [string, string][] = [["open", "waiting (requested or sent)"], ["failed", "failed"], ["paid", "paid"], ["", "all"]];
const STATE_TEXT: Record<string, string> = {
  requested: "requested — not sent to the provider yet",
  pending: "sent — the provider's answer is awaited",
  paid: "paid",
  failed: "failed — the money went back to the worker",
};

/** The payout queue (GET /v1/admin/payouts, paged by its cursor) and the ledger check. */
export async function payoutsPage(root: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<void> {
  const filter = h("select", { name: "status" }, ...PAYOUT_FILTERS.map(([v, l]) => h("option", { value: v }, l)));
  filter.value = query.get("status") ?? "open";
  const counts = h("dl", { class: "balances", "data-counts": "" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true, "data-action": "more" }, "More payouts");
  const verify = h("div", { "data-verify": "" });
  const message = h("div");
  let cursor: string | null = null;
  const row = (p: PayoutRow) => h("tr", { "data-payout": p.id, "data-status": p.status },
    h("td", {}, when(p.created_at)),
    h("td", {}, h("strong", {}, p.worker_name ?? "(account gone)"), h("div", { class: "muted" }, p.worker_id)),
    h("td", { class: "num" }, money(p.amount)),
    h("td", {}, h("span", { class: `badge ${p.status === "paid" ? "accepted" : p.status === "failed" ? "rejected" : "submitted"}` }, p.status), h("div", { class: "muted" }, STATE_TEXT[p.status] ?? "")),
    h("td", { class: "reason" }, p.failure_reason ?? (p.next_attempt_at ? `next try ${when(p.next_attempt_at)}` : p.settled_at ? `settled ${when(p.settled_at)}` : "")),
    h("td", {}, `${p.provider} · ${p.attempts} attempt${p.attempts === 1 ? "" : "s"}`),
  );
  const load = async (reset: boolean) => {
    message.replaceChildren();
    const q = new URLSearchParams({ limit: "100" });
    if (filter.value) q.set("status", filter.value);
    if (!reset && cursor) q.set("cursor", cursor);
    try {
      const page = await get<PayoutPage>(`/v1/admin/payouts?${q}`);
      const c = page.counts;
      const fact = (l: string, k: string) => h("div", {}, h("dt", {}, l), h("dd", { "data-count": k }, String(c[k] ?? 0)));
      counts.replaceChildren(fact("Requested", "requested"), fact("Sent, awaiting answer", "pending"), fact("Failed", "failed"), fact("Paid", "paid"));
      const rows = page.items.map(row);
      if (reset) body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No payout here."))]));
      else body.append(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      message.replaceChildren(errorBox(err, "load"));
    }
  };
  filter.addEventListener("change", () => {
    history.replaceState(null, "", `${location.pathname}?status=${encodeURIComponent(filter.value)}`);
    void load(true);
  });
  more.addEventListener("click", () => void load(false));
  root.replaceChildren(h("section", { class: "payouts" },
    h("div", { class: "page-head" }, h("h1", {}, "Payouts"), h("label", { class: "field inline" }, h("span", {}, "Show"), filter)),
    h("p", { class: "muted" }, "Workers' withdrawals. The payout reconciler sends requested ones to the provider and retries those whose answer is unknown; a failed payout returns its money to the worker's available balance."),
    counts, message,
    h("table", { "data-table": "payouts" }, h("thead", {}, h("tr", {}, h("th", {}, "Requested"), h("th", {}, "Worker"), h("th", {}, "Amount"), h("th", {}, "State"), h("th", {}, "Why / when"), h("th", {}, "Provider"))), body),
    more,
    h("h2", {}, "Ledger check"), verify,
  ));
  await Promise.all([load(true), ledgerCheck(verify)]);
}

/** @schema WorkerRow */
interface WorkerRow {
  id: string; name: string; created_at: string; answers: number; accepted: number; earnings: string;
  banned: boolean; ban_reason: string | null; projects: (ProjectSkill & { fast_answers?: number })[];
}

export async function workersPage(root: HTMLElement): Promise<void> {
  const search = h("input", { type: "search", name: "search", placeholder: "name or id" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "More workers");
  const notice = new Notice();
  let rows: WorkerRow[] = [];
  let cursor: string | null = null;
  const render = () => {
    const term = search.value.trim().toLowerCase();
    body.replaceChildren(...rows.filter((w) => !term || w.name.toLowerCase().includes(term) || w.id.toLowerCase().includes(term)).map((w) => {
      const reason = h("input", { type: "text", name: "reason", placeholder: "reason", maxlength: "2000" });
      const message = h("div");
      const act = async () => {
        message.replaceChildren();
        try {
          if (w.banned) {
            await post(`/v1/admin/workers/${encodeURIComponent(w.id)}/unban`, {});
          } else {
            if (!reason.value.trim()) return void message.replaceChildren(errorBox({ title: "A reason is needed", message: "The worker sees why.", next: "Write it, then ban." }));
            if (!(await confirmDialog(`Ban ${w.name}?`, "Their open leases end at once and go back to the pool; they can no longer take tasks anywhere.", "Ban"))) return;
            await post(`/v1/admin/workers/${encodeURIComponent(w.id)}/ban`, { reason: reason.value.trim() });
          }
          const fresh = await get<WorkerRow>(`/v1/admin/workers?limit=500`).then((p) => (p as unknown as Page<WorkerRow>).items.find((x) => x.id === w.id));
          if (fresh) rows = rows.map((x) => (x.id === w.id ? fresh : x));
          notice.show(w.banned ? "Unbanned." : "Banned; their leases ended.");
          render();
        } catch (err) {
          message.replaceChildren(errorBox(err, "action"));
        }
      };
      return h("tr", { "data-worker": w.id, "data-banned": String(w.banned) },
        h("td", {}, h("strong", {}, w.name), h("div", { class: "muted" }, w.id)),
        h("td", {}, String(w.answers), h("div", { class: "muted" }, `${w.accepted} accepted`)),
        h("td", {}, money(w.earnings)),
        h("td", {}, ...(w.projects.length ? w.projects.map((p) => h("div", {}, `${p.project_id.slice(-6)}: ${(p.accuracy * 100).toFixed(0)}% (≤ ${(p.accuracy_upper * 100).toFixed(0)}%, ${p.graded_answers + p.gold_answers} graded)${p.banned ? " · banned here" : ""}`)) : ["—"])),
        h("td", {}, w.banned ? h("span", { class: "badge rejected" }, `banned: ${w.ban_reason ?? ""}`) : h("span", { class: "badge accepted" }, "active")),
        h("td", { class: "review" }, w.banned ? null : reason, h("button", { type: "button", "data-action": w.banned ? "unban" : "ban", onclick: () => void act() }, w.banned ? "Unban" : "Ban"), message),
      );
    }));
  };
  const load = async (reset: boolean) => {
    if (reset) (rows = []), (cursor = null);
    const page = await get<Page<WorkerRow>>(`/v1/admin/workers?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    rows = rows.concat(page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    render();
  };
  search.addEventListener("input", render);
  more.addEventListener("click", () => void load(false));
  root.replaceChildren(h("section", {},
    h("div", { class: "page-head" }, h("h1", {}, "Workers"), h("label", { class: "field inline" }, h("span", {}, "Search"), search)),
    h("table", { "data-table": "workers" }, h("thead", {}, h("tr", {}, h("th", {}, "Worker"), h("th", {}, "Answers"), h("th", {}, "Earnings"), h("th", {}, "Accuracy per project (upper bound)"), h("th", {}, "Flags"), h("th", {}, "Ban"))), body),
    more, notice.el,
  ));
  try {
    await load(true);
  } catch (err) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 6 }, errorBox(err, "load"))));
  }
}

/** @schema SettingsOut */
interface Settings { platform_fee: string; min_payout: string; payout_hold_s: number; benefit_of_doubt_below: number; qualification_retry_s: number }
/** @schema SettingsChangeOut */
interface Change { id: string; setting: string; old_value: string; new_value: string; changed_at: string; actor_name: string }

const EFFECTS: Record<keyof Settings, [string, string]> = {
  platform_fee: ["Platform fee (fraction, e.g. 0.1)", "The fee applies to batches launched from now on; open batches keep the fee they launched with."],
  min_payout: ["Minimum payout ($)", "Workers can withdraw only from this amount; payouts already requested are not affected."],
  payout_hold_s: ["Payout hold (seconds)", "Earnings accepted from now on wait this long before they can be withdrawn."],
  benefit_of_doubt_below: ["Benefit of the doubt below confidence", "Tasks whose consensus is less confident than this reject nobody, from the next verdict on."],
  qualification_retry_s: ["Qualification retry (seconds)", "Workers who fail a qualification from now on wait this long before trying again."],
};

export async function settingsPage(root: HTMLElement): Promise<void> {
  const inputs = new Map<keyof Settings, HTMLInputElement>();
  const message = h("div");
  const trail = h("tbody");
  const form = h("form", { class: "card settings", "data-form": "settings" },
    ...(Object.keys(EFFECTS) as (keyof Settings)[]).map((k) => {
      const input = h("input", { type: "text", name: k });
      inputs.set(k, input);
      return h("label", { class: "field" }, h("span", {}, EFFECTS[k][0]), input, h("small", { class: "hint" }, EFFECTS[k][1]));
    }),
    message,
    h("button", { type: "submit", class: "primary" }, "Save settings"),
  );
  let current: Settings;
  const fill = (s: Settings) => {
    current = s;
    for (const [k, input] of inputs) input.value = String(s[k]);
  };
  const loadTrail = async () => {
    const page = await get<Page<Change>>("/v1/admin/settings/history?limit=100");
    trail.replaceChildren(...(page.items.length ? page.items.map((c) => h("tr", { "data-change": c.setting }, h("td", {}, when(c.changed_at)), h("td", {}, c.actor_name), h("td", {}, EFFECTS[c.setting as keyof Settings]?.[0] ?? c.setting), h("td", {}, c.old_value), h("td", {}, c.new_value))) : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No change yet."))]));
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const change: Record<string, unknown> = {};
    for (const [k, input] of inputs) {
      const v = input.value.trim();
      if (v === String(current[k])) continue;
      change[k] = typeof current[k] === "number" ? Number(v) : v;
    }
    const keys = Object.keys(change) as (keyof Settings)[];
    if (!keys.length) return void message.replaceChildren(h("p", { class: "muted" }, "Nothing changed."));
    const text = keys.map((k) => `${EFFECTS[k][0]}: ${current[k]} → ${change[k]}. ${EFFECTS[k][1]}`).join("\n");
    if (!(await confirmDialog("Change the settings?", text, "Change"))) return;
    try {
      fill(await patch<Settings>("/v1/admin/settings", change));
      message.replaceChildren(h("p", { class: "success" }, "Saved."));
      await loadTrail();
    } catch (err) {
      message.replaceChildren(errorBox(err, "action"));
    }
  });
  // Loaded before the form is shown: a value typed meanwhile would be overwritten.
  try {
    fill(await get<Settings>("/v1/admin/settings"));
  } catch (err) {
    root.replaceChildren(errorBox(err, "load"));
    return;
  }
  root.replaceChildren(h("section", {},
    h("h1", {}, "Settings"), form,
    h("h2", {}, "Audit trail"),
    h("table", { "data-table": "audit" }, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Who"), h("th", {}, "Setting"), h("th", {}, "From"), h("th", {}, "To"))), trail),
  ));
  try {
    await loadTrail();
  } catch (err) {
    message.replaceChildren(errorBox(err, "load"));
  }
}
