// Shapes of the requester's and operator's API (API.md and the OpenAPI document).

import type { Answer, AnnotationSpec } from "../core/types";

/** @schema ProjectOut */
export interface ProjectFull {
  id: string;
  name: string;
  instructions: string;
  annotation: AnnotationSpec;
  reward: string;
  overlap: { min: number; max: number };
  confidence: number;
  gold_rate: number;
  qualification: { gold_tasks: number; min_accuracy: number };
  ban_below_accuracy: number;
  assignment_duration_s: number;
  auto_accept_s: number;
  min_answer_s: number;
  fast_answers_to_ban: number;
  auto_label: boolean;
  auto_label_audit: number;
  status: string;
  export_formats: string[]; // results formats of the type, besides json
  created_at: string;
}

export interface UploadReport {
  skipped?: { name: string; reason: string }[];
  duplicates?: { name: string; same_as: string }[];
  renamed?: { name: string; as: string }[];
}

/** @schema BatchOut */
export interface Batch {
  id: string;
  project_id: string;
  status: string;
  task_count: number;
  counts: Record<string, number>;
  money: { escrowed: string; spent: string; refunded: string };
  progress: { answers_used: number; answers_max: number; projected_answers: number; projected_cost: string; eta: string | null };
  upload_report: UploadReport;
  launch_quote: { answers: number; reward: string; fee: string; total: string } | null;
  reward: string | null;
  overlap: { min: number; max: number } | null;
  created_at: string;
  launched_at: string | null;
  completed_at: string | null;
}

/** @schema ResultAnswer */
export interface ResultAnswer {
  assignment_id: string;
  worker_id: string;
  answer: Answer | null;
  status: string;
  reason: string | null;
  submitted_at: string | null;
  proposed_verdict?: string | null;
  agreement?: number | null;
  appeal_message?: string | null;
  appealed_at?: string | null;
  appeal_outcome?: string | null;
  prediction?: PredictionStart | null;
}

/** The answer started from a model's prediction (the task's pre-annotation when leased).
 * @schema PredictionStart */
export interface PredictionStart {
  model_id: string;
  model_score: number;
  agreement: number; // 0..1, by `measure`: 1 = kept as it was
  unchanged: boolean;
  measure: string; // "label kept", "label overlap", "IoU", "mask IoU", "OKS"
}

/** @schema ResultItem */
export interface ResultItem {
  task_id: string;
  image_name: string;
  image_url: string;
  thumbnail_url?: string | null;
  width?: number | null;
  height?: number | null;
  completed_at?: string | null;
  status: string;
  answer: Answer | null;
  confidence: number | null;
  answer_count: number;
  labeled_by?: "crowd" | "model" | null;
  audited?: boolean;
  answers?: ResultAnswer[] | null;
}

/** GET /v1/batches/{id}/stats
 * @schema BatchStatsOut */
export interface BatchStats {
  tasks: number;
  completed_tasks: number;
  completions: { bucket_s: number; points: { at: string; completed: number }[] };
  confidence: number[];
  answers_per_task: { histogram: number[]; used: number; fixed: number; saved: number | null };
  workers: { worker_id: string; answers: number; accepted: number; rejected: number; agreement: number | null }[];
  worker_count: number;
}

/** GET /v1/projects/{id}/models (docs/MODELS.md)
 * @schema ModelReliability */
export interface ModelReliability {
  measure: "accuracy" | "skill";
  value: number;
  uncertainty: number | null;
  answers: number;
  measured_at: string | null;
}

/** @schema ModelOut */
export interface AttachedModel {
  id: string;
  project_id: string;
  kind: "http" | "builtin" | string;
  name: string;
  url: string | null;
  timeout_s: number | null;
  trained_on: number;
  fitted_at: string | null;
  predictions: number;
  failed_calls: number;
  last_error: string | null;
  reliability?: ModelReliability | null;
  created_at: string;
}

/** POST /v1/projects/{id}/models: the signing secret is in this answer only.
 * @schema ModelCreated */
export interface ModelCreated extends AttachedModel {
  signing_secret: string | null;
}
