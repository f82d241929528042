package k8s

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Kustomizations are every kustomization under deploy/ that is applied on
// its own (relative to the repository root); each must render and validate.
var Kustomizations = []string{
	"deploy/k8s/overlays/dev",
	"deploy/k8s/overlays/prod",
	"deploy/k8s/overlays/tilt",
	"deploy/k8s/base",
	"deploy/k8s/infra",
	"deploy/argocd",
}

// Object is one rendered manifest, as its YAML and as a generic map.
type Object struct {
	YAML []byte
	Map  map[string]any
}

// Kind, Name: the object's identity, for messages and lookups.
func (o Object) Kind() string { return str(o.Map, "kind") }

// Name is metadata.name.
func (o Object) Name() string { return str(o.Map, "metadata", "name") }

var (
	root      string
	binary    string
	helpText  string
	rendered  = map[string][]Object{}
	renderErr = map[string]error{}
)

// TestMain renders every kustomization once and builds the binary once
// (from the repository root) for the rules that ask it.
func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root = filepath.Join(wd, "..", "..", "..")
	for _, k := range Kustomizations {
		rendered[k], renderErr[k] = render(filepath.Join(root, k))
	}
	tmp, err := os.MkdirTemp("", "deploy-check-k8s")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(tmp, "commerce")
	build := exec.Command("go", "build", "-o", binary, "./cmd/commerce")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/commerce: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// render runs kustomize (the API kubectl's kustomize is built on) on dir.
func render(dir string) ([]Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out []Object
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		m, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		out = append(out, Object{YAML: y, Map: m})
	}
	return out, nil
}

// objects returns a kustomization's render, failing the test when it did
// not render.
func objects(t *testing.T, k string) []Object {
	t.Helper()
	if err := renderErr[k]; err != nil {
		t.Fatal(err)
	}
	if len(rendered[k]) == 0 {
		t.Fatalf("%s renders nothing", k)
	}
	return rendered[k]
}

// newValidator is kubeconform, strict, reading only the committed schemas:
// a kind without a schema is an error, never skipped.
func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	loc := filepath.Join(root, "deploy", "k8s", "schemas") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
	v, err := validator.New([]string{loc}, validator.Opts{Strict: true, IgnoreMissingSchemas: false, KubernetesVersion: "1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// validate returns "" when kubeconform says valid, else why not.
func validate(v validator.Validator, name string, y []byte) string {
	r := v.ValidateResource(resource.Resource{Path: name, Bytes: y})
	if r.Status == validator.Valid {
		return ""
	}
	var why []string
	for _, e := range r.ValidationErrors {
		why = append(why, e.Path+": "+e.Msg)
	}
	return fmt.Sprintf("status %d: %v %s", r.Status, r.Err, strings.Join(why, "; "))
}

// TestKustomizationsRenderAndValidate: every kustomization renders, and
// every object it renders is valid against its schema (strict: an unknown
// field fails, as does a kind whose schema the repository lacks).
func TestKustomizationsRenderAndValidate(t *testing.T) {
	v := newValidator(t)
	for _, k := range Kustomizations {
		t.Run(strings.ReplaceAll(k, "/", "_"), func(t *testing.T) {
			for _, o := range objects(t, k) {
				if why := validate(v, k+": "+o.Kind()+"/"+o.Name(), o.YAML); why != "" {
					t.Errorf("%s: %s %s: %s", k, o.Kind(), o.Name(), why)
				}
			}
		})
	}
}

// TestValidationBites: the validation rejects what it must, so a green run
// means something: an unknown field, a wrong type, a kind without a schema
// and a bad CRD value each fail.
func TestValidationBites(t *testing.T) {
	v := newValidator(t)
	bad := map[string]string{
		"unknown field": `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replicas: 1
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i, readinessprobe: {}}]
`,
		"wrong type": `apiVersion: v1
kind: Service
metadata: {name: x}
spec: {ports: [{port: "eighty"}]}
`,
		"no schema": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: x}
spec: {}
`,
		"bad CRD value": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: x}
spec:
  rules:
    - matches: [{path: {type: Prefix, value: /x}}]
`,
	}
	for what, y := range bad {
		if validate(v, what, []byte(y)) == "" {
			t.Errorf("%s: kubeconform accepted\n%s", what, y)
		}
	}
	good := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: b}\n"
	if why := validate(v, "good", []byte(good)); why != "" {
		t.Errorf("a valid ConfigMap is rejected: %s", why)
	}
}

// commerce runs the built binary and returns its standard output.
func commerce(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// knownVariables are the configuration variables of `commerce serve
// --help` ([VAR] at the end of each line) and the OTEL_* variables
// docs/configuration.md documents.
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	out, _, err := commerce(t, nil, "serve", "--help")
	if err != nil {
		t.Fatalf("commerce serve --help: %v", err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\[([A-Z][A-Z0-9_]*)\]`).FindAllStringSubmatch(out, -1) {
		known[m[1]] = true
	}
	if len(known) < 20 {
		t.Fatalf("serve --help lists only %d variables:\n%s", len(known), out)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`(OTEL_[A-Z0-9_]+)`").FindAllStringSubmatch(string(doc), -1) {
		known[m[1]] = true
	}
	return known
}

// contexts lists the binary's contexts: an unknown CONTEXTS is refused
// before anything starts, with the list of those it knows.
func contexts(t *testing.T) []string {
	t.Helper()
	_, stderr, err := commerce(t, []string{"CONTEXTS=no-such-context"}, "serve")
	m := regexp.MustCompile(`\(known: ([a-z, ]+)\)`).FindStringSubmatch(stderr)
	if err == nil || m == nil {
		t.Fatalf("CONTEXTS=no-such-context: want a refusal naming the known contexts; got %v: %s", err, stderr)
	}
	var out []string
	for _, c := range strings.Split(m[1], ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// str digs a string out of nested maps.
func str(m map[string]any, path ...string) string {
	s, _ := dig(m, path...).(string)
	return s
}

// dig follows path through nested maps; nil when absent.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// list is dig for a list; nil when absent.
func list(v any, path ...string) []any {
	l, _ := dig(v, path...).([]any)
	return l
}

// toYAML is for messages and in-memory objects of the tests.
func toYAML(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}
