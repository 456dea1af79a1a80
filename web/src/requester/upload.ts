// Batch upload: files, folders (dropped or picked) or zips, sent as one multipart request with
// a progress bar per file and overall, then the server's per-file report.

import { h } from "../core/dom";
import type { Batch, UploadReport } from "./types";
import { ApiError, type Problem } from "../core/api";

export interface Picked {
  name: string; // the relative path inside a dropped folder, else the file name
  file: File;
}

/** Every file under the dropped items, folders walked (DataTransferItem.webkitGetAsEntry). */
export async function droppedFiles(items: DataTransferItemList): Promise<Picked[]> {
  const entries = [...items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const out: Picked[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ name: entry.fullPath.replace(/^\//, ""), file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

export const pickedFiles = (files: FileList | File[]): Picked[] =>
  [...files].map((file) => ({ name: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name, file }));

/** Bytes sent so far spread over the files in request order: the fraction done of each. */
export function fileProgress(sizes: number[], loaded: number): number[] {
  let left = loaded;
  return sizes.map((size) => {
    const part = Math.min(Math.max(left, 0), size);
    left -= size;
    return size ? part / size : left >= 0 ? 1 : 0;
  });
}

export interface ReportRow {
  name: string;
  state: "added" | "skipped" | "duplicate" | "renamed";
  why: string;
}

/** One row per file sent: added, or why not (skipped with the reason, duplicate of which). */
export function reportRows(names: string[], report: UploadReport): ReportRow[] {
  const skipped = new Map((report.skipped ?? []).map((s) => [s.name, s.reason]));
  const dupes = new Map((report.duplicates ?? []).map((d) => [d.name, d.same_as]));
  const rows: ReportRow[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    seen.add(name);
    if (skipped.has(name)) rows.push({ name, state: "skipped", why: skipped.get(name)! });
    else if (dupes.has(name)) rows.push({ name, state: "duplicate", why: `same image as ${dupes.get(name)}` });
    else rows.push({ name, state: "added", why: "" });
  }
  // Files inside a zip are reported by the server as zip/inner: add them too.
  for (const [name, reason] of skipped) if (!seen.has(name)) rows.push({ name, state: "skipped", why: reason });
  for (const [name, same] of dupes) if (!seen.has(name)) rows.push({ name, state: "duplicate", why: `same image as ${same}` });
  return rows;
}

export interface Progress {
  overall: HTMLProgressElement;
  perFile: HTMLProgressElement[];
}

/** POST the files as one batch; `onProgress` gets the bytes sent. Resolves to the new batch. */
export function sendBatch(projectId: string, picked: Picked[], csrf: string | null, onProgress: (loaded: number, total: number) => void): Promise<Batch> {
  const form = new FormData();
  for (const p of picked) form.append("files", p.file, p.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/projects/${encodeURIComponent(projectId)}/batches?skip_invalid=true`);
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
    xhr.onerror = () => reject(new ApiError(0, { status: 0, title: "Network error" }));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status === 201) resolve(data as Batch);
      else reject(new ApiError(xhr.status, { ...((data as Problem) ?? {}), status: xhr.status }));
    };
    xhr.send(form);
  });
}

export function reportTable(rows: ReportRow[]): HTMLElement {
  const counts = { added: 0, skipped: 0, duplicate: 0, renamed: 0 };
  rows.forEach((r) => counts[r.state]++);
  return h("div", { class: "upload-report", "data-report": "" },
    h("p", {}, `${counts.added} added · ${counts.duplicate} duplicate · ${counts.skipped} refused`),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Result"), h("th", {}, "Why"))),
      h("tbody", {}, ...rows.filter((r) => r.state !== "added").concat(rows.filter((r) => r.state === "added").slice(0, 50)).map((r) =>
        h("tr", { "data-file": r.name, "data-state": r.state }, h("td", {}, r.name), h("td", {}, h("span", { class: `badge ${r.state}` }, r.state)), h("td", { class: "reason" }, r.why)))),
    ),
  );
}
