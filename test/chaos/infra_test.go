//go:build chaos

package chaos

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/opencommerce/commerce/internal/platform/bintest"
)

func freePort(t *testing.T) int { return bintest.FreePort(t) }

// postgres is a private PostgreSQL cluster the test creates with initdb
// and runs with pg_ctl on a free loopback port (never the machine's
// shared server), so that it can be restarted and its sessions killed.
type postgres struct {
	t    *testing.T
	dir  string
	port int
	cred *syscall.Credential
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	if _, err := exec.LookPath("pg_ctl"); err != nil {
		unavailable(t, "pg_ctl/initdb", err)
	}
	base, err := os.MkdirTemp("", "chaos-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	p := &postgres{t: t, dir: filepath.Join(base, "data"), port: freePort(t)}
	if os.Geteuid() == 0 { // initdb and postgres refuse root
		for _, name := range []string{"postgres", "nobody"} {
			if u, err := user.Lookup(name); err == nil {
				uid, _ := strconv.Atoi(u.Uid)
				gid, _ := strconv.Atoi(u.Gid)
				p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
				break
			}
		}
		if p.cred == nil {
			t.Fatal("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")
		}
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(base, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	p.run("initdb", "-D", p.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nmax_connections = 200\nfsync = off\n", p.port)
	f, err := os.OpenFile(filepath.Join(p.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(conf)
	_ = f.Close()
	p.start()
	t.Cleanup(func() { _ = p.cmd("pg_ctl", "-D", p.dir, "-m", "immediate", "-w", "stop").Run() })
	c, err := pgx.Connect(context.Background(), p.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), "CREATE DATABASE commerce"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *postgres) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	if p.cred != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	c.Dir = filepath.Dir(p.dir)
	return c
}

func (p *postgres) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(name, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (p *postgres) start() {
	p.run("pg_ctl", "-D", p.dir, "-l", filepath.Join(filepath.Dir(p.dir), "server.log"), "-w", "-t", "60", "start")
}

func (p *postgres) stop() { p.run("pg_ctl", "-D", p.dir, "-m", "fast", "-w", "-t", "60", "stop") }

func (p *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// terminateAll ends every session of the shop's database.
func (p *postgres) terminateAll() int {
	p.t.Helper()
	c, err := pgx.Connect(context.Background(), p.url("postgres"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'commerce'").Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// redisServer is a private redis-server on a free loopback port.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unavailable(t, "redis-server", err)
	}
	r := &redisServer{t: t, port: freePort(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", r.addr())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// pausable is the Kafka broker's listener: paused, it drops every
// connection and refuses new ones, which is a stopped broker to the
// clients, while kfake keeps its data (a restarted kfake would not).
type pausable struct {
	net.Listener
	mu     sync.Mutex
	paused bool
	conns  map[net.Conn]bool
}

func (l *pausable) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.paused {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.conns[c] = true
		l.mu.Unlock()
		return c, nil
	}
}

func (l *pausable) pause(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = on
	if on {
		for c := range l.conns {
			_ = c.Close()
		}
		l.conns = map[net.Conn]bool{}
	}
}

// proc is one `commerce serve` with a fixed address, so that it can be
// killed and started again where the clients expect it.
type proc struct {
	t    *testing.T
	name string // what it hosts, for the failure report
	env  []string
	url  string
	// pprof is its private profiling address: a failed run saves every
	// goroutine's stack (what a stalled consumer waits on).
	pprof string
	cmd   *exec.Cmd
	mu    sync.Mutex
	logs  strings.Builder
	done  chan struct{}
}

func newProc(t *testing.T, env map[string]string) *proc {
	p := &proc{t: t, url: "http://" + env["HTTP_ADDR"], name: env["CONTEXTS"], pprof: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	if p.name == "" {
		p.name = "monolith"
	}
	p.name = strings.ReplaceAll(p.name, ",", "+")
	p.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PPROF_ADDR=" + p.pprof}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	t.Cleanup(p.term)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Env = p.env
	p.cmd.Stdout = io.Discard
	stderr, _ := p.cmd.StderrPipe()
	p.done = make(chan struct{})
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := p.done
	cmd := p.cmd
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_ = cmd.Wait()
		close(done)
	}()
	p.waitReady(90 * time.Second)
}

func (p *proc) waitReady(within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("binary exited:\n%s", p.tail())
		default:
		}
		if res, err := c.Get(p.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("%s not ready in %s:\n%s", p.url, within, p.tail())
}

// kill is kill -9.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) term() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

// save writes the process's whole log and, while it runs, every
// goroutine's stack into dir (a failed run's evidence; test/chaos/out
// is not committed).
func (p *proc) save(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("save %s: %v", p.name, err)
		return
	}
	p.mu.Lock()
	logs := p.logs.String()
	p.mu.Unlock()
	files := []string{filepath.Join(dir, p.name+".log")}
	_ = os.WriteFile(files[0], []byte(logs), 0o644)
	c := &http.Client{Timeout: 10 * time.Second}
	if res, err := c.Get("http://" + p.pprof + "/debug/pprof/goroutine?debug=2"); err == nil {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		files = append(files, filepath.Join(dir, p.name+".goroutines.txt"))
		_ = os.WriteFile(files[1], body, 0o644)
	}
	p.t.Logf("saved %s", strings.Join(files, ", "))
}

func (p *proc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.logs.String()
	if len(s) > 8000 {
		s = s[len(s)-8000:]
	}
	return s
}

func jwtKeyFile(t *testing.T) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s unavailable: %v", what, err)
}
