package server_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// Every API path the monolith serves has an owner in the gateway's
// routing table, so the split deployment serves it too (a route added
// without a gateway line would answer 404 at the edge); the admin
// console's platform routes go where they are always hosted.
func TestEveryAPIPathHasAGatewayOwner(t *testing.T) {
	e := servertest.Start(t, nil)
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(e.Do("GET", "/openapi.json", nil, "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for p := range doc.Paths {
		if strings.HasPrefix(p, "/api/") && server.Owner(p) == "" {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("paths without a gateway owner: %v", missing)
	}
	for p, want := range map[string]string{
		"/api/v1/admin/events/dead-letters":         "ordering",
		"/api/v1/admin/events/dead-letters/1/retry": "ordering",
		"/api/v1/admin/audit":                       "auth",
		"/api/v1/admin/stream":                      "notify",
		"/api/v1/admin/summary":                     "ordering",
		"/api/v1/admin/users":                       "auth",
	} {
		if got := server.Owner(p); got != want {
			t.Errorf("owner of %s: %q, want %q", p, got, want)
		}
	}
}

// GraphQL is not forwarded by prefix: the gateway composes the subgraphs
// and serves /graphql itself, and the subgraphs' internal routes have no
// owner, so the edge never exposes them.
func TestGraphQLIsNotInThePrefixTable(t *testing.T) {
	for _, p := range []string{server.GraphQLPath, "/internal/graphql/ordering", "/internal/graphql/catalog"} {
		if got := server.Owner(p); got != "" {
			t.Errorf("owner of %s: %q, want none", p, got)
		}
	}
}
