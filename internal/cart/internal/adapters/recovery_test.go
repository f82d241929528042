package adapters_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/adapters"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// Overlapping runs of the abandoned-cart task (a slow run still going when
// the next tick starts one, or two processes) email each cart once: a run
// that reaches a cart just after another run committed its email must see
// that email, not its older view.
func TestEmailAbandonedOverlappingRunsEmailOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	const carts = 300
	if _, err := db.ExecContext(ctx, `WITH c AS (
			INSERT INTO cart.carts (id, user_id, updated_at)
			SELECT gen_random_uuid(), gen_random_uuid(), now() - interval '1 hour' FROM generate_series(1, ?)
			RETURNING id)
		INSERT INTO cart.items (cart_id, product_id, quantity, added_at)
		SELECT id, gen_random_uuid(), 1, now() - interval '1 hour' FROM c`, carts); err != nil {
		t.Fatal(err)
	}
	r := adapters.NewRecovery(db, events.NewOutbox(slog.New(slog.NewTextHandler(io.Discard, nil))))
	var wg sync.WaitGroup
	var mu sync.Mutex
	announced := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				n, err := r.EmailAbandoned(ctx, time.Minute, "", 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				announced += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var emails, distinct, published int
	if err := db.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT cart_id) FROM cart.recovery_emails").Scan(&emails, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events.outbox WHERE topic = ?", cartapi.EventCartAbandoned).Scan(&published); err != nil {
		t.Fatal(err)
	}
	if emails != carts || distinct != carts || published != carts || announced != carts {
		t.Fatalf("%d carts: %d recovery emails recorded (%d carts), %d cart.abandoned published, %d reported", carts, emails, distinct, published, announced)
	}
}
