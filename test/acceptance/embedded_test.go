package acceptance

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
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
