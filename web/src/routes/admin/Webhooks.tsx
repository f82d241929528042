import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { formatDateTime } from "../orderQueries";
import { QueryError } from "../QueryError";
import "./admin-pages.css";

const key = ["admin", "webhooks"] as const;
const listQ = infiniteQueryOptions({
  queryKey: key,
  initialPageParam: undefined as string | undefined,
  queryFn: async ({ signal, pageParam }) => unwrap(await api.GET("/api/v1/admin/webhooks", { params: { query: { cursor: pageParam, limit: 50 } }, signal })),
  getNextPageParam: (last) => last.next_cursor ?? undefined,
});

// WebhooksAdmin: the endpoints that receive the shop's events, a form to
// register one (its signing secret is shown once), and per endpoint its
// delivery log, a ping, disable/enable and delete.
export function WebhooksAdmin() {
  const qc = useQueryClient();
  const r = useInfiniteQuery(listQ);
  const [url, setURL] = useState("");
  const [events, setEvents] = useState("*");
  const [description, setDescription] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: key });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/admin/webhooks", {
          body: { url, events: events.split(",").map((e) => e.trim()).filter(Boolean), description },
        }),
      ),
    onSuccess: (e) => {
      setSecret(e.secret);
      setURL("");
      setEvents("*");
      setDescription("");
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: async (v: { id: string; enabled: boolean }) =>
      unwrap(await api.PATCH("/api/v1/admin/webhooks/{id}", { params: { path: { id: v.id } }, body: { enabled: v.enabled } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      const res = await api.DELETE("/api/v1/admin/webhooks/{id}", { params: { path: { id } } });
      if (res.error) unwrap(res);
    },
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const rows = r.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Webhooks</h1>
      <p className="muted">Endpoints that receive the shop's events, signed with their secret (see docs/webhooks.md).</p>
      <form onSubmit={submit} aria-label="Register a webhook">
        <label>
          URL <input type="url" required value={url} onChange={(e) => setURL(e.target.value)} placeholder="https://erp.example.com/commerce" />
        </label>
        <label>
          Events <input value={events} onChange={(e) => setEvents(e.target.value)} placeholder="ordering.order_paid, fulfillment.shipped or *" />
        </label>
        <label>
          Description <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Register
        </button>
      </form>
      {create.error ? <QueryError error={create.error} /> : null}
      {secret ? (
        <p role="status">
          Signing secret, shown once: <code>{secret}</code>{" "}
          <button type="button" onClick={() => setSecret(null)}>
            Done
          </button>
        </p>
      ) : null}
      {r.error ? <QueryError error={r.error} /> : null}
      {toggle.error ? <QueryError error={toggle.error} /> : null}
      {remove.error ? <QueryError error={remove.error} /> : null}
      {r.isPending ? <p role="status">Loading…</p> : null}
      {r.data && rows.length === 0 ? <p>No webhook endpoints.</p> : null}
      {rows.length > 0 ? (
        <table className="admin-table">
          <caption className="visually-hidden">Webhook endpoints</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <Fragment key={e.id}>
                <tr>
                  <th scope="row">
                    {e.url}
                    {e.description ? <span className="muted"> ({e.description})</span> : null}
                  </th>
                  <td>{e.events.join(", ")}</td>
                  <td>
                    {e.enabled ? "Enabled" : "Disabled"}
                    {e.disabled_reason ? <span className="muted"> ({e.disabled_reason})</span> : null}
                    {e.failing_since ? <span className="muted"> failing since {formatDateTime(e.failing_since)}</span> : null}
                  </td>
                  <td>
                    <button type="button" onClick={() => setOpen(open === e.id ? null : e.id)}>
                      {open === e.id ? "Hide deliveries" : "Deliveries"}
                    </button>{" "}
                    <button type="button" onClick={() => toggle.mutate({ id: e.id, enabled: !e.enabled })} disabled={toggle.isPending}>
                      {e.enabled ? "Disable" : "Enable"}
                    </button>{" "}
                    <button type="button" aria-label={`Delete ${e.url}`} onClick={() => remove.mutate(e.id)} disabled={remove.isPending}>
                      Delete
                    </button>
                  </td>
                </tr>
                {open === e.id ? (
                  <tr>
                    <td colSpan={4}>
                      <Deliveries id={e.id} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
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

// Deliveries is one endpoint's delivery log (newest first) with ping and
// replay.
function Deliveries({ id }: { id: string }) {
  const qc = useQueryClient();
  const dkey = ["admin", "webhooks", id, "deliveries"] as const;
  const q = useQuery({
    queryKey: dkey,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/webhooks/{id}/deliveries", { params: { path: { id }, query: { limit: 50 } }, signal })),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: dkey });
  const ping = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/admin/webhooks/{id}/ping", { params: { path: { id } } })),
    onSettled: refresh,
  });
  const replay = useMutation({
    mutationFn: async (deliveryId: string) =>
      unwrap(await api.POST("/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/replay", { params: { path: { id, delivery_id: deliveryId } } })),
    onSettled: () => {
      refresh();
      setTimeout(refresh, 1500);
    },
  });
  return (
    <div>
      <button type="button" onClick={() => ping.mutate()} disabled={ping.isPending}>
        Ping
      </button>
      {q.error ? <QueryError error={q.error} /> : null}
      {ping.error ? <QueryError error={ping.error} /> : null}
      {replay.error ? <QueryError error={replay.error} /> : null}
      {q.data && q.data.items.length === 0 ? <p>No deliveries yet.</p> : null}
      <ul>
        {q.data?.items.map((d) => (
          <li key={d.id}>
            {d.event_type} <span className="muted">{d.event_id}</span> — {d.status}, {d.attempts} attempt(s)
            {d.next_attempt_at ? <span className="muted"> next {formatDateTime(d.next_attempt_at)}</span> : null}{" "}
            <button type="button" aria-label={`Replay ${d.event_type}`} onClick={() => replay.mutate(d.id)} disabled={replay.isPending}>
              Replay
            </button>
            <ol>
              {d.log.map((a) => (
                <li key={a.attempt}>
                  {formatDateTime(a.attempted_at)}: {a.response_code ?? "no response"} in {a.latency_ms} ms
                  {a.error ? ` (${a.error})` : ""}
                  {a.response_body ? (
                    <details>
                      <summary>Response</summary>
                      <pre className="payload">{a.response_body}</pre>
                    </details>
                  ) : null}
                </li>
              ))}
            </ol>
          </li>
        ))}
      </ul>
    </div>
  );
}
