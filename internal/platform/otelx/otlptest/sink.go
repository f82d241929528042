package otlptest

import (
	"net"
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
