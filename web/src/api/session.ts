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
