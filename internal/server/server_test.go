package server_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi/openapitest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Every served route must be in the OpenAPI document: an undocumented
// route fails here. GraphQL's endpoint is the one exception: it is no
// REST route, and schema.graphql documents it (docs/graphql.md).
func TestEveryRouteIsDocumented(t *testing.T) {
	e := servertest.Start(t, nil)
	doc := e.Server.Doc
	n := 0
	for _, r := range e.Server.App.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "OPTIONS" || r.Method == "USE" || r.Method == "CONNECT" || r.Method == "TRACE" {
			continue
		}
		n++
		if r.Path == server.GraphQLPath {
			continue
		}
		if !doc.Has(r.Method, httpx.ToOpenAPIPath(r.Path)) {
			t.Errorf("route %s %s is not in /openapi.json", r.Method, r.Path)
		}
	}
	if n < 20 {
		t.Fatalf("only %d routes found", n)
	}
	res := e.Do("GET", "/openapi.json", nil, "")
	var d struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.Body, &d); err != nil || d.OpenAPI != "3.1.0" || d.Paths["/api/v1/auth/register"]["post"] == nil {
		t.Fatalf("openapi.json: %v %s", err, res.Body[:200])
	}
	if r := e.Do("GET", "/docs", nil, ""); r.Status != 200 || !strings.Contains(string(r.Body), "openapi.json") {
		t.Fatalf("/docs: %d", r.Status)
	}
	// The served document is valid OpenAPI 3.1, and every raw JSON field
	// of a documented type says what it holds.
	openapitest.Valid31(t, res.Body)
	if raw := doc.Undeclared(); len(raw) > 0 {
		t.Errorf("json.RawMessage fields without a declared schema (implement openapi.RawTyper): %v", raw)
	}
}

func TestOperationalEndpointsAndHeaders(t *testing.T) {
	e := servertest.Start(t, nil)
	if r := e.Do("GET", "/healthz", nil, ""); r.Status != 200 {
		t.Fatal(r.Status)
	}
	r := e.Do("GET", "/readyz", nil, "")
	if r.Status != 200 || r.Str("status") != "ready" {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("X-Request-ID") == "" || r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") == "" {
		t.Fatalf("headers: %v", r.Header)
	}
	e.Do("GET", "/api/v1/me", nil, "")
	m := e.Do("GET", "/metrics", nil, "")
	body := string(m.Body)
	if m.Status != 200 || !strings.Contains(body, "http_server_requests") || !strings.Contains(body, `http_route="/api/v1/me"`) || !strings.Contains(body, `http_response_status_code="401"`) {
		t.Fatalf("metrics: %d\n%s", m.Status, body)
	}
	if !strings.Contains(body, "http_server_request_duration_seconds_bucket") {
		t.Fatal("latency histogram missing")
	}
	// The database refuses connections: not ready; back again: ready.
	var name string
	if err := e.DB.NewRaw("SELECT current_database()").Scan(context.Background(), &name); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	exec := func(q string) {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "' AND pid <> pg_backend_pid()")
	if r := e.Do("GET", "/readyz", nil, ""); r.Status != 503 || r.JSON()["checks"].(map[string]any)["database"] != "unreachable" {
		t.Fatalf("readyz without DB: %d %s", r.Status, r.Body)
	}
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	deadline := time.Now().Add(10 * time.Second)
	for e.Do("GET", "/readyz", nil, "").Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not ready again after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBadInputIsProblemJSONAndWritesNothing(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.BodyLimit = 4096 })
	users := func() int {
		var n int
		_ = e.DB.NewRaw("SELECT count(*) FROM auth.users").Scan(context.Background(), &n)
		return n
	}
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
	}{
		{"malformed", `{"email":`, "application/json", 400},
		{"trailing garbage", `{"email":"a@b.co","password":"12345678","name":"x"} x`, "application/json", 400},
		{"wrong type", `{"email":1,"password":"12345678","name":"x"}`, "application/json", 400},
		{"unknown field", `{"email":"a@b.co","password":"12345678","name":"x","role":"admin"}`, "application/json", 422},
		{"not json", `email=a@b.co`, "application/x-www-form-urlencoded", 400},
		{"empty", ``, "application/json", 400},
	}
	for _, c := range cases {
		r := e.Do("POST", "/api/v1/auth/register", []byte(c.body), "", "Content-Type", c.ctype)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", c.name, ct)
		}
		if r.Str("code") == "" || r.Str("type") == "" || r.JSON()["status"] == nil {
			t.Errorf("%s: not a problem body: %s", c.name, r.Body)
		}
	}
	big := servertest.PostDeclaringSize(t, e.URL, "/api/v1/auth/register", 5000)
	if big.Status != 413 || big.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("oversized: %d %s", big.Status, big.Body)
	}
	if n := users(); n != 0 {
		t.Fatalf("bad input wrote %d users", n)
	}
}

func TestAccessTokenAttacksOverHTTP(t *testing.T) {
	e := servertest.Start(t, nil)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","role":"admin","iss":"commerce","aud":"commerce-api","exp":9999999999}`)) + "."
	for _, tok := range []string{none, "garbage", "a.b.c"} {
		if r := e.Do("GET", "/api/v1/me", nil, tok); r.Status != 401 || r.Str("code") != "unauthenticated" {
			t.Errorf("token %q: %d", tok, r.Status)
		}
		if r := e.Do("GET", "/api/v1/admin/users", nil, tok); r.Status != 401 {
			t.Errorf("admin with %q: %d", tok, r.Status)
		}
	}
	jwks := e.Do("GET", "/.well-known/jwks.json", nil, "")
	if jwks.Status != 200 || !strings.Contains(string(jwks.Body), `"kid"`) || !strings.Contains(string(jwks.Body), `"RS256"`) {
		t.Fatalf("jwks: %s", jwks.Body)
	}
}

func TestIdempotencyKeyStripeSemantics(t *testing.T) {
	e := servertest.Start(t, nil)
	body := map[string]string{"email": "idem@shop.test", "password": "s3cret-pass", "name": "I"}
	first := e.Do("POST", "/api/v1/auth/register", body, "", "Idempotency-Key", "key-1")
	if first.Status != 201 {
		t.Fatal(first.Status)
	}
	again := e.Do("POST", "/api/v1/auth/register", body, "", "Idempotency-Key", "key-1")
	if again.Status != 201 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", again.Status, again.Body)
	}
	other := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "other@shop.test", "password": "s3cret-pass", "name": "I"}, "", "Idempotency-Key", "key-1")
	if other.Status != 409 || other.Str("code") != "idempotency_conflict" {
		t.Fatalf("different body: %d %s", other.Status, other.Body)
	}
	// Client errors are final too: the same 422 replays.
	bad := map[string]string{"email": "bad", "password": "s3cret-pass", "name": "I"}
	b1 := e.Do("POST", "/api/v1/auth/register", bad, "", "Idempotency-Key", "key-2")
	b2 := e.Do("POST", "/api/v1/auth/register", bad, "", "Idempotency-Key", "key-2")
	if b1.Status != 422 || b2.Status != 422 || b2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("422 replay: %d %d", b1.Status, b2.Status)
	}
	// A request still in flight: a concurrent duplicate gets 409.
	raw, _ := json.Marshal(map[string]string{"email": "slow@shop.test", "password": "s3cret-pass", "name": "I"})
	h := sha256.New()
	h.Write([]byte("POST /api/v1/auth/register\n"))
	h.Write(raw)
	if _, err := e.DB.ExecContext(context.Background(), `INSERT INTO platform.idempotency_keys (scope, key, method, path, request_hash, locked_until)
		VALUES ('ip:127.0.0.1', 'key-3', 'POST', '/api/v1/auth/register', ?, now() + interval '1 minute')`, h.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	if r := e.Do("POST", "/api/v1/auth/register", raw, "", "Idempotency-Key", "key-3"); r.Status != 409 {
		t.Fatalf("in flight: %d %s", r.Status, r.Body)
	}
	var n int
	_ = e.DB.NewRaw("SELECT count(*) FROM auth.users").Scan(context.Background(), &n)
	if n != 1 {
		t.Fatalf("users = %d, want 1", n)
	}
	// Credential responses are never stored at rest for replay.
	_, _ = e.DB.ExecContext(context.Background(), "UPDATE auth.users SET status = 'active'")
	login := map[string]string{"email": "idem@shop.test", "password": "s3cret-pass"}
	l1 := e.Do("POST", "/api/v1/auth/login", login, "", "Idempotency-Key", "key-4")
	l2 := e.Do("POST", "/api/v1/auth/login", login, "", "Idempotency-Key", "key-4")
	if l1.Status != 200 || l2.Status != 200 || l1.Str("refresh_token") == l2.Str("refresh_token") {
		t.Fatalf("login with key: %d %d", l1.Status, l2.Status)
	}
	_ = e.DB.NewRaw("SELECT count(*) FROM platform.idempotency_keys WHERE key = 'key-4'").Scan(context.Background(), &n)
	if n != 0 {
		t.Fatal("tokens stored in the idempotency table")
	}
}

func TestGlobalRateLimit(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.RateLimitPerMinute = 5 })
	var last servertest.Response
	for i := 0; i < 6; i++ {
		last = e.Do("GET", "/api/v1/me", nil, "")
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" || last.Str("code") != "rate_limited" {
		t.Fatalf("6th request: %d %v", last.Status, last.Header)
	}
}

func TestPerRouteRateLimitFromConfig(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) {
		c.RouteLimits = map[string]config.RouteLimit{"GET /healthz": {Limit: 2, Window: time.Minute}}
	})
	codes := []int{}
	for i := 0; i < 3; i++ {
		codes = append(codes, e.Do("GET", "/healthz", nil, "").Status)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v", codes)
	}
	if r := e.Do("GET", "/readyz", nil, ""); r.Status != 200 {
		t.Fatalf("other routes unaffected: %d", r.Status)
	}
}
