package app

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// ChatQuiet is the window in which one conversation makes at most one
// notification and one email per offline recipient: a burst of messages
// is one "you have new messages", not a flood.
const ChatQuiet = 30 * time.Minute

// HandleChatEvent tells recipients who were offline when a message was
// sent: an in-app notification and, when notify knows their address, an
// email, each at most once per conversation per ChatQuiet.
func (s *Service) HandleChatEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	if e.Type != chatapi.EventMessageSent {
		return nil
	}
	var p chatapi.MessageSent
	if err := e.Decode(&p); err != nil {
		return err
	}
	at, err := time.Parse(time.RFC3339Nano, p.CreatedAt)
	if err != nil {
		at = e.OccurredAt
	}
	bucket := strconv.FormatInt(at.Unix()/int64(ChatQuiet.Seconds()), 10)
	link := s.publicURL + "/chat/" + p.ConversationID
	preview := p.Preview
	if preview == "" {
		preview = "(" + p.Kind + ")"
	}
	for _, user := range p.Offline {
		key := p.ConversationID + "/" + user + "/" + bucket
		if err := notifyInAppKeyed(ctx, tx, e.ID, key, user, notifyapi.KindChatMessage, "New messages in "+p.Title, preview); err != nil {
			return err
		}
		var email, name string
		err := tx.QueryRowContext(ctx, "SELECT email, name FROM notify.users WHERE user_id = ?", user).Scan(&email, &name)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.queueEmail(ctx, tx, key, notifyapi.KindChatMessage, user, email,
			map[string]any{"Name": name, "Title": p.Title, "Preview": preview, "Link": link}); err != nil {
			return err
		}
	}
	return nil
}
