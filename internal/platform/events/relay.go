package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// relayLock serialises sequencing across every process on the database
// (an advisory lock held for one short statement).
const relayLock = 0x636f6d6d65726365 // "commerce"

// relay gives committed outbox rows their delivery sequence, in insertion
// order within each pass, until ctx ends. It wakes on the writers'
// notification and, as a fallback, every poll interval.
//
// Why this order is safe: a row is sequenced only once it is visible,
// i.e. committed, and passes are serialised by relayLock, each numbering
// after the highest sequence already committed. So sequence numbers only
// ever appear above what a consumer has read: a slow transaction is
// delivered late, never skipped. Two events of one aggregate keep their
// order because the second transaction waits for the first's row locks
// before it writes its own outbox row.
func (b *Bus) relay(ctx context.Context) {
	wake := b.wake.subscribe(chanOutbox)
	backoff := b.cfg.BaseBackoff
	for ctx.Err() == nil {
		n, err := b.sequence(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			b.log.WarnContext(ctx, "event relay: sequencing failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff *= 2; backoff > 2*time.Second {
				backoff = 2 * time.Second
			}
			continue
		case n == relayBatch:
			continue // more waiting
		}
		backoff = b.cfg.BaseBackoff
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(b.cfg.PollInterval):
		}
	}
}

const relayBatch = 5000

// sequence numbers one batch of unsequenced rows and wakes consumers.
// With tracing on, a pass that sequenced rows is recorded as a span
// linked to the events' producer spans (see tracing.go).
func (b *Bus) sequence(ctx context.Context) (int, error) {
	var n int64
	var traceParents []string
	tracing := otelx.Tracing()
	start := time.Now()
	err := b.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(relayLock)); err != nil {
			return err
		}
		const update = `UPDATE events.outbox o SET seq = t.base + t.rn
			FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn, (SELECT coalesce(max(seq), 0) FROM events.outbox) AS base
			      FROM events.outbox WHERE seq IS NULL ORDER BY id LIMIT ?) t
			WHERE o.id = t.id`
		if tracing {
			traceParents = traceParents[:0]
			if err := tx.NewRaw(update+` RETURNING coalesce(o.payload->>'trace_parent', '')`, relayBatch).Scan(ctx, &traceParents); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			n = int64(len(traceParents))
		} else {
			res, err := tx.ExecContext(ctx, update, relayBatch)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		}
		if n > 0 {
			_, err := tx.ExecContext(ctx, "SELECT pg_notify(?, '')", chanEvents)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sequence outbox: %w", err)
	}
	if tracing {
		relaySpan(start, traceParents)
	}
	return int(n), nil
}

// maxBackoff caps retry delays of the relay, consumers and forwarder.
const maxBackoff = 2 * time.Second

// timeAfter is time.After (a seam for readability in select statements).
func timeAfter(d time.Duration) <-chan time.Time { return time.After(d) }
