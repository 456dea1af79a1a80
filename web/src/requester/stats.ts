// The gallery's sorting (pure functions, unit-tested). The dashboard's figures come from the
// server (GET /v1/batches/{id}/stats).

import type { ResultItem } from "./types";

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
