// The batch dashboard's figures, computed from the results pages (pure functions, unit-tested).

import type { ResultItem } from "./types";

/** Tasks completed so far, as a cumulative count over time (one point per completion). */
export function completionsOverTime(items: ResultItem[]): [number, number][] {
  const times = items.filter((i) => i.completed_at).map((i) => Date.parse(i.completed_at!)).sort((a, b) => a - b);
  return times.map((t, i) => [t, i + 1]);
}

/** How many completed tasks fall in each tenth of confidence (0–0.1, …, 0.9–1). */
export function confidenceHistogram(items: ResultItem[], bins = 10): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const i of items) {
    if (i.confidence === null || i.confidence === undefined) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(i.confidence * bins)))]++;
  }
  return counts;
}

export interface OverlapSaving {
  histogram: number[]; // index k: completed tasks that took k answers (0..max)
  used: number; // answers the completed tasks took
  fixed: number; // what fixed overlap (max answers each) would have taken
}

/** Answers per completed task, against what a fixed overlap of `max` would have used. */
export function answersPerTask(items: ResultItem[], max: number): OverlapSaving {
  const histogram = new Array<number>(Math.max(max, 1) + 1).fill(0);
  let used = 0, done = 0;
  for (const i of items) {
    if (i.status !== "completed") continue;
    done++;
    used += i.answer_count;
    histogram[Math.min(i.answer_count, histogram.length - 1)]++;
  }
  return { histogram, used, fixed: done * max };
}

export interface WorkerFigure {
  worker_id: string;
  answers: number;
  accepted: number;
  rejected: number;
  /** Mean agreement with the consensus over its answers to completed tasks, or null. */
  agreement: number | null;
}

/** Per worker: answers, verdicts and agreement with the consensus, most answers first. */
export function workerAccuracy(items: ResultItem[]): WorkerFigure[] {
  const by = new Map<string, WorkerFigure & { sum: number; n: number }>();
  for (const item of items) {
    for (const a of item.answers ?? []) {
      const w = by.get(a.worker_id) ?? { worker_id: a.worker_id, answers: 0, accepted: 0, rejected: 0, agreement: null, sum: 0, n: 0 };
      w.answers++;
      if (a.status === "accepted") w.accepted++;
      if (a.status === "rejected") w.rejected++;
      if (typeof a.agreement === "number") (w.sum += a.agreement), w.n++;
      by.set(a.worker_id, w);
    }
  }
  return [...by.values()]
    .map(({ sum, n, ...w }) => ({ ...w, agreement: n ? sum / n : null }))
    .sort((a, b) => b.answers - a.answers || a.worker_id.localeCompare(b.worker_id));
}

/** How much two or more answers to a task disagree: 1 − confidence (0 when unknown). */
export const disagreement = (i: ResultItem): number => (i.confidence === null || i.confidence === undefined ? 0 : 1 - i.confidence);

export type SortKey = "order" | "confidence" | "disagreement";

export function sortItems(items: ResultItem[], key: SortKey): ResultItem[] {
  if (key === "order") return items;
  const conf = (i: ResultItem) => i.confidence ?? 2; // unknown last
  const sorted = [...items];
  if (key === "confidence") sorted.sort((a, b) => conf(a) - conf(b));
  else sorted.sort((a, b) => disagreement(b) - disagreement(a) || (b.answers?.length ?? 0) - (a.answers?.length ?? 0));
  return sorted;
}
