package config

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.AccessTTL != 15*time.Minute || c.RefreshTTL != 168*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.Reminders) != 3 || c.Reminders[0] != 4*time.Hour || len(c.Contexts) != len(AllContexts) {
		t.Fatalf("lists: %+v %+v", c.Reminders, c.Contexts)
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	c, err := Load([]string{"--http-addr", ":9999"}, env(map[string]string{"HTTP_ADDR": ":7777"}))
	if err != nil || c.HTTPAddr != ":9999" {
		t.Fatalf("%v %v", c, err)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"ACCESS_TOKEN_TTL":  "soon",
		"EVENT_TRANSPORT":   "carrier-pigeon",
		"DATABASE_URL":      "mysql://x",
		"HTTP_ADDR":         "nope",
		"CONTEXTS":          "auth,billing",
		"RATE_LIMIT_ROUTES": "POST /x=ten/1m",
	}
	for k, v := range cases {
		_, err := Load(nil, env(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: want error naming it, got %v", k, v, err)
		}
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"DATABASE_URL":             "postgres://u:hunter2@db:5432/x",
		"BOOTSTRAP_ADMIN_EMAIL":    "a@b.c",
		"BOOTSTRAP_ADMIN_PASSWORD": "s3cretpass",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	out := b.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cretpass") {
		t.Fatalf("secret leaked:\n%s", out)
	}
	if !strings.Contains(out, "db:5432") {
		t.Fatalf("host should stay visible:\n%s", out)
	}
}

func TestRouteLimits(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"RATE_LIMIT_ROUTES": "post /api/v1/auth/login=10/1m, GET /api/v1/me=2/30s"}))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.RouteLimits["POST /api/v1/auth/login"]; l.Limit != 10 || l.Window != time.Minute {
		t.Fatalf("%+v", c.RouteLimits)
	}
	if l := c.RouteLimits["GET /api/v1/me"]; l.Limit != 2 || l.Window != 30*time.Second {
		t.Fatalf("%+v", c.RouteLimits)
	}
}

// PUBLIC_URL follows HTTP_ADDR when unset, so links in emails point where
// the shop listens.
func TestPublicURLDefaultsToHTTPAddr(t *testing.T) {
	cases := map[string]string{
		"":                 "http://localhost:8080", // HTTP_ADDR default :8080
		":9000":            "http://localhost:9000",
		"0.0.0.0:9000":     "http://localhost:9000",
		"[::]:9000":        "http://localhost:9000",
		"127.0.0.1:9000":   "http://127.0.0.1:9000",
		"shop.test:8443":   "http://shop.test:8443",
		"[::1]:9000":       "http://[::1]:9000",
		"shop.test:80":     "http://shop.test",
		"[2001:db8::1]:80": "http://[2001:db8::1]",
	}
	for addr, want := range cases {
		c, err := Load(nil, env(map[string]string{"HTTP_ADDR": addr}))
		if err != nil || c.PublicURL != want {
			t.Errorf("HTTP_ADDR=%q: PUBLIC_URL %q %v, want %q", addr, c.PublicURL, err, want)
		}
	}
	c, err := Load([]string{"--http-addr", ":9000"}, env(map[string]string{"PUBLIC_URL": "https://shop.example"}))
	if err != nil || c.PublicURL != "https://shop.example" {
		t.Fatalf("an explicit PUBLIC_URL wins: %q %v", c.PublicURL, err)
	}
	if c.Masked()["PUBLIC_URL"] != "https://shop.example" {
		t.Fatalf("masked: %v", c.Masked()["PUBLIC_URL"])
	}
}

// SAGA_ENGINE=temporal needs TEMPORAL_ADDRESS; a bad engine or address is
// refused at start naming its variable.
func TestSagaEngine(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil || c.SagaEngine != "postgres" || c.TemporalNamespace != "default" || c.TemporalTaskQueue != "commerce-ordering" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{
		{"SAGA_ENGINE": "temporal"},
		{"SAGA_ENGINE": "cadence"},
		{"SAGA_ENGINE": "temporal", "TEMPORAL_ADDRESS": "nohost"},
	} {
		_, err := Load(nil, env(bad))
		if err == nil || !strings.Contains(err.Error(), "SAGA_ENGINE") && !strings.Contains(err.Error(), "TEMPORAL_") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	c, err = Load(nil, env(map[string]string{"SAGA_ENGINE": "temporal", "TEMPORAL_ADDRESS": "127.0.0.1:7233"}))
	if err != nil || c.SagaEngine != "temporal" || c.TemporalAddress != "127.0.0.1:7233" {
		t.Fatalf("%+v %v", c, err)
	}
}
