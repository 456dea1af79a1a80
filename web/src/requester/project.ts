// A project: its terms, gold drawn with the workers' tool, batch upload (drag and drop of
// files, folders or zips, progress per file, the per-file report), and its batches with the
// cost of launching each draft, the balance, and a deposit form when it falls short.

import { ApiError, csrf, get, post } from "../core/api";
import { h, money, when } from "../core/dom";
import type { Router } from "../core/router";
import type { Page } from "../core/types";
import { errorBox, Notice } from "../core/ui";
import { TOOLS } from "../tools";
import { ToolEditor } from "./editor";
import { modelsPanel } from "./modelpanel";
import type { Batch, ProjectFull } from "./types";
import { droppedFiles, newUploadState, parseUrlList, pickedFiles, reportRows, reportTable, uploadChunked, urlReportRows, type Picked } from "./upload";

interface Me {
  balance: { available: string; escrowed: string };
}

export async function projectPage(root: HTMLElement, params: Record<string, string>, _q: URLSearchParams, router: Router): Promise<() => void> {
  const id = params.project;
  let project: ProjectFull;
  try {
    project = await get<ProjectFull>(`/v1/projects/${encodeURIComponent(id)}`);
  } catch (err) {
    root.replaceChildren(errorBox(err, "load"));
    return () => undefined;
  }
  const notice = new Notice();
  const batches = h("div", { class: "batches", "data-batches": "" });
  const gold = goldSection(project, notice);
  const models = modelsPanel(project, notice);
  const upload = uploadSection(project, async (batch) => {
    await renderBatches();
    notice.show(`Batch uploaded: ${batch.task_count} task${batch.task_count === 1 ? "" : "s"}.`);
  });
  const renderBatches = async () => {
    try {
      const [page, me] = await Promise.all([get<Page<Batch>>(`/v1/projects/${encodeURIComponent(id)}/batches?limit=100`), get<Me>("/v1/me")]);
      batches.replaceChildren(...(page.items.length ? page.items.map((b) => batchRow(b, me, renderBatches, router)) : [h("p", { class: "muted" }, "No batch yet: upload images above.")]));
    } catch (err) {
      batches.replaceChildren(errorBox(err, "load"));
    }
  };
  root.replaceChildren(h("section", { class: "project-page", "data-project": project.id },
    h("div", { class: "page-head" },
      h("h1", {}, project.name),
      h("a", { class: "button", href: `/projects/${encodeURIComponent(id)}/edit`, "data-link": "" }, "Edit project"),
    ),
    h("p", { class: "muted" }, `${TOOLS[project.annotation.type]?.title ?? project.annotation.type} · ${money(project.reward)} per accepted answer · ${project.overlap.min}–${project.overlap.max} answers per task · confidence ${project.confidence}`),
    h("h2", {}, "Upload a batch"), upload.el,
    h("h2", {}, "Batches"), batches,
    h("h2", {}, "Gold tasks"), gold.el,
    h("h2", { id: "models" }, "Models and auto-labelling"), models.el,
    notice.el,
  ));
  await Promise.all([renderBatches(), models.load()]);
  return () => gold.destroy();
}

function batchRow(b: Batch, me: Me, refresh: () => Promise<void>, router: Router): HTMLElement {
  const row = h("article", { class: "card batch", "data-batch": b.id, "data-status": b.status },
    h("header", {}, h("h3", {}, `Batch of ${b.task_count} images`), h("span", { class: `badge ${b.status}` }, b.status)),
    h("p", { class: "muted" }, `Uploaded ${when(b.created_at)}${b.launched_at ? ` · launched ${when(b.launched_at)}` : ""}`),
  );
  if (b.status === "draft" && b.launch_quote) {
    const q = b.launch_quote;
    const short = Number(q.total) - Number(me.balance.available);
    const message = h("div");
    const launch = h("button", { type: "button", class: "primary", "data-action": "launch" }, "Launch");
    launch.addEventListener("click", async () => {
      launch.disabled = true;
      message.replaceChildren();
      try {
        await post(`/v1/batches/${encodeURIComponent(b.id)}/launch`);
        await refresh();
      } catch (err) {
        message.replaceChildren(errorBox(err, "action"));
        if (err instanceof ApiError && err.status === 402) message.append(depositForm(Math.max(short, 0.01), refresh));
        launch.disabled = false;
      }
    });
    row.append(
      h("dl", { class: "facts cost", "data-cost": q.total },
        h("div", {}, h("dt", {}, "Most it can cost"), h("dd", {}, money(q.total))),
        h("div", {}, h("dt", {}, "Answers (max)"), h("dd", {}, String(q.answers))),
        h("div", {}, h("dt", {}, "Per answer"), h("dd", {}, `${money(q.reward)} + ${money(q.fee)} fee`)),
        h("div", {}, h("dt", {}, "Your balance"), h("dd", { "data-balance": me.balance.available }, money(me.balance.available))),
      ),
      h("p", { class: "hint" }, "The most is escrowed at launch; dynamic overlap usually needs fewer answers and the rest comes back when the batch completes."),
      short > 0 ? h("div", { class: "short", "data-short": "" }, h("p", {}, `Your balance is ${money(String(short.toFixed(6)))} short of this batch's maximum cost.`), depositForm(short, refresh)) : "",
      h("div", { class: "actions" }, launch),
      message,
    );
  } else if (b.status !== "draft") {
    const c = b.counts;
    row.append(
      h("p", {}, `${c.completed_tasks ?? 0} of ${c.tasks ?? b.task_count} tasks done · ${c.answers ?? 0} answers · spent ${money(b.money.spent)} of ${money(b.money.escrowed)}`),
      h("div", { class: "actions" },
        h("a", { class: "button primary", href: `/batches/${encodeURIComponent(b.id)}`, "data-link": "" }, "Dashboard"),
        h("a", { class: "button", href: `/batches/${encodeURIComponent(b.id)}/results`, "data-link": "" }, "Review results"),
      ),
    );
  }
  const report = b.upload_report;
  if ((report.skipped?.length ?? 0) + (report.duplicates?.length ?? 0) > 0) {
    row.append(h("details", {}, h("summary", {}, `${report.skipped?.length ?? 0} refused, ${report.duplicates?.length ?? 0} duplicate at upload`), reportTable(reportRows([], report))));
  }
  void router;
  return row;
}

export function depositForm(suggested: number, done: () => Promise<void>): HTMLElement {
  const amount = h("input", { type: "text", name: "amount", value: Math.ceil(suggested * 100) / 100 > 0 ? (Math.ceil(suggested * 100) / 100).toFixed(2) : "10.00", "aria-label": "Amount in dollars" });
  const message = h("div");
  const form = h("form", { class: "inline-form deposit", "data-form": "deposit" }, h("span", {}, "$"), amount, h("button", { type: "submit", class: "primary" }, "Deposit"), message);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.replaceChildren();
    try {
      await post("/v1/deposits", { amount: amount.value.trim() });
      await done();
    } catch (err) {
      message.replaceChildren(errorBox(err, "action"));
    }
  });
  return form;
}

function uploadSection(project: ProjectFull, uploaded: (b: Batch) => Promise<void>): { el: HTMLElement } {
  const input = h("input", { type: "file", multiple: true, accept: "image/jpeg,image/png,image/webp,.zip", name: "files", "data-input": "files" });
  const folder = h("input", { type: "file", multiple: true, name: "folder", "data-input": "folder" });
  folder.setAttribute("webkitdirectory", "");
  const overall = h("progress", { max: 1, value: 0, class: "overall" });
  const progress = h("div", { class: "progress-line", hidden: true }, h("span", {}, "Overall"), overall); // from the first upload on
  const list = h("ul", { class: "upload-files" });
  const result = h("div", { "data-upload-result": "" });
  const zone = h("div", { class: "dropzone", "data-dropzone": "", tabindex: "0" },
    h("strong", {}, "Drop images, folders or a .zip here"),
    h("p", { class: "muted" }, "JPEG, PNG or WebP. Corrupt files and duplicates are reported, never stored twice."),
    h("div", { class: "actions" }, h("label", { class: "button" }, "Choose files", input), h("label", { class: "button" }, "Choose a folder", folder)),
  );
  let state = newUploadState();
  let current: Picked[] = [];
  const run = async () => {
    const bars = current.map(() => h("progress", { max: 1, value: 0 }));
    list.replaceChildren(...current.slice(0, 200).map((p, i) => h("li", {}, h("span", {}, p.name), bars[i])));
    const sizes = current.map((p) => p.file.size);
    const total = sizes.reduce((a, b) => a + b, 0) || 1;
    zone.classList.add("busy");
    result.replaceChildren();
    try {
      const { batch, report } = await uploadChunked(project.id, current, csrf(), state, (fractions) => {
        fractions.forEach((f, i) => bars[i] && (bars[i].value = f));
        overall.value = fractions.reduce((a, f, i) => a + f * sizes[i], 0) / total;
      });
      overall.value = 1;
      result.replaceChildren(reportTable(reportRows(current.map((p) => p.name), report)));
      state = newUploadState();
      await uploaded(batch);
    } catch (err) {
      const rows = err instanceof ApiError && (err.problem as { skipped?: { name: string; reason: string }[] }).skipped;
      const resume = state.batch
        ? h("button", { type: "button", class: "primary", "data-action": "resume", onclick: () => void run() }, `Resume the upload (${state.batch.task_count} images are in)`)
        : null;
      result.replaceChildren(errorBox(err, "action"), ...(resume ? [resume] : []), ...(rows ? [reportTable(reportRows(current.map((p) => p.name), { skipped: rows }))] : []));
      if (!state.batch) state = newUploadState();
    } finally {
      zone.classList.remove("busy");
      input.value = "";
      folder.value = "";
    }
  };
  const start = async (picked: Picked[]) => {
    if (!picked.length) return;
    current = picked;
    state = newUploadState();
    overall.value = 0;
    progress.hidden = false;
    await run();
  };
  input.addEventListener("change", () => void start(pickedFiles(input.files ?? [])));
  folder.addEventListener("change", () => void start(pickedFiles(folder.files ?? [])));
  zone.addEventListener("dragover", (e) => (e.preventDefault(), zone.classList.add("over")));
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const items = e.dataTransfer?.items;
    void start(items && items.length && typeof items[0].webkitGetAsEntry === "function" ? await droppedFiles(items) : pickedFiles(e.dataTransfer?.files ?? []));
  });
  return { el: h("div", { class: "upload" }, zone, progress, list, result, urlSection(project, uploaded)) };
}

/** A batch from a pasted list of image URLs: the server checks each URL at once (an unsafe one
 * refuses the list) and downloads them in the background; the report follows the downloads. */
function urlSection(project: ProjectFull, uploaded: (b: Batch) => Promise<void>): HTMLElement {
  const text = h("textarea", { name: "urls", rows: 5, placeholder: "https://example.com/images/0001.jpg\nhttps://example.com/images/0002.jpg", spellcheck: "false" });
  const button = h("button", { type: "submit", class: "primary", "data-action": "upload-urls" }, "Make a batch from these URLs");
  const result = h("div", { "data-url-result": "" });
  const form = h("form", { class: "url-list", "data-form": "urls" },
    h("label", { class: "field" }, h("span", {}, "Or paste image URLs, one a line"), text,
      h("small", { class: "hint" }, "http or https. The server downloads each image (JPEG, PNG or WebP) and reports the ones it cannot use; the batch can launch once every download is done.")),
    h("div", { class: "actions" }, button), result);
  let timer = 0;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearTimeout(timer);
    const { urls, rows: early } = parseUrlList(text.value);
    if (!urls.length) {
      result.replaceChildren(errorBox({ title: "No URL to send", message: early.length ? "None of the lines is an http or https URL." : "The list is empty.", next: "Paste one image URL a line." }), ...(early.length ? [reportTable(early)] : []));
      return;
    }
    button.disabled = true;
    result.replaceChildren(h("p", { class: "muted" }, `Sending ${urls.length} URL${urls.length === 1 ? "" : "s"}…`));
    let batch: Batch;
    try {
      batch = await post<Batch>(`/v1/projects/${encodeURIComponent(project.id)}/batches?skip_invalid=true`, { images: urls.map((url) => ({ url })) });
    } catch (err) {
      result.replaceChildren(errorBox(err, "action"), ...(early.length ? [reportTable(early)] : []));
      button.disabled = false;
      return;
    }
    text.value = "";
    button.disabled = false;
    const show = (b: Batch) => {
      const fetching = b.counts.fetching ?? 0;
      const table = reportTable([...urlReportRows(urls, b.upload_report, fetching), ...early]);
      table.dataset.fetching = String(fetching);
      result.replaceChildren(table);
    };
    show(batch);
    await uploaded(batch);
    const poll = async () => {
      try {
        const b = await get<Batch>(`/v1/batches/${encodeURIComponent(batch.id)}`);
        show(b);
        if ((b.counts.fetching ?? 0) === 0) return void (await uploaded(b));
      } catch (err) {
        result.append(errorBox(err, "load"));
      }
      if (form.isConnected) timer = window.setTimeout(() => void poll(), 1000);
    };
    if ((batch.counts.fetching ?? 0) > 0) timer = window.setTimeout(() => void poll(), 1000);
  });
  return form;
}

function goldSection(project: ProjectFull, notice: Notice): { el: HTMLElement; destroy: () => void } {
  const editor = new ToolEditor();
  const file = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", name: "gold-image", "data-input": "gold" });
  const message = h("div");
  const save = h("button", { type: "button", class: "primary", "data-action": "save-gold", disabled: true }, "Save gold task");
  const actions = h("div", { class: "actions" }, save);
  // The editor and Save appear with a chosen image: an empty stage read as a broken page.
  const drawing = (on: boolean) => ((editor.el.hidden = !on), (actions.hidden = !on));
  drawing(false);
  let chosen: File | null = null;
  let count = 0;
  const counter = h("p", { class: "muted", "data-gold-count": "0" }, "Gold tasks are mixed in with real ones; workers cannot tell them apart, and their answers measure each worker's accuracy.");
  file.addEventListener("change", async () => {
    chosen = file.files?.[0] ?? null;
    if (!chosen) return;
    const url = URL.createObjectURL(chosen);
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
    } catch {
      message.replaceChildren(errorBox({ title: "Not an image", message: "This file cannot be shown as an image.", next: "Choose a JPEG, PNG or WebP file." }));
      return;
    }
    message.replaceChildren();
    drawing(true);
    editor.show(project.annotation, img, img.naturalWidth, img.naturalHeight);
    (window as unknown as { __gold?: unknown }).__gold = { viewer: () => editor.viewer, answer: () => editor.answer(), tool: () => editor.tool };
    save.disabled = false;
  });
  save.addEventListener("click", async () => {
    if (!chosen) return;
    const problem = editor.check();
    if (problem) return void message.replaceChildren(errorBox({ title: "Not ready", message: problem, next: "Finish the answer, then save." }));
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    form.append("answer", JSON.stringify(editor.answer()));
    save.disabled = true;
    try {
      const r = await fetch(`/v1/projects/${encodeURIComponent(project.id)}/gold`, { method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json", ...(csrf() ? { "X-CSRF-Token": csrf()! } : {}) } });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        throw new ApiError(r.status, { ...body, status: r.status });
      }
      count++;
      counter.dataset.goldCount = String(count);
      counter.textContent = `${count} gold task${count === 1 ? "" : "s"} added on this page.`;
      notice.show("Gold task saved.");
      editor.clear();
      drawing(false);
      file.value = "";
      chosen = null;
    } catch (err) {
      message.replaceChildren(errorBox(err, "action"));
      save.disabled = false;
    }
  });
  return {
    el: h("div", { class: "gold" }, counter, h("label", { class: "button" }, "Choose an image for a gold task", file), editor.el, actions, message),
    destroy: () => {
      editor.destroy();
      delete (window as unknown as { __gold?: unknown }).__gold;
    },
  };
}
