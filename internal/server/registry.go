package server

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/module"
)

// registry holds the contexts compiled into this binary, by name. Each
// ctx_<name>.go adds one with a single register line, under the build tag
// !no_<name>: everything the composition root does per context (hosting,
// routes, gRPC, consumers, jobs, topics, subgraphs, the gateway's routing
// table, the data commands) is derived from it, so a context left out by
// a build tag leaves no trace, and adding one is a folder and a line
// (docs/adding-a-context.md).
var registry = map[string]module.Registration{}

var contextName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// register adds a context; a malformed or duplicate registration is a
// programming error caught at start (and by the tests).
func register(r module.Registration) {
	switch {
	case !contextName.MatchString(r.Name):
		panic(fmt.Sprintf("server: context name %q is not [a-z][a-z0-9]*", r.Name))
	case r.New == nil:
		panic("server: context " + r.Name + " registered without New")
	}
	if _, dup := registry[r.Name]; dup {
		panic("server: context " + r.Name + " registered twice")
	}
	registry[r.Name] = r
}

// registrations lists the compiled-in contexts sorted by name: the order in
// which a process hosts them (routes, consumers, workers, subgraphs).
func registrations() []module.Registration {
	out := make([]module.Registration, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Registrations lists the contexts compiled into this binary, sorted by
// name: the registry as tests and tools see it.
func Registrations() []module.Registration { return registrations() }

func builtWithout(ctx string) error {
	return errors.New("CONTEXTS: this binary was built without " + ctx + " (build tag no_" + ctx + ")")
}

// resolver builds the contexts a process hosts, each at most once and on
// first need, so a context is built after the neighbours it calls
// in-process whatever the order of the registry; a context it does not
// host is reached over gRPC.
type resolver struct {
	deps     module.Deps
	hosts    func(name string) bool
	remote   func(name string, notRetried ...string) (grpc.ClientConnInterface, error)
	built    map[string]module.Module
	building []string
}

// Hosted implements module.Resolver.
func (r *resolver) Hosted(name string) (module.Module, error) {
	if !r.hosts(name) {
		return nil, nil
	}
	if m, ok := r.built[name]; ok {
		return m, nil
	}
	if slices.Contains(r.building, name) {
		return nil, fmt.Errorf("contexts call each other in a cycle: %v → %s", r.building, name)
	}
	reg, ok := registry[name]
	if !ok {
		return nil, builtWithout(name)
	}
	r.building = append(r.building, name)
	d := r.deps
	d.Resolver = r
	m, err := reg.New(d)
	r.building = r.building[:len(r.building)-1]
	if err != nil {
		return nil, err
	}
	if m.Name() != name {
		return nil, fmt.Errorf("context %s built a module named %q", name, m.Name())
	}
	r.built[name] = m
	return m, nil
}

// Remote implements module.Resolver.
func (r *resolver) Remote(name string, notRetried ...string) (grpc.ClientConnInterface, error) {
	return r.remote(name, notRetried...)
}
