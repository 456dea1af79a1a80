// The project page's "Models and auto-labelling" panel: the attached models (kind, state, tasks
// predicted, failures, measured reliability), attaching an http model (its signing secret shown
// once, with a copy button) or the built-in classifier (classification and multilabel projects),
// detaching with a confirmation, and the auto-labelling switch with its confidence target and
// audit share (docs/MODELS.md).

import { ApiError, del, get, patch, post } from "../core/api";
import { h, when } from "../core/dom";
import type { Page } from "../core/types";
import { confirmDialog, errorBox, modal, Notice } from "../core/ui";
import {
  autoLabelFieldOfLoc, builtinFits, checkAutoLabel, checkModel, DEFAULT_MODEL_FORM, modelProblemFields, modelState, reliabilityText, type ModelForm,
} from "./models";
import type { AttachedModel, ModelCreated, ProjectFull } from "./types";

/** A label with its input and the line its error goes in (`data-error-for`). */
function field(key: string, label: string, input: HTMLElement, hint?: string): { row: HTMLElement; msg: HTMLElement } {
  const msg = h("small", { class: "field-error", "data-error-for": key, id: `err-mp-${key}` });
  input.setAttribute("aria-describedby", `err-mp-${key}`);
  const row = h("label", { class: "field", "data-field": key }, h("span", {}, label), input, hint ? h("small", { class: "hint" }, hint) : null, msg);
  return { row, msg };
}

function showErrors(fields: Map<string, { row: HTMLElement; msg: HTMLElement }>, errors: Record<string, string>): void {
  for (const [key, f] of fields) {
    f.msg.textContent = errors[key] ?? "";
    f.row.classList.toggle("invalid", !!errors[key]);
    f.row.querySelector("input, select")?.setAttribute("aria-invalid", errors[key] ? "true" : "false");
  }
}

export function modelsPanel(project: ProjectFull, notice: Notice): { el: HTMLElement; load: () => Promise<void> } {
  let models: AttachedModel[] = [];
  const list = h("div", { class: "models-list", "data-models": "" });
  const auto = autoLabelForm(project, notice, () => models.length);
  const load = async () => {
    try {
      const page = await get<Page<AttachedModel>>(`/v1/projects/${encodeURIComponent(project.id)}/models?limit=100`);
      models = page.items;
      list.replaceChildren(modelTable(models, project, notice, load));
      list.dataset.count = String(models.length);
      auto.recheck();
    } catch (err) {
      list.replaceChildren(errorBox(err, "load"));
    }
  };
  const el = h("div", { class: "models-panel", "data-panel": "models" },
    h("p", { class: "muted" }, "A model suggests an answer for each task; workers see the suggestion and correct it, and the results say how much they changed. Its measured reliability decides how much its answer counts in the consensus; it is never paid."),
    list,
    h("div", { class: "models-forms" }, attachForm(project, notice, load), auto.el),
  );
  return { el, load };
}

function modelTable(models: AttachedModel[], project: ProjectFull, notice: Notice, reload: () => Promise<void>): HTMLElement {
  if (!models.length) return h("p", { class: "empty-state", "data-empty": "models" }, "No model attached yet: attach one below.");
  return h("table", { class: "models" },
    h("thead", {}, h("tr", {}, ...["Name", "Kind", "State", "Tasks predicted", "Failed calls", "Reliability", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...models.map((m) => {
      const state = modelState(m);
      const rel = reliabilityText(m.reliability);
      const detach = h("button", { type: "button", "data-action": "detach", "aria-label": `Detach ${m.name}` }, "Detach");
      detach.addEventListener("click", async () => {
        const yes = await confirmDialog(`Detach ${m.name}?`, "It predicts no more tasks, and its predictions are no longer shown to workers or counted in the consensus. Answers that started from one keep saying so. This cannot be undone (attach it again to start over).", "Detach model");
        if (!yes) return detach.focus();
        try {
          await del(`/v1/projects/${encodeURIComponent(project.id)}/models/${encodeURIComponent(m.id)}`);
          notice.show(`${m.name} detached.`);
          await reload();
        } catch (err) {
          detach.after(errorBox(err, "action"));
        }
      });
      return h("tr", { "data-model": m.id, "data-kind": m.kind, "data-state": state.key },
        h("td", {}, h("strong", {}, m.name), m.url ? h("div", { class: "hint url" }, m.url) : null, h("div", { class: "hint" }, `Attached ${when(m.created_at)}`)),
        h("td", {}, m.kind === "builtin" ? "built-in classifier" : `http, ${m.timeout_s ?? 10} s timeout`),
        h("td", { class: "state" }, h("span", { class: `badge model-${state.key}` }, state.key), h("div", { class: "hint" }, state.text)),
        h("td", { class: "num", "data-fact": "predictions" }, String(m.predictions)),
        h("td", { class: `num${m.failed_calls ? " neg" : ""}`, "data-fact": "failed" }, String(m.failed_calls)),
        h("td", { "data-fact": "reliability", title: rel.title }, rel.text, h("div", { class: "hint" }, m.reliability?.measured_at ? `measured ${when(m.reliability.measured_at)}` : "no weight in the consensus yet")),
        h("td", {}, detach),
      );
    })),
  );
}

function attachForm(project: ProjectFull, notice: Notice, reload: () => Promise<void>): HTMLElement {
  const type = project.annotation.type;
  const builtin = builtinFits(type);
  const fields = new Map<string, { row: HTMLElement; msg: HTMLElement }>();
  const name = h("input", { type: "text", name: "model-name", maxlength: "200", placeholder: "my detector v3", autocomplete: "off" });
  const url = h("input", { type: "url", name: "model-url", placeholder: "https://models.example.com/predict", autocomplete: "off", spellcheck: "false" });
  const timeout = h("input", { type: "number", name: "model-timeout", step: "any", min: "0", max: "60", value: DEFAULT_MODEL_FORM.timeout_s });
  const radio = (value: string, label: string, checked: boolean) => h("label", { class: "check" }, h("input", { type: "radio", name: "model-kind", value, checked }), label);
  const kindRow = h("fieldset", { class: "kinds", "data-field": "kind" },
    h("legend", {}, "Kind"),
    radio("http", "Your model server (http): Tessera sends it each task, signed, and takes its answer and score", true),
    builtin ? radio("builtin", "Built-in classifier: learns from this project's own completed tasks, runs inside Tessera", false) : h("p", { class: "hint", "data-no-builtin": "" }, `The built-in classifier is for classification and multilabel projects; this one is ${type}.`),
  );
  const kindMsg = h("small", { class: "field-error", "data-error-for": "kind" });
  kindRow.append(kindMsg);
  fields.set("kind", { row: kindRow, msg: kindMsg });
  const f = (key: string, label: string, input: HTMLElement, hint?: string) => {
    const x = field(key, label, input, hint);
    fields.set(key, x);
    return x.row;
  };
  const httpOnly = h("div", { class: "http-only" },
    f("url", "URL", url, "Must resolve to a public address (the server's setting TESSERA_MODEL_PRIVATE_HOSTS allows your own network)."),
    f("timeout_s", "Timeout per call (seconds)", timeout, "More than 0, at most 60; a timeout is retried with backoff."),
  );
  const message = h("div", { "data-attach-result": "" });
  const submit = h("button", { type: "submit", class: "primary", "data-action": "attach" }, "Attach model");
  const form = h("form", { class: "card attach-model", "data-form": "attach-model", novalidate: true },
    h("h3", {}, "Attach a model"), kindRow, f("name", "Name", name), httpOnly, h("div", { class: "actions" }, submit), message);
  const read = (): ModelForm => ({
    kind: ((form.querySelector("input[name=model-kind]:checked") as HTMLInputElement | null)?.value as ModelForm["kind"]) ?? "http",
    name: name.value, url: url.value, timeout_s: timeout.value,
  });
  const sync = () => {
    httpOnly.hidden = read().kind !== "http";
  };
  form.addEventListener("change", sync);
  const live = () => {
    const errs = checkModel(read(), type).errors;
    showErrors(fields, Object.fromEntries(Object.entries(errs).filter(([k]) => (form.querySelector(`[data-field=${k}] input`) as HTMLElement | null)?.dataset.touched)));
  };
  for (const input of [name, url, timeout]) input.addEventListener("input", () => ((input.dataset.touched = "1"), live()));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const { body, errors } = checkModel(read(), type);
    showErrors(fields, errors);
    if (Object.keys(errors).length) {
      (form.querySelector(".field.invalid input, fieldset.invalid input") as HTMLElement | null)?.focus();
      return;
    }
    submit.disabled = true;
    try {
      const made = await post<ModelCreated>(`/v1/projects/${encodeURIComponent(project.id)}/models`, body);
      form.reset();
      for (const input of [name, url, timeout]) delete input.dataset.touched;
      sync();
      await reload();
      if (made.signing_secret) showSecret(made, () => submit.focus());
      else notice.show(`${made.name} attached.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        const byField = modelProblemFields(err.problem);
        showErrors(fields, byField);
        if (!Object.keys(byField).length) message.replaceChildren(errorBox(err, "action"));
        (form.querySelector(".field.invalid input, fieldset.invalid input") as HTMLElement | null)?.focus();
      } else {
        message.replaceChildren(errorBox(err, "action"));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The signing secret, once: it is in the answer to the attach and nowhere else, ever. */
function showSecret(made: ModelCreated, closed: () => void): void {
  const secret = made.signing_secret ?? "";
  const box = h("input", { type: "text", readonly: true, value: secret, "data-secret": "", "aria-label": "Signing secret", spellcheck: "false" });
  const status = h("span", { class: "hint", role: "status", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "primary", "data-action": "copy-secret" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      // No clipboard permission (or not a secure context): select it for Ctrl+C instead.
      box.select();
      if (!document.execCommand("copy")) return void (status.textContent = "Press Ctrl+C (⌘C) to copy the selected secret.");
    }
    status.textContent = "Copied.";
  });
  const done = h("button", { type: "button", "data-action": "secret-stored" }, "I have stored it");
  const body = h("div", { class: "model-secret", "data-secret-dialog": made.id },
    h("p", { class: "note-warning", role: "alert" }, h("strong", {}, "You won't see this again. "), "Copy the signing secret now and keep it with your model server: Tessera signs every call to it with this key (the Tessera-Signature header, docs/MODELS.md), and shows it only here. Lost it? Detach the model and attach it again for a new one."),
    h("div", { class: "secret-row" }, box, copy),
    status,
    h("div", { class: "actions" }, done),
  );
  const close = modal(`${made.name} attached: its signing secret`, body, closed);
  done.addEventListener("click", close);
  box.addEventListener("focus", () => box.select());
  copy.focus();
}

function autoLabelForm(project: ProjectFull, notice: Notice, models: () => number): { el: HTMLElement; recheck: () => void } {
  const fields = new Map<string, { row: HTMLElement; msg: HTMLElement }>();
  const on = h("input", { type: "checkbox", name: "auto_label", checked: project.auto_label });
  const confidence = h("input", { type: "number", name: "confidence", step: "any", min: "0.5", max: "1", value: String(project.confidence) });
  const audit = h("input", { type: "number", name: "auto_label_audit", step: "any", min: "0", max: "1", value: String(project.auto_label_audit) });
  const onMsg = h("small", { class: "field-error", "data-error-for": "auto_label" });
  const onRow = h("div", { class: "field", "data-field": "auto_label" },
    h("label", { class: "check" }, on, "Auto-label the tasks the models are sure of"), onMsg,
    h("small", { class: "hint" }, "A task whose models' predictions alone reach the confidence target completes with no human answer and no cost; people never see it. Off: a model's answer is one more vote."));
  fields.set("auto_label", { row: onRow, msg: onMsg });
  const f = (key: string, label: string, input: HTMLElement, hint: string) => {
    const x = field(key, label, input, hint);
    fields.set(key, x);
    return x.row;
  };
  const state = h("span", { class: `badge ${project.auto_label ? "accepted" : ""}`, "data-auto-label": String(project.auto_label) }, project.auto_label ? "on" : "off");
  const warnings = h("div", { class: "warnings", "data-warnings": "" });
  const message = h("div");
  const save = h("button", { type: "submit", class: "primary", "data-action": "save-auto-label" }, "Save auto-labelling");
  const form = h("form", { class: "card auto-label", "data-form": "auto-label", novalidate: true },
    h("h3", {}, "Auto-labelling ", state),
    onRow,
    h("div", { class: "inline-fields" },
      f("confidence", "Confidence target", confidence, "The project's target, 0.5 to 1: a batch keeps the one it launched with."),
      f("audit", "Audit share", audit, "From 0 to 1: this share of would-be auto-labelled tasks, drawn at random, goes to people anyway and keeps the models' measured accuracy honest."),
    ),
    warnings, h("div", { class: "actions" }, save), message);
  const read = () => ({ auto_label: on.checked, confidence: confidence.value, audit: audit.value });
  const recheck = () => {
    const { errors, warnings: w } = checkAutoLabel(read(), models());
    showErrors(fields, Object.fromEntries(Object.entries(errors).filter(([k]) => k !== "auto_label" && (k === "audit" ? audit : confidence).dataset.touched)));
    warnings.replaceChildren(...w.map((text) => h("p", { class: "note-warning" }, text)));
  };
  for (const input of [confidence, audit]) input.addEventListener("input", () => ((input.dataset.touched = "1"), recheck()));
  on.addEventListener("change", recheck);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const { body, errors } = checkAutoLabel(read(), models());
    showErrors(fields, errors);
    if (Object.keys(errors).length) return void (form.querySelector(".field.invalid input") as HTMLElement | null)?.focus();
    save.disabled = true;
    try {
      const saved = await patch<ProjectFull>(`/v1/projects/${encodeURIComponent(project.id)}`, body);
      Object.assign(project, { auto_label: saved.auto_label, auto_label_audit: saved.auto_label_audit, confidence: saved.confidence });
      state.textContent = saved.auto_label ? "on" : "off";
      state.className = `badge ${saved.auto_label ? "accepted" : ""}`;
      state.dataset.autoLabel = String(saved.auto_label);
      notice.show(saved.auto_label ? `Auto-labelling on, ${Math.round(saved.auto_label_audit * 100)}% audited.` : "Auto-labelling off.");
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.problem.errors?.length) {
        showErrors(fields, Object.fromEntries(err.problem.errors.map((x) => [autoLabelFieldOfLoc(x.loc), x.msg])));
        (form.querySelector(".field.invalid input") as HTMLElement | null)?.focus();
      } else {
        message.replaceChildren(errorBox(err, "action"));
      }
    } finally {
      save.disabled = false;
    }
  });
  recheck();
  return { el: form, recheck };
}
