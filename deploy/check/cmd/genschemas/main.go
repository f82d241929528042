// Command genschemas regenerates deploy/k8s/schemas, the JSON schemas
// kubeconform validates the manifests against offline: the built-in kinds
// from the OpenAPI document of a pinned Kubernetes release, the custom
// resources from the CRDs their projects publish. Only the kinds the
// manifests use are written (Kinds), strict (unknown fields rejected) and
// without descriptions, so the committed files stay small.
//
// Run from deploy/check (the Go module cache supplies the Go modules; the
// operators that publish no Go module are read from git checkouts):
//
//	go run ./cmd/genschemas -strimzi DIR -redis-operator DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Source pins where the schemas come from; docs/kubernetes.md names the
// same versions.
const (
	kubernetesModule = "k8s.io/kubernetes@v1.37.2"
	gatewayAPIModule = "sigs.k8s.io/gateway-api@v1.6.3"
	argoCDModule     = "github.com/argoproj/argo-cd/v3@v3.5.7"
	cnpgModule       = "github.com/cloudnative-pg/cloudnative-pg@v1.28.0"
)

// Kind is one apiVersion/kind the manifests use.
type Kind struct{ Group, Version, Kind string }

// Builtin are the Kubernetes kinds the manifests use.
var Builtin = []Kind{
	{"", "v1", "ConfigMap"}, {"", "v1", "Service"}, {"", "v1", "ServiceAccount"},
	{"apps", "v1", "Deployment"}, {"batch", "v1", "Job"}, {"policy", "v1", "PodDisruptionBudget"},
	{"autoscaling", "v2", "HorizontalPodAutoscaler"}, {"networking.k8s.io", "v1", "NetworkPolicy"},
}

// crdSource is a CRD file (relative to its module or checkout) and the
// version of it the manifests use.
type crdSource struct {
	root, file, version string
}

func main() {
	out := flag.String("out", "../k8s/schemas", "directory of the schemas")
	strimzi := flag.String("strimzi", "", "checkout of github.com/strimzi/strimzi-kafka-operator at tag 1.2.0")
	redis := flag.String("redis-operator", "", "checkout of github.com/OT-CONTAINER-KIT/redis-operator at tag v0.26.0")
	flag.Parse()
	if err := run(*out, *strimzi, *redis); err != nil {
		fmt.Fprintln(os.Stderr, "genschemas:", err)
		os.Exit(1)
	}
}

func run(out, strimzi, redis string) error {
	if strimzi == "" || redis == "" {
		return errors.New("-strimzi and -redis-operator are required (git checkouts; see docs/kubernetes.md)")
	}
	k8s, err := moduleDir(kubernetesModule)
	if err != nil {
		return err
	}
	gw, err := moduleDir(gatewayAPIModule)
	if err != nil {
		return err
	}
	argo, err := moduleDir(argoCDModule)
	if err != nil {
		return err
	}
	cnpg, err := moduleDir(cnpgModule)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := builtins(filepath.Join(k8s, "api", "openapi-spec", "swagger.json"), out); err != nil {
		return err
	}
	crds := []crdSource{
		{gw, "config/crd/standard/gateway.networking.k8s.io_gateways.yaml", "v1"},
		{gw, "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml", "v1"},
		{argo, "manifests/crds/applicationset-crd.yaml", "v1alpha1"},
		{cnpg, "config/crd/bases/postgresql.cnpg.io_clusters.yaml", "v1"},
		{strimzi, "packaging/install/cluster-operator/040-Crd-kafka.yaml", "v1"},
		{strimzi, "packaging/install/cluster-operator/043-Crd-kafkatopic.yaml", "v1"},
		{strimzi, "packaging/install/cluster-operator/045-Crd-kafkanodepool.yaml", "v1"},
		{redis, "config/crd/bases/redis.redis.opstreelabs.in_redis.yaml", "v1beta2"},
	}
	for _, c := range crds {
		if err := crd(filepath.Join(c.root, c.file), c.version, out); err != nil {
			return fmt.Errorf("%s: %w", c.file, err)
		}
	}
	return nil
}

// moduleDir downloads a module (or finds it in the cache) and returns its
// directory.
func moduleDir(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, m.Error)
	}
	return m.Dir, nil
}

// FileName is kubeconform's name of a kind's schema:
// {kind}-{first segment of the group}-{version}.json, lowercase, as its
// schema location template {{.ResourceKind}}{{.KindSuffix}}.json expands.
func FileName(group, version, kind string) string {
	suffix := ""
	if group != "" {
		suffix = "-" + strings.Split(group, ".")[0]
	}
	return strings.ToLower(kind + suffix + "-" + version + ".json")
}

func builtins(swagger, out string) error {
	b, err := os.ReadFile(swagger)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", swagger, err)
	}
	for _, want := range Builtin {
		found := false
		for name, def := range doc.Definitions {
			gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				m, _ := g.(map[string]any)
				if m["group"] == want.Group && m["version"] == want.Version && m["kind"] == want.Kind {
					found = true
					s, err := inline(def, doc.Definitions, map[string]bool{name: true})
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					if err := write(out, FileName(want.Group, want.Version, want.Kind), strict(s)); err != nil {
						return err
					}
				}
			}
		}
		if !found {
			return fmt.Errorf("%s/%s %s: not in %s", want.Group, want.Version, want.Kind, swagger)
		}
	}
	return nil
}

// inline replaces every $ref by a copy of its definition, so that each
// kind's schema stands alone (kubeconform's "standalone" layout).
func inline(v any, defs map[string]map[string]any, path map[string]bool) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/definitions/")
			switch name {
			case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
				return intOrString(), nil
			case "io.k8s.apimachinery.pkg.api.resource.Quantity":
				return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}, nil
			}
			def, ok := defs[name]
			if !ok {
				return nil, fmt.Errorf("unresolved %s", ref)
			}
			if path[name] {
				return nil, fmt.Errorf("recursive %s", ref)
			}
			path[name] = true
			defer delete(path, name)
			return inline(def, defs, path)
		}
		m := map[string]any{}
		for k, x := range t {
			if k == "description" || k == "x-kubernetes-group-version-kind" {
				continue
			}
			y, err := inline(x, defs, path)
			if err != nil {
				return nil, err
			}
			m[k] = y
		}
		return m, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := inline(x, defs, path)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}

func intOrString() map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
}

// strict rejects unknown fields: every object schema listing properties
// gets additionalProperties false unless it says otherwise or keeps
// unknown fields on purpose (x-kubernetes-preserve-unknown-fields).
func strict(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "description" {
				delete(t, k)
				continue
			}
			t[k] = strict(x)
		}
		if t["x-kubernetes-int-or-string"] == true {
			delete(t, "type")
			delete(t, "x-kubernetes-int-or-string")
			for k, x := range intOrString() {
				t[k] = x
			}
		}
		if _, ok := t["properties"]; ok {
			if _, set := t["additionalProperties"]; !set && t["x-kubernetes-preserve-unknown-fields"] != true {
				t["additionalProperties"] = false
			}
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = strict(x)
		}
	}
	return v
}

func crd(file, version, out string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	// Some files hold a YAML stream; the CRD is its only document.
	if err := yaml.Unmarshal(firstDocument(b), &doc); err != nil {
		return err
	}
	for _, v := range doc.Spec.Versions {
		if v.Name == version && v.Schema.OpenAPIV3Schema != nil {
			return write(out, FileName(doc.Spec.Group, version, doc.Spec.Names.Kind), strict(v.Schema.OpenAPIV3Schema))
		}
	}
	return fmt.Errorf("no schema of version %s", version)
}

func firstDocument(b []byte) []byte {
	for _, d := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 && bytes.Contains(d, []byte("kind: CustomResourceDefinition")) {
			return d
		}
	}
	return b
}

func write(dir, name string, schema any) error {
	// Compact, with sorted keys: small, and regenerating is reproducible.
	b, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	fmt.Println("wrote", name)
	return os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
}
