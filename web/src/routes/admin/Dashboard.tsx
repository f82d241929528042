import { useEffect, useState } from "react";
import { Link } from "@tanstack/react-router";
import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import type { components } from "../../api/schema";
import { onAdminStreamOpen, subscribeAdminEvents } from "../../live/admin";
import { formatMoney } from "../../money";
import { formatDateTime, shortId, statusLabel, type OrderStatus } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

type Summary = components["schemas"]["ordering.Summary"];
type Window = Summary["today"];

const key = ["admin", "summary"] as const;
const summaryQ = (lowStock: number) =>
  queryOptions({
    queryKey: [...key, lowStock],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/summary", { params: { query: { low_stock: lowStock } }, signal })),
  });

const recoveryQ = queryOptions({
  queryKey: ["admin", "cart-recovery"] as const,
  queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/carts/recovery", { signal })),
});

// RecoveredCarts: abandoned carts emailed and those whose customer ordered
// within 7 days of the email (cart's own figure, fetched beside the summary).
function RecoveredCarts() {
  const r = useQuery(recoveryQ);
  return (
    <div className="card-figure">
      <h2>Recovered carts</h2>
      {r.data ? (
        <p>
          <span className="big">{r.data.recovered}</span> of {r.data.emailed} abandoned {r.data.emailed === 1 ? "cart" : "carts"} emailed
        </p>
      ) : (
        <p className="muted">{r.error ? "Unavailable" : "Loading…"}</p>
      )}
    </div>
  );
}

// DashboardAdmin: today's and the week's figures, what needs attention;
// all from one summary request, refreshed live.
export function DashboardAdmin() {
  const [threshold, setThreshold] = useState(5);
  const qc = useQueryClient();
  const r = useQuery(summaryQ(threshold));
  useEffect(() => {
    const refetch = () => void qc.invalidateQueries({ queryKey: key });
    const off1 = subscribeAdminEvents(refetch);
    const off2 = onAdminStreamOpen(refetch);
    return () => {
      off1();
      off2();
    };
  }, [qc]);
  if (r.isPending) return <p role="status">Loading the dashboard…</p>;
  if (r.error) return <QueryError error={r.error} />;
  const s = r.data;
  return (
    <section>
      <h1>Dashboard</h1>
      <div className="cards">
        <Figures title="Today" w={s.today} />
        <Figures title="Last 7 days" w={s.last_7_days} />
        <div className="card-figure">
          <h2>Needs review</h2>
          <p>
            <span className="big">{s.payments_needing_review.amount_mismatch}</span> amount mismatches, <span className="big">{s.payments_needing_review.failed}</span> failed payments
          </p>
        </div>
        <div className="card-figure">
          <h2>Dead letters</h2>
          <p>
            <span className="big">{s.dead_letters}</span> {s.dead_letters === 1 ? "event" : "events"} failed to apply. <Link to="/admin/events">Review</Link>
          </p>
        </div>
        <RecoveredCarts />
      </div>
      <h2>Low stock</h2>
      <div className="field inline">
        <label htmlFor="low-stock">Threshold</label>
        <input id="low-stock" type="number" min={0} max={1000} value={threshold} onChange={(e) => setThreshold(Math.max(0, Math.min(1000, Number(e.target.value) || 0)))} />
      </div>
      {s.low_stock.length === 0 ? (
        <p className="muted">Nothing at or below {threshold}.</p>
      ) : (
        <table className="admin-table">
          <caption className="visually-hidden">Low stock</caption>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">SKU</th>
              <th scope="col" className="num">
                Available
              </th>
            </tr>
          </thead>
          <tbody>
            {s.low_stock.map((p) => (
              <tr key={p.product_id}>
                <th scope="row">
                  <Link to="/admin/products/$id" params={{ id: p.product_id }}>
                    {p.name}
                  </Link>
                </th>
                <td>{p.sku}</td>
                <td className="num">{p.available}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Payments needing review</h2>
      {s.payments_needing_review.items.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table className="admin-table">
          <caption className="visually-hidden">Payments needing review</caption>
          <tbody>
            {s.payments_needing_review.items.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <Link to="/admin/orders/$id" params={{ id: p.order_id }}>
                    Order {shortId(p.order_id)}
                  </Link>
                </th>
                <td>{p.status.replace(/_/g, " ")}</td>
                <td className="num">{formatMoney(p.amount, p.currency)}</td>
                <td>{formatDateTime(p.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">Updated {formatDateTime(s.generated_at)}</p>
    </section>
  );
}

function Figures({ title, w }: { title: string; w: Window }) {
  const byStatus = Object.entries(w.orders_by_status).filter(([, n]) => n > 0);
  return (
    <div className="card-figure">
      <h2>{title}</h2>
      <p>
        <span className="big">{w.orders}</span> {w.orders === 1 ? "order" : "orders"}
      </p>
      <p>{w.revenue.length === 0 ? "No revenue" : w.revenue.map((r) => formatMoney(r.amount, r.currency)).join(" · ")}</p>
      <ul className="plain">
        {byStatus.map(([st, n]) => (
          <li key={st}>
            {statusLabel[st as OrderStatus] ?? st}: {n}
          </li>
        ))}
      </ul>
    </div>
  );
}
