// Package graph is notify's GraphQL subgraph (Federation v2): the caller's
// in-app notifications, paged like REST's list with the unread count, and
// marking them read. It calls notify's own app layer only. gqlgen
// generates generated.go, federation.go and models_gen.go from
// schema.graphqls (`make graphql`).
package graph

import (
	_ "embed"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/notify/internal/app"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: notify's app layer.
type Resolver struct{ Svc *app.Service }

func toNotification(n app.Notification) Notification {
	out := Notification{ID: n.ID, Kind: NotificationKind(strings.ToUpper(n.Kind)), Title: n.Title, Body: n.Body,
		CreatedAt: n.CreatedAt.UTC().Format(time.RFC3339Nano)}
	if n.ReadAt != nil {
		s := n.ReadAt.UTC().Format(time.RFC3339Nano)
		out.ReadAt = &s
	}
	return out
}
