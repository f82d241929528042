import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import type { components } from "../api/schema";
import type { Notification } from "../live/notifications";

export type Order = components["schemas"]["ordering.Order"];
export type OrderStatus = Order["status"];
export type TimelineEntry = components["schemas"]["ordering.TimelineEntry"];
export type Fulfillment = components["schemas"]["fulfillment.Fulfillment"];
export type Address = components["schemas"]["auth.Address"];
export type Gateway = components["schemas"]["payments.Gateway"];
export type Courier = Order["courier"];

// Everything here is the shopper's: under "me" so signing out drops it.
export const ordersKey = ["me", "orders"] as const;
export const orderKey = (id: string) => ["me", "order", id] as const;

export const ordersQuery = infiniteQueryOptions({
  queryKey: ordersKey,
  initialPageParam: undefined as string | undefined,
  queryFn: async ({ signal, pageParam }) =>
    unwrap(await api.GET("/api/v1/orders", { params: { query: pageParam ? { cursor: pageParam } : {} }, signal })),
  getNextPageParam: (last) => last.next_cursor ?? undefined,
});

export const orderQuery = (id: string) =>
  queryOptions({
    queryKey: orderKey(id),
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/orders/{id}", { params: { path: { id } }, signal })),
  });

export const orderEventsQuery = (id: string) =>
  queryOptions({
    queryKey: [...orderKey(id), "events"] as const,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/orders/{id}/events", { params: { path: { id } }, signal })).items,
  });

// An order has no fulfillment until it is paid: 404 is "none yet".
export const fulfillmentQuery = (id: string) =>
  queryOptions({
    queryKey: [...orderKey(id), "fulfillment"] as const,
    queryFn: async ({ signal }): Promise<Fulfillment | null> => {
      const r = await api.GET("/api/v1/orders/{id}/fulfillment", { params: { path: { id } }, signal });
      if (r.response.status === 404) return null;
      return unwrap(r);
    },
  });

export { addressesQuery } from "./queries";

export const gatewaysQuery = queryOptions({
  queryKey: ["payment-gateways"],
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/payments/gateways", { signal })).items,
  staleTime: 5 * 60_000,
});

// The shopper-facing status names (a contract for browser tests).
export const statusLabel: Record<OrderStatus, string> = {
  placing: "Awaiting payment",
  pending_payment: "Awaiting payment",
  paid: "Paid",
  fulfilling: "Preparing",
  shipped: "Shipped",
  delivered: "Delivered",
  canceled: "Canceled",
  expired: "Expired",
  refunded: "Refunded",
};

export const courierLabel: Record<Courier, string> = { standard: "Standard", express: "Express" };

// Notification kinds that may change an order (notifications carry no
// order id, so any of them refetches the order being looked at).
const orderKinds = new Set<Notification["kind"]>([
  "order_placed",
  "order_paid",
  "payment_failed",
  "payment_review",
  "order_canceled",
  "order_expired",
  "order_refunded",
  "order_shipped",
  "order_delivered",
]);

export const isOrderNotification = (n: Notification): boolean => orderKinds.has(n.kind);

// The last 8 hex digits: ids are UUIDv7, whose leading digits are a
// timestamp shared by everything created in the same minute.
export const shortId = (id: string): string => id.replace(/-/g, "").slice(-8);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
export const formatDate = (iso: string): string => dateOnly.format(new Date(iso));
