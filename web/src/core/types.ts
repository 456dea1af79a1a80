// Shapes of the API's JSON (API.md), as the web app reads them.

export type AnnotationType = "classification" | "multilabel" | "bbox" | "polygon" | "segmentation" | "keypoints" | "points";

/** @schema AnnotationSpec */
export interface AnnotationSpec {
  type: AnnotationType;
  labels: string[];
  keypoints?: string[] | null;
  skeleton?: [number, number][] | null;
}

/** @schema SessionAccount */
export interface Account {
  id: string;
  role: "worker" | "requester" | "operator";
  name: string;
  email: string | null;
}

/** @schema SessionOut */
export interface SessionInfo {
  account: Account;
  csrf_token: string;
  expires_at: string;
}

/** @schema OpenProjectOut */
export interface Project {
  id: string;
  name: string;
  instructions: string;
  annotation: AnnotationSpec;
  reward: string;
  assignment_duration_s: number;
  available_tasks?: number;
  qualification_gold_tasks: number; // gold tasks to answer before real ones (0: none)
}

/** @schema LeasedTask */
export interface LeasedTask {
  id: string;
  image_url: string;
  width: number;
  height: number;
  annotation: AnnotationSpec;
  instructions: string;
  pre_annotation?: Answer | null;
}

/** @schema LeaseOut */
export interface Lease {
  id: string;
  project_id: string;
  task: LeasedTask;
  reward: string;
  expires_at: string;
}

/** @schema AssignmentOut */
export interface AssignmentRow {
  id: string;
  project_id: string;
  task_id: string;
  status: string;
  reward: string;
  leased_at: string;
  expires_at: string;
  submitted_at: string | null;
  reason: string | null;
  appeal_until: string | null;
  appeal_message: string | null;
  appeal_outcome: string | null;
}

/** A worker's standing on a project as the worker sees it (GET /v1/me/skills): no count of
 * gold answers, which would tell which submits were gold.
 * @schema StandingOut */
export interface Skill {
  project_id: string;
  accuracy: number;
  accuracy_upper: number;
  graded_answers: number;
  qualified: boolean;
  qualification_retry_at: string | null;
  banned: boolean;
  ban_reason: string | null;
}

/** The operator's view of the same standing (GET /v1/operator/workers): gold answers counted.
 * @schema ProjectSkill */
export interface ProjectSkill extends Skill {
  gold_answers: number;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Answer = Record<string, unknown>;
