// Package graph is payments' GraphQL subgraph (Federation v2): it adds
// payment to the Order entity that ordering owns, resolved from payments'
// own data, a whole batch of orders in one query. gqlgen generates
// generated.go, federation.go and models_gen.go from schema.graphqls
// (`make graphql`).
package graph

import (
	_ "embed"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/payments/internal/app"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: payments' app layer.
type Resolver struct{ Svc *app.Service }

func toPayment(p *app.Payment) *Payment {
	return &Payment{ID: p.ID, Gateway: p.Gateway, Status: PaymentStatus(strings.ToUpper(p.Status)),
		Amount: &Money{Amount: p.Amount, Currency: p.Currency}, Captured: &Money{Amount: p.AmountCaptured, Currency: p.Currency},
		Refunded:  &Money{Amount: p.AmountRefunded, Currency: p.Currency},
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}
