package gql

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/wundergraph/graphql-go-tools/execution/engine"
	"google.golang.org/protobuf/proto"
)

const testSDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
directive @entityResolver(multi: Boolean) on OBJECT
type Product @key(fields: "id") @entityResolver(multi: true) { id: ID! name: String! }
type Query { product(id: ID!): Product }
`

// The gateway composes a subgraph's SDL (gqlgen's directives included),
// plans against it, reaches it in-process and forwards the caller's token.
func TestGatewayInProcess(t *testing.T) {
	var gotAuth string
	sub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"product":{"id":"p1","name":"Lamp"}}}`)
	})
	g, err := NewGateway(context.Background(), []Endpoint{{Name: "catalog", URL: InProcessURL("catalog"), SDL: testSDL}},
		InProcess(map[string]http.Handler{"catalog.subgraph.local": sub}), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.Schema(), "type Product") {
		t.Fatalf("schema: %s", g.Schema())
	}
	app := fiber.New()
	app.All("/graphql", g.Handle)
	do := func(q string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]any{"query": q})
		req := httptest.NewRequest("POST", "/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tok")
		return testJSON(t, app, req)
	}
	st, out := do(`{ product(id: "p1") { name } }`)
	if st != 200 || out["data"].(map[string]any)["product"].(map[string]any)["name"] != "Lamp" || gotAuth != "Bearer tok" {
		t.Fatalf("%d %v auth=%q", st, out, gotAuth)
	}
	code := func(out map[string]any) string {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		c, _ := ext["code"].(string)
		return c
	}
	deep := "{ product(id: \"p1\") " + strings.Repeat("{ name ", 50) + strings.Repeat("}", 50) + " }"
	if st, out := do(deep); st >= 500 || code(out) != "query_too_deep" {
		t.Fatalf("deep: %d %v", st, out)
	}
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 1000; i++ {
		aliases.WriteString(" a" + strconv.Itoa(i) + ": __typename")
	}
	aliases.WriteString("}")
	if st, out := do(aliases.String()); st >= 500 || code(out) != "too_many_aliases" {
		t.Fatalf("aliases: %d %v", st, out)
	}
	if st, out := do("{ " + strings.Repeat("__typename ", 100000) + "}"); st != 400 || code(out) != "query_too_large" {
		t.Fatalf("large: %d %v", st, out)
	}
	if st, out := do("{ product(id: "); st != 400 || code(out) != "graphql_parse_failed" {
		t.Fatalf("unparsable: %d %v", st, out)
	}
	if st, out := do("{ nope }"); st != 200 || code(out) != "validation_failed" {
		t.Fatalf("invalid: %d %v", st, out)
	}
	if st, out := do("{ __schema { types { name } } }"); st != 200 || out["data"] == nil {
		t.Fatalf("introspection: %d %v", st, out)
	}
	g.limits.Introspection = false
	if st, out := do("{ __schema { types { name } } }"); st != 200 || code(out) != "introspection_disabled" {
		t.Fatalf("introspection off: %d %v", st, out)
	}
}

// A subgraph set that does not compose fails with an error naming it.
func TestGatewayCompositionFailure(t *testing.T) {
	_, err := NewGateway(context.Background(), []Endpoint{{Name: "a", URL: InProcessURL("a"), SDL: "type Query { x: Nope }"}}, InProcess(nil), DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "composing the supergraph") {
		t.Fatalf("err = %v", err)
	}
}

// testJSON sends req to app and decodes the JSON answer.
func testJSON(t *testing.T, app *fiber.App, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	return res.StatusCode, out
}

// A second gateway of the same subgraphs reuses the first composition
// (seconds of CPU in a JavaScript VM), each gateway with its own copy;
// other subgraphs compose anew.
func TestCompositionIsMemoised(t *testing.T) {
	eps := []Endpoint{{Name: "catalog", URL: InProcessURL("catalog"), SDL: testSDL}}
	f := func(eps []Endpoint) *engine.FederationEngineConfigFactory {
		subs := []engine.SubgraphConfiguration{{Name: eps[0].Name, URL: eps[0].URL, SDL: eps[0].SDL}}
		return engine.NewFederationEngineConfigFactory(context.Background(), subs)
	}
	first, err := compose(f(eps), eps)
	if err != nil {
		t.Fatal(err)
	}
	second, err := compose(f(eps), eps)
	if err != nil {
		t.Fatal(err)
	}
	if first == second || !proto.Equal(first, second) {
		t.Fatal("the second composition is not an equal copy of the first")
	}
	composed.Lock()
	n := len(composed.m)
	composed.Unlock()
	other := []Endpoint{{Name: "other", URL: InProcessURL("other"), SDL: testSDL}}
	third, err := compose(f(other), other)
	if err != nil {
		t.Fatal(err)
	}
	composed.Lock()
	defer composed.Unlock()
	if len(composed.m) != n+1 || proto.Equal(first, third) {
		t.Fatalf("other subgraphs were not composed anew (%d memoised before, %d after)", n, len(composed.m))
	}
}
