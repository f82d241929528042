import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { setTokens } from "../api/session";
import { NotificationsBell } from "./Notifications";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const note = (id: string, seq: number, read: boolean) => ({
  id,
  seq,
  kind: "order_paid",
  title: `Title ${id}`,
  body: `Body ${id}`,
  read_at: read ? "2026-01-01T00:00:00Z" : null,
  created_at: "2026-01-01T00:00:00Z",
});

function setup() {
  let push: ((chunk: string) => void) | null = null;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const enc = new TextEncoder();
      push = (chunk) => controller.enqueue(enc.encode(chunk));
    },
  });
  const calls: { method: string; path: string }[] = [];
  const read = new Set<string>(["n3"]);
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
    const path = new URL(req.url).pathname;
    calls.push({ method: req.method, path });
    if (path === "/api/v1/notifications/stream") return new Response(stream, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    if (path === "/api/v1/notifications" && req.method === "GET") {
      const ids = ["n1", "n2", "n3"];
      return json(200, { items: ids.map((id, i) => note(id, i + 1, read.has(id))), next_cursor: null, unread: ids.filter((id) => !read.has(id)).length });
    }
    const m = /^\/api\/v1\/notifications\/([^/]+)\/read$/.exec(path);
    if (m && req.method === "POST") {
      read.add(m[1] ?? "");
      return new Response(null, { status: 204 });
    }
    return json(404, { type: "about:blank", title: "Not found", status: 404, code: "not_found" });
  });
  vi.stubGlobal("fetch", fetchMock);
  setTokens({ accessToken: "a", refreshToken: "r" });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <NotificationsBell />
    </QueryClientProvider>,
  );
  return { calls, push: (s: string) => push?.(s) };
}

afterEach(() => {
  cleanup();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("notifications bell", () => {
  it("shows the unread count, rises live on a pushed notification, and marks all read", async () => {
    const { calls, push } = setup();
    expect(await screen.findByRole("button", { name: "Notifications (2 unread)" })).toBeTruthy();
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/notifications/stream")).toBe(true));

    await act(async () => {
      push(`id: 5\nevent: order_paid\ndata: ${JSON.stringify(note("n5", 5, false))}\n\n`);
    });
    expect(await screen.findByRole("button", { name: "Notifications (3 unread)" })).toBeTruthy();
    // The same notification again (a resumed stream) is not counted twice.
    await act(async () => {
      push(`id: 5\nevent: order_paid\ndata: ${JSON.stringify(note("n5", 5, false))}\n\n`);
    });
    expect(screen.getByRole("button", { name: "Notifications (3 unread)" })).toBeTruthy();
    expect(calls.filter((c) => c.method === "GET" && c.path === "/api/v1/notifications")).toHaveLength(1);

    fireEvent.click(screen.getByRole("button", { name: /^Notifications/ }));
    expect(screen.getByText("Title n5")).toBeTruthy();
    expect(screen.getByText("Body n1")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Mark all read" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST").map((c) => c.path).sort()).toEqual([
      "/api/v1/notifications/n1/read",
      "/api/v1/notifications/n2/read",
      "/api/v1/notifications/n5/read",
    ]));
    expect(await screen.findByRole("button", { name: "Notifications" })).toBeTruthy();
  });

  it("clicking an unread notification marks it read", async () => {
    const { calls } = setup();
    fireEvent.click(await screen.findByRole("button", { name: "Notifications (2 unread)" }));
    fireEvent.click(await screen.findByRole("button", { name: /Title n1/ }));
    expect(await screen.findByRole("button", { name: "Notifications (1 unread)" })).toBeTruthy();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/notifications/n1/read")).toBe(true);
  });
});

// The support chat lives in the header's neighbourhood too: its panel
// against a fake WebSocket.
class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  receive(v: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(v) }));
  }
}

describe("support chat", () => {
  it("creates the support conversation on the first send and shows live messages, typing and Seen", async () => {
    FakeWebSocket.instances = [];
    vi.stubGlobal("WebSocket", FakeWebSocket);
    const conv = {
      id: "c1", kind: "support", title: "Support", status: "open", created_by: "u1", created_at: "2026-01-01T00:00:00Z",
      unread: 0, assigned: false, last_message_at: null, last_seq: 0, participants: [{ user_id: "u1", role: "customer", last_read_seq: 0 }],
    };
    const calls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
        const path = new URL(req.url).pathname;
        calls.push(`${req.method} ${path}`);
        if (path === "/api/v1/me") return json(200, { id: "u1", email: "a@example.com", name: "Ann", role: "customer", status: "active", created_at: "2026-01-01T00:00:00Z" });
        if (path === "/api/v1/chat/conversations" && req.method === "GET") return json(200, { items: [] });
        if (path === "/api/v1/chat/conversations" && req.method === "POST") return json(201, conv);
        if (path === "/api/v1/chat/conversations/c1/messages") return json(200, { items: [], next_cursor: null });
        return json(404, { type: "about:blank", title: "Not found", status: 404, code: "not_found" });
      }),
    );
    setTokens({ accessToken: "a", refreshToken: "r" });
    const { SupportChat } = await import("./Chat");
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <SupportChat />
      </QueryClientProvider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Support" }));
    const log = await screen.findByRole("log", { name: "Conversation" });
    const box = await screen.findByRole("textbox", { name: "Message" });

    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByText("Enter a message")).toBeTruthy();

    fireEvent.change(box, { target: { value: "hello" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send" }));
    });
    await waitFor(() => expect(calls).toContain("POST /api/v1/chat/conversations"));
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1]!;
    expect(ws.url).toBe(`ws://${location.host}/api/v1/chat/ws?access_token=a`);
    await waitFor(() => expect(log.textContent).toContain("Sending…"));
    act(() => ws.open());
    const sent = ws.sent.find((f) => f.type === "message");
    expect(sent).toMatchObject({ conversation_id: "c1", text: "hello" });

    act(() =>
      ws.receive({ type: "message", id: "m1", conversation_id: "c1", seq: 1, sender_id: "u1", client_id: sent?.client_id, kind: "text", text: "hello", created_at: "2026-01-01T10:00:00Z" }),
    );
    await waitFor(() => expect(log.textContent).not.toContain("Sending…"));
    expect(log.textContent).toContain("hello");

    act(() => ws.receive({ type: "typing", id: "t1", conversation_id: "c1", sender_id: "u2", created_at: "2026-01-01T10:00:01Z" }));
    expect(await screen.findByText(/is typing…/)).toBeTruthy();

    act(() => ws.receive({ type: "message", id: "m2", conversation_id: "c1", seq: 2, sender_id: "u2", client_id: "x", kind: "text", text: "How can I help?", created_at: "2026-01-01T10:00:02Z" }));
    await waitFor(() => expect(log.textContent).toContain("How can I help?"));
    expect(screen.queryByText(/is typing…/)).toBeNull();
    // The open panel tells the other side it was seen.
    await waitFor(() => expect(ws.sent).toContainEqual({ type: "read", conversation_id: "c1", message_id: "m2" }));

    act(() => ws.receive({ type: "message", id: "m3", conversation_id: "c1", seq: 3, sender_id: "u1", client_id: "y", kind: "text", text: "My order", created_at: "2026-01-01T10:00:03Z" }));
    expect(log.textContent).not.toContain("Seen");
    act(() => ws.receive({ type: "read", id: "r1", conversation_id: "c1", sender_id: "u2", message_id: "m3", seq: 3, created_at: "2026-01-01T10:00:04Z" }));
    await waitFor(() => expect(log.textContent).toContain("Seen"));
  });
});
