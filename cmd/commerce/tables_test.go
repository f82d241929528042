package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
)

// `commerce events topics` prints every topic of every context's Topics,
// once each and sorted: deployments pre-create exactly these Kafka topics
// (deploy/k8s has a KafkaTopic for each line).
func TestEventsTopicsListsEveryPublishedTopic(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"events", "topics"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := strings.Fields(out.String())
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not sorted and unique: %v", got)
	}
	for _, ts := range [][]string{authapi.Topics, catalogapi.Topics, chatapi.Topics, fulfillmentapi.Topics, orderingapi.Topics, paymentsapi.Topics} {
		for _, topic := range ts {
			if !slices.Contains(got, topic) {
				t.Errorf("topic %s missing from %v", topic, got)
			}
		}
	}
}

// `commerce gateway routes` prints "prefix context" lines, one per route of
// the gateway, every context owning at least one.
func TestGatewayRoutesPrintsTheTable(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"gateway", "routes"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	owners := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[0], "/") {
			t.Fatalf("line %q is not \"prefix context\"", line)
		}
		owners[f[1]] = true
	}
	for _, c := range []string{"auth", "catalog", "cart", "ordering", "payments", "fulfillment", "notify", "chat", "search", "webhooks"} {
		if !owners[c] {
			t.Errorf("context %s owns no route in:\n%s", c, out.String())
		}
	}
	if !strings.Contains(out.String(), "/api/v1/orders/*/fulfillment fulfillment\n") {
		t.Errorf("the order fulfillment route is missing:\n%s", out.String())
	}
}

// Both commands refuse an unknown action (exit 1), so a typo in a script
// does not silently print nothing.
func TestTablesRefuseUnknownActions(t *testing.T) {
	for _, args := range [][]string{{"events"}, {"events", "list"}, {"gateway", "topics"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "usage") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// `commerce graphql subgraphs DIR` writes every compiled-in subgraph's
// SDL, one file each, and names them.
func TestGraphQLSubgraphsCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"graphql", "subgraphs", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 9 {
		t.Fatalf("subgraphs: %q", out.String())
	}
	for _, l := range lines {
		name, file, _ := strings.Cut(l, " ")
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), "@link(url: \"https://specs.apollo.dev/federation/v2") {
			t.Fatalf("%s: %v %.200s", name, err, b)
		}
	}
	if code := run([]string{"graphql"}, &out, &errb); code == 0 {
		t.Fatal("graphql without subgraphs DIR should fail")
	}
}
