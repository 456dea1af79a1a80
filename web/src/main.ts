// The web app's entry: the shell (header, navigation), the routes of the worker's area, and the
// session. The requester's and operator's areas will add their routes and nav entries here.

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
  nav.replaceChildren(
    ...(me
      ? [link("/", "Find work"), link("/history", "History"), link("/earnings", "Earnings"), link("/account", me.name)]
      : [link("/signin", "Sign in"), link("/signup", "Sign up")]),
  );
}

const router = new Router(main, (root) => root.replaceChildren(h("section", {}, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-link": "" }, "Back to the projects")))));

/** Pages behind sign-in send the visitor to /signin and back. */
const signedIn = (page: (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => unknown) =>
  async (root: HTMLElement, params: Record<string, string>, query: URLSearchParams) => {
    renderNav();
    if (!account()) {
      router.go(`/signin?next=${encodeURIComponent(location.pathname)}`, true);
      return;
    }
    if (account()!.role !== "worker") {
      root.replaceChildren(h("section", {}, h("h1", {}, `Signed in as a ${account()!.role}`), h("p", {}, "The worker's pages are for worker accounts; the requester's and operator's pages are not built yet. Use the API (/docs) meanwhile.")));
      return;
    }
    return page(root, params, query) as (() => void) | void;
  };

router
  .add("/", signedIn((root, _p, query) => marketplacePage(root, query)))
  .add("/work/:project", signedIn((root, params) => taskPage(root, params.project, router)))
  .add("/history", signedIn((root) => historyPage(root)))
  .add("/earnings", signedIn((root) => earningsPage(root)))
  .add("/account", signedIn((root) => accountPage(root, router)))
  .add("/signin", (root, _p, query) => (renderNav(), signInPage(root, router, query.get("next") || "/")))
  .add("/signup", (root) => (renderNav(), signUpPage(root, router)));

window.addEventListener("popstate", renderNav);
pruneDrafts();
restoreSession()
  .then(() => router.render())
  .catch((err) => main.replaceChildren(errorBox(err, "load")));
