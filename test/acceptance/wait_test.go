package acceptance

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/opencommerce/commerce/internal/platform/wait"
)

// eventually polls ok until it holds, failing after limit: the suite waits
// on outcomes, never for a fixed time.
func eventually(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	wait.Until(t, what, limit, 50*time.Millisecond, ok)
}

// conn is a connection to the shop's database, for waits and test
// set-ups that read or adjust its state directly; the caller closes it.
func (s *shop) conn(ctx context.Context) *pgx.Conn {
	s.t.Helper()
	c, err := pgx.Connect(ctx, s.env["DATABASE_URL"])
	if err != nil {
		s.t.Fatalf("connect to the shop's database: %v", err)
	}
	return c
}

// expireDeadClaims lets the leases of messages a killed process had
// claimed run out now: a dispatcher killed mid-send leaves its message
// pending with next_attempt_at a claim lease (a minute) ahead, and only
// then is it sent again (the same Message-ID). Tests that SIGKILL the
// binary call this after the old process is gone, so that the resend
// happens within their waits instead of a minute later; the message is
// still delivered by the new process's dispatcher, as it would be after
// the lease.
func (s *shop) expireDeadClaims() {
	s.t.Helper()
	ctx := context.Background()
	c := s.conn(ctx)
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `UPDATE notify.emails SET next_attempt_at = now()
		WHERE status = 'pending' AND attempts > 0 AND next_attempt_at > now()`); err != nil {
		s.t.Fatalf("expire the killed process's email claims: %v", err)
	}
}

// settle precedes an assertion that something does NOT happen (no second
// email, no change): that cannot be waited for, so it waits for what can
// be — every committed event sequenced and read by every consumer (or
// forwarder) of the database, and no email left pending — and then leaves
// a short window for a stray effect (one hop further, e.g. through Kafka
// in the split topology) to show.
func (s *shop) settle() {
	s.t.Helper()
	ctx := context.Background()
	c := s.conn(ctx)
	defer c.Close(ctx)
	// Consumers on the database's transport move their offsets to the head
	// once nothing of theirs waits; the split topology's forwarders to
	// Kafka stop at their own last event, so there only sequencing counts.
	offsets := `SELECT count(*) FROM events.consumer_offsets WHERE seq < (SELECT coalesce(max(seq), 0) FROM events.outbox)`
	if splitMode {
		offsets = `SELECT 0`
	}
	var n int
	eventually(s.t, "the outbox drained and no email pending", 20*time.Second, func() bool {
		err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM events.outbox WHERE seq IS NULL)
			+ (`+offsets+`)
			+ (SELECT count(*) FROM notify.emails WHERE status = 'pending')`).Scan(&n)
		return err == nil && n == 0
	})
	time.Sleep(250 * time.Millisecond)
}
