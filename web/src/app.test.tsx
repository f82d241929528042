import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "./queryClient";
import { router } from "./router";
import { setTokens } from "./api/session";

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

const product = {
  id: "p1", name: "Blue Mug", price: 1250, currency: "USD", brand: "Acme", category: "kitchen", sku: "M1",
  description: "A mug.", images: [], attributes: {}, status: "active", version: 1, weight_grams: 300,
  created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", stock: { available: 3, on_hand: 3, reserved: 0 },
};

function stubApi() {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (r: Request) => {
      const u = new URL(r.url);
      if (u.pathname === "/api/v1/search")
        return json(200, { hits: [product], total: 1, facets: { category: { kitchen: 1 }, brand: { Acme: 1 }, price: {} }, next_cursor: null, took_ms: 1 });
      if (u.pathname === "/api/v1/products/p1") return json(200, product);
      if (u.pathname === "/api/v1/auth/login")
        return json(422, { type: "about:blank", title: "Validation failed", status: 422, code: "validation", errors: [{ field: "email", message: "must be an email address" }] }, "application/problem+json");
      return json(404, { type: "about:blank", title: "Not found", status: 404, code: "not_found" }, "application/problem+json");
    }),
  );
}

async function renderAt(path: string) {
  stubApi();
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await act(async () => {
    await router.navigate({ href: path });
  });
}

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("storefront", () => {
  it("has the header contract and product cards on the home page", async () => {
    await renderAt("/");
    expect(await screen.findByRole("searchbox", { name: "Search products" })).toBeTruthy();
    expect(screen.getByRole("link", { name: /^Cart/ })).toBeTruthy();
    const card = await screen.findByRole("article", { name: "Blue Mug" });
    expect(card.textContent).toContain("$12.50");
    expect(screen.getByRole("link", { name: /kitchen/ })).toBeTruthy();
  });

  it("searching navigates to /search?q=", async () => {
    await renderAt("/");
    const box = await screen.findByRole("searchbox", { name: "Search products" });
    fireEvent.change(box, { target: { value: "mug" } });
    await act(async () => {
      fireEvent.submit(box.closest("form")!);
    });
    expect(router.state.location.pathname).toBe("/search");
    expect(router.state.location.search).toEqual({ q: "mug" });
    expect(await screen.findByRole("heading", { name: /Results for/ })).toBeTruthy();
    expect(screen.getByRole("combobox", { name: "Sort by" })).toBeTruthy();
  });

  it("product page: Add to cart without a session goes to sign-in", async () => {
    await renderAt("/products/p1");
    expect(await screen.findByRole("heading", { name: "Blue Mug" })).toBeTruthy();
    expect(screen.getByRole("spinbutton", { name: "Quantity" })).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Add to cart" }));
    });
    expect(router.state.location.pathname).toBe("/login");
    expect(router.state.location.search).toEqual({ redirect: "/products/p1" });
  });

  it("login shows problem+json field errors next to the field", async () => {
    await renderAt("/login");
    const email = await screen.findByLabelText("Email");
    fireEvent.change(email, { target: { value: "nope@example" + ".io" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("must be an email address")).toBeTruthy();
    expect(email.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert")).toBeTruthy();
  });

  it("login validates on the client first: no request for an empty or malformed email", async () => {
    await renderAt("/login");
    const calls = () => (globalThis.fetch as unknown as { mock: { calls: unknown[][] } }).mock.calls.filter(([r]) => new URL((r as Request).url).pathname === "/api/v1/auth/login").length;
    fireEvent.click(await screen.findByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Email is required.")).toBeTruthy();
    expect(screen.getByText("Password is required.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "nope" } });
    fireEvent.blur(screen.getByLabelText("Email"));
    expect(await screen.findByText(/Enter an email address/)).toBeTruthy();
    expect(calls()).toBe(0);
  });

  it("register: a short password is refused before any request", async () => {
    await renderAt("/register");
    fireEvent.change(await screen.findByLabelText("Name"), { target: { value: "Ada" } });
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@example.io" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("Password must be at least 8 characters.")).toBeTruthy();
  });

  it("cart without a session redirects to /login", async () => {
    await renderAt("/cart");
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
    expect(router.state.location.pathname).toBe("/login");
  });
});
