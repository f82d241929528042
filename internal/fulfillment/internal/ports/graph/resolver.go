// Package graph is fulfillment's GraphQL subgraph (Federation v2): it
// adds fulfillment to the Order entity that ordering owns, resolved from
// fulfillment's own data, a whole batch of orders in one query, and the
// administrators' shipOrder mutation (the admin role and audit log of
// REST's admin routes). gqlgen
// generates generated.go, federation.go and models_gen.go from
// schema.graphqls (`make graphql`).
package graph

import (
	_ "embed"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/fulfillment/internal/app"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: fulfillment's app layer, and
// the audit log that records administrators' mutations as REST's admin
// routes are recorded (nil: not recorded).
type Resolver struct {
	Svc   *app.Service
	Audit httpx.Auditor
}

func toFulfillment(f *app.Fulfillment) *Fulfillment {
	out := &Fulfillment{ID: f.ID, Status: FulfillmentStatus(strings.ToUpper(f.Status)), Courier: f.Courier, TrackingID: f.TrackingID,
		CreatedAt: f.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: f.UpdatedAt.UTC().Format(time.RFC3339Nano)}
	if f.ETA != nil {
		s := f.ETA.UTC().Format(time.RFC3339Nano)
		out.Eta = &s
	}
	return out
}
