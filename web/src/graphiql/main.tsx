// The GraphiQL page the server sends a browser on GET /graphql: the IDE
// bundled with the build (no CDN, so it works offline), a separate entry
// from the storefront's (graphiql.html), which shares none of its code.
import "./workers";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import "./graphiql.css";
import { createFetcher, sameOriginWebSocketURL } from "./fetcher";

const endpoint = "/graphql";

/** What a first visit shows: products, which anyone may read. */
export const defaultQuery = `# Welcome to the shop's GraphQL API.
# Run a query with the ▶ button (Ctrl-Enter). For your own cart, orders and
# notifications, put your access token in the Headers tab:
#   {"Authorization": "Bearer <token>"}
# Subscriptions (e.g. subscription { notifications { kind title } }) run
# over a WebSocket with that token.
query Products {
  products(first: 5) {
    items {
      id
      name
      brand
      price { amount currency }
    }
    nextCursor
  }
}
`;

const fetcher = createFetcher({ url: endpoint, wsUrl: sameOriginWebSocketURL(window.location, endpoint) });

const root = document.getElementById("graphiql");
if (!root) throw new Error("graphiql.html has no #graphiql element");
createRoot(root).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} defaultEditorToolsVisibility="headers" />
  </StrictMode>,
);
