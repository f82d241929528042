// Package graph is ordering's GraphQL subgraph (Federation v2): the
// caller's orders, the place/cancel mutations and the administrators'
// refund, with the same app-layer calls, authorization, idempotency and
// audit log as the REST routes. Order items
// reference catalog's Product entity by id; payments and fulfillment add
// their fields to Order. gqlgen generates generated.go, federation.go and
// models_gen.go from schema.graphqls (`make graphql`).
package graph

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: ordering's app layer, the
// idempotency store that placeOrder's and refundOrder's idempotencyKey
// use, and the audit log that records administrators' mutations as
// REST's admin routes are recorded (nil: not recorded).
type Resolver struct {
	Svc   *app.Service
	Idem  *idempotency.Store
	Audit httpx.Auditor
}

func stamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func toOrder(o *app.Order) (*Order, error) {
	var items []cartapi.Item
	if len(o.Items) > 0 {
		if err := json.Unmarshal(o.Items, &items); err != nil {
			return nil, fmt.Errorf("order %s items: %w", o.ID, err)
		}
	}
	money := func(v int64) *Money { return &Money{Amount: v, Currency: o.Currency} }
	out := &Order{ID: o.ID, Status: OrderStatus(strings.ToUpper(o.Status)), Items: make([]OrderItem, len(items)),
		Subtotal: money(o.Subtotal), Discount: money(o.Discount), ShippingCost: money(o.ShippingCost), Total: money(o.Total),
		Refunded: money(o.RefundedAmount), PromoCode: o.PromoCode, Courier: o.Courier, ExpiresAt: stamp(o.ExpiresAt), PaidAt: stamp(o.PaidAt),
		CreatedAt: *stamp(&o.CreatedAt), UpdatedAt: *stamp(&o.UpdatedAt)}
	for i, it := range items {
		out.Items[i] = OrderItem{Product: &Product{ID: it.ProductID}, Sku: it.SKU, Name: it.Name, Quantity: int64(it.Quantity),
			UnitPrice: money(it.UnitPrice), LineTotal: money(it.LineTotal)}
	}
	return out, nil
}
