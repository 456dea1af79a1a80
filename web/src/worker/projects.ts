// Project names for the history and earnings pages: the open projects' list, then one GET for
// each project that is no longer listed (its work is done, but it still has a name).

import { get } from "../core/api";
import type { Page, Project } from "../core/types";

export async function projectNames(ids: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    const listed = await get<Page<Project>>("/v1/projects?limit=500");
    listed.items.forEach((p) => names.set(p.id, p.name));
  } catch {
    /* names are a nicety: ids will do */
  }
  const missing = [...new Set(ids)].filter((id) => !names.has(id)).slice(0, 50);
  await Promise.all(
    missing.map((id) =>
      get<Project>(`/v1/projects/${encodeURIComponent(id)}`).then((p) => names.set(id, p.name)).catch(() => undefined),
    ),
  );
  return names;
}
