package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// RecoveryWindow is how long after its email an order counts the cart as
// recovered.
const RecoveryWindow = 7 * 24 * time.Hour

// Recovery finds abandoned carts and keeps the record of their emails.
type Recovery struct {
	db     *pg.DB
	outbox *events.Outbox
}

// NewRecovery is the abandoned-cart store on db, publishing to outbox.
func NewRecovery(db *pg.DB, outbox *events.Outbox) *Recovery {
	return &Recovery{db: db, outbox: outbox}
}

// abandonedSQL picks the carts with items untouched for ? seconds, whose
// customer placed no order since they were touched, that got no recovery
// email since then nor in the last 24h; rows are locked (others skipped)
// so that a retried run never emails a cart twice.
const abandonedSQL = `SELECT c.id::text AS cart_id, c.user_id::text AS user_id, it.n AS items
	FROM cart.carts c
	CROSS JOIN LATERAL (SELECT count(*)::int AS n, max(i.added_at) AS last FROM cart.items i WHERE i.cart_id = c.id) it
	WHERE it.n > 0
	  AND greatest(c.updated_at, it.last) < now() - make_interval(secs => ?)
	  AND NOT EXISTS (SELECT 1 FROM cart.recovery_emails r WHERE r.cart_id = c.id
	                  AND (r.sent_at > now() - interval '24 hours' OR r.sent_at > greatest(c.updated_at, it.last)))
	  AND NOT EXISTS (SELECT 1 FROM cart.checkout_sessions s WHERE s.user_id = c.user_id
	                  AND s.status = 'order_placed' AND s.updated_at > greatest(c.updated_at, it.last))
	ORDER BY c.updated_at
	LIMIT ?
	FOR UPDATE OF c SKIP LOCKED`

// EmailAbandoned records a recovery email for each abandoned cart (at most
// limit) and publishes cart.abandoned for notify in the same transaction;
// it returns how many.
func (r *Recovery) EmailAbandoned(ctx context.Context, after time.Duration, promo string, limit int) (int, error) {
	n := 0
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var due []cartapi.CartAbandoned
		if err := tx.NewRaw(abandonedSQL, after.Seconds(), limit).Scan(ctx, &due); err != nil {
			return fmt.Errorf("abandoned carts: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		ids := make([]string, 0, len(due))
		carts := make([]string, 0, len(due))
		users := make([]string, 0, len(due))
		for _, d := range due {
			ids, carts, users = append(ids, uuid.Must(uuid.NewV7()).String()), append(carts, d.CartID), append(users, d.UserID)
		}
		// FOR UPDATE ... SKIP LOCKED alone does not keep two overlapping
		// runs from emailing one cart: a run whose SELECT began before the
		// other committed takes the released row lock and, the cart row
		// being unchanged, keeps its old view of recovery_emails. This
		// statement takes a snapshot of its own, which sees the other
		// run's email, and only the carts it records are announced.
		var recorded []string
		if err := tx.NewRaw(`INSERT INTO cart.recovery_emails (id, cart_id, user_id)
			SELECT x.id, x.cart_id, x.user_id FROM unnest(?::uuid[], ?::uuid[], ?::uuid[]) AS x(id, cart_id, user_id)
			WHERE NOT EXISTS (SELECT 1 FROM cart.recovery_emails r WHERE r.cart_id = x.cart_id AND r.sent_at > now() - interval '24 hours')
			RETURNING cart_id::text`, pgdialect.Array(ids), pgdialect.Array(carts), pgdialect.Array(users)).Scan(ctx, &recorded); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("record recovery emails: %w", err)
		}
		keep := make(map[string]bool, len(recorded))
		for _, c := range recorded {
			keep[c] = true
		}
		evs := make([]events.Envelope, 0, len(recorded))
		for _, d := range due {
			if !keep[d.CartID] {
				continue
			}
			d.PromoCode = promo
			e, err := events.New(cartapi.EventCartAbandoned, d.CartID, d)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		n = len(evs)
		if n == 0 {
			return nil
		}
		return r.outbox.Publish(ctx, tx, evs...)
	})
	return n, err
}

// MarkRecovered counts the customer's carts emailed within RecoveryWindow
// as recovered by orderID (in the consumer's transaction).
func MarkRecovered(ctx context.Context, tx bun.Tx, userID, orderID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE cart.recovery_emails SET recovered_at = now(), order_id = ?
		WHERE user_id = ? AND recovered_at IS NULL AND sent_at > now() - make_interval(secs => ?)`,
		orderID, userID, RecoveryWindow.Seconds()); err != nil {
		return fmt.Errorf("mark recovered carts: %w", err)
	}
	return nil
}

// RecoveryStats is the admin dashboard's figure of abandoned carts.
type RecoveryStats struct {
	// Emailed is the number of recovery emails sent.
	Emailed int64 `json:"emailed"`
	// Recovered is the number of those carts whose customer ordered within
	// 7 days of the email.
	Recovered int64 `json:"recovered"`
}

// Stats counts the recovery emails and the recovered carts (one query).
func (r *Recovery) Stats(ctx context.Context) (RecoveryStats, error) {
	var st RecoveryStats
	if err := r.db.NewRaw("SELECT count(*) AS emailed, count(recovered_at) AS recovered FROM cart.recovery_emails").Scan(ctx, &st.Emailed, &st.Recovered); err != nil {
		return st, fmt.Errorf("cart recovery figures: %w", err)
	}
	return st, nil
}

// Recovered counts the recovered carts (commerce_carts_recovered_total).
func (r *Recovery) Recovered(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.NewRaw("SELECT count(*) FROM cart.recovery_emails WHERE recovered_at IS NOT NULL").Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("recovered carts: %w", err)
	}
	return n, nil
}
