import { useEffect, useId, useRef, useState } from "react";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { subscribeNotifications, type Notification } from "../live/notifications";
import { QueryError } from "./QueryError";
import "./account.css";

type List = { items: Notification[]; next_cursor: string | null; unread: number };

const PAGE = 20;
export const notificationsKey = ["me", "notifications"] as const;
export const notificationsQuery = queryOptions({
  queryKey: notificationsKey,
  queryFn: async ({ signal }): Promise<List> => unwrap(await api.GET("/api/v1/notifications", { params: { query: { limit: PAGE } }, signal })),
});

// How many read requests run at once for "Mark all read", and how many
// pages it looks through for unread ones beyond the first.
const MARK_CONCURRENCY = 4;
const MARK_MAX_PAGES = 10;

async function markRead(id: string): Promise<void> {
  unwrap(await api.POST("/api/v1/notifications/{id}/read", { params: { path: { id } } }));
}

// pool runs fn over items with at most n in flight; it settles them all.
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const out: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T);
        out[i] = { status: "fulfilled", value: undefined };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// withPushed adds a pushed notification to the cached list (deduplicated
// by id) and counts it as unread.
function withPushed(old: List | undefined, n: Notification): List | undefined {
  if (!old || old.items.some((x) => x.id === n.id)) return old;
  return { ...old, items: [n, ...old.items], unread: old.unread + (n.read_at ? 0 : 1) };
}

function withRead(old: List | undefined, ids: Set<string>): List | undefined {
  if (!old) return old;
  const now = new Date().toISOString();
  let marked = 0;
  const items = old.items.map((x) => {
    if (!ids.has(x.id) || x.read_at) return x;
    marked++;
    return { ...x, read_at: now };
  });
  return { ...old, items, unread: Math.max(0, old.unread - marked) };
}

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFmt.format(d);
}

// NotificationsBell is the header's notifications button and popover:
// the unread count rises live as notifications are pushed.
export function NotificationsBell() {
  const qc = useQueryClient();
  const list = useQuery(notificationsQuery);
  const [open, setOpen] = useState(false);
  const popId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  // The session's one live stream: pushed notifications join the list.
  useEffect(
    () =>
      subscribeNotifications((n) => {
        if (!qc.getQueryData(notificationsKey)) {
          // Not loaded yet (or loading): the fetch will include it.
          void qc.invalidateQueries({ queryKey: notificationsKey });
          return;
        }
        qc.setQueryData<List>(notificationsKey, (old) => withPushed(old, n));
      }),
    [qc],
  );

  // Close on a click outside or Escape.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (rootRef.current && e.target instanceof Node && !rootRef.current.contains(e.target)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const readOne = useMutation({
    mutationFn: markRead,
    onMutate: (id) => {
      qc.setQueryData<List>(notificationsKey, (old) => withRead(old, new Set([id])));
    },
    onError: () => void qc.invalidateQueries({ queryKey: notificationsKey }),
  });

  const readAll = useMutation({
    mutationFn: async () => {
      // The loaded page first, then any further pages (bounded).
      const cached = qc.getQueryData<List>(notificationsKey);
      const ids = new Set((cached?.items ?? []).filter((x) => !x.read_at).map((x) => x.id));
      let cursor = cached?.next_cursor ?? null;
      let seen = (cached?.items ?? []).filter((x) => !x.read_at).length;
      for (let page = 0; cursor && page < MARK_MAX_PAGES && seen < (cached?.unread ?? 0); page++) {
        const r = unwrap(await api.GET("/api/v1/notifications", { params: { query: { limit: 50, cursor } } }));
        for (const x of r.items) {
          if (x.read_at || ids.has(x.id)) continue;
          ids.add(x.id);
          seen++;
        }
        cursor = r.next_cursor;
      }
      qc.setQueryData<List>(notificationsKey, (old) => withRead(old, ids));
      const results = await pool([...ids], MARK_CONCURRENCY, markRead);
      const failed = results.filter((r) => r.status === "rejected");
      if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: notificationsKey }),
  });

  const unread = list.data?.unread ?? 0;
  const label = unread > 0 ? `Notifications (${unread} unread)` : "Notifications";

  return (
    <div className="bell" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="bell-button"
        aria-label={label}
        aria-expanded={open}
        aria-controls={open ? popId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" focusable="false">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
          />
        </svg>
        {unread > 0 ? (
          <span className="bell-badge" aria-hidden="true">
            {unread > 99 ? "99+" : unread}
          </span>
        ) : null}
      </button>
      {open ? (
        <div id={popId} className="bell-pop" role="region" aria-label="Notifications list">
          <div className="bell-head">
            <h2>Notifications</h2>
            <button type="button" className="link" onClick={() => readAll.mutate()} disabled={readAll.isPending || unread === 0}>
              Mark all read
            </button>
          </div>
          {readAll.error ? <QueryError error={readAll.error} /> : null}
          {list.isPending ? <p role="status">Loading…</p> : null}
          {list.error ? <QueryError error={list.error} /> : null}
          {list.data && list.data.items.length === 0 ? <p className="muted">No notifications yet.</p> : null}
          {list.data && list.data.items.length > 0 ? (
            <ul className="bell-list">
              {list.data.items.map((n) => (
                <li key={n.id} className={n.read_at ? "bell-item" : "bell-item unread"}>
                  <button type="button" className="bell-entry" onClick={() => !n.read_at && readOne.mutate(n.id)}>
                    <span className="bell-title">
                      {n.read_at ? null : <span className="visually-hidden">Unread: </span>}
                      {n.title}
                    </span>
                    <span className="bell-body">{n.body}</span>
                    <time className="bell-time" dateTime={n.created_at}>
                      {formatTime(n.created_at)}
                    </time>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
