// Every error the API can send, in words a worker understands, with what to do next.

import { ApiError } from "./api";

export interface Explained {
  title: string;
  message: string;
  next: string;
}

export function explain(err: unknown, context: "submit" | "lease" | "load" | "signin" | "action" = "action"): Explained {
  if (!(err instanceof ApiError)) {
    return { title: "Something went wrong", message: String((err as Error)?.message ?? err), next: "Reload the page; your draft is kept." };
  }
  const p = err.problem;
  const detail = p.detail || "";
  switch (err.status) {
    case 0:
      return { title: "You are offline", message: "The server cannot be reached.", next: "Check your connection; your work is saved in this browser. Try again in a moment." };
    case 401:
      if (context === "signin") return { title: "Not signed in", message: detail || "The email or the password is wrong.", next: "Check both and try again." };
      return { title: "Signed out", message: "Your session has ended.", next: "Sign in again; your draft is kept in this browser." };
    case 402:
      return { title: "Not enough funds", message: detail || "Your available balance does not cover this.", next: "Deposit the difference below, then try again; nothing was charged." };
    case 403:
      if (p.type?.includes("csrf")) return { title: "Page out of date", message: "This page's security token is stale.", next: "Reload the page; your draft is kept." };
      if (/banned/i.test(detail)) return { title: "You cannot work on this project", message: detail, next: "Pick another project, or contact the operator if you think this is a mistake." };
      if (/qualif/i.test(detail)) return { title: "Not qualified yet", message: detail, next: "Try again after the time shown, or pick another project." };
      return { title: "Not allowed", message: detail || "This is not allowed for your account.", next: "Pick another project." };
    case 404:
      return { title: "Not found", message: detail || "This task or project no longer exists.", next: "Go back to the projects; the next task will be fresh." };
    case 409:
      if (p.type?.includes("lease-expired") || /expired/i.test(detail))
        return { title: "Time is up for this task", message: "The time limit for this task ran out, so it went back to the pool.", next: "Take the next task; keep an eye on the countdown." };
      if (p.type?.includes("too-many-leases")) return { title: "Too many open tasks", message: detail, next: "Finish or skip an open task first." };
      return { title: "Already done", message: detail || "This task was already submitted or given back.", next: "Take the next task." };
    case 413:
      return { title: "Answer too large", message: "The answer is bigger than the server accepts.", next: "Simplify the shapes (fewer points) and submit again." };
    case 422: {
      const fields = (p.errors || []).slice(0, 3).map((e) => e.msg).join("; ");
      if (context === "action") return { title: "Not valid", message: fields || detail || "Some values are not valid.", next: "Fix what is listed and try again; nothing was changed." };
      return { title: "The answer does not fit the task", message: fields || detail || "Some values are not valid.", next: "Fix what is listed, then submit again; nothing was lost." };
    }
    case 429: {
      const wait = err.retryAfter ?? p.retry_after ?? 60;
      return { title: "Too many attempts", message: detail || "Please slow down.", next: `Wait ${formatWait(wait)} and try again.` };
    }
    default:
      if (err.status >= 500) return { title: "The server had a problem", message: "It is not your fault, and your draft is kept.", next: "Try again in a minute." };
      return { title: `Error ${err.status}`, message: detail || "The request failed.", next: "Try again." };
  }
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  return `${Math.round(seconds / 60)} minutes`;
}
