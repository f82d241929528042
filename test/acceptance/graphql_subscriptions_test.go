package acceptance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// gqlWS is a graphql-transport-ws client.
type gqlWS struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan map[string]any
	done chan websocket.CloseError
}

func dialGraphQLWS(t *testing.T, base string) *gqlWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	w := &gqlWS{t: t, c: c, msgs: make(chan map[string]any, 64), done: make(chan websocket.CloseError, 1)}
	go func() {
		defer close(w.msgs)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				if asClose(err, &ce) {
					w.done <- ce
				}
				return
			}
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			w.msgs <- m
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return w
}

func (w *gqlWS) send(m map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(m)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the next message, failing after d.
func (w *gqlWS) next(d time.Duration) map[string]any {
	w.t.Helper()
	select {
	case m, ok := <-w.msgs:
		if !ok {
			w.t.Fatal("the connection closed")
		}
		return m
	case <-time.After(d):
		w.t.Fatalf("no message within %v", d)
	}
	return nil
}

// quiet fails if a message arrives within d.
func (w *gqlWS) quiet(d time.Duration) {
	w.t.Helper()
	select {
	case m := <-w.msgs:
		w.t.Fatalf("unexpected message: %v", m)
	case <-time.After(d):
	}
}

func (w *gqlWS) init(token string) {
	w.t.Helper()
	w.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	if m := w.next(5 * time.Second); m["type"] != "connection_ack" {
		w.t.Fatalf("connection_init: %v", m)
	}
}

// Subscriptions over graphql-transport-ws on /graphql, as a client uses
// them, in both topologies: the order's status arrives live (PAID within
// a second of the payment's confirmation), with fields of other
// subgraphs; the notification of the payment arrives on its own
// subscription; a connection without a valid token is refused; another
// customer subscribing to the order gets an error and nothing else.
func TestGraphQLSubscriptions(t *testing.T) {
	// One Redis for every process: in the split topology the gateway reads
	// the fan-out that notify publishes from another process.
	s := newShop(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"})
	alice := customerToken(t, s.u, s.smtp, "live-alice@shop.test")
	bob := customerToken(t, s.u, s.smtp, "live-bob@shop.test")
	pid := s.product("SKU-LIVE", 1900, 5)
	o := expect(t, s.order(alice, s.checkout(alice, pid, 1)), 201, "order").JSON()
	id := o["id"].(string)
	intent := o["payment"].(map[string]any)["intent_id"].(string)

	refused := dialGraphQLWS(t, s.u)
	refused.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer not-a-token"}})
	select {
	case ce := <-refused.done:
		if ce.Code != 4403 {
			t.Fatalf("a forged token: closed %d", ce.Code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a forged token was not refused")
	}

	w := dialGraphQLWS(t, s.u)
	w.init(alice)
	w.send(map[string]any{"id": "order", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { orderStatus(orderId: $id) { id status total { amount currency } items { product { name } } } }`,
		"variables": map[string]any{"id": id}}})
	first := w.next(5 * time.Second)
	if first["type"] != "next" || dig(first, "payload", "data", "orderStatus", "status") != "PENDING_PAYMENT" ||
		dig(first, "payload", "data", "orderStatus", "items", 0, "product", "name") != "SKU-LIVE" {
		t.Fatalf("the order now: %v", first)
	}
	w.send(map[string]any{"id": "notes", "type": "subscribe", "payload": map[string]any{"query": `subscription { notifications { kind title } }`}})

	spy := dialGraphQLWS(t, s.u)
	spy.init(bob)
	spy.send(map[string]any{"id": "x", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($id: ID!) { orderStatus(orderId: $id) { status } }`, "variables": map[string]any{"id": id}}})
	if m := spy.next(5 * time.Second); m["type"] != "error" || !strings.Contains(mustJSON(m), `"not_found"`) {
		t.Fatalf("another customer's subscription: %v", m)
	}
	// Both subscriptions listening: graphql-ws acknowledges no subscribe,
	// so there is nothing to wait on; a short window before the payment.
	time.Sleep(200 * time.Millisecond)

	// The open connections are counted (the edge's /metrics when split).
	res, err := http.Get(s.u + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m := regexp.MustCompile(`(?m)^commerce_ws_connections\{endpoint="graphql"[^}]*\} ([0-9]+)`).FindStringSubmatch(string(body)); m == nil || m[1] == "0" {
		t.Fatalf("commerce_ws_connections{endpoint=\"graphql\"}: %v", m)
	}

	expect(t, call(t, s.u, "POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": intent, "card_number": "4242424242424242"}, alice), 200, "pay")
	paidAt := time.Now()
	var sawPaid, sawNote bool
	for !sawPaid || !sawNote {
		m := w.next(5 * time.Second)
		switch {
		case m["id"] == "order" && paidOrLater[fmt.Sprint(dig(m, "payload", "data", "orderStatus", "status"))]:
			// PAID, or the status after it when fulfillment moved the order
			// on before the re-read (the latest state is what is sent).
			if d := time.Since(paidAt); d > time.Second {
				t.Fatalf("%v arrived %v after the payment", dig(m, "payload", "data", "orderStatus", "status"), d)
			}
			sawPaid = true
		case m["id"] == "notes" && dig(m, "payload", "data", "notifications", "kind") == "ORDER_PAID":
			sawNote = true
		case m["type"] != "next":
			t.Fatalf("unexpected: %v", m)
		}
	}
	spy.quiet(300 * time.Millisecond)
	w.send(map[string]any{"id": "order", "type": "complete"})
}

// paidOrLater are the statuses of a paid order.
var paidOrLater = map[string]bool{"PAID": true, "FULFILLING": true, "SHIPPED": true, "DELIVERED": true}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
