package acceptance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// The split topology: a gateway, catalog alone in one process, the other
// contexts in another, one database, events on Kafka (kfake), calls over
// gRPC; every public call goes through the gateway. An order
// flows across both; stopping catalog makes catalog-dependent routes fail
// fast with 503 while the rest keeps working; restarting it recovers.
func TestSplitTopology(t *testing.T) {
	monolithOnly(t)
	cluster := kafkaCluster(t)
	keyFile := jwtKeyFile(t)
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	db := pgtest.NewDatabase(t)
	common := func(extra map[string]string) map[string]string {
		env := map[string]string{"DATABASE_URL": db, "DATA_DIR": t.TempDir(), "JWT_PRIVATE_KEY_FILE": keyFile, "EVENT_TRANSPORT": "kafka",
			"KAFKA_BROKERS": strings.Join(cluster.ListenAddrs(), ","), "PAYMENT_WEBHOOK_SECRET": webhookSecret, "RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000"}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	catalogGRPC := freeAddr(t)
	catEnv := common(map[string]string{"CONTEXTS": "catalog", "GRPC_ADDR": catalogGRPC, "HTTP_ADDR": freeAddr(t)})
	cat, _ := start(t, catEnv)
	rest, _ := start(t, common(map[string]string{"CONTEXTS": "auth,cart,fulfillment,ordering,payments,notify,webhooks", "GRPC_ADDR": freeAddr(t),
		"CATALOG_GRPC_ADDR": catalogGRPC, "SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "TRUST_PROXY": "true",
		"BOOTSTRAP_ADMIN_EMAIL": "split-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password"}))
	var ups []string
	for _, c := range []string{"auth", "cart", "fulfillment", "ordering", "payments", "notify", "chat", "search", "webhooks"} {
		ups = append(ups, c+"="+rest.URL)
	}
	gw, _ := start(t, map[string]string{"CONTEXTS": "gateway", "DATA_DIR": t.TempDir(), "JWT_PRIVATE_KEY_FILE": keyFile, "RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
		"GATEWAY_UPSTREAMS": strings.Join(append(ups, "catalog="+cat.URL), ",")})
	edge := gw.URL

	admin := expect(t, call(t, edge, "POST", "/api/v1/auth/login", map[string]string{"email": "split-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	pid := expect(t, call(t, edge, "POST", "/api/v1/admin/products", map[string]any{"sku": "SPLIT", "name": "Split", "category": "c", "price": 1500,
		"currency": "USD", "weight_grams": 300, "initial_stock": 10}, admin), 201, "product on the catalog process").Str("id")
	expectProblem(t, call(t, rest.URL, "GET", "/api/v1/products/"+pid, nil, ""), 404, "", "catalog routes live on the catalog process")
	expect(t, call(t, edge, "GET", "/api/v1/products/"+pid, nil, ""), 200, "the edge routes them there")
	doc := expect(t, call(t, edge, "GET", "/openapi.json", nil, ""), 200, "merged OpenAPI").JSON()["paths"].(map[string]any)
	for _, path := range []string{"/api/v1/products/{id}", "/api/v1/orders", "/api/v1/payments/webhooks/{gateway}", "/api/v1/auth/login"} {
		if doc[path] == nil {
			t.Fatalf("gateway OpenAPI lacks %s", path)
		}
	}
	tok := customerToken(t, edge, smtp, "split@shop.test")
	expectProblem(t, call(t, edge, "GET", "/api/v1/me", nil, "forged.token.here"), 401, "unauthenticated", "forged token at the edge")

	// Cart and order on the other process, catalog reached over gRPC.
	expect(t, call(t, edge, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 3}, tok), 200, "add over gRPC")
	sess := expect(t, call(t, edge, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
		"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, tok), 201, "checkout").Str("checkout_session_id")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	o := expect(t, call(t, edge, "POST", "/api/v1/orders", map[string]any{"checkout_session_id": sess}, tok,
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01"), 201, "order").JSON()
	// One trace across processes: the reservation's event, written by the
	// catalog process inside the gRPC call, carries the client's trace id,
	// and so does ordering's order_placed.
	pgc, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pgc.Close(context.Background())
	for _, topic := range []string{"catalog.stock_changed", "ordering.order_placed"} {
		var n int
		if err := pgc.QueryRow(context.Background(), `SELECT count(*) FROM events.outbox WHERE topic = $2 AND payload->>'trace_parent' LIKE $1`, "%"+traceID+"%", topic).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%s events with the client's trace id: %d %v", topic, n, err)
		}
	}
	stock := func() map[string]any {
		return expect(t, call(t, edge, "GET", "/api/v1/products/"+pid, nil, ""), 200, "product").JSON()["stock"].(map[string]any)
	}
	if st := stock(); st["reserved"].(float64) != 3 {
		t.Fatalf("reservation over gRPC: %v", st)
	}
	// Paid on one process; the stock is committed by the other, through Kafka.
	s := &shop{t: t, u: edge, smtp: smtp}
	expect(t, s.webhook("evt_split", "payment_intent.succeeded", o["payment"].(map[string]any)["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "webhook")
	s.waitStatus(tok, o["id"].(string), "paid")
	deadline := time.Now().Add(30 * time.Second)
	for st := stock(); st["on_hand"].(float64) != 7 || st["reserved"].(float64) != 0; st = stock() {
		if time.Now().After(deadline) {
			t.Fatalf("stock not committed across processes: %v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.smtp.WaitFor(t, "split@shop.test", "Subject: Payment received", 20*time.Second)

	// Fault: catalog down → catalog routes (edge breaker) and catalog-dependent
	// routes (gRPC breaker) answer 503 quickly; others work.
	cat.stop()
	for i := 0; i < 5; i++ {
		began := time.Now()
		if r := call(t, edge, "GET", "/api/v1/products/"+pid, nil, ""); r.Status != 503 || time.Since(began) > 3*time.Second {
			t.Fatalf("catalog route while down: %d after %s", r.Status, time.Since(began))
		}
	}
	for i := 0; i < 6; i++ {
		began := time.Now()
		r := call(t, edge, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok)
		if r.Status != 503 || time.Since(began) > 3*time.Second {
			t.Fatalf("catalog down: %d after %s (%s)", r.Status, time.Since(began), r.Body)
		}
	}
	began := time.Now()
	if r := call(t, edge, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok); r.Status != 503 || time.Since(began) > 100*time.Millisecond {
		t.Fatalf("breaker should fail fast: %d in %s", r.Status, time.Since(began))
	}
	expect(t, call(t, edge, "GET", "/api/v1/me", nil, tok), 200, "unaffected route")
	// Catalog back: recovered, nothing lost.
	cat, _ = start(t, catEnv)
	deadline = time.Now().Add(20 * time.Second)
	for call(t, edge, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not recovered after catalog restart")
		}
		time.Sleep(250 * time.Millisecond)
	}
	for call(t, edge, "GET", "/api/v1/products/"+pid, nil, "").Status != 200 { // the edge breaker half-opens
		if time.Now().After(deadline) {
			t.Fatal("edge did not recover")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if st := stock(); st["on_hand"].(float64) != 7 {
		t.Fatalf("stock after restart: %v", st)
	}
}
