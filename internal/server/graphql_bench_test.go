package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/opencommerce/commerce/internal/ordering"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// graphBench is a single binary with one product and one placed order of
// the caller, for comparing GraphQL with the REST calls that answer the
// same question.
type graphBench struct {
	e       *servertest.Env
	tok     string
	product string
	order   string
	client  *http.Client
}

func newGraphBench(b *testing.B) *graphBench {
	e := servertest.Start(b, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword, c.RateLimitPerMinute = "gbench@shop.test", "gbench-password", 100_000_000
	})
	tok := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "gbench@shop.test", "password": "gbench-password"}, "").Str("access_token")
	who, err := e.Server.Keys.Verifier().Verify(tok)
	if err != nil {
		b.Fatal(err)
	}
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "GB", "name": "Bench", "category": "c", "price": 1000, "currency": "USD",
		"weight_grams": 100, "initial_stock": 1000}, tok).Str("id")
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok)
	sid := e.Do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "1", "country": "US"},
		"courier": "standard", "payment_gateway": "test"}, tok).Str("checkout_session_id")
	oid, err := e.Server.Hosted("ordering").(*ordering.Module).PlaceOrder(context.Background(), who, sid)
	if err != nil {
		b.Fatal(err)
	}
	return &graphBench{e: e, tok: tok, product: pid, order: oid, client: &http.Client{}}
}

func (s *graphBench) get(b *testing.B, path string) {
	req, _ := http.NewRequest("GET", s.e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tok)
	s.send(b, req)
}

func (s *graphBench) graphql(b *testing.B, query string, vars map[string]any) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", s.e.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.tok)
	s.send(b, req)
}

func (s *graphBench) send(b *testing.B, req *http.Request) {
	res, err := s.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 && res.StatusCode != 404 {
		b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
	}
}

// BenchmarkProduct compares product(id) through the composed graph with
// GET /api/v1/products/{id}.
func BenchmarkProduct(b *testing.B) {
	s := newGraphBench(b)
	b.Run("rest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.get(b, "/api/v1/products/"+s.product)
		}
	})
	b.Run("graphql", func(b *testing.B) {
		vars := map[string]any{"id": s.product}
		for i := 0; i < b.N; i++ {
			s.graphql(b, `query($id: ID!) { product(id: $id) { id name price { amount currency } stock { available } } }`, vars)
		}
	})
}

// BenchmarkOrderAcrossSubgraphs compares the four-subgraph order query
// with the REST calls a client makes for the same data: the order (items,
// payment handle), its fulfillment and each item's product.
func BenchmarkOrderAcrossSubgraphs(b *testing.B) {
	s := newGraphBench(b)
	b.Run("rest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.get(b, "/api/v1/orders/"+s.order)
			s.get(b, "/api/v1/orders/"+s.order+"/fulfillment")
			s.get(b, "/api/v1/products/"+s.product)
		}
	})
	b.Run("graphql", func(b *testing.B) {
		vars := map[string]any{"id": s.order}
		for i := 0; i < b.N; i++ {
			s.graphql(b, `query($id: ID!) { order(id: $id) { status items { product { name } } payment { status } fulfillment { status } } }`, vars)
		}
	})
}
