package acceptance

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
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
	if out, code := runCLI(t, env, "serve", "--help"); code != 0 || !strings.Contains(out, "--http-addr") {
		t.Fatalf("help: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "seed", "--products", "700"); code != 0 || !strings.Contains(out, "seeded 700 of 700") || !strings.Contains(out, "seeding: 700/700") {
		t.Fatalf("seed: %d %s", code, out)
	}
	if out, code := runCLI(t, env, "seed", "--products", "700"); code != 0 || !strings.Contains(out, "seeded 0 of 700") {
		t.Fatalf("seed twice: %d %s", code, out)
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
