import { describe, expect, it } from "vitest";
import { parse } from "graphql";
import type { Client, ClientOptions, Sink, SubscribePayload } from "graphql-ws";
import { authorizationOf, createFetcher, isSubscription, sameOriginWebSocketURL } from "./fetcher";

// A fake graphql-ws client: records what the fetcher asks of it.
function fakeClients() {
  const made: { options: ClientOptions; subscribed: SubscribePayload[]; sinks: Sink[]; stopped: number; disposed: boolean }[] = [];
  const createClient = (options: ClientOptions): Client => {
    const rec = { options, subscribed: [] as SubscribePayload[], sinks: [] as Sink[], stopped: 0, disposed: false };
    made.push(rec);
    const client = {
      on: () => () => {},
      subscribe: (payload: SubscribePayload, sink: Sink) => {
        rec.subscribed.push(payload);
        rec.sinks.push(sink);
        return () => {
          rec.stopped++;
        };
      },
      iterate: () => {
        throw new Error("not used");
      },
      terminate: () => {},
      dispose: () => {
        rec.disposed = true;
      },
    };
    return client as unknown as Client;
  };
  return { made, createClient };
}

describe("GraphiQL fetcher", () => {
  it("posts queries to /graphql with the Headers tab's headers", async () => {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    const fetcher = createFetcher({
      url: "/graphql",
      wsUrl: "ws://shop/graphql",
      fetch: async (input, init) => {
        calls.push({ url: String(input), init });
        return new Response(JSON.stringify({ data: { products: { items: [] } } }));
      },
    });
    const query = "{ products { items { name } } }";
    const result = await fetcher({ query }, { headers: { Authorization: "Bearer tok", n: 1, skip: { x: 1 } }, documentAST: parse(query) });
    expect(result).toEqual({ data: { products: { items: [] } } });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("/graphql");
    expect(calls[0]?.init?.method).toBe("POST");
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer tok");
    expect(headers["content-type"]).toBe("application/json");
    expect(headers.n).toBe("1");
    expect(headers.skip).toBeUndefined();
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ query });
  });

  it("runs subscriptions over one socket per token, the token in connection_init", async () => {
    const { made, createClient } = fakeClients();
    const fetcher = createFetcher({ url: "/graphql", wsUrl: "ws://shop/graphql", createClient, fetch: () => Promise.reject(new Error("no HTTP")) });
    const query = "subscription { notifications { kind title } }";
    const got: unknown[] = [];
    const run = async (authorization: string) => {
      const obs = await fetcher({ query }, { headers: { authorization }, documentAST: parse(query) });
      if (!obs || typeof obs !== "object" || !("subscribe" in obs)) throw new Error("not an observable");
      return obs.subscribe({ next: (v) => got.push(v), error: () => {}, complete: () => {} });
    };
    const first = await run("Bearer one");
    expect(made).toHaveLength(1);
    expect(made[0]?.options.url).toBe("ws://shop/graphql");
    const params = made[0]?.options.connectionParams;
    expect(typeof params === "function" ? await params() : params).toEqual({ Authorization: "Bearer one" });
    expect(made[0]?.subscribed[0]?.query).toBe(query);
    made[0]?.sinks[0]?.next({ data: { notifications: { kind: "order_paid", title: "Paid" } } });
    expect(got).toEqual([{ data: { notifications: { kind: "order_paid", title: "Paid" } } }]);
    first.unsubscribe();
    expect(made[0]?.stopped).toBe(1);

    await run("Bearer one");
    expect(made).toHaveLength(1); // same token, same socket
    await run("Bearer two");
    expect(made).toHaveLength(2);
    expect(made[0]?.disposed).toBe(true);
  });

  it("tells subscriptions from other operations", () => {
    const doc = "query Q { a } subscription S { b }";
    expect(isSubscription({ query: doc, operationName: "S" })).toBe(true);
    expect(isSubscription({ query: doc, operationName: "Q" }, parse(doc))).toBe(false);
    expect(isSubscription({ query: "subscription {" })).toBe(false);
    expect(authorizationOf({ AUTHORIZATION: "Bearer x" })).toBe("Bearer x");
    expect(sameOriginWebSocketURL({ protocol: "https:", host: "shop.example:8443" }, "/graphql")).toBe("wss://shop.example:8443/graphql");
    expect(sameOriginWebSocketURL({ protocol: "http:", host: "localhost:8080" }, "/graphql")).toBe("ws://localhost:8080/graphql");
  });
});
