import { queryOptions } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import type { components, operations } from "../api/schema";

export type Product = components["schemas"]["catalog.Product"];
export type Cart = components["schemas"]["cart.Cart"];
export type SearchResult = components["schemas"]["search.Result"];

// The cart is the shopper's: under "me" so signing out drops it.
export const cartQuery = queryOptions({
  queryKey: ["me", "cart"],
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/cart", { signal })),
});

export const productQuery = (id: string) =>
  queryOptions({
    queryKey: ["product", id],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/products/{id}", { params: { path: { id } }, signal })),
  });

type SearchQuery = NonNullable<operations["getSearch"]["parameters"]["query"]>;

export const searchQuery = (query: SearchQuery) =>
  queryOptions({
    queryKey: ["search", query],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/search", { params: { query }, signal })),
  });
