import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ChatPanel } from "../Chat";
import { conversationsKey, conversationsQuery, profileQuery } from "../queries";
import { QueryError } from "../QueryError";

// SupportInbox is the admins' side of the support chat: open support
// conversations without an agent (Join), and the ones the admin has
// joined, in the same chat panel shoppers use.
export function SupportInbox() {
  const qc = useQueryClient();
  const me = useQuery(profileQuery);
  const convs = useQuery({ ...conversationsQuery, refetchInterval: 15_000 });
  const [selected, setSelected] = useState<string | null>(null);
  const join = useMutation({
    mutationFn: async (id: string) => {
      await unwrap(await api.POST("/api/v1/chat/conversations/{id}/join", { params: { path: { id } } }));
      return id;
    },
    onSuccess: async (id) => {
      await qc.invalidateQueries({ queryKey: conversationsKey });
      setSelected(id);
    },
  });

  if (me.error || convs.error) return <QueryError error={me.error ?? convs.error} />;
  if (me.isPending || convs.isPending) return <p role="status">Loading…</p>;
  const open = convs.data.items.filter((c) => c.kind === "support" && c.status === "open");
  const mine = (c: (typeof open)[number]) => c.participants.some((p) => p.user_id === me.data.id);
  const waiting = open.filter((c) => !mine(c) && !c.assigned);
  const joined = open.filter(mine);

  return (
    <section className="admin-support">
      <h1>Support</h1>
      <div className="admin-support-layout">
        <div>
          <h2>Waiting for an agent</h2>
          {waiting.length === 0 ? <p className="muted">No one is waiting.</p> : null}
          <ul className="plain">
            {waiting.map((c) => (
              <li key={c.id}>
                <span>{c.title}</span> <span className="muted">{new Date(c.last_message_at ?? c.created_at).toLocaleString()}</span>{" "}
                <button type="button" onClick={() => join.mutate(c.id)} disabled={join.isPending}>
                  Join<span className="visually-hidden"> {c.title}</span>
                </button>
              </li>
            ))}
          </ul>
          {join.error ? <QueryError error={join.error} /> : null}
          <h2>Your conversations</h2>
          {joined.length === 0 ? <p className="muted">None yet.</p> : null}
          <ul className="plain">
            {joined.map((c) => (
              <li key={c.id}>
                <button type="button" className="link" aria-current={selected === c.id ? "true" : undefined} onClick={() => setSelected(c.id)}>
                  {c.title}
                  {c.unread > 0 ? ` (${c.unread} unread)` : ""}
                </button>
              </li>
            ))}
          </ul>
        </div>
        <div>{selected ? <ChatPanel key={selected} conversationId={selected} /> : <p className="muted">Join or pick a conversation.</p>}</div>
      </div>
    </section>
  );
}
