import { useState, type FormEvent } from "react";
import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { formatDateTime } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

const listQ = (actor: string) =>
  infiniteQueryOptions({
    queryKey: ["admin", "audit", actor],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ signal, pageParam }) =>
      unwrap(await api.GET("/api/v1/admin/audit", { params: { query: { actor: actor || undefined, cursor: pageParam, limit: 50 } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

// AuditAdmin: who changed what and when through the admin API, newest
// first.
export function AuditAdmin() {
  const [actor, setActor] = useState("");
  const [applied, setApplied] = useState("");
  const r = useInfiniteQuery(listQ(applied));
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setApplied(actor.trim());
  }
  const rows = r.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Audit log</h1>
      <form className="admin-filters" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="audit-actor">Admin</label>
          <input id="audit-actor" value={actor} onChange={(e) => setActor(e.target.value)} placeholder="user id" />
        </div>
        <button type="submit">Filter</button>
      </form>
      {r.error ? <QueryError error={r.error} /> : null}
      {r.isPending ? <p role="status">Loading…</p> : null}
      {r.data && rows.length === 0 ? <p>Nothing recorded.</p> : null}
      {rows.length > 0 ? (
        <table className="admin-table">
          <caption className="visually-hidden">Audit log</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id}>
                <td>{formatDateTime(a.at)}</td>
                <td>{a.actor_email || a.actor_id}</td>
                <td>
                  <code>
                    {a.method} {a.path}
                  </code>
                </td>
                <td>{a.status}</td>
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
