import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "../../queryClient";
import { router } from "../../router";
import { setTokens } from "../../api/session";

// The header's bell and the support chat are other pages' concerns.
vi.mock("../Notifications", () => ({ NotificationsBell: () => null }));
vi.mock("../Chat", () => ({ SupportChat: () => null }));

const fakeJwt = "x." + btoa(JSON.stringify({ role: "admin" })).replace(/=+$/, "") + ".y";

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: "about:blank", title: code, status, code, ...extra }, "application/problem+json");

const product = {
  id: "p1",
  sku: "MUG-1",
  name: "Blue Mug",
  description: "A mug.",
  category: "kitchen",
  brand: "Acme",
  attributes: { color: "blue" },
  price: 1250,
  currency: "USD",
  images: ["https://img.example/mug.jpg"],
  status: "active",
  version: 3,
  weight_grams: 300,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  stock: { on_hand: 10, reserved: 2, available: 8 },
};

type Handler = (r: Request, path: string) => Response | Promise<Response> | undefined;

function stubApi(calls: Request[], handler: Handler) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      calls.push(r.clone());
      const p = new URL(r.url).pathname;
      const own = await handler(r, p);
      if (own) return own;
      return problem(404, "not_found");
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
const field = (name: string) => screen.getByLabelText(name, { selector: "input, textarea, select" });
const type = (name: string, value: string) => {
  const el = field(name);
  fireEvent.change(el, { target: { value } });
  fireEvent.blur(el);
};

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("admin products list", () => {
  it("lists products with price, stock and status and links to each", async () => {
    const calls: Request[] = [];
    stubApi(calls, (_r, p) => (p === "/api/v1/products" ? json(200, { items: [product, { ...product, id: "p2", sku: "OLD-1", name: "Old Mug", status: "archived" }], next_cursor: null }) : undefined));
    await renderAt("/admin/products");
    const link = await screen.findByRole("link", { name: "Blue Mug" }, { timeout: 5000 });
    expect(link.getAttribute("href")).toBe("/admin/products/p1");
    const row = link.closest("tr")!;
    expect(row.textContent).toContain("MUG-1");
    expect(row.textContent).toContain("$12.50");
    expect(row.textContent).toContain("8");
    expect(screen.getByRole("link", { name: "Old Mug" }).closest("tr")!.textContent).toContain("Archived");
    expect(new URL(sent(calls, "GET", "/api/v1/products")[0]!.url).searchParams.get("status")).toBe("all");

    fireEvent.change(screen.getByRole("searchbox", { name: "Search" }), { target: { value: "old" } });
    expect(screen.queryByRole("link", { name: "Blue Mug" })).toBeNull();
    expect(screen.getByRole("link", { name: "Old Mug" })).toBeTruthy();

    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "New product" }));
    });
    await waitFor(() => expect(router.state.location.pathname).toBe("/admin/products/new"));
  });
});

describe("admin product form", () => {
  it("validates before sending: required fields, the price for the currency, image URLs", async () => {
    const calls: Request[] = [];
    stubApi(calls, () => undefined);
    await renderAt("/admin/products/new");
    const save = await screen.findByRole("button", { name: "Save" }, { timeout: 5000 });
    await act(async () => {
      fireEvent.click(save);
    });
    expect(await screen.findByText("SKU is required.")).toBeTruthy();
    expect(screen.getByText("Name is required.")).toBeTruthy();
    expect(screen.getByText("Category is required.")).toBeTruthy();
    expect(screen.getByText("Price is required.")).toBeTruthy();
    // The message is tied to its input.
    const sku = field("SKU");
    expect(sku.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(sku.getAttribute("aria-describedby")!)!.textContent).toBe("SKU is required.");

    type("SKU", "bad sku!");
    type("Name", "Red Mug");
    type("Category", "kitchen");
    type("Price", "12.345");
    type("Image URLs", "https://img.example/a.jpg\nftp://img.example/b.jpg");
    type("Initial stock", "-1");
    await act(async () => {
      fireEvent.click(save);
    });
    expect(screen.getByText(/letters, digits/)).toBeTruthy();
    expect(screen.getByText(/Enter price in USD like 19.99/)).toBeTruthy();
    expect(screen.getByText("Line 2 is not an http(s) URL.")).toBeTruthy();
    expect(screen.getByText("Initial stock must be between 0 and 1000000000.")).toBeTruthy();

    // JPY has no minor digits.
    type("Currency", "JPY");
    type("Price", "1250.5");
    await act(async () => {
      fireEvent.click(save);
    });
    expect(screen.getByText(/Enter price in JPY like 1999/)).toBeTruthy();
    expect(sent(calls, "POST", "/api/v1/admin/products")).toHaveLength(0);
  });

  it("creates a product in minor units with its initial stock and opens it", async () => {
    const calls: Request[] = [];
    const created = { ...product, id: "p9", sku: "RED-1", name: "Red Mug", version: 1, images: [] };
    stubApi(calls, (r, p) => {
      if (p === "/api/v1/admin/products" && r.method === "POST") return json(201, created);
      if (p === "/api/v1/products/p9") return json(200, created);
      if (p === "/api/v1/admin/products/p9/stock/ledger") return json(200, { items: [], next_cursor: null });
      return undefined;
    });
    await renderAt("/admin/products/new");
    await screen.findByRole("button", { name: "Save" }, { timeout: 5000 });
    type("SKU", "RED-1");
    type("Name", "Red Mug");
    type("Category", "kitchen");
    type("Brand", "Acme");
    type("Price", "19.9");
    type("Initial stock", "5");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save" }));
    });
    await waitFor(() => expect(router.state.location.pathname).toBe("/admin/products/p9"));
    const [post] = sent(calls, "POST", "/api/v1/admin/products");
    expect(await post!.json()).toMatchObject({ sku: "RED-1", name: "Red Mug", category: "kitchen", price: 1990, currency: "USD", initial_stock: 5, images: [] });
  });

  it("on a version conflict shows what differs and resends only when asked, on the fresh version", async () => {
    const calls: Request[] = [];
    const fresh = { ...product, version: 4, price: 1500, description: "A mug, now bigger.", updated_at: "2026-01-02T00:00:00Z" };
    let gets = 0;
    stubApi(calls, (r, p) => {
      if (p === "/api/v1/products/p1") return json(200, gets++ === 0 ? product : fresh);
      if (p === "/api/v1/admin/products/p1/stock/ledger") return json(200, { items: [], next_cursor: null });
      if (p === "/api/v1/admin/products/p1" && r.method === "PUT") {
        const puts = sent(calls, "PUT", p).length;
        return puts === 1 ? problem(409, "version_conflict", { detail: "the product was changed by someone else" }) : json(200, { ...fresh, name: "Blue Mug XL", version: 5 });
      }
      return undefined;
    });
    await renderAt("/admin/products/p1");
    await waitFor(() => expect((field("Name") as HTMLInputElement).value).toBe("Blue Mug"), { timeout: 5000 });
    expect((field("Price") as HTMLInputElement).value).toBe("12.50");
    type("Name", "Blue Mug XL");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save" }));
    });

    const panel = await screen.findByRole("alert", { name: "Someone else changed this product" });
    const row = (label: string) => within(panel).getByRole("rowheader", { name: label }).closest("tr")!;
    expect(row("Name").textContent).toContain("Blue Mug XL");
    expect(row("Name").textContent).toContain("Blue Mug");
    // The other admin's edits (price, description) are not the admin's
    // to resolve: listed as kept, not offered for overwriting.
    expect(within(panel).queryByRole("rowheader", { name: "Price" })).toBeNull();
    expect(within(panel).queryByRole("rowheader", { name: "SKU" })).toBeNull();
    expect(panel.textContent).toContain("Price (now $15.00)");
    expect(panel.textContent).toContain("Description (now A mug, now bigger.)");

    // The first PUT carried the version read; nothing else was sent.
    const puts = sent(calls, "PUT", "/api/v1/admin/products/p1");
    expect(puts).toHaveLength(1);
    expect(await puts[0]!.json()).toMatchObject({ name: "Blue Mug XL", version: 3, attributes: { color: "blue" } });
    expect(screen.getByRole("button", { name: "Save" }).hasAttribute("disabled")).toBe(true);

    await act(async () => {
      fireEvent.click(within(panel).getByRole("button", { name: "Reapply my changes" }));
    });
    await waitFor(() => expect(sent(calls, "PUT", "/api/v1/admin/products/p1")).toHaveLength(2));
    const again = await sent(calls, "PUT", "/api/v1/admin/products/p1")[1]!.json();
    expect(again).toMatchObject({ name: "Blue Mug XL", price: 1500, description: "A mug, now bigger.", version: 4 });
    await waitFor(() => expect(screen.queryByRole("alert", { name: "Someone else changed this product" })).toBeNull());
    expect(await screen.findByText("Saved (version 5).")).toBeTruthy();
    expect((field("Name") as HTMLInputElement).value).toBe("Blue Mug XL");
    expect((field("Price") as HTMLInputElement).value).toBe("15.00");
  });

  it("Discard my changes loads the current product into the form without sending", async () => {
    const calls: Request[] = [];
    const fresh = { ...product, version: 4, name: "Blue Mug (new)", updated_at: "2026-01-02T00:00:00Z" };
    let gets = 0;
    stubApi(calls, (r, p) => {
      if (p === "/api/v1/products/p1") return json(200, gets++ === 0 ? product : fresh);
      if (p === "/api/v1/admin/products/p1/stock/ledger") return json(200, { items: [], next_cursor: null });
      if (p === "/api/v1/admin/products/p1" && r.method === "PUT") return problem(409, "version_conflict");
      return undefined;
    });
    await renderAt("/admin/products/p1");
    await waitFor(() => expect((field("Name") as HTMLInputElement).value).toBe("Blue Mug"), { timeout: 5000 });
    type("Brand", "Other");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save" }));
    });
    const panel = await screen.findByRole("alert", { name: "Someone else changed this product" });
    expect(within(panel).getByRole("rowheader", { name: "Brand" })).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(panel).getByRole("button", { name: "Discard my changes" }));
    });
    expect((field("Name") as HTMLInputElement).value).toBe("Blue Mug (new)");
    expect((field("Brand") as HTMLInputElement).value).toBe("Acme");
    expect(screen.queryByRole("alert", { name: "Someone else changed this product" })).toBeNull();
    expect(sent(calls, "PUT", "/api/v1/admin/products/p1")).toHaveLength(1);
    expect(screen.getByText(/Version 4/)).toBeTruthy();
  });
});

describe("admin stock", () => {
  it("posts the delta and reason, then shows the new figures and the refreshed ledger", async () => {
    const calls: Request[] = [];
    const first = { id: 1, kind: "adjust", delta_on_hand: 10, delta_reserved: 0, reason: "initial stock", reference: "", created_at: "2026-01-01T00:00:00Z" };
    const second = { id: 2, kind: "adjust", delta_on_hand: -3, delta_reserved: 0, reason: "damaged in storage", reference: "", created_at: "2026-01-02T00:00:00Z" };
    let adjusted = false;
    stubApi(calls, (r, p) => {
      if (p === "/api/v1/products/p1") return json(200, product);
      if (p === "/api/v1/admin/products/p1/stock/ledger") return json(200, { items: adjusted ? [second, first] : [first], next_cursor: null });
      if (p === "/api/v1/admin/products/p1/stock" && r.method === "POST") {
        adjusted = true;
        return json(200, { ...product, stock: { on_hand: 7, reserved: 2, available: 5 } });
      }
      return undefined;
    });
    await renderAt("/admin/products/p1");
    expect(await screen.findByText("initial stock", {}, { timeout: 5000 })).toBeTruthy();
    const onHand = () => within(screen.getByRole("region", { name: "Stock" })).getByText("On hand", { selector: "dt" }).nextElementSibling!.textContent;
    expect(onHand()).toBe("10");

    // Validation first: nothing is sent without a non-zero whole number and a reason.
    type("Stock change", "0");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Adjust stock" }));
    });
    expect(screen.getByText("Stock change must not be 0.")).toBeTruthy();
    expect(screen.getByText("Reason is required.")).toBeTruthy();
    expect(sent(calls, "POST", "/api/v1/admin/products/p1/stock")).toHaveLength(0);

    const ledgerGets = sent(calls, "GET", "/api/v1/admin/products/p1/stock/ledger").length;
    type("Stock change", "-3");
    type("Reason", "damaged in storage");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Adjust stock" }));
    });
    await waitFor(() => expect(sent(calls, "POST", "/api/v1/admin/products/p1/stock")).toHaveLength(1));
    expect(await sent(calls, "POST", "/api/v1/admin/products/p1/stock")[0]!.json()).toEqual({ delta: -3, reason: "damaged in storage" });
    expect(await screen.findByText("damaged in storage")).toBeTruthy();
    expect(sent(calls, "GET", "/api/v1/admin/products/p1/stock/ledger").length).toBeGreaterThan(ledgerGets);
    await waitFor(() => expect(onHand()).toBe("7"));
    expect(within(screen.getByRole("region", { name: "Stock" })).getByText("Available", { selector: "dt" }).nextElementSibling!.textContent).toBe("5");
    expect((field("Stock change") as HTMLInputElement).value).toBe("");
  });
});
