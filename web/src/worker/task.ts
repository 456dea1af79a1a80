// The task page: one task at a time with the tool of the project's type, the lease countdown,
// Submit → the next task at once (its lease and image fetched while this one is worked on),
// Skip, "report a broken image", a draft per assignment, every error in plain words.

import { Viewer } from "../canvas/viewer";
import { ApiError, post } from "../core/api";
import { h } from "../core/dom";
import { dropDraft, loadDraft, saveDraft } from "../core/drafts";
import { comboOf, Shortcuts } from "../core/keys";
import { firstLine, renderMarkdown } from "../core/markdown";
import type { Router } from "../core/router";
import type { Lease } from "../core/types";
import { confirmDialog, errorBox, modal, Notice } from "../core/ui";
import { TOOLS, type Tool } from "../tools";
import { editBar } from "../tools/editbar";
import { leaseNext, preloadImage, release, storedLease, storeLease } from "./leases";

const WARN_SECONDS = 60;

interface Loaded {
  lease: Lease;
  image: HTMLImageElement | null;
}

export class TaskPage {
  private current: Loaded | null = null;
  private next: Promise<Loaded | null> | null = null;
  private tool: Tool | null = null;
  private viewer: Viewer | null = null;
  private timer = 0;
  private draftTimer = 0;
  private busy = false;
  private closed = false;
  private submittedAt = 0;
  private pending = 0; // answers sent and not yet confirmed
  private nextReady = false; // the prefetched lease and its image are in memory
  private readonly timings: number[] = []; // submit → next task drawn, ms (benchmarks read it)
  private readyAt = 0;
  private sending: Promise<unknown> | null = null;
  private readonly shortcuts = new Shortcuts();
  private readonly notice = new Notice();
  private readonly prompt = h("div", { class: "prompt" });
  private readonly countdown = h("div", { class: "countdown", "aria-live": "off" });
  private readonly reward = h("div", { class: "reward" });
  private readonly stage = h("div", { class: "stage", tabindex: "-1" });
  private readonly panel = h("aside", { class: "tool-panel" });
  private readonly message = h("div", { class: "task-message" });
  private readonly submitButton = h("button", { type: "button", class: "primary", "data-action": "submit", onclick: () => void this.submit() }, "Submit", h("kbd", {}, "Ctrl+Enter"));
  readonly el: HTMLElement;

  constructor(private readonly projectId: string, private readonly router: Router) {
    this.el = h("section", { class: "task-page" },
      h("div", { class: "task-bar" },
        this.prompt,
        h("div", { class: "task-meta" }, this.reward, this.countdown),
        h("div", { class: "task-actions" },
          h("button", { type: "button", "data-action": "instructions", onclick: () => this.showInstructions() }, "Instructions", h("kbd", {}, "I")),
          h("button", { type: "button", "data-action": "skip", onclick: () => void this.skip() }, "Skip"),
          h("button", { type: "button", "data-action": "broken", onclick: () => void this.reportBroken() }, "Report broken image"),
          h("button", { type: "button", "data-action": "stop", onclick: () => void this.submit(true) }, "Submit and stop"),
          this.submitButton,
        ),
      ),
      this.message,
      h("div", { class: "task-body" }, this.stage, this.panel),
      this.notice.el,
    );
    this.shortcuts.push((e) => this.onKey(e));
    (window as unknown as { __tessera: unknown }).__tessera = this.hook();
  }

  async start(): Promise<void> {
    const resumed = storedLease(this.projectId, "current");
    const prefetched = storedLease(this.projectId, "next");
    if (prefetched) {
      this.next = this.load(prefetched)
        .then((loaded) => ((this.nextReady = true), loaded))
        .catch(() => null);
    }
    if (resumed) {
      try {
        return await this.show(await this.load(resumed));
      } catch {
        storeLease(this.projectId, "current", null);
      }
    }
    await this.advance();
  }

  destroy(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.draftTimer);
    this.flushDraft();
    this.teardownTool();
    this.shortcuts.destroy();
    delete (window as unknown as { __tessera?: unknown }).__tessera;
  }

  /** Test and benchmark hook: the in-page model, read by the browser tests. */
  private hook() {
    return {
      lease: () => this.current?.lease ?? null,
      answer: () => this.tool?.answer() ?? null,
      check: () => this.tool?.check() ?? null,
      tool: () => this.tool,
      viewer: () => this.viewer,
      ready: () => !this.busy && this.tool !== null,
      pending: () => this.pending,
      prefetched: () => this.nextReady,
      timings: () => [...this.timings],
      readyAt: () => this.readyAt,
    };
  }

  private async load(lease: Lease): Promise<Loaded> {
    const image = await preloadImage(lease.task.image_url).catch(() => null);
    return { lease, image };
  }

  /** Show the prefetched task if it is still valid, else lease a new one. */
  private async advance(): Promise<void> {
    this.busy = true;
    this.setMessage(null);
    let loaded: Loaded | null = null;
    try {
      if (this.next) {
        loaded = await this.next;
        this.next = null;
        this.nextReady = false;
        if (loaded && Date.parse(loaded.lease.expires_at) < Date.now() + 5000) {
          void release(loaded.lease).catch(() => undefined);
          loaded = null;
        }
      }
      if (!loaded) {
        // Nothing prefetched (no work for us when it was asked): the answer being sent may
        // change that (a qualification gold judged at its submit), so lease after it lands.
        await this.sending?.catch(() => undefined);
        const lease = await leaseNext(this.projectId);
        if (!lease) return this.nothingLeft();
        loaded = await this.load(lease);
      }
      storeLease(this.projectId, "next", null);
      await this.show(loaded);
    } catch (err) {
      this.teardownTool();
      this.setMessage(errorBox(err, "lease"), true);
    } finally {
      this.busy = false;
    }
  }

  private async show(loaded: Loaded): Promise<void> {
    if (this.closed) return;
    this.teardownTool();
    this.current = loaded;
    const { lease } = loaded;
    storeLease(this.projectId, "current", lease);
    const spec = lease.task.annotation;
    const descriptor = TOOLS[spec.type];
    this.prompt.replaceChildren(h("strong", {}, descriptor.title), " — ", firstLine(lease.task.instructions) || "See the instructions (I).");
    this.reward.textContent = `Reward $${lease.reward}`;
    if (!loaded.image) {
      this.setMessage(h("div", { class: "error", role: "alert" },
        h("strong", {}, "The image did not load"),
        h("p", {}, "It may be broken or the connection dropped."),
        h("p", { class: "next" }, "Report it with “Report broken image” to get the next task, or reload the page to try again."),
      ));
    }
    // A narrow screen sizes the stage to the image (styles.css), so a phone shows the whole
    // image and the labels under it without a tall band of black around a landscape photo.
    this.stage.style.setProperty("--image-aspect", String(lease.task.width / Math.max(lease.task.height, 1)));
    this.viewer = new Viewer(this.stage, lease.task.width, lease.task.height, loaded.image);
    this.panel.replaceChildren();
    this.tool = descriptor.make({
      viewer: this.viewer,
      spec,
      width: lease.task.width,
      height: lease.task.height,
      panel: this.panel,
      changed: () => this.scheduleDraft(),
      flash: (m) => this.notice.show(m),
      assignmentId: lease.id,
    });
    const bar = editBar(spec.type, this.tool, this.viewer);
    if (bar) this.panel.prepend(bar);
    const draft = loadDraft(lease.id);
    if (draft) {
      this.tool.restore(draft.state);
      this.notice.show("Your draft of this task was restored.");
    } else if (lease.task.pre_annotation) {
      this.tool.load(lease.task.pre_annotation);
    }
    this.startCountdown();
    this.stage.dataset.ready = "true";
    this.viewer.stage.draw();
    if (!this.readyAt) this.readyAt = performance.now();
    if (this.submittedAt) this.timings.push(performance.now() - this.submittedAt);
    this.submittedAt = 0;
    this.prefetch();
  }

  private prefetch(): void {
    if (this.next) return;
    this.next = leaseNext(this.projectId)
      .then(async (lease) => {
        if (!lease) return null;
        storeLease(this.projectId, "next", lease);
        const loaded = await this.load(lease);
        this.nextReady = true;
        return loaded;
      })
      .catch(() => null); // no prefetch is fine: Submit leases the next task itself
  }

  private startCountdown(): void {
    clearInterval(this.timer);
    const tick = () => {
      if (!this.current) return;
      const left = Math.floor((Date.parse(this.current.lease.expires_at) - Date.now()) / 1000);
      if (left <= 0) return void this.expired();
      const m = Math.floor(left / 60), s = left % 60;
      this.countdown.textContent = `${m}:${String(s).padStart(2, "0")} left`;
      this.countdown.classList.toggle("warning", left <= WARN_SECONDS);
      if (left === WARN_SECONDS) this.notice.show("One minute left for this task.");
    };
    tick();
    this.timer = window.setInterval(tick, 1000);
  }

  private async expired(): Promise<void> {
    clearInterval(this.timer);
    const lease = this.current?.lease;
    if (!lease) return;
    this.current = null;
    dropDraft(lease.id);
    storeLease(this.projectId, "current", null);
    void release(lease).catch(() => undefined);
    this.teardownTool();
    this.countdown.textContent = "Time is up";
    const box = errorBox({ title: "Time is up for this task", message: "The time limit ran out, so the task went back to the pool.", next: "The next task is ready below; keep an eye on the countdown." });
    await this.advance();
    this.setMessage(box);
  }

  /** Submit, and show the next task at once (its lease and image were fetched meanwhile):
   * the answer goes to the server in the background, its draft kept until the server has it.
   * If the server refuses it, the worker is told why and can go back to that task. */
  private async submit(stop = false): Promise<void> {
    if (this.busy || !this.current || !this.tool) return;
    const problem = this.tool.check();
    if (problem) return this.setMessage(errorBox({ title: "Not ready to submit", message: problem, next: "Fix it, then submit again." }));
    const previous = this.current;
    const lease = previous.lease;
    this.flushDraft();
    this.submittedAt = performance.now();
    this.pending++;
    const sending = post(`/v1/assignments/${encodeURIComponent(lease.id)}/submit`, { answer: this.tool.answer() })
      .then(() => dropDraft(lease.id))
      .finally(() => this.pending--);
    this.sending = sending;
    if (stop) {
      this.busy = true;
      try {
        await sending;
      } catch (err) {
        this.busy = false;
        return this.refused(err, previous, false);
      }
      storeLease(this.projectId, "current", null);
      return this.leave("Submitted. Thank you!");
    }
    this.current = null;
    storeLease(this.projectId, "current", null);
    sending.then(() => this.notice.show("Submitted."), (err) => this.refused(err, previous, true));
    await this.advance();
  }

  /** The server refused an answer: say why; unless the task is gone, offer to go back to it. */
  private refused(err: unknown, previous: Loaded, movedOn: boolean): void {
    const gone = err instanceof ApiError && (err.status === 409 || err.status === 404);
    const box = errorBox(err, "submit");
    if (gone) {
      dropDraft(previous.lease.id);
      if (!movedOn) {
        storeLease(this.projectId, "current", null);
        this.current = null;
        void this.advance().then(() => this.setMessage(box));
        return;
      }
    } else if (movedOn) {
      box.append(h("button", { type: "button", class: "primary", "data-action": "back", onclick: () => void this.goBack(previous) }, "Back to that task"));
    }
    this.setMessage(box);
  }

  private async goBack(previous: Loaded): Promise<void> {
    if (this.current) {
      // The task on screen becomes the prefetched one again: nothing is released or lost.
      const shown = this.current;
      this.flushDraft();
      this.next = Promise.resolve(shown);
      storeLease(this.projectId, "next", shown.lease);
    }
    await this.show(previous);
  }

  private async skip(): Promise<void> {
    if (!this.current || this.busy) return;
    if (!(await confirmDialog("Skip this task?", "It goes back to the pool, unpaid, and you get the next one.", "Skip"))) return;
    await this.giveBack("skipped");
  }

  private async reportBroken(): Promise<void> {
    if (!this.current || this.busy) return;
    if (!(await confirmDialog("Report a broken image?", "The task goes back, unpaid, with your report, and you get the next one.", "Report"))) return;
    await this.giveBack("broken_image");
    this.notice.show("Thanks, the image was reported.");
  }

  private async giveBack(reason: "skipped" | "broken_image"): Promise<void> {
    const lease = this.current!.lease;
    try {
      await release(lease, reason);
    } catch (err) {
      return this.setMessage(errorBox(err));
    }
    dropDraft(lease.id);
    storeLease(this.projectId, "current", null);
    this.current = null;
    await this.advance();
  }

  private async leave(text: string): Promise<void> {
    const next = this.next;
    this.next = null;
    storeLease(this.projectId, "next", null);
    const loaded = await next?.catch(() => null);
    if (loaded) await release(loaded.lease).catch(() => undefined);
    this.router.go(`/?done=${encodeURIComponent(text)}`);
  }

  private nothingLeft(): void {
    this.teardownTool();
    this.countdown.textContent = "";
    this.setMessage(h("div", { class: "empty-state", "data-state": "no-tasks" },
      h("strong", {}, "No task is available for you in this project right now."),
      h("p", {}, "Others may be working on the last ones, or you have answered them all."),
      h("p", {}, h("a", { href: "/", "data-link": "" }, "Back to the projects")),
    ), true);
  }

  private showInstructions(): void {
    const source = this.current?.lease.task.instructions ?? "";
    const body = h("div", { class: "markdown" });
    body.innerHTML = renderMarkdown(source); // markdown-it with raw HTML off: safe to insert
    modal("Instructions", body);
  }

  private onKey(e: KeyboardEvent): boolean {
    const combo = comboOf(e);
    if (document.querySelector(".modal-backdrop")) return false;
    if (combo === "Ctrl+Enter") return void this.submit(), true;
    if (combo === "Ctrl+Z") return this.tool?.undo(), true;
    if (combo === "Ctrl+Shift+Z" || combo === "Ctrl+Y") return this.tool?.redo(), true;
    if (combo === "I") return this.showInstructions(), true;
    if (combo === "F") return this.viewer?.fit(), true;
    if (this.tool?.key(e, combo)) return true;
    if (combo === "Enter" && this.current && ["classification", "multilabel"].includes(this.current.lease.task.annotation.type)) return void this.submit(), true;
    return false;
  }

  private scheduleDraft(): void {
    clearTimeout(this.draftTimer);
    this.draftTimer = window.setTimeout(() => this.flushDraft(), 400);
  }

  private flushDraft(): void {
    if (!this.current || !this.tool) return;
    if (!saveDraft(this.current.lease.id, this.tool.state())) this.notice.show("Your browser refused to keep a draft; submit soon.");
  }

  private teardownTool(): void {
    clearInterval(this.timer);
    this.tool?.destroy();
    this.viewer?.destroy();
    this.tool = null;
    this.viewer = null;
    this.stage.replaceChildren();
    delete this.stage.dataset.ready;
    this.panel.replaceChildren();
  }

  private setMessage(node: Node | null, replaceTask = false): void {
    this.message.replaceChildren(...(node ? [node] : []));
    this.el.classList.toggle("no-task", replaceTask);
  }
}

export async function taskPage(root: HTMLElement, projectId: string, router: Router): Promise<() => void> {
  const page = new TaskPage(projectId, router);
  root.replaceChildren(page.el);
  void page.start();
  return () => page.destroy();
}
