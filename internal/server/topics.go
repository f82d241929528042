package server

import (
	"sort"
	"strings"
	"sync"
)

// EventTopics lists every event topic a context built into this binary
// publishes (the registry's Topics), sorted and without duplicates. On
// Kafka (EVENT_TRANSPORT=kafka) each is a Kafka topic of the same name (no
// prefix; the forwarder and the subscribers use the name as is), so this
// is the list to pre-create where the brokers do not create topics on
// first use (`commerce events topics`).
func EventTopics() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range registrations() {
		for _, t := range r.Topics {
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
// Prefix or below it go to the process hosting Context. A Prefix with a *
// is a pattern (module.Registration.RoutePatterns), not a prefix.
type Route struct {
	Prefix  string
	Context string
}

// routing is the gateway's table, built once from the registry's
// RoutePrefixes and RoutePatterns (after every ctx_<name>.go registered).
type routing struct {
	owners   map[string]string // prefix → context
	prefixes []string          // longest first
	patterns []Route           // in registry order
}

var routeTable = sync.OnceValue(func() routing {
	t := routing{owners: map[string]string{}}
	for _, r := range registrations() {
		for _, p := range r.RoutePrefixes {
			if prev, dup := t.owners[p]; dup {
				panic("server: route prefix " + p + " registered by " + prev + " and " + r.Name)
			}
			t.owners[p] = r.Name
			t.prefixes = append(t.prefixes, p)
		}
		for _, p := range r.RoutePatterns {
			t.patterns = append(t.patterns, Route{Prefix: p, Context: r.Name})
		}
	}
	sort.Slice(t.prefixes, func(i, j int) bool {
		if len(t.prefixes[i]) != len(t.prefixes[j]) {
			return len(t.prefixes[i]) > len(t.prefixes[j])
		}
		return t.prefixes[i] < t.prefixes[j]
	})
	return t
})

// owner returns the context serving path ("" when none): a pattern first
// (the path starts with what precedes its * and ends with what follows),
// then the longest prefix.
func owner(path string) string {
	t := routeTable()
	for _, p := range t.patterns {
		before, after, _ := strings.Cut(p.Prefix, "*")
		if strings.HasPrefix(path, before) && strings.HasSuffix(path, after) {
			return p.Context
		}
	}
	for _, p := range t.prefixes {
		if path == p || strings.HasPrefix(path, p+"/") || strings.HasPrefix(path, p+"?") {
			return t.owners[p]
		}
	}
	return ""
}

// GatewayRoutes lists the gateway's path prefix → context table, sorted by
// prefix, with the patterns (such as /api/v1/orders/*/fulfillment) last,
// so that an external ingress (or the Kubernetes HTTPRoutes under
// deploy/k8s) can be derived from, and checked against, the table the
// gateway itself uses (`commerce gateway routes`).
func GatewayRoutes() []Route {
	t := routeTable()
	out := make([]Route, 0, len(t.owners)+len(t.patterns))
	for p, c := range t.owners {
		out = append(out, Route{Prefix: p, Context: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return append(out, t.patterns...)
}

// Owner is the context the gateway sends path to ("" when none): the
// routing of the edge, for tools and the architecture tests.
func Owner(path string) string { return owner(path) }
