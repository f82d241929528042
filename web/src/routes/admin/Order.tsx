import { useEffect, useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { ProblemError, unwrap } from "../../api/problem";
import { onAdminStreamOpen, subscribeAdminEvents } from "../../live/admin";
import { formatMoney, toMajor, toMinor } from "../../money";
import { adminOrderRoute } from "../../router";
import { Timeline } from "../Order";
import { courierLabel, formatDateTime, shortId, statusLabel } from "../orderQueries";
import { QueryError } from "../QueryError";
import "../orders.css";
import "./admin-pages.css";

const key = (id: string) => ["admin", "order", id] as const;

const orderQ = (id: string) =>
  queryOptions({
    queryKey: key(id),
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/orders/{id}", { params: { path: { id } }, signal })),
  });
const eventsQ = (id: string) =>
  queryOptions({
    queryKey: [...key(id), "events"] as const,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/orders/{id}/events", { params: { path: { id } }, signal })).items,
  });
const paymentsQ = (id: string) =>
  queryOptions({
    queryKey: [...key(id), "payments"] as const,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/payments", { params: { query: { order_id: id } }, signal })).items,
  });

// OrderAdmin: one order with its items, address, payment and timeline;
// partial refunds and cancel; live over the admin stream.
export function OrderAdmin() {
  const { id } = adminOrderRoute.useParams();
  const qc = useQueryClient();
  const order = useQuery(orderQ(id));
  const events = useQuery(eventsQ(id));
  const payments = useQuery(paymentsQ(id));

  useEffect(() => {
    const refetch = () => void qc.invalidateQueries({ queryKey: key(id) });
    const off1 = subscribeAdminEvents((e) => {
      if (e.order_id === id) refetch();
    });
    const off2 = onAdminStreamOpen(refetch);
    return () => {
      off1();
      off2();
    };
  }, [id, qc]);

  if (order.isPending) return <p role="status">Loading the order…</p>;
  if (order.error) return <QueryError error={order.error} />;
  const o = order.data;
  const a = o.address;
  return (
    <section>
      <p className="muted">
        <Link to="/admin/orders" search={{}}>
          ← Orders
        </Link>
      </p>
      <h1>Order {shortId(o.id)}</h1>
      <p>
        <span role="status" aria-label="Order status" className={`order-status st-${o.status}`}>
          {statusLabel[o.status]}
        </span>{" "}
        <span className="muted">
          Placed {formatDateTime(o.created_at)} by{" "}
          <Link to="/admin/orders" search={{ user_id: o.user_id }}>
            customer {shortId(o.user_id)}
          </Link>
        </span>
      </p>
      <div className="admin-detail">
        <div>
          <h2>Items</h2>
          <table className="admin-table">
            <tbody>
              {o.items.map((l) => (
                <tr key={l.product_id}>
                  <th scope="row">
                    <Link to="/admin/products/$id" params={{ id: l.product_id }}>
                      {l.name}
                    </Link>
                  </th>
                  <td>
                    {l.quantity} × {formatMoney(l.unit_price, o.currency)}
                  </td>
                  <td className="num">{formatMoney(l.line_total, o.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Delivery</h2>
          <p>
            {courierLabel[o.courier]} to {[a.label, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.region, a.country, a.phone].filter(Boolean).join(", ")}
          </p>
          <h2>History</h2>
          {events.error ? <QueryError error={events.error} /> : null}
          {events.data ? <Timeline entries={events.data} currency={o.currency} /> : null}
        </div>
        <aside>
          <dl className="totals">
            <dt>Subtotal</dt>
            <dd>{formatMoney(o.subtotal, o.currency)}</dd>
            {o.discount > 0 ? (
              <>
                <dt>Discount{o.promo_code ? ` (${o.promo_code})` : ""}</dt>
                <dd>−{formatMoney(o.discount, o.currency)}</dd>
              </>
            ) : null}
            <dt>Shipping</dt>
            <dd>{formatMoney(o.shipping_cost, o.currency)}</dd>
            <dt className="total">Total</dt>
            <dd className="total">{formatMoney(o.total, o.currency)}</dd>
            {o.refunded_amount > 0 ? (
              <>
                <dt>Refunded</dt>
                <dd>{formatMoney(o.refunded_amount, o.currency)}</dd>
              </>
            ) : null}
          </dl>
          <h2>Payment</h2>
          {payments.error ? <QueryError error={payments.error} /> : null}
          {payments.data?.map((p) => (
            <p key={p.id}>
              {p.gateway} · {p.status.replace(/_/g, " ")} · {formatMoney(p.amount_captured || p.amount, p.currency)}
              {p.amount_refunded > 0 ? ` · refunded ${formatMoney(p.amount_refunded, p.currency)}` : ""}
            </p>
          ))}
          {["paid", "fulfilling", "shipped", "delivered"].includes(o.status) && o.refunded_amount < o.total ? <Refund orderId={o.id} max={o.total - o.refunded_amount} currency={o.currency} /> : null}
          {o.status === "pending_payment" ? <Cancel orderId={o.id} /> : null}
        </aside>
      </div>
    </section>
  );
}

function Refund({ orderId, max, currency }: { orderId: string; max: number; currency: string }) {
  const qc = useQueryClient();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [err, setErr] = useState<string | null>(null);
  const refund = useMutation({
    mutationFn: async (body: { amount: number; reason: string }) =>
      unwrap(await api.POST("/api/v1/admin/orders/{id}/refund", { params: { path: { id: orderId } }, body })),
    onSuccess: () => {
      setAmount("");
      setReason("");
      void qc.invalidateQueries({ queryKey: key(orderId) });
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const minor = toMinor(amount, currency);
    if (minor === null || minor <= 0) return setErr("Enter an amount above zero, e.g. 5 or 4.99.");
    if (minor > max) return setErr(`At most ${formatMoney(max, currency)} can still be refunded.`);
    if (!reason.trim()) return setErr("Give a reason: the customer sees it.");
    setErr(null);
    refund.mutate({ amount: minor, reason: reason.trim() });
  }
  const serverErr = refund.error instanceof ProblemError ? refund.error.message : refund.error ? "The refund failed." : null;
  return (
    <form className="admin-refund" onSubmit={onSubmit} noValidate>
      <h3>Refund</h3>
      <div className="field">
        <label htmlFor="refund-amount">Refund amount</label>
        <input id="refund-amount" type="number" inputMode="decimal" min={0} step="0.01" placeholder={toMajor(max, currency)} value={amount} onChange={(e) => setAmount(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="refund-reason">Reason</label>
        <input id="refund-reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
      </div>
      {err || serverErr ? (
        <p role="alert" className="error">
          {err ?? serverErr}
        </p>
      ) : null}
      {refund.isSuccess ? <p role="status">Refund sent.</p> : null}
      <button type="submit" disabled={refund.isPending}>
        Refund
      </button>
    </form>
  );
}

function Cancel({ orderId }: { orderId: string }) {
  const qc = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/admin/orders/{id}/cancel", { params: { path: { id: orderId } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: key(orderId) }),
  });
  return (
    <p>
      <button type="button" className="secondary" disabled={cancel.isPending} onClick={() => window.confirm("Cancel this order and release its stock?") && cancel.mutate()}>
        Cancel order
      </button>
      {cancel.error ? <QueryError error={cancel.error} /> : null}
    </p>
  );
}
