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
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: "about:blank", title: code, status, code, ...extra }, "application/problem+json");

const promos = [
  {
    id: "pr1",
    code: "TENOFF",
    kind: "percent",
    value: 10,
    currency: null,
    min_subtotal: 0,
    max_uses: 100,
    uses: 3,
    once_per_customer: true,
    starts_at: null,
    ends_at: null,
    active: true,
    created_at: "2026-01-01T00:00:00Z",
  },
  {
    id: "pr2",
    code: "FIVE",
    kind: "fixed",
    value: 500,
    currency: "USD",
    min_subtotal: 2000,
    max_uses: null,
    uses: 7,
    once_per_customer: false,
    starts_at: "2026-01-01T00:00:00Z",
    ends_at: "2026-02-01T00:00:00Z",
    active: false,
    created_at: "2026-01-01T00:00:00Z",
  },
];

function stubApi(calls: Request[]) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
      calls.push(r.clone());
      const p = new URL(r.url).pathname;
      if (p === "/api/v1/admin/promotions" && r.method === "GET") return json(200, { items: promos, next_cursor: null });
      if (p === "/api/v1/admin/promotions" && r.method === "POST") {
        const b = (await r.json()) as Record<string, unknown>;
        return json(201, { ...promos[1], ...b, id: "pr3", uses: 0 });
      }
      if (p === "/api/v1/admin/promotions/pr1" && r.method === "PATCH") return json(200, { ...promos[0], active: false });
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
const type = (name: string, value: string) => {
  const el = screen.getByLabelText(name, { selector: "input, select" });
  fireEvent.change(el, { target: { value } });
  fireEvent.blur(el);
};

afterEach(() => {
  cleanup();
  queryClient.clear();
  setTokens(null);
  vi.unstubAllGlobals();
});

describe("admin promotions", () => {
  it("lists promotions with value, uses and window, and deactivates one", async () => {
    const calls: Request[] = [];
    stubApi(calls);
    await renderAt("/admin/promotions");
    const ten = (await screen.findByRole("rowheader", { name: "TENOFF" }, { timeout: 5000 })).closest("tr")!;
    expect(ten.textContent).toContain("10%");
    expect(ten.textContent).toContain("3 / 100");
    expect(ten.textContent).toContain("Always");
    const five = screen.getByRole("rowheader", { name: "FIVE" }).closest("tr")!;
    expect(five.textContent).toContain("$5.00");
    expect(five.textContent).toContain("7 / ∞");
    expect(five.textContent).toContain("Inactive");
    expect(within(five).getByRole("button", { name: "Activate FIVE" })).toBeTruthy();

    await act(async () => {
      fireEvent.click(within(ten).getByRole("button", { name: "Deactivate TENOFF" }));
    });
    await waitFor(() => expect(sent(calls, "PATCH", "/api/v1/admin/promotions/pr1")).toHaveLength(1));
    expect(await sent(calls, "PATCH", "/api/v1/admin/promotions/pr1")[0]!.json()).toEqual({ active: false });
    expect(await within(ten).findByRole("button", { name: "Activate TENOFF" })).toBeTruthy();
  });

  it("requires a currency for a fixed discount before creating it", async () => {
    const calls: Request[] = [];
    stubApi(calls);
    await renderAt("/admin/promotions");
    await act(async () => {
      fireEvent.click(await screen.findByRole("button", { name: "New promotion" }, { timeout: 5000 }));
    });
    const form = screen.getByRole("form", { name: "New promotion" });
    const create = within(form).getByRole("button", { name: "Create promotion" });

    // Nothing filled in: the code and value are required.
    await act(async () => {
      fireEvent.click(create);
    });
    expect(within(form).getByText("Code is required.")).toBeTruthy();
    expect(within(form).getByText("Value is required.")).toBeTruthy();

    type("Code", "save5");
    type("Kind", "fixed");
    type("Value", "5");
    await act(async () => {
      fireEvent.click(create);
    });
    const currency = screen.getByLabelText("Currency");
    expect(currency.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(currency.getAttribute("aria-describedby")!)!.textContent).toBe("Currency is required for a fixed discount.");
    expect(sent(calls, "POST", "/api/v1/admin/promotions")).toHaveLength(0);

    // A percentage above 100 is refused too.
    type("Kind", "percent");
    type("Value", "150");
    await act(async () => {
      fireEvent.click(create);
    });
    expect(within(form).getByText("Enter a whole percentage from 1 to 100.")).toBeTruthy();
    expect(sent(calls, "POST", "/api/v1/admin/promotions")).toHaveLength(0);

    type("Kind", "fixed");
    type("Value", "5");
    type("Currency", "usd");
    type("Minimum subtotal", "20");
    type("Max uses", "50");
    await act(async () => {
      fireEvent.click(create);
    });
    await waitFor(() => expect(sent(calls, "POST", "/api/v1/admin/promotions")).toHaveLength(1));
    expect(await sent(calls, "POST", "/api/v1/admin/promotions")[0]!.json()).toMatchObject({
      code: "SAVE5",
      kind: "fixed",
      value: 500,
      currency: "USD",
      min_subtotal: 2000,
      max_uses: 50,
      once_per_customer: true,
      active: true,
      starts_at: null,
      ends_at: null,
    });
    expect(await screen.findByText("Created SAVE5.")).toBeTruthy();
  });
});
