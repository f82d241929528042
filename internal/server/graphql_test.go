package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/ordering"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

type graphKey struct{}

// stmtCounter counts the SQL statements issued on behalf of a marked
// context.
type stmtCounter struct{ n atomic.Int64 }

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(graphKey{}) != nil {
		c.n.Add(1)
	}
	return ctx
}
func (*stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// No N+1 across subgraphs: 50 orders with their timelines (a per-request
// dataloader), their items' products, their
// payments and fulfillments cost a bounded number of SQL statements (one
// per subgraph fetch: the gateway batches each subgraph's entity
// representations into one _entities call, and each subgraph resolves a
// batch with one query), not one per order or item.
func TestGraphQLOrdersQueryIsBatched(t *testing.T) {
	tr := &stmtCounter{}
	e := servertest.StartWith(t, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword, c.RateLimitPerMinute = "graph@shop.test", "graph-password", 10_000_000
	}, pg.WithTracer(tr))
	tok := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "graph@shop.test", "password": "graph-password"}, "").Str("access_token")
	who, err := e.Server.Keys.Verifier().Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": fmt.Sprintf("G-%d", i), "name": fmt.Sprintf("Graph %d", i), "category": "c",
			"price": 1000 + i, "currency": "USD", "weight_grams": 100, "initial_stock": 1000}, tok).Str("id")
		e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok)
	}
	// Sessions first: a placed order empties the cart.
	sessions := make([]string, 50)
	for i := range sessions {
		sessions[i] = e.Do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "1", "country": "US"},
			"courier": "standard", "payment_gateway": "test"}, tok).Str("checkout_session_id")
	}
	for _, s := range sessions {
		if _, err := e.Server.Hosted("ordering").(*ordering.Module).PlaceOrder(context.Background(), who, s); err != nil {
			t.Fatal(err)
		}
	}
	const query = `{ orders(first: 50) { items { id status timeline { type } items { quantity product { name price { amount } } } payment { status } fulfillment { status } } } }`
	ctx := context.WithValue(context.Background(), graphKey{}, true)
	status, body := e.Server.Graph().Execute(ctx, tok, query, "", nil)
	var out struct {
		Data struct {
			Orders struct {
				Items []struct {
					Items []struct {
						Product struct{ Name string }
					}
					Payment *struct{ Status string }
				}
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(body, &out); err != nil || status != 200 || len(out.Errors) > 0 {
		t.Fatalf("%d %v %.500s", status, err, body)
	}
	if len(out.Data.Orders.Items) != 50 {
		t.Fatalf("%d orders", len(out.Data.Orders.Items))
	}
	for _, o := range out.Data.Orders.Items {
		if len(o.Items) != 3 || !strings.HasPrefix(o.Items[0].Product.Name, "Graph ") || o.Payment == nil || o.Payment.Status != "REQUIRES_PAYMENT" {
			t.Fatalf("order: %+v", o)
		}
	}
	n := tr.n.Load()
	t.Logf("50 orders with timelines, items, products, payments and fulfillments: %d SQL statements", n)
	if n > 10 {
		t.Fatalf("%d SQL statements for 50 orders, want at most 10", n)
	}
}

// schemaFile is the composed supergraph committed at the repository root.
var schemaFile = filepath.Join("..", "..", "schema.graphql")

// TestSchemaGraphQLIsCurrent fails when a subgraph changed without
// regenerating schema.graphql (the composed supergraph clients and tools
// read): `make graphql` regenerates it (UPDATE_SCHEMA_GRAPHQL=1).
func TestSchemaGraphQLIsCurrent(t *testing.T) {
	live, err := server.ComposedSchema()
	if err != nil {
		t.Fatal(err)
	}
	live = strings.TrimSpace(live) + "\n"
	if os.Getenv("UPDATE_SCHEMA_GRAPHQL") == "1" {
		if err := os.WriteFile(schemaFile, []byte(live), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != live {
		t.Fatal("schema.graphql is not the supergraph the subgraphs compose: run `make graphql` and commit schema.graphql")
	}
}
