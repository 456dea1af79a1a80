// The marketplace: one card per open project with reward, time limit, work available, the
// worker's own accuracy and qualification state, and the instructions one click away.

import { get } from "../core/api";
import { h, money } from "../core/dom";
import { firstLine, renderMarkdown } from "../core/markdown";
import type { Page, Project, Skill } from "../core/types";
import { errorBox, modal } from "../core/ui";
import { TOOLS } from "../tools";

export function standing(project: Project, skill: Skill | undefined): { text: string; cls: string } {
  if (skill?.banned) return { text: `Banned: ${skill.ban_reason || "no reason given"}`, cls: "banned" };
  const gold = project.qualification_gold_tasks;
  if (gold > 0 && !skill?.qualified) {
    if (skill?.qualification_retry_at && Date.parse(skill.qualification_retry_at) > Date.now()) {
      return { text: `Not qualified; you can try again ${new Date(skill.qualification_retry_at).toLocaleString()}`, cls: "waiting" };
    }
    return { text: `${gold} gold task${gold === 1 ? "" : "s"} to qualify`, cls: "qualify" };
  }
  if (skill && skill.graded_answers > 0) return { text: `Your accuracy ${Math.round(skill.accuracy * 100)}%`, cls: "accuracy" };
  return { text: "New to you", cls: "new" };
}

function duration(seconds: number): string {
  return seconds >= 3600 ? `${Math.round(seconds / 360) / 10} h` : seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

export async function marketplacePage(root: HTMLElement, query: URLSearchParams): Promise<void> {
  const list = h("div", { class: "cards" }, h("p", { class: "muted" }, "Loading projects…"));
  const done = query.get("done");
  root.replaceChildren(h("section", {},
    h("h1", {}, "Find work"),
    done ? h("p", { class: "success" }, done) : null,
    list,
  ));
  try {
    const [projects, skills] = await Promise.all([
      get<Page<Project>>("/v1/projects?limit=200"),
      get<{ items: Skill[] }>("/v1/me/skills"),
    ]);
    const byProject = new Map(skills.items.map((s) => [s.project_id, s]));
    if (!projects.items.length) {
      list.replaceChildren(h("div", { class: "empty-state" }, h("strong", {}, "No open projects right now."), h("p", {}, "Come back later: new batches appear here as soon as they launch.")));
      return;
    }
    list.replaceChildren(...projects.items.map((p) => card(p, byProject.get(p.id))));
  } catch (err) {
    list.replaceChildren(errorBox(err, "load"));
  }
}

function card(p: Project, skill: Skill | undefined): HTMLElement {
  const state = standing(p, skill);
  const banned = skill?.banned ?? false;
  const showInstructions = () => {
    const body = h("div", { class: "markdown" });
    body.innerHTML = renderMarkdown(p.instructions); // raw HTML is escaped by markdown-it
    modal(`Instructions — ${p.name}`, body);
  };
  return h("article", { class: "card project", "data-project": p.id },
    h("header", {}, h("h2", {}, p.name), h("span", { class: "type" }, TOOLS[p.annotation.type]?.title ?? p.annotation.type)),
    h("p", { class: "summary" }, firstLine(p.instructions)),
    h("dl", { class: "facts" },
      h("div", {}, h("dt", {}, "Reward"), h("dd", {}, `${money(p.reward)} per answer`)),
      h("div", {}, h("dt", {}, "Time limit"), h("dd", {}, duration(p.assignment_duration_s))),
      h("div", {}, h("dt", {}, "Work available"), h("dd", {}, `${p.available_tasks ?? 0} task${p.available_tasks === 1 ? "" : "s"}`)),
    ),
    h("p", { class: `standing ${state.cls}` }, state.text),
    h("footer", {},
      h("button", { type: "button", onclick: showInstructions }, "Instructions"),
      banned ? h("span", { class: "muted" }, "You cannot work here.") : h("a", { class: "button primary", href: `/work/${encodeURIComponent(p.id)}`, "data-link": "" }, "Start"),
    ),
  );
}
