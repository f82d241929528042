package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// purgeBatch bounds one DELETE, so that a purge of a long backlog is many
// short transactions, never one that holds locks and bloats for minutes.
const purgeBatch = 10000

// PurgeResult is what one purge did.
type PurgeResult struct {
	// Deleted counts the outbox rows removed.
	Deleted int64
	// HeldBack names the consumers whose offsets kept rows older than the
	// retention from going (a stopped or retired consumer: if it is gone
	// for good, delete its row of events.consumer_offsets).
	HeldBack []string
}

// PurgeDelivered deletes outbox rows older than retention that every
// consumer and Kafka forwarder of their topic has read past. It keeps the
// newest sequenced row whatever its age: the relay numbers new events
// after the highest sequence there is, so deleting it would reuse
// sequence numbers that consumers already read past. It records how far
// it went (events.outbox_purge) for `commerce check`. Dead letters keep
// their own copy of the event, so retrying one does not need the outbox.
//
// Why here and not in each consumer: the outbox is one table shared by
// every context of the database, so one periodic task (run once per
// period across replicas) owns it.
func PurgeDelivered(ctx context.Context, db bun.IDB, retention time.Duration) (PurgeResult, error) {
	var res PurgeResult
	if retention <= 0 {
		return res, fmt.Errorf("outbox purge: retention %s must be positive", retention)
	}
	cutoff := time.Now().Add(-retention)
	for {
		// Sequenced rows below the cutoff that every reader of their topic has
		// read past, oldest first; rows that some reader still needs stay, the
		// other topics' rows around them go.
		var n int64
		err := db.NewRaw(`WITH doomed AS (
				SELECT o.id FROM events.outbox o
				WHERE o.seq IS NOT NULL AND o.created_at < ?
				  AND o.seq < (SELECT max(seq) FROM events.outbox)
				  AND NOT EXISTS (SELECT 1 FROM events.consumer_offsets c
				                  WHERE c.seq < o.seq AND (c.topics IS NULL OR o.topic = ANY(c.topics)))
				ORDER BY o.seq LIMIT ?),
			gone AS (DELETE FROM events.outbox o USING doomed d WHERE o.id = d.id RETURNING 1)
			SELECT count(*) FROM gone`, cutoff, purgeBatch).Scan(ctx, &n)
		if err != nil {
			return res, fmt.Errorf("outbox purge: delete: %w", err)
		}
		res.Deleted += n
		if n < purgeBatch || ctx.Err() != nil {
			break
		}
	}
	if res.Deleted > 0 {
		// clock_timestamp(): after the deletes, so every email that derives
		// from a deleted event was written before it.
		if _, err := db.ExecContext(ctx, `INSERT INTO events.outbox_purge (purged_at) VALUES (clock_timestamp())
			ON CONFLICT (only_row) DO UPDATE SET purged_at = EXCLUDED.purged_at`); err != nil {
			return res, fmt.Errorf("outbox purge: record: %w", err)
		}
	}
	if err := db.NewRaw(`SELECT c.consumer FROM events.consumer_offsets c
		WHERE EXISTS (SELECT 1 FROM events.outbox o WHERE o.seq > c.seq AND o.created_at < ?
		              AND (c.topics IS NULL OR o.topic = ANY(c.topics)))
		ORDER BY c.consumer`, cutoff).Scan(ctx, &res.HeldBack); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("outbox purge: readers behind: %w", err)
	}
	return res, nil
}
