import { useEffect, useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import type { operations } from "../../api/schema";
import { onAdminStreamOpen, subscribeAdminEvents } from "../../live/admin";
import { formatDateTime, shortId } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

type Status = NonNullable<NonNullable<operations["getAdminFulfillments"]["parameters"]["query"]>["status"]>;
const tabs: { value: Status; label: string }[] = [
  { value: "in_progress", label: "Ready to ship" },
  { value: "pending", label: "Being booked" },
  { value: "shipped", label: "Shipped" },
  { value: "delivered", label: "Delivered" },
];

const key = ["admin", "fulfillments"] as const;
const listQ = (status: Status) =>
  infiniteQueryOptions({
    queryKey: [...key, status],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ signal, pageParam }) => unwrap(await api.GET("/api/v1/admin/fulfillments", { params: { query: { status, cursor: pageParam, limit: 50 } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

// FulfillmentsAdmin: the shipping queue by status; Ship with a tracking
// number, then Mark delivered.
export function FulfillmentsAdmin() {
  const [status, setStatus] = useState<Status>("in_progress");
  const qc = useQueryClient();
  // Carrier bookings (pending → in_progress) are not admin events: the
  // open queue also refreshes every few seconds.
  const r = useInfiniteQuery({ ...listQ(status), refetchInterval: status === "pending" || status === "in_progress" ? 5000 : false });
  useEffect(() => {
    const refetch = () => void qc.invalidateQueries({ queryKey: key });
    const off1 = subscribeAdminEvents(refetch);
    const off2 = onAdminStreamOpen(refetch);
    return () => {
      off1();
      off2();
    };
  }, [qc]);
  const rows = r.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Fulfillments</h1>
      <div className="admin-filters">
        <div className="field">
          <label htmlFor="ff-status">Queue</label>
          <select id="ff-status" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {tabs.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {r.error ? <QueryError error={r.error} /> : null}
      {r.isPending ? <p role="status">Loading…</p> : null}
      {r.data && rows.length === 0 ? <p>Nothing in this queue.</p> : null}
      {rows.length > 0 ? (
        <table className="admin-table">
          <caption className="visually-hidden">Fulfillments</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Courier</th>
              <th scope="col">Since</th>
              <th scope="col">Tracking</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr key={f.id} aria-label={`Order ${shortId(f.order_id)}`}>
                <th scope="row">
                  <Link to="/admin/orders/$id" params={{ id: f.order_id }}>
                    {shortId(f.order_id)}
                  </Link>
                </th>
                <td>{f.courier}</td>
                <td>{formatDateTime(f.updated_at)}</td>
                <td>{f.tracking_id || "—"}</td>
                <td>
                  {f.status === "in_progress" ? (
                    <Ship id={f.id} tracking={f.tracking_id ?? ""} />
                  ) : f.status === "pending" ? (
                    <span className="muted">Being booked with the carrier</span>
                  ) : f.status === "shipped" ? (
                    <Deliver id={f.id} />
                  ) : (
                    "Done"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {r.hasNextPage ? (
        <button type="button" onClick={() => void r.fetchNextPage()} disabled={r.isFetchingNextPage}>
          More
        </button>
      ) : null}
    </section>
  );
}

function Ship({ id, tracking }: { id: string; tracking: string }) {
  const qc = useQueryClient();
  const [value, setValue] = useState(tracking);
  const ship = useMutation({
    mutationFn: async (tracking_id: string) =>
      unwrap(await api.POST("/api/v1/admin/fulfillments/{id}/ship", { params: { path: { id } }, body: tracking_id ? { tracking_id } : {} })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: key }),
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    ship.mutate(value.trim());
  }
  const fid = `trk-${id}`;
  return (
    <form className="inline-form" onSubmit={onSubmit}>
      <div className="field">
        <label htmlFor={fid}>Tracking number</label>
        <input id={fid} value={value} onChange={(e) => setValue(e.target.value)} maxLength={100} />
      </div>
      <button type="submit" disabled={ship.isPending}>
        Ship
      </button>
      {ship.error ? <QueryError error={ship.error} /> : null}
    </form>
  );
}

function Deliver({ id }: { id: string }) {
  const qc = useQueryClient();
  const deliver = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/admin/fulfillments/{id}/deliver", { params: { path: { id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      <button type="button" onClick={() => deliver.mutate()} disabled={deliver.isPending}>
        Mark delivered
      </button>
      {deliver.error ? <QueryError error={deliver.error} /> : null}
    </>
  );
}
