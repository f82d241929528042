import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatClient, parseFrame, type ConversationEvent, type Status } from "./chat";

// FakeWebSocket records what the client sends; the test drives open,
// messages and close.
class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  readyState = FakeWebSocket.CONNECTING;
  sent: string[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }
  send(data: string) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("not open");
    this.sent.push(data);
  }
  close() {
    this.readyState = FakeWebSocket.CLOSED;
  }
  // Test controls.
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.(new Event("open"));
  }
  receive(v: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(v) }));
  }
  drop(code = 1006) {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.(new CloseEvent("close", { code }));
  }
  frames(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
}

const last = () => {
  const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  if (!ws) throw new Error("no socket");
  return ws;
};

let token: string | null = "tok-1";
let ids = 0;
const refresh = vi.fn(async () => {
  token = "tok-2";
  return true;
});

function client() {
  return new ChatClient({
    url: (t) => `ws://test/api/v1/chat/ws?access_token=${t}`,
    accessToken: () => token,
    refresh,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    newId: () => `cid-${++ids}`,
  });
}

beforeEach(() => {
  FakeWebSocket.instances = [];
  token = "tok-1";
  ids = 0;
  refresh.mockClear();
  vi.useFakeTimers();
  vi.stubGlobal("WebSocket", FakeWebSocket);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("chat client", () => {
  it("connects with the access token when someone listens and sends frames as JSON", () => {
    const c = client();
    expect(FakeWebSocket.instances).toHaveLength(0);
    const events: ConversationEvent[] = [];
    c.subscribe("conv-1", (e) => events.push(e));
    const ws = last();
    expect(ws.url).toBe("ws://test/api/v1/chat/ws?access_token=tok-1");
    ws.open();

    c.send("conv-1", "hello");
    c.typing("conv-1");
    c.typing("conv-1"); // throttled
    c.read("conv-1", "m-1");
    expect(ws.frames()).toEqual([
      { type: "message", conversation_id: "conv-1", client_id: "cid-1", text: "hello" },
      { type: "typing", conversation_id: "conv-1" },
      { type: "read", conversation_id: "conv-1", message_id: "m-1" },
    ]);
    expect(c.pending("conv-1").map((p) => p.client_id)).toEqual(["cid-1"]);

    // The echo acknowledges it and reaches the conversation's listeners.
    ws.receive({ type: "message", id: "m-2", conversation_id: "conv-1", seq: 2, sender_id: "u1", client_id: "cid-1", kind: "text", text: "hello", created_at: "2026-01-01T00:00:00Z" });
    expect(c.pending("conv-1")).toEqual([]);
    expect(events.some((e) => e.type === "message" && e.id === "m-2")).toBe(true);

    // Typing frames resume after the throttle window.
    vi.advanceTimersByTime(2100);
    c.typing("conv-1");
    expect(ws.frames().filter((f) => f.type === "typing")).toHaveLength(2);
  });

  it("queues messages while closed and flushes them on open with the same client_id", () => {
    const c = client();
    c.subscribe("conv-1", () => {});
    const ws = last();
    const id1 = c.send("conv-1", "first");
    const id2 = c.send("conv-1", "second");
    expect(ws.sent).toEqual([]);
    ws.open();
    expect(ws.frames()).toEqual([
      { type: "message", conversation_id: "conv-1", client_id: id1, text: "first" },
      { type: "message", conversation_id: "conv-1", client_id: id2, text: "second" },
    ]);
  });

  it("reconnects after a close, resends unacknowledged messages with their client_id, and reports the reconnect", async () => {
    const c = client();
    const statuses: [Status, boolean][] = [];
    c.onStatus((s, r) => statuses.push([s, r]));
    c.subscribe("conv-1", () => {});
    const ws1 = last();
    ws1.open();
    const id = c.send("conv-1", "are you there?");
    expect(ws1.frames()).toHaveLength(1);

    ws1.drop();
    expect(c.getStatus()).toBe("closed");
    c.send("conv-1", "sent while down");
    expect(FakeWebSocket.instances).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(100);
    expect(FakeWebSocket.instances).toHaveLength(2);
    const ws2 = last();
    expect(refresh).not.toHaveBeenCalled(); // it had opened: not an auth problem
    ws2.open();
    expect(ws2.frames().map((f) => [f.client_id, f.text])).toEqual([
      [id, "are you there?"],
      ["cid-2", "sent while down"],
    ]);
    expect(statuses).toContainEqual(["open", true]);
  });

  it("refreshes the token when the upgrade is refused, and backs off", async () => {
    const c = client();
    c.subscribe("conv-1", () => {});
    last().drop(); // never opened: maybe an expired access token
    await vi.advanceTimersByTimeAsync(100);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(last().url).toContain("access_token=tok-2");
    last().drop();
    // Second failure: no new refresh, a longer wait.
    await vi.advanceTimersByTimeAsync(150);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("closes when the last listener leaves and on close()", () => {
    const c = client();
    const off = c.subscribe("conv-1", () => {});
    const ws = last();
    ws.open();
    off();
    expect(ws.readyState).toBe(FakeWebSocket.CLOSED);
    expect(c.getStatus()).toBe("idle");
  });

  it("marks a message failed on an error frame with its client_id, and retries it", () => {
    const c = client();
    c.subscribe("conv-1", () => {});
    const ws = last();
    ws.open();
    const id = c.send("conv-1", "hi");
    ws.receive({ type: "error", code: "rate_limited", message: "too many messages; slow down", client_id: id });
    expect(c.pending("conv-1")[0]?.failed?.code).toBe("rate_limited");
    c.retry(id);
    expect(ws.frames().filter((f) => f.client_id === id)).toHaveLength(2);
  });

  it("parses only known frames", () => {
    expect(parseFrame("nope")).toBeNull();
    expect(parseFrame(JSON.stringify({ type: "what" }))).toBeNull();
    expect(parseFrame(JSON.stringify({ type: "presence", user_id: "u", online: true }))).toEqual({ type: "presence", user_id: "u", online: true });
  });
});
