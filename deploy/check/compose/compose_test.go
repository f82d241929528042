package compose

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/opencommerce/commerce/deploy/check/internal/binvars"
)

// contexts are the bounded contexts of the binary (docs/configuration.md,
// CONTEXTS); the split profile must host each exactly once.
var contexts = []string{"auth", "catalog", "cart", "ordering", "payments", "fulfillment", "notify", "chat", "search", "webhooks"}

// sentinels are the values the secret variables get from the environment
// while loading: a secret-looking setting must end up with one of them
// (or empty), which proves it comes from the environment and not from a
// value written in the file.
var sentinels = map[string]string{
	"POSTGRES_PASSWORD":        "sentinel-postgres-password",
	"MEILISEARCH_KEY":          "sentinel-meilisearch-key",
	"GRAFANA_ADMIN_PASSWORD":   "sentinel-grafana-password",
	"BOOTSTRAP_ADMIN_PASSWORD": "sentinel-admin-password",
	"BOOTSTRAP_ADMIN_EMAIL":    "admin@example.com",
}

func composeFile(t *testing.T) (root, file string) {
	t.Helper()
	root, err := binvars.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root, filepath.Join(root, "deploy", "compose", "compose.yaml")
}

// load loads the compose file with the given profiles and environment,
// as `docker compose --profile ... config` does (interpolation,
// normalisation, schema validation, consistency), ignoring any .env file
// and the machine's environment.
func load(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	_, file := composeFile(t)
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithProfiles(profiles),
		cli.WithEnv(kv),
		cli.WithDiscardEnvFile,
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose %v: %v", profiles, err)
	}
	return p
}

// isCommerce tells the services that run the shop's image.
func isCommerce(s types.ServiceConfig) bool {
	return strings.HasPrefix(s.Image, "commerce:") || s.Build != nil && strings.HasSuffix(s.Build.Dockerfile, "deploy/docker/Dockerfile")
}

// hasHealthcheck tells a service with a healthcheck that runs something.
func hasHealthcheck(s types.ServiceConfig) bool {
	h := s.HealthCheck
	return h != nil && !h.Disable && len(h.Test) > 0 && h.Test[0] != "NONE"
}

func env(s types.ServiceConfig, name string) string {
	if v, ok := s.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

// TestProfilesLoad: every profile, alone and together, loads and validates
// with compose-go, with the defaults only (no .env) and with values from
// the environment, and holds the services it promises.
func TestProfilesLoad(t *testing.T) {
	want := map[string][]string{
		"monolith":      {"commerce", "postgres", "redis", "mailpit", "migrate"},
		"split":         {"gateway", "catalog", "payments", "search", "core", "migrate", "jwt-key", "postgres", "redis", "mailpit", "kafka-1", "kafka-2", "kafka-3", "meilisearch"},
		"observability": {"prometheus", "grafana", "loki", "tempo", "alloy"},
	}
	for profile, services := range want {
		for _, e := range []map[string]string{nil, sentinels} {
			p := load(t, e, profile)
			got := p.ServiceNames()
			sort.Strings(got)
			exp := slices.Clone(services)
			sort.Strings(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("profile %s runs %v; want %v", profile, got, exp)
			}
		}
	}
	load(t, nil, "monolith", "observability")
	load(t, nil, "split", "observability")
	if p := load(t, nil); len(p.ServiceNames()) != 0 {
		t.Errorf("without a profile compose starts %v; every service should belong to a profile", p.ServiceNames())
	}
}

// TestCommerceServices: the shop's services set only variables the binary
// knows, every serve waits for the one-shot migration and has
// MIGRATE_ON_START=false and a healthcheck, and the migration runs once.
func TestCommerceServices(t *testing.T) {
	known, err := binvars.Known()
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{"monolith", "split"} {
		p := load(t, sentinels, profile)
		mig, ok := p.Services["migrate"]
		if !ok {
			t.Fatalf("profile %s has no one-shot migrate service", profile)
		}
		if got := strings.Join(mig.Command, " "); got != "migrate up" || !isCommerce(mig) {
			t.Errorf("%s: migrate runs %q of image %q; want `commerce migrate up`", profile, got, mig.Image)
		}
		if mig.Restart != "" && mig.Restart != "no" {
			t.Errorf("%s: migrate restarts (%q): a one-shot must not", profile, mig.Restart)
		}
		if mig.Deploy != nil && mig.Deploy.Replicas != nil && *mig.Deploy.Replicas != 1 {
			t.Errorf("%s: migrate has %d replicas; migrations run once", profile, *mig.Deploy.Replicas)
		}
		serves := 0
		for name, s := range p.Services {
			if !isCommerce(s) {
				continue
			}
			for k := range s.Environment {
				if !binvars.IsKnown(known, k) {
					t.Errorf("%s: service %s sets %s, which `commerce serve --help` does not list", profile, name, k)
				}
			}
			if len(s.Command) == 0 || s.Command[0] != "serve" {
				continue
			}
			serves++
			if !hasHealthcheck(s) {
				t.Errorf("%s: serve service %s has no healthcheck", profile, name)
			}
			if env(s, "CONTEXTS") == "gateway" {
				// The gateway opens no database: nothing to migrate. It
				// waits for the processes it routes to instead.
				continue
			}
			if got := env(s, "MIGRATE_ON_START"); got != "false" {
				t.Errorf("%s: serve service %s has MIGRATE_ON_START=%q; want false (migrate runs once)", profile, name, got)
			}
			if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s: serve service %s does not wait for migrate (condition: service_completed_successfully)", profile, name)
			}
			if env(s, "DATABASE_URL") == "" {
				t.Errorf("%s: serve service %s has no DATABASE_URL (the image has no embedded PostgreSQL)", profile, name)
			}
		}
		if serves == 0 {
			t.Errorf("profile %s runs no `commerce serve`", profile)
		}
	}
}

// TestDependencies: every depends_on names a condition (a bare list would
// start a service before what it needs answers); service_healthy targets
// have a healthcheck and service_completed_successfully targets are
// one-shots.
func TestDependencies(t *testing.T) {
	_, file := composeFile(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Services map[string]struct {
			DependsOn any `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, s := range raw.Services {
		switch d := s.DependsOn.(type) {
		case nil:
		case map[string]any:
			for dep, v := range d {
				m, _ := v.(map[string]any)
				if m["condition"] == nil {
					t.Errorf("service %s depends on %s without a condition", name, dep)
				}
			}
		default:
			t.Errorf("service %s: depends_on is a list; write a mapping with conditions", name)
		}
	}
	p := load(t, nil, "monolith", "split", "observability")
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which is not defined", name, dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if !hasHealthcheck(target) {
					t.Errorf("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart != "" && target.Restart != "no" {
					t.Errorf("service %s waits for %s to complete, which restarts (%q)", name, dep, target.Restart)
				}
			}
		}
	}
}

// TestSplitTopology: the split profile hosts each context exactly once
// (the groups of docs/operations.md), the gateway routes every context to
// the service hosting it, every process that calls a context it does not
// host has its gRPC address, and Kafka is three combined broker/controller
// nodes with one quorum.
func TestSplitTopology(t *testing.T) {
	p := load(t, nil, "split")
	host := map[string]string{}
	for name, s := range p.Services {
		c := env(s, "CONTEXTS")
		if !isCommerce(s) || c == "" || c == "gateway" {
			continue
		}
		for _, ctx := range strings.Split(c, ",") {
			if prev, dup := host[ctx]; dup {
				t.Errorf("context %s runs in both %s and %s", ctx, prev, name)
			}
			host[ctx] = name
		}
		if env(s, "EVENT_TRANSPORT") != "kafka" || env(s, "KAFKA_BROKERS") == "" {
			t.Errorf("split service %s: events must travel over Kafka (EVENT_TRANSPORT, KAFKA_BROKERS)", name)
		}
		if env(s, "TRUST_PROXY") != "true" {
			t.Errorf("split service %s is behind the gateway: TRUST_PROXY=true", name)
		}
		if env(s, "JWT_PRIVATE_KEY_FILE") == "" {
			t.Errorf("split service %s: every process needs the shared JWT_PRIVATE_KEY_FILE", name)
		}
	}
	for _, c := range contexts {
		if host[c] == "" {
			t.Errorf("context %s runs in no split service", c)
		}
	}
	groups := map[string]string{"catalog": "catalog", "payments": "payments", "search": "search"}
	for c, svc := range groups {
		if host[c] != svc {
			t.Errorf("context %s runs in %q; docs/operations.md runs it alone in %q", c, host[c], svc)
		}
	}
	gw, ok := p.Services["gateway"]
	if !ok || env(gw, "CONTEXTS") != "gateway" {
		t.Fatal("split has no gateway service with CONTEXTS=gateway")
	}
	ups := map[string]string{}
	for _, kv := range strings.Split(env(gw, "GATEWAY_UPSTREAMS"), ",") {
		k, v, _ := strings.Cut(kv, "=")
		ups[k] = v
	}
	for _, c := range contexts {
		if want := "http://" + host[c] + ":8080"; ups[c] != want {
			t.Errorf("gateway routes %s to %q; want %q", c, ups[c], want)
		}
	}
	// Callers: catalog is called by search and the core group, payments
	// by the core group (their gRPC clients).
	for svc, vars := range map[string][]string{"search": {"CATALOG_GRPC_ADDR"}, "core": {"CATALOG_GRPC_ADDR", "PAYMENTS_GRPC_ADDR"}} {
		for _, v := range vars {
			target := strings.ToLower(strings.TrimSuffix(v, "_GRPC_ADDR"))
			if got, want := env(p.Services[svc], v), host[target]+":9090"; got != want {
				t.Errorf("service %s: %s=%q; want %q", svc, v, got, want)
			}
		}
	}
	var voters []string
	for i, name := range []string{"kafka-1", "kafka-2", "kafka-3"} {
		k := p.Services[name]
		if env(k, "KAFKA_PROCESS_ROLES") != "broker,controller" {
			t.Errorf("%s: KAFKA_PROCESS_ROLES=%q; want broker,controller (KRaft, combined)", name, env(k, "KAFKA_PROCESS_ROLES"))
		}
		if env(k, "KAFKA_NODE_ID") != string(rune('1'+i)) {
			t.Errorf("%s: KAFKA_NODE_ID=%q", name, env(k, "KAFKA_NODE_ID"))
		}
		voters = append(voters, env(k, "KAFKA_CONTROLLER_QUORUM_VOTERS"))
	}
	if voters[0] != "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093" || voters[0] != voters[1] || voters[1] != voters[2] {
		t.Errorf("the three brokers do not share one quorum of three voters: %q", voters)
	}
}

// TestNoSecretValues: a variable whose name says secret (password, key,
// token, a URL with credentials) gets its value from the environment: with
// the environment set, it carries the environment's value.
func TestNoSecretValues(t *testing.T) {
	secretName := regexp.MustCompile(`PASSWORD|SECRET|TOKEN|_KEY$|MASTER_KEY|DATABASE_URL`)
	p := load(t, sentinels, "monolith", "split", "observability")
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if v == nil || *v == "" || !secretName.MatchString(k) {
				continue
			}
			ok := false
			for _, s := range sentinels {
				ok = ok || strings.Contains(*v, s)
			}
			if !ok {
				t.Errorf("service %s: %s is written in compose.yaml; take it from the environment (${VAR:-dev default})", name, k)
			}
		}
	}
}

// TestObservabilityConfigs: the observability profile mounts the files of
// deploy/observability/, and they exist.
func TestObservabilityConfigs(t *testing.T) {
	root, _ := composeFile(t)
	obs := filepath.Join(root, "deploy", "observability")
	p := load(t, nil, "observability")
	for name, s := range p.Services {
		mounted := false
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s: %v", name, v.Source, err)
			}
			if rel, err := filepath.Rel(obs, v.Source); err == nil && !strings.HasPrefix(rel, "..") {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("service %s mounts nothing of deploy/observability/", name)
		}
	}
}
