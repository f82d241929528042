package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/notify"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

type flakySender struct {
	mu    sync.Mutex
	fails int
	sent  []mail.Message
}

func (f *flakySender) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("smtp down")
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *flakySender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func TestTokenEventsBecomeEmailsExactlyOnceWithRetries(t *testing.T) {
	db := pgtest.New(t)
	sender := &flakySender{fails: 1}
	m, err := notify.New(notify.Deps{DB: db, Sender: sender, PublicURL: "https://shop.example/", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Consumers()[0]
	ev, err := events.New(authapi.EventVerificationRequested, "u1", authapi.TokenIssued{
		UserID: "0192b7c4-0000-7000-8000-000000000001", Email: "ann@example.test", Name: "Ann <b>", Token: "tok-123", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	apply := func() {
		// What the bus does: inbox row and effect in one transaction.
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.ExecContext(ctx, "INSERT INTO "+c.Inbox+" (consumer, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.Name, ev.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			return c.Handle(ctx, tx, ev)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	apply()
	apply() // redelivery
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- m.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	// The first attempt fails; the retry is scheduled 5s later. Pull it forward.
	deadline := time.Now().Add(15 * time.Second)
	for sender.count() == 0 && time.Now().Before(deadline) {
		_, _ = db.ExecContext(ctx, "UPDATE notify.emails SET next_attempt_at = now() WHERE status = 'pending' AND attempts > 0")
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := sender.count(); n != 1 {
		t.Fatalf("sent %d emails, want exactly 1", n)
	}
	msg := sender.sent[0]
	if msg.To != "ann@example.test" || !strings.Contains(msg.Text, "tok-123") || !strings.Contains(msg.Text, "https://shop.example/verify-email?token=tok-123") {
		t.Fatalf("text: %+v", msg)
	}
	if !strings.Contains(msg.HTML, "Ann &lt;b&gt;") {
		t.Fatal("HTML template must escape user data")
	}
	var status string
	var attempts int
	if err := db.QueryRowContext(ctx, "SELECT status, attempts FROM notify.emails").Scan(&status, &attempts); err != nil || status != "sent" || attempts != 2 {
		t.Fatalf("email row: %s %d %v", status, attempts, err)
	}
}
