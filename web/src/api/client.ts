import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { getTokens, setTokens, signOut } from "./session";

// Same-origin API: the binary serves the app and /api/v1 together (Vite's
// dev server proxies /api to it).
const baseUrl = typeof location !== "undefined" ? location.origin : "http://localhost";

// fetch is looked up at call time so tests can stub globalThis.fetch.
const fetchNow = (r: Request) => globalThis.fetch(r);

// bare has no auth middleware: it is what the refresh itself goes through.
const bare = createClient<paths>({ baseUrl, fetch: fetchNow });

const REFRESH_PATH = "/api/v1/auth/refresh";

// One refresh at a time: concurrent 401s wait on the same promise, since
// a refresh token is single-use (a second use is token_reused and revokes
// the whole login).
let refreshing: Promise<boolean> | null = null;

async function refreshOnce(): Promise<boolean> {
  const t = getTokens();
  if (!t) return false;
  const r = await bare.POST(REFRESH_PATH, { body: { refresh_token: t.refreshToken } });
  if (r.data) {
    setTokens({ accessToken: r.data.access_token, refreshToken: r.data.refresh_token });
    return true;
  }
  // token_reused (or an expired/revoked refresh token): the session is over.
  signOut();
  return false;
}

export function refreshTokens(): Promise<boolean> {
  refreshing ??= refreshOnce().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// Copies of the outgoing requests, by openapi-fetch's request id, so a
// request whose body was already sent can be replayed after a refresh.
const pending = new Map<string, Request>();

export const authMiddleware: Middleware = {
  onRequest({ request, id }) {
    const t = getTokens();
    if (t) request.headers.set("Authorization", `Bearer ${t.accessToken}`);
    pending.set(id, request.clone());
    return request;
  },
  async onResponse({ request, response, id }) {
    const original = pending.get(id);
    pending.delete(id);
    if (response.status !== 401 || !original || !request.headers.has("Authorization")) return response;
    if (new URL(request.url).pathname === REFRESH_PATH) return response;
    if (!(await refreshTokens())) return response;
    const t = getTokens();
    if (!t) return response;
    const retry = new Request(original);
    retry.headers.set("Authorization", `Bearer ${t.accessToken}`);
    // Retried once: a second 401 is returned as is.
    return globalThis.fetch(retry);
  },
  onError({ id }) {
    pending.delete(id);
  },
};

export const api = createClient<paths>({ baseUrl, fetch: fetchNow });
api.use(authMiddleware);

// signOutEverywhere ends the session on the server too (the refresh token
// is revoked, so a copy of it is useless), then forgets the tokens. The
// local sign-out happens even when the server cannot be reached.
export async function signOutEverywhere(): Promise<void> {
  const t = getTokens();
  try {
    if (t) await api.POST("/api/v1/auth/logout", { body: { refresh_token: t.refreshToken } });
  } catch {
    // offline: the refresh token expires on its own
  } finally {
    signOut();
  }
}
