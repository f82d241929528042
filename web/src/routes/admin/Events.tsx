import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { formatDateTime } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

const key = ["admin", "dead-letters"] as const;
const listQ = infiniteQueryOptions({
  queryKey: key,
  initialPageParam: undefined as string | undefined,
  queryFn: async ({ signal, pageParam }) => unwrap(await api.GET("/api/v1/admin/events/dead-letters", { params: { query: { cursor: pageParam, limit: 50 } }, signal })),
  getNextPageParam: (last) => last.next_cursor ?? undefined,
});

// EventsAdmin: events a consumer could not apply (dead letters), with
// their error; Retry re-delivers one through the consumer's inbox, so
// an effect is never applied twice.
export function EventsAdmin() {
  const qc = useQueryClient();
  const r = useInfiniteQuery(listQ);
  const retry = useMutation({
    mutationFn: async (id: number) => unwrap(await api.POST("/api/v1/admin/events/dead-letters/{id}/retry", { params: { path: { id: String(id) } } })),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: key });
      // The consumer runs the retry shortly after: look again then.
      setTimeout(() => void qc.invalidateQueries({ queryKey: key }), 1500);
    },
  });
  const rows = r.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Events</h1>
      <p className="muted">Events a consumer gave up on after its retries. Fix the cause, then retry: the event is applied at most once.</p>
      {r.error ? <QueryError error={r.error} /> : null}
      {retry.error ? <QueryError error={retry.error} /> : null}
      {r.isPending ? <p role="status">Loading…</p> : null}
      {r.data && rows.length === 0 ? <p>No dead letters.</p> : null}
      {rows.length > 0 ? (
        <table className="admin-table">
          <caption className="visually-hidden">Dead letters</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Consumer</th>
              <th scope="col">Error</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <th scope="row">
                  {d.topic}
                  <br />
                  <span className="muted">{formatDateTime(d.created_at)}</span>
                  <details>
                    <summary>Payload</summary>
                    <pre className="payload">{JSON.stringify(d.payload, null, 2)}</pre>
                  </details>
                </th>
                <td>{d.consumer}</td>
                <td>
                  {d.error} <span className="muted">({d.attempts} attempts)</span>
                </td>
                <td>
                  {d.retried_at ? (
                    `Retried ${formatDateTime(d.retried_at)}`
                  ) : d.retry_requested_at ? (
                    "Retrying…"
                  ) : (
                    <button type="button" onClick={() => retry.mutate(d.id)} disabled={retry.isPending}>
                      Retry<span className="visually-hidden"> {d.topic} for {d.consumer}</span>
                    </button>
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
