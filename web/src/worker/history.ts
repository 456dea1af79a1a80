// The worker's history: status, reward, verdict reason, review deadline, appeal.

import { get, post } from "../core/api";
import { h, money, when } from "../core/dom";
import type { AssignmentRow, Page } from "../core/types";
import { errorBox } from "../core/ui";
import { projectNames } from "./projects";

const STATUS: Record<string, string> = {
  leased: "In progress",
  submitted: "Waiting for review",
  accepted: "Accepted",
  rejected: "Rejected",
  expired: "Time ran out",
  released: "Given back",
};

export async function historyPage(root: HTMLElement): Promise<void> {
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const table = h("table", { class: "history" },
    h("thead", {}, h("tr", {}, ...["Project", "Status", "Reward", "Submitted", "Reason", "Review until", ""].map((t) => h("th", {}, t)))),
    body,
  );
  const errors = h("div");
  root.replaceChildren(h("section", {}, h("h1", {}, "History"), errors, table, more));
  let cursor: string | null = null;
  const load = async () => {
    try {
      const page = await get<Page<AssignmentRow>>(`/v1/me/assignments?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      const names = await projectNames(page.items.map((a) => a.project_id));
      body.append(...page.items.map((a) => row(a, names)));
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: "7", class: "muted" }, "Nothing yet: your answers will appear here.")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      errors.replaceChildren(errorBox(err, "load"));
    }
  };
  more.addEventListener("click", () => void load());
  await load();
}

function row(a: AssignmentRow, names: Map<string, string>): HTMLElement {
  const action = h("td");
  const canAppeal = a.status === "rejected" && a.appeal_until && Date.parse(a.appeal_until) > Date.now() && !a.appeal_message;
  if (canAppeal) {
    action.append(h("button", { type: "button", "data-action": "appeal", onclick: () => appealForm(a, action) }, "Appeal"));
  } else if (a.appeal_message) {
    action.append(h("span", { class: "muted" }, a.appeal_outcome ? `Appeal ${a.appeal_outcome}` : "Appeal sent"));
  }
  return h("tr", { "data-assignment": a.id, class: `status-${a.status}` },
    h("td", {}, names.get(a.project_id) ?? a.project_id),
    h("td", {}, h("span", { class: `badge ${a.status}` }, STATUS[a.status] ?? a.status)),
    h("td", {}, money(a.reward)),
    h("td", {}, when(a.submitted_at)),
    h("td", { class: "reason" }, a.reason ?? ""),
    h("td", {}, a.status === "submitted" || a.status === "rejected" ? when(a.appeal_until) : ""),
    action,
  );
}

function appealForm(a: AssignmentRow, cell: HTMLElement): void {
  const text = h("textarea", { rows: "3", maxlength: "2000", placeholder: "Why is the rejection wrong?", "aria-label": "Appeal message" });
  const errors = h("div");
  const form = h("form", { class: "appeal" }, text, h("button", { type: "submit", class: "primary" }, "Send appeal"), errors);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return errors.replaceChildren(errorBox({ title: "Say why", message: "An appeal needs a message.", next: "Write what the reviewer missed." }));
    try {
      await post(`/v1/assignments/${encodeURIComponent(a.id)}/appeal`, { message: text.value });
      cell.replaceChildren(h("span", { class: "muted" }, "Appeal sent"));
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  });
  cell.replaceChildren(form);
  text.focus();
}
