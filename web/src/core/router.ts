// History-API routing for every app area: a route is a path pattern and a page function that
// draws into the main element and returns its clean-up.

export type Params = Record<string, string>;
export type Page = (root: HTMLElement, params: Params, query: URLSearchParams) => (() => void) | void | Promise<(() => void) | void>;

interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
}

export class Router {
  private routes: Route[] = [];
  private cleanup: (() => void) | void = undefined;
  private seq = 0;

  constructor(private readonly root: HTMLElement, private readonly notFound: Page) {
    window.addEventListener("popstate", () => void this.render());
    document.addEventListener("click", (e) => {
      const a = (e.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      this.go(a.getAttribute("href") || "/");
    });
  }

  add(path: string, page: Page): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      "^" + path.replace(/:(\w+)/g, (_m, key: string) => (keys.push(key), "([^/]+)")) + "/?$",
    );
    this.routes.push({ pattern, keys, page });
    return this;
  }

  go(path: string, replace = false): void {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    void this.render();
  }

  async render(): Promise<void> {
    const seq = ++this.seq;
    if (typeof this.cleanup === "function") this.cleanup();
    this.cleanup = undefined;
    const path = location.pathname;
    const query = new URLSearchParams(location.search);
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Params = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      const cleanup = await route.page(this.root, params, query);
      if (seq === this.seq) this.cleanup = cleanup;
      else if (typeof cleanup === "function") cleanup();
      return;
    }
    await this.notFound(this.root, {}, query);
  }
}
