// Package app holds chat's use cases: conversations (support and group),
// participants, messages persisted in per-conversation order with
// idempotent resends, read positions and history search.
package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Limits of what one message may carry.
const (
	MaxText         = 8 * 1024
	MaxClientID     = 64
	MaxTitle        = 200
	MaxParticipants = 50
)

// Errors of chat.
var (
	ErrNotFound     = errs.New(errs.NotFound, "not_found", "conversation not found")
	ErrClosed       = errs.New(errs.Conflict, "conversation_closed", "the conversation is closed; reopen it to write")
	ErrNotSupport   = errs.New(errs.Conflict, "not_support", "only support conversations can be joined")
	ErrAdminOnly    = errs.New(errs.Forbidden, "forbidden", "only admins can join support conversations")
	ErrTooLarge     = errs.New(errs.Invalid, "message_too_large", "a message holds at most 8 KB of text")
	ErrBadMessage   = errs.New(errs.Invalid, "bad_message", "a message needs a client_id (1-64 characters) and text, or an image/file attachment with an http(s) url")
	ErrUnknownUsers = errs.New(errs.Invalid, "unknown_participants", "participant_ids must be existing users")
)

// Service runs chat's use cases.
type Service struct {
	db     *pg.DB
	outbox *events.Outbox
	auth   authapi.Auth
	log    *slog.Logger
	online func(ctx context.Context, users []string) map[string]bool
}

// SetPresence tells the service who is connected (the live side knows),
// so chat.message_sent can name the recipients to reach another way.
func (s *Service) SetPresence(online func(ctx context.Context, users []string) map[string]bool) {
	s.online = online
}

// New builds the service; auth checks participants exist.
func New(db *pg.DB, outbox *events.Outbox, auth authapi.Auth, log *slog.Logger) *Service {
	return &Service{db: db, outbox: outbox, auth: auth, log: log}
}

// Participant is a member of a conversation.
type Participant struct {
	UserID      string `json:"user_id" bun:"user_id"`
	Role        string `json:"role" bun:"role" enum:"owner,member,customer,agent"`
	LastReadSeq int64  `json:"last_read_seq" bun:"last_read_seq"`
}

// Conversation is a conversation as its participants see it.
type Conversation struct {
	ID            string        `json:"id" bun:"id"`
	Kind          string        `json:"kind" bun:"kind" enum:"support,group"`
	Title         string        `json:"title" bun:"title"`
	Status        string        `json:"status" bun:"status" enum:"open,closed"`
	CreatedBy     string        `json:"created_by" bun:"created_by"`
	CreatedAt     time.Time     `json:"created_at" bun:"created_at"`
	LastMessageAt *time.Time    `json:"last_message_at" bun:"last_message_at"`
	LastSeq       int64         `json:"last_seq" bun:"last_seq"`
	Unread        int           `json:"unread" bun:"unread"`
	Assigned      bool          `json:"assigned" bun:"assigned"`
	Participants  []Participant `json:"participants" bun:"-"`
}

// Attachment is the metadata of an image or file message.
type Attachment struct {
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
	Size int64  `json:"size,omitempty"`
	Mime string `json:"mime,omitempty"`
}

// Message is a stored message.
type Message struct {
	ID             string          `json:"id" bun:"id"`
	ConversationID string          `json:"conversation_id" bun:"conversation_id"`
	Seq            int64           `json:"seq" bun:"seq"`
	SenderID       string          `json:"sender_id" bun:"sender_id"`
	ClientID       string          `json:"client_id" bun:"client_id"`
	Kind           string          `json:"kind" bun:"kind" enum:"text,image,file"`
	Text           string          `json:"text" bun:"text"`
	Attachment     json.RawMessage `json:"attachment,omitempty" bun:"attachment"`
	CreatedAt      time.Time       `json:"created_at" bun:"created_at"`
}

// OpenAPIRawTypes tells the OpenAPI document that the stored attachment
// is an Attachment.
func (Message) OpenAPIRawTypes() map[string]any {
	return map[string]any{"attachment": Attachment{}}
}

const convCols = `c.id::text, c.kind, c.title, c.status, c.created_by::text, c.created_at, c.last_message_at, c.last_seq,
	EXISTS (SELECT 1 FROM chat.participants a WHERE a.conversation_id = c.id AND a.role = 'agent') AS assigned`

// Create opens a conversation: without participants a support
// conversation of the caller (admins join it), with them a group the
// caller owns.
func (s *Service) Create(ctx context.Context, who authn.Principal, title string, participantIDs []string) (Conversation, error) {
	title = strings.TrimSpace(title)
	var fields []errs.FieldError
	if title == "" || utf8.RuneCountInString(title) > MaxTitle || !utf8.ValidString(title) {
		fields = append(fields, errs.Field("title", "must be 1-200 characters"))
	}
	seen := map[string]bool{who.UserID: true}
	var others []string
	for _, id := range participantIDs {
		if _, err := uuid.Parse(id); err != nil {
			fields = append(fields, errs.Field("participant_ids", "must be user ids"))
			break
		}
		if !seen[id] {
			seen[id] = true
			others = append(others, id)
		}
	}
	if len(others) > MaxParticipants {
		fields = append(fields, errs.Field("participant_ids", "at most 50"))
	}
	if len(fields) > 0 {
		return Conversation{}, errs.Validation(fields...)
	}
	for _, id := range others { // users live in auth: ask it, no reads of its schema
		if _, err := s.auth.User(ctx, id); err != nil {
			if errors.Is(err, authapi.ErrNotFound) {
				return Conversation{}, ErrUnknownUsers
			}
			return Conversation{}, err
		}
	}
	kind, role := "support", "customer"
	if len(participantIDs) > 0 {
		kind, role = "group", "owner"
	}
	id := uuid.Must(uuid.NewV7()).String()
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO chat.conversations (id, kind, title, created_by) VALUES (?, ?, ?, ?)", id, kind, title, who.UserID); err != nil {
			return err
		}
		users, roles := []string{who.UserID}, []string{role}
		for _, o := range others {
			users, roles = append(users, o), append(roles, "member")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chat.participants (conversation_id, user_id, role)
			SELECT ?, u, r FROM unnest(?::uuid[], ?::text[]) AS x(u, r)`, id, pgdialect.Array(users), pgdialect.Array(roles))
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	return s.Get(ctx, who, id)
}

// Get is one conversation of the caller (404 for anyone else).
func (s *Service) Get(ctx context.Context, who authn.Principal, id string) (Conversation, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Conversation{}, ErrNotFound
	}
	var cs []Conversation
	err := s.db.NewRaw(`SELECT `+convCols+`, (SELECT count(*) FROM chat.messages m WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq
			AND m.sender_id <> p.user_id) AS unread
		FROM chat.conversations c JOIN chat.participants p ON p.conversation_id = c.id AND p.user_id = ? WHERE c.id = ?`, who.UserID, id).Scan(ctx, &cs)
	if err != nil {
		return Conversation{}, err
	}
	if len(cs) == 0 {
		return Conversation{}, ErrNotFound
	}
	return cs[0], s.withParticipants(ctx, cs)
}

func (s *Service) withParticipants(ctx context.Context, cs []Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]string, len(cs))
	at := map[string]int{}
	for i := range cs {
		ids[i], at[cs[i].ID] = cs[i].ID, i
		cs[i].Participants = []Participant{}
	}
	var rows []struct {
		Participant
		ConversationID string `bun:"conversation_id"`
	}
	err := s.db.NewRaw(`SELECT conversation_id::text, user_id::text, role, last_read_seq FROM chat.participants
		WHERE conversation_id = ANY(?::uuid[]) ORDER BY joined_at, user_id`, pgdialect.Array(ids)).Scan(ctx, &rows)
	for _, r := range rows {
		cs[at[r.ConversationID]].Participants = append(cs[at[r.ConversationID]].Participants, r.Participant)
	}
	return err
}

// List is the caller's conversations, most recently active first; admins
// also get open support conversations no admin has joined yet.
func (s *Service) List(ctx context.Context, who authn.Principal) ([]Conversation, error) {
	cs := []Conversation{}
	err := s.db.NewRaw(`SELECT `+convCols+`, (SELECT count(*) FROM chat.messages m WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq
			AND m.sender_id <> p.user_id) AS unread
		FROM chat.conversations c JOIN chat.participants p ON p.conversation_id = c.id AND p.user_id = ?
		ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id LIMIT 200`, who.UserID).Scan(ctx, &cs)
	if err != nil {
		return nil, err
	}
	if who.IsAdmin() {
		var open []Conversation
		err := s.db.NewRaw(`SELECT `+convCols+`, c.last_seq AS unread FROM chat.conversations c
			WHERE c.kind = 'support' AND c.status = 'open'
			  AND NOT EXISTS (SELECT 1 FROM chat.participants a WHERE a.conversation_id = c.id AND (a.role = 'agent' OR a.user_id = ?))
			ORDER BY c.created_at LIMIT 200`, who.UserID).Scan(ctx, &open)
		if err != nil {
			return nil, err
		}
		cs = append(cs, open...)
	}
	return cs, s.withParticipants(ctx, cs)
}

// Join adds an admin to a support conversation as its agent (idempotent).
func (s *Service) Join(ctx context.Context, who authn.Principal, id string) (Conversation, error) {
	if !who.IsAdmin() {
		return Conversation{}, ErrAdminOnly
	}
	if _, err := uuid.Parse(id); err != nil {
		return Conversation{}, ErrNotFound
	}
	var kind string
	if err := s.db.NewRaw("SELECT kind FROM chat.conversations WHERE id = ?", id).Scan(ctx, &kind); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Conversation{}, ErrNotFound
		}
		return Conversation{}, err
	}
	if kind != "support" {
		return Conversation{}, ErrNotSupport
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chat.participants (conversation_id, user_id, role) VALUES (?, ?, 'agent')
		ON CONFLICT DO NOTHING`, id, who.UserID); err != nil {
		return Conversation{}, err
	}
	return s.Get(ctx, who, id)
}

// SetStatus closes or reopens a conversation (any participant).
func (s *Service) SetStatus(ctx context.Context, who authn.Principal, id, status string) (Conversation, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Conversation{}, ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, `UPDATE chat.conversations c SET status = ? WHERE c.id = ?
		AND EXISTS (SELECT 1 FROM chat.participants p WHERE p.conversation_id = c.id AND p.user_id = ?)`, status, id, who.UserID)
	if err != nil {
		return Conversation{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Conversation{}, ErrNotFound
	}
	return s.Get(ctx, who, id)
}

// Participants lists the user ids of a conversation (for delivery).
func (s *Service) Participants(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := s.db.NewRaw("SELECT user_id::text FROM chat.participants WHERE conversation_id = ?", id).Scan(ctx, &out)
	return out, err
}

// IsParticipant reports whether user is in the conversation.
func (s *Service) IsParticipant(ctx context.Context, userID, id string) (bool, error) {
	if _, err := uuid.Parse(id); err != nil {
		return false, nil
	}
	var ok bool
	err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM chat.participants WHERE conversation_id = ? AND user_id = ?)", id, userID).Scan(ctx, &ok)
	return ok, err
}

// Contacts are the users sharing a conversation with user (who hear of
// its presence).
func (s *Service) Contacts(ctx context.Context, userID string) ([]string, error) {
	var out []string
	err := s.db.NewRaw(`SELECT DISTINCT o.user_id::text FROM chat.participants me
		JOIN chat.participants o ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id
		WHERE me.user_id = ? LIMIT 1000`, userID).Scan(ctx, &out)
	return out, err
}

// SendInput is a message as a client sends it.
type SendInput struct {
	ConversationID string
	ClientID       string
	Kind           string // text (default), image, file
	Text           string
	Attachment     *Attachment
}

func (in *SendInput) validate() error {
	if in.Kind == "" {
		in.Kind = "text"
	}
	if len(in.Text) > MaxText {
		return ErrTooLarge
	}
	if in.ClientID == "" || len(in.ClientID) > MaxClientID || !utf8.ValidString(in.Text) || !utf8.ValidString(in.ClientID) {
		return ErrBadMessage
	}
	switch in.Kind {
	case "text":
		if strings.TrimSpace(in.Text) == "" || in.Attachment != nil {
			return ErrBadMessage
		}
	case "image", "file":
		a := in.Attachment
		if a == nil || len(a.URL) > 2048 || len(a.Name) > 255 || len(a.Mime) > 100 || a.Size < 0 {
			return ErrBadMessage
		}
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return ErrBadMessage
		}
	default:
		return ErrBadMessage
	}
	return nil
}

// Sent is the outcome of Send: the message (the stored one for a resend),
// whether it was a resend, and who is in the conversation.
type Sent struct {
	Message    Message
	Duplicate  bool
	Recipients []string
}

// Send stores a message before anyone is told of it: the next seq of the
// conversation (the row lock orders concurrent senders), the message, the
// sender's read position and chat.message_sent, in one transaction. A
// resend with the same client_id returns the stored message.
func (s *Service) Send(ctx context.Context, who authn.Principal, in SendInput) (Sent, error) {
	if err := in.validate(); err != nil {
		return Sent{}, err
	}
	if _, err := uuid.Parse(in.ConversationID); err != nil {
		return Sent{}, ErrNotFound
	}
	// One read gives both the membership check and, with presence read
	// before the transaction (no network call inside it), who is offline.
	users, err := s.Participants(ctx, in.ConversationID)
	if err != nil {
		return Sent{}, err
	}
	if !slices.Contains(users, who.UserID) {
		return Sent{}, ErrNotFound
	}
	on := map[string]bool{}
	if s.online != nil {
		on = s.online(ctx, users)
	}
	var offline []string
	for _, u := range users {
		if u != who.UserID && !on[u] {
			offline = append(offline, u)
		}
	}
	var out Sent
	var attachment any
	if in.Attachment != nil {
		b, _ := json.Marshal(in.Attachment)
		attachment = string(b)
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var existing []Message
		if err := tx.NewRaw(`SELECT `+msgCols+` FROM chat.messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?`,
			in.ConversationID, who.UserID, in.ClientID).Scan(ctx, &existing); err != nil {
			return err
		}
		if len(existing) > 0 {
			out.Message, out.Duplicate = existing[0], true
			return nil
		}
		var seq int64
		err := tx.NewRaw(`UPDATE chat.conversations SET last_seq = last_seq + 1, last_message_at = now()
			WHERE id = ? AND status = 'open' RETURNING last_seq`, in.ConversationID).Scan(ctx, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrClosed
		}
		if err != nil {
			return err
		}
		m := Message{ID: uuid.Must(uuid.NewV7()).String(), ConversationID: in.ConversationID, Seq: seq, SenderID: who.UserID,
			ClientID: in.ClientID, Kind: in.Kind, Text: in.Text}
		if err := tx.NewRaw(`INSERT INTO chat.messages (id, conversation_id, seq, sender_id, client_id, kind, text, attachment)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb) RETURNING created_at, attachment`, m.ID, m.ConversationID, seq, m.SenderID, m.ClientID, m.Kind, m.Text, attachment).
			Scan(ctx, &m.CreatedAt, &m.Attachment); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE chat.participants SET last_read_seq = ? WHERE conversation_id = ? AND user_id = ?", seq, m.ConversationID, who.UserID); err != nil {
			return err
		}
		if err := tx.NewRaw("SELECT user_id::text FROM chat.participants WHERE conversation_id = ?", m.ConversationID).Scan(ctx, &out.Recipients); err != nil {
			return err
		}
		preview := m.Text
		if r := []rune(preview); len(r) > 140 {
			preview = string(r[:140])
		}
		var others []string
		for _, r := range out.Recipients {
			if r != who.UserID {
				others = append(others, r)
			}
		}
		var title string
		if err := tx.NewRaw("SELECT title FROM chat.conversations WHERE id = ?", m.ConversationID).Scan(ctx, &title); err != nil {
			return err
		}
		ev, err := events.New(chatapi.EventMessageSent, m.ConversationID, chatapi.MessageSent{MessageID: m.ID, ConversationID: m.ConversationID,
			SenderID: m.SenderID, Recipients: others, Offline: offline, Title: title, Kind: m.Kind, Preview: preview,
			CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339Nano)})
		if err != nil {
			return err
		}
		out.Message = m
		return s.outbox.Publish(ctx, tx, ev)
	})
	if err != nil {
		return Sent{}, err
	}
	if out.Duplicate {
		out.Recipients, err = s.Participants(ctx, in.ConversationID)
	}
	return out, err
}

const msgCols = "id::text, conversation_id::text, seq, sender_id::text, client_id, kind, text, attachment, created_at"

// MarkRead moves the caller's read position to the message (or to the
// latest when messageID is empty); it never moves back. It returns the
// position and the participants to tell.
func (s *Service) MarkRead(ctx context.Context, who authn.Principal, convID, messageID string) (int64, []string, error) {
	if ok, err := s.IsParticipant(ctx, who.UserID, convID); err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return 0, nil, err
	}
	target := "(SELECT last_seq FROM chat.conversations WHERE id = ?)"
	args := []any{convID}
	if messageID != "" {
		if _, err := uuid.Parse(messageID); err != nil {
			return 0, nil, ErrNotFound
		}
		target = "(SELECT seq FROM chat.messages WHERE id = ? AND conversation_id = ?)"
		args = []any{messageID, convID}
	}
	var seq int64
	err := s.db.NewRaw(`UPDATE chat.participants SET last_read_seq = greatest(last_read_seq, coalesce(`+target+`, 0))
		WHERE conversation_id = ? AND user_id = ? RETURNING last_read_seq`, append(args, convID, who.UserID)...).Scan(ctx, &seq)
	if err != nil {
		return 0, nil, err
	}
	users, err := s.Participants(ctx, convID)
	return seq, users, err
}

// Messages pages a conversation's history, newest first, before a seq
// (the cursor); q searches the text (PostgreSQL full text).
func (s *Service) Messages(ctx context.Context, who authn.Principal, convID, before string, limit int, q string) ([]Message, *string, error) {
	if ok, err := s.IsParticipant(ctx, who.UserID, convID); err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return nil, nil, err
	}
	sqlq := "SELECT " + msgCols + " FROM chat.messages WHERE conversation_id = ?"
	args := []any{convID}
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n < 0 {
			return nil, nil, errs.Validation(errs.Field("before", "must be the next_cursor of a previous page"))
		}
		sqlq += " AND seq < ?"
		args = append(args, n)
	}
	if q = strings.TrimSpace(q); q != "" {
		if len(q) > 200 || !utf8.ValidString(q) {
			return nil, nil, errs.Validation(errs.Field("q", "must be text of at most 200 bytes"))
		}
		sqlq += " AND tsv @@ plainto_tsquery('simple', ?)"
		args = append(args, q)
	}
	sqlq += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)
	items := []Message{}
	if err := s.db.NewRaw(sqlq, args...).Scan(ctx, &items); err != nil {
		return nil, nil, err
	}
	var next *string
	if len(items) > limit {
		items = items[:limit]
		c := strconv.FormatInt(items[len(items)-1].Seq, 10)
		next = &c
	}
	return items, next, nil
}
