// The model of the project's models panel and of the gallery's model facts, without the DOM:
// the attach and auto-labelling forms checked by the API's own rules (app/annotators/schemas.py,
// app/projects/schemas.py), the API's problems mapped onto their fields, and the words for a
// model's state, its measured reliability, who labelled a task and what a worker did with a
// prediction (docs/MODELS.md).

import type { Problem } from "../core/api";
import type { AttachedModel, ModelReliability, PredictionStart, ResultItem } from "./types";

/** Annotation types the builtin classifier predicts (app/annotators/service.py BUILTIN_TYPES). */
export const BUILTIN_TYPES: readonly string[] = ["classification", "multilabel"];
export const builtinFits = (annotationType: string): boolean => BUILTIN_TYPES.includes(annotationType);

export interface ModelForm {
  kind: "http" | "builtin";
  name: string;
  url: string;
  timeout_s: string; // as typed
}

export const DEFAULT_MODEL_FORM: ModelForm = { kind: "http", name: "", url: "", timeout_s: "10" };

export interface Checked {
  body: Record<string, unknown>;
  errors: Record<string, string>; // field → message
}

/** The body of `POST /v1/projects/{id}/models`, or what is wrong with the form. */
export function checkModel(f: ModelForm, annotationType: string): Checked {
  const errors: Record<string, string> = {};
  const name = f.name.trim();
  if (!name) errors.name = "Give the model a name.";
  else if (name.length > 200) errors.name = "At most 200 characters.";
  if (f.kind === "builtin") {
    if (!builtinFits(annotationType)) errors.kind = `The built-in classifier predicts classification and multilabel projects, not ${annotationType}; attach an http model instead.`;
    return { body: { kind: "builtin", name }, errors };
  }
  const url = f.url.trim();
  const urlProblem = checkUrl(url);
  if (urlProblem) errors.url = urlProblem;
  const timeout = f.timeout_s.trim() === "" ? NaN : Number(f.timeout_s);
  if (!(Number.isFinite(timeout) && timeout > 0 && timeout <= 60)) errors.timeout_s = "More than 0 and at most 60 seconds.";
  return { body: { kind: "http", name, url, timeout_s: timeout }, errors };
}

/** What the API's form check refuses in a model URL; whether it resolves to a public address
 * only the server can tell (its answer is shown next to the field too). */
export function checkUrl(url: string): string | null {
  if (!url) return "Where Tessera sends each task: your model server's http(s) URL.";
  if (url.length > 2048) return "At most 2048 characters.";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "Not a URL: write it whole, e.g. https://models.example.com/predict.";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "An http or https URL.";
  if (!parsed.hostname) return "The URL needs a host.";
  if (parsed.username || parsed.password) return "No user name or password in the URL: Tessera signs each call instead.";
  return null;
}

/** The API's 422 for a model, onto the form's fields: `errors[].loc`, or a problem whose detail
 * names the field (`unsafe-model-url`: "url: …"; `model-kind-not-for-project`). */
export function modelProblemFields(problem: Problem): Record<string, string> {
  const out: Record<string, string> = {};
  const type = problem.type ?? "";
  if (type.endsWith("unsafe-model-url")) out.url = (problem.detail ?? "This URL is refused.").replace(/^url:\s*/, "");
  else if (type.endsWith("model-kind-not-for-project")) out.kind = problem.detail ?? "This kind of model does not fit the project.";
  for (const e of problem.errors ?? []) {
    const path = e.loc.filter((p) => p !== "body").map(String);
    const field = ["name", "url", "timeout_s", "kind"].includes(path[0]) ? path[0] : /url/i.test(e.msg) ? "url" : "kind";
    out[field] ??= e.msg.replace(/^Value error,\s*/, "");
  }
  return out;
}

export interface State {
  key: "waiting" | "predicting" | "retrying" | "failing" | "learning" | "fitted";
  text: string;
}

/** A model's state in a word (`key`, also its CSS class) and a sentence. */
export function modelState(m: AttachedModel, now: Date = new Date()): State {
  if (m.kind === "builtin") {
    if (!m.fitted_at) return { key: "learning", text: "Not fitted yet: it learns from the project's first completed tasks." };
    return { key: "fitted", text: `Fitted on ${m.trained_on} completed task${m.trained_on === 1 ? "" : "s"} ${ago(m.fitted_at, now)}; refitted as more complete.` };
  }
  if (m.failed_calls > 0) {
    return { key: "failing", text: `${m.failed_calls} task${m.failed_calls === 1 ? "" : "s"} given up after retries${m.last_error ? `; last error: ${m.last_error}` : ""}.` };
  }
  if (m.last_error) return { key: "retrying", text: `Its latest call failed and is retried with backoff: ${m.last_error}.` };
  if (m.predictions > 0) return { key: "predicting", text: "Answering: each task of a launched batch is sent to it once." };
  return { key: "waiting", text: "No call yet: each task of a launched batch is sent to it once." };
}

export function ago(iso: string, now: Date = new Date()): string {
  const s = Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
  if (s < 90) return "just now";
  if (s < 90 * 60) return `${Math.round(s / 60)} minutes ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;
const count = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** The measured reliability in words: what its vote in the consensus is weighted by. */
export function reliabilityText(r: ModelReliability | null | undefined): { text: string; title: string } {
  if (!r) return { text: "not measured yet", title: "No weight in the consensus until the project's re-estimation has measured it on gold and agreement with people; until then its predictions are suggestions only." };
  const on = `on ${count(r.answers)} answer${r.answers === 1 ? "" : "s"}`;
  if (r.measure === "accuracy") {
    const pm = r.uncertainty !== null && r.uncertainty !== undefined ? ` ± ${pct(r.uncertainty)}` : "";
    return { text: `${pct(r.value)}${pm} right`, title: `Measured accuracy ${on} (gold and agreement): its vote counts as much as this earns.` };
  }
  return { text: `skill ${r.value.toFixed(2)}`, title: `Measured localisation skill, 0 to 1, ${on} (gold and agreement): its shapes count as much as this earns.` };
}

export interface AutoLabelForm {
  auto_label: boolean;
  confidence: string; // as typed
  audit: string; // as typed, 0..1
}

export interface CheckedAutoLabel extends Checked {
  warnings: string[];
}

/** The body of `PATCH /v1/projects/{id}` for auto-labelling, by the API's rules (confidence
 * in (0.5, 1), audit share in [0, 1]); warnings do not stop the save. */
export function checkAutoLabel(f: AutoLabelForm, models: number): CheckedAutoLabel {
  const errors: Record<string, string> = {};
  const warnings: string[] = [];
  const confidence = f.confidence.trim() === "" ? NaN : Number(f.confidence);
  const audit = f.audit.trim() === "" ? NaN : Number(f.audit);
  if (!(confidence > 0.5 && confidence < 1)) errors.confidence = "Between 0.5 and 1 (both excluded).";
  if (!(audit >= 0 && audit <= 1)) errors.audit = "From 0 to 1 (0.1 sends one task in ten to people anyway).";
  if (f.auto_label && !errors.audit && audit === 0) warnings.push("With no audit share nobody checks the models' work, so their measured accuracy stops being corrected.");
  if (f.auto_label && models === 0) warnings.push("No model is attached: nothing is auto-labelled until one is.");
  return { body: { auto_label: f.auto_label, auto_label_audit: audit, confidence }, errors, warnings };
}

/** The API's 422 `errors[].loc` onto the auto-labelling form's fields. */
export function autoLabelFieldOfLoc(loc: (string | number)[]): "auto_label" | "confidence" | "audit" {
  const path = loc.filter((p) => p !== "body").map(String);
  if (path[0] === "auto_label_audit") return "audit";
  if (path[0] === "confidence") return "confidence";
  return "auto_label";
}

export interface LabeledBy {
  key: "model" | "crowd" | "audit";
  text: string;
  title: string;
}

/** Who labelled a task: the models alone (auto-labelling), the crowd, or the crowd as an audit
 * of tasks the models were sure of; null while an ordinary task is open. */
export function labeledBy(item: Pick<ResultItem, "labeled_by" | "audited" | "status">): LabeledBy | null {
  if (item.audited) {
    return item.status === "completed"
      ? { key: "audit", text: "audited", title: "Audit: the models were sure enough to label it alone; people labelled it anyway, to check them." }
      : { key: "audit", text: "audit", title: "Audit: the models were sure enough to label it alone; it waits for people, to check them." };
  }
  if (item.labeled_by === "model") return { key: "model", text: "model", title: "Auto-labelled: the models' predictions completed it, with no human answer." };
  if (item.labeled_by === "crowd") return { key: "crowd", text: "crowd", title: "Labelled by people." };
  return null;
}

export interface Started {
  key: "scratch" | "unchanged" | "edited" | "replaced";
  text: string;
}

/** What a worker did with the model's suggestion it started from. */
export function predictionText(p: PredictionStart | null | undefined, modelName?: string): Started {
  if (!p) return { key: "scratch", text: "no suggestion" };
  const who = `${modelName ?? p.model_id} (score ${p.model_score.toFixed(2)})`;
  if (p.unchanged) return { key: "unchanged", text: `kept the suggestion of ${who} unchanged` };
  if (p.measure === "label kept") return p.agreement >= 0.5 ? { key: "edited", text: `kept the label suggested by ${who}` } : { key: "replaced", text: `changed the label suggested by ${who}` };
  const key = p.agreement >= 0.5 ? "edited" : "replaced";
  return { key, text: `${key === "edited" ? "edited" : "mostly redrew"} the suggestion of ${who}: ${p.measure} ${p.agreement.toFixed(2)} with it` };
}
