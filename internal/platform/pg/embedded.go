package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// Embedded is a PostgreSQL server managed by the binary under DATA_DIR, so
// `commerce serve` needs no setup. It uses PostgreSQL binaries found on the
// machine; when the process runs as root, the server runs as an
// unprivileged user because initdb and postgres refuse root.
type Embedded struct {
	dir  string
	bin  string
	port int
	cred *syscall.Credential
	log  *slog.Logger
	// Started is false when a server left running by an earlier process
	// (a crash, or a `commerce serve` next to `commerce migrate`) was adopted.
	Started bool
}

const embeddedUser = "commerce"

// StartEmbedded initialises the cluster on first use and starts it (or
// adopts a server left running by a crashed previous process).
func StartEmbedded(ctx context.Context, dataDir string, log *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	e := &Embedded{dir: filepath.Join(abs, "postgres"), bin: bin, log: log}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	if target, err := filepath.EvalSymlinks(e.dir); err == nil {
		e.dir = target
	}
	if os.Geteuid() == 0 {
		if e.cred, err = unprivilegedUser(); err != nil {
			return nil, err
		}
		if err := e.relocateIfUnreachable(abs); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := e.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if port, ok := e.runningPort(ctx); ok {
		e.port = port
		log.Info("adopted running embedded PostgreSQL", "dir", e.dir, "port", port)
	} else if err := e.start(ctx); err != nil {
		return nil, err
	} else {
		e.Started = true
	}
	if err := e.ensureDatabase(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// DSN is the connection string of the embedded server's application database.
func (e *Embedded) DSN() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/commerce?sslmode=disable", embeddedUser, e.port)
}

// Stop shuts the server down cleanly (fast mode: rolls back open
// transactions, checkpoints, keeps every committed row).
func (e *Embedded) Stop(ctx context.Context) error {
	return e.run(ctx, "pg_ctl", "-D", e.dir, "-m", "fast", "-w", "-t", "60", "stop")
}

func (e *Embedded) initdb(ctx context.Context) error {
	e.log.Info("initialising embedded PostgreSQL", "dir", e.dir, "bin", e.bin)
	tmp := e.dir + ".init"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	if e.cred != nil {
		if err := os.Chown(tmp, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
			return err
		}
	}
	if err := e.run(ctx, "initdb", "-D", tmp, "-U", embeddedUser, "-A", "trust", "-E", "UTF8", "--locale=C"); err != nil {
		return fmt.Errorf("initdb (is DATA_DIR reachable by the server's user?): %w", err)
	}
	conf := "\n# managed by commerce\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 100\nshared_buffers = 128MB\n"
	f, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Rename last so that a crash during initdb never leaves a half cluster.
	return os.Rename(tmp, e.dir)
}

func (e *Embedded) start(ctx context.Context) error {
	_ = os.Remove(filepath.Join(e.dir, "postmaster.pid")) // stale: the server is not running
	port, err := freePort()
	if err != nil {
		return err
	}
	e.port = port
	logFile := filepath.Join(e.dir, "server.log")
	if err := e.run(ctx, "pg_ctl", "-D", e.dir, "-l", logFile, "-o", "-p "+strconv.Itoa(port), "-w", "-t", "60", "start"); err != nil {
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("start embedded PostgreSQL: %w\n%s", err, tail)
	}
	e.log.Info("embedded PostgreSQL started", "dir", e.dir, "port", port)
	return nil
}

// runningPort returns the port of a server already running on this
// cluster, read from postmaster.pid, when it answers.
func (e *Embedded) runningPort(ctx context.Context) (int, bool) {
	b, err := os.ReadFile(filepath.Join(e.dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, _ := strconv.Atoi(strings.TrimSpace(lines[3]))
	if pid <= 0 || port <= 0 || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=3", embeddedUser, port))
	if err != nil {
		return 0, false
	}
	_ = c.Close(ctx)
	return port, true
}

func (e *Embedded) ensureDatabase(ctx context.Context) error {
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", embeddedUser, e.port))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'commerce')").Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE commerce"); err != nil {
			return err
		}
	}
	return nil
}

func (e *Embedded) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// Own process group: a Ctrl-C to the binary must not kill the server
	// before we stop it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: e.cred}
	if e.cred != nil {
		cmd.Dir = "/"
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// findPostgresBin looks for pg_ctl and initdb in the usual places of
// Debian/Ubuntu, RHEL, Homebrew and PATH, newest version first.
func findPostgresBin() (string, error) {
	var cands []string
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		cands = append(cands, filepath.Dir(p))
	}
	for _, pat := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql*/bin", "/usr/local/opt/postgresql*/bin", "/usr/local/pgsql/bin"} {
		m, _ := filepath.Glob(pat)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		cands = append(cands, m...)
	}
	for _, d := range cands {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found for the embedded database: install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func unprivilegedUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, but no unprivileged user (postgres or nobody) exists to run the embedded PostgreSQL")
}

// relocateIfUnreachable handles DATA_DIR under a directory the server's
// user cannot enter (e.g. /root, mode 0700): the cluster then lives under
// /var/lib/commerce/<hash of DATA_DIR>, linked from DATA_DIR/postgres, so
// `commerce serve` as root works anywhere without loosening /root.
func (e *Embedded) relocateIfUnreachable(dataDir string) error {
	if traversable(filepath.Dir(e.dir), e.cred) {
		return nil
	}
	sum := sha256.Sum256([]byte(dataDir))
	base := filepath.Join("/var/lib/commerce", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("DATA_DIR %s is not reachable by the unprivileged database user and %s cannot be created: %w", dataDir, base, err)
	}
	_ = os.Chmod(filepath.Dir(base), 0o755)
	target := filepath.Join(base, "postgres")
	link := filepath.Join(dataDir, "postgres")
	if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	e.log.Warn("DATA_DIR is not reachable by the unprivileged database user; the embedded cluster lives elsewhere", "data_dir", dataDir, "cluster", target)
	e.dir = target
	return nil
}

// traversable reports whether cred may enter dir and all its ancestors.
func traversable(dir string, cred *syscall.Credential) bool {
	for p := dir; ; p = filepath.Dir(p) {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return false
		}
		mode := st.Mode
		ok := mode&0o001 != 0 || (st.Uid == cred.Uid && mode&0o100 != 0) || (st.Gid == cred.Gid && mode&0o010 != 0)
		if !ok {
			return false
		}
		if p == "/" || p == "." {
			return true
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
