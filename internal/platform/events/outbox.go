package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Notification channels: writers wake the relay, the relay wakes consumers.
const (
	chanOutbox = "commerce_outbox"
	chanEvents = "commerce_events"
)

// Outbox writes events in the caller's transaction, so an event exists if
// and only if the state change that produced it committed.
type Outbox struct {
	log *slog.Logger
}

// NewOutbox builds the outbox writer.
func NewOutbox(log *slog.Logger) *Outbox {
	return &Outbox{log: log}
}

// Publish appends the envelopes to events.outbox inside tx (one statement
// for the batch) and has the relay woken once tx commits.
// Rows carry no delivery position yet: the relay gives them one after
// commit, so a transaction that commits late is delivered late instead of
// being skipped by a consumer that already read past its id.
func (o *Outbox) Publish(ctx context.Context, tx bun.Tx, evs ...Envelope) error {
	if len(evs) == 0 {
		return nil
	}
	tps, end := startPublish(ctx, evs)
	err := o.publish(ctx, tx, tps, evs)
	end(err)
	return err
}

func (o *Outbox) publish(ctx context.Context, tx bun.Tx, tps []string, evs []Envelope) error {
	var q strings.Builder
	q.WriteString("INSERT INTO events.outbox (topic, event_id, aggregate_id, payload) VALUES ")
	args := make([]any, 0, 4*len(evs))
	for i, e := range evs {
		if e.TraceParent == "" {
			e.TraceParent = tps[i]
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("outbox %s: %w", e.Type, err)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?::json)")
		args = append(args, e.Type, e.ID, e.AggregateID, string(payload))
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("outbox %s: %w", evs[0].Type, err)
	}
	// The relay's wake-up: after the commit when the transaction is
	// pg.DB.InTx's (a NOTIFY inside it would serialise the commits of
	// every writer, pg/notify.go), else inside the transaction.
	if pg.NotifyAfterCommit(ctx, chanOutbox) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, '')", chanOutbox); err != nil {
		return fmt.Errorf("outbox wake-up: %w", err)
	}
	return nil
}

// wmLogger adapts slog for watermill, demoting its chatty info lines.
func wmLogger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(log.With("component", "events"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})
}
