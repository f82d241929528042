package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// pushed is a notification with its owner, as published.
type pushed struct {
	Notification
	UserID string `json:"-" bun:"user_id"`
}

const pushCols = "id::text, seq, kind, title, body, read_at, created_at, user_id::text"

// AfterEvent runs once the consumer's transaction committed: it pushes the
// notifications the event created to their users' live streams (and the
// event itself to the administrators' stream when it is one they watch)
// and wakes the email/text dispatcher.
func (s *Service) AfterEvent(ctx context.Context, e events.Envelope) {
	s.Wake()
	s.pushAdmin(ctx, e)
	var rows []pushed
	if err := s.db.NewRaw("SELECT "+pushCols+" FROM notify.notifications WHERE event_id = ? AND pushed_at IS NULL", e.ID).Scan(ctx, &rows); err != nil {
		s.log.WarnContext(ctx, "push: load notifications", "err", err) // the sweeper retries
		return
	}
	s.publish(ctx, rows)
}

// publish sends rows to Redis and marks them pushed. A failed publish
// leaves the row for the sweeper; a stream that misses an event live
// notices the gap at the next one, and a reconnect replays from the table.
func (s *Service) publish(ctx context.Context, rows []pushed) {
	if s.rdb == nil || len(rows) == 0 {
		return
	}
	// One round trip per batch, not per notification (a broadcast to many
	// users is one event with many rows).
	ids := make([]string, 0, len(rows))
	for start := 0; start < len(rows); start += 1000 {
		batch := rows[start:min(start+1000, len(rows))]
		pipe := s.rdb.Pipeline()
		for _, n := range batch {
			push.Queue(ctx, pipe, n.UserID, Encode(n.Notification))
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "push: publish", "err", err)
		}
		for i, c := range cmds {
			if c.Err() == nil {
				ids = append(ids, batch[i].ID)
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notify.notifications SET pushed_at = now() WHERE id = ANY(?::uuid[])", pgdialect.Array(ids)); err != nil {
		s.log.WarnContext(ctx, "push: mark pushed", "err", err)
	}
}

// SweepPushes publishes notifications whose push a crash or a Redis
// outage interrupted (older than a few seconds and still unpushed).
func (s *Service) SweepPushes(ctx context.Context) error {
	var rows []pushed
	err := s.db.NewRaw("SELECT "+pushCols+` FROM notify.notifications
		WHERE pushed_at IS NULL AND created_at < now() - interval '3 seconds' ORDER BY user_id, seq LIMIT 500`).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	s.publish(ctx, rows)
	return nil
}

// Since is the user's notifications after seq, oldest first (resume).
func (s *Service) Since(ctx context.Context, userID string, seq int64, limit int) ([]Notification, error) {
	var rows []Notification
	err := s.db.NewRaw(`SELECT id::text, seq, kind, title, body, read_at, created_at FROM notify.notifications
		WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`, userID, seq, limit).Scan(ctx, &rows)
	return rows, err
}

// LastSeq is the user's latest seq (0 without notifications): where a
// stream without Last-Event-ID starts.
func (s *Service) LastSeq(ctx context.Context, userID string) (int64, error) {
	var seq int64
	err := s.db.NewRaw("SELECT coalesce(max(seq), 0) FROM notify.notifications WHERE user_id = ?", userID).Scan(ctx, &seq)
	return seq, err
}

// sweepEvery is how often Run looks for unpushed notifications.
const sweepEvery = 2 * time.Second

// Encode is a notification's JSON as pushed and streamed.
func Encode(n Notification) []byte {
	data, _ := json.Marshal(n)
	return data
}
