package tilt

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/opencommerce/commerce/deploy/check/internal/binvars"
)

// call is one recorded call of a Tilt function.
type call struct {
	name   string
	args   []starlark.Value
	kwargs map[string]starlark.Value
}

// recorder holds the calls of one run of the Tiltfile.
type recorder struct{ calls []call }

// builtin returns a stub of a Tilt function that records its call and
// returns result (or None).
func (r *recorder) builtin(name string, result func(c call) starlark.Value) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		c := call{name: name, args: args, kwargs: map[string]starlark.Value{}}
		for _, kv := range kwargs {
			k, _ := starlark.AsString(kv[0])
			c.kwargs[k] = kv[1]
		}
		r.calls = append(r.calls, c)
		if result != nil {
			return result(c), nil
		}
		return starlark.None, nil
	})
}

// step is a live_update step as Tilt represents it: its kind and arguments.
type step struct {
	kind string
	args []string
}

func (s step) String() string        { return s.kind + "(" + strings.Join(s.args, ", ") + ")" }
func (s step) Type() string          { return "live_update_step" }
func (s step) Freeze()               {}
func (s step) Truth() starlark.Bool  { return true }
func (s step) Hash() (uint32, error) { return starlark.String(s.String()).Hash() }

// blob is the YAML a kustomize() call returns, named by its directory.
type blob string

func (b blob) String() string        { return "blob(kustomize " + string(b) + ")" }
func (b blob) Type() string          { return "blob" }
func (b blob) Freeze()               {}
func (b blob) Truth() starlark.Bool  { return true }
func (b blob) Hash() (uint32, error) { return starlark.String(b).Hash() }

func str(v starlark.Value) string {
	s, _ := starlark.AsString(v)
	return s
}

func strs(v starlark.Value) []string {
	var out []string
	if it, ok := v.(starlark.Iterable); ok {
		iter := it.Iterate()
		defer iter.Done()
		var x starlark.Value
		for iter.Next(&x) {
			if s, ok := starlark.AsString(x); ok {
				out = append(out, s)
			} else {
				out = append(out, x.String())
			}
		}
	} else if s, ok := starlark.AsString(v); ok {
		out = append(out, s)
	}
	return out
}

// run executes the Tiltfile with the stubs and returns the calls.
func run(t *testing.T, root string) *recorder {
	t.Helper()
	r := &recorder{}
	stepFn := func(kind string) *starlark.Builtin {
		return starlark.NewBuiltin(kind, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			s := step{kind: kind}
			for _, a := range args {
				s.args = append(s.args, strings.Join(strs(a), " "))
			}
			return s, nil
		})
	}
	builtins := starlark.StringDict{
		"allow_k8s_contexts": r.builtin("allow_k8s_contexts", nil),
		"local_resource":     r.builtin("local_resource", nil),
		"docker_build":       r.builtin("docker_build", nil),
		"custom_build":       r.builtin("custom_build", nil),
		"k8s_yaml":           r.builtin("k8s_yaml", nil),
		"k8s_resource":       r.builtin("k8s_resource", nil),
		"kustomize":          r.builtin("kustomize", func(c call) starlark.Value { return blob(str(c.args[0])) }),
		"sync":               stepFn("sync"),
		"run":                stepFn("run"),
		"fall_back_on":       stepFn("fall_back_on"),
		"restart_container":  stepFn("restart_container"),
	}
	extensions := map[string]starlark.StringDict{
		"ext://restart_process": {
			"docker_build_with_restart": r.builtin("docker_build_with_restart", nil),
			"custom_build_with_restart": r.builtin("custom_build_with_restart", nil),
		},
	}
	thread := &starlark.Thread{
		Name: "Tiltfile",
		Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			if m, ok := extensions[module]; ok {
				return m, nil
			}
			return nil, fmt.Errorf("load(%q): not a Tilt extension the checks know", module)
		},
		Print: func(_ *starlark.Thread, msg string) { t.Log("Tiltfile:", msg) },
	}
	src, err := os.ReadFile(filepath.Join(root, "Tiltfile"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	if _, err := starlark.ExecFileOptions(opts, thread, "Tiltfile", src, builtins); err != nil {
		t.Fatalf("Tiltfile: %v", err)
	}
	return r
}

func (r *recorder) find(name string) []call {
	var out []call
	for _, c := range r.calls {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// TestTiltfile: the Tiltfile runs, builds the image the dev overlay uses
// from a binary a local_resource builds for Linux, live-updates that
// binary, applies the dev overlay and port-forwards 8080.
func TestTiltfile(t *testing.T) {
	root, err := binvars.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, root)

	// The host build of the binary.
	var binary string
	for _, c := range r.find("local_resource") {
		cmd := str(c.kwargs["cmd"])
		if !strings.Contains(cmd, "go build") {
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", "./cmd/commerce"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("the binary's local_resource lacks %s: %s", want, cmd)
			}
		}
		if m := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(cmd); m != nil {
			binary = m[1]
		}
		for _, d := range strs(c.kwargs["deps"]) {
			if d == "web/dist" {
				continue // written by the web resource
			}
			if _, err := os.Stat(filepath.Join(root, d)); err != nil {
				t.Errorf("local_resource %s watches %s: %v", str(c.args[0]), d, err)
			}
		}
	}
	if binary == "" {
		t.Fatal("no local_resource builds the binary (go build ... -o <file>)")
	}

	// The image, with the binary synced in by live_update.
	builds := append(r.find("docker_build"), r.find("docker_build_with_restart")...)
	if len(builds) != 1 {
		t.Fatalf("%d image builds; want one", len(builds))
	}
	b := builds[0]
	image := str(b.args[0])
	if df := str(b.kwargs["dockerfile"]); df != "" {
		if _, err := os.Stat(filepath.Join(root, df)); err != nil {
			t.Errorf("docker_build's dockerfile: %v", err)
		}
	}
	synced := false
	if lu, ok := b.kwargs["live_update"].(*starlark.List); ok {
		for i := 0; i < lu.Len(); i++ {
			if s, ok := lu.Index(i).(step); ok && s.kind == "sync" && len(s.args) == 2 && s.args[0] == binary {
				synced = true
			}
		}
	}
	if !synced {
		t.Errorf("live_update does not sync %s (the local_resource's binary) into the container", binary)
	}
	if only := strs(b.kwargs["only"]); len(only) > 0 && !slices.Contains(only, binary) {
		t.Errorf("docker_build only=%v leaves out the binary %s", only, binary)
	}

	// The overlay Tilt applies, rendered as kustomize would.
	yamls := r.find("k8s_yaml")
	if len(yamls) != 1 {
		t.Fatalf("%d k8s_yaml calls; want one", len(yamls))
	}
	overlay, ok := yamls[0].args[0].(blob)
	if !ok || string(overlay) != "deploy/k8s/overlays/tilt" {
		t.Fatalf("k8s_yaml applies %v; want kustomize('deploy/k8s/overlays/tilt')", yamls[0].args[0])
	}
	workloads := render(t, filepath.Join(root, filepath.FromSlash(string(overlay))))
	var images []string
	for _, w := range workloads {
		images = append(images, w.images...)
	}
	if !slices.Contains(images, image) {
		t.Errorf("the Tiltfile builds %q, but the overlay runs %v: Tilt would not inject it", image, images)
	}
	for _, c := range r.find("k8s_resource") {
		name := str(c.args[0])
		w, ok := workloads[name]
		switch {
		case !ok:
			t.Errorf("k8s_resource(%q) names no workload of the overlay (%v)", name, keys(workloads))
		case slices.Contains(w.images, image) && w.readOnlyRoot:
			t.Errorf("%s runs %s with a read-only root filesystem: live_update cannot sync the binary", name, image)
		}
	}

	// The shop on localhost:8080.
	forwarded := false
	for _, c := range r.find("k8s_resource") {
		for _, pf := range strs(c.kwargs["port_forwards"]) {
			forwarded = forwarded || pf == "8080" || strings.HasSuffix(pf, ":8080") && strings.HasPrefix(pf, "8080")
		}
		if pf, ok := c.kwargs["port_forwards"].(starlark.Int); ok {
			if v, _ := pf.Int64(); v == 8080 {
				forwarded = true
			}
		}
	}
	if !forwarded {
		t.Error("no k8s_resource forwards port 8080 (the gateway or the monolith)")
	}
}

// workload is what the Tilt check needs of a rendered workload.
type workload struct {
	images       []string // repositories, without tag or digest
	readOnlyRoot bool     // some container of the image has a read-only root
}

// render builds the kustomization in dir with the kustomize API and
// returns its Deployments, StatefulSets and Jobs by name.
func render(t *testing.T, dir string) map[string]workload {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out := map[string]workload{}
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		var pod map[string]any
		switch r.GetKind() {
		case "Deployment", "StatefulSet", "Job":
			pod = dig(m, "spec", "template", "spec")
		default:
			continue
		}
		var w workload
		containers, _ := pod["containers"].([]any)
		for _, c := range containers {
			cm, _ := c.(map[string]any)
			ref, _ := cm["image"].(string)
			ref, _, _ = strings.Cut(ref, "@")
			if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
				ref = ref[:i]
			}
			w.images = append(w.images, ref)
			if ro, _ := dig(cm, "securityContext")["readOnlyRootFilesystem"].(bool); ro {
				w.readOnlyRoot = true
			}
		}
		out[r.GetName()] = w
	}
	return out
}

// dig walks nested maps (nil when a key is missing).
func dig(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m, _ = m[k].(map[string]any)
	}
	return m
}

func keys(m map[string]workload) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
