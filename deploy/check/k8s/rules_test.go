package k8s

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	dev  = "deploy/k8s/overlays/dev"
	prod = "deploy/k8s/overlays/prod"
)

// podSpecs returns the pod spec of every Deployment and Job, keyed by
// "Kind/name".
func podSpecs(objs []Object) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		if o.Kind() == "Deployment" || o.Kind() == "Job" {
			if s, ok := dig(o.Map, "spec", "template", "spec").(map[string]any); ok {
				out[o.Kind()+"/"+o.Name()] = s
			}
		}
	}
	return out
}

// configMaps returns each ConfigMap's data by name.
func configMaps(objs []Object) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		if o.Kind() == "ConfigMap" {
			d, _ := o.Map["data"].(map[string]any)
			out[o.Name()] = d
		}
	}
	return out
}

// environment is what a container's process sees: its envFrom ConfigMaps'
// keys, then its env (value, or "<secret>" for a reference).
func environment(t *testing.T, c map[string]any, cms map[string]map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range list(c, "envFrom") {
		name := str(ef.(map[string]any), "configMapRef", "name")
		if name == "" {
			t.Errorf("container %s: envFrom other than a ConfigMap: %v", str(c, "name"), ef)
			continue
		}
		data, ok := cms[name]
		if !ok {
			t.Errorf("container %s: envFrom names ConfigMap %s, which is not rendered", str(c, "name"), name)
		}
		for k, v := range data {
			env[k], _ = v.(string)
		}
	}
	for _, e := range list(c, "env") {
		m := e.(map[string]any)
		if dig(m, "valueFrom") != nil {
			env[str(m, "name")] = "<ref>"
		} else {
			env[str(m, "name")] = str(m, "value")
		}
	}
	return env
}

// TestEveryVariableIsKnown: every variable a container of dev or prod sets
// (env and envFrom) is a configuration variable of the binary, so a typo
// or a removed variable does not pass silently.
func TestEveryVariableIsKnown(t *testing.T) {
	known := knownVariables(t)
	for _, k := range []string{dev, prod} {
		objs := objects(t, k)
		cms := configMaps(objs)
		for name, spec := range podSpecs(objs) {
			for _, c := range list(spec, "containers") {
				for v := range environment(t, c.(map[string]any), cms) {
					if !known[v] {
						t.Errorf("%s: %s sets %s, which commerce serve --help does not list", k, name, v)
					}
				}
			}
		}
	}
}

// hosted returns, per context, the prod Deployments hosting it (CONTEXTS;
// unset or "all" hosts every context).
func hosted(t *testing.T, objs []Object, all []string) map[string][]string {
	t.Helper()
	cms := configMaps(objs)
	out := map[string][]string{}
	for name, spec := range podSpecs(objs) {
		if !strings.HasPrefix(name, "Deployment/") {
			continue
		}
		for _, c := range list(spec, "containers") {
			env := environment(t, c.(map[string]any), cms)
			v, ok := env["CONTEXTS"]
			if !ok || v == "all" {
				v = strings.Join(all, ",")
			}
			for _, ctx := range strings.Split(v, ",") {
				out[strings.TrimSpace(ctx)] = append(out[strings.TrimSpace(ctx)], name)
			}
		}
	}
	return out
}

// TestEveryContextRunsInProd: prod is split, and every context of the
// binary is hosted by a Deployment, as is the gateway; the dev monolith
// hosts them all in one.
func TestEveryContextRunsInProd(t *testing.T) {
	all := contexts(t)
	h := hosted(t, objects(t, prod), all)
	for _, c := range append(slices.Clone(all), "gateway") {
		if len(h[c]) == 0 {
			t.Errorf("prod: no Deployment hosts %s", c)
		}
	}
	if len(h["gateway"]) > 0 && len(h["auth"]) > 0 && h["gateway"][0] == h["auth"][0] {
		t.Errorf("prod: the gateway shares a Deployment with the contexts")
	}
	d := hosted(t, objects(t, dev), all)
	for _, c := range all {
		if len(d[c]) != 1 || d[c][0] != d[all[0]][0] {
			t.Errorf("dev: %s is hosted by %v; the monolith should host every context", c, d[c])
		}
	}
}

// TestGatewayUpstreamsNameServices: the gateway has an upstream for every
// context, on a Service of the render that fronts a Deployment hosting it.
func TestGatewayUpstreamsNameServices(t *testing.T) {
	all := contexts(t)
	objs := objects(t, prod)
	cms := configMaps(objs)
	services := map[string]bool{}
	for _, o := range objs {
		if o.Kind() == "Service" {
			services[o.Name()] = true
		}
	}
	found := false
	for name, spec := range podSpecs(objs) {
		for _, c := range list(spec, "containers") {
			env := environment(t, c.(map[string]any), cms)
			if env["CONTEXTS"] != "gateway" {
				continue
			}
			found = true
			ups := map[string]string{}
			for _, kv := range strings.Split(env["GATEWAY_UPSTREAMS"], ",") {
				k, v, _ := strings.Cut(kv, "=")
				ups[k] = v
			}
			for _, ctx := range all {
				m := regexp.MustCompile(`^http://([a-z0-9-]+):8080$`).FindStringSubmatch(ups[ctx])
				if m == nil || !services[m[1]] {
					t.Errorf("%s: GATEWAY_UPSTREAMS %s=%q is not http://<rendered Service>:8080", name, ctx, ups[ctx])
				}
			}
		}
	}
	if !found {
		t.Error("prod: no gateway Deployment")
	}
}

// TestEveryRouteIsRouted: each line of `commerce gateway routes` has an
// HTTPRoute rule (in the HTTPRoute labelled with its owner context) whose
// path match is that prefix (or, for the order fulfillment pattern, a
// regular expression matching it), sending it to the edge Service; the
// streams have rules without timeouts.
func TestEveryRouteIsRouted(t *testing.T) {
	out, _, err := commerce(t, nil, "gateway", "routes")
	if err != nil {
		t.Fatalf("commerce gateway routes: %v", err)
	}
	for _, k := range []string{dev, prod} {
		objs := objects(t, k)
		type rule struct {
			context string
			rule    map[string]any
		}
		var rules []rule
		for _, o := range objs {
			if o.Kind() == "HTTPRoute" {
				for _, r := range list(o.Map, "spec", "rules") {
					rules = append(rules, rule{str(o.Map, "metadata", "labels", "commerce.opencommerce.dev/context"), r.(map[string]any)})
				}
			}
		}
		toEdge := func(r map[string]any) bool {
			refs := list(r, "backendRefs")
			for _, b := range refs {
				if str(b.(map[string]any), "name") != "commerce-edge" {
					return false
				}
			}
			return len(refs) > 0
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, line := range lines {
			prefix, ctx, _ := strings.Cut(line, " ")
			sample := strings.ReplaceAll(prefix, "*", "ord_1")
			ok := false
			for _, r := range rules {
				if r.context != ctx || !toEdge(r.rule) {
					continue
				}
				for _, m := range list(r.rule, "matches") {
					typ, val := str(m.(map[string]any), "path", "type"), str(m.(map[string]any), "path", "value")
					if (typ == "PathPrefix" && val == prefix) ||
						(typ == "RegularExpression" && strings.Contains(prefix, "*") && regexp.MustCompile(val).MatchString(sample)) {
						ok = true
					}
				}
			}
			if !ok {
				t.Errorf("%s: no HTTPRoute rule of context %s routes %s to commerce-edge", k, ctx, prefix)
			}
		}
		for _, stream := range []string{"/api/v1/notifications/stream", "/api/v1/admin/stream", "/api/v1/chat/ws"} {
			ok := false
			for _, r := range rules {
				for _, m := range list(r.rule, "matches") {
					if str(m.(map[string]any), "path", "value") == stream && str(r.rule, "timeouts", "request") == "0s" && toEdge(r.rule) {
						ok = true
					}
				}
			}
			if !ok {
				t.Errorf("%s: the stream %s has no rule without a request timeout (timeouts.request: 0s)", k, stream)
			}
		}
	}
}

// podProblems lists what a pod spec lacks of the rules every workload
// follows: probes (Deployments), resources, the security context.
func podProblems(kind string, spec map[string]any) []string {
	var p []string
	if dig(spec, "securityContext", "runAsNonRoot") != true {
		p = append(p, "securityContext.runAsNonRoot is not true")
	}
	if str(spec, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
		p = append(p, "securityContext.seccompProfile.type is not RuntimeDefault")
	}
	for _, c := range list(spec, "containers") {
		cm := c.(map[string]any)
		n := str(cm, "name")
		if kind == "Deployment" {
			for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				if dig(cm, probe) == nil {
					p = append(p, n+": no "+probe)
				}
			}
			if str(cm, "readinessProbe", "httpGet", "path") != "/readyz" || str(cm, "livenessProbe", "httpGet", "path") != "/healthz" {
				p = append(p, n+": readiness must probe /readyz and liveness /healthz")
			}
		}
		for _, kind := range []string{"requests", "limits"} {
			for _, r := range []string{"cpu", "memory"} {
				if dig(cm, "resources", kind, r) == nil {
					p = append(p, n+": no resources."+kind+"."+r)
				}
			}
		}
		sc := dig(cm, "securityContext")
		if dig(sc, "allowPrivilegeEscalation") != false {
			p = append(p, n+": allowPrivilegeEscalation is not false")
		}
		if dig(sc, "readOnlyRootFilesystem") != true {
			p = append(p, n+": readOnlyRootFilesystem is not true")
		}
		if drop := list(sc, "capabilities", "drop"); !slices.Contains(drop, any("ALL")) {
			p = append(p, n+": capabilities.drop lacks ALL")
		}
	}
	return p
}

// TestWorkloadsAreHardened: every Deployment and Job of dev and prod has
// probes (Deployments), requests and limits, and the security context.
func TestWorkloadsAreHardened(t *testing.T) {
	for _, k := range []string{dev, prod} {
		specs := podSpecs(objects(t, k))
		if len(specs) < 2 {
			t.Fatalf("%s: only %d workloads", k, len(specs))
		}
		for name, spec := range specs {
			for _, p := range podProblems(strings.Split(name, "/")[0], spec) {
				t.Errorf("%s: %s: %s", k, name, p)
			}
		}
	}
}

// TestHardeningRuleBites: a bare Deployment breaks every rule.
func TestHardeningRuleBites(t *testing.T) {
	bare := map[string]any{"containers": []any{map[string]any{"name": "c", "image": "commerce"}}}
	if p := podProblems("Deployment", bare); len(p) < 10 {
		t.Errorf("a bare pod spec breaks only %d rules: %v\n%s", len(p), p, toYAML(bare))
	}
}

// TestEveryTopicHasAKafkaTopic: prod declares a KafkaTopic (spec.topicName)
// for each line of `commerce events topics`, and no other, since the
// brokers do not create topics.
func TestEveryTopicHasAKafkaTopic(t *testing.T) {
	out, _, err := commerce(t, nil, "events", "topics")
	if err != nil {
		t.Fatalf("commerce events topics: %v", err)
	}
	want := strings.Fields(out)
	if len(want) == 0 {
		t.Fatal("commerce events topics printed nothing")
	}
	declared := map[string]bool{}
	for _, o := range objects(t, prod) {
		if o.Kind() == "KafkaTopic" {
			declared[str(o.Map, "spec", "topicName")] = true
			if str(o.Map, "metadata", "labels", "strimzi.io/cluster") == "" {
				t.Errorf("KafkaTopic %s names no strimzi.io/cluster", o.Name())
			}
		}
	}
	for _, topic := range want {
		if !declared[topic] {
			t.Errorf("prod: no KafkaTopic has topicName %s", topic)
		}
		delete(declared, topic)
	}
	for topic := range declared {
		t.Errorf("prod: KafkaTopic %s is not a topic the binary publishes", topic)
	}
}

// TestMigrationsRunOnce: every workload of prod (and dev) sets
// MIGRATE_ON_START=false and a Job runs `migrate up`.
func TestMigrationsRunOnce(t *testing.T) {
	for _, k := range []string{dev, prod} {
		objs := objects(t, k)
		cms := configMaps(objs)
		job := false
		for name, spec := range podSpecs(objs) {
			for _, c := range list(spec, "containers") {
				cm := c.(map[string]any)
				if strings.HasPrefix(name, "Job/") {
					args := list(cm, "args")
					if len(args) == 2 && args[0] == "migrate" && args[1] == "up" {
						job = true
					}
					continue
				}
				if v := environment(t, cm, cms)["MIGRATE_ON_START"]; v != "false" {
					t.Errorf("%s: %s: MIGRATE_ON_START=%q, want false", k, name, v)
				}
			}
		}
		if !job {
			t.Errorf("%s: no Job runs migrate up", k)
		}
	}
}

// TestNoSecretValues: no render carries a Secret with data; the Secrets
// are created outside the repository (docs/kubernetes.md lists them).
func TestNoSecretValues(t *testing.T) {
	for _, k := range Kustomizations {
		for _, o := range objects(t, k) {
			if o.Kind() == "Secret" && (o.Map["data"] != nil || o.Map["stringData"] != nil) {
				t.Errorf("%s: Secret %s carries values", k, o.Name())
			}
		}
	}
}

// TestSyncWaves: ArgoCD applies infrastructure first, then the migration,
// then the workloads: every object of prod has a sync wave, the operators'
// resources below the Job's and the Job's below the Deployments'.
func TestSyncWaves(t *testing.T) {
	wave := func(o Object) string {
		return str(o.Map, "metadata", "annotations", "argocd.argoproj.io/sync-wave")
	}
	order := map[string]int{"-2": 0, "-1": 1, "0": 2, "1": 3}
	for _, o := range objects(t, prod) {
		w, ok := order[wave(o)]
		if !ok {
			t.Errorf("%s %s: sync wave %q, want -2, -1, 0 or 1", o.Kind(), o.Name(), wave(o))
			continue
		}
		switch o.Kind() {
		case "Cluster", "Kafka", "KafkaNodePool", "Redis":
			if w != 0 {
				t.Errorf("%s %s: infrastructure belongs in wave -2", o.Kind(), o.Name())
			}
		case "Job":
			if w != 2 {
				t.Errorf("%s %s: the migration belongs in wave 0", o.Kind(), o.Name())
			}
		case "Deployment", "HorizontalPodAutoscaler", "HTTPRoute":
			if w != 3 {
				t.Errorf("%s %s: workloads belong in wave 1", o.Kind(), o.Name())
			}
		}
	}
}
