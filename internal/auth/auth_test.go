package auth_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

type user struct {
	email, password, access, refresh string
}

func register(t *testing.T, e *servertest.Env, email string) user {
	t.Helper()
	r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "s3cret-pass", "name": "Test"}, "")
	if r.Status != 201 || r.Str("status") != "unverified" {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	tok := e.WaitToken(strings.ToLower(email), "verify_email")
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": tok}, ""); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	return login(t, e, email, "s3cret-pass")
}

func login(t *testing.T, e *servertest.Env, email, pw string) user {
	t.Helper()
	r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, "")
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return user{email: email, password: pw, access: r.Str("access_token"), refresh: r.Str("refresh_token")}
}

func count(t *testing.T, e *servertest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegistrationVerificationAndEvents(t *testing.T) {
	e := servertest.Start(t, nil)
	dup := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "x@shop.test", "password": "s3cret-pass", "name": "X"}, "")
	if dup.Status != 201 {
		t.Fatal(dup.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "X@Shop.test", "password": "s3cret-pass", "name": "X"}, ""); r.Status != 409 {
		t.Fatalf("duplicate email: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "x@shop.test", "password": "s3cret-pass"}, ""); r.Status != 403 || r.Str("code") != "email_not_verified" {
		t.Fatalf("unverified login: %d %s", r.Status, r.Body)
	}
	bad := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "nope", "password": "short", "name": "  "}, "")
	if bad.Status != 422 || len(bad.JSON()["errors"].([]any)) != 3 {
		t.Fatalf("validation: %d %s", bad.Status, bad.Body)
	}
	tok := e.WaitToken("x@shop.test", "verify_email")
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": tok}, ""); r.Status != 200 || r.Str("status") != "active" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": tok}, ""); r.Status != 400 {
		t.Fatalf("reused verify token: %d", r.Status)
	}
	// Both events went through the outbox.
	if n := count(t, e, `SELECT count(*) FROM events.outbox WHERE topic = 'auth.user_registered'`); n != 1 {
		t.Fatalf("user_registered events: %d", n)
	}
	if n := count(t, e, `SELECT count(*) FROM events.outbox WHERE topic = 'auth.user_verified'`); n != 1 {
		t.Fatalf("user_verified events: %d", n)
	}
	// Only the hash of tokens is stored by auth.
	if n := count(t, e, "SELECT count(*) FROM auth.tokens WHERE encode(hash, 'escape') LIKE ?", "%"+tok+"%"); n != 0 {
		t.Fatal("plain token stored")
	}
}

func TestResendVerificationIsLimitedAndDoesNotEnumerate(t *testing.T) {
	e := servertest.Start(t, nil)
	for i := 0; i < 3; i++ {
		if r := e.Do("POST", "/api/v1/auth/resend-verification", map[string]string{"email": "ghost@shop.test"}, ""); r.Status != 202 {
			t.Fatalf("resend %d: %d", i, r.Status)
		}
	}
	r := e.Do("POST", "/api/v1/auth/resend-verification", map[string]string{"email": "ghost@shop.test"}, "")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th resend: %d %v", r.Status, r.Header)
	}
}

func TestLoginBruteForceLimited(t *testing.T) {
	e := servertest.Start(t, nil)
	u := register(t, e, "bf@shop.test")
	for i := 0; i < 5; i++ {
		if r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.email, "password": "wrong-password"}, ""); r.Status != 401 || r.Str("code") != "invalid_credentials" {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.email, "password": u.password}, "")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures even the right password must wait: %d", r.Status)
	}
}

func TestRefreshRotationReuseRevokesFamily(t *testing.T) {
	e := servertest.Start(t, nil)
	u := register(t, e, "rot@shop.test")
	r1 := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": u.refresh}, "")
	if r1.Status != 200 || r1.Str("refresh_token") == u.refresh {
		t.Fatalf("refresh: %d %s", r1.Status, r1.Body)
	}
	second := r1.Str("refresh_token")
	reuse := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": u.refresh}, "")
	if reuse.Status != 401 || reuse.Str("code") != "token_reused" {
		t.Fatalf("reuse: %d %s", reuse.Status, reuse.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": second}, ""); r.Status != 401 {
		t.Fatalf("family must be revoked, got %d", r.Status)
	}
	// Another login (another family) is unaffected.
	other := login(t, e, u.email, u.password)
	if r := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": other.refresh}, ""); r.Status != 200 {
		t.Fatalf("other family: %d", r.Status)
	}
	// Logout revokes.
	l := login(t, e, u.email, u.password)
	if r := e.Do("POST", "/api/v1/auth/logout", map[string]string{"refresh_token": l.refresh}, ""); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": l.refresh}, ""); r.Status != 401 {
		t.Fatalf("after logout: %d", r.Status)
	}
}

func TestConcurrentRefreshRotatesOnce(t *testing.T) {
	e := servertest.Start(t, nil)
	u := register(t, e, "race@shop.test")
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": u.refresh}, "").Status
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("want exactly one successful rotation, got %v", statuses)
	}
}

func TestPasswordResetRevokesSessions(t *testing.T) {
	e := servertest.Start(t, nil)
	u := register(t, e, "reset@shop.test")
	if r := e.Do("POST", "/api/v1/auth/password/forgot", map[string]string{"email": u.email}, ""); r.Status != 202 {
		t.Fatal(r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/password/forgot", map[string]string{"email": "nobody@shop.test"}, ""); r.Status != 202 {
		t.Fatal("unknown email must look the same", r.Status)
	}
	tok := e.WaitToken(u.email, "password_reset")
	if r := e.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": tok, "password": "short"}, ""); r.Status != 422 {
		t.Fatalf("weak password: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": tok, "password": "brand-new-pass"}, ""); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": tok, "password": "another-pass"}, ""); r.Status != 400 {
		t.Fatalf("reset token reused: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": u.refresh}, ""); r.Status != 401 {
		t.Fatalf("old session must be revoked: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.email, "password": u.password}, ""); r.Status != 401 {
		t.Fatalf("old password: %d", r.Status)
	}
	login(t, e, u.email, "brand-new-pass")
}

func TestAddressesKeepExactlyOneDefault(t *testing.T) {
	e := servertest.Start(t, nil)
	u := register(t, e, "addr@shop.test")
	add := func(line string, def bool) string {
		r := e.Do("POST", "/api/v1/me/addresses", map[string]any{"line1": line, "city": "Berlin", "postal_code": "10115", "country": "de", "is_default": def}, u.access)
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Body)
		}
		return r.Str("id")
	}
	defaults := func() int {
		return count(t, e, "SELECT count(*) FROM auth.addresses WHERE is_default")
	}
	a := add("1 A St", false) // first address becomes default
	b := add("2 B St", true)
	c := add("3 C St", false)
	if defaults() != 1 {
		t.Fatal("one default")
	}
	if r := e.Do("PATCH", "/api/v1/me/addresses/"+b, map[string]any{"is_default": false}, u.access); r.Status != 422 {
		t.Fatalf("unsetting the only default: %d", r.Status)
	}
	if r := e.Do("PATCH", "/api/v1/me/addresses/"+c, map[string]any{"is_default": true, "city": "Hamburg"}, u.access); r.Status != 200 || r.Str("city") != "Hamburg" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if r := e.Do("DELETE", "/api/v1/me/addresses/"+c, nil, u.access); r.Status != 204 {
		t.Fatal(r.Status)
	}
	if defaults() != 1 {
		t.Fatal("deleting the default promotes another")
	}
	// Another user cannot see or touch these addresses.
	other := register(t, e, "other@shop.test")
	if r := e.Do("PATCH", "/api/v1/me/addresses/"+a, map[string]any{"city": "x"}, other.access); r.Status != 404 {
		t.Fatalf("foreign address: %d", r.Status)
	}
	// The database itself refuses two defaults.
	_, err := e.DB.ExecContext(context.Background(), "UPDATE auth.addresses SET is_default = true")
	if err == nil {
		t.Fatal("database allowed two defaults")
	}
	// Concurrent "make default" requests still leave exactly one.
	ids := []string{add("4", false), add("5", false), add("6", false)}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			e.Do("PATCH", "/api/v1/me/addresses/"+id, map[string]any{"is_default": true}, u.access)
		}(id)
	}
	wg.Wait()
	if d := count(t, e, "SELECT count(*) FROM auth.addresses a JOIN auth.users u ON u.id = a.user_id WHERE u.email = ? AND a.is_default", u.email); d != 1 {
		t.Fatalf("defaults after concurrent updates: %d", d)
	}
}

func TestProfileAndAdminList(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = "root@shop.test", "admin-password"
	})
	u := register(t, e, "me@shop.test")
	if r := e.Do("PATCH", "/api/v1/me", map[string]any{"name": "  New Name "}, u.access); r.Status != 200 || r.Str("name") != "New Name" {
		t.Fatalf("patch me: %d %s", r.Status, r.Body)
	}
	if r := e.Do("PATCH", "/api/v1/me", map[string]any{"email": "evil@shop.test"}, u.access); r.Status != 422 {
		t.Fatalf("unknown field: %d", r.Status)
	}
	if r := e.Do("GET", "/api/v1/admin/users", nil, u.access); r.Status != 403 {
		t.Fatalf("customer on admin route: %d", r.Status)
	}
	if r := e.Do("GET", "/api/v1/admin/users", nil, ""); r.Status != 401 {
		t.Fatalf("anonymous on admin route: %d", r.Status)
	}
	admin := login(t, e, "root@shop.test", "admin-password")
	for i := 0; i < 3; i++ {
		register(t, e, fmt.Sprintf("p%d@shop.test", i))
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		r := e.Do("GET", "/api/v1/admin/users?limit=2&cursor="+cursor, nil, admin.access)
		if r.Status != 200 {
			t.Fatalf("admin list: %d %s", r.Status, r.Body)
		}
		for _, it := range r.JSON()["items"].([]any) {
			seen[it.(map[string]any)["email"].(string)] = true
		}
		next, _ := r.JSON()["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 5 {
		t.Fatalf("paged users: %v", seen)
	}
	if r := e.Do("GET", "/api/v1/admin/users?limit=1000", nil, admin.access); r.Status != 422 {
		t.Fatalf("limit over max: %d", r.Status)
	}
}

// Admins search users by a literal, case-insensitive substring of the
// email or name, and filter by role and status; bad filters are 422.
func TestAdminUserSearch(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "root@shop.test", "admin-password" })
	admin := login(t, e, "root@shop.test", "admin-password")
	register(t, e, "Ann.Smith@shop.test")
	register(t, e, "bob_50%@shop.test")
	if r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "carl@shop.test", "password": "s3cret-pass", "name": "Carl SMITHERS"}, ""); r.Status != 201 {
		t.Fatalf("register: %d", r.Status)
	}
	emails := func(query string) string {
		t.Helper()
		r := e.Do("GET", "/api/v1/admin/users?"+query, nil, admin.access)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		var out []string
		for _, it := range r.JSON()["items"].([]any) {
			out = append(out, it.(map[string]any)["email"].(string))
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"q=SMITH":                                 "ann.smith@shop.test,carl@shop.test", // email of one, name of the other
		"q=" + url.QueryEscape("_50%"):            "bob_50%@shop.test",                  // wildcards match literally
		"q=" + url.QueryEscape("%"):               "bob_50%@shop.test",
		"q=" + url.QueryEscape("a_n"):             "",
		"role=admin":                              "root@shop.test",
		"status=unverified":                       "carl@shop.test",
		"q=shop.test&status=active&role=customer": "ann.smith@shop.test,bob_50%@shop.test",
	} {
		if got := emails(q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	for _, q := range []string{"role=root", "status=gone", "q=" + strings.Repeat("x", 321)} {
		if r := e.Do("GET", "/api/v1/admin/users?"+q, nil, admin.access); r.Status != 422 {
			t.Errorf("%.40s: %d %s", q, r.Status, r.Body)
		}
	}
}
