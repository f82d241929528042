package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/notify"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
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
	apply := func() { applyEvent(t, db, c, ev) }
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
	// No second email: that cannot be waited for, so wait until no email
	// is pending any more (a duplicate would be sent by then), then leave
	// a short settle.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var pending int
		if err := db.NewRaw("SELECT count(*) FROM notify.emails WHERE status = 'pending'").Scan(ctx, &pending); err == nil && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("emails still pending")
		}
	}
	time.Sleep(100 * time.Millisecond)
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

// applyEvent does what the bus does: inbox row and effect in one
// transaction, then the After hook.
func applyEvent(t *testing.T, db *pg.DB, c events.Consumer, ev events.Envelope) {
	t.Helper()
	ctx := context.Background()
	applied := false
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO "+c.Inbox+" (consumer, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.Name, ev.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		applied = true
		return c.Handle(ctx, tx, ev)
	})
	if err != nil {
		t.Error(err)
		return
	}
	if applied && c.After != nil {
		c.After(ctx, ev)
	}
}

func consumerOf(t *testing.T, m *notify.Module, topic string) events.Consumer {
	for _, c := range m.Consumers() {
		for _, tp := range c.Topics {
			if tp == topic {
				return c
			}
		}
	}
	t.Fatalf("no consumer of %s", topic)
	return events.Consumer{}
}

// Order events: per-user seq numbers stay contiguous under concurrent
// events; order_paid's text goes through the second provider when the
// first fails, once; payment failures reach the order's owner.
func TestOrderNotificationsTextsAndSequence(t *testing.T) {
	db := pgtest.New(t)
	var mu sync.Mutex
	hits := map[string]int{}
	vendor := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[r.Host]++
			mu.Unlock()
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	down, up := vendor(503), vendor(200)
	m, err := notify.New(notify.Deps{DB: db, Sender: &flakySender{}, SMSProviders: down.URL + "," + up.URL, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	user := "0192b7c4-0000-7000-8000-0000000000aa"
	orders := consumerOf(t, m, orderingapi.EventOrderPaid)
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ev, _ := events.New(orderingapi.EventOrderPlaced, fmt.Sprint("o-", i), orderingapi.OrderEvent{OrderID: fmt.Sprint("o-", i), UserID: user, Total: 100, Currency: "USD", Email: "ann@example.test"})
			applyEvent(t, db, orders, ev)
		}(i)
	}
	wg.Wait()
	paid, _ := events.New(orderingapi.EventOrderPaid, "o-1", orderingapi.OrderEvent{OrderID: "o-1", UserID: user, Total: 100, Currency: "USD", Email: "ann@example.test", Phone: "+15550009999"})
	applyEvent(t, db, orders, paid)
	applyEvent(t, db, orders, paid) // redelivered: nothing new
	ctx := context.Background()
	var seqs []int64
	if err := db.NewRaw("SELECT seq FROM notify.notifications WHERE user_id = ? ORDER BY seq", user).Scan(ctx, &seqs); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 13 || seqs[0] != 1 || seqs[12] != 13 {
		t.Fatalf("seqs %v", seqs)
	}

	for i := 0; i < 3; i++ {
		if _, err := m.DispatchOnceForTest(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var provider, status string
	if err := db.QueryRowContext(ctx, "SELECT provider, status FROM notify.sms").Scan(&provider, &status); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	upHost := strings.TrimPrefix(up.URL, "http://")
	if status != "sent" || provider != upHost || hits[upHost] != 1 || hits[strings.TrimPrefix(down.URL, "http://")] != 1 {
		t.Fatalf("sms %s via %s, hits %v", status, provider, hits)
	}

	pay := consumerOf(t, m, paymentsapi.EventPaymentFailed)
	failed, _ := events.New(paymentsapi.EventPaymentFailed, "p-1", paymentsapi.PaymentEvent{OrderID: "o-1", Amount: 100, Currency: "usd"})
	stranger, _ := events.New(paymentsapi.EventPaymentFailed, "p-2", paymentsapi.PaymentEvent{OrderID: "o-unknown", Amount: 100, Currency: "usd"})
	applyEvent(t, db, pay, failed)
	applyEvent(t, db, pay, stranger)
	var kinds []string
	if err := db.NewRaw("SELECT kind FROM notify.notifications WHERE kind = 'payment_failed'").Scan(ctx, &kinds); err != nil || len(kinds) != 1 {
		t.Fatalf("payment_failed notifications %v %v", kinds, err)
	}
}
