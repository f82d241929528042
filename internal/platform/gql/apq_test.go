package gql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/authn"
)

// Automatic persisted queries: an unknown hash asks for the text; the
// text with its hash registers it (a wrong hash is refused, a hostile
// text is not kept); then the hash alone runs the query, over POST and
// GET, on another gateway sharing the store too.
func TestAutomaticPersistedQueries(t *testing.T) {
	calls := 0
	sub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"product":{"name":"Lamp"}}}`)
	})
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	newApp := func() *fiber.App {
		g, err := NewGateway(context.Background(), []Endpoint{{Name: "catalog", URL: InProcessURL("catalog"), SDL: testSDL}},
			InProcess(map[string]http.Handler{"catalog.subgraph.local": sub}), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		g.PersistQueries(NewRedisQueries(rdb, time.Hour, 10))
		app := fiber.New()
		app.All("/graphql", g.Handle)
		return app
	}
	app, other := newApp(), newApp()
	query := `{ product(id: "p1") { name } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := func(h string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}
	}
	send := func(app *fiber.App, req *http.Request) (int, map[string]any) {
		t.Helper()
		return testJSON(t, app, req)
	}
	post := func(app *fiber.App, body map[string]any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req := httptest.NewRequest("POST", "/graphql", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		return send(app, req)
	}
	code := func(out map[string]any) string {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		c, _ := errs[0].(map[string]any)["extensions"].(map[string]any)["code"].(string)
		return c
	}
	name := func(out map[string]any) any {
		d, _ := out["data"].(map[string]any)
		p, _ := d["product"].(map[string]any)
		return p["name"]
	}

	if st, out := post(app, map[string]any{"extensions": ext(hash)}); st != 200 || code(out) != CodePersistedQueryNotFound ||
		out["errors"].([]any)[0].(map[string]any)["message"] != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %d %v", st, out)
	}
	if st, out := post(app, map[string]any{"query": query, "extensions": ext(strings.Repeat("0", 64))}); st != 400 || code(out) != "bad_request" {
		t.Fatalf("wrong hash: %d %v", st, out)
	}
	if st, out := post(app, map[string]any{"extensions": ext("NOT-A-HASH")}); st != 400 {
		t.Fatalf("malformed hash: %d %v", st, out)
	}
	if st, out := post(app, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}}); st != 200 ||
		code(out) != CodePersistedQueryNotSupported {
		t.Fatalf("version 2: %d %v", st, out)
	}
	// A text over the limits is refused and not kept.
	huge := query + strings.Repeat(" ", DefaultLimits.MaxQueryBytes)
	dsum := sha256.Sum256([]byte(huge))
	dhash := hex.EncodeToString(dsum[:])
	if st, _ := post(app, map[string]any{"query": huge, "extensions": ext(dhash)}); st == 200 {
		t.Fatalf("an oversized text was accepted")
	}
	if mr.Exists(apqKey(dhash)) {
		t.Fatal("an oversized text was stored")
	}
	if calls != 0 {
		t.Fatalf("%d subgraph calls before registration", calls)
	}

	if st, out := post(app, map[string]any{"query": query, "extensions": ext(hash)}); st != 200 || name(out) != "Lamp" {
		t.Fatalf("registration: %d %v", st, out)
	}
	if st, out := post(app, map[string]any{"extensions": ext(hash)}); st != 200 || name(out) != "Lamp" {
		t.Fatalf("by hash: %d %v", st, out)
	}
	// GET by hash on another replica (the store is shared).
	x, _ := json.Marshal(ext(hash))
	req := httptest.NewRequest("GET", "/graphql?extensions="+url.QueryEscape(string(x)), nil)
	req.Header.Set("Accept", "application/json")
	if st, out := send(other, req); st != 200 || name(out) != "Lamp" {
		t.Fatalf("GET by hash on another gateway: %d %v", st, out)
	}
	if ttl := mr.TTL(apqKey(hash)); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("stored text's TTL: %v", ttl)
	}
}

// The in-process cache is bounded and keeps the most recently used.
func TestLRUBound(t *testing.T) {
	l := newLRU(2)
	l.put("a", "1")
	l.put("b", "2")
	l.get("a")
	l.put("c", "3")
	if _, ok := l.get("b"); ok {
		t.Fatal("b should have been evicted")
	}
	if v, ok := l.get("a"); !ok || v != "1" {
		t.Fatal("a should be kept")
	}
	if len(l.items) != 2 || l.order.Len() != 2 {
		t.Fatalf("size %d/%d", len(l.items), l.order.Len())
	}
}

// An in-process subgraph takes the principal of a token the process
// verified already (same token only), and verifies any other.
func TestAuthenticateReusesAVerifiedCaller(t *testing.T) {
	var got []string
	h := Authenticate(authn.NewVerifier(nil), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		got = append(got, p.UserID)
	}))
	ctx := WithVerifiedCaller(context.Background(), "tok-1", authn.Principal{UserID: "u1", Role: authn.RoleCustomer})
	for _, tok := range []string{"tok-1", "tok-2", ""} {
		req := httptest.NewRequest("POST", "/graphql", nil).WithContext(ctx)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if strings.Join(got, ",") != "u1,," {
		t.Fatalf("principals: %q (want the verified one for its token only)", got)
	}
}
