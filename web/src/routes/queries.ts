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

// The caller's profile: one key for every page that shows or edits it.
export const profileQuery = queryOptions({
  queryKey: ["me", "profile"],
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/me", { signal })),
  staleTime: 5 * 60_000,
});

// The caller's chat conversations (admins also see unassigned support ones).
export const conversationsKey = ["me", "chat", "conversations"] as const;
export const conversationsQuery = queryOptions({
  queryKey: conversationsKey,
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/chat/conversations", { signal })),
});

// The caller's address book (checkout and the account page share it).
export const addressesKey = ["me", "addresses"] as const;
export const addressesQuery = queryOptions({
  queryKey: addressesKey,
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/me/addresses", { signal })).items,
});
