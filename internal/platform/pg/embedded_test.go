package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func needServerBinaries(t *testing.T) {
	t.Helper()
	if _, err := findPostgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// cleanupCluster stops whatever server runs on dataDir's cluster and
// removes a cluster relocated out of DATA_DIR (root runs).
func cleanupCluster(t *testing.T, dataDir string) {
	t.Cleanup(func() {
		e, err := newEmbedded(dataDir, slog.New(slog.DiscardHandler))
		if err != nil {
			return
		}
		if _, ok := e.postmaster(); ok {
			_ = e.run(context.Background(), "", "pg_ctl", "-D", e.dir, "-m", "immediate", "-w", "stop")
		}
		if target, err := os.Readlink(filepath.Join(dataDir, "postgres")); err == nil {
			_ = os.RemoveAll(filepath.Dir(target))
		}
	})
}

// oldCluster creates and starts a cluster the way versions before the
// hardening did: trust for everyone on 127.0.0.1, no Unix socket.
func oldCluster(t *testing.T, ctx context.Context, dataDir string) (port int) {
	t.Helper()
	e, err := newEmbedded(dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if e.cred != nil {
		if err := e.relocateIfUnreachable(e.dataDir); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if e.cred != nil {
		if err := os.Chown(e.dir, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.run(ctx, "", "initdb", "-D", e.dir, "-U", embeddedUser, "-A", "trust", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(e.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("\n# managed by commerce\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 100\nshared_buffers = 128MB\n")
	_ = f.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	if err := e.run(ctx, "", "pg_ctl", "-D", e.dir, "-l", filepath.Join(e.dir, "server.log"), "-o", "-p "+strconv.Itoa(port), "-w", "start"); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, oldDSN(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE commerce"); err != nil {
		t.Fatal(err)
	}
	return port
}

func oldDSN(port int) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=3", embeddedUser, port)
}

// A cluster made (and left running) by an older version trusted every
// local connection on 127.0.0.1. The next start stops it, sets a password,
// rewrites pg_hba.conf and postgresql.conf and starts it on a private
// socket only: the old TCP port and a password-less socket connection are
// refused, the password works and the data is intact.
func TestEmbeddedSecuresAnOldTrustCluster(t *testing.T) {
	needServerBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")
	cleanupCluster(t, dataDir)
	port := oldCluster(t, ctx, dataDir)

	e, err := StartEmbedded(ctx, dataDir, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background(), true)
	if !e.Owner() || !e.Started {
		t.Fatalf("owner %v started %v: the unprotected server must be restarted by the new owner", e.Owner(), e.Started)
	}
	if c, err := pgx.Connect(ctx, oldDSN(port)); err == nil {
		_ = c.Close(ctx)
		t.Fatal("the old TCP port still accepts a connection without a password")
	}
	noPassword := strings.Replace(e.DSN(), ":"+e.password+"@", "@", 1)
	if noPassword == e.DSN() {
		t.Fatal("DSN carries no password")
	}
	_, err = pgx.Connect(ctx, noPassword+"&connect_timeout=3")
	var pe *pgconn.PgError
	if err == nil || (!errors.As(err, &pe) && !strings.Contains(err.Error(), "password")) {
		t.Fatalf("socket connection without the password: %v", err)
	}
	_, err = pgx.Connect(ctx, strings.Replace(e.DSN(), e.password, "wrong", 1))
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("socket connection with a wrong password: %v", err)
	}
	c, err := pgx.Connect(ctx, e.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var hba string
	if err := c.QueryRow(ctx, "SELECT string_agg(auth_method, ',') FROM pg_hba_file_rules").Scan(&hba); err != nil {
		t.Fatal(err)
	}
	if hba != "scram-sha-256" {
		t.Fatalf("pg_hba.conf rules: %s", hba)
	}
	var listen string
	if err := c.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "" {
		t.Fatalf("listen_addresses %q %v", listen, err)
	}
	st, err := os.Stat(filepath.Join(dataDir, PasswordFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", st, err)
	}
}

// One owner at a time: an exclusive second start is refused naming the
// owner; a non-exclusive one uses the owner's server and its Close leaves
// it running. After the owner closes, the server is stopped.
func TestEmbeddedOwnership(t *testing.T) {
	needServerBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")
	cleanupCluster(t, dataDir)
	log := slog.New(slog.DiscardHandler)
	owner, err := StartEmbedded(ctx, dataDir, log, true)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(context.Background(), true)

	if _, err := StartEmbedded(ctx, dataDir, log, true); !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second exclusive start: %v", err)
	}
	user, err := StartEmbedded(ctx, dataDir, log, false)
	if err != nil {
		t.Fatal(err)
	}
	if user.Owner() || user.Started {
		t.Fatal("a second process must not own the database")
	}
	if err := user.Close(ctx, true); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, owner.DSN())
	if err != nil {
		t.Fatalf("the owner's database must survive a user's Close: %v", err)
	}
	_ = c.Close(ctx)
	url, running, err := EmbeddedURL(dataDir)
	if err != nil || !running || url != owner.DSN() {
		t.Fatalf("EmbeddedURL: %q %v %v (want %q)", url, running, err, owner.DSN())
	}
	if err := owner.Close(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := owner.postmaster(); ok {
		t.Fatal("the owner's Close must stop the server")
	}
	if _, running, err := EmbeddedURL(dataDir); err != nil || running {
		t.Fatalf("EmbeddedURL after stop: running %v %v", running, err)
	}
}

// A DATA_DIR too long for a Unix socket path puts the socket in a short
// private directory under /tmp instead.
func TestEmbeddedLongDataDir(t *testing.T) {
	needServerBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base, err := os.MkdirTemp("", "pglong")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	_ = os.Chmod(base, 0o755) // reachable by the server's user when run as root
	dataDir := filepath.Join(base, strings.Repeat("d", 60), strings.Repeat("e", 40), "data")
	cleanupCluster(t, dataDir)
	e, err := StartEmbedded(ctx, dataDir, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(e.socket) })
	defer e.Close(context.Background(), true)
	if !strings.HasPrefix(e.socket, "/tmp/commerce-") {
		t.Fatalf("socket directory %s", e.socket)
	}
	st, err := os.Stat(e.socket)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v %v", st, err)
	}
	c, err := pgx.Connect(ctx, e.DSN())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)
}
