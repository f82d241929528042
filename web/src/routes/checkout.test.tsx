import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "../queryClient";
import { router } from "../router";
import { setTokens } from "../api/session";

// The header's bell and the support chat are other pages' concerns (and
// their own tests'): stubbed so these tests see only checkout traffic.
vi.mock("./Notifications", () => ({ NotificationsBell: () => null }));
vi.mock("./Chat", () => ({ SupportChat: () => null }));

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: "about:blank", title: code, status, code, ...extra }, "application/problem+json");

const cart = {
  id: "c1",
  items: [{ product_id: "11111111-1111-1111-1111-111111111111", name: "Blue Mug", unit_price: 1250, quantity: 2, line_total: 2500, available: 5, flags: [] }],
  subtotal: 2500,
  discount: 0,
  total: 2500,
  promo_code: null,
  promo_error: null,
  currency: "USD",
};

const address = { label: "Ada Lovelace", line1: "1 Main St", line2: "", city: "Springfield", region: "", postal_code: "12345", country: "US", phone: "" };

const session = {
  checkout_session_id: "22222222-2222-2222-2222-222222222222",
  status: "pending",
  items: [],
  subtotal: 2500,
  discount: 0,
  shipping_cost: 500,
  total: 3000,
  currency: "USD",
  courier: "standard",
  payment_gateway: "test",
  promo_code: null,
  address: { ...address, id: "", is_default: false },
  eta_days: 3,
  order_id: null,
  expires_at: "2026-01-01T01:00:00Z",
  created_at: "2026-01-01T00:00:00Z",
};

const order = {
  id: "o1",
  user_id: "u1",
  status: "pending_payment",
  address: { ...address, id: "", is_default: false },
  courier: "standard",
  payment: { gateway: "test", intent_id: "pi_1", client_secret: "cs_1", payment_id: "pay_1" },
  currency: "USD",
  items: [{ product_id: "11111111-1111-1111-1111-111111111111", sku: "M1", name: "Blue Mug", unit_price: 1250, quantity: 2, line_total: 2500, weight_grams: 300 }],
  subtotal: 2500,
  discount: 0,
  shipping_cost: 500,
  total: 3000,
  refunded_amount: 0,
  paid_at: null,
  promo_code: null,
  checkout_session_id: session.checkout_session_id,
  expires_at: "2026-01-01T01:00:00Z",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

type Handler = (r: Request) => Response | Promise<Response> | undefined;

// stubApi answers the API from handler (then common defaults) and records
// every request.
function stubApi(handler: Handler) {
  const calls: Request[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      calls.push(r.clone());
      const u = new URL(r.url);
      const own = await handler(r);
      if (own) return own;
      if (u.pathname === "/api/v1/cart") return json(200, cart);
      if (u.pathname === "/api/v1/me/addresses") return json(200, { items: [], next_cursor: null });
      if (u.pathname === "/api/v1/payments/gateways") return json(200, { items: [{ name: "test", display_name: "Test card", test: true }], next_cursor: null });
      if (u.pathname === "/api/v1/shipping/quote") return json(200, { cost: 500, currency: "USD", eta_days: 3, zone: "domestic", courier: "standard" });
      return problem(404, "not_found");
    }),
  );
  return calls;
}

async function renderAt(path: string) {
  setTokens({ accessToken: "a", refreshToken: "r" });
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await act(async () => {
    await router.navigate({ href: path });
  });
}

function fillAddress() {
  const set = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });
  set("Name", address.label);
  set("Address line 1", address.line1);
  set("City", address.city);
  set("Postal code", address.postal_code);
  set("Country", "us");
  set("Phone", "+1 555 123 4567");
}

const posts = (calls: Request[], path: string) => calls.filter((r) => r.method === "POST" && new URL(r.url).pathname === path);

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("checkout", () => {
  it("shows client validation errors for empty required fields and calls no API", async () => {
    const calls = stubApi(() => undefined);
    await renderAt("/checkout");
    const place = await screen.findByRole("button", { name: "Place order" });
    expect(screen.getByRole("radio", { name: "Standard" })).toBeTruthy();
    expect(screen.getByRole("radio", { name: "Express" })).toBeTruthy();
    expect((screen.getByRole("radio", { name: "Test card" }) as HTMLInputElement).checked).toBe(true);
    await act(async () => {
      fireEvent.click(place);
    });
    expect(await screen.findByText("Address line 1 is required.")).toBeTruthy();
    expect(screen.getByText("City is required.")).toBeTruthy();
    expect(screen.getByText("Postal code is required.")).toBeTruthy();
    expect(screen.getByText("Country is required.")).toBeTruthy();
    expect(screen.getByLabelText("City").getAttribute("aria-invalid")).toBe("true");
    expect(posts(calls, "/api/v1/checkout")).toHaveLength(0);
    expect(posts(calls, "/api/v1/orders")).toHaveLength(0);
  });

  it("shows a live shipping quote for the chosen courier", async () => {
    const calls = stubApi((r) => {
      if (new URL(r.url).pathname === "/api/v1/shipping/quote")
        return r
          .clone()
          .json()
          .then((b: { courier: string }) =>
            json(200, b.courier === "express" ? { cost: 1500, currency: "USD", eta_days: 1, zone: "domestic", courier: "express" } : { cost: 500, currency: "USD", eta_days: 3, zone: "domestic", courier: "standard" }),
          );
      return undefined;
    });
    await renderAt("/checkout");
    await screen.findByRole("button", { name: "Place order" });
    fillAddress();
    expect(await screen.findByText("$5.00")).toBeTruthy();
    expect(screen.getByText("$30.00")).toBeTruthy();
    fireEvent.click(screen.getByRole("radio", { name: "Express" }));
    expect(await screen.findByText("$15.00")).toBeTruthy();
    const quotes = posts(calls, "/api/v1/shipping/quote");
    const last = (await quotes[quotes.length - 1]!.json()) as { address: { country: string }; courier: string; items: unknown[] };
    expect(last.address.country).toBe("US");
    expect(last.courier).toBe("express");
    expect(last.items).toEqual([{ product_id: cart.items[0]!.product_id, quantity: 2 }]);
  });

  it("shows a 422 field error next to Postal code", async () => {
    stubApi((r) => {
      if (new URL(r.url).pathname === "/api/v1/checkout")
        return problem(422, "validation", { title: "Validation failed", errors: [{ field: "address.postal_code", message: "is not a valid postal code" }] });
      return undefined;
    });
    await renderAt("/checkout");
    await screen.findByRole("button", { name: "Place order" });
    fillAddress();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    });
    expect(await screen.findByText("is not a valid postal code")).toBeTruthy();
    const postal = screen.getByLabelText("Postal code");
    expect(postal.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(postal.getAttribute("aria-describedby") ?? "")?.textContent).toBe("is not a valid postal code");
    expect(screen.getByRole("alert").textContent).toContain("Please correct");
  });

  it("Place order posts /checkout then /orders with an Idempotency-Key and opens the order", async () => {
    const calls = stubApi((r) => {
      const p = new URL(r.url).pathname;
      if (p === "/api/v1/checkout" && r.method === "POST") return json(201, session);
      if (p === "/api/v1/orders" && r.method === "POST") return json(201, order);
      if (p === "/api/v1/orders/o1") return json(200, order);
      if (p === "/api/v1/orders/o1/events") return json(200, { items: [], next_cursor: null });
      return undefined;
    });
    await renderAt("/checkout");
    await screen.findByRole("button", { name: "Place order" });
    fillAddress();
    fireEvent.click(screen.getByRole("radio", { name: "Express" }));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    });
    await waitFor(() => expect(router.state.location.pathname).toBe("/orders/o1"));

    const co = posts(calls, "/api/v1/checkout");
    expect(co).toHaveLength(1);
    const coBody = (await co[0]!.json()) as { address: Record<string, string>; courier: string; payment_gateway: string };
    expect(coBody.courier).toBe("express");
    expect(coBody.payment_gateway).toBe("test");
    expect(coBody.address).toMatchObject({ label: "Ada Lovelace", line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" });

    const ord = posts(calls, "/api/v1/orders");
    expect(ord).toHaveLength(1);
    expect(ord[0]!.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await ord[0]!.json()).toEqual({ checkout_session_id: session.checkout_session_id });

    expect(await screen.findByRole("status", { name: "Order status" })).toBeTruthy();
  });

  it("uses a saved address by id", async () => {
    const saved = { ...address, id: "a1", is_default: true };
    const calls = stubApi((r) => {
      const p = new URL(r.url).pathname;
      if (p === "/api/v1/me/addresses") return json(200, { items: [saved], next_cursor: null });
      if (p === "/api/v1/checkout") return json(201, session);
      if (p === "/api/v1/orders" && r.method === "POST") return json(201, order);
      return undefined;
    });
    await renderAt("/checkout");
    await screen.findByRole("button", { name: "Place order" });
    expect((screen.getByRole("radio", { name: /1 Main St/ }) as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByLabelText("Address line 1")).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    });
    await waitFor(() => expect(router.state.location.pathname).toBe("/orders/o1"));
    const body = (await posts(calls, "/api/v1/checkout")[0]!.json()) as { address_id?: string; address?: unknown };
    expect(body.address_id).toBe("a1");
    expect(body.address).toBeUndefined();
  });
});
