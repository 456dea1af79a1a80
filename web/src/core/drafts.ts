// A draft of the current answer per assignment, in localStorage: a reload or a crash loses
// nothing (Label Studio PR #4823, AppraiseDev #39). Dropped once the answer is submitted.

const PREFIX = "tessera:draft:";
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface Draft<T = unknown> {
  savedAt: number;
  state: T;
}

export function saveDraft(assignmentId: string, state: unknown): boolean {
  try {
    localStorage.setItem(PREFIX + assignmentId, JSON.stringify({ savedAt: Date.now(), state }));
    return true;
  } catch {
    return false; // storage full or disabled: the page says the draft could not be kept
  }
}

export function loadDraft<T>(assignmentId: string): Draft<T> | null {
  try {
    const raw = localStorage.getItem(PREFIX + assignmentId);
    return raw ? (JSON.parse(raw) as Draft<T>) : null;
  } catch {
    return null;
  }
}

export function dropDraft(assignmentId: string): void {
  try {
    localStorage.removeItem(PREFIX + assignmentId);
  } catch {
    /* nothing to do */
  }
}

/** Forget drafts older than a week (their leases ended long ago). */
export function pruneDrafts(now = Date.now()): void {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(PREFIX)) continue;
      const draft = JSON.parse(localStorage.getItem(key) || "null") as Draft | null;
      if (!draft || now - draft.savedAt > MAX_AGE_MS) localStorage.removeItem(key);
    }
  } catch {
    /* nothing to do */
  }
}
