// The signed-in user's live chat: ONE WebSocket per session
// (/api/v1/chat/ws), shared by every open chat panel.
//
// - It connects while someone listens (or a message waits to go out) and
//   a session exists; it closes at sign-out.
// - A dropped connection is reopened with exponential backoff. An upgrade
//   that never opened may have been refused for an expired access token:
//   the next attempt first refreshes it (once per run of failures) through
//   the API client's single refresh path. Every attempt uses the current
//   access token.
// - Outgoing messages go to an outbox keyed by client_id
//   (crypto.randomUUID()) and stay there until the server echoes them: a
//   message sent while disconnected, or sent but unacknowledged when the
//   connection dropped, is sent again with the same client_id on the next
//   open, and the server stores it once.
// - After a reconnect, status listeners hear "open" with reconnected =
//   true: panels reload their history then, so nothing is missed.
import type { components } from "../api/schema";
import { refreshTokens } from "../api/client";
import { getTokens, subscribe as onSession } from "../api/session";

export type ChatMessage = components["schemas"]["chat.Message"];

export type MessageFrame = { type: "message"; duplicate?: boolean } & ChatMessage;
export interface EventFrame {
  type: "typing" | "read";
  id: string;
  conversation_id: string;
  sender_id: string;
  message_id?: string;
  seq?: number;
  created_at: string;
}
export interface PresenceFrame {
  type: "presence";
  user_id: string;
  online: boolean;
}
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  client_id?: string;
}
export type ServerFrame = MessageFrame | EventFrame | PresenceFrame | ErrorFrame;

// What a conversation's listeners hear: its frames, an error about one of
// its outgoing messages (with conversation_id added), and "outbox" when
// its pending messages changed.
export type ConversationEvent = MessageFrame | EventFrame | (ErrorFrame & { conversation_id: string }) | { type: "outbox"; conversation_id: string };

export type Status = "idle" | "connecting" | "open" | "closed";
export type StatusListener = (status: Status, reconnected: boolean) => void;

// Pending is an outgoing message not yet acknowledged by the server.
export interface Pending {
  client_id: string;
  conversation_id: string;
  text: string;
  created_at: string;
  failed?: { code: string; message: string };
}

interface SocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ChatClientOptions {
  // url is where to connect with this access token.
  url?: (accessToken: string) => string;
  accessToken?: () => string | null;
  refresh?: () => Promise<boolean>;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  typingEveryMs?: number;
  newId?: () => string;
}

const OPEN = 1;

function defaultUrl(token: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/api/v1/chat/ws?access_token=${encodeURIComponent(token)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

// parseFrame reads one server frame; anything unrecognised is null.
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(v) || typeof v.type !== "string") return null;
  switch (v.type) {
    case "message":
    case "typing":
    case "read":
      return typeof v.conversation_id === "string" && typeof v.sender_id === "string" ? (v as unknown as ServerFrame) : null;
    case "presence":
      return typeof v.user_id === "string" ? (v as unknown as PresenceFrame) : null;
    case "error":
      return typeof v.code === "string" ? (v as unknown as ErrorFrame) : null;
    default:
      return null;
  }
}

export class ChatClient {
  private readonly opts: Required<ChatClientOptions>;
  private ws: SocketLike | null = null;
  private status: Status = "idle";
  private everOpened = false;
  private openedThisAttempt = false;
  private failures = 0;
  private refreshedThisRun = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly convListeners = new Map<string, Set<(e: ConversationEvent) => void>>();
  private readonly frameListeners = new Set<(f: ServerFrame) => void>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly outbox = new Map<string, Pending>(); // by client_id, in send order
  private readonly typedAt = new Map<string, number>();

  constructor(opts: ChatClientOptions = {}) {
    this.opts = {
      url: opts.url ?? defaultUrl,
      accessToken: opts.accessToken ?? (() => getTokens()?.accessToken ?? null),
      refresh: opts.refresh ?? refreshTokens,
      minBackoffMs: opts.minBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 30000,
      typingEveryMs: opts.typingEveryMs ?? 2000,
      newId: opts.newId ?? (() => crypto.randomUUID()),
    };
  }

  getStatus(): Status {
    return this.status;
  }

  // subscribe listens to one conversation's events.
  subscribe(conversationId: string, listener: (e: ConversationEvent) => void): () => void {
    let set = this.convListeners.get(conversationId);
    if (!set) {
      set = new Set();
      this.convListeners.set(conversationId, set);
    }
    set.add(listener);
    this.sync();
    return () => {
      const s = this.convListeners.get(conversationId);
      s?.delete(listener);
      if (s && s.size === 0) this.convListeners.delete(conversationId);
      this.sync();
    };
  }

  // onFrame hears every frame (presence, errors, all conversations).
  onFrame(listener: (f: ServerFrame) => void): () => void {
    this.frameListeners.add(listener);
    this.sync();
    return () => {
      this.frameListeners.delete(listener);
      this.sync();
    };
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  // pending lists a conversation's unacknowledged messages, oldest first.
  pending(conversationId: string): Pending[] {
    return [...this.outbox.values()].filter((p) => p.conversation_id === conversationId);
  }

  // send queues a text message and sends it when connected; it returns
  // the client_id (retry(client_id) resends a failed one with it).
  send(conversationId: string, text: string): string {
    const p: Pending = { client_id: this.opts.newId(), conversation_id: conversationId, text, created_at: new Date().toISOString() };
    this.outbox.set(p.client_id, p);
    this.emitConv(conversationId, { type: "outbox", conversation_id: conversationId });
    this.sync();
    this.transmit(p);
    return p.client_id;
  }

  retry(clientId: string): void {
    const p = this.outbox.get(clientId);
    if (!p) return;
    delete p.failed;
    this.emitConv(p.conversation_id, { type: "outbox", conversation_id: p.conversation_id });
    this.sync();
    this.transmit(p);
  }

  discard(clientId: string): void {
    const p = this.outbox.get(clientId);
    if (!p) return;
    this.outbox.delete(clientId);
    this.emitConv(p.conversation_id, { type: "outbox", conversation_id: p.conversation_id });
    this.sync();
  }

  // typing tells the others the user is typing: at most once per
  // typingEveryMs per conversation, and only while connected.
  typing(conversationId: string): void {
    const now = Date.now();
    const last = this.typedAt.get(conversationId);
    if (last !== undefined && now - last < this.opts.typingEveryMs) return;
    if (this.frame({ type: "typing", conversation_id: conversationId })) this.typedAt.set(conversationId, now);
  }

  // read moves the user's read position to messageId (or the latest).
  read(conversationId: string, messageId?: string): boolean {
    return this.frame(messageId ? { type: "read", conversation_id: conversationId, message_id: messageId } : { type: "read", conversation_id: conversationId });
  }

  // close ends the connection and forgets the outbox (sign-out).
  close(): void {
    this.clearTimer();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
      ws.close(1000, "bye");
    }
    this.outbox.clear();
    this.typedAt.clear();
    this.everOpened = false;
    this.failures = 0;
    this.refreshedThisRun = false;
    this.setStatus("idle", false);
  }

  // sync connects or disconnects to match who listens and the session.
  sync(): void {
    const want = (this.convListeners.size > 0 || this.frameListeners.size > 0 || this.outbox.size > 0) && this.opts.accessToken() !== null;
    if (!want) {
      if (this.ws || this.timer) {
        this.clearTimer();
        const ws = this.ws;
        this.ws = null;
        if (ws) {
          ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
          ws.close(1000, "idle");
        }
        this.everOpened = false;
        this.setStatus("idle", false);
      }
      return;
    }
    if (!this.ws && !this.timer) this.connect();
  }

  private frame(v: object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.status !== "open") return false;
    ws.send(JSON.stringify(v));
    return true;
  }

  private transmit(p: Pending): void {
    if (p.failed) return;
    this.frame({ type: "message", conversation_id: p.conversation_id, client_id: p.client_id, text: p.text });
  }

  private connect(): void {
    const token = this.opts.accessToken();
    if (token === null) return;
    this.setStatus("connecting", false);
    this.openedThisAttempt = false;
    let ws: SocketLike;
    try {
      ws = new WebSocket(this.opts.url(token)) as SocketLike;
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.openedThisAttempt = true;
      this.failures = 0;
      this.refreshedThisRun = false;
      this.setStatus("open", reconnected);
      for (const p of this.outbox.values()) this.transmit(p);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      const f = parseFrame(ev.data);
      if (f) this.dispatch(f);
    };
    ws.onerror = () => {
      // A close always follows; it decides what to do.
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setStatus("closed", false);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.clearTimer();
    const delay = Math.min(this.opts.minBackoffMs * 2 ** this.failures, this.opts.maxBackoffMs);
    const authSuspect = !this.openedThisAttempt && !this.refreshedThisRun;
    this.failures++;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reopen(authSuspect);
    }, delay);
  }

  private async reopen(refreshFirst: boolean): Promise<void> {
    if (refreshFirst && this.opts.accessToken() !== null) {
      // The upgrade never opened: the access token may have expired (the
      // browser does not tell why). Refresh once per run of failures.
      this.refreshedThisRun = true;
      const ok = await this.opts.refresh();
      if (!ok) return; // signed out: the session listener closes everything
    }
    if (this.ws || this.timer) return;
    this.sync();
  }

  private dispatch(f: ServerFrame): void {
    for (const l of [...this.frameListeners]) l(f);
    switch (f.type) {
      case "message": {
        const p = this.outbox.get(f.client_id);
        if (p && p.conversation_id === f.conversation_id) {
          this.outbox.delete(f.client_id);
        }
        this.emitConv(f.conversation_id, f);
        if (p) this.emitConv(f.conversation_id, { type: "outbox", conversation_id: f.conversation_id });
        return;
      }
      case "typing":
      case "read":
        this.emitConv(f.conversation_id, f);
        return;
      case "error": {
        const p = f.client_id ? this.outbox.get(f.client_id) : undefined;
        if (!p) return;
        // rate_limited and internal are worth a retry; the panel offers it.
        p.failed = { code: f.code, message: f.message };
        this.emitConv(p.conversation_id, { ...f, conversation_id: p.conversation_id });
        this.emitConv(p.conversation_id, { type: "outbox", conversation_id: p.conversation_id });
        return;
      }
      case "presence":
        return;
    }
  }

  private emitConv(conversationId: string, e: ConversationEvent): void {
    const set = this.convListeners.get(conversationId);
    if (!set) return;
    for (const l of [...set]) l(e);
  }

  private setStatus(s: Status, reconnected: boolean): void {
    if (this.status === s && !reconnected) return;
    this.status = s;
    for (const l of [...this.statusListeners]) l(s, reconnected);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

// chat is the session's one client.
export const chat = new ChatClient();

// Sign-out closes the connection and forgets the outbox; a sign-in
// connects if someone listens. A token refresh keeps the connection (it
// is already authenticated): the next connect uses the new access token.
onSession(() => {
  if (!getTokens()) chat.close();
  else chat.sync();
});
