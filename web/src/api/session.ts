// The signed-in session: the access and refresh tokens, held in memory
// only (never localStorage or sessionStorage, where any injected script
// could read them). A reload therefore signs the shopper out.
//
// TODO(later step): move the refresh token to an httpOnly, Secure,
// SameSite=Strict cookie set by the server, so that a reload keeps the
// session and script never sees the long-lived credential.

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

let current: Tokens | null = null;
const listeners = new Set<() => void>();

export function getTokens(): Tokens | null {
  return current;
}

export function setTokens(t: Tokens | null): void {
  current = t;
  for (const l of listeners) l();
}

export function signOut(): void {
  setTokens(null);
}

export function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

// role is the signed-in user's role as the access token states it
// ("customer" or "admin"). The UI uses it only to choose what to show;
// the server checks the role on every admin route regardless.
export function role(): string | null {
  const t = current?.accessToken;
  const part = t?.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { role?: unknown };
    return typeof claims.role === "string" ? claims.role : null;
  } catch {
    return null;
  }
}
