package acceptance

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/wait"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// An administrator registers a webhook to a receiver on loopback
// (WEBHOOKS_ALLOW_INSECURE admits plain http there); an order placed and
// paid arrives as two signed deliveries, logged. In both topologies (the
// split one runs webhooks alone).
func TestWebhooksDeliverSignedOrderEvents(t *testing.T) {
	s := newShop(t, map[string]string{"WEBHOOKS_ALLOW_INSECURE": "true"})
	var mu sync.Mutex
	type hit struct {
		typ, id, sig string
		body         []byte
	}
	var hits []hit
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{r.Header.Get(webhooksapi.HeaderEventType), r.Header.Get(webhooksapi.HeaderEventID), r.Header.Get(webhooksapi.HeaderSignature), b})
		mu.Unlock()
		w.WriteHeader(204)
	}))
	defer rcv.Close()
	tok := customerToken(t, s.u, s.smtp, "hooks@shop.test")

	reg := map[string]any{"url": rcv.URL + "/hook", "events": []string{"ordering.order_placed", "ordering.order_paid"}, "description": "erp"}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/webhooks", reg, tok), 403, "", "a customer registers a webhook")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://169.254.169.254/latest/meta-data", "events": []string{"*"}}, s.admin),
		422, "", "metadata address")
	ep := expect(t, call(t, s.u, "POST", "/api/v1/admin/webhooks", reg, s.admin), 201, "register").JSON()
	id, secret := ep["id"].(string), ep["secret"].(string)
	if l := expect(t, call(t, s.u, "GET", "/api/v1/admin/webhooks/"+id, nil, s.admin), 200, "get").JSON(); l["secret"] != nil {
		t.Fatalf("the secret is shown again: %v", l)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/admin/webhooks"}, {"GET", "/api/v1/admin/webhooks/" + id}, {"PATCH", "/api/v1/admin/webhooks/" + id},
		{"DELETE", "/api/v1/admin/webhooks/" + id}, {"POST", "/api/v1/admin/webhooks/" + id + "/rotate-secret"},
		{"GET", "/api/v1/admin/webhooks/" + id + "/deliveries"}, {"POST", "/api/v1/admin/webhooks/" + id + "/deliveries/" + id + "/replay"},
		{"POST", "/api/v1/admin/webhooks/" + id + "/ping"},
	} {
		var body any
		if r.method == "PATCH" {
			body = map[string]any{"enabled": false}
		}
		expectProblem(t, call(t, s.u, r.method, r.path, body, tok), 403, "", "a customer: "+r.method+" "+r.path)
	}

	pid := s.product("SKU-HOOK", 2500, 5)
	o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order").JSON()
	expect(t, s.webhook("evt_hook_paid", "payment_intent.succeeded", o["payment"].(map[string]any)["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "payment")
	wait.Until(t, "two deliveries", 30*time.Second, 50*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hits) >= 2
	})
	mu.Lock()
	got := append([]hit(nil), hits...)
	mu.Unlock()
	types := map[string]int{}
	for _, h := range got {
		if err := webhooksapi.Verify(secret, h.sig, h.body, 5*time.Minute, time.Now()); err != nil {
			t.Fatalf("%s: %v", h.typ, err)
		}
		types[h.typ]++
	}
	if len(got) != 2 || types["ordering.order_placed"] != 1 || types["ordering.order_paid"] != 1 {
		t.Fatalf("deliveries: %v", types)
	}
	// The receiver answered before the attempt was recorded: wait for the log.
	wait.Until(t, "both deliveries logged as succeeded", 20*time.Second, 50*time.Millisecond, func() bool {
		items := expect(t, call(t, s.u, "GET", "/api/v1/admin/webhooks/"+id+"/deliveries", nil, s.admin), 200, "log").JSON()["items"].([]any)
		ok := 0
		for _, d := range items {
			d := d.(map[string]any)
			if d["status"] == "succeeded" && len(d["log"].([]any)) == 1 {
				ok++
			}
		}
		return len(items) == 2 && ok == 2
	})
}
