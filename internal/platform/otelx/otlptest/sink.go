package otlptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
)

// Sink is an OTLP/gRPC endpoint that accepts every export without
// decoding it: a collector on another machine, as far as the exporting
// process can tell. Benchmarks of the exporting side use it so that the
// receiver's own decoding is not counted (Receiver decodes, to keep what
// arrives).
type Sink struct {
	// Endpoint is the gRPC endpoint (http://127.0.0.1:port).
	Endpoint string

	mu       sync.Mutex
	requests map[string]int
	srv      *grpc.Server
	// onExport, when set, is told of each export (the sink process
	// reports them to its parent).
	onExport func(signal string)
}

// StartSink runs a Sink until the test ends.
func StartSink(t testing.TB) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{Endpoint: "http://" + ln.Addr().String(), requests: map[string]int{}}
	s.srv = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(s.export))
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(s.srv.Stop)
	return s
}

// export answers any method with an empty message (an empty Export*
// response) after reading the request's bytes.
func (s *Sink) export(_ any, st grpc.ServerStream) error {
	var req []byte
	if err := st.RecvMsg(&req); err != nil {
		return err
	}
	method, _ := grpc.MethodFromServerStream(st)
	signal := "other"
	for _, sig := range []string{"trace", "metrics", "logs"} {
		if strings.Contains(method, "collector."+sig+".") {
			signal = sig
		}
	}
	if signal == "trace" {
		signal = "traces"
	}
	s.mu.Lock()
	s.requests[signal]++
	s.mu.Unlock()
	if s.onExport != nil {
		s.onExport(signal)
	}
	return st.SendMsg(&[]byte{})
}

// Requests returns how many export requests of a signal ("traces",
// "metrics", "logs") arrived.
func (s *Sink) Requests(signal string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[signal]
}

// rawCodec passes message bytes through undecoded.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append((*v.(*[]byte))[:0], b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// sinkProcessEnv asks a test binary started by StartSinkProcess to be the
// sink (see ServeSinkProcessIfAsked).
const sinkProcessEnv = "OTLPTEST_SINK_PROCESS"

// ServeSinkProcessIfAsked makes the test binary a Sink process when
// StartSinkProcess started it: it prints the endpoint, then a line per
// export ("export traces"), and exits when its stdin closes. A package
// whose benchmarks use StartSinkProcess calls it first in TestMain.
func ServeSinkProcessIfAsked() {
	if os.Getenv(sinkProcessEnv) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	s := &Sink{requests: map[string]int{}, onExport: func(signal string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("export %s\n", signal)
	}}
	s.srv = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(s.export))
	go func() { _ = s.srv.Serve(ln) }()
	fmt.Printf("endpoint http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.srv.Stop()
	os.Exit(0)
}

// StartSinkProcess runs a Sink in a process of its own (the test binary
// again; see ServeSinkProcessIfAsked) until the test ends. Benchmarks
// that count the process's CPU time use it: receiving is the collector's
// work, on another machine in a deployment, and must not be charged to
// the exporting side.
func StartSinkProcess(t testing.TB) *Sink {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sinkProcessEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	s := &Sink{requests: map[string]int{}}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "endpoint ") {
		t.Fatalf("sink process: %q %v", lines.Text(), lines.Err())
	}
	s.Endpoint = strings.TrimPrefix(lines.Text(), "endpoint ")
	go func() {
		for lines.Scan() {
			if signal, ok := strings.CutPrefix(lines.Text(), "export "); ok {
				s.mu.Lock()
				s.requests[signal]++
				s.mu.Unlock()
			}
		}
	}()
	return s
}
