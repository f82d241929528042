package acceptance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// `commerce serve` with no configuration at all: embedded PostgreSQL (as an
// unprivileged user when run as root) and in-process Redis; state survives
// a clean restart and a crash (SIGKILL) of the binary.
func TestEmbeddedDefaultSurvivesRestartAndCrash(t *testing.T) {
	monolithOnly(t)
	if _, err := os.Stat("/usr/lib/postgresql"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("no local PostgreSQL server binaries")
	}
	dataDir := filepath.Join(t.TempDir(), "data") // t.TempDir is 0700: as root this exercises relocation
	t.Cleanup(func() {
		if target, err := os.Readlink(filepath.Join(dataDir, "postgres")); err == nil {
			_ = os.RemoveAll(filepath.Dir(target))
		}
	})
	env := map[string]string{"DATA_DIR": dataDir, "PASSWORD_HASH_MEMORY_KIB": "19456"}

	p, cold := start(t, env)
	t.Logf("cold start (initdb + migrations) to /readyz 200: %s", cold)
	expect(t, call(t, p.URL, "POST", "/api/v1/auth/register", map[string]string{"email": "emb@shop.test", "password": "correct horse", "name": "E"}, ""), 201, "register")
	p.stop()
	if pgRunning(dataDir) {
		t.Fatal("embedded PostgreSQL still running after a clean stop")
	}

	p, warm := start(t, env)
	t.Logf("restart to /readyz 200: %s", warm)
	expectProblem(t, call(t, p.URL, "POST", "/api/v1/auth/login", map[string]string{"email": "emb@shop.test", "password": "correct horse"}, ""), 403, "email_not_verified", "user survived restart")

	// Crash: the database server outlives the binary and is adopted.
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p, adopted := start(t, env)
	t.Logf("start after crash (adopting the running database) to /readyz 200: %s", adopted)
	expectProblem(t, call(t, p.URL, "POST", "/api/v1/auth/register", map[string]string{"email": "emb@shop.test", "password": "correct horse", "name": "E"}, ""), 409, "", "user survived crash")
	p.stop()
	if pgRunning(dataDir) {
		t.Fatal("embedded PostgreSQL still running after stop")
	}
}

// The hardened embedded database, driven through the binary:
//   - only the binary connects: no TCP listener, and a connection over its
//     socket without the generated password is refused (older versions
//     trusted every connection on 127.0.0.1);
//   - one serve per DATA_DIR: a second one is refused naming the first,
//     which stays ready (it used to adopt the database and stop it on exit);
//   - seed next to the running serve uses its database and leaves it running;
//   - `commerce db url` prints a URL that connects (the operator's psql);
//   - the seeded catalog answers the README's search `sumsung` with Samsung.
func TestEmbeddedHardening(t *testing.T) {
	monolithOnly(t)
	if _, err := os.Stat("/usr/lib/postgresql"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("no local PostgreSQL server binaries")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	t.Cleanup(func() {
		if target, err := os.Readlink(filepath.Join(dataDir, "postgres")); err == nil {
			_ = os.RemoveAll(filepath.Dir(target))
		}
	})
	env := map[string]string{"DATA_DIR": dataDir}
	cli := []string{"DATA_DIR=" + dataDir, "LOG_LEVEL=warn"}
	p, _ := start(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. No TCP listener: the server's postmaster.pid names no listen
	// address (older versions listened on 127.0.0.1 and trusted everyone).
	pm := postmasterLines(t, dataDir)
	if len(pm) < 6 || strings.TrimSpace(pm[5]) != "" {
		t.Fatalf("the embedded server listens on TCP: %q", pm)
	}

	// 4. db url connects (while serve runs).
	out, code := runCLI(t, cli, "db", "url")
	url := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(url, "postgres://") {
		t.Fatalf("db url: %d %s", code, out)
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("db url does not connect: %v", err)
	}
	defer c.Close(ctx)
	var users int
	var listen, hba string
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM auth.users), current_setting('listen_addresses'),
		(SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules)`).Scan(&users, &listen, &hba); err != nil {
		t.Fatal(err)
	}
	if listen != "" || hba != "scram-sha-256" {
		t.Fatalf("listen_addresses %q, pg_hba methods %q", listen, hba)
	}
	// ... and without its secret the same socket refuses.
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "wrong"} {
		cfg.Password = pw
		cfg.ConnectTimeout = 3 * time.Second
		_, err := pgx.ConnectConfig(ctx, cfg)
		var pe *pgconn.PgError
		if err == nil || (pw != "" && (!errors.As(err, &pe) || pe.Code != "28P01")) {
			t.Fatalf("socket connection with password %q: %v", pw, err)
		}
	}

	// 2. A second serve on the same DATA_DIR is refused, naming the first.
	second, code := runCLIWithin(t, time.Minute, append(cli, "HTTP_ADDR=127.0.0.1:0"), "serve")
	if code == 0 || !strings.Contains(second, "in use") || !strings.Contains(second, fmt.Sprintf("pid %d", p.cmd.Process.Pid)) {
		t.Fatalf("second serve: %d %s", code, second)
	}
	expect(t, call(t, p.URL, "GET", "/readyz", nil, ""), 200, "the first serve after the second was refused")

	// Seed next to the running serve: it uses serve's database and leaves
	// it running.
	if out, code := runCLI(t, cli, "seed", "--products", "40"); code != 0 || !strings.Contains(out, "seeded 40 of 40") {
		t.Fatalf("seed next to serve: %d %s", code, out)
	}
	expect(t, call(t, p.URL, "GET", "/readyz", nil, ""), 200, "serve after a seed next to it")

	// 7. The README's example search finds the seeded Samsung products.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := expect(t, call(t, p.URL, "GET", "/api/v1/search?q=sumsung", nil, ""), 200, "search sumsung").JSON()
		var brands []string
		for _, h := range r["hits"].([]any) {
			brands = append(brands, h.(map[string]any)["brand"].(string))
		}
		if len(brands) > 0 && !slices.ContainsFunc(brands, func(b string) bool { return b != "Samsung" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sumsung: brands %v", brands)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r := expect(t, call(t, p.URL, "GET", "/api/v1/search?q=hedphones", nil, ""), 200, "search hedphones").JSON()
	if hits := r["hits"].([]any); len(hits) == 0 || !strings.Contains(hits[0].(map[string]any)["name"].(string), "Headphones") {
		t.Fatalf("hedphones: %v", r["hits"])
	}

	p.stop()
	if pgRunning(dataDir) {
		t.Fatal("embedded PostgreSQL still running after the owning serve stopped")
	}
	// Not running: db url still prints the URL, and says so.
	if out, code := runCLI(t, cli, "db", "url"); code != 0 || !strings.Contains(out, url) || !strings.Contains(out, "not running") {
		t.Fatalf("db url while stopped: %d %s", code, out)
	}
}

func postmasterLines(t *testing.T, dataDir string) []string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(filepath.Join(dataDir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

func pgRunning(dataDir string) bool {
	dir, err := filepath.EvalSymlinks(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	return pid > 0 && syscall.Kill(pid, 0) == nil
}
