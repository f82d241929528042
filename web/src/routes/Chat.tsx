import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import type { components } from "../api/schema";
import { chat, type ChatMessage, type MessageFrame, type Pending, type Status } from "../live/chat";
import { QueryError } from "./QueryError";
import { conversationsKey, conversationsQuery, profileQuery } from "./queries";
import "./account.css";

type Conversation = components["schemas"]["chat.Conversation"];
type History = components["schemas"]["chat.History"];


const HISTORY_PAGE = 50;
const messagesKey = (id: string) => ["me", "chat", "messages", id] as const;
const messagesQuery = (id: string) =>
  queryOptions({
    queryKey: messagesKey(id),
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/chat/conversations/{id}/messages", { params: { path: { id }, query: { limit: HISTORY_PAGE } }, signal })),
    // Live frames keep it current; a reconnect refetches it.
    staleTime: Infinity,
  });

// The server counts bytes (8 KB of UTF-8).
const MAX_TEXT_BYTES = 8 * 1024;
const TYPING_SHOWN_MS = 4000;

function validateMessage(v: string): string | undefined {
  if (v.trim() === "") return "Enter a message";
  if (new TextEncoder().encode(v).length > MAX_TEXT_BYTES) return "Message is too long (at most 8 KB)";
  return undefined;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFmt.format(d);
}

function toMessage(f: MessageFrame): ChatMessage {
  const { type: _type, duplicate: _duplicate, ...m } = f;
  return m;
}

// mergeMessage adds a live message to the cached history (newest first,
// deduplicated by id).
function mergeMessage(old: History | undefined, m: ChatMessage): History | undefined {
  if (!old) return old;
  if (old.items.some((x) => x.id === m.id)) return old;
  return { ...old, items: [m, ...old.items].sort((a, b) => b.seq - a.seq) };
}

// SupportChat is the floating Support button and panel of a signed-in
// shopper: it opens the shopper's open support conversation, or creates
// one with the first message.
export function SupportChat() {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const toggleRef = useRef<HTMLButtonElement>(null);

  function close() {
    setOpen(false);
    toggleRef.current?.focus();
  }

  return (
    <div className="chat-dock">
      {open ? (
        <section id={panelId} className="chat-panel" aria-labelledby={`${panelId}-h`} onKeyDown={(e) => e.key === "Escape" && close()}>
          <header className="chat-head">
            <h2 id={`${panelId}-h`}>Support</h2>
            <button type="button" className="chat-close" onClick={close}>
              Close<span className="visually-hidden"> support chat</span>
            </button>
          </header>
          <SupportConversation />
        </section>
      ) : null}
      <button ref={toggleRef} type="button" className="chat-toggle" aria-expanded={open} aria-controls={open ? panelId : undefined} onClick={() => (open ? close() : setOpen(true))}>
        Support
      </button>
    </div>
  );
}

function SupportConversation() {
  const qc = useQueryClient();
  const me = useQuery(profileQuery);
  const convs = useQuery(conversationsQuery);
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/chat/conversations", { body: { title: "Support" } })),
    onSuccess: (c) => {
      qc.setQueryData(conversationsQuery.queryKey, (old) => (old ? { ...old, items: [c, ...old.items.filter((x) => x.id !== c.id)] } : { items: [c] }));
    },
  });

  if (me.error) return <QueryError error={me.error} />;
  if (convs.error) return <QueryError error={convs.error} />;
  if (me.isPending || convs.isPending) return <p role="status">Loading…</p>;
  const mine = convs.data.items.filter((c) => c.kind === "support" && c.status === "open" && c.created_by === me.data.id);
  // The most recently active one, if several are open.
  mine.sort((a, b) => (b.last_message_at ?? b.created_at).localeCompare(a.last_message_at ?? a.created_at));
  const support = mine[0];

  return (
    <ChatPanel
      conversationId={support?.id ?? null}
      createConversation={async () => (await create.mutateAsync()).id}
      onClosed={() => void qc.invalidateQueries({ queryKey: conversationsKey })}
      emptyText="Ask us anything: an agent will answer here."
    />
  );
}

export interface ChatPanelProps {
  // The conversation shown; null when it does not exist yet (then
  // createConversation makes it on the first send).
  conversationId: string | null;
  createConversation?: () => Promise<string>;
  // onClosed is called when the server says the conversation is closed.
  onClosed?: () => void;
  emptyText?: string;
}

// ChatPanel is one conversation: its history and live messages, the
// other side's typing and read receipts, and the Message box. An admin
// console can render it with the id of a support conversation it joined.
export function ChatPanel({ conversationId, createConversation, onClosed, emptyText = "No messages yet." }: ChatPanelProps) {
  const qc = useQueryClient();
  const me = useQuery(profileQuery);
  const convs = useQuery(conversationsQuery);
  const history = useQuery({ ...messagesQuery(conversationId ?? ""), enabled: conversationId !== null });
  const [pending, setPending] = useState<Pending[]>(() => (conversationId ? chat.pending(conversationId) : []));
  const [typingUntil, setTypingUntil] = useState(0);
  const [readSeq, setReadSeq] = useState(0); // the others' read position, from frames
  const [status, setStatus] = useState<Status>(chat.getStatus());
  const [sendError, setSendError] = useState<string | null>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const lastReadSent = useRef(0);
  const wasOpen = useRef(false);
  const meId = me.data?.id;

  const conversation: Conversation | undefined = convs.data?.items.find((c) => c.id === conversationId);

  // Live frames of this conversation.
  useEffect(() => {
    if (!conversationId) return;
    setPending(chat.pending(conversationId));
    setReadSeq(0);
    setTypingUntil(0);
    lastReadSent.current = 0;
    return chat.subscribe(conversationId, (e) => {
      switch (e.type) {
        case "message":
          qc.setQueryData(messagesQuery(conversationId).queryKey, (old) => mergeMessage(old, toMessage(e)));
          if (e.sender_id !== meId) setTypingUntil(0);
          return;
        case "typing":
          if (e.sender_id !== meId) setTypingUntil(Date.now() + TYPING_SHOWN_MS);
          return;
        case "read":
          if (e.sender_id !== meId && typeof e.seq === "number") setReadSeq((s) => Math.max(s, e.seq ?? 0));
          return;
        case "error":
          if (e.code === "conversation_closed") onClosed?.();
          return;
        case "outbox":
          setPending(chat.pending(conversationId));
          return;
      }
    });
    // onClosed is a fresh closure each render; the conversation is what matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, meId, qc]);

  // After a reconnect the history is reloaded: nothing sent meanwhile is missed.
  useEffect(
    () =>
      chat.onStatus((s, reconnected) => {
        setStatus(s);
        if (reconnected && conversationId) {
          void qc.invalidateQueries({ queryKey: messagesKey(conversationId) });
          void qc.invalidateQueries({ queryKey: conversationsKey });
        }
      }),
    [conversationId, qc],
  );

  // Hide the typing indicator once it lapses.
  useEffect(() => {
    if (typingUntil === 0) return;
    const t = setTimeout(() => setTypingUntil(0), Math.max(0, typingUntil - Date.now()));
    return () => clearTimeout(t);
  }, [typingUntil]);

  const messages = [...(history.data?.items ?? [])].sort((a, b) => a.seq - b.seq);
  const last = messages[messages.length - 1];

  // The panel is open: tell the others what the user has seen.
  useEffect(() => {
    if (!conversationId || !meId || status !== "open") return;
    const latestOther = [...messages].reverse().find((m) => m.sender_id !== meId);
    if (!latestOther || latestOther.seq <= lastReadSent.current) return;
    if (chat.read(conversationId, latestOther.id)) {
      lastReadSent.current = latestOther.seq;
      qc.setQueryData(conversationsQuery.queryKey, (old) =>
        old ? { ...old, items: old.items.map((c) => (c.id === conversationId ? { ...c, unread: 0 } : c)) } : old,
      );
    }
  }, [conversationId, meId, status, last?.id, messages, qc]);

  // Keep the newest message in view.
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [last?.id, pending.length]);

  const othersRead = Math.max(readSeq, ...(conversation?.participants.filter((p) => p.user_id !== meId).map((p) => p.last_read_seq) ?? [0]));
  const lastOwn = [...messages].reverse().find((m) => m.sender_id === meId);
  const seenId = lastOwn && othersRead >= lastOwn.seq ? lastOwn.id : null;

  const roleOf = (userId: string) => conversation?.participants.find((p) => p.user_id === userId)?.role;
  const senderName = (userId: string): string => {
    if (userId === meId) return "You";
    switch (roleOf(userId)) {
      case "agent":
        return "Support";
      case "customer":
        return "Customer";
      default:
        return "Member";
    }
  };
  const typingName = conversation?.participants.some((p) => p.user_id !== meId && p.role === "agent") ? "Support" : "Someone";

  const form = useForm({
    defaultValues: { message: "" },
    onSubmit: async ({ value, formApi }) => {
      setSendError(null);
      let id = conversationId;
      if (!id) {
        if (!createConversation) return;
        try {
          id = await createConversation();
        } catch (err) {
          setSendError(err instanceof ProblemError ? err.message : "Could not start the conversation. Please try again.");
          return;
        }
      }
      chat.send(id, value.message.trim());
      formApi.reset();
    },
  });

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void form.handleSubmit();
    }
  }

  const inputId = useId();
  // Connection trouble is shown only once this panel had been connected.
  if (status === "open") wasOpen.current = true;
  const reconnecting = status !== "open" && wasOpen.current;

  return (
    <div className="chat-body">
      <div ref={logRef} role="log" aria-label="Conversation" aria-live="polite" className="chat-log" tabIndex={0}>
        {history.isPending && conversationId ? <p className="muted">Loading messages…</p> : null}
        {history.error ? <QueryError error={history.error} /> : null}
        {messages.length === 0 && pending.length === 0 && !(history.isPending && conversationId) ? <p className="muted">{emptyText}</p> : null}
        {messages.map((m) => {
          const own = m.sender_id === meId;
          return (
            <div key={m.id} className={own ? "chat-msg own" : "chat-msg other"}>
              <p className="chat-meta">
                <span className="chat-sender">{senderName(m.sender_id)}</span> <time dateTime={m.created_at}>{formatTime(m.created_at)}</time>
              </p>
              <p className="chat-text">{m.text}</p>
              {m.id === seenId ? <p className="chat-seen">Seen</p> : null}
            </div>
          );
        })}
        {pending.map((p) => (
          <div key={p.client_id} className={p.failed ? "chat-msg own pending failed" : "chat-msg own pending"}>
            <p className="chat-meta">
              <span className="chat-sender">You</span> <span>{p.failed ? "Not sent" : "Sending…"}</span>
            </p>
            <p className="chat-text">{p.text}</p>
            {p.failed ? (
              <p className="chat-failed">
                <span className="error">{p.failed.message}</span>{" "}
                {p.failed.code !== "conversation_closed" ? (
                  <button type="button" className="link" onClick={() => chat.retry(p.client_id)}>
                    Retry
                  </button>
                ) : null}{" "}
                <button type="button" className="link" onClick={() => chat.discard(p.client_id)}>
                  Discard
                </button>
              </p>
            ) : null}
          </div>
        ))}
      </div>
      <p className="chat-status" aria-live="polite">
        {typingUntil > 0 ? `${typingName} is typing…` : reconnecting ? "Reconnecting…" : ""}
      </p>
      {sendError ? (
        <p role="alert" className="error">
          {sendError}
        </p>
      ) : null}
      <form
        className="chat-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        <form.Field name="message" validators={{ onSubmit: ({ value }) => validateMessage(value) }}>
          {(field) => {
            const err = field.state.meta.errors.find((x): x is string => typeof x === "string");
            return (
              <div className="field chat-field">
                <label htmlFor={inputId}>Message</label>
                <textarea
                  id={inputId}
                  name="message"
                  rows={2}
                  value={field.state.value}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={err ? `${inputId}-err` : undefined}
                  onBlur={field.handleBlur}
                  onKeyDown={onKeyDown}
                  onChange={(e) => {
                    field.handleChange(e.target.value);
                    if (conversationId && e.target.value !== "") chat.typing(conversationId);
                  }}
                />
                {err ? (
                  <p id={`${inputId}-err`} className="field-error">
                    {err}
                  </p>
                ) : null}
              </div>
            );
          }}
        </form.Field>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(submitting) => (
            <button type="submit" disabled={submitting}>
              Send
            </button>
          )}
        </form.Subscribe>
      </form>
    </div>
  );
}
