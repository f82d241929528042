package check_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server/check"
)

const (
	product  = "00000000-0000-7000-8000-000000000001"
	paid     = "00000000-0000-7000-8000-0000000000a1"
	canceled = "00000000-0000-7000-8000-0000000000a2"
	user     = "00000000-0000-7000-8000-0000000000c1"
	paidEvt  = "00000000-0000-7000-8000-0000000000e1"
	placeEvt = "00000000-0000-7000-8000-0000000000e2"
)

// seed writes what the acceptance flow leaves behind, an hour ago: a
// product of 10 with its ledger; a paid order of 3 (reserved, committed,
// paid, fulfilled, partly refunded, emailed); a canceled order of 2
// (reserved, released); events and their emails.
func seed(t *testing.T, db *pg.DB) {
	t.Helper()
	u := "00000000-0000-7000-8000-0000000000b1"
	stmts := []string{
		`INSERT INTO catalog.products (id, sku, name, category, price, currency, status) VALUES ('` + product + `', 'P1', 'P', 'c', 1000, 'USD', 'active')`,
		`INSERT INTO catalog.stock (product_id, on_hand, reserved) VALUES ('` + product + `', 7, 0)`,
		`INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference) VALUES
			('` + product + `', 'adjust', 10, 0, 'initial stock', ''),
			('` + product + `', 'reserve', 0, 3, 'order reservation', '` + paid + `'),
			('` + product + `', 'reserve', 0, 2, 'order reservation', '` + canceled + `'),
			('` + product + `', 'commit', -3, -3, 'order paid', '` + paid + `'),
			('` + product + `', 'release', 0, -2, 'order_canceled', '` + canceled + `')`,
		`INSERT INTO catalog.reservations (order_id, product_id, quantity, status) VALUES
			('` + paid + `', '` + product + `', 3, 'committed'), ('` + canceled + `', '` + product + `', 2, 'released')`,
		`INSERT INTO ordering.orders (id, user_id, email, checkout_session_id, status, items, subtotal, discount, shipping_cost, total, currency, address, courier, payment_gateway, created_at, updated_at) VALUES
			('` + paid + `', '` + u + `', 'c@shop.test', gen_random_uuid(), 'paid', '[]', 3000, 0, 0, 3000, 'USD', '{}', 'standard', 'test', now() - interval '1 hour', now() - interval '1 hour'),
			('` + canceled + `', '` + u + `', 'c@shop.test', gen_random_uuid(), 'canceled', '[]', 2000, 0, 0, 2000, 'USD', '{}', 'standard', 'test', now() - interval '1 hour', now() - interval '1 hour')`,
		`INSERT INTO payments.payments (id, order_id, gateway, provider_intent_id, client_secret, amount, currency, status, amount_captured, amount_refunded) VALUES
			(gen_random_uuid(), '` + paid + `', 'test', 'pi_1', 's', 3000, 'USD', 'succeeded', 3000, 1000)`,
		`INSERT INTO payments.refunds (id, payment_id, amount, reason, status) SELECT gen_random_uuid(), id, 1000, 'r', 'succeeded' FROM payments.payments`,
		`INSERT INTO fulfillment.fulfillments (id, order_id, user_id, status, courier, country, currency, created_at) VALUES
			(gen_random_uuid(), '` + paid + `', '` + u + `', 'pending', 'standard', 'US', 'USD', now() - interval '1 hour')`,
		`INSERT INTO events.outbox (topic, event_id, aggregate_id, payload, created_at) VALUES
			('ordering.order_paid', '` + paidEvt + `', '` + paid + `', '{"data":{"order_id":"` + paid + `","email":"c@shop.test"}}', now() - interval '1 hour'),
			('ordering.order_placed', '` + placeEvt + `', '` + paid + `', '{"data":{"order_id":"` + paid + `","email":"c@shop.test"}}', now() - interval '1 hour')`,
		`INSERT INTO notify.emails (id, kind, to_addr, subject, text_body, html_body, created_at) VALUES
			('` + notifyapi.DerivedID(paidEvt, "email/"+notifyapi.KindOrderPaid) + `', 'order_paid', 'c@shop.test', 's', 't', 'h', now() - interval '1 hour'),
			('` + notifyapi.DerivedID(placeEvt, "email/"+notifyapi.KindOrderPlaced) + `', 'order_placed', 'c@shop.test', 's', 't', 'h', now() - interval '1 hour')`,
		`INSERT INTO notify.inbox (consumer, event_id) VALUES ('notify.order_emails', '` + paidEvt + `'), ('notify.order_emails', '` + placeEvt + `')`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("seed: %v\n%s", err, s)
		}
	}
}

func run(t *testing.T, db *pg.DB) *check.Report {
	t.Helper()
	rep, err := check.Run(context.Background(), db.SQL(), check.Options{Grace: 0})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestCleanShopHasNoViolation(t *testing.T) {
	db := pgtest.New(t)
	seed(t, db)
	rep := run(t, db)
	if len(rep.Violations) != 0 || len(rep.Skipped) != 0 {
		t.Fatalf("clean shop: %s", rep.Text())
	}
	if rep.Examined["orders"] != 2 || rep.Examined["products"] != 1 || rep.Examined["order_events"] != 2 {
		t.Fatalf("examined: %v", rep.Examined)
	}
	if _, err := rep.JSON(); err != nil {
		t.Fatal(err)
	}
}

// Each kind of violation, seeded on a clean shop, is reported under its
// invariant, and nothing else is.
func TestEachViolationIsReported(t *testing.T) {
	cases := []struct {
		invariant string
		sql       []string
	}{
		{check.StockLedger, []string{`UPDATE catalog.stock SET on_hand = 8`}},
		{check.StockReserved, []string{
			`INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason) VALUES ('` + product + `', 'reserve', 0, 1, 'x')`,
			`UPDATE catalog.stock SET reserved = 1`}},
		{check.OrderPlacing, []string{`INSERT INTO ordering.orders (id, user_id, checkout_session_id, status, items, subtotal, discount, shipping_cost, total, currency, address, courier, payment_gateway, created_at, updated_at)
			VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'placing', '[]', 0, 0, 0, 0, 'USD', '{}', 'standard', 'test', now() - interval '1 hour', now() - interval '1 hour')`}},
		{check.StockSettled, []string{ // committed twice (the stock row follows the ledger)
			`INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference) VALUES ('` + product + `', 'commit', -3, 0, 'order paid', '` + paid + `'),
			('` + product + `', 'adjust', 3, 0, 'balance', '')`}},
		{check.StockSettled, []string{`UPDATE catalog.reservations SET status = 'reserved' WHERE order_id = '` + canceled + `'`,
			`DELETE FROM catalog.stock_ledger WHERE kind = 'release'`, `UPDATE catalog.stock SET reserved = 2`}},
		{check.RefundsCaptured, []string{`ALTER TABLE payments.payments DROP CONSTRAINT payments_refunds_within_capture, DROP CONSTRAINT payments_check`,
			`UPDATE payments.payments SET amount_refunded = 3500`}},
		{check.RefundsCaptured, []string{`INSERT INTO payments.refunds (id, payment_id, amount, reason, status) SELECT gen_random_uuid(), id, 2500, 'r', 'pending' FROM payments.payments`}},
		{check.FulfillmentOnce, []string{`DELETE FROM fulfillment.fulfillments`}},
		{check.FulfillmentOnce, []string{`INSERT INTO fulfillment.fulfillments (id, order_id, user_id, status, courier, country, currency, created_at) VALUES
			(gen_random_uuid(), '` + canceled + `', gen_random_uuid(), 'pending', 'standard', 'US', 'USD', now() - interval '1 hour')`}},
		{check.EmailOnce, []string{`DELETE FROM notify.emails WHERE kind = 'order_paid'`}},
		{check.EmailOnce, []string{`INSERT INTO notify.emails (id, kind, to_addr, subject, text_body, html_body, created_at) VALUES
			(gen_random_uuid(), 'order_paid', 'c@shop.test', 's', 't', 'h', now() - interval '1 hour')`}},
		{check.DeadOrApplied, []string{`INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts) VALUES
			('notify.order_emails', 'ordering.order_paid', '` + paidEvt + `', '{}', 'boom', 5)`}},
	}
	for _, tc := range cases {
		t.Run(tc.invariant, func(t *testing.T) {
			db := pgtest.New(t)
			seed(t, db)
			for _, s := range tc.sql {
				if _, err := db.ExecContext(context.Background(), s); err != nil {
					t.Fatalf("%v\n%s", err, s)
				}
			}
			rep := run(t, db)
			if len(rep.Violations) == 0 {
				t.Fatalf("not reported:\n%s", rep.Text())
			}
			for _, v := range rep.Violations {
				if v.Invariant != tc.invariant {
					b, _ := json.Marshal(rep.Violations)
					t.Fatalf("want only %s, got %s", tc.invariant, b)
				}
			}
		})
	}
}

// A change younger than the grace is not judged on its asynchronous
// effects: a paid order whose stock catalog has not committed yet.
func TestGraceSkipsRecentChanges(t *testing.T) {
	db := pgtest.New(t)
	seed(t, db)
	if _, err := db.ExecContext(context.Background(), `UPDATE ordering.orders SET updated_at = now(), status = 'paid' WHERE id = '`+canceled+`'`); err != nil {
		t.Fatal(err)
	}
	rep, err := check.Run(context.Background(), db.SQL(), check.Options{Grace: 60e9})
	if err != nil || len(rep.Violations) != 0 {
		t.Fatalf("%v %s", err, rep.Text())
	}
	if rep = run(t, db); len(rep.Violations) == 0 {
		t.Fatal("with no grace the unsettled paid order is reported")
	}
}

// Events the outbox purge deleted (delivered, past OUTBOX_RETENTION) leave
// their emails behind: those are not "emails from no event". An email
// written after the purge still is.
func TestPurgedEventsLeaveNoFalseAlarm(t *testing.T) {
	db := pgtest.New(t)
	seed(t, db)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO events.consumer_offsets (consumer, seq, topics) VALUES ('notify.order_emails', 0, '{ordering.order_paid,ordering.order_placed}')`); err != nil {
		t.Fatal(err)
	}
	// Sequence the seeded events and add a newer one (the purge keeps the newest).
	if _, err := db.ExecContext(ctx, `UPDATE events.outbox SET seq = id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO events.outbox (seq, topic, event_id, payload) VALUES (100, 'auth.user_registered', gen_random_uuid()::text, '{}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE events.consumer_offsets SET seq = 100`); err != nil {
		t.Fatal(err)
	}
	res, err := events.PurgeDelivered(ctx, db, 30*time.Minute)
	if err != nil || res.Deleted != 2 {
		t.Fatalf("purge: %+v %v", res, err)
	}
	if rep := run(t, db); len(rep.Violations) != 0 {
		t.Fatalf("after the purge: %s", rep.Text())
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO notify.emails (id, kind, to_addr, subject, text_body, html_body, created_at) VALUES
		(gen_random_uuid(), 'order_paid', 'c@shop.test', 's', 't', 'h', clock_timestamp())`); err != nil {
		t.Fatal(err)
	}
	if rep := run(t, db); len(rep.Violations) != 1 || rep.Violations[0].Invariant != check.EmailOnce {
		t.Fatalf("an email after the purge from no event: %s", rep.Text())
	}
}
