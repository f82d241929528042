import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { role } from "../api/session";
import { chatRoute } from "../router";
import { ChatPanel } from "./Chat";
import { conversationsQuery } from "./queries";
import { QueryError } from "./QueryError";

// ChatPage is where a chat email's link lands (/chat/<conversation id>):
// the conversation in the shared panel, for its participants.
export function ChatPage() {
  const { id } = chatRoute.useParams();
  const convs = useQuery(conversationsQuery);
  if (convs.isPending) return <p role="status">Loading…</p>;
  if (convs.error) return <QueryError error={convs.error} />;
  const c = convs.data.items.find((x) => x.id === id);
  if (!c) {
    return (
      <section>
        <h1>Conversation not found</h1>
        <p>
          {role() === "admin" ? (
            <>
              Join it from the <Link to="/admin/support">support inbox</Link> first.
            </>
          ) : (
            <>
              It may have been closed. Open <strong>Support</strong> at the bottom of any page to start a new one.
            </>
          )}
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>{c.title}</h1>
      {c.status === "closed" ? <p className="muted">This conversation is closed.</p> : null}
      <ChatPanel conversationId={c.id} />
    </section>
  );
}
