package events

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// chanRetries announces requested dead-letter retries (payload: the
// consumer's name) to the processes hosting consumers.
const chanRetries = "commerce_dead_letter_retries"

// Errors of the dead-letter administration.
var (
	// ErrDeadLetterNotFound answers a retry of an id that does not exist.
	ErrDeadLetterNotFound = errs.New(errs.NotFound, "not_found", "no such dead letter")
	// ErrAlreadyRetried answers a retry of a letter whose retry already
	// succeeded: its effect is applied, a second one would change nothing.
	ErrAlreadyRetried = errs.New(errs.Conflict, "already_retried", "this dead letter was already retried successfully")
	// ErrInvalidCursor answers a dead-letter cursor this server never issued.
	ErrInvalidCursor = errs.New(errs.BadRequest, "invalid_cursor", "the cursor is not valid")
)

// DeadLetter is one event a consumer gave up on, as administrators see it.
type DeadLetter struct {
	ID       int64  `json:"id"`
	Consumer string `json:"consumer"`
	Topic    string `json:"topic"`
	EventID  string `json:"event_id"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
	// Payload is the stored event envelope (a JSON string when the
	// message could not be decoded as one).
	Payload          any        `json:"payload"`
	CreatedAt        time.Time  `json:"created_at"`
	RetriedAt        *time.Time `json:"retried_at"`
	RetryRequestedAt *time.Time `json:"retry_requested_at"`
}

// deadLetterRow is a row of events.dead_letters.
type deadLetterRow struct {
	ID               int64      `bun:"id"`
	Consumer         string     `bun:"consumer"`
	Topic            string     `bun:"topic"`
	EventID          string     `bun:"event_id"`
	Error            string     `bun:"error"`
	Attempts         int        `bun:"attempts"`
	Payload          string     `bun:"payload"`
	CreatedAt        time.Time  `bun:"created_at"`
	RetriedAt        *time.Time `bun:"retried_at"`
	RetryRequestedAt *time.Time `bun:"retry_requested_at"`
}

const deadLetterCols = "id, consumer, topic, event_id, error, attempts, payload::text AS payload, created_at, retried_at, retry_requested_at"

func (r deadLetterRow) dto() DeadLetter {
	return DeadLetter{ID: r.ID, Consumer: r.Consumer, Topic: r.Topic, EventID: r.EventID, Error: r.Error, Attempts: r.Attempts,
		Payload: json.RawMessage(r.Payload), CreatedAt: r.CreatedAt, RetriedAt: r.RetriedAt, RetryRequestedAt: r.RetryRequestedAt}
}

// PendingDeadLetters counts the dead letters, by consumer, that no retry
// has delivered yet (retried_at unset): the one definition of the
// commerce_dead_letters gauge and of the admin dashboard's figure.
func PendingDeadLetters(ctx context.Context, db bun.IDB) (map[string]int64, error) {
	var rows []struct {
		Consumer string `bun:"consumer"`
		N        int64  `bun:"n"`
	}
	if err := db.NewRaw("SELECT consumer, count(*) AS n FROM events.dead_letters WHERE retried_at IS NULL GROUP BY consumer").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Consumer] = r.N
	}
	return out, nil
}

// DeadLetterFilter narrows ListDeadLetters; empty fields match all.
type DeadLetterFilter struct {
	Consumer, Topic string
	Cursor          string
	Limit           int
}

// ListDeadLetters pages events.dead_letters: letters not yet retried
// first, then retried ones, newest first within each group. The cursor is
// opaque (the group and id of the last row).
func ListDeadLetters(ctx context.Context, db bun.IDB, f DeadLetterFilter) ([]DeadLetter, *string, error) {
	q := db.NewSelect().TableExpr("events.dead_letters").ColumnExpr(deadLetterCols)
	if f.Consumer != "" {
		q = q.Where("consumer = ?", f.Consumer)
	}
	if f.Topic != "" {
		q = q.Where("topic = ?", f.Topic)
	}
	if f.Cursor != "" {
		retried, id, err := decodeDLCursor(f.Cursor)
		if err != nil {
			return nil, nil, err
		}
		q = q.Where("((retried_at IS NOT NULL)::int > ? OR ((retried_at IS NOT NULL)::int = ? AND id < ?))", retried, retried, id)
	}
	var rows []deadLetterRow
	if err := q.OrderExpr("(retried_at IS NOT NULL), id DESC").Limit(int64(f.Limit+1)).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("list dead letters: %w", err)
	}
	var next *string
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		c := encodeDLCursor(last.RetriedAt != nil, last.ID)
		next = &c
	}
	out := make([]DeadLetter, len(rows))
	for i, r := range rows {
		out[i] = r.dto()
	}
	return out, next, nil
}

func encodeDLCursor(retried bool, id int64) string {
	g := "0"
	if retried {
		g = "1"
	}
	return base64.RawURLEncoding.EncodeToString([]byte("dl:" + g + ":" + strconv.FormatInt(id, 10)))
}

func decodeDLCursor(c string) (retried int, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, ErrInvalidCursor
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "dl" || (parts[1] != "0" && parts[1] != "1") {
		return 0, 0, ErrInvalidCursor
	}
	id, err = strconv.ParseInt(parts[2], 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != parts[2] {
		return 0, 0, ErrInvalidCursor
	}
	return int(parts[1][0] - '0'), id, nil
}

// RequestRetry asks for a dead letter to be delivered again to its
// consumer. Any process may call it: the row is marked and the processes
// are notified (on commit); the one hosting the consumer runs the retry
// (see Bus). Asking again while a retry is pending is a no-op; a letter
// already retried successfully is ErrAlreadyRetried.
func RequestRetry(ctx context.Context, db *pg.DB, id int64) (DeadLetter, error) {
	var row deadLetterRow
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`UPDATE events.dead_letters SET retry_requested_at = coalesce(retry_requested_at, now())
			WHERE id = ? AND retried_at IS NULL RETURNING `+deadLetterCols, id).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM events.dead_letters WHERE id = ?)", id).Scan(ctx, &exists); err != nil {
				return err
			}
			if exists {
				return ErrAlreadyRetried
			}
			return ErrDeadLetterNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", chanRetries, row.Consumer)
		return err
	})
	if err != nil {
		if _, ok := errs.As(err); ok {
			return DeadLetter{}, err
		}
		return DeadLetter{}, fmt.Errorf("request retry of dead letter %d: %w", id, err)
	}
	return row.dto(), nil
}

// retryLoop runs the requested retries of this bus's consumers: at start,
// on each notification and every RetryPollInterval as a fallback (a
// notification sent while the listener reconnected is lost, the request
// is not).
func (b *Bus) retryLoop(ctx context.Context) {
	wake := b.wake.subscribe(chanRetries)
	for ctx.Err() == nil {
		if err := b.runRetries(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "dead-letter retries: pass failed; retrying later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(b.cfg.RetryPollInterval):
		}
	}
}

// runRetries runs every pending retry of this bus's consumers, a batch of
// ids at a time.
func (b *Bus) runRetries(ctx context.Context) error {
	byName := map[string]Consumer{}
	names := make([]string, 0, len(b.cons))
	for _, c := range b.cons {
		byName[c.Name] = c
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return nil
	}
	var after int64
	for {
		var ids []int64
		if err := b.db.NewRaw(`SELECT id FROM events.dead_letters
			WHERE retry_requested_at IS NOT NULL AND retried_at IS NULL AND consumer IN (?) AND id > ? ORDER BY id LIMIT 100`,
			bun.In(names), after).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("pending retries: %w", err)
		}
		for _, id := range ids {
			if err := b.retryOne(ctx, byName, id); err != nil {
				return err
			}
			after = id
		}
		if len(ids) < 100 {
			return nil
		}
	}
}

// retryOne re-delivers one dead letter in one transaction: the letter's
// row is locked (another replica of the consumer skips it), then the
// event goes through the consumer's inbox and handler exactly as in a
// first delivery (inside a savepoint), and the letter is marked retried.
// If the handler fails, the savepoint is rolled back and the letter
// records the new error and one more attempt, and is no longer pending.
// An event the inbox already holds is not applied again: the retry only
// marks the letter.
func (b *Bus) retryOne(ctx context.Context, byName map[string]Consumer, id int64) error {
	var (
		c       Consumer
		env     Envelope
		applied bool
		failed  error
	)
	err := b.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		applied, failed = false, nil
		var row deadLetterRow
		err := tx.NewRaw(`SELECT `+deadLetterCols+` FROM events.dead_letters
			WHERE id = ? AND retry_requested_at IS NOT NULL AND retried_at IS NULL FOR UPDATE SKIP LOCKED`, id).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // done meanwhile, or another process is on it
		}
		if err != nil {
			return err
		}
		var ok bool
		if c, ok = byName[row.Consumer]; !ok {
			return nil
		}
		if err := json.Unmarshal([]byte(row.Payload), &env); err != nil || env.ID == "" {
			failed = fmt.Errorf("undecodable envelope: %v", err)
		} else {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT dead_letter_retry"); err != nil {
				return err
			}
			sctx, span := consumeSpan(ctx, c, row.Topic, "", env)
			applied, failed = b.applyIn(sctx, tx, c, env)
			endSpan(span, failed)
			if failed != nil {
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT dead_letter_retry"); err != nil {
					return err
				}
			}
		}
		if failed != nil {
			_, err := tx.ExecContext(ctx, `UPDATE events.dead_letters SET error = ?, attempts = attempts + 1, retry_requested_at = NULL
				WHERE id = ?`, failed.Error(), id)
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE events.dead_letters SET retried_at = now() WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("retry dead letter %d: %w", id, err)
	}
	switch {
	case failed != nil:
		b.log.WarnContext(ctx, "dead-letter retry failed", "id", id, "consumer", c.Name, "event_id", env.ID, "err", failed)
	case applied && c.After != nil:
		c.After(ctx, env)
	}
	return nil
}
