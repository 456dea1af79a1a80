// Who is signed in: the account and the CSRF token, asked of the server after every reload
// (the cookie itself is HttpOnly and invisible to scripts).

import { ApiError, del, get, post, setCsrfToken } from "./api";
import type { Account, SessionInfo } from "./types";

let current: Account | null = null;

export const account = (): Account | null => current;

export async function restoreSession(): Promise<Account | null> {
  try {
    const info = await get<SessionInfo>("/v1/sessions/current");
    setCsrfToken(info.csrf_token);
    current = info.account;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    current = null;
  }
  return current;
}

export async function signIn(email: string, password: string): Promise<Account> {
  const info = await post<SessionInfo>("/v1/sessions", { email, password });
  setCsrfToken(info.csrf_token);
  current = info.account;
  return current;
}

export async function signUp(name: string, email: string, password: string, role: "worker" | "requester" = "worker"): Promise<Account> {
  await post("/v1/accounts", { role, name, email, password });
  return signIn(email, password);
}

export async function signOut(): Promise<void> {
  try {
    await del("/v1/sessions/current");
  } finally {
    setCsrfToken(null);
    current = null;
  }
}
