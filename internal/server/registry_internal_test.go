package server

import (
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/module"
)

type named string

func (n named) Name() string { return string(n) }

// with swaps the registry for the test's registrations.
func with(t *testing.T, regs ...module.Registration) {
	saved := registry
	registry = map[string]module.Registration{}
	t.Cleanup(func() { registry = saved })
	for _, r := range regs {
		register(r)
	}
}

// The resolver builds a context on first need, after the neighbours it
// asks for and once, whatever the registry's order; a cycle and a context
// built out are errors, not a hang or a nil.
func TestResolverBuildsOnFirstNeed(t *testing.T) {
	var order []string
	leaf := module.Registration{Name: "a", New: func(module.Deps) (module.Module, error) { order = append(order, "a"); return named("a"), nil }}
	user := module.Registration{Name: "b", New: func(d module.Deps) (module.Module, error) {
		if m, err := d.Resolver.Hosted("a"); err != nil || m == nil {
			t.Fatalf("a: %v %v", m, err)
		}
		order = append(order, "b")
		return named("b"), nil
	}}
	with(t, user, leaf)
	r := &resolver{hosts: func(string) bool { return true }, built: map[string]module.Module{}}
	for _, n := range []string{"b", "a", "b"} {
		if _, err := r.Hosted(n); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(order, ",") != "a,b" {
		t.Errorf("built %v", order)
	}
	if m, err := (&resolver{hosts: func(string) bool { return false }}).Hosted("a"); m != nil || err != nil {
		t.Errorf("not hosted: %v %v", m, err)
	}
	if _, err := r.Hosted("c"); err == nil || !strings.Contains(err.Error(), "no_c") {
		t.Errorf("built without: %v", err)
	}
}

func TestResolverRefusesACycle(t *testing.T) {
	dep := func(name, on string) module.Registration {
		return module.Registration{Name: name, New: func(d module.Deps) (module.Module, error) {
			if _, err := d.Resolver.Hosted(on); err != nil {
				return nil, err
			}
			return named(name), nil
		}}
	}
	with(t, dep("a", "b"), dep("b", "a"))
	r := &resolver{hosts: func(string) bool { return true }, built: map[string]module.Module{}}
	if _, err := r.Hosted("a"); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
}

// A registration under another name than its module's, or twice, is
// refused.
func TestRegisterRefusesMistakes(t *testing.T) {
	with(t, module.Registration{Name: "a", New: func(module.Deps) (module.Module, error) { return named("z"), nil }})
	r := &resolver{hosts: func(string) bool { return true }, built: map[string]module.Module{}}
	if _, err := r.Hosted("a"); err == nil {
		t.Error("a module named z was hosted as a")
	}
	for _, bad := range []module.Registration{{Name: "a", New: registry["a"].New}, {Name: "B", New: registry["a"].New}, {Name: "c"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v registered", bad.Name)
				}
			}()
			register(bad)
		}()
	}
}
