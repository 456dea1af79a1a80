// The requester's projects: the list, and the create/edit form with a live preview of the
// worker's task page (the same tool, on a sample image, as the form changes).

import { get, patch, post, ApiError } from "../core/api";
import { h, money, when } from "../core/dom";
import { firstLine } from "../core/markdown";
import type { Router } from "../core/router";
import type { AnnotationType, Page } from "../core/types";
import { errorBox } from "../core/ui";
import { TOOLS } from "../tools";
import { ToolEditor, sampleImage } from "./editor";
import { checkProject, DEFAULT_FORM, fieldOfLoc, formOf, humanDuration, type ProjectForm } from "./form";
import type { ProjectFull } from "./types";

export async function projectsPage(root: HTMLElement, _p: Record<string, string>, _q: URLSearchParams, _router: Router): Promise<void> {
  const list = h("div", { class: "cards" }, h("p", { class: "muted" }, "Loading…"));
  root.replaceChildren(h("section", {},
    h("div", { class: "page-head" }, h("h1", {}, "Your projects"), h("a", { class: "button primary", href: "/projects/new", "data-link": "" }, "New project")),
    list));
  try {
    const page = await get<Page<ProjectFull>>("/v1/projects?limit=200");
    if (!page.items.length) {
      list.replaceChildren(h("div", { class: "empty-state" }, h("strong", {}, "No project yet."), h("p", {}, "A project says what to annotate and how; its batches are the images."), h("a", { class: "button primary", href: "/projects/new", "data-link": "" }, "Create your first project")));
      return;
    }
    list.replaceChildren(...page.items.map((p) => h("article", { class: "card project", "data-project": p.id },
      h("header", {}, h("h2", {}, h("a", { href: `/projects/${encodeURIComponent(p.id)}`, "data-link": "" }, p.name)), h("span", { class: "type" }, TOOLS[p.annotation.type]?.title ?? p.annotation.type)),
      h("p", { class: "summary" }, firstLine(p.instructions)),
      h("dl", { class: "facts" },
        h("div", {}, h("dt", {}, "Reward"), h("dd", {}, money(p.reward))),
        h("div", {}, h("dt", {}, "Answers"), h("dd", {}, `${p.overlap.min}–${p.overlap.max}`)),
        h("div", {}, h("dt", {}, "Created"), h("dd", {}, when(p.created_at))),
      ),
    )));
  } catch (err) {
    list.replaceChildren(errorBox(err, "load"));
  }
}

const TYPES: AnnotationType[] = ["classification", "multilabel", "bbox", "polygon", "segmentation", "keypoints", "points"];

interface FieldDef {
  key: keyof ProjectForm;
  label: string;
  kind: "text" | "textarea" | "number" | "select";
  step?: string;
  hint?: string;
  only?: AnnotationType[];
  seconds?: boolean; // shown read as a duration beside the number
}

const FIELDS: FieldDef[] = [
  { key: "name", label: "Name", kind: "text" },
  { key: "type", label: "Annotation type", kind: "select" },
  { key: "instructions", label: "Instructions (Markdown; the first line is the prompt)", kind: "textarea" },
  { key: "labels", label: "Labels (one per line; keys 1–9 pick them)", kind: "textarea" },
  { key: "keypoints", label: "Keypoint names, in order (one per line)", kind: "textarea", only: ["keypoints"] },
  { key: "skeleton", label: "Skeleton edges (e.g. 0-1, 1-2)", kind: "text", only: ["keypoints"] },
  { key: "reward", label: "Reward per accepted answer ($)", kind: "text" },
  { key: "overlap_min", label: "Answers per task: at least", kind: "number", step: "1" },
  { key: "overlap_max", label: "… at most", kind: "number", step: "1" },
  { key: "confidence", label: "Confidence that completes a task early", kind: "number", step: "0.01" },
  { key: "gold_rate", label: "Share of gold tasks (0–0.5)", kind: "number", step: "0.01" },
  { key: "qualification_gold_tasks", label: "Qualification: gold tasks first", kind: "number", step: "1" },
  { key: "qualification_min_accuracy", label: "Qualification: minimum accuracy", kind: "number", step: "0.05" },
  { key: "ban_below_accuracy", label: "Ban below accuracy", kind: "number", step: "0.05" },
  { key: "assignment_duration_s", label: "Time per task (seconds)", kind: "number", step: "1", seconds: true },
  { key: "auto_accept_s", label: "Review window before auto-accept (seconds)", kind: "number", step: "1", seconds: true },
];

export async function projectFormPage(root: HTMLElement, params: Record<string, string>, _q: URLSearchParams, router: Router): Promise<() => void> {
  const editing = params.project ?? null;
  let form: ProjectForm = { ...DEFAULT_FORM };
  let hasBatches = false;
  if (editing) {
    try {
      const p = await get<ProjectFull>(`/v1/projects/${encodeURIComponent(editing)}`);
      form = formOf(p);
      hasBatches = (await get<Page<unknown>>(`/v1/projects/${encodeURIComponent(editing)}/batches?limit=1`)).items.length > 0;
    } catch (err) {
      root.replaceChildren(errorBox(err, "load"));
      return () => undefined;
    }
  }
  const inputs = new Map<keyof ProjectForm, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>();
  const messages = new Map<string, HTMLElement>();
  const rows = new Map<keyof ProjectForm, HTMLElement>();
  const errors = h("div", { class: "form-errors" });
  const editor = new ToolEditor();
  const prompt = h("div", { class: "prompt" });
  const reward = h("div", { class: "reward" });
  const el = h("form", { class: "project-form card", "data-form": "project", novalidate: true },
    ...FIELDS.map((f) => {
      let input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
      if (f.kind === "select") {
        input = h("select", { name: f.key, disabled: editing && hasBatches ? true : null }, ...TYPES.map((t) => h("option", { value: t }, TOOLS[t].title)));
      } else if (f.kind === "textarea") {
        input = h("textarea", { name: f.key, rows: f.key === "instructions" ? 5 : 3 });
      } else {
        input = h("input", { name: f.key, type: f.kind === "number" ? "number" : "text", step: f.step ?? null });
      }
      input.value = String(form[f.key]);
      inputs.set(f.key, input);
      const msg = h("small", { class: "field-error", "data-error-for": f.key });
      messages.set(f.key, msg);
      const reading = f.seconds ? h("small", { class: "muted", "data-duration-for": f.key }) : null;
      if (reading) {
        const show = () => (reading.textContent = humanDuration(Number(input.value.trim() || NaN)));
        input.addEventListener("input", show);
        show();
      }
      const row = h("label", { class: "field" }, h("span", {}, f.label), input, reading, msg);
      rows.set(f.key, row);
      return row;
    }),
    errors,
    h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "Create project"),
  );
  const read = (): ProjectForm => {
    const out = { ...form };
    for (const f of FIELDS) {
      const v = inputs.get(f.key)!.value;
      (out as Record<string, unknown>)[f.key] = f.kind === "number" ? (v === "" ? NaN : Number(v)) : v;
    }
    return out;
  };
  const showErrors = (errs: Record<string, string>) => {
    for (const [k, m] of messages) m.textContent = errs[k] ?? "";
    for (const [k, row] of rows) row.classList.toggle("invalid", !!errs[k]);
  };
  let previewTimer = 0;
  let previewKey = "";
  const refresh = (live: boolean) => {
    form = read();
    for (const f of FIELDS) rows.get(f.key)!.hidden = !!f.only && !f.only.includes(form.type);
    const { body, errors: errs } = checkProject(form);
    if (live) showErrors(Object.fromEntries(Object.entries(errs).filter(([k]) => inputs.get(k as keyof ProjectForm)?.dataset.touched)));
    prompt.replaceChildren(h("strong", {}, TOOLS[form.type].title), " — ", firstLine(form.instructions) || "See the instructions (I).");
    reward.textContent = `Reward $${form.reward}`;
    const spec = body.annotation as { type: AnnotationType; labels?: string[]; keypoints?: string[]; skeleton?: [number, number][] };
    const key = JSON.stringify(spec);
    if (key === previewKey) return;
    previewKey = key;
    clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => {
      const labels = spec.labels?.length ? spec.labels : spec.type === "keypoints" ? ["object"] : ["(no label yet)"];
      const keypoints = spec.type === "keypoints" ? (spec.keypoints?.length ? spec.keypoints : ["(name the keypoints)"]) : null;
      editor.show({ type: spec.type, labels, keypoints, skeleton: errs.skeleton ? [] : spec.skeleton ?? [] }, sampleImage(), 640, 420);
    }, 150);
  };
  for (const input of inputs.values()) {
    input.addEventListener("input", () => ((input.dataset.touched = "1"), refresh(true)));
    input.addEventListener("change", () => ((input.dataset.touched = "1"), refresh(true)));
  }
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    form = read();
    const { body, errors: errs } = checkProject(form);
    showErrors(errs);
    errors.replaceChildren();
    if (Object.keys(errs).length) {
      errors.replaceChildren(h("div", { class: "error", role: "alert" }, h("strong", {}, "Check the fields marked in red"), h("p", {}, Object.values(errs)[0])));
      return;
    }
    try {
      let saved: ProjectFull;
      if (editing) {
        const change: Record<string, unknown> = { ...body };
        if (hasBatches) delete change.annotation;
        saved = await patch<ProjectFull>(`/v1/projects/${encodeURIComponent(editing)}`, change);
      } else {
        saved = await post<ProjectFull>("/v1/projects", body);
      }
      router.go(`/projects/${encodeURIComponent(saved.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.problem.errors) {
        showErrors(Object.fromEntries(err.problem.errors.map((x) => [fieldOfLoc(x.loc), x.msg])));
      }
      errors.replaceChildren(errorBox(err, "action"));
    }
  });
  root.replaceChildren(h("section", { class: "project-editor" },
    h("h1", {}, editing ? "Edit project" : "New project"),
    editing && hasBatches ? h("p", { class: "muted" }, "The annotation type and labels are fixed once a batch exists; reward, overlap and confidence apply to batches launched from now on.") : null,
    h("div", { class: "split" }, el,
      h("div", { class: "preview", "data-preview": "" },
        h("div", { class: "panel-title" }, "What a worker sees"),
        h("div", { class: "task-bar" }, prompt, h("div", { class: "task-meta" }, reward, h("div", { class: "countdown" }, "10:00 left"))),
        editor.el,
      ),
    ),
  ));
  refresh(false);
  (window as unknown as { __preview?: unknown }).__preview = { tool: () => editor.tool, answer: () => editor.answer() };
  return () => {
    clearTimeout(previewTimer);
    editor.destroy();
    delete (window as unknown as { __preview?: unknown }).__preview;
  };
}
