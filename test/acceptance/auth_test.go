package acceptance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

var tokenRe = regexp.MustCompile(`token to the API:\s+([A-Za-z0-9_-]{20,})`)

func mailToken(t *testing.T, data string) string {
	t.Helper()
	// Bodies may be quoted-printable encoded.
	dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data)))
	if err == nil {
		data = string(dec)
	}
	m := tokenRe.FindStringSubmatch(data)
	if m == nil {
		t.Fatalf("no token in email:\n%s", data)
	}
	return m[1]
}

func redisURL(t *testing.T) string {
	if os.Getenv("CI") == "true" {
		return "redis://127.0.0.1:6379/0"
	}
	return "" // in-process Redis locally
}

// privateRedisURL is redisURL for a test whose counters must start at
// zero (a low rate limit): under CI a database of the shared server that
// no other test uses, emptied first; locally the in-process Redis.
func privateRedisURL(t *testing.T) string {
	url := redisURL(t)
	if url == "" {
		return ""
	}
	url = "redis://127.0.0.1:6379/9"
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("empty the test's Redis database: %v", err)
	}
	return url
}

// The walk: register → email → verify → login → me → refresh →
// reuse (family revoked) → addresses → admin list → bad input.
func TestAuthJourneyOverHTTP(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b)
	adminEmail := "admin-" + run + "@shop.test"
	p, _ := start(t, map[string]string{
		"DATABASE_URL":             pgtest.NewDatabase(t),
		"REDIS_URL":                redisURL(t),
		"DATA_DIR":                 t.TempDir(),
		"SMTP_URL":                 "smtp://" + smtp.Addr + "?tls=none",
		"BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"BOOTSTRAP_ADMIN_PASSWORD": "admin-password-" + run,
	})
	u := p.URL
	email := "ann-" + run + "@shop.test"

	// Register; the verification email arrives over SMTP.
	reg := expect(t, call(t, u, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse", "name": "Ann"}, ""), 201, "register")
	if reg.Str("status") != "unverified" || reg.Str("id") == "" {
		t.Fatalf("register body: %s", reg.Body)
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse", "name": "Ann"}, ""), 409, "", "duplicate")
	msg := smtp.WaitFor(t, email, "Confirm your email", 20*time.Second)
	token := mailToken(t, msg.Data)
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse"}, ""), 403, "email_not_verified", "login before verify")
	if r := expect(t, call(t, u, "POST", "/api/v1/auth/verify", map[string]string{"token": token}, ""), 200, "verify"); r.Str("status") != "active" {
		t.Fatal(string(r.Body))
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/verify", map[string]string{"token": token}, ""), 400, "", "verify twice")

	// Login, profile.
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "wrong horse"}, ""), 401, "invalid_credentials", "bad password")
	login := expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse"}, ""), 200, "login")
	if login.Str("token_type") != "Bearer" || login.JSON()["expires_in"].(float64) != 900 {
		t.Fatalf("login body: %s", login.Body)
	}
	access, refresh := login.Str("access_token"), login.Str("refresh_token")
	me := expect(t, call(t, u, "GET", "/api/v1/me", nil, access), 200, "me")
	if me.Str("email") != email || me.Str("status") != "active" {
		t.Fatalf("me: %s", me.Body)
	}
	expectProblem(t, call(t, u, "GET", "/api/v1/me", nil, ""), 401, "", "me anonymous")

	// Refresh rotation, then reuse of the old token revokes the family.
	ref := expect(t, call(t, u, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}, ""), 200, "refresh")
	newRefresh := ref.Str("refresh_token")
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}, ""), 401, "token_reused", "reuse")
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": newRefresh}, ""), 401, "", "family revoked")
	access = ref.Str("access_token")

	// Addresses.
	a1 := expect(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"label": "home", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "de"}, access), 201, "address 1")
	if a1.JSON()["is_default"] != true || a1.Str("country") != "DE" {
		t.Fatalf("first address: %s", a1.Body)
	}
	a2 := expect(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"line1": "2 Side St", "city": "Munich", "postal_code": "80331", "country": "DE", "is_default": true}, access), 201, "address 2")
	list := expect(t, call(t, u, "GET", "/api/v1/me/addresses", nil, access), 200, "addresses")
	items := list.JSON()["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["id"] != a2.Str("id") {
		t.Fatalf("addresses: %s", list.Body)
	}
	expect(t, call(t, u, "PATCH", "/api/v1/me/addresses/"+a1.Str("id"), map[string]any{"city": "Potsdam"}, access), 200, "patch address")
	expect(t, call(t, u, "DELETE", "/api/v1/me/addresses/"+a2.Str("id"), nil, access), 204, "delete address")
	list = expect(t, call(t, u, "GET", "/api/v1/me/addresses", nil, access), 200, "addresses")
	if it := list.JSON()["items"].([]any); len(it) != 1 || it[0].(map[string]any)["is_default"] != true {
		t.Fatalf("after delete: %s", list.Body)
	}

	// Admin list: 403 for customers, 200 for the bootstrap admin.
	expectProblem(t, call(t, u, "GET", "/api/v1/admin/users", nil, access), 403, "forbidden", "customer admin list")
	adm := expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": "admin-password-" + run}, ""), 200, "admin login")
	users := expect(t, call(t, u, "GET", "/api/v1/admin/users", nil, adm.Str("access_token")), 200, "admin list")
	before := len(users.JSON()["items"].([]any))
	if before != 2 {
		t.Fatalf("admin list: %s", users.Body)
	}

	// Bad input: 4xx problem+json, nothing written.
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/register", []byte(`{"email":"x@shop.test",`), ""), 400, "malformed_json", "bad JSON")
	expectProblem(t, call(t, u, "POST", "/api/v1/auth/register", []byte(`{"email":"y@shop.test","password":"correct horse","name":"Y","role":"admin"}`), ""), 422, "validation_failed", "unknown field")
	big := servertest.PostDeclaringSize(t, u, "/api/v1/auth/register", 2<<20)
	expectProblem(t, big, 413, "payload_too_large", "oversized body")
	expectProblem(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"line1": "x", "city": "x", "postal_code": "1", "country": "Germany"}, access), 422, "validation_failed", "bad country")
	users = expect(t, call(t, u, "GET", "/api/v1/admin/users", nil, adm.Str("access_token")), 200, "admin list")
	if n := len(users.JSON()["items"].([]any)); n != before {
		t.Fatalf("bad input wrote users: %d -> %d", before, n)
	}
	list = expect(t, call(t, u, "GET", "/api/v1/me/addresses", nil, access), 200, "addresses")
	if n := len(list.JSON()["items"].([]any)); n != 1 {
		t.Fatalf("bad input wrote addresses: %d", n)
	}

	// Forged tokens.
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.TrimRight(encodeB64(fmt.Sprintf(`{"sub":%q,"role":"admin","iss":"commerce","aud":"commerce-api","exp":9999999999}`, reg.Str("id"))), "=") + "."
	expectProblem(t, call(t, u, "GET", "/api/v1/admin/users", nil, none), 401, "", "alg none")

	// No secrets in the logs.
	logs := p.Logs()
	for _, secret := range []string{"correct horse", refresh, access} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a secret leaked into the logs")
		}
	}
}
