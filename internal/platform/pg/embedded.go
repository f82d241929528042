package pg

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Embedded is a PostgreSQL server managed by the binary under DATA_DIR, so
// `commerce serve` needs no setup. It uses PostgreSQL binaries found on the
// machine; when the process runs as root, the server runs as an
// unprivileged user because initdb and postgres refuse root.
//
// Only the binary can reach it: the server has no TCP listener, its Unix
// socket lies in a directory only the server's user (and root) may enter,
// and every connection must present the password generated into
// DATA_DIR/postgres_password (scram-sha-256; pg_hba.conf has no trust line).
//
// One process owns DATA_DIR at a time, by an flock on DATA_DIR/serve.lock:
// only the owner starts or stops the server. `commerce serve` insists on
// owning it; data commands (seed, migrate, admin, ...) next to a running
// serve use its database and leave it running.
type Embedded struct {
	dataDir  string // absolute DATA_DIR
	dir      string // the cluster (PGDATA), symlinks resolved
	bin      string
	cred     *syscall.Credential
	log      *slog.Logger
	lock     *os.File // DATA_DIR/serve.lock while this process owns DATA_DIR
	password string
	socket   string // directory of the server's Unix socket
	port     int    // names the socket file (.s.PGSQL.<port>)
	// Started is true when this process started the server; false when it
	// adopted one a crashed process left running, or uses the server of
	// the process that owns DATA_DIR.
	Started bool
}

const (
	embeddedUser = "commerce"
	// embeddedPort only names the socket file: the socket directory is the
	// cluster's own, so the same number never collides with another server.
	embeddedPort = 5432
	// LockFileName is the file in DATA_DIR whose flock marks the process
	// owning the embedded database; it holds that process's pid.
	LockFileName = "serve.lock"
	// PasswordFileName is the file in DATA_DIR (mode 0600) holding the
	// generated password of the embedded database's only role.
	PasswordFileName = "postgres_password"
	managedMarker    = "# managed by commerce"
	// maxSocketPath is the longest Unix socket path every platform takes
	// (sun_path is 108 bytes on Linux, 104 on macOS, both with the NUL).
	maxSocketPath = 103
	// attachWait is how long a data command waits for the database of the
	// process owning DATA_DIR (which may still be initialising it).
	attachWait = 90 * time.Second
)

// ErrDataDirInUse is returned by an exclusive start (`commerce serve`)
// when another process owns DATA_DIR, so the caller can tell the operator
// instead of sharing (and later stopping) a database it did not start.
var ErrDataDirInUse = errors.New("DATA_DIR is in use")

// hbaConf allows exactly one kind of connection: over the private Unix
// socket, with the password (there is no TCP listener to match host lines).
const hbaConf = managedMarker + `: only the binary may connect, over the Unix socket
# in a private directory, with the password in DATA_DIR/` + PasswordFileName + `
# (the server has no TCP listener; no connection is trusted).
local all all scram-sha-256
`

// StartEmbedded makes the embedded database of dataDir available. When no
// process owns DATA_DIR this one takes it: it initialises the cluster on
// first use, secures a cluster made by an older version (trust on
// 127.0.0.1), and starts the server or adopts one a crashed process left
// running. When another process owns DATA_DIR, an exclusive caller
// (`commerce serve`) gets ErrDataDirInUse naming it; any other caller uses
// that process's server, waiting while it starts, and never stops it.
func StartEmbedded(ctx context.Context, dataDir string, log *slog.Logger, exclusive bool) (*Embedded, error) {
	e, err := newEmbedded(dataDir, log)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	holder, err := e.tryLock()
	if err != nil {
		return nil, err
	}
	if e.lock == nil {
		if exclusive {
			return nil, fmt.Errorf("%w by %s: stop it first, or give this one another DATA_DIR (DATA_DIR %s)", ErrDataDirInUse, holder, e.dataDir)
		}
		log.Info("using the embedded PostgreSQL of the process owning DATA_DIR", "owner", holder)
		if err := e.attach(ctx, holder); err != nil {
			return nil, err
		}
		return e, e.ensureDatabase(ctx)
	}
	ok := false
	defer func() {
		if !ok {
			e.unlock()
		}
	}()
	if e.cred != nil {
		if err := e.relocateIfUnreachable(e.dataDir); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := e.initdb(ctx); err != nil {
			return nil, err
		}
	}
	adopted, err := e.takeOver(ctx)
	if err != nil {
		return nil, err
	}
	if !adopted {
		if err := e.secure(ctx); err != nil {
			return nil, err
		}
		if err := e.start(ctx); err != nil {
			return nil, err
		}
	}
	if err := e.ensureDatabase(ctx); err != nil {
		if e.Started {
			_ = e.stop(context.Background())
		}
		return nil, err
	}
	ok = true
	return e, nil
}

// EmbeddedURL returns the connection string (with its password) of the
// embedded database under dataDir without starting anything, and whether
// its server is running now (`commerce db url`).
func EmbeddedURL(dataDir string) (string, bool, error) {
	e, err := newEmbedded(dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", false, err
	}
	if _, err := os.Stat(filepath.Join(e.dir, "PG_VERSION")); err != nil {
		return "", false, fmt.Errorf("no embedded database in DATA_DIR %s yet (`commerce serve` creates it): %w", e.dataDir, err)
	}
	if e.password, err = e.readPassword(); err != nil {
		return "", false, err
	}
	if pm, ok := e.postmaster(); ok {
		if pm.socket == "" {
			return "", true, errors.New("the running embedded PostgreSQL was started by an older version (TCP, no password): restart `commerce serve` to secure it")
		}
		e.socket, e.port = pm.socket, pm.port
		return e.DSN(), true, nil
	}
	if e.socket, err = e.socketDir(false); err != nil {
		return "", false, err
	}
	e.port = embeddedPort
	return e.DSN(), false, nil
}

func newEmbedded(dataDir string, log *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	e := &Embedded{dataDir: abs, dir: filepath.Join(abs, "postgres"), bin: bin, log: log}
	if target, err := filepath.EvalSymlinks(e.dir); err == nil {
		e.dir = target
	}
	if os.Geteuid() == 0 {
		if e.cred, err = unprivilegedUser(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// DSN is the connection string of the embedded server's application
// database: the socket directory as host, and the password.
func (e *Embedded) DSN() string { return e.url("commerce") }

func (e *Embedded) url(db string) string {
	return fmt.Sprintf("postgres://%s:%s@/%s?host=%s&port=%d&sslmode=disable", embeddedUser, e.password, db, escapeQuery(e.socket), e.port)
}

// escapeQuery percent-encodes a path for a URL query value that both pgx
// and libpq (psql) decode the same way: '/' stays, '+' and ' ' are encoded.
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Owner reports whether this process owns DATA_DIR (and so the server).
func (e *Embedded) Owner() bool { return e.lock != nil }

// Close ends this process's use of the embedded database and releases
// DATA_DIR. Only the owner stops the server: when it started it, or when
// stopAdopted is set (`commerce serve` takes over a server a crashed
// process left running). A process using the server of another owner
// never stops it.
func (e *Embedded) Close(ctx context.Context, stopAdopted bool) error {
	var err error
	if e.lock != nil && (e.Started || stopAdopted) {
		err = e.stop(ctx)
	}
	e.unlock()
	return err
}

// stop shuts the server down cleanly (fast mode: rolls back open
// transactions, checkpoints, keeps every committed row).
func (e *Embedded) stop(ctx context.Context) error {
	return e.run(ctx, "", "pg_ctl", "-D", e.dir, "-m", "fast", "-w", "-t", "60", "stop")
}

// tryLock takes DATA_DIR/serve.lock without waiting. On success e.lock is
// set and the file names this process; otherwise it returns who holds it.
// The kernel releases the lock when the process dies, so a crashed owner
// never blocks the next one (the file descriptor is close-on-exec: the
// server started by the owner does not inherit it).
func (e *Embedded) tryLock() (string, error) {
	f, err := os.OpenFile(filepath.Join(e.dataDir, LockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("DATA_DIR lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return "", fmt.Errorf("DATA_DIR lock: %w", err)
		}
		b, _ := os.ReadFile(f.Name())
		pid, cmd, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if pid == "" {
			return "another commerce process", nil
		}
		if cmd == "" {
			cmd = "commerce"
		}
		return fmt.Sprintf("%s (pid %s)", cmd, pid), nil
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n%s\n", os.Getpid(), commandName())), 0)
	}
	e.lock = f
	return "", nil
}

func (e *Embedded) unlock() {
	if e.lock != nil {
		_ = e.lock.Close() // closing the last descriptor releases the flock
		e.lock = nil
	}
}

// commandName is how the lock file names this process: "commerce serve",
// "commerce seed", ... (never flag values, which may be secrets).
func commandName() string {
	name := "commerce"
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		name += " " + os.Args[1]
	}
	return name
}

// postmasterInfo is what postmaster.pid says about a running server.
type postmasterInfo struct {
	pid    int
	port   int
	socket string // first Unix socket directory, "" when it has none
}

// postmaster reads postmaster.pid and reports a server that is running on
// this cluster (its pid alive and, where /proc tells, a postgres process).
func (e *Embedded) postmaster() (postmasterInfo, bool) {
	b, err := os.ReadFile(filepath.Join(e.dir, "postmaster.pid"))
	if err != nil {
		return postmasterInfo{}, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return postmasterInfo{}, false
	}
	var pm postmasterInfo
	pm.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	pm.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	pm.socket = strings.TrimSpace(lines[4])
	if pm.pid <= 0 || pm.port <= 0 {
		return postmasterInfo{}, false
	}
	if err := syscall.Kill(pm.pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return postmasterInfo{}, false
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pm.pid)); err == nil && !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") && !strings.HasPrefix(strings.TrimSpace(string(comm)), "postmaster") {
		return postmasterInfo{}, false // the pid was reused by another program
	}
	return pm, true
}

// ping connects with the password through the socket pm names.
func (e *Embedded) ping(ctx context.Context, pm postmasterInfo) error {
	if pm.socket == "" {
		return errors.New("the server has no Unix socket (started by an older version)")
	}
	e.socket, e.port = pm.socket, pm.port
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, e.url("postgres"))
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// takeOver handles a server already running on the cluster when this
// process becomes the owner: one left by a crashed owner is adopted; one
// that does not take the password over the private socket (started by an
// older version: TCP with trust) is stopped so that it restarts secured.
func (e *Embedded) takeOver(ctx context.Context) (adopted bool, err error) {
	pm, ok := e.postmaster()
	if !ok {
		return false, nil
	}
	if e.password, _, err = e.loadPassword(true); err != nil {
		return false, err
	}
	perr := e.ping(ctx, pm)
	if perr == nil {
		e.log.Info("adopted running embedded PostgreSQL", "dir", e.dir, "socket", e.socket)
		return true, nil
	}
	e.log.Warn("restarting the embedded PostgreSQL left running without its protection (older version or lost password)", "dir", e.dir, "reason", perr.Error())
	if err := e.stop(ctx); err != nil {
		return false, fmt.Errorf("stop the unprotected embedded PostgreSQL: %w", err)
	}
	e.socket, e.port = "", 0
	return false, nil
}

// attach waits for the server of the process owning DATA_DIR.
func (e *Embedded) attach(ctx context.Context, holder string) error {
	deadline := time.Now().Add(attachWait)
	var last error
	for {
		if target, err := filepath.EvalSymlinks(filepath.Join(e.dataDir, "postgres")); err == nil {
			e.dir = target
		}
		pw, err := e.readPassword()
		if err == nil {
			e.password = pw
			if pm, ok := e.postmaster(); !ok {
				err = errors.New("its server is not running")
			} else if err = e.ping(ctx, pm); err == nil {
				return nil
			}
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("%s owns DATA_DIR %s, but its embedded PostgreSQL does not answer: %w", holder, e.dataDir, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// loadPassword reads DATA_DIR/postgres_password, generating it (fresh)
// when create is set and it does not exist yet.
func (e *Embedded) loadPassword(create bool) (pw string, fresh bool, err error) {
	if pw, err := e.readPassword(); err == nil || !create || !errors.Is(err, os.ErrNotExist) {
		return pw, false, err
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", false, err
	}
	pw = hex.EncodeToString(buf)
	f, err := os.OpenFile(filepath.Join(e.dataDir, PasswordFileName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("store the embedded database password: %w", err)
	}
	if _, err := f.WriteString(pw + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("store the embedded database password: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("store the embedded database password: %w", err)
	}
	return pw, true, nil
}

func (e *Embedded) readPassword() (string, error) {
	b, err := os.ReadFile(filepath.Join(e.dataDir, PasswordFileName))
	if err != nil {
		return "", fmt.Errorf("embedded database password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("embedded database password: %s is empty", PasswordFileName)
	}
	return pw, nil
}

func (e *Embedded) initdb(ctx context.Context) error {
	e.log.Info("initialising embedded PostgreSQL", "dir", e.dir, "bin", e.bin)
	pw, _, err := e.loadPassword(true)
	if err != nil {
		return err
	}
	e.password = pw
	tmp := e.dir + ".init"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	// initdb reads the password from a file; it lives only while initdb
	// runs, readable only by the server's user.
	pwfile := e.dir + ".pwfile"
	_ = os.Remove(pwfile)
	if err := os.WriteFile(pwfile, []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if e.cred != nil {
		for _, p := range []string{tmp, pwfile} {
			if err := os.Chown(p, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
				return err
			}
		}
	}
	if err := e.run(ctx, "", "initdb", "-D", tmp, "-U", embeddedUser, "--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--locale=C"); err != nil {
		return fmt.Errorf("initdb (is DATA_DIR reachable by the server's user?): %w", err)
	}
	if err := writeInPlace(filepath.Join(tmp, "pg_hba.conf"), hbaConf); err != nil {
		return err
	}
	if err := e.writeConf(tmp); err != nil {
		return err
	}
	// Rename last so that a crash during initdb never leaves a half cluster.
	return os.Rename(tmp, e.dir)
}

// secure brings a stopped cluster to the protected setup: a password on
// the role (set in single-user mode, so nothing listens meanwhile) when
// the cluster predates it or the password file was lost, the managed
// pg_hba.conf, and postgresql.conf with no TCP listener and the socket in
// its private directory (rewritten on every start: DATA_DIR may move).
func (e *Embedded) secure(ctx context.Context) error {
	pw, fresh, err := e.loadPassword(true)
	if err != nil {
		return err
	}
	e.password = pw
	hbaPath := filepath.Join(e.dir, "pg_hba.conf")
	cur, err := os.ReadFile(hbaPath)
	if err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if fresh || string(cur) != hbaConf {
		e.log.Warn("securing the embedded PostgreSQL: password authentication over a private Unix socket, no TCP listener", "dir", e.dir)
		if err := e.setPassword(ctx); err != nil {
			return err
		}
		if err := writeInPlace(hbaPath, hbaConf); err != nil {
			return err
		}
	}
	return e.writeConf(e.dir)
}

// setPassword sets the role's password with the server stopped, through
// a single-user backend reading the statement from stdin (never argv).
func (e *Embedded) setPassword(ctx context.Context) error {
	stmt := fmt.Sprintf("SET password_encryption = 'scram-sha-256';\nALTER ROLE %s WITH LOGIN PASSWORD '%s';\n", embeddedUser, e.password)
	out, err := e.output(ctx, stmt, "postgres", "--single", "-D", e.dir, "postgres")
	out = strings.ReplaceAll(out, e.password, "****")
	if err == nil && (strings.Contains(out, "ERROR:") || strings.Contains(out, "FATAL:")) {
		err = errors.New("single-user backend reported an error")
	}
	if err != nil {
		return fmt.Errorf("set the embedded database password: %w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

// writeConf rewrites the managed tail of dir/postgresql.conf.
func (e *Embedded) writeConf(dir string) error {
	sock, err := e.socketDir(true)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "postgresql.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	conf := string(b)
	if i := strings.Index(conf, "\n"+managedMarker); i >= 0 {
		conf = conf[:i+1]
	}
	conf += managedMarker + ": no TCP listener; the only socket is in a private directory\n" +
		"listen_addresses = ''\n" +
		"port = " + strconv.Itoa(embeddedPort) + "\n" +
		"unix_socket_directories = '" + strings.ReplaceAll(sock, "'", "''") + "'\n" +
		"unix_socket_permissions = 0700\n" +
		"password_encryption = 'scram-sha-256'\n" +
		"max_connections = 100\nshared_buffers = 128MB\n"
	if conf == string(b) {
		return nil
	}
	return writeInPlace(path, conf)
}

// writeInPlace replaces a file's content keeping its owner and mode (the
// files of the cluster belong to the server's user).
func writeInPlace(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// socketDir is the directory of the server's Unix socket: the cluster
// directory itself (mode 0700, owned by the server's user), or, when that
// path is too long for a socket, a short directory under /tmp named after
// the cluster, created 0700 for the server's user and refused if anyone
// else made it first.
func (e *Embedded) socketDir(create bool) (string, error) {
	if len(e.dir)+len("/.s.PGSQL.")+len(strconv.Itoa(embeddedPort)) <= maxSocketPath {
		return e.dir, nil
	}
	sum := sha256.Sum256([]byte(e.dir))
	dir := filepath.Join("/tmp", "commerce-"+hex.EncodeToString(sum[:8]))
	if !create {
		return dir, nil
	}
	uid, gid := os.Geteuid(), os.Getegid()
	if e.cred != nil {
		uid, gid = int(e.cred.Uid), int(e.cred.Gid)
	}
	if err := os.Mkdir(dir, 0o700); err == nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", fmt.Errorf("embedded PostgreSQL socket directory: %w", err)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("embedded PostgreSQL socket directory: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return "", fmt.Errorf("embedded PostgreSQL socket directory: %w", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != uid || st.Mode&0o077 != 0 {
		return "", fmt.Errorf("embedded PostgreSQL socket directory %s exists but is not a private directory of uid %d: remove it", dir, uid)
	}
	return dir, nil
}

func (e *Embedded) start(ctx context.Context) error {
	_ = os.Remove(filepath.Join(e.dir, "postmaster.pid")) // stale: the server is not running
	logFile := filepath.Join(e.dir, "server.log")
	if err := e.run(ctx, "", "pg_ctl", "-D", e.dir, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("start embedded PostgreSQL: %w\n%s", err, tail)
	}
	e.Started = true
	pm, ok := e.postmaster()
	if !ok {
		return errors.New("start embedded PostgreSQL: no postmaster.pid after start")
	}
	e.socket, e.port = pm.socket, pm.port
	e.log.Info("embedded PostgreSQL started", "dir", e.dir, "socket", e.socket)
	return nil
}

func (e *Embedded) ensureDatabase(ctx context.Context) error {
	c, err := pgx.Connect(ctx, e.url("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'commerce')").Scan(&exists); err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE commerce"); err != nil && !IsUniqueViolation(err) {
			return fmt.Errorf("embedded PostgreSQL: %w", err)
		}
	}
	return nil
}

func (e *Embedded) run(ctx context.Context, stdin, name string, args ...string) error {
	out, err := e.output(ctx, stdin, name, args...)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out))
	}
	return nil
}

// output runs one of the server's programs as the server's user.
func (e *Embedded) output(ctx context.Context, stdin, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	// Own process group: a Ctrl-C to the binary must not kill the server
	// before we stop it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: e.cred}
	if e.cred != nil {
		cmd.Dir = "/"
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
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
