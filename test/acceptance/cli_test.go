package acceptance

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	return runCLIWithin(t, 10*time.Minute, env, args...)
}

// runCLIWithin is runCLI for a command that might not end by itself (a
// serve that should have been refused): it is killed after d.
func runCLIWithin(t *testing.T, d time.Duration, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestCLI(t *testing.T) {
	monolithOnly(t)
	env := []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "DATA_DIR=" + t.TempDir(), "LOG_LEVEL=error"}
	if out, code := runCLI(t, env, "version"); code != 0 || !strings.HasPrefix(out, "commerce ") {
		t.Fatalf("version: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "migrate", "status"); code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "migrate", "up"); code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("up: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "migrate", "status"); code != 0 || strings.Contains(out, "pending") || !strings.Contains(out, "auth") {
		t.Fatalf("status after: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "migrate", "down", "1"); code != 0 || !strings.Contains(out, "rolled back 1") {
		t.Fatalf("down: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "admin", "create", "--email", "boss@shop.test", "--password", "boss-password"); code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("admin create: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "admin", "create", "--email", "boss@shop.test", "--password", "boss-password"); code == 0 {
		t.Fatalf("second admin create must fail: %s", out)
	}
	if out, code := runCLI(t, append(env, "ACCESS_TOKEN_TTL=soon"), "serve"); code == 0 || !strings.Contains(out, "ACCESS_TOKEN_TTL") {
		t.Fatalf("bad config: %d %s", code, out)
	}
	// Every subcommand's --help shows its own usage (and the shared flags
	// for those that take them), exits 0 and does nothing else.
	for _, h := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--help"}, []string{"Usage: commerce serve", "--http-addr", "--data-dir"}},
		{[]string{"seed", "--help"}, []string{"Usage: commerce seed", "--products N", "--data-dir"}},
		{[]string{"seed", "--products", "5", "-h"}, []string{"Usage: commerce seed", "--products N"}},
		{[]string{"migrate", "--help"}, []string{"Usage: commerce migrate", "down [N]", "--database-url"}},
		{[]string{"migrate", "up", "--help"}, []string{"Usage: commerce migrate"}},
		{[]string{"admin", "--help"}, []string{"Usage: commerce admin create", "--email E", "--password P", "--data-dir"}},
		{[]string{"admin", "create", "--help"}, []string{"Usage: commerce admin create"}},
		{[]string{"search", "--help"}, []string{"Usage: commerce search reindex", "--catalog-grpc-addr"}},
		{[]string{"search", "reindex", "--help"}, []string{"Usage: commerce search reindex"}},
		{[]string{"db", "--help"}, []string{"Usage: commerce db url", "psql", "--data-dir"}},
		{[]string{"db", "url", "--help"}, []string{"Usage: commerce db url"}},
		{[]string{"dev", "--help"}, []string{"Usage: commerce dev kafka", "--addr", "--partitions"}},
		{[]string{"dev", "kafka", "--help"}, []string{"Usage: commerce dev kafka"}},
		{[]string{"healthcheck", "--help"}, []string{"Usage: commerce healthcheck", "--url URL", "--timeout"}},
		{[]string{"--help"}, []string{"commerce db url", "commerce seed [--products N]"}},
	} {
		out, code := runCLI(t, env, h.args...)
		for _, w := range h.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("%v: exit %d, want %q in:\n%s", h.args, code, w, out)
				break
			}
		}
	}
	if out, code := runCLI(t, env, "seed", "--products", "700"); code != 0 || !strings.Contains(out, "seeded 700 of 700") || !strings.Contains(out, "seeding: 700/700") {
		t.Fatalf("seed: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "seed", "--products", "700"); code != 0 || !strings.Contains(out, "seeded 0 of 700") {
		t.Fatalf("seed twice: %d %s", code, out)
	}
	// Seed ends with ANALYZE: the planner has statistics for what it loaded.
	out, code := runCLI(t, env, "db", "url")
	if code != 0 || strings.TrimSpace(out) != env[0][len("DATABASE_URL="):] {
		t.Fatalf("db url with DATABASE_URL set prints it: %d %s", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("db url output does not connect: %v", err)
	}
	defer conn.Close(ctx)
	var analyzed bool
	var tuples float64
	if err := conn.QueryRow(ctx, `SELECT s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL, c.reltuples
		FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = 'catalog' AND s.relname = 'products'`).Scan(&analyzed, &tuples); err != nil {
		t.Fatal(err)
	}
	if !analyzed || tuples < 700 {
		t.Fatalf("catalog.products after seed: analyzed %v, reltuples %v", analyzed, tuples)
	}
	if out, code := runCLI(t, env, "seed", "--products", "-3"); code == 0 {
		t.Fatalf("bad --products accepted: %s", out)
	}
	// The admin can log in through the running binary.
	p, _ := start(t, map[string]string{"DATABASE_URL": env[0][len("DATABASE_URL="):], "DATA_DIR": t.TempDir()})
	expect(t, call(t, p.URL, "POST", "/api/v1/auth/login", map[string]string{"email": "boss@shop.test", "password": "boss-password"}, ""), 200, "admin login")
	list := expect(t, call(t, p.URL, "GET", "/api/v1/products?limit=100", nil, ""), 200, "seeded products")
	if n := len(list.JSON()["items"].([]any)); n != 100 || list.JSON()["next_cursor"] == nil {
		t.Fatalf("seeded listing: %d", n)
	}
}
