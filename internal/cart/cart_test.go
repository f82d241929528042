package cart_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/cart"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/wait"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// login registers a customer through the real flow.
func login(t *testing.T, e *servertest.Env, email string) (token, userID string) {
	r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "s3cret-pass", "name": "C"}, "")
	e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": e.WaitToken(email, "verify_email")}, "")
	l := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "s3cret-pass"}, "")
	return l.Str("access_token"), r.Str("id")
}

// eventually reports whether cond holds within timeout, asking again on
// every tick: the consumer applies events asynchronously, and the test
// waits for their effect, not for a guessed duration.
func eventually(timeout time.Duration, cond func() bool) bool {
	return wait.For(timeout, 20*time.Millisecond, cond)
}

// An order placed (ordering's event, through the inbox) empties the
// session's products from the cart; promo uses count at placement and
// refuse the code afterwards with promo_exhausted / promo_already_used.
func TestOrderEventsDriveCartAndPromoUses(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "a@shop.test", "admin-password" })
	admin := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@shop.test", "password": "admin-password"}, "").Str("access_token")
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "P1", "name": "P", "category": "c", "price": 2000, "currency": "USD", "weight_grams": 100, "initial_stock": 10}, admin).Str("id")
	e.Do("POST", "/api/v1/admin/promotions", map[string]any{"code": "ONE", "kind": "percent", "value": 50, "max_uses": 1}, admin)
	e.Do("POST", "/api/v1/admin/promotions", map[string]any{"code": "MINE", "kind": "percent", "value": 5}, admin)
	ann, annID := login(t, e, "ann@shop.test")
	bob, _ := login(t, e, "bob@shop.test")

	addr := map[string]any{"line1": "1 St", "city": "Town", "postal_code": "1000", "country": "US"}
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 2}, ann)
	if r := e.Do("POST", "/api/v1/cart/promo", map[string]any{"code": "ONE"}, ann); r.Status != 200 {
		t.Fatalf("apply: %d %s", r.Status, r.Body)
	}
	sess := e.Do("POST", "/api/v1/checkout", map[string]any{"address": addr, "courier": "standard", "payment_gateway": "test"}, ann)
	if sess.Status != 201 {
		t.Fatalf("checkout: %d %s", sess.Status, sess.Body)
	}
	order := uuid.Must(uuid.NewV7()).String()
	if err := e.Server.Hosted("cart").(*cart.Module).API().PlaceOrder(context.Background(), sess.Str("checkout_session_id"), order, annID); err != nil {
		t.Fatal(err)
	}
	// What ordering will do: publish order_placed through its outbox.
	ev, _ := events.New(orderingapi.EventOrderPlaced, order, orderingapi.OrderEvent{OrderID: order, UserID: annID, CheckoutSessionID: sess.Str("checkout_session_id")})
	out := events.NewOutbox(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := e.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error { return out.Publish(ctx, tx, ev, ev) }); err != nil {
		t.Fatal(err)
	}
	var last servertest.Response
	if !eventually(10*time.Second, func() bool {
		last = e.Do("GET", "/api/v1/cart", nil, ann)
		return len(last.JSON()["items"].([]any)) == 0 && last.JSON()["promo_code"] == nil
	}) {
		t.Fatalf("cart not emptied by order_placed: %s", last.Body)
	}
	// ONE is used up (max_uses 1): Bob is refused.
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, bob)
	if r := e.Do("POST", "/api/v1/cart/promo", map[string]any{"code": "ONE"}, bob); r.Status != 422 || r.Str("code") != "promo_exhausted" {
		t.Fatalf("exhausted: %d %s", r.Status, r.Body)
	}
	// The order expires: its use is given back, Bob may use the code.
	exp, _ := events.New(orderingapi.EventOrderExpired, order, orderingapi.OrderEvent{OrderID: order, UserID: annID})
	if err := e.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error { return out.Publish(ctx, tx, exp) }); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool {
		last = e.Do("POST", "/api/v1/cart/promo", map[string]any{"code": "ONE"}, bob)
		return last.Status == 200
	}) {
		t.Fatalf("use not released: %d %s", last.Status, last.Body)
	}
	// Once per customer.
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, ann)
	e.Do("POST", "/api/v1/cart/promo", map[string]any{"code": "MINE"}, ann)
	s2 := e.Do("POST", "/api/v1/checkout", map[string]any{"address": addr, "courier": "standard", "payment_gateway": "test"}, ann)
	if err := e.Server.Hosted("cart").(*cart.Module).API().PlaceOrder(context.Background(), s2.Str("checkout_session_id"), uuid.Must(uuid.NewV7()).String(), annID); err != nil {
		t.Fatal(err)
	}
	if r := e.Do("POST", "/api/v1/cart/promo", map[string]any{"code": "MINE"}, ann); r.Status != 422 || r.Str("code") != "promo_already_used" {
		t.Fatalf("already used: %d %s", r.Status, r.Body)
	}
}
