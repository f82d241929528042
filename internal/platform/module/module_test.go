package module_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/module"
)

// greeter stands for a <ctx>api interface.
type greeter interface{ Greet() string }

type local struct{}

func (local) Name() string { return "hello" }
func (local) API() greeter { return hi("in-process") }

type hi string

func (h hi) Greet() string { return string(h) }

// client stands for a <ctx>api/grpcclient.Client.
type client struct{ conn grpc.ClientConnInterface }

func (client) Greet() string { return "grpc" }

func newClient(c grpc.ClientConnInterface) *client { return &client{conn: c} }

type resolver struct {
	hosted     module.Module
	err        error
	remoteName string
	notRetried []string
}

func (r *resolver) Hosted(string) (module.Module, error) { return r.hosted, r.err }

func (r *resolver) Remote(name string, notRetried ...string) (grpc.ClientConnInterface, error) {
	r.remoteName, r.notRetried = name, notRetried
	if r.err != nil {
		return nil, r.err
	}
	return (*grpc.ClientConn)(nil), nil
}

// Neighbour gives the hosted module's API in-process, and the gRPC client
// (with the methods not to retry) when the context is elsewhere.
func TestNeighbourChoosesTheTransport(t *testing.T) {
	g, err := module.Neighbour[greeter](module.Deps{Resolver: &resolver{hosted: local{}}}, "hello", newClient)
	if err != nil || g.Greet() != "in-process" {
		t.Fatalf("hosted: %v %v", g, err)
	}
	r := &resolver{}
	g, err = module.Neighbour[greeter](module.Deps{Resolver: r}, "hello", newClient, "/hello.v1/Charge")
	if err != nil || g.Greet() != "grpc" || r.remoteName != "hello" || len(r.notRetried) != 1 {
		t.Fatalf("remote: %v %v %+v", g, err, r)
	}
}

// A wrong wiring is an error naming the context, never a nil API.
func TestNeighbourErrors(t *testing.T) {
	boom := errors.New("HELLO_GRPC_ADDR: required")
	if _, err := module.Neighbour[greeter](module.Deps{Resolver: &resolver{err: boom}}, "hello", newClient); !errors.Is(err, boom) {
		t.Errorf("resolver error: %v", err)
	}
	if _, err := module.Neighbour[greeter](module.Deps{}, "hello", newClient); err == nil || !strings.Contains(err.Error(), "hello") {
		t.Errorf("no resolver: %v", err)
	}
	type other interface{ Other() }
	if _, err := module.Neighbour[other](module.Deps{Resolver: &resolver{hosted: local{}}}, "hello", newClient); err == nil {
		t.Error("a hosted module without API() T was accepted")
	}
	if _, err := module.Neighbour[other](module.Deps{Resolver: &resolver{}}, "hello", newClient); err == nil {
		t.Error("a gRPC client that is no T was accepted")
	}
}

// Meter is nil without metrics (a data command), so contexts record none.
func TestMeterWithoutMetrics(t *testing.T) {
	if m := (module.Deps{}).Meter("hello"); m != nil {
		t.Errorf("meter %v", m)
	}
}
