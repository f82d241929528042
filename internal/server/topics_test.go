package server_test

import (
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/server"
)

// Every line of GatewayRoutes routes to its context by the gateway's own
// rule (the * of the order fulfillment pattern standing for an id; that
// pattern is exact, not a prefix), so the
// printed table cannot drift from the routing.
func TestGatewayRoutesAgreeWithTheRouting(t *testing.T) {
	rs := server.GatewayRoutes()
	if len(rs) < 10 {
		t.Fatalf("only %d routes", len(rs))
	}
	for _, r := range rs {
		path := strings.ReplaceAll(r.Prefix, "*", "ord_123")
		if got := server.Owner(path); got != r.Context {
			t.Errorf("%s: the gateway routes it to %q, the table says %q", r.Prefix, got, r.Context)
		}
		if got := server.Owner(path + "/x"); got != r.Context && !strings.Contains(r.Prefix, "*") {
			t.Errorf("%s/x: the gateway routes it to %q, the table says %q", r.Prefix, got, r.Context)
		}
	}
}

// EventTopics is sorted, unique and names topics <context>.<event>, the
// form the Kafka topics and deploy/k8s's KafkaTopics take.
func TestEventTopicsAreQualifiedAndUnique(t *testing.T) {
	ts := server.EventTopics()
	if len(ts) == 0 {
		t.Fatal("no topics")
	}
	for i, topic := range ts {
		if i > 0 && ts[i-1] >= topic {
			t.Errorf("not sorted and unique at %s", topic)
		}
		if ctx, ev, ok := strings.Cut(topic, "."); !ok || ctx == "" || ev == "" {
			t.Errorf("topic %q is not <context>.<event>", topic)
		}
	}
}
