// The web app's entry: the shell (header, navigation), the routes of every area and the session.
// The worker's pages are in this bundle; the requester's and operator's are separate chunks
// loaded on first use (dynamic import), so the worker's task page stays small.

import "./styles.css";
import { h } from "./core/dom";
import { pruneDrafts } from "./core/drafts";
import { Router } from "./core/router";
import { account, restoreSession } from "./core/session";
import { errorBox } from "./core/ui";
import { accountPage } from "./worker/account";
import { signInPage, signUpPage } from "./worker/auth";
import { earningsPage } from "./worker/earnings";
import { historyPage } from "./worker/history";
import { marketplacePage } from "./worker/marketplace";
import { taskPage } from "./worker/task";

const app = document.getElementById("app")!;
const nav = h("nav", { class: "top" });
const main = h("main", {});
app.replaceChildren(h("header", { class: "site" }, h("a", { href: "/", class: "brand", "data-link": "" }, "Tessera"), nav), main);

function renderNav(): void {
  const me = account();
  const link = (href: string, text: string) => h("a", { href, "data-link": "", class: location.pathname === href ? "active" : "" }, text);
  const areas: Record<string, HTMLElement[]> = {
    worker: [link("/", "Find work"), link("/history", "History"), link("/earnings", "Earnings")],
    requester: [link("/", "Projects"), link("/projects/new", "New project")],
    operator: [link("/", "Market"), link("/operator/workers", "Workers"), link("/operator/payouts", "Payouts"), link("/operator/settings", "Settings")],
  };
  nav.replaceChildren(
    ...(me ? [...areas[me.role], link("/account", me.name)] : [link("/signin", "Sign in"), link("/signup", "Sign up")]),
  );
}

type AreaPage = (root: HTMLElement, params: Record<string, string>, query: URLSearchParams, router: Router) => unknown;
const requesterArea = () => import("./requester");
const operatorArea = () => import("./operator");

const router = new Router(main, (root) => root.replaceChildren(h("section", {}, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-link": "" }, "Back to the projects")))));

/** Pages behind sign-in send the visitor to /signin and back. */
const signedIn = (page: (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => unknown) =>
  async (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => {
    renderNav();
    if (!account()) {
      router.go(`/signin?next=${encodeURIComponent(location.pathname)}`, true);
      return;
    }
    if (account()!.role !== "worker") return wrongArea(root, "worker");
    return page(root, params, query) as (() => void) | void;
  };

function wrongArea(root: HTMLElement, area: string): void {
  root.replaceChildren(h("section", {}, h("h1", {}, `Signed in as a ${account()!.role}`), h("p", {}, `This page is for ${area} accounts.`), h("p", {}, h("a", { href: "/", "data-link": "" }, "Back to your start page"))));
}

/** A page of the requester's or operator's area: signed in with that role, code loaded lazily. */
const areaPage = (role: "requester" | "operator", load: () => Promise<AreaPage>) =>
  async (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => {
    renderNav();
    if (!account()) return router.go(`/signin?next=${encodeURIComponent(location.pathname)}`, true);
    if (account()!.role !== role) return wrongArea(root, role);
    const page = await load();
    return page(root, params, query, router) as (() => void) | void;
  };

/** `/` and `/account` are every role's: each gets its own start and account page. */
const byRole = (pages: Record<"worker" | "requester" | "operator", (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => unknown>) =>
  async (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => {
    renderNav();
    const me = account();
    if (!me) return router.go(`/signin?next=${encodeURIComponent(location.pathname)}`, true);
    return pages[me.role](root, params, query) as (() => void) | void;
  };

router
  .add("/", byRole({
    worker: (root, _p, query) => marketplacePage(root, query),
    requester: async (root, p, q) => (await requesterArea()).projectsPage(root, p, q, router),
    operator: async (root, p, q) => (await operatorArea()).marketPage(root, p, q, router),
  }))
  .add("/projects/new", areaPage("requester", async () => (await requesterArea()).projectFormPage))
  .add("/projects/:project/edit", areaPage("requester", async () => (await requesterArea()).projectFormPage))
  .add("/projects/:project", areaPage("requester", async () => (await requesterArea()).projectPage))
  .add("/batches/:batch", areaPage("requester", async () => (await requesterArea()).batchPage))
  .add("/batches/:batch/results", areaPage("requester", async () => (await requesterArea()).galleryPage))
  .add("/operator/workers", areaPage("operator", async () => (await operatorArea()).workersPage))
  .add("/operator/settings", areaPage("operator", async () => (await operatorArea()).settingsPage))
  .add("/operator/payouts", areaPage("operator", async () => (await operatorArea()).payoutsPage))
  .add("/work/:project", signedIn((root, params) => taskPage(root, params.project, router)))
  .add("/history", signedIn((root) => historyPage(root)))
  .add("/earnings", signedIn((root) => earningsPage(root)))
  .add("/account", byRole({
    worker: (root) => accountPage(root, router),
    requester: async (root, p, q) => (await requesterArea()).requesterAccountPage(root, p, q, router),
    operator: (root) => accountPage(root, router),
  }))
  .add("/signin", (root, _p, query) => (renderNav(), signInPage(root, router, query.get("next") || "/")))
  .add("/signup", (root) => (renderNav(), signUpPage(root, router)));

window.addEventListener("popstate", renderNav);
pruneDrafts();
restoreSession()
  .then(() => router.render())
  .catch((err) => main.replaceChildren(errorBox(err, "load")));
