package server

import "sort"

// publishedTopics holds, per context built into this binary, the event
// topics it publishes; each host_<ctx>.go registers its own, so a binary
// built without a context (build tags) does not list that context's
// topics.
var publishedTopics = map[string][]string{}

// EventTopics lists every event topic a context built into this binary
// publishes, sorted and without duplicates. On Kafka (EVENT_TRANSPORT=kafka)
// each is a Kafka topic of the same name (no prefix; the forwarder and the
// subscribers use the name as is), so this is the list to pre-create where
// the brokers do not create topics on first use (`commerce events topics`).
func EventTopics() []string {
	seen := map[string]bool{}
	var out []string
	for _, ts := range publishedTopics {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Route is one line of the gateway's routing table: requests whose path is
// Prefix or below it go to the process hosting Context.
type Route struct {
	Prefix  string
	Context string
}

// OrderFulfillmentPattern is the one route that is not a plain prefix: the
// fulfillment of an order, under ordering's /api/v1/orders, belongs to
// fulfillment. The * stands for one path segment (the order id).
const OrderFulfillmentPattern = "/api/v1/orders/*/fulfillment"

// GatewayRoutes lists the gateway's path prefix → context table, sorted by
// prefix, with OrderFulfillmentPattern last, so that an external ingress
// (or the Kubernetes HTTPRoutes under deploy/k8s) can be derived from, and
// checked against, the table the gateway itself uses
// (`commerce gateway routes`).
func GatewayRoutes() []Route {
	out := make([]Route, 0, len(routes)+1)
	for p, c := range routes {
		out = append(out, Route{Prefix: p, Context: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return append(out, Route{Prefix: OrderFulfillmentPattern, Context: "fulfillment"})
}
