// Package acceptance drives the built binary as a black box over HTTP, the
// way a user would, through exactly the surface of shared/API.md.
package acceptance

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/bintest"
)

var binary string

func TestMain(m *testing.M) { bintest.Main(m, "../../cmd/commerce", &binary) }

// proc is a running binary.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
	// children are the other processes of a split topology (p is its gateway).
	children []*proc
	// GRPC is the gRPC address the process reported (split mode).
	GRPC string
}

var (
	listenRe = regexp.MustCompile(`"msg":"(?:gateway )?listening","addr":"([^"]+)"`)
	grpcRe   = regexp.MustCompile(`"msg":"gRPC listening","addr":"([^"]+)"`)
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the shop with env and waits until /readyz is 200: one
// `commerce serve`, or under ACCEPTANCE_TOPOLOGY=split the split topology
// behind a gateway (see startSplit).
func start(t *testing.T, env map[string]string) (*proc, time.Duration) {
	if splitMode && env["CONTEXTS"] == "" && env["DATABASE_URL"] != "" {
		return startSplit(t, env)
	}
	return startOne(t, env)
}

// startOne runs one `commerce serve` process.
func startOne(t *testing.T, env map[string]string) (*proc, time.Duration) {
	t.Helper()
	// Port 0 and the address read back from the log: no window in which
	// another process could take a port chosen in advance.
	addr := env["HTTP_ADDR"]
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=" + addr}
	// Every shop of the suite shares one Redis (under CI) and one client
	// IP, so per-IP windows would couple unrelated tests: unless a test
	// sets them, the limits are out of the way (they have their own tests).
	for _, k := range []string{"RATE_LIMIT_PER_MINUTE", "AUTH_RATE_LIMIT_PER_MINUTE"} {
		if _, set := env[k]; !set {
			cmd.Env = append(cmd.Env, k+"=100000")
		}
	}
	for k, v := range env {
		if k != "HTTP_ADDR" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, sagaEngineEnv(env)...)
	p := &proc{t: t, cmd: cmd, done: make(chan struct{})}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("binary exited early:\n%s", p.Logs())
		default:
		}
		if p.URL == "" {
			if m := listenRe.FindStringSubmatch(p.Logs()); m != nil {
				p.URL = "http://" + m[1]
			} else {
				time.Sleep(20 * time.Millisecond)
				continue
			}
		}
		if p.GRPC == "" && env["GRPC_ADDR"] != "" {
			if m := grpcRe.FindStringSubmatch(p.Logs()); m != nil {
				p.GRPC = m[1]
			}
		}
		res, err := http.Get(p.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 && (env["GRPC_ADDR"] == "" || p.GRPC != "") {
				return p, time.Since(began)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready in time:\n%s", p.Logs())
	return nil, 0
}

// Logs returns what the binary (every process of a topology) logged so far.
func (p *proc) Logs() string {
	p.mu.Lock()
	out := p.logs.String()
	p.mu.Unlock()
	for _, c := range p.children {
		out += c.Logs()
	}
	return out
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop() {
	defer func() {
		for _, c := range p.children {
			c.stop()
		}
	}()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("binary did not stop on SIGTERM")
	}
}

// sagaEngineEnv runs the shop on the saga engine of the suite: under
// ACCEPTANCE_SAGA_ENGINE=temporal (test/temporal starts a Temporal server
// and sets it with ACCEPTANCE_TEMPORAL_ADDRESS) every shop runs
// SAGA_ENGINE=temporal. Each shop (one database) gets its own task queue,
// so that the shops of parallel tests never work each other's orders and a
// restarted shop works its own.
func sagaEngineEnv(env map[string]string) []string {
	if os.Getenv("ACCEPTANCE_SAGA_ENGINE") != "temporal" || env["SAGA_ENGINE"] != "" {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(env["DATABASE_URL"] + "|" + env["DATA_DIR"]))
	queue := fmt.Sprintf("acceptance-%x", h.Sum64())
	if env["DATABASE_URL"] == "" && env["DATA_DIR"] == "" {
		queue = fmt.Sprintf("acceptance-%d", time.Now().UnixNano())
	}
	out := []string{"SAGA_ENGINE=temporal", "TEMPORAL_ADDRESS=" + os.Getenv("ACCEPTANCE_TEMPORAL_ADDRESS"), "TEMPORAL_TASK_QUEUE=" + queue}
	if ns := os.Getenv("ACCEPTANCE_TEMPORAL_NAMESPACE"); ns != "" {
		out = append(out, "TEMPORAL_NAMESPACE="+ns)
	}
	return out
}
