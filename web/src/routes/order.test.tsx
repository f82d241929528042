import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "../queryClient";
import { router } from "../router";
import { setTokens } from "../api/session";

// The header's bell and the support chat are other pages' concerns: stubbed
// so these tests see only the order page's traffic (the live status still
// goes through the real shared SSE client, ../live/notifications).
vi.mock("./Notifications", () => ({ NotificationsBell: () => null }));
vi.mock("./Chat", () => ({ SupportChat: () => null }));

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: "about:blank", title: code, status, code, ...extra }, "application/problem+json");

const baseOrder = {
  id: "o1",
  user_id: "u1",
  status: "pending_payment",
  address: { id: "", is_default: false, label: "Ada Lovelace", line1: "1 Main St", line2: "", city: "Springfield", region: "", postal_code: "12345", country: "US", phone: "" },
  courier: "express",
  payment: { gateway: "test", intent_id: "pi_1", client_secret: "cs_1", payment_id: "pay_1" },
  currency: "USD",
  items: [{ product_id: "p1", sku: "M1", name: "Blue Mug", unit_price: 1250, quantity: 2, line_total: 2500, weight_grams: 300 }],
  subtotal: 2500,
  discount: 0,
  shipping_cost: 1500,
  total: 4000,
  refunded_amount: 0,
  paid_at: null,
  promo_code: null,
  checkout_session_id: "s1",
  expires_at: "2026-01-01T01:00:00Z",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

const events = [
  { id: 1, type: "stock_reserved", detail: {}, created_at: "2026-01-01T00:00:00Z" },
  { id: 2, type: "placed", detail: {}, created_at: "2026-01-01T00:00:01Z" },
];

type Handler = (r: Request) => Response | Promise<Response> | undefined;

interface Stub {
  calls: Request[];
  status: string;
  stream?: ReadableStream<Uint8Array>;
}

function stubApi(st: Stub, handler: Handler = () => undefined) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      st.calls.push(r.clone());
      const p = new URL(r.url).pathname;
      const own = await handler(r);
      if (own) return own;
      if (p === "/api/v1/orders/o1") return json(200, { ...baseOrder, status: st.status, paid_at: st.status === "paid" ? "2026-01-01T00:10:00Z" : null });
      if (p === "/api/v1/orders/o1/events") return json(200, { items: events, next_cursor: null });
      if (p === "/api/v1/cart") return json(200, { id: "c", items: [], subtotal: 0, discount: 0, total: 0, promo_code: null, promo_error: null, currency: "USD" });
      if (p === "/api/v1/notifications/stream" && st.stream)
        return new Response(st.stream, { status: 200, headers: { "Content-Type": "text/event-stream" } });
      return problem(404, "not_found");
    }),
  );
}

async function renderOrder() {
  setTokens({ accessToken: "a", refreshToken: "r" });
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await act(async () => {
    await router.navigate({ href: "/orders/o1" });
  });
}

const posts = (calls: Request[], path: string) => calls.filter((r) => r.method === "POST" && new URL(r.url).pathname === path);

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("order page", () => {
  it("shows Preparing once the shipment is booked with the carrier", async () => {
    stubApi({ calls: [], status: "fulfilling" }, (r) =>
      new URL(r.url).pathname === "/api/v1/orders/o1/fulfillment"
        ? json(200, { id: "f1", order_id: "o1", status: "in_progress", courier: "standard", tracking_id: "TRK1", eta: "2026-01-05", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" })
        : undefined,
    );
    await renderOrder();
    await waitFor(async () => expect((await screen.findByRole("status", { name: "Order status" })).textContent).toBe("Preparing"));
  });

  it.each([
    ["pending_payment", "Awaiting payment"],
    ["paid", "Paid"],
    ["fulfilling", "Paid"], // shipment created, not yet booked with the carrier
    ["shipped", "Shipped"],
    ["delivered", "Delivered"],
    ["canceled", "Canceled"],
    ["expired", "Expired"],
    ["refunded", "Refunded"],
  ])("shows status %s as %s", async (status, label) => {
    stubApi({ calls: [], status });
    await renderOrder();
    const el = await screen.findByRole("status", { name: "Order status" });
    expect(el.textContent).toBe(label);
    const pending = status === "pending_payment";
    expect(!!screen.queryByRole("button", { name: "Pay" })).toBe(pending);
    expect(!!screen.queryByRole("button", { name: "Cancel order" })).toBe(pending);
  });

  it("shows items, totals, address and the timeline", async () => {
    stubApi({ calls: [], status: "pending_payment" });
    await renderOrder();
    await screen.findByRole("status", { name: "Order status" });
    expect(screen.getByText("Blue Mug")).toBeTruthy();
    expect(screen.getByText("$40.00")).toBeTruthy();
    expect(screen.getByText("$15.00")).toBeTruthy();
    expect(screen.getByText("1 Main St")).toBeTruthy();
    expect(screen.getByText(/Pay by/)).toBeTruthy();
    const history = await screen.findByRole("list", { name: "Order history" });
    expect(history.textContent).toContain("Items reserved");
    expect(history.textContent).toContain("Order placed");
  });

  it("pays with a test card, spaces stripped", async () => {
    const st: Stub = { calls: [], status: "pending_payment" };
    stubApi(st, (r) => (new URL(r.url).pathname === "/api/v1/payments/test/confirm" ? json(200, { intent_id: "pi_1", status: "succeeded" }) : undefined));
    await renderOrder();
    const card = await screen.findByLabelText("Card number");
    expect(card.getAttribute("inputmode")).toBe("numeric");
    expect(card.getAttribute("autocomplete")).toBe("cc-number");
    expect(screen.getByText(/4242 4242 4242 4242 succeeds/)).toBeTruthy();
    fireEvent.change(card, { target: { value: "4242 4242 4242 4242" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Pay" }));
    });
    expect(await screen.findByText("Payment received; confirming…")).toBeTruthy();
    const sent = posts(st.calls, "/api/v1/payments/test/confirm");
    expect(sent).toHaveLength(1);
    expect(await sent[0]!.json()).toEqual({ intent_id: "pi_1", card_number: "4242424242424242" });
  });

  it("shows a declined card as an alert and keeps the form", async () => {
    const st: Stub = { calls: [], status: "pending_payment" };
    stubApi(st, (r) =>
      new URL(r.url).pathname === "/api/v1/payments/test/confirm" ? problem(402, "card_declined", { title: "Payment required", detail: "card declined" }) : undefined,
    );
    await renderOrder();
    const card = await screen.findByLabelText("Card number");
    fireEvent.change(card, { target: { value: "4000 0000 0000 0002" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Pay" }));
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Your card was declined.");
    expect(screen.getByLabelText("Card number")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Pay" })).toBeTruthy();
    expect(screen.getByRole("status", { name: "Order status" }).textContent).toBe("Awaiting payment");
  });

  it("validates the card number before calling the API", async () => {
    const st: Stub = { calls: [], status: "pending_payment" };
    stubApi(st);
    await renderOrder();
    await screen.findByLabelText("Card number");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Pay" }));
    });
    expect(await screen.findByText("Enter a card number.")).toBeTruthy();
    expect(posts(st.calls, "/api/v1/payments/test/confirm")).toHaveLength(0);
  });

  it("an order_paid notification on the live stream turns the status to Paid without a reload", async () => {
    let push: (s: string) => void = () => undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        const enc = new TextEncoder();
        push = (s) => c.enqueue(enc.encode(s));
      },
    });
    const st: Stub = { calls: [], status: "pending_payment", stream };
    stubApi(st);
    await renderOrder();
    const status = await screen.findByRole("status", { name: "Order status" });
    expect(status.textContent).toBe("Awaiting payment");
    await waitFor(() => expect(st.calls.some((r) => new URL(r.url).pathname === "/api/v1/notifications/stream")).toBe(true));
    const orderGets = () => st.calls.filter((r) => r.method === "GET" && new URL(r.url).pathname === "/api/v1/orders/o1").length;
    const before = orderGets();

    st.status = "paid";
    const n = { id: "n1", seq: 1, kind: "order_paid", title: "Payment received", body: "Thanks", read_at: null, created_at: "2026-01-01T00:10:00Z" };
    await act(async () => {
      push(`id: 1\nevent: order_paid\ndata: ${JSON.stringify(n)}\n\n`);
    });
    await waitFor(() => expect(screen.getByRole("status", { name: "Order status" }).textContent).toBe("Paid"));
    expect(orderGets()).toBeGreaterThan(before);
    expect(screen.queryByRole("button", { name: "Pay" })).toBeNull();
  });

  it("cancels a pending order after confirmation", async () => {
    const st: Stub = { calls: [], status: "pending_payment" };
    stubApi(st, (r) => {
      if (new URL(r.url).pathname === "/api/v1/orders/o1/cancel") {
        st.status = "canceled";
        return json(200, { ...baseOrder, status: "canceled" });
      }
      return undefined;
    });
    vi.stubGlobal("confirm", () => true);
    await renderOrder();
    await act(async () => {
      fireEvent.click(await screen.findByRole("button", { name: "Cancel order" }));
    });
    await waitFor(() => expect(screen.getByRole("status", { name: "Order status" }).textContent).toBe("Canceled"));
    expect(posts(st.calls, "/api/v1/orders/o1/cancel")).toHaveLength(1);
  });

  it("Stripe without a publishable key says card payments are not configured", async () => {
    stubApi({ calls: [], status: "pending_payment" }, (r) =>
      new URL(r.url).pathname === "/api/v1/orders/o1" ? json(200, { ...baseOrder, payment: { ...baseOrder.payment, gateway: "stripe" } }) : undefined,
    );
    await renderOrder();
    expect((await screen.findByRole("alert")).textContent).toBe("Card payments are not configured for this shop.");
  });
});

describe("orders page", () => {
  it("lists orders with status, total and a named Cancel, and pages with More orders", async () => {
    const st: Stub = { calls: [], status: "pending_payment" };
    const second = { ...baseOrder, id: "00000000-0000-0000-0000-0000abcdef12", status: "delivered", total: 999 };
    stubApi(st, (r) => {
      const u = new URL(r.url);
      if (u.pathname !== "/api/v1/orders") return undefined;
      if (u.searchParams.get("cursor") === "next") return json(200, { items: [second], next_cursor: null });
      return json(200, { items: [{ ...baseOrder, id: "00000000-0000-0000-0000-000012345678" }], next_cursor: "next" });
    });
    setTokens({ accessToken: "a", refreshToken: "r" });
    render(
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    );
    await act(async () => {
      await router.navigate({ href: "/orders" });
    });
    expect(await screen.findByRole("button", { name: "Cancel order 12345678" })).toBeTruthy();
    expect(screen.getByText("Awaiting payment")).toBeTruthy();
    expect(screen.getByText("$40.00")).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "More orders" }));
    });
    expect(await screen.findByText("Delivered")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Order abcdef12" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel order abcdef12" })).toBeNull();
    expect(screen.queryByRole("button", { name: "More orders" })).toBeNull();
  });
});
