// The project form's model: what the requester typed, checked by the API's own rules
// (app/projects/schemas.py, app/annotations/spec.py), and the JSON body it becomes.

import type { AnnotationType } from "../core/types";

export interface ProjectForm {
  name: string;
  instructions: string;
  type: AnnotationType;
  labels: string; // one per line (or comma-separated)
  keypoints: string; // one per line, keypoints only
  skeleton: string; // "0-1, 1-2", keypoints only
  reward: string;
  overlap_min: number;
  overlap_max: number;
  confidence: number;
  gold_rate: number;
  qualification_gold_tasks: number;
  qualification_min_accuracy: number;
  ban_below_accuracy: number;
  assignment_duration_s: number;
  auto_accept_s: number;
}

export const DEFAULT_FORM: ProjectForm = {
  name: "",
  instructions: "",
  type: "bbox",
  labels: "",
  keypoints: "",
  skeleton: "",
  reward: "0.02",
  overlap_min: 3,
  overlap_max: 5,
  confidence: 0.9,
  gold_rate: 0.1,
  qualification_gold_tasks: 0,
  qualification_min_accuracy: 0.8,
  ban_below_accuracy: 0.5,
  assignment_duration_s: 600,
  auto_accept_s: 259200,
};

/** Labels and keypoint names: one per line or comma-separated, trimmed, empty ones dropped. */
/** A number of seconds as a person reads it: 600 → "10 min", 259200 → "3 days", 5400 →
 * "1 h 30 min"; "" for what is not a whole, non-negative number (the field's check says why). */
export function humanDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) return "";
  if (seconds === 0) return "none";
  const units: [number, string][] = [[86400, "day"], [3600, "h"], [60, "min"], [1, "s"]];
  const parts: string[] = [];
  let left = seconds;
  for (const [size, name] of units) {
    const n = Math.floor(left / size);
    if (n === 0) continue;
    parts.push(name === "day" ? `${n} day${n === 1 ? "" : "s"}` : `${n} ${name}`);
    left -= n * size;
    if (parts.length === 2) break; // "3 days 4 h", not down to the second
  }
  return parts.join(" ");
}

export const names = (text: string): string[] => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

export function parseSkeleton(text: string): [number, number][] | string {
  const edges: [number, number][] = [];
  for (const part of text.split(/[,;\n]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)\s*[-–:]\s*(\d+)$/.exec(part);
    if (!m) return `“${part}” is not an edge; write edges as 0-1, 1-2`;
    edges.push([Number(m[1]), Number(m[2])]);
  }
  return edges;
}

const MAX_LABELS: Partial<Record<AnnotationType, number>> = { segmentation: 255 };

export interface Checked {
  body: Record<string, unknown>;
  errors: Record<string, string>; // field → message
}

/** The API's rules, so the form says what is wrong before the request is sent. */
export function checkProject(f: ProjectForm): Checked {
  const errors: Record<string, string> = {};
  const labels = names(f.labels);
  const keypoints = names(f.keypoints);
  if (!f.name.trim()) errors.name = "Give the project a name.";
  else if (f.name.length > 200) errors.name = "At most 200 characters.";
  if (f.instructions.length > 20000) errors.instructions = "At most 20,000 characters.";
  if (f.type !== "keypoints" && labels.length === 0) errors.labels = "Give at least one label.";
  if (new Set(labels).size !== labels.length) errors.labels = "Each label must be different.";
  if (labels.some((l) => l.length > 100)) errors.labels = "A label is at most 100 characters.";
  const maxLabels = MAX_LABELS[f.type] ?? 1000;
  if (labels.length > maxLabels) errors.labels = `${f.type} allows at most ${maxLabels} labels.`;
  let skeleton: [number, number][] = [];
  if (f.type === "keypoints") {
    if (keypoints.length === 0) errors.keypoints = "Name the keypoints, one per line, in the order workers place them.";
    if (new Set(keypoints).size !== keypoints.length) errors.keypoints = "Each keypoint name must be different.";
    const parsed = parseSkeleton(f.skeleton);
    if (typeof parsed === "string") errors.skeleton = parsed;
    else {
      skeleton = parsed;
      const bad = parsed.find(([a, b]) => a >= keypoints.length || b >= keypoints.length || a === b);
      if (bad) errors.skeleton = `Edge ${bad[0]}-${bad[1]} must join two different keypoints numbered 0 to ${keypoints.length - 1}.`;
    }
  }
  if (!/^\d+(\.\d{1,6})?$/.test(f.reward.trim()) || Number(f.reward) <= 0) errors.reward = "A positive amount in dollars, at most 6 decimals (e.g. 0.04).";
  else if (Number(f.reward) > 100) errors.reward = "At most $100 per answer.";
  const int = (v: number) => Number.isInteger(v);
  if (!int(f.overlap_min) || f.overlap_min < 1 || f.overlap_min > 50) errors.overlap_min = "A whole number from 1 to 50.";
  if (!int(f.overlap_max) || f.overlap_max < 1 || f.overlap_max > 50) errors.overlap_max = "A whole number from 1 to 50.";
  else if (f.overlap_min > f.overlap_max) errors.overlap_max = "At least the minimum.";
  if (!(f.confidence > 0.5 && f.confidence < 1)) errors.confidence = "Between 0.5 and 1 (both excluded).";
  if (!(f.gold_rate >= 0 && f.gold_rate <= 0.5)) errors.gold_rate = "From 0 to 0.5.";
  if (!int(f.qualification_gold_tasks) || f.qualification_gold_tasks < 0 || f.qualification_gold_tasks > 100) errors.qualification_gold_tasks = "A whole number from 0 to 100.";
  if (!(f.qualification_min_accuracy >= 0 && f.qualification_min_accuracy <= 1)) errors.qualification_min_accuracy = "From 0 to 1.";
  if (!(f.ban_below_accuracy >= 0 && f.ban_below_accuracy <= 1)) errors.ban_below_accuracy = "From 0 to 1.";
  if (!int(f.assignment_duration_s) || f.assignment_duration_s < 30 || f.assignment_duration_s > 86400) errors.assignment_duration_s = "From 30 seconds to a day (86400).";
  if (!int(f.auto_accept_s) || f.auto_accept_s < 0 || f.auto_accept_s > 30 * 86400) errors.auto_accept_s = "From 0 to 30 days (2592000 seconds).";
  const annotation: Record<string, unknown> = { type: f.type };
  if (labels.length) annotation.labels = labels;
  if (f.type === "keypoints") {
    annotation.keypoints = keypoints;
    if (skeleton.length) annotation.skeleton = skeleton;
  }
  const body = {
    name: f.name.trim(),
    instructions: f.instructions,
    annotation,
    reward: f.reward.trim(),
    overlap: { min: f.overlap_min, max: f.overlap_max },
    confidence: f.confidence,
    gold_rate: f.gold_rate,
    qualification: { gold_tasks: f.qualification_gold_tasks, min_accuracy: f.qualification_min_accuracy },
    ban_below_accuracy: f.ban_below_accuracy,
    assignment_duration_s: f.assignment_duration_s,
    auto_accept_s: f.auto_accept_s,
  };
  return { body, errors };
}

/** The form of an existing project, for editing. */
export function formOf(p: {
  name: string; instructions: string; annotation: { type: AnnotationType; labels: string[]; keypoints?: string[] | null; skeleton?: [number, number][] | null };
  reward: string; overlap: { min: number; max: number }; confidence: number; gold_rate: number;
  qualification: { gold_tasks: number; min_accuracy: number }; ban_below_accuracy: number; assignment_duration_s: number; auto_accept_s: number;
}): ProjectForm {
  return {
    name: p.name,
    instructions: p.instructions,
    type: p.annotation.type,
    labels: p.annotation.labels.join("\n"),
    keypoints: (p.annotation.keypoints ?? []).join("\n"),
    skeleton: (p.annotation.skeleton ?? []).map(([a, b]) => `${a}-${b}`).join(", "),
    reward: p.reward,
    overlap_min: p.overlap.min,
    overlap_max: p.overlap.max,
    confidence: p.confidence,
    gold_rate: p.gold_rate,
    qualification_gold_tasks: p.qualification.gold_tasks,
    qualification_min_accuracy: p.qualification.min_accuracy,
    ban_below_accuracy: p.ban_below_accuracy,
    assignment_duration_s: p.assignment_duration_s,
    auto_accept_s: p.auto_accept_s,
  };
}

/** Map the API's 422 `errors[].loc` onto the form's fields. */
export function fieldOfLoc(loc: (string | number)[]): string {
  const path = loc.filter((p) => p !== "body").map(String);
  if (path[0] === "annotation") return path[1] === "keypoints" || path[1] === "skeleton" ? path[1] : "labels";
  if (path[0] === "overlap") return path[1] === "min" ? "overlap_min" : "overlap_max";
  if (path[0] === "qualification") return path[1] === "gold_tasks" ? "qualification_gold_tasks" : "qualification_min_accuracy";
  return path[0] ?? "name";
}
