import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "./client";
import { getTokens, setTokens } from "./session";

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

const cart = { id: "c1", items: [], subtotal: 0, discount: 0, total: 0, promo_code: null, promo_error: null, currency: null };

describe("auth middleware", () => {
  let calls: { method: string; path: string; auth: string | null; body: string }[];

  beforeEach(() => {
    calls = [];
    setTokens({ accessToken: "old-access", refreshToken: "r1" });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setTokens(null);
  });

  function stub(handler: (method: string, path: string, auth: string | null, body: string) => Response) {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request) => {
        const path = new URL(input.url).pathname;
        const body = input.body ? await input.text() : "";
        calls.push({ method: input.method, path, auth: input.headers.get("Authorization"), body });
        return handler(input.method, path, input.headers.get("Authorization"), body);
      }),
    );
  }

  it("refreshes once on a 401 and retries the request with the new token", async () => {
    stub((_method, path, auth) => {
      if (path === "/api/v1/auth/refresh") return json(200, { access_token: "new-access", refresh_token: "r2", token_type: "Bearer", expires_in: 900 });
      if (auth === "Bearer new-access") return json(200, cart);
      return json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "token_expired" }, "application/problem+json");
    });
    const r = await api.POST("/api/v1/cart/promo", { body: { code: "SAVE10" } });
    expect(r.response.status).toBe(200);
    expect(r.data?.id).toBe("c1");
    expect(calls.map((c) => `${c.method} ${c.path} ${c.auth ?? ""}`)).toEqual([
      "POST /api/v1/cart/promo Bearer old-access",
      "POST /api/v1/auth/refresh ",
      "POST /api/v1/cart/promo Bearer new-access",
    ]);
    expect(calls[1]?.body).toBe(JSON.stringify({ refresh_token: "r1" }));
    expect(calls[2]?.body).toBe(JSON.stringify({ code: "SAVE10" }));
    expect(getTokens()).toEqual({ accessToken: "new-access", refreshToken: "r2" });
  });

  it("shares one refresh between concurrent 401s", async () => {
    stub((_m, path, auth) => {
      if (path === "/api/v1/auth/refresh") return json(200, { access_token: "new-access", refresh_token: "r2", token_type: "Bearer", expires_in: 900 });
      if (auth === "Bearer new-access") return json(200, cart);
      return json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "token_expired" }, "application/problem+json");
    });
    const [a, b] = await Promise.all([api.GET("/api/v1/cart"), api.GET("/api/v1/cart")]);
    expect(a.response.status).toBe(200);
    expect(b.response.status).toBe(200);
    expect(calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("does not retry a second time when the retried request is also 401", async () => {
    stub((_m, path) => {
      if (path === "/api/v1/auth/refresh") return json(200, { access_token: "new-access", refresh_token: "r2", token_type: "Bearer", expires_in: 900 });
      return json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "unauthenticated" }, "application/problem+json");
    });
    const r = await api.GET("/api/v1/cart");
    expect(r.response.status).toBe(401);
    expect(r.error?.code).toBe("unauthenticated");
    expect(calls).toHaveLength(3);
  });

  it("signs out when the refresh token was reused", async () => {
    stub((_m, path) => {
      if (path === "/api/v1/auth/refresh")
        return json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "token_reused" }, "application/problem+json");
      return json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "token_expired" }, "application/problem+json");
    });
    const r = await api.GET("/api/v1/cart");
    expect(r.response.status).toBe(401);
    expect(getTokens()).toBeNull();
    expect(calls).toHaveLength(2);
  });

  it("sends no Authorization header and does not refresh when signed out", async () => {
    setTokens(null);
    stub(() => json(401, { type: "about:blank", title: "Unauthorized", status: 401, code: "unauthenticated" }, "application/problem+json"));
    const r = await api.GET("/api/v1/cart");
    expect(r.response.status).toBe(401);
    expect(calls).toEqual([{ method: "GET", path: "/api/v1/cart", auth: null, body: "" }]);
  });
});
