import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { queryClient } from "../queryClient";
import { router } from "../router";
import { setTokens } from "../api/session";

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
const problem = (status: number, code: string, title: string, extra: { errors?: { field: string; message: string }[]; detail?: string } = {}) =>
  json(status, { type: "about:blank", title, status, code, ...extra }, "application/problem+json");

const user = { id: "u1", email: "ann@example.com", name: "Ann", role: "customer", status: "active", created_at: "2026-01-01T00:00:00Z" };

type Handler = (req: Request, body: unknown) => Response | undefined;
interface Call {
  method: string;
  path: string;
  body: unknown;
}

function stubApi(handler: Handler): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
      const path = new URL(req.url).pathname;
      const text = req.method === "GET" ? "" : await req.clone().text();
      const body: unknown = text ? JSON.parse(text) : undefined;
      calls.push({ method: req.method, path, body });
      return handler(req, body) ?? problem(404, "not_found", "Not found");
    }),
  );
  return calls;
}

async function renderAt(path: string) {
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

function accountApi(req: Request): Response | undefined {
  const path = new URL(req.url).pathname;
  if (path === "/api/v1/me") return json(200, user);
  if (path === "/api/v1/me/addresses" && req.method === "GET") return json(200, { items: [], next_cursor: null });
  if (path === "/api/v1/me/addresses" && req.method === "POST")
    return problem(422, "validation", "Validation failed", { errors: [{ field: "country", message: "must be an ISO 3166-1 alpha-2 country code" }] });
  return undefined;
}

describe("account page", () => {
  it("address form: empty required fields show errors and send nothing", async () => {
    const calls = stubApi(accountApi);
    setTokens({ accessToken: "a", refreshToken: "r" });
    await renderAt("/account");
    expect(await screen.findByRole("heading", { name: "Your account" })).toBeTruthy();
    expect(await screen.findByLabelText("Name")).toBeTruthy();
    fireEvent.click(await screen.findByRole("button", { name: "Add address" }));
    expect(await screen.findByText("Address line 1 is required")).toBeTruthy();
    expect(screen.getByText("City is required")).toBeTruthy();
    expect(screen.getByText("Postal code is required")).toBeTruthy();
    expect(screen.getByText("Country is required")).toBeTruthy();
    expect(screen.getByLabelText("Address line 1").getAttribute("aria-invalid")).toBe("true");
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.filter((c) => c.method !== "GET")).toEqual([]);
  });

  it("address form: a 422 field error is shown next to its field", async () => {
    const calls = stubApi(accountApi);
    setTokens({ accessToken: "a", refreshToken: "r" });
    await renderAt("/account");
    fireEvent.change(await screen.findByLabelText("Address line 1"), { target: { value: "1 Main St" } });
    fireEvent.change(screen.getByLabelText("City"), { target: { value: "Springfield" } });
    fireEvent.change(screen.getByLabelText("Postal code"), { target: { value: "12345" } });
    fireEvent.change(screen.getByLabelText("Country"), { target: { value: "xx" } });
    fireEvent.change(screen.getByLabelText("Phone"), { target: { value: "+1 555 0100" } });
    fireEvent.click(screen.getByRole("button", { name: "Add address" }));

    expect(await screen.findByText("must be an ISO 3166-1 alpha-2 country code")).toBeTruthy();
    const country = screen.getByLabelText("Country");
    expect(country.getAttribute("aria-invalid")).toBe("true");
    const described = country.getAttribute("aria-describedby");
    expect(described && document.getElementById(described)?.textContent).toBe("must be an ISO 3166-1 alpha-2 country code");
    expect(screen.getByRole("alert").textContent).toContain("Please correct the errors below.");
    const post = calls.find((c) => c.method === "POST" && c.path === "/api/v1/me/addresses");
    expect(post?.body).toMatchObject({ line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "XX", phone: "+1 555 0100", is_default: false });
  });
});

describe("reset password", () => {
  it("without a token says so and links to /forgot-password", async () => {
    stubApi(() => undefined);
    await renderAt("/reset-password");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("missing its token");
    const link = screen.getByRole("link", { name: "request a new reset link" });
    expect(link.getAttribute("href")).toBe("/forgot-password");
  });

  it("sets the new password and links to sign in", async () => {
    const calls = stubApi((req) => (new URL(req.url).pathname === "/api/v1/auth/password/reset" ? json(200, { status: "ok" }) : undefined));
    await renderAt("/reset-password?token=tok123");
    fireEvent.change(await screen.findByLabelText("Password"), { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByText("Password must be at least 8 characters")).toBeTruthy();
    expect(calls.some((c) => c.path === "/api/v1/auth/password/reset")).toBe(false);

    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse battery" } });
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByRole("heading", { name: "Password changed" })).toBeTruthy();
    expect(within(screen.getByRole("main")).getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/login");
    expect(calls.find((c) => c.path === "/api/v1/auth/password/reset")?.body).toEqual({ token: "tok123", password: "correct horse battery" });
  });

  it("shows a bad or expired token as an alert", async () => {
    stubApi((req) =>
      new URL(req.url).pathname === "/api/v1/auth/password/reset" ? problem(400, "invalid_token", "Bad Request", { detail: "the token is invalid, expired or already used" }) : undefined,
    );
    await renderAt("/reset-password?token=old");
    fireEvent.change(await screen.findByLabelText("Password"), { target: { value: "correct horse battery" } });
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("the token is invalid, expired or already used"));
    expect(screen.getByRole("link", { name: "Request a new reset link" })).toBeTruthy();
  });
});

describe("forgot password", () => {
  it("always answers that a link was sent if the account exists", async () => {
    const calls = stubApi((req) =>
      new URL(req.url).pathname === "/api/v1/auth/password/forgot" ? new Response("accepted", { status: 202, headers: { "Content-Type": "text/plain" } }) : undefined,
    );
    await renderAt("/forgot-password");
    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "ann@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Send reset link" }));
    expect((await screen.findByRole("status")).textContent).toContain("If an account exists");
    expect(calls.find((c) => c.path === "/api/v1/auth/password/forgot")?.body).toEqual({ email: "ann@example.com" });
  });
});
