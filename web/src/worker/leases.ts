// The worker's current and prefetched lease per project, kept in localStorage so that a reload
// resumes the same task (and its draft) instead of leasing a new one.

import { ApiError, post } from "../core/api";
import type { Lease } from "../core/types";

const key = (projectId: string, slot: "current" | "next") => `tessera:lease:${slot}:${projectId}`;

export function storedLease(projectId: string, slot: "current" | "next"): Lease | null {
  try {
    const lease = JSON.parse(localStorage.getItem(key(projectId, slot)) || "null") as Lease | null;
    return lease && Date.parse(lease.expires_at) > Date.now() + 2000 ? lease : null;
  } catch {
    return null;
  }
}

export function storeLease(projectId: string, slot: "current" | "next", lease: Lease | null): void {
  try {
    if (lease) localStorage.setItem(key(projectId, slot), JSON.stringify(lease));
    else localStorage.removeItem(key(projectId, slot));
  } catch {
    /* storage disabled: only resuming after a reload is lost */
  }
}

/** A new lease, or null when nothing is left for this worker (204). */
export async function leaseNext(projectId: string): Promise<Lease | null> {
  return post<Lease | null>(`/v1/projects/${encodeURIComponent(projectId)}/assignments`);
}

export async function release(lease: Lease, reason: "skipped" | "broken_image" = "skipped"): Promise<void> {
  try {
    await post(`/v1/assignments/${encodeURIComponent(lease.id)}/release`, { reason });
  } catch (err) {
    // Already expired or submitted: it is back in the pool either way.
    if (!(err instanceof ApiError) || err.status !== 409) throw err;
  }
}

export function preloadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("image failed to load"));
    img.src = url;
  });
}
