// The signed-in shopper's live notifications: ONE Server-Sent Events
// connection per session (GET /api/v1/notifications/stream), shared by
// every component that listens (the bell, the order page's live status).
//
// It is read with fetch rather than EventSource so the access token goes
// in the Authorization header (never in a URL, where proxies log it), an
// expired token is refreshed once through the API client's single
// refresh path, and Last-Event-ID resumes exactly after the last event.
import type { components } from "../api/schema";
import { refreshTokens } from "../api/client";
import { getTokens, subscribe as onSession } from "../api/session";

export type Notification = components["schemas"]["notify.Notification"];
export type Listener = (n: Notification) => void;

const listeners = new Set<Listener>();
let abort: AbortController | null = null;
let lastId: string | null = null;
let connectedFor: string | null = null; // the refresh token the stream belongs to

// parseSSE splits a text/event-stream chunk buffer into complete events;
// it returns the events and the unconsumed tail.
export function parseSSE(buf: string): { events: { id?: string; event?: string; data: string }[]; rest: string } {
  const events: { id?: string; event?: string; data: string }[] = [];
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

async function run(signal: AbortSignal): Promise<void> {
  let backoff = 1000;
  while (!signal.aborted) {
    const t = getTokens();
    if (!t) return;
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${t.accessToken}`, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const res = await globalThis.fetch("/api/v1/notifications/stream", { headers, signal, cache: "no-store" });
      if (res.status === 401) {
        if (!(await refreshTokens())) return; // signed out
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      backoff = 1000;
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
          let n: Notification;
          try {
            n = JSON.parse(ev.data) as Notification;
          } catch {
            continue;
          }
          for (const l of [...listeners]) l(n);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, 15000);
  }
}

function sync(): void {
  const t = getTokens();
  const want = listeners.size > 0 && t !== null;
  if (!want) {
    abort?.abort();
    abort = null;
    connectedFor = null;
    if (!t) lastId = null; // a new login starts from "now"
    return;
  }
  // A token refresh keeps the stream; a different login restarts it.
  if (abort && connectedFor !== null) return;
  abort = new AbortController();
  connectedFor = t.refreshToken;
  void run(abort.signal);
}

onSession(sync);

// subscribeNotifications calls listener for every notification pushed to
// the signed-in user from now on; the connection opens with the first
// listener and closes with the last (or at sign-out).
export function subscribeNotifications(listener: Listener): () => void {
  listeners.add(listener);
  sync();
  return () => {
    listeners.delete(listener);
    sync();
  };
}
