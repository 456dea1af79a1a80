// A batch's dashboard, refreshed by polling: tasks done, answers used against the maximum,
// spend, the refund to come, ETA; charts of completions over time, the confidence distribution,
// answers per task against fixed overlap, and worker accuracy — figures the server aggregates
// (GET /v1/batches/{id}/stats), so a poll costs the same for 30 tasks or 10,000.

import { get, post } from "../core/api";
import { h, money, when } from "../core/dom";
import type { Router } from "../core/router";
import { confirmDialog, errorBox } from "../core/ui";
import { barChart, lineChart } from "../charts/svg";
import type { Batch, BatchStats } from "./types";

const fact = (label: string, value: string, key: string) => h("div", {}, h("dt", {}, label), h("dd", { "data-fact": key }, value));

export async function batchPage(root: HTMLElement, params: Record<string, string>, query: URLSearchParams, _router: Router): Promise<() => void> {
  const id = params.batch;
  const every = Math.max(500, Number(query.get("poll")) || 3000);
  const facts = h("dl", { class: "balances dashboard-facts" });
  const charts = h("div", { class: "charts" });
  const head = h("div", { class: "page-head" });
  const message = h("div");
  const updated = h("p", { class: "muted", "data-updated": "0" });
  let polls = 0;
  let timer = 0;
  let stopped = false;
  const controller = new AbortController();
  root.replaceChildren(h("section", { class: "batch-dashboard", "data-batch": id }, head, message, facts, updated, charts));
  const draw = (b: Batch, st: BatchStats) => {
    const c = b.counts, p = b.progress;
    const refund = Math.max(0, Number(b.money.escrowed) - Number(p.projected_cost) - Number(b.money.refunded));
    head.replaceChildren(
      h("h1", {}, `Batch ${b.id}`), h("span", { class: `badge ${b.status}`, "data-status": b.status }, b.status),
      h("a", { class: "button", href: `/projects/${encodeURIComponent(b.project_id)}`, "data-link": "" }, "Project"),
      h("a", { class: "button primary", href: `/batches/${encodeURIComponent(b.id)}/results`, "data-link": "" }, "Review results"),
      b.status === "open" ? h("button", { type: "button", "data-action": "cancel", onclick: async () => {
        if (!(await confirmDialog("Cancel this batch?", "No more tasks are handed out; the unspent escrow comes back once open assignments end.", "Cancel batch"))) return;
        try { await post(`/v1/batches/${encodeURIComponent(b.id)}/cancel`); void tick(); } catch (err) { message.replaceChildren(errorBox(err, "action")); }
      } }, "Cancel batch") : "",
    );
    // A draft has no workers, escrow or answers yet: say so rather than show a row of zeros.
    message.replaceChildren(...(b.status === "draft"
      ? [h("p", { class: "callout", "data-state": "draft" }, "This batch is a draft: workers see its tasks once it is launched, and the most it can cost is escrowed then. ",
          h("a", { href: `/projects/${encodeURIComponent(b.project_id)}`, "data-link": "" }, "Launch it from the project page"), ".")]
      : []));
    facts.replaceChildren(
      fact("Tasks completed", `${c.completed_tasks ?? 0} / ${c.tasks ?? b.task_count}`, "completed"),
      fact("Answers used / most", `${p.answers_used} / ${p.answers_max}`, "answers"),
      fact("Spent", money(b.money.spent), "spent"),
      fact("Escrowed", money(b.money.escrowed), "escrowed"),
      fact("Refund to come (projected)", money(refund.toFixed(6)), "refund"),
      fact("Refunded", money(b.money.refunded), "refunded"),
      fact("Accepted / rejected", `${c.accepted ?? 0} / ${c.rejected ?? 0}`, "verdicts"),
      fact("ETA", p.eta ? when(p.eta) : b.status === "completed" ? "done" : "—", "eta"),
    );
    const per = st.answers_per_task;
    const completions = st.completions.points.map((p) => [Date.parse(p.at), p.completed] as [number, number]);
    const more = st.worker_count > st.workers.length ? ` (the ${st.workers.length} with most answers of ${st.worker_count})` : "";
    charts.replaceChildren(
      h("figure", { class: "card" }, h("figcaption", {}, "Completions over time"), lineChart("Tasks completed over time", "completions", [{ name: "tasks completed", colour: "#1f4e79", points: completions }], { time: true })),
      h("figure", { class: "card" }, h("figcaption", {}, "Confidence of completed tasks"), barChart("Confidence distribution", "confidence", st.confidence.map((n, i) => ({ label: `${i / 10}`, value: n, colour: i < 6 ? "#b45309" : "#2a9d50" })))),
      h("figure", { class: "card" }, h("figcaption", { "data-saved": per.saved ?? "" }, `Answers per task — ${per.used} used where fixed overlap would take ${per.fixed}${per.saved !== null ? ` (${Math.round(per.saved * 100)}% saved)` : ""}`),
        barChart("Answers per completed task", "answers-per-task", per.histogram.map((n, k) => ({ label: String(k), value: n })).slice(1))),
      h("figure", { class: "card" }, h("figcaption", {}, `Worker agreement with the consensus${more}`),
        barChart("Worker accuracy", "workers", st.workers.map((w) => ({ label: w.worker_id.slice(-5), value: w.agreement ?? (w.accepted + w.rejected ? w.accepted / (w.accepted + w.rejected) : 0) })), { format: (v) => v.toFixed(2), max: 1 })),
    );
    polls++;
    updated.dataset.updated = String(polls);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${Math.round(every / 1000)} s`;
  };
  const tick = async () => {
    try {
      // Two small reads a poll: the batch, and its figures aggregated by the database.
      const [b, st] = await Promise.all([get<Batch>(`/v1/batches/${encodeURIComponent(id)}`, controller.signal), get<BatchStats>(`/v1/batches/${encodeURIComponent(id)}/stats`, controller.signal)]);
      if (stopped) return;
      message.replaceChildren();
      draw(b, st);
      if (b.status === "completed" || b.status === "cancelled") return; // nothing changes any more
    } catch (err) {
      if ((err as Error).name === "AbortError") return;
      message.replaceChildren(errorBox(err, "load"));
    }
    if (!stopped) timer = window.setTimeout(() => void tick(), every);
  };
  await tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
  };
}
