import { useEffect } from "react";
import { Link } from "@tanstack/react-router";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { subscribeNotifications } from "../live/notifications";
import { formatMoney } from "../money";
import { QueryError } from "./QueryError";
import { formatDateTime, isOrderNotification, orderKey, ordersKey, ordersQuery, shortId, statusLabel, type Order } from "./orderQueries";
import "./orders.css";

export function OrdersPage() {
  const qc = useQueryClient();
  const r = useInfiniteQuery(ordersQuery);
  const cancel = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/api/v1/orders/{id}/cancel", { params: { path: { id } } })),
    onSuccess: (o) => {
      qc.setQueryData(orderKey(o.id), o);
      void qc.invalidateQueries({ queryKey: ordersKey });
    },
  });

  useEffect(
    () =>
      subscribeNotifications((n) => {
        if (isOrderNotification(n)) void qc.invalidateQueries({ queryKey: ordersKey });
      }),
    [qc],
  );

  if (r.isPending) return <p role="status">Loading your orders…</p>;
  if (!r.data) return <QueryError error={r.error} />;
  const orders = r.data.pages.flatMap((p) => p.items);

  function onCancel(o: Order) {
    if (window.confirm(`Cancel order ${shortId(o.id)}? Reserved items will be released.`)) cancel.mutate(o.id);
  }

  return (
    <section className="orders-page">
      <h1>Your orders</h1>
      {cancel.error ? <QueryError error={cancel.error} /> : null}
      {orders.length === 0 ? (
        <p>
          You have no orders yet. <Link to="/">Start shopping</Link>
        </p>
      ) : (
        <table className="orders-table">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Date</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Total
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id}>
                <th scope="row" data-label="Order">
                  <Link to="/orders/$id" params={{ id: o.id }}>
                    Order {shortId(o.id)}
                  </Link>
                </th>
                <td data-label="Date">
                  <time dateTime={o.created_at}>{formatDateTime(o.created_at)}</time>
                </td>
                <td data-label="Status">
                  <span className={`order-status st-${o.status}`}>{statusLabel[o.status]}</span>
                </td>
                <td data-label="Total" className="num price">
                  {formatMoney(o.total, o.currency)}
                </td>
                <td className="actions">
                  {o.status === "pending_payment" ? (
                    <button type="button" className="link" disabled={cancel.isPending && cancel.variables === o.id} onClick={() => onCancel(o)}>
                      Cancel <span className="visually-hidden">order {shortId(o.id)}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.hasNextPage ? (
        <p className="pager">
          <button type="button" onClick={() => void r.fetchNextPage()} disabled={r.isFetchingNextPage}>
            More orders
          </button>
        </p>
      ) : null}
      {r.isFetchNextPageError ? <QueryError error={r.error} /> : null}
    </section>
  );
}
