// Package check audits a shop's data for the invariants that must hold
// whatever crashed or failed along the way (`commerce check`): stock
// matches its ledger and open reservations, no order is left placing, paid
// orders committed their stock once and canceled or expired ones released
// it once, refunds stay within what was captured, one fulfillment per paid
// order, one email per order event, and no event was both dead-lettered
// and applied.
//
// It only reads: every schema is read in its own READ ONLY, REPEATABLE
// READ transaction (a consistent snapshot of that context), so it is safe
// to run against a live shop. It is not a context: it reads every
// context's schema, which no context may do, so it lives beside the
// composition root, the one place that knows every context. Effects that travel by event (a paid order's stock, its
// fulfillment, its emails) are judged only for changes older than the
// grace period, so that a check on a busy shop does not report what is
// still on its way.
package check

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
)

// The invariants, as they are named in a report.
const (
	StockLedger      = "stock_matches_ledger"
	StockReserved    = "reserved_matches_reservations"
	OrderPlacing     = "no_order_stuck_placing"
	StockSettled     = "stock_settled_once"
	RefundsCaptured  = "refunds_within_capture"
	FulfillmentOnce  = "one_fulfillment_per_paid_order"
	EmailOnce        = "one_email_per_order_event"
	DeadOrApplied    = "dead_letter_not_applied"
	defaultGraceNote = "changes younger than the grace period are not judged on their asynchronous effects"
)

// Invariants lists every invariant in the order they are checked.
var Invariants = []string{StockLedger, StockReserved, OrderPlacing, StockSettled, RefundsCaptured, FulfillmentOnce, EmailOnce, DeadOrApplied}

// Violation is one broken invariant on one subject (a product, an order, a
// payment, an event, an email).
type Violation struct {
	Invariant string `json:"invariant"`
	Subject   string `json:"subject"`
	Detail    string `json:"detail"`
}

// Report is what a check found: the violations and how much it examined,
// so that "no violation" can be told apart from "nothing looked at".
type Report struct {
	CheckedAt  time.Time      `json:"checked_at"`
	Grace      string         `json:"grace"`
	Examined   map[string]int `json:"examined"`
	Skipped    []string       `json:"skipped,omitempty"`
	Violations []Violation    `json:"violations"`
}

// Options tune a check.
type Options struct {
	// Grace is how old a change must be before its asynchronous effects
	// (stock settlement, fulfillment, emails, saga recovery) are judged.
	// Recovery compensates a placing order after a minute, so a check of
	// a live shop wants more than that; after a load has drained, 0.
	Grace time.Duration
}

// paidStatuses are the statuses of an order whose payment was captured
// (refunded follows paid), closedStatuses those whose reservation was
// given back.
var (
	paidStatuses   = map[string]bool{"paid": true, "fulfilling": true, "shipped": true, "delivered": true, "refunded": true}
	closedStatuses = map[string]bool{"canceled": true, "expired": true}
)

// emailKinds maps each order event that emails the customer to the kind
// of its email (notify queues it with notifyapi.DerivedID(event id,
// "email/"+kind)).
var emailKinds = map[string]string{
	orderingapi.EventOrderPlaced:     notifyapi.KindOrderPlaced,
	orderingapi.EventPaymentReminder: notifyapi.KindPaymentReminder,
	orderingapi.EventOrderPaid:       notifyapi.KindOrderPaid,
	orderingapi.EventOrderExpired:    notifyapi.KindOrderExpired,
	orderingapi.EventOrderCanceled:   notifyapi.KindOrderCanceled,
	orderingapi.EventOrderRefunded:   notifyapi.KindOrderRefunded,
	fulfillmentapi.EventShipped:      notifyapi.KindOrderShipped,
	fulfillmentapi.EventDelivered:    notifyapi.KindOrderDelivered,
}

// emailConsumers are notify's consumers of those events.
var emailConsumers = map[string]string{
	"ordering":    "notify.order_emails",
	"fulfillment": "notify.fulfillment_emails",
}

// checker carries one run.
type checker struct {
	db     *sql.DB
	cutoff time.Time // changes at or after it are not judged on async effects
	tables map[string]bool
	rep    *Report
}

// Run checks every invariant against db (the shop's database, where each
// context has its schema) and returns the report. An error means the
// check could not run, not that an invariant broke.
func Run(ctx context.Context, db *sql.DB, opt Options) (*Report, error) {
	if opt.Grace < 0 {
		return nil, errors.New("check: the grace period must not be negative")
	}
	c := &checker{db: db, rep: &Report{Examined: map[string]int{}, Grace: opt.Grace.String(), Violations: []Violation{}}}
	var now time.Time
	if err := db.QueryRowContext(ctx, "SELECT now()").Scan(&now); err != nil {
		return nil, fmt.Errorf("check: read the database clock: %w", err)
	}
	c.rep.CheckedAt = now.UTC()
	c.cutoff = now.Add(-opt.Grace)
	if err := c.loadTables(ctx); err != nil {
		return nil, err
	}
	steps := []struct {
		name   string
		tables []string
		fn     func(context.Context) error
	}{
		{StockLedger + ", " + StockReserved, []string{"catalog.stock", "catalog.stock_ledger", "catalog.reservations"}, c.stock},
		{OrderPlacing + ", " + StockSettled + ", " + FulfillmentOnce, []string{"ordering.orders", "catalog.reservations", "fulfillment.fulfillments"}, c.orders},
		{RefundsCaptured, []string{"payments.payments", "payments.refunds"}, c.refunds},
		{EmailOnce, []string{"events.outbox", "events.dead_letters", "notify.emails", "notify.inbox"}, c.emails},
		{DeadOrApplied, []string{"events.dead_letters"}, c.deadLetters},
	}
	for _, st := range steps {
		if missing := c.missing(st.tables); missing != "" {
			c.rep.Skipped = append(c.rep.Skipped, st.name+": no table "+missing)
			continue
		}
		if err := st.fn(ctx); err != nil {
			return nil, fmt.Errorf("check %s: %w", st.name, err)
		}
	}
	sort.SliceStable(c.rep.Violations, func(i, j int) bool {
		a, b := c.rep.Violations[i], c.rep.Violations[j]
		if a.Invariant != b.Invariant {
			return a.Invariant < b.Invariant
		}
		return a.Subject < b.Subject
	})
	return c.rep, nil
}

func (c *checker) violate(inv, subject, format string, args ...any) {
	c.rep.Violations = append(c.rep.Violations, Violation{Invariant: inv, Subject: subject, Detail: fmt.Sprintf(format, args...)})
}

// loadTables records which tables exist: a database migrated for a
// subset of contexts is checked on what it has.
func (c *checker) loadTables(ctx context.Context) error {
	rows, err := c.db.QueryContext(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema IN ('catalog', 'ordering', 'payments', 'fulfillment', 'notify', 'events', 'search', 'auth', 'cart', 'chat')`)
	if err != nil {
		return fmt.Errorf("check: list the tables: %w", err)
	}
	defer rows.Close()
	c.tables = map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return fmt.Errorf("check: list the tables: %w", err)
		}
		c.tables[t] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check: list the tables: %w", err)
	}
	return nil
}

func (c *checker) missing(tables []string) string {
	for _, t := range tables {
		if !c.tables[t] {
			return t
		}
	}
	return ""
}

// snapshot runs fn in a READ ONLY, REPEATABLE READ transaction: every
// statement of fn sees the same committed state, and nothing is written.
func (c *checker) snapshot(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin a read-only snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// each runs query in tx and calls scan for every row.
func each(ctx context.Context, tx *sql.Tx, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// stock: on hand and reserved equal the sums of the ledger's movements,
// and reserved equals the open reservations (one catalog snapshot).
func (c *checker) stock(ctx context.Context) error {
	return c.snapshot(ctx, func(tx *sql.Tx) error {
		var products int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM catalog.stock").Scan(&products); err != nil {
			return fmt.Errorf("count stock rows: %w", err)
		}
		c.rep.Examined["products"] = products
		err := each(ctx, tx, `SELECT coalesce(s.product_id, l.product_id)::text, s.on_hand, s.reserved, coalesce(l.on_hand, 0), coalesce(l.reserved, 0)
			FROM catalog.stock s
			FULL JOIN (SELECT product_id, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved
			           FROM catalog.stock_ledger GROUP BY product_id) l ON l.product_id = s.product_id
			WHERE s.product_id IS NULL OR s.on_hand <> coalesce(l.on_hand, 0) OR s.reserved <> coalesce(l.reserved, 0)
			ORDER BY 1`, nil, func(r *sql.Rows) error {
			var id string
			var onHand, reserved sql.NullInt64
			var lOn, lRes int64
			if err := r.Scan(&id, &onHand, &reserved, &lOn, &lRes); err != nil {
				return err
			}
			if !onHand.Valid {
				c.violate(StockLedger, id, "ledger movements (on hand %d, reserved %d) for a product with no stock row", lOn, lRes)
				return nil
			}
			c.violate(StockLedger, id, "stock on hand %d, reserved %d; the ledger sums to on hand %d, reserved %d", onHand.Int64, reserved.Int64, lOn, lRes)
			return nil
		})
		if err != nil {
			return fmt.Errorf("stock against the ledger: %w", err)
		}
		err = each(ctx, tx, `SELECT s.product_id::text, s.reserved, coalesce(r.q, 0)
			FROM catalog.stock s
			LEFT JOIN (SELECT product_id, sum(quantity) AS q FROM catalog.reservations WHERE status = 'reserved' GROUP BY product_id) r
			       ON r.product_id = s.product_id
			WHERE s.reserved <> coalesce(r.q, 0) ORDER BY 1`, nil, func(r *sql.Rows) error {
			var id string
			var reserved, open int64
			if err := r.Scan(&id, &reserved, &open); err != nil {
				return err
			}
			c.violate(StockReserved, id, "stock reserved %d; open reservations hold %d", reserved, open)
			return nil
		})
		if err != nil {
			return fmt.Errorf("reserved against reservations: %w", err)
		}
		return nil
	})
}

// order is what ordering's snapshot says of one order.
type order struct {
	status  string
	settled bool // its last change is older than the cutoff
}

// orders: ordering first, then catalog and fulfillment (read later, so
// every effect of what ordering's snapshot shows before the cutoff is
// visible in theirs).
func (c *checker) orders(ctx context.Context) error {
	orders := map[string]order{}
	err := c.snapshot(ctx, func(tx *sql.Tx) error {
		return each(ctx, tx, "SELECT id::text, status, updated_at < $1, created_at < $1 FROM ordering.orders", []any{c.cutoff}, func(r *sql.Rows) error {
			var id, status string
			var settled, old bool
			if err := r.Scan(&id, &status, &settled, &old); err != nil {
				return err
			}
			orders[id] = order{status: status, settled: settled}
			if status == "placing" && old {
				c.violate(OrderPlacing, id, "still placing; recovery compensates an interrupted placement after a minute")
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the orders: %w", err)
	}
	c.rep.Examined["orders"] = len(orders)
	if err := c.settlements(ctx, orders); err != nil {
		return err
	}
	return c.fulfillments(ctx, orders)
}

// settlement is what catalog recorded for one order's line.
type settlement struct {
	status            string
	commits, releases int
}

// settlements: a paid order's reservation is committed, with one commit
// movement per line and no release; a canceled or expired order's is
// released with one release movement per line and no commit; a failed
// order holds nothing.
func (c *checker) settlements(ctx context.Context, orders map[string]order) error {
	lines := map[string]map[string]*settlement{} // order → product → settlement
	line := func(o, p string) *settlement {
		if lines[o] == nil {
			lines[o] = map[string]*settlement{}
		}
		if lines[o][p] == nil {
			lines[o][p] = &settlement{}
		}
		return lines[o][p]
	}
	err := c.snapshot(ctx, func(tx *sql.Tx) error {
		if err := each(ctx, tx, "SELECT order_id::text, product_id::text, status FROM catalog.reservations", nil, func(r *sql.Rows) error {
			var o, p, status string
			if err := r.Scan(&o, &p, &status); err != nil {
				return err
			}
			line(o, p).status = status
			return nil
		}); err != nil {
			return fmt.Errorf("reservations: %w", err)
		}
		return each(ctx, tx, `SELECT reference, product_id::text, count(*) FILTER (WHERE kind = 'commit'), count(*) FILTER (WHERE kind = 'release')
			FROM catalog.stock_ledger WHERE kind IN ('commit', 'release') GROUP BY reference, product_id`, nil, func(r *sql.Rows) error {
			var o, p string
			var commits, releases int
			if err := r.Scan(&o, &p, &commits, &releases); err != nil {
				return err
			}
			s := line(o, p)
			s.commits, s.releases = commits, releases
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the reservations: %w", err)
	}
	ids := make([]string, 0, len(orders))
	for id := range orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := orders[id]
		if !o.settled {
			continue
		}
		ls := lines[id]
		var problems []string
		switch {
		case paidStatuses[o.status]:
			if len(ls) == 0 {
				problems = append(problems, "no reservation")
			}
			for p, s := range ls {
				if s.status != "committed" || s.commits != 1 || s.releases != 0 {
					problems = append(problems, fmt.Sprintf("product %s: reservation %q, %d commit and %d release movements (want committed, 1, 0)", p, s.status, s.commits, s.releases))
				}
			}
		case closedStatuses[o.status]:
			for p, s := range ls {
				if s.status != "released" || s.releases != 1 || s.commits != 0 {
					problems = append(problems, fmt.Sprintf("product %s: reservation %q, %d release and %d commit movements (want released, 1, 0)", p, s.status, s.releases, s.commits))
				}
			}
		case o.status == "failed":
			for p, s := range ls {
				if s.status != "released" || s.releases > 1 || s.commits != 0 {
					problems = append(problems, fmt.Sprintf("product %s: reservation %q, %d release and %d commit movements (a failed order holds nothing)", p, s.status, s.releases, s.commits))
				}
			}
		default:
			continue
		}
		sort.Strings(problems)
		for _, p := range problems {
			c.violate(StockSettled, id, "%s order: %s", o.status, p)
		}
	}
	return nil
}

// fulfillments: exactly one per paid order, none for an order never paid.
func (c *checker) fulfillments(ctx context.Context, orders map[string]order) error {
	type ful struct {
		n   int
		old bool
	}
	fs := map[string]*ful{}
	err := c.snapshot(ctx, func(tx *sql.Tx) error {
		return each(ctx, tx, "SELECT order_id::text, count(*), bool_and(created_at < $1) FROM fulfillment.fulfillments GROUP BY order_id", []any{c.cutoff}, func(r *sql.Rows) error {
			var id string
			f := &ful{}
			if err := r.Scan(&id, &f.n, &f.old); err != nil {
				return err
			}
			fs[id] = f
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the fulfillments: %w", err)
	}
	c.rep.Examined["fulfillments"] = len(fs)
	for id, o := range orders {
		if !paidStatuses[o.status] || !o.settled {
			continue
		}
		switch f := fs[id]; {
		case f == nil:
			c.violate(FulfillmentOnce, id, "%s order has no fulfillment", o.status)
		case f.n > 1:
			c.violate(FulfillmentOnce, id, "%s order has %d fulfillments", o.status, f.n)
		}
	}
	for id, f := range fs {
		if !f.old {
			continue
		}
		o, known := orders[id]
		switch {
		case !known:
			c.violate(FulfillmentOnce, id, "fulfillment for an order that does not exist")
		case !paidStatuses[o.status]:
			c.violate(FulfillmentOnce, id, "fulfillment for a %s order (never paid)", o.status)
		}
	}
	return nil
}

// refunds: what was refunded (the payment's running total, and the sum of
// its refunds not failed) never exceeds what was captured.
func (c *checker) refunds(ctx context.Context) error {
	return c.snapshot(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM payments.payments").Scan(&n); err != nil {
			return fmt.Errorf("count payments: %w", err)
		}
		c.rep.Examined["payments"] = n
		return each(ctx, tx, `SELECT p.id::text, p.order_id::text, p.amount_captured, p.amount_refunded, coalesce(r.s, 0)
			FROM payments.payments p
			LEFT JOIN (SELECT payment_id, sum(amount) AS s FROM payments.refunds WHERE status <> 'failed' GROUP BY payment_id) r ON r.payment_id = p.id
			WHERE p.amount_refunded > p.amount_captured OR coalesce(r.s, 0) > p.amount_captured ORDER BY 1`, nil, func(r *sql.Rows) error {
			var id, orderID string
			var captured, refunded, refunds int64
			if err := r.Scan(&id, &orderID, &captured, &refunded, &refunds); err != nil {
				return err
			}
			c.violate(RefundsCaptured, id, "order %s: captured %d, refunded %d, refunds recorded %d", orderID, captured, refunded, refunds)
			return nil
		})
	})
}

// orderEvent is one event of the outbox that emails the customer.
type orderEvent struct {
	id, topic, email string
	dead             bool // notify's consumer dead-lettered it
}

// emails: every order event before the cutoff with an address queued
// exactly one email, whose id (and so Message-ID: copies of a message
// share it and count as one) derives from the event; every order email
// derives from an order event. The events schema is read first, notify
// after, so notify's snapshot holds every effect of the events read.
func (c *checker) emails(ctx context.Context) error {
	var evs []orderEvent
	topics := make([]string, 0, len(emailKinds))
	for t := range emailKinds {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	err := c.snapshot(ctx, func(tx *sql.Tx) error {
		dead := map[string]bool{}
		if err := each(ctx, tx, "SELECT consumer, event_id FROM events.dead_letters WHERE retried_at IS NULL AND consumer = ANY($1)",
			[]any{consumerList()}, func(r *sql.Rows) error {
				var consumer, id string
				if err := r.Scan(&consumer, &id); err != nil {
					return err
				}
				dead[id] = true
				return nil
			}); err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		return each(ctx, tx, `SELECT event_id, topic, coalesce(payload::jsonb->'data'->>'email', '') FROM events.outbox
			WHERE topic = ANY($1) AND created_at < $2`, []any{topics, c.cutoff}, func(r *sql.Rows) error {
			var e orderEvent
			if err := r.Scan(&e.id, &e.topic, &e.email); err != nil {
				return err
			}
			e.dead = dead[e.id]
			evs = append(evs, e)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the order events: %w", err)
	}
	c.rep.Examined["order_events"] = len(evs)
	kinds := make([]string, 0, len(emailKinds))
	for _, k := range emailKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	// Emails written before the outbox purge's last run may derive from an
	// event it deleted (a delivered one past OUTBOX_RETENTION): they are not
	// judged for lacking one.
	purged := time.Time{}
	if c.tables["events.outbox_purge"] {
		if err := c.db.QueryRowContext(ctx, "SELECT purged_at FROM events.outbox_purge").Scan(&purged); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read the outbox purge: %w", err)
		}
	}
	emails := map[string]bool{} // id → created before the cutoff (and after the purge)
	err = c.snapshot(ctx, func(tx *sql.Tx) error {
		return each(ctx, tx, "SELECT id::text, created_at < $2 AND created_at >= $3 FROM notify.emails WHERE kind = ANY($1)", []any{kinds, c.cutoff, purged}, func(r *sql.Rows) error {
			var id string
			var old bool
			if err := r.Scan(&id, &old); err != nil {
				return err
			}
			emails[id] = old
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the emails: %w", err)
	}
	c.rep.Examined["order_emails"] = len(emails)
	expected := make(map[string]bool, len(evs))
	for _, e := range evs {
		id := notifyapi.DerivedID(e.id, "email/"+emailKinds[e.topic])
		expected[id] = true
		if e.email == "" || e.dead {
			continue
		}
		if _, ok := emails[id]; !ok {
			c.violate(EmailOnce, e.id, "%s event with an address queued no email (want email %s)", e.topic, id)
		}
	}
	for id, old := range emails {
		if old && !expected[id] {
			c.violate(EmailOnce, id, "order email that derives from no order event (a second copy?)")
		}
	}
	return nil
}

func consumerList() []string {
	out := make([]string, 0, len(emailConsumers))
	for _, c := range emailConsumers {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// deadLetters: an event still dead-lettered for a consumer (not retried)
// must not be in that consumer's inbox. The dead letters are read before
// and after the inboxes; only those in both reads count, so a retry that
// applied an event meanwhile (which marks the dead letter retried in the
// same transaction) is not mistaken for a violation.
func (c *checker) deadLetters(ctx context.Context) error {
	read := func() (map[[2]string]bool, error) {
		out := map[[2]string]bool{}
		err := c.snapshot(ctx, func(tx *sql.Tx) error {
			return each(ctx, tx, "SELECT consumer, event_id FROM events.dead_letters WHERE retried_at IS NULL", nil, func(r *sql.Rows) error {
				var k [2]string
				if err := r.Scan(&k[0], &k[1]); err != nil {
					return err
				}
				out[k] = true
				return nil
			})
		})
		return out, err
	}
	before, err := read()
	if err != nil {
		return fmt.Errorf("read the dead letters: %w", err)
	}
	c.rep.Examined["dead_letters"] = len(before)
	if len(before) == 0 {
		return nil
	}
	bySchema := map[string][][2]string{}
	for k := range before {
		schema, _, ok := strings.Cut(k[0], ".")
		if !ok || !c.tables[schema+".inbox"] {
			continue
		}
		bySchema[schema] = append(bySchema[schema], k)
	}
	applied := map[[2]string]bool{}
	for schema, keys := range bySchema {
		consumers, ids := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			consumers[i], ids[i] = k[0], k[1]
		}
		// The schema name comes from the list of tables that exist, never
		// from input; the values are parameters.
		err := c.snapshot(ctx, func(tx *sql.Tx) error {
			return each(ctx, tx, `SELECT i.consumer, i.event_id FROM `+schema+`.inbox i
				JOIN unnest($1::text[], $2::text[]) AS d(consumer, event_id) ON d.consumer = i.consumer AND d.event_id = i.event_id`,
				[]any{consumers, ids}, func(r *sql.Rows) error {
					var k [2]string
					if err := r.Scan(&k[0], &k[1]); err != nil {
						return err
					}
					applied[k] = true
					return nil
				})
		})
		if err != nil {
			return fmt.Errorf("read the inbox of %s: %w", schema, err)
		}
	}
	if len(applied) == 0 {
		return nil
	}
	after, err := read()
	if err != nil {
		return fmt.Errorf("read the dead letters again: %w", err)
	}
	for k := range applied {
		if after[k] {
			c.violate(DeadOrApplied, k[1], "consumer %s dead-lettered the event and its inbox also applied it", k[0])
		}
	}
	return nil
}

// JSON writes the report as one JSON document.
func (r *Report) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// Text is the report for people: one line per violation, then a summary.
func (r *Report) Text() string {
	var b strings.Builder
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION %s %s: %s\n", v.Invariant, v.Subject, v.Detail)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s\n", s)
	}
	keys := make([]string, 0, len(r.Examined))
	for k := range r.Examined {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, r.Examined[k])
	}
	fmt.Fprintf(&b, "checked %d invariants at %s (grace %s; %s): %s; %d violations\n",
		len(Invariants), r.CheckedAt.Format(time.RFC3339), r.Grace, defaultGraceNote, strings.Join(parts, " "), len(r.Violations))
	return b.String()
}
