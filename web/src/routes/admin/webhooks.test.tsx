import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "../../queryClient";
import { router } from "../../router";
import { setTokens } from "../../api/session";

vi.mock("../Notifications", () => ({ NotificationsBell: () => null }));
vi.mock("../Chat", () => ({ SupportChat: () => null }));

const fakeJwt = "x." + btoa(JSON.stringify({ role: "admin" })).replace(/=+$/, "") + ".y";

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

const endpoint = {
  id: "w1",
  url: "https://erp.example.com/hook",
  description: "ERP",
  events: ["ordering.order_paid"],
  enabled: true,
  disabled_reason: null,
  failing_since: null,
  previous_secret_expires_at: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};
const delivery = {
  id: "d1",
  endpoint_id: "w1",
  event_id: "ev-1",
  event_type: "ordering.order_paid",
  status: "succeeded",
  attempts: 2,
  next_attempt_at: null,
  replay_of: null,
  created_at: "2026-01-01T00:00:00Z",
  completed_at: "2026-01-01T00:01:00Z",
  log: [
    { attempt: 1, attempted_at: "2026-01-01T00:00:00Z", latency_ms: 12, response_code: 500, response_body: "boom", error: "" },
    { attempt: 2, attempted_at: "2026-01-01T00:01:00Z", latency_ms: 9, response_code: 200, response_body: "", error: "" },
  ],
};

function stubApi(calls: Request[]) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      calls.push(r.clone());
      const p = new URL(r.url).pathname;
      if (p === "/api/v1/admin/webhooks" && r.method === "GET") return json(200, { items: [endpoint], next_cursor: null });
      if (p === "/api/v1/admin/webhooks" && r.method === "POST") {
        const b = (await r.json()) as Record<string, unknown>;
        return json(201, { ...endpoint, ...b, id: "w2", secret: "whsec_shown_once" });
      }
      if (p === "/api/v1/admin/webhooks/w1/deliveries") return json(200, { items: [delivery], next_cursor: null });
      if (p === "/api/v1/admin/webhooks/w1/deliveries/d1/replay") return json(202, { ...delivery, id: "d2", status: "pending", attempts: 0, log: [], replay_of: "d1" });
      return json(404, { type: "about:blank", title: "not_found", status: 404, code: "not_found" }, "application/problem+json");
    }),
  );
}

async function renderAt(href: string) {
  setTokens({ accessToken: fakeJwt, refreshToken: "r" });
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await act(async () => {
    await router.navigate({ href });
  });
}

const sent = (calls: Request[], method: string, path: string) => calls.filter((r) => r.method === method && new URL(r.url).pathname === path);

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("admin webhooks", () => {
  it("registers an endpoint and shows its secret once", async () => {
    const calls: Request[] = [];
    stubApi(calls);
    await renderAt("/admin/webhooks");
    await screen.findByRole("rowheader", { name: /erp\.example\.com/ }, { timeout: 5000 });
    const form = screen.getByRole("form", { name: "Register a webhook" });
    fireEvent.change(within(form).getByLabelText("URL"), { target: { value: "https://wms.example.com/in" } });
    fireEvent.change(within(form).getByLabelText("Events"), { target: { value: "fulfillment.shipped, ordering.order_paid" } });
    await act(async () => {
      fireEvent.click(within(form).getByRole("button", { name: "Register" }));
    });
    await waitFor(() => expect(sent(calls, "POST", "/api/v1/admin/webhooks")).toHaveLength(1));
    expect(await sent(calls, "POST", "/api/v1/admin/webhooks")[0]!.json()).toEqual({
      url: "https://wms.example.com/in",
      events: ["fulfillment.shipped", "ordering.order_paid"],
      description: "",
    });
    expect((await screen.findByText("whsec_shown_once")).tagName).toBe("CODE");
  });

  it("shows the delivery log and replays a delivery", async () => {
    const calls: Request[] = [];
    stubApi(calls);
    await renderAt("/admin/webhooks");
    const row = (await screen.findByRole("rowheader", { name: /erp\.example\.com/ }, { timeout: 5000 })).closest("tr")!;
    await act(async () => {
      fireEvent.click(within(row).getByRole("button", { name: "Deliveries" }));
    });
    // The delivery log opens in a full-width row below the endpoint's.
    const log = await waitFor(() => {
      const next = row.nextElementSibling;
      if (!(next instanceof HTMLElement)) throw new Error("no delivery log row yet");
      return next;
    });
    expect((await within(log).findByText(/500 in 12 ms/)).textContent).toContain("500");
    expect(log.textContent).toContain("succeeded, 2 attempt(s)");
    await act(async () => {
      fireEvent.click(within(log).getByRole("button", { name: "Replay ordering.order_paid" }));
    });
    await waitFor(() => expect(sent(calls, "POST", "/api/v1/admin/webhooks/w1/deliveries/d1/replay")).toHaveLength(1));
  });
});
