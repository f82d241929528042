// One Server-Sent Events reader for the app's live streams (notifications,
// the admin console's events). It reads with fetch rather than
// EventSource so the access token goes in the Authorization header (never
// in a URL), an expired token is refreshed once through the API client's
// single refresh path, and Last-Event-ID resumes exactly after the last
// event. It reconnects with backoff until the signal aborts or the
// session ends.
import { refreshTokens } from "../api/client";
import { getTokens, subscribe as onSession } from "../api/session";

export interface SSEEvent {
  id?: string | undefined;
  event?: string | undefined;
  data: string;
}

// parseSSE splits a text/event-stream buffer into complete events; it
// returns the events and the unconsumed tail.
export function parseSSE(buf: string): { events: SSEEvent[]; rest: string } {
  const events: SSEEvent[] = [];
  const norm = buf.replace(/\r\n?/g, "\n");
  const blocks = norm.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) events.push({ id, event, data: data.join("\n") });
  }
  return { events, rest };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export interface StreamOptions {
  signal: AbortSignal;
  onEvent: (e: SSEEvent) => void;
  // onOpen runs on every (re)connection: a consumer that cannot resume
  // refetches what it shows.
  onOpen?: () => void;
  // resume keeps Last-Event-ID across reconnections (default true).
  resume?: boolean;
}

// stream reads path until the signal aborts or the user is signed out.
export async function stream(path: string, o: StreamOptions): Promise<void> {
  let backoff = 1000;
  let lastId: string | null = null;
  const { signal } = o;
  while (!signal.aborted) {
    const t = getTokens();
    if (!t) return;
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${t.accessToken}`, Accept: "text/event-stream" };
      if (lastId && o.resume !== false) headers["Last-Event-ID"] = lastId;
      const res = await globalThis.fetch(path, { headers, signal, cache: "no-store" });
      if (res.status === 401) {
        if (!(await refreshTokens())) return; // signed out
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      backoff = 1000;
      o.onOpen?.();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        const { events, rest } = parseSSE(buf);
        buf = rest;
        for (const ev of events) {
          if (ev.id) lastId = ev.id;
          o.onEvent(ev);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, 15000);
  }
}

// sharedStream is one connection to path for the whole signed-in session,
// shared by every listener: it opens with the first listener and closes
// with the last or at sign-out. onOpen listeners hear every
// (re)connection, so what they show can be refetched after a gap.
export function sharedStream<T>(path: string, parse: (e: SSEEvent) => T | null, opts: { resume?: boolean } = {}) {
  const listeners = new Set<(v: T) => void>();
  const openers = new Set<() => void>();
  let abort: AbortController | null = null;

  function sync(): void {
    const want = (listeners.size > 0 || openers.size > 0) && getTokens() !== null;
    if (!want) {
      abort?.abort();
      abort = null;
      return;
    }
    if (abort) return; // a token refresh keeps the stream
    const ctl = new AbortController();
    abort = ctl;
    void stream(path, {
      signal: ctl.signal,
      resume: opts.resume,
      onOpen: () => openers.forEach((f) => f()),
      onEvent: (ev) => {
        const v = parse(ev);
        if (v !== null) for (const l of [...listeners]) l(v);
      },
    }).finally(() => {
      if (abort === ctl) abort = null;
    });
  }
  onSession(sync);

  return {
    subscribe(listener: (v: T) => void): () => void {
      listeners.add(listener);
      sync();
      return () => {
        listeners.delete(listener);
        sync();
      };
    },
    onOpen(f: () => void): () => void {
      openers.add(f);
      sync();
      return () => {
        openers.delete(f);
        sync();
      };
    },
  };
}
