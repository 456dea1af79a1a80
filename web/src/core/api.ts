// The one HTTP client of the web app: same-origin fetch with the session cookie, the CSRF token
// on every state change, problem details turned into ApiError. Shared by every app area.

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: { loc: (string | number)[]; msg: string }[];
  retry_after?: number;
  code?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number, // 0: the network is down or the server unreachable
    readonly problem: Problem,
    readonly retryAfter: number | null = null,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export const csrf = (): string | null => csrfToken;

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, { status: 0, title: "Network error" });
  }
  if (response.status === 204) return null as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = (data && typeof data === "object" ? data : { status: response.status }) as Problem;
    const retry = response.headers.get("Retry-After");
    throw new ApiError(response.status, { ...problem, status: response.status }, retry ? Number(retry) : null);
  }
  return data as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => api<T>("GET", path, { signal });
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, { body });
export const del = <T>(path: string) => api<T>("DELETE", path);
export const patch = <T>(path: string, body?: unknown) => api<T>("PATCH", path, { body });
