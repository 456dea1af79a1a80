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
  state: "added" | "skipped" | "duplicate" | "renamed" | "fetching";
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

/** Split files into request-sized chunks (at most `maxFiles` files and about `maxBytes`). */
export function chunkIndices(sizes: number[], maxFiles: number, maxBytes: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [], bytes = 0;
  sizes.forEach((size, i) => {
    if (cur.length && (cur.length >= maxFiles || bytes + size > maxBytes)) (out.push(cur), (cur = []), (bytes = 0));
    cur.push(i);
    bytes += size;
  });
  if (cur.length) out.push(cur);
  return out;
}

/** One multipart POST of some files; `onProgress` gets the bytes sent. */
function send<T>(url: string, picked: Picked[], csrf: string | null, onProgress: (loaded: number) => void): Promise<T> {
  const form = new FormData();
  for (const p of picked) form.append("files", p.file, p.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = xhr.onabort = () => reject(new ApiError(0, { status: 0, title: "Network error" }));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
      else reject(new ApiError(xhr.status, { ...((data as Problem) ?? {}), status: xhr.status }));
    };
    xhr.send(form);
  });
}

/** @schema AddedImage */
interface AddedImage {
  name: string;
  sha256: string;
}

/** @schema BatchImagesOut */
interface ImagesOut {
  batch: Batch;
  added: AddedImage[];
  present: AddedImage[];
  duplicates: { name: string; same_as: string }[];
  skipped: { name: string; reason: string }[];
}

/** Where a chunked upload is: kept by the page so "Resume" continues where it stopped. */
export interface UploadState {
  batch: Batch | null;
  done: Set<number>; // chunks the server confirmed (a resume sends only the others)
  report: Required<Pick<UploadReport, "skipped" | "duplicates">>;
  names: Map<string, string>; // sha256 → the name it was added under
}

export const newUploadState = (): UploadState => ({ batch: null, done: new Set(), report: { skipped: [], duplicates: [] }, names: new Map() });

const retryable = (err: unknown) => err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 429);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Upload in chunks: the first makes the draft batch, the others are added to it, `parallel`
 * at a time (the server takes parallel chunks into one draft). A chunk that fails on the
 * network (or a 5xx) is sent again; the server knows images by their bytes, so an image of a
 * chunk whose response was lost is "present", never a second task. Throws after `retries`
 * attempts with `state` saved: calling again with it resumes with the chunks not confirmed. */
export async function uploadChunked(
  projectId: string, picked: Picked[], csrf: string | null, state: UploadState,
  onProgress: (fileFractions: number[]) => void,
  opts: { maxFiles?: number; maxBytes?: number; retries?: number; backoffMs?: number; parallel?: number } = {},
): Promise<{ batch: Batch; report: UploadReport }> {
  const sizes = picked.map((p) => p.file.size);
  const groups = chunkIndices(sizes, opts.maxFiles ?? 12, opts.maxBytes ?? 16 << 20);
  const done: number[] = sizes.map(() => 0);
  groups.forEach((g, k) => state.done.has(k) && g.forEach((i) => (done[i] = 1)));
  onProgress(done);
  const sendChunk = async (k: number) => {
    const group = groups[k];
    const files = group.map((i) => picked[i]);
    const progress = (loaded: number) => {
      fileProgress(group.map((i) => sizes[i]), loaded).forEach((f, j) => (done[group[j]] = f));
      onProgress(done);
    };
    for (let attempt = 0; ; attempt++) {
      try {
        if (!state.batch) {
          const batch = await send<Batch>(`/v1/projects/${encodeURIComponent(projectId)}/batches?skip_invalid=true`, files, csrf, progress);
          state.batch = batch;
          state.report.skipped.push(...(batch.upload_report.skipped ?? []));
          state.report.duplicates.push(...(batch.upload_report.duplicates ?? []));
        } else {
          const out = await send<ImagesOut>(`/v1/batches/${encodeURIComponent(state.batch.id)}/images?skip_invalid=true`, files, csrf, progress);
          if (out.batch.task_count >= (state.batch?.task_count ?? 0)) state.batch = out.batch;
          out.added.forEach((a) => state.names.set(a.sha256, a.name));
          state.report.skipped.push(...out.skipped);
          state.report.duplicates.push(...out.duplicates);
          // Present on a first attempt: the same bytes as a file of another chunk. Present on a
          // resend: this chunk's own image added by the lost attempt — unless another chunk
          // (sent meanwhile) is known to have added those bytes under another name.
          const mine = new Set(files.map((f) => f.name));
          for (const p of out.present) {
            const first = state.names.get(p.sha256);
            if (attempt === 0 || (first !== undefined && !mine.has(first))) state.report.duplicates.push({ name: p.name, same_as: first ?? "an image uploaded before" });
          }
        }
        state.done.add(k);
        group.forEach((i) => (done[i] = 1));
        onProgress(done);
        return;
      } catch (err) {
        const skipped = err instanceof ApiError && err.status === 422 ? (err.problem as { skipped?: { name: string; reason: string }[] }).skipped : undefined;
        if (skipped && state.batch) {
          // Every file of this chunk was refused: report them and go on with the others.
          state.report.skipped.push(...skipped);
          state.done.add(k);
          return;
        }
        if (!retryable(err) || attempt >= (opts.retries ?? 4)) throw err;
        await sleep((opts.backoffMs ?? 400) * 2 ** attempt);
      }
    }
  };
  const todo = groups.map((_, k) => k).filter((k) => !state.done.has(k));
  if (!state.batch && todo.length) await sendChunk(todo.shift()!); // the first makes the batch
  let failure: unknown = null;
  const lane = async () => {
    while (todo.length && failure === null) {
      try {
        await sendChunk(todo.shift()!);
      } catch (err) {
        failure = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 3) }, lane));
  if (failure !== null) throw failure;
  return { batch: state.batch!, report: state.report };
}

export function reportTable(rows: ReportRow[]): HTMLElement {
  const counts = { added: 0, skipped: 0, duplicate: 0, renamed: 0, fetching: 0 };
  rows.forEach((r) => counts[r.state]++);
  return h("div", { class: "upload-report", "data-report": "" },
    h("p", {}, `${counts.added} added · ${counts.duplicate} duplicate · ${counts.skipped} refused${counts.fetching ? ` · ${counts.fetching} downloading` : ""}`),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Result"), h("th", {}, "Why"))),
      h("tbody", {}, ...rows.filter((r) => r.state !== "added").concat(rows.filter((r) => r.state === "added").slice(0, 50)).map((r) =>
        h("tr", { "data-file": r.name, "data-state": r.state }, h("td", {}, r.name), h("td", {}, h("span", { class: `badge ${r.state}` }, r.state)), h("td", { class: "reason" }, r.why)))),
    ),
  );
}

/** A pasted list of image URLs, one a line (blank lines and `#` comments ignored): the URLs to
 * send, and the lines refused before sending (not http(s), or the same URL twice). */
export function parseUrlList(text: string): { urls: string[]; rows: ReportRow[] } {
  const urls: string[] = [];
  const rows: ReportRow[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    let url: URL | null = null;
    try {
      url = new URL(line);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) rows.push({ name: line, state: "skipped", why: "not an http or https URL" });
    else if (seen.has(url.href)) rows.push({ name: line, state: "duplicate", why: "the same URL is listed twice" });
    else (seen.add(url.href), urls.push(line));
  }
  return { urls, rows };
}

/** One row per URL sent once the server has tried them: refused with the server's reason
 * (`skipped` names the URL), a duplicate of an image already in the batch, downloading while
 * the batch still has fetches pending, else added. */
export function urlReportRows(urls: string[], report: UploadReport, fetching: number): ReportRow[] {
  const skipped = new Map((report.skipped ?? []).map((s) => [s.name, s.reason]));
  const dupes = new Map((report.duplicates ?? []).map((d) => [d.name, d.same_as]));
  return urls.map((url) => {
    const reason = skipped.get(url);
    if (reason !== undefined) return { name: url, state: "skipped", why: reason };
    const name = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
    if (name && dupes.has(name) && !fetching) return { name: url, state: "duplicate", why: `same image as ${dupes.get(name)}` };
    return fetching ? { name: url, state: "fetching", why: "downloading…" } : { name: url, state: "added", why: "" };
  });
}
