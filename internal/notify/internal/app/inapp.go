package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Notification is an in-app notification. Seq numbers a user's
// notifications 1, 2, 3... in commit order; it is the SSE event id.
type Notification struct {
	ID        string     `json:"id" bun:"id"`
	Seq       int64      `json:"seq" bun:"seq"`
	Kind      string     `json:"kind" bun:"kind" enum:"verify_email,password_reset,order_placed,payment_reminder,order_paid,order_expired,order_canceled,order_refunded,order_shipped,order_delivered,chat_message,welcome,email_verified,payment_failed,payment_review,webhook_disabled"`
	Title     string     `json:"title" bun:"title"`
	Body      string     `json:"body" bun:"body"`
	ReadAt    *time.Time `json:"read_at" bun:"read_at"`
	CreatedAt time.Time  `json:"created_at" bun:"created_at"`
}

// ErrNotFound is answered for unknown notifications and other users' ones.
var ErrNotFound = errs.New(errs.NotFound, "not_found", "notification not found")

// notifyInApp stores an in-app notification inside the consumer's
// transaction. Its id is derived from the event id and kind, so a
// redelivered event cannot create a second one. The user's notification
// inserts are serialised by a transaction-scoped advisory lock, so the
// next seq is computed safely and seq order is commit order.
func notifyInApp(ctx context.Context, tx bun.Tx, eventID, userID, kind, title, body string) error {
	return notifyInAppKeyed(ctx, tx, eventID, eventID, userID, kind, title, body)
}

// notifyInAppKeyed is notifyInApp with the id derived from key instead of
// the event: an event for several users, or several events that should
// make one notification (a burst of chat messages), choose the key.
func notifyInAppKeyed(ctx context.Context, tx bun.Tx, eventID, key, userID, kind, title, body string) error {
	if _, err := uuid.Parse(userID); err != nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 7031))", "notify:"+userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notify.notifications (id, user_id, kind, title, body, event_id, seq)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM notify.notifications WHERE user_id = ?))
		ON CONFLICT (id) DO NOTHING`, derivedID(key, kind), userID, kind, title, body, eventID, userID)
	return err
}

// List pages the caller's notifications, newest first, with the unread count.
func (s *Service) List(ctx context.Context, userID, cur string, limit int) ([]Notification, *string, int, error) {
	var before string
	if cur != "" {
		var err error
		if before, err = cursor.Decode(cur); err != nil {
			return nil, nil, 0, err
		}
	}
	q := "SELECT id::text, seq, kind, title, body, read_at, created_at FROM notify.notifications WHERE user_id = ?"
	args := []any{userID}
	if before != "" {
		q += " AND created_at < (SELECT created_at FROM notify.notifications WHERE id = ?)"
		args = append(args, before)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	var rows []Notification
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, nil, 0, err
	}
	rows, next := cursor.Page(rows, limit, func(n Notification) string { return n.ID })
	if rows == nil {
		rows = []Notification{}
	}
	var unread int
	err := s.db.NewRaw("SELECT count(*) FROM notify.notifications WHERE user_id = ? AND read_at IS NULL", userID).Scan(ctx, &unread)
	return rows, next, unread, err
}

// MarkRead marks one of the caller's notifications read (idempotent).
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, "UPDATE notify.notifications SET read_at = coalesce(read_at, now()) WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkAllRead marks every unread notification of the caller read and
// returns how many were unread (GraphQL's markAllNotificationsRead).
func (s *Service) MarkAllRead(ctx context.Context, userID string) (int, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE notify.notifications SET read_at = now() WHERE user_id = ? AND read_at IS NULL", userID)
	if err != nil {
		return 0, fmt.Errorf("marking all notifications read: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("marking all notifications read: %w", err)
	}
	return int(n), nil
}
