package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/notify"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// stuckSender delivers through the real SMTP sender and then never
// returns (until ctx ends): the process "dies" after the SMTP server
// accepted the email and before the dispatcher recorded it as sent.
type stuckSender struct {
	mail.Sender
	delivered chan string
}

func (s *stuckSender) Send(ctx context.Context, m mail.Message) error {
	if err := s.Sender.Send(ctx, m); err != nil {
		return err
	}
	s.delivered <- m.ID
	<-ctx.Done()
	return ctx.Err()
}

func queueVerificationEmails(t *testing.T, db *pg.DB, m *notify.Module, n int) {
	t.Helper()
	c := consumerOf(t, m, authapi.EventVerificationRequested)
	for i := range n {
		ev, err := events.New(authapi.EventVerificationRequested, "u1", authapi.TokenIssued{
			UserID: fmt.Sprintf("0192b7c4-0000-7000-8000-%012d", i+1), Email: fmt.Sprintf("user%d@example.test", i+1), Name: "Ann",
			Token: fmt.Sprintf("tok-%d", i+1), ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		applyEvent(t, db, c, ev)
	}
}

func smtpModules(t *testing.T) (*pg.DB, *mailtest.Server, *notify.Module, *notify.Module, *stuckSender) {
	t.Helper()
	db := pgtest.New(t)
	srv := mailtest.Start(t, mailtest.Plain, "", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	real, err := mail.New("smtp://"+srv.Addr+"?tls=none", "Shop <no-reply@shop.example>", log)
	if err != nil {
		t.Fatal(err)
	}
	stuck := &stuckSender{Sender: real, delivered: make(chan string, 10)}
	dying, err := notify.New(notify.Deps{DB: db, Sender: stuck, PublicURL: "https://shop.example/", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	next, err := notify.New(notify.Deps{DB: db, Sender: real, PublicURL: "https://shop.example/", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return db, srv, dying, next, stuck
}

// An email whose send succeeded but whose "sent" was never recorded (the
// process died in between) is sent again, at least once, as the same
// message: the same Message-ID, <row id@MAIL_FROM's domain>. Until the
// claim's lease runs out no other dispatcher sends it.
func TestEmailResentAfterACrashHasTheSameMessageID(t *testing.T) {
	db, srv, dying, next, stuck := smtpModules(t)
	ctx := context.Background()
	queueVerificationEmails(t, db, dying, 1)
	var rowID string
	if err := db.QueryRowContext(ctx, "SELECT id::text FROM notify.emails").Scan(&rowID); err != nil {
		t.Fatal(err)
	}

	dctx, kill := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = dying.DispatchOnceForTest(dctx) }()
	defer func() { kill(); <-done }()
	select {
	case <-stuck.delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first dispatcher did not send")
	}

	// The claim outlasts a send: another dispatcher leaves it alone.
	if n, err := next.DispatchOnceForTest(ctx); err != nil || n != 0 {
		t.Fatalf("a claimed email was taken by another dispatcher: %d %v", n, err)
	}
	// The lease runs out (the first process is dead): it is sent again.
	if _, err := db.ExecContext(ctx, "UPDATE notify.emails SET next_attempt_at = now()"); err != nil {
		t.Fatal(err)
	}
	if n, err := next.DispatchOnceForTest(ctx); err != nil || n != 1 {
		t.Fatalf("resend: %d %v", n, err)
	}
	ids := srv.MessageIDs(t, 2)
	want := "<" + rowID + "@shop.example>"
	if ids[0] != want || ids[1] != want {
		t.Fatalf("Message-IDs %q, want %s both times", ids, want)
	}
	// The dead dispatcher's late failure does not undo the resend's record.
	kill()
	<-done
	var status string
	if err := db.QueryRowContext(ctx, "SELECT status FROM notify.emails").Scan(&status); err != nil || status != "sent" {
		t.Fatalf("row after the resend: %q %v", status, err)
	}
}

// A dispatcher claims one message at a time: while it is inside one send,
// the rest of the queue is not held by it (a crash leaves at most that one
// claimed-but-unrecorded message) and another dispatcher sends them.
func TestDispatcherClaimsOneMessageAtATime(t *testing.T) {
	db, srv, dying, next, stuck := smtpModules(t)
	ctx := context.Background()
	queueVerificationEmails(t, db, dying, 3)

	dctx, kill := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = dying.DispatchOnceForTest(dctx) }()
	defer func() { kill(); <-done }()
	var first string
	select {
	case first = <-stuck.delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first dispatcher did not send")
	}
	if n, err := next.DispatchOnceForTest(ctx); err != nil || n != 2 {
		t.Fatalf("the other dispatcher sent %d (err %v), want the 2 emails not being sent", n, err)
	}
	ids := srv.MessageIDs(t, 3)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("an email was sent twice: %q", ids)
		}
		seen[id] = true
	}
	var pending int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM notify.emails WHERE status = 'pending' AND id::text = ?", first).Scan(&pending); err != nil || pending != 1 {
		t.Fatalf("the email in flight: pending=%d %v", pending, err)
	}
}
