// The results gallery: thumbnails with the consensus and each worker's answer drawn over them
// (toggle each), filters (confidence, verdict, worker, status) and sorting (confidence,
// disagreement), keyboard navigation, a detail view with the evidence and the review actions
// (accept, reject with a reason, bonus, grant or deny an appeal), and the downloads.

import { get, post } from "../core/api";
import { h, when } from "../core/dom";
import type { Router } from "../core/router";
import type { AnnotationSpec, Page } from "../core/types";
import { errorBox, modal, Notice } from "../core/ui";
import { svg } from "../charts/svg";
import { labeledBy, predictionText } from "./models";
import { answerShapes, answerText } from "./overlay";
import { sortItems, type SortKey } from "./stats";
import { gridHeight, gridLayout, tilePosition, visibleRange, type GridLayout } from "./virtual";
import type { AttachedModel, Batch, ProjectFull, ResultAnswer, ResultItem } from "./types";

// Names of the results formats; which ones a project offers is the server's (export_formats).
const FORMAT_NAMES: Record<string, string> = {
  coco: "COCO", yolo: "YOLO", voc: "Pascal VOC", csv: "CSV", masks: "Masks", folders: "Folders",
  cvat: "CVAT", datumaro: "Datumaro", labelstudio: "Label Studio",
};
const JSON_PAGE = 500; // the results endpoint's largest page

/** Download links: one JSON page (answers included), then every file format of the type. */
function downloadLinks(batch: Batch, formats: string[]): HTMLElement[] {
  const base = `/v1/batches/${encodeURIComponent(batch.id)}/results`;
  const json = batch.task_count > JSON_PAGE ? `JSON (first ${JSON_PAGE} tasks)` : "JSON results";
  return [
    h("a", { class: "button", href: `${base}?format=json&include=answers&limit=${JSON_PAGE}`, download: `${batch.id}.json`, "data-format": "json" }, json),
    // The server names each file (Content-Disposition): an empty download attribute keeps it.
    ...formats.map((f) => h("a", { class: "button", href: `${base}?format=${f}`, download: "", "data-format": f }, FORMAT_NAMES[f] ?? f)),
  ];
}

interface View {
  consensus: boolean;
  workers: boolean;
}

/** An image with answers drawn over it, in the image's coordinates. */
function figure(spec: AnnotationSpec, item: ResultItem, src: string, view: View, only?: Set<string>, large = false): HTMLElement {
  const w = item.width ?? 100, hgt = item.height ?? 100;
  const layer = svg("svg", { viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: "xMidYMid meet", class: "overlay-layer", "data-overlay": item.task_id });
  if (view.workers) {
    for (const a of item.answers ?? []) {
      if (only && !only.has(a.worker_id)) continue;
      const g = answerShapes(spec, a.answer, w, hgt, { who: a.worker_id, dashed: true, width: large ? 2.5 : 1.5 });
      if (g) layer.append(g);
    }
  }
  if (view.consensus) {
    const g = answerShapes(spec, item.answer, w, hgt, { who: "consensus", width: large ? 3 : 2 });
    if (g) layer.append(g);
  }
  // Classes have no geometry to draw: the consensus answer is written on the image instead.
  const classes = spec.type === "classification" || spec.type === "multilabel";
  const label = view.consensus && classes && item.answer ? answerText(spec, item.answer) : null;
  // Tiles are all 4:3 (the virtual grid needs one row height; the image is fitted inside, as
  // the overlay's viewBox is); the detail view keeps the image's own proportions.
  return h("div", { class: "figure", style: large ? `aspect-ratio: ${w} / ${hgt}` : undefined },
    h("img", { src, alt: item.image_name, loading: "lazy", decoding: "async" }),
    layer,
    label ? h("span", { class: "figure-label", "data-consensus-label": label, title: label }, label) : null,
  );
}

export async function galleryPage(root: HTMLElement, params: Record<string, string>, query: URLSearchParams, router: Router): Promise<() => void> {
  const id = params.batch;
  let batch: Batch, project: ProjectFull;
  try {
    batch = await get<Batch>(`/v1/batches/${encodeURIComponent(id)}`);
    project = await get<ProjectFull>(`/v1/projects/${encodeURIComponent(batch.project_id)}`);
  } catch (err) {
    root.replaceChildren(errorBox(err, "load"));
    return () => undefined;
  }
  const spec = project.annotation;
  // Names of the project's models, for "started from <model>'s suggestion" (a detached one is
  // no longer listed: its id is shown).
  const modelNames = new Map<string, string>();
  try {
    const models = await get<Page<AttachedModel>>(`/v1/projects/${encodeURIComponent(project.id)}/models?limit=100`);
    for (const m of models.items) modelNames.set(m.id, m.name);
  } catch {
    // The names are a nicety: the ids stand in for them.
  }
  // Who labelled each task matters once models are involved; "crowd" on every tile of a project
  // that never had one would be noise.
  const byModels = modelNames.size > 0 || project.auto_label;
  const notice = new Notice();
  const grid = h("div", { class: "gallery", "data-gallery": "", role: "list" });
  const status = h("p", { class: "muted", "data-count": "0" });
  const view: View = { consensus: true, workers: true };
  const filters = {
    max_confidence: h("input", { type: "number", step: "any", min: "0", max: "1", name: "max_confidence", placeholder: "any", value: query.get("max_confidence") ?? "" }),
    min_confidence: h("input", { type: "number", step: "any", min: "0", max: "1", name: "min_confidence", placeholder: "any", value: query.get("min_confidence") ?? "" }),
    verdict: h("select", { name: "verdict" }, ...["", "submitted", "accepted", "rejected", "appealed"].map((v) => h("option", { value: v }, v || "any verdict"))),
    status: h("select", { name: "status" }, ...["", "open", "completed"].map((v) => h("option", { value: v }, v || "any status"))),
    worker_id: h("input", { type: "text", name: "worker_id", placeholder: "worker id", value: query.get("worker_id") ?? "" }),
    labeled_by: h("select", { name: "labeled_by" }, ...[["", "anyone"], ["model", "the model (auto-labelled)"], ["audit", "an audit"], ["crowd", "the crowd"]].map(([v, t]) => h("option", { value: v }, t))),
    sort: h("select", { name: "sort" }, h("option", { value: "order" }, "upload order"), h("option", { value: "confidence" }, "lowest confidence first"), h("option", { value: "disagreement" }, "most disagreement first")),
  };
  filters.verdict.value = query.get("verdict") ?? "";
  filters.status.value = query.get("status") ?? "";
  filters.labeled_by.value = query.get("labeled_by") ?? "";
  const toggles = h("div", { class: "toggles" },
    h("label", { class: "check" }, h("input", { type: "checkbox", checked: true, name: "show-consensus", onchange: (e: Event) => ((view.consensus = (e.target as HTMLInputElement).checked), render()) }), "consensus"),
    h("label", { class: "check" }, h("input", { type: "checkbox", checked: true, name: "show-workers", onchange: (e: Event) => ((view.workers = (e.target as HTMLInputElement).checked), render()) }), "worker answers"),
  );
  const downloads = h("div", { class: "downloads" }, h("span", { class: "muted" }, "Download: "),
    ...downloadLinks(batch, project.export_formats));
  root.replaceChildren(h("section", { class: "results", "data-batch": id },
    h("div", { class: "page-head" }, h("h1", {}, `Results — ${project.name}`), h("a", { class: "button", href: `/batches/${encodeURIComponent(id)}`, "data-link": "" }, "Dashboard")),
    downloads,
    h("form", { class: "filters", "data-form": "filters", novalidate: true },
      h("label", { class: "field inline" }, h("span", {}, "Confidence at most"), filters.max_confidence),
      h("label", { class: "field inline" }, h("span", {}, "at least"), filters.min_confidence),
      h("label", { class: "field inline" }, h("span", {}, "Verdict"), filters.verdict),
      h("label", { class: "field inline" }, h("span", {}, "Status"), filters.status),
      h("label", { class: "field inline" }, h("span", {}, "Worker"), filters.worker_id),
      byModels ? h("label", { class: "field inline" }, h("span", {}, "Labelled by"), filters.labeled_by) : null,
      h("label", { class: "field inline" }, h("span", {}, "Sort"), filters.sort),
      h("button", { type: "submit", class: "primary" }, "Apply"),
    ),
    toggles, status, grid, notice.el,
  ));
  let items: ResultItem[] = [];
  let sorted: ResultItem[] = [];
  let cursor: string | null = null;
  let loading = false;
  let selected = 0;
  let generation = 0;
  const q = (first: boolean) => {
    // A small first page shows thumbnails fast; later pages are bigger (fewer round trips).
    const p = new URLSearchParams({ include: "answers", limit: first ? "60" : "240" });
    for (const k of ["max_confidence", "min_confidence", "verdict", "status", "worker_id", "labeled_by"] as const) if (filters[k].value.trim()) p.set(k, filters[k].value.trim());
    return p;
  };
  // The virtual grid: tiles are absolutely placed; only rows within MARGIN px of the viewport
  // are in the DOM, kept by index while they stay in range.
  const MIN_TILE = 220, GAP = 11, META = 36, MARGIN = 900;
  let layout: GridLayout = gridLayout(1000, MIN_TILE, GAP, (c) => c * 0.75 + META);
  const live = new Map<number, HTMLElement>();
  const tile = (item: ResultItem, i: number) => {
    const card = h("article", { class: `tile${i === selected ? " selected" : ""}`, role: "listitem", tabindex: "-1", "data-task": item.task_id, "data-index": i, "data-confidence": item.confidence ?? "", onclick: () => (select(i), open(sorted[i])) },
      figure(spec, item, item.thumbnail_url ?? item.image_url, view),
      h("div", { class: "tile-meta" },
        h("span", { class: "name" }, item.image_name),
        byBadge(item, byModels),
        h("span", { class: `badge ${item.confidence !== null && item.confidence < 0.6 ? "rejected" : "accepted"}` }, item.confidence === null ? "—" : `${Math.round(item.confidence * 100)}%`),
        h("span", { class: "muted" }, `${item.answer_count} ans.`),
      ),
    );
    const { x, y } = tilePosition(i, layout);
    card.style.width = `${layout.colWidth}px`;
    card.style.height = `${layout.rowHeight - layout.gap}px`;
    card.style.transform = `translate(${x}px, ${y}px)`;
    return card;
  };
  const measure = () => {
    layout = gridLayout(grid.clientWidth || 1000, MIN_TILE, GAP, (c) => c * 0.75 + META);
    grid.style.height = `${gridHeight(sorted.length, layout)}px`;
  };
  const paint = () => {
    const [start, end] = visibleRange(grid.getBoundingClientRect().top, window.innerHeight, layout, sorted.length, MARGIN);
    for (const [i, el] of live) if (i < start || i >= end) (el.remove(), live.delete(i));
    const fresh: HTMLElement[] = [];
    for (let i = start; i < end; i++) if (!live.has(i)) {
      const el = tile(sorted[i], i);
      live.set(i, el);
      fresh.push(el);
    }
    if (fresh.length) grid.append(...fresh);
    grid.dataset.rendered = String(live.size);
    if (end >= sorted.length - layout.cols * 4 && cursor && !loading) void load(false);
  };
  /** Everything again: new items, another sort, toggled overlays, a resize. */
  const render = () => {
    sorted = sortItems(items, filters.sort.value as SortKey);
    for (const el of live.values()) el.remove();
    live.clear();
    measure();
    paint();
    status.dataset.count = String(items.length);
    status.textContent = `${items.length} task${items.length === 1 ? "" : "s"} loaded${cursor ? " (scroll for more)" : ""} · arrows move, Enter opens`;
  };
  const select = (i: number) => {
    live.get(selected)?.classList.remove("selected");
    selected = i;
    live.get(selected)?.classList.add("selected");
  };
  let frame = 0;
  const onScroll = () => {
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), paint()));
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  const resized = new ResizeObserver(() => {
    const before = layout.cols * 1e6 + layout.colWidth;
    measure();
    if (layout.cols * 1e6 + layout.colWidth !== before) render();
  });
  resized.observe(grid);
  const load = async (reset: boolean) => {
    if (loading && !reset) return;
    const gen = reset ? ++generation : generation;
    if (reset) {
      items = [];
      cursor = null;
      selected = 0;
    }
    loading = true;
    try {
      const p = q(reset);
      if (cursor) p.set("cursor", cursor);
      const page = await get<Page<ResultItem>>(`/v1/batches/${encodeURIComponent(id)}/results?${p}`);
      if (gen !== generation) return;
      items = items.concat(page.items);
      cursor = page.next_cursor;
      loading = false;
      if (reset || filters.sort.value !== "order") render();
      else {
        // Appended in upload order: the tiles already shown stay where they are.
        sorted = items;
        measure();
        paint();
        status.textContent = `${items.length} tasks loaded${cursor ? " (scroll for more)" : ""} · arrows move, Enter opens`;
        status.dataset.count = String(items.length);
      }
    } catch (err) {
      status.replaceChildren(errorBox(err, "load"));
    } finally {
      if (gen === generation) loading = false;
    }
  };
  root.querySelector("form[data-form=filters]")!.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = q(true);
    p.delete("include");
    p.delete("limit");
    history.replaceState(null, "", `${location.pathname}?${p}`);
    void load(true);
  });
  filters.sort.addEventListener("change", () => render());

  let closeDetail: (() => void) | null = null;
  const open = (item: ResultItem | undefined) => {
    if (!item) return;
    closeDetail?.();
    // After a review action the gallery reloads, so it shows the new verdicts.
    closeDetail = detail(spec, item, modelNames, byModels, () => load(true), notice, () => (closeDetail = null));
  };
  const onKey = (e: KeyboardEvent) => {
    if (document.querySelector(".modal-backdrop") || (e.target as HTMLElement)?.closest?.("input, select, textarea")) return;
    const cols = layout.cols;
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, j: 1, k: -1 };
    if (e.key in moves) {
      e.preventDefault();
      select(Math.min(Math.max(selected + moves[e.key], 0), sorted.length - 1));
      // Keep the selected tile in view (it may not be rendered yet: scroll to its row).
      const top = grid.getBoundingClientRect().top + tilePosition(selected, layout).y;
      if (top < 0) window.scrollBy(0, top - GAP);
      else if (top + layout.rowHeight > window.innerHeight) window.scrollBy(0, top + layout.rowHeight - window.innerHeight);
      paint();
      live.get(selected)?.classList.add("selected");
    } else if (e.key === "Enter") {
      e.preventDefault();
      open(sorted[selected]);
    }
  };
  window.addEventListener("keydown", onKey);
  (window as unknown as { __gallery?: unknown }).__gallery = { items: () => items, loading: () => loading, rendered: () => live.size };
  await load(true);
  void router;
  return () => {
    window.removeEventListener("keydown", onKey);
    window.removeEventListener("scroll", onScroll);
    cancelAnimationFrame(frame);
    resized.disconnect();
    closeDetail?.();
    delete (window as unknown as { __gallery?: unknown }).__gallery;
  };
}

/** Who labelled the task, as a badge (nothing while an ordinary task is open). */
function byBadge(item: ResultItem, crowdToo: boolean): HTMLElement | null {
  const by = labeledBy(item);
  if (by?.key === "crowd" && !crowdToo) return null;
  return by ? h("span", { class: `badge by-${by.key}`, "data-labeled-by": by.key, title: by.title }, by.text) : null;
}

function detail(spec: AnnotationSpec, item: ResultItem, modelNames: Map<string, string>, byModels: boolean, changed: () => Promise<void>, notice: Notice, closed: () => void): () => void {
  const shown = new Set((item.answers ?? []).map((a) => a.worker_id));
  const by = byModels || item.labeled_by === "model" || item.audited ? labeledBy(item) : null;
  const view: View = { consensus: true, workers: true };
  const holder = h("div", { class: `detail-figure${spec.type === "classification" || spec.type === "multilabel" ? " compact" : ""}` });
  const draw = () => holder.replaceChildren(figure(spec, item, item.image_url, view, shown, true));
  // The "Started from" column once models are involved (or an answer did start from one).
  const starts = byModels || (item.answers ?? []).some((a) => a.prediction);
  const rows = (item.answers ?? []).map((a) => answerRow(spec, a, starts ? modelNames : null, async () => {
    await changed();
    close();
  }, notice, (on) => (on ? shown.add(a.worker_id) : shown.delete(a.worker_id), draw())));
  const body = h("div", { class: "detail", "data-detail": item.task_id },
    h("p", {}, `${item.image_name} · ${item.status} · confidence ${item.confidence === null ? "—" : item.confidence.toFixed(3)} · consensus: ${answerText(spec, item.answer)}`),
    by ? h("p", { class: "labeled-by", "data-labeled-by": by.key }, byBadge(item, true), " ", by.title) : null,
    !(item.answers ?? []).length && item.labeled_by === "model" ? h("p", { class: "muted" }, "No person answered this task: the answer above is the models' consensus, and nothing was paid for it.") : null,
    h("label", { class: "check" }, h("input", { type: "checkbox", checked: true, name: "detail-consensus", onchange: (e: Event) => ((view.consensus = (e.target as HTMLInputElement).checked), draw()) }), "consensus (solid)"),
    holder,
    h("table", { class: "answers" },
      h("thead", {}, h("tr", {}, h("th", {}, "Show"), h("th", {}, "Worker"), h("th", {}, "Answer"), starts ? h("th", {}, "Started from") : null, h("th", {}, "Verdict and evidence"), h("th", {}, "Review"))),
      h("tbody", {}, ...rows)),
  );
  draw();
  const close = modal(`Task ${item.task_id}`, body, closed);
  return close;
}

function answerRow(spec: AnnotationSpec, a: ResultAnswer, modelNames: Map<string, string> | null, changed: () => Promise<void>, notice: Notice, toggle: (on: boolean) => void): HTMLElement {
  const start = modelNames ? predictionText(a.prediction, a.prediction ? modelNames.get(a.prediction.model_id) : undefined) : null;
  const message = h("div");
  const act = async (path: string, body?: unknown, done = "Done.") => {
    message.replaceChildren();
    try {
      await post(`/v1/assignments/${encodeURIComponent(a.assignment_id)}/${path}`, body);
      notice.show(done);
      await changed();
    } catch (err) {
      message.replaceChildren(errorBox(err, "action"));
    }
  };
  const reason = h("input", { type: "text", name: "reason", placeholder: "reason (the worker reads it)", maxlength: "2000" });
  const bonus = h("input", { type: "text", name: "bonus", placeholder: "0.10", size: 6 });
  const actions: (HTMLElement | null)[] = [];
  if (a.status === "submitted") {
    actions.push(
      h("button", { type: "button", "data-action": "accept", onclick: () => void act("accept", undefined, "Accepted.") }, "Accept"),
      h("button", { type: "button", "data-action": "reject", onclick: () => reason.value.trim() ? void act("reject", { reason: reason.value.trim() }, "Rejected.") : message.replaceChildren(errorBox({ title: "A reason is needed", message: "Say why, so the worker can learn or appeal.", next: "Write the reason, then reject." })) }, "Reject"),
    );
  }
  const appealOpen = !!a.appealed_at && !a.appeal_outcome;
  if (appealOpen) {
    actions.push(
      h("button", { type: "button", class: "primary", "data-action": "grant", onclick: () => void act("appeal/grant", { reason: reason.value.trim() || "appeal granted" }, "Appeal granted.") }, "Grant appeal"),
      h("button", { type: "button", "data-action": "deny", onclick: () => void act("appeal/deny", { reason: reason.value.trim() || "appeal denied" }, "Appeal denied.") }, "Deny appeal"),
    );
  }
  return h("tr", { "data-assignment": a.assignment_id, "data-worker": a.worker_id, "data-status": a.status },
    h("td", {}, h("input", { type: "checkbox", checked: true, "aria-label": `show ${a.worker_id}`, onchange: (e: Event) => toggle((e.target as HTMLInputElement).checked) })),
    h("td", {}, a.worker_id),
    h("td", {}, answerText(spec, a.answer)),
    start ? h("td", { class: `start start-${start.key}`, "data-start": start.key }, start.text) : null,
    h("td", { class: "reason" },
      h("span", { class: `badge ${a.status}` }, a.status), a.proposed_verdict && a.status === "submitted" ? ` proposed: ${a.proposed_verdict}` : "",
      a.reason ? h("div", {}, a.reason) : null,
      typeof a.agreement === "number" ? h("div", { class: "muted" }, `agreement ${a.agreement.toFixed(2)}`) : null,
      a.appealed_at ? h("div", { class: "appeal-note" }, `Appeal ${when(a.appealed_at)}: “${a.appeal_message ?? ""}” ${a.appeal_outcome ?? "(open)"}`) : null,
    ),
    h("td", { class: "review" },
      (a.status === "submitted" || appealOpen) ? reason : null,
      ...actions,
      h("span", { class: "bonus" }, bonus, h("button", { type: "button", "data-action": "bonus", onclick: () => void act("bonus", { amount: bonus.value.trim(), reason: reason.value.trim() || "thank you" }, "Bonus sent.") }, "Bonus")),
      message,
    ),
  );
}
