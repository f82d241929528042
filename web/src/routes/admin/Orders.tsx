import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { infiniteQueryOptions, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { onAdminStreamOpen, subscribeAdminEvents } from "../../live/admin";
import { formatMoney } from "../../money";
import { adminOrdersRoute, type AdminOrdersSearch } from "../../router";
import { formatDateTime, shortId, statusLabel, type OrderStatus } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

const statuses = Object.keys(statusLabel).filter((s) => s !== "placing") as OrderStatus[];

// Dates in the filter are days in the admin's time zone; the API takes
// instants: a day's start, and the next day's start as the end.
const dayStart = (d: string) => new Date(`${d}T00:00:00`).toISOString();
const dayEnd = (d: string) => new Date(new Date(`${d}T00:00:00`).getTime() + 86_400_000).toISOString();

export const adminOrdersKey = ["admin", "orders"] as const;

const adminOrdersQuery = (s: AdminOrdersSearch) =>
  infiniteQueryOptions({
    queryKey: [...adminOrdersKey, s],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ signal, pageParam }) =>
      unwrap(
        await api.GET("/api/v1/admin/orders", {
          params: {
            query: {
              status: s.status as Exclude<OrderStatus, "placing"> | undefined,
              from: s.from ? dayStart(s.from) : undefined,
              to: s.to ? dayEnd(s.to) : undefined,
              user_id: s.user_id,
              q: s.q,
              cursor: pageParam,
              limit: 50,
            },
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

// OrdersAdmin: every order, filtered by status, dates, customer and id;
// new orders and status changes arrive live over the admin stream.
export function OrdersAdmin() {
  const s = adminOrdersRoute.useSearch();
  const navigate = useNavigate({ from: "/admin/orders" });
  const qc = useQueryClient();
  const r = useInfiniteQuery(adminOrdersQuery(s));
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [q, setQ] = useState(s.q ?? "");

  useEffect(() => {
    const refetch = () => void qc.invalidateQueries({ queryKey: adminOrdersKey });
    const off1 = subscribeAdminEvents((e) => {
      if (!e.order_id) return;
      if (e.type === "order_placed") setFresh((f) => new Set(f).add(e.order_id as string));
      refetch();
    });
    const off2 = onAdminStreamOpen(refetch);
    return () => {
      off1();
      off2();
    };
  }, [qc]);

  function set(patch: Partial<AdminOrdersSearch>) {
    void navigate({ search: (prev) => ({ ...prev, ...patch, cursor: undefined }) });
  }
  function onSearch(e: FormEvent) {
    e.preventDefault();
    set({ q: q.trim() || undefined });
  }

  const rows = r.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Orders</h1>
      <form className="admin-filters" onSubmit={onSearch}>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={s.status ?? ""} onChange={(e) => set({ status: e.target.value || undefined })}>
            <option value="">All</option>
            {statuses.map((st) => (
              <option key={st} value={st}>
                {statusLabel[st]} ({st})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">From</label>
          <input id="f-from" type="date" value={s.from ?? ""} onChange={(e) => set({ from: e.target.value || undefined })} />
        </div>
        <div className="field">
          <label htmlFor="f-to">To</label>
          <input id="f-to" type="date" value={s.to ?? ""} onChange={(e) => set({ to: e.target.value || undefined })} />
        </div>
        <div className="field">
          <label htmlFor="f-q">Order number</label>
          <input id="f-q" value={q} onChange={(e) => setQ(e.target.value)} placeholder="full id, or how it starts" />
        </div>
        <button type="submit">Filter</button>
        {s.user_id ? (
          <p>
            Customer <code>{shortId(s.user_id)}</code>{" "}
            <button type="button" className="link" onClick={() => set({ user_id: undefined })}>
              Show all customers
            </button>
          </p>
        ) : null}
      </form>
      {r.error ? <QueryError error={r.error} /> : null}
      {r.isPending ? <p role="status">Loading orders…</p> : null}
      {r.data && rows.length === 0 ? <p>No orders match.</p> : null}
      {rows.length > 0 ? (
        <table className="admin-table">
          <caption className="visually-hidden">Orders</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Customer</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.id} className={fresh.has(o.id) ? "fresh" : undefined}>
                <th scope="row">
                  <Link to="/admin/orders/$id" params={{ id: o.id }}>
                    {shortId(o.id)}
                  </Link>
                  {fresh.has(o.id) ? <span className="badge">New</span> : null}
                </th>
                <td>{formatDateTime(o.created_at)}</td>
                <td>
                  <Link to="/admin/orders" search={{ user_id: o.user_id }}>
                    {shortId(o.user_id)}
                  </Link>
                </td>
                <td>
                  <span className={`order-status st-${o.status}`}>{statusLabel[o.status]}</span>
                </td>
                <td className="num">{formatMoney(o.total, o.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {r.hasNextPage ? (
        <button type="button" onClick={() => void r.fetchNextPage()} disabled={r.isFetchingNextPage}>
          More orders
        </button>
      ) : null}
    </section>
  );
}
