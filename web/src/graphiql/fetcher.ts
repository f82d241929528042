import type { ComponentProps } from "react";
import type { GraphiQL } from "graphiql";
import { getOperationAST, parse, type DocumentNode } from "graphql";
import {
  createClient,
  type Client,
  type ClientOptions,
  type ExecutionResult,
  type FormattedExecutionResult,
} from "graphql-ws";

// The fetcher GraphiQL runs every operation through: queries and mutations
// as POST /graphql with the Headers tab's headers, subscriptions over one
// WebSocket (graphql-transport-ws) per access token, the token going in
// connection_init's payload, since a browser WebSocket cannot send an
// Authorization header (docs/graphql.md, Subscriptions).

/** What GraphiQL calls to execute an operation. */
export type Fetcher = ComponentProps<typeof GraphiQL>["fetcher"];
type Params = Parameters<Fetcher>[0];
type Options = NonNullable<Parameters<Fetcher>[1]>;
type Result = ExecutionResult<Record<string, unknown>, Record<string, unknown>>;
type Received = FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>;

// asResult hands a result as received to GraphiQL, whose types call it an
// ExecutionResult (errors as GraphQLError): it only prints it as JSON.
const asResult = (r: Received): Result => r as unknown as Result;

interface Sink {
  next: (value: Result) => void;
  error: (error: unknown) => void;
  complete: () => void;
}

/** How the fetcher reaches the server (tests hand in fakes). */
export interface FetcherConfig {
  /** URL of POST requests: "/graphql". */
  url: string;
  /** URL of the subscription socket: "ws://host/graphql". */
  wsUrl: string;
  fetch?: typeof fetch;
  createClient?: (options: ClientOptions) => Client;
}

/** The socket URL of path on the page's own origin (ws: or wss:). */
export function sameOriginWebSocketURL(loc: Pick<Location, "protocol" | "host">, path: string): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${path}`;
}

/** The Headers tab's JSON as string headers (other values are dropped). */
export function headersOf(raw: Options["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw || typeof raw !== "object") return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = String(v);
  }
  return out;
}

/** The Authorization header of headers, whatever its case ("" when none). */
export function authorizationOf(headers: Record<string, string>): string {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === "authorization") return v;
  }
  return "";
}

/** Whether the operation GraphiQL runs is a subscription. */
export function isSubscription(params: Params, documentAST?: DocumentNode): boolean {
  let doc = documentAST;
  if (!doc) {
    try {
      doc = parse(params.query);
    } catch {
      return false; // the server answers the syntax error over HTTP
    }
  }
  return getOperationAST(doc, params.operationName ?? undefined)?.operation === "subscription";
}

/** Turns a socket failure into an Error GraphiQL can show. */
function describe(err: unknown): unknown {
  if (typeof CloseEvent !== "undefined" && err instanceof CloseEvent) {
    return new Error(`Socket closed with ${err.code}${err.reason ? ` ${err.reason}` : ""}`);
  }
  return err; // an error message's GraphQL errors: GraphiQL lists them

}

/** Close codes of graphql-transport-ws that retrying would not cure. */
function retryable(errOrClose: unknown): boolean {
  if (typeof CloseEvent !== "undefined" && errOrClose instanceof CloseEvent) {
    return errOrClose.code < 4400 || errOrClose.code >= 4500;
  }
  return false;
}

/** createFetcher builds GraphiQL's fetcher for cfg. */
export function createFetcher(cfg: FetcherConfig): Fetcher {
  const doFetch = cfg.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const newClient = cfg.createClient ?? createClient;
  let socket: { authorization: string; client: Client } | undefined;

  // clientFor reuses the socket while the token is the same; a new token
  // (pasted into the Headers tab) gets a new connection, and the old one
  // is closed with the subscriptions it still ran.
  const clientFor = (authorization: string): Client => {
    if (socket?.authorization === authorization) return socket.client;
    void socket?.client.dispose();
    const client = newClient({
      url: cfg.wsUrl,
      lazy: true,
      connectionParams: () => (authorization ? { Authorization: authorization } : {}),
      shouldRetry: retryable,
    });
    socket = { authorization, client };
    return client;
  };

  return (params, opts) => {
    const headers = headersOf(opts?.headers);
    if (isSubscription(params, opts?.documentAST)) {
      const client = clientFor(authorizationOf(headers));
      const payload = { query: params.query, operationName: params.operationName ?? null, variables: params.variables ?? null };
      return {
        subscribe(
          sinkOrNext?: Partial<Sink> | ((value: Result) => void) | null,
          error?: ((error: unknown) => void) | null,
          complete?: (() => void) | null,
        ) {
          const sink: Partial<Sink> = typeof sinkOrNext === "function" ? { next: sinkOrNext } : { ...sinkOrNext };
          if (typeof sinkOrNext === "function" || sinkOrNext == null) {
            if (error) sink.error = error;
            if (complete) sink.complete = complete;
          }
          const stop = client.subscribe<Record<string, unknown>, Record<string, unknown>>(payload, {
            next: (v) => sink.next?.(asResult(v)),
            error: (e) => sink.error?.(describe(e)),
            complete: () => sink.complete?.(),
          });
          return { unsubscribe: stop };
        },
      };
    }
    return doFetch(cfg.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json;q=0.9",
        ...headers,
      },
      body: JSON.stringify(params),
    }).then(async (res) => asResult((await res.json()) as Received));
  };
}
