import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
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
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: "about:blank", title: code, status, code, ...extra }, "application/problem+json");

const table = {
  zones: [
    { code: "EU", name: "Europe", countries: ["DE", "FR"], is_default: false },
    { code: "US", name: "United States", countries: ["US"], is_default: false },
    { code: "ROW", name: "Rest of world", countries: [], is_default: true },
  ],
  rates: [
    { zone: "EU", courier: "standard", currency: "EUR", min_weight_grams: 0, max_weight_grams: 1000, cost: 500, eta_days: 3 },
    { zone: "EU", courier: "standard", currency: "EUR", min_weight_grams: 1000, max_weight_grams: 5000, cost: 900, eta_days: 3 },
    { zone: "US", courier: "express", currency: "USD", min_weight_grams: 0, max_weight_grams: 30000, cost: 2500, eta_days: 1 },
  ],
};

type Handler = (r: Request) => Response | Promise<Response> | undefined;

function stubApi(calls: Request[], put: Handler) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      calls.push(r.clone());
      const p = new URL(r.url).pathname;
      if (p === "/api/v1/admin/shipping/rates" && r.method === "GET") return json(200, table);
      if (p === "/api/v1/admin/shipping/rates" && r.method === "PUT") return (await put(r)) ?? problem(500, "internal");
      return problem(404, "not_found");
    }),
  );
}

async function renderShipping() {
  setTokens({ accessToken: fakeJwt, refreshToken: "r" });
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await act(async () => {
    await router.navigate({ href: "/admin/shipping" });
  });
  await screen.findByLabelText("Rate 1 Zone", {}, { timeout: 5000 });
}

const puts = (calls: Request[]) => calls.filter((r) => r.method === "PUT" && new URL(r.url).pathname === "/api/v1/admin/shipping/rates");
const input = (name: string) => screen.getByLabelText(name) as HTMLInputElement;
const errorOf = (el: HTMLElement) => {
  const id = el.getAttribute("aria-describedby");
  return id ? document.getElementById(id)?.textContent : undefined;
};
const save = async () => {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
  });
};

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("admin shipping rates", () => {
  it("shows the table as editable rows, money in major units", async () => {
    stubApi([], () => undefined);
    await renderShipping();
    expect(input("Zone 1 Countries").value).toBe("DE, FR");
    expect((screen.getByLabelText("Zone 3 Default") as HTMLInputElement).checked).toBe(true);
    expect(input("Rate 2 Min weight (g)").value).toBe("1000");
    expect(input("Rate 2 Cost").value).toBe("9.00");
    expect(input("Rate 3 Courier").value).toBe("express");
  });

  it("puts the server's field errors on the offending inputs", async () => {
    const calls: Request[] = [];
    stubApi(calls, () =>
      problem(422, "validation", {
        errors: [
          { field: "rates[1].max_weight_grams", message: "must be at most 1000000000" },
          { field: "zones[1].countries[0]", message: "must be an ISO 3166-1 alpha-2 country code" },
          { field: "zones", message: "at most one zone may be the default" },
        ],
      }),
    );
    await renderShipping();
    await save();
    await waitFor(() => expect(puts(calls)).toHaveLength(1));
    const max = input("Rate 2 Max weight (g)");
    await waitFor(() => expect(max.getAttribute("aria-invalid")).toBe("true"));
    expect(errorOf(max)).toBe("must be at most 1000000000");
    expect(input("Rate 1 Max weight (g)").getAttribute("aria-invalid")).toBeNull();
    const countries = input("Zone 2 Countries");
    expect(countries.getAttribute("aria-invalid")).toBe("true");
    expect(errorOf(countries)).toBe("Country 1: must be an ISO 3166-1 alpha-2 country code");
    // What names no input goes to the alert.
    expect(screen.getByRole("alert").textContent).toContain("at most one zone may be the default");

    // Editing the field clears its message.
    fireEvent.change(max, { target: { value: "6000" } });
    expect(max.getAttribute("aria-invalid")).toBeNull();
  });

  it("catches overlapping weight bands and a country in two zones before sending", async () => {
    const calls: Request[] = [];
    stubApi(calls, async (r) => json(200, await r.json()));
    await renderShipping();

    fireEvent.change(input("Rate 2 Min weight (g)"), { target: { value: "800" } });
    fireEvent.change(input("Zone 2 Countries"), { target: { value: "US, de" } });
    await save();
    const min = input("Rate 2 Min weight (g)");
    expect(min.getAttribute("aria-invalid")).toBe("true");
    expect(errorOf(min)).toBe("Overlaps rate 1 (0–1000 g) for the same zone, courier and currency.");
    expect(errorOf(input("Zone 2 Countries"))).toBe("DE is already in zone EU.");
    expect(screen.getByRole("alert").textContent).toContain("Please correct the errors below.");
    expect(puts(calls)).toHaveLength(0);

    // Another courier's band may overlap: only the same zone, courier and currency count.
    fireEvent.change(input("Rate 2 Courier"), { target: { value: "express" } });
    fireEvent.change(input("Zone 2 Countries"), { target: { value: "US" } });
    // A new rate row, then Save replaces the whole table.
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Add rate" }));
    });
    fireEvent.change(input("Rate 4 Max weight (g)"), { target: { value: "60000" } });
    fireEvent.change(input("Rate 4 Cost"), { target: { value: "40" } });
    await save();
    await waitFor(() => expect(puts(calls)).toHaveLength(1));
    const body = (await puts(calls)[0]!.json()) as typeof table;
    expect(body.zones[1]).toEqual({ code: "US", name: "United States", countries: ["US"], is_default: false });
    expect(body.rates).toHaveLength(4);
    expect(body.rates[1]).toMatchObject({ courier: "express", min_weight_grams: 800, max_weight_grams: 5000, cost: 900 });
    expect(body.rates[3]).toEqual({ zone: "US", courier: "express", currency: "USD", min_weight_grams: 30000, max_weight_grams: 60000, cost: 4000, eta_days: 1 });
    expect(await screen.findByText("Saved the rate table.")).toBeTruthy();
  });
});
