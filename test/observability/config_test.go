package observability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtool validates the alert rules, runs their unit tests, validates
// prometheus.yml, and parses every dashboard expression (as a recording
// rule of a scratch rules file: promtool has no bare query check).
func TestPromtool(t *testing.T) {
	promtool := need(t, "promtool")
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	rules, _ := filepath.Glob(filepath.Join(dir, "prometheus", "rules", "*.rules.yml"))
	if len(rules) == 0 {
		t.Fatal("no rule files")
	}
	run(append([]string{"check", "rules"}, rules...)...)
	tests, _ := filepath.Glob(filepath.Join(dir, "prometheus", "rules", "*.test.yml"))
	if len(tests) == 0 {
		t.Fatal("no rule unit tests")
	}
	run(append([]string{"test", "rules"}, tests...)...)
	run("check", "config", filepath.Join(dir, "prometheus", "prometheus.yml"))

	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	var keys []string
	all := map[string]string{}
	for _, d := range dashboards(t) {
		for k, e := range d.exprs() {
			all[k] = e
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		q, _ := yaml.Marshal(grafanaVars(all[k]))
		fmt.Fprintf(&b, "      - record: dashboard:expr_%d\n        expr: %s", i, strings.ReplaceAll(strings.TrimSpace(string(q)), "\n", "\n          ")+"\n")
	}
	scratch := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	if err := os.WriteFile(scratch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", scratch).CombinedOutput(); err != nil {
		t.Fatalf("a dashboard expression does not parse: %v\n%s\n(expressions in order: %s)", err, out, strings.Join(keys, "; "))
	}
}

// Every YAML file of deploy/observability parses, and the keys the stack
// relies on are there.
func TestYAMLConfigsParse(t *testing.T) {
	var files []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 7 {
		t.Fatalf("YAML files: %v %v", files, err)
	}
	docs := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		rel, _ := filepath.Rel(dir, f)
		docs[filepath.ToSlash(rel)] = doc
	}
	has := func(file string, path ...string) {
		t.Helper()
		var v any = docs[file]
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s: no %s", file, strings.Join(path, "."))
				return
			}
			v = m[k]
		}
		if v == nil {
			t.Errorf("%s: no %s", file, strings.Join(path, "."))
		}
	}
	has("loki/loki.yml", "schema_config", "configs")
	has("loki/loki.yml", "limits_config", "allow_structured_metadata")
	has("tempo/tempo.yml", "distributor", "receivers", "otlp", "protocols", "grpc")
	has("tempo/tempo.yml", "storage", "trace", "backend")
	has("grafana/provisioning/datasources/datasources.yml", "datasources")
	has("grafana/provisioning/dashboards/dashboards.yml", "providers")
	has("docker-compose.yml", "services", "prometheus")
	has("docker-compose.yml", "services", "grafana", "volumes")

	// The data sources the dashboards and links use exist, by uid.
	uids := map[string]bool{}
	for _, ds := range docs["grafana/provisioning/datasources/datasources.yml"]["datasources"].([]any) {
		uids[ds.(map[string]any)["uid"].(string)] = true
	}
	for _, u := range []string{"prometheus", "tempo", "loki"} {
		if !uids[u] {
			t.Errorf("no data source with uid %s", u)
		}
	}
	// The compose file mounts what exists.
	for name, svc := range docs["docker-compose.yml"]["services"].(map[string]any) {
		vols, _ := svc.(map[string]any)["volumes"].([]any)
		for _, v := range vols {
			src := strings.SplitN(v.(string), ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("compose service %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
}

var (
	alloyBlock = regexp.MustCompile(`(?m)^([a-z_]+(?:\.[a-z_]+)+)\s+"([a-z_]+)"\s*\{`)
	alloyRef   = regexp.MustCompile(`\b((?:otelcol|loki|prometheus)(?:\.[a-z_]+)+)\.([a-z_]+)\.(input|receiver)\b`)
)

// The Alloy configuration is River, not YAML: without the alloy binary,
// check that braces balance and every component an output forwards to is
// declared, and that the OTLP receiver feeds traces, logs and metrics.
func TestAlloyConfig(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dir, "alloy", "*.alloy"))
	if len(files) < 2 {
		t.Fatalf("alloy files: %v", files)
	}
	declared := map[string]bool{}
	var text strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := regexp.MustCompile(`(?m)//.*$`).ReplaceAllString(string(b), "")
		src = strLit.ReplaceAllString(src, `""`)
		if strings.Count(src, "{") != strings.Count(src, "}") || strings.Count(src, "[") != strings.Count(src, "]") {
			t.Errorf("%s: unbalanced braces or brackets", f)
		}
		for _, m := range alloyBlock.FindAllStringSubmatch(string(b), -1) {
			declared[m[1]+"."+m[2]] = true
		}
		text.Write(b)
	}
	refs := alloyRef.FindAllStringSubmatch(text.String(), -1)
	if len(refs) < 6 {
		t.Fatalf("only %d component references", len(refs))
	}
	for _, m := range refs {
		if !declared[m[1]+"."+m[2]] {
			t.Errorf("%s.%s.%s is not declared", m[1], m[2], m[3])
		}
	}
	for _, want := range []string{"otelcol.receiver.otlp.default", "otelcol.exporter.otlp.tempo", "loki.write.default",
		"prometheus.remote_write.default", "prometheus.scrape.commerce"} {
		if !declared[want] {
			t.Errorf("no %s", want)
		}
	}
	for _, sig := range []string{"metrics", "logs", "traces"} {
		if !regexp.MustCompile(`(?s)otelcol\.receiver\.otlp "default".*output \{[^}]*` + sig + `\s*=`).MatchString(text.String()) {
			t.Errorf("the OTLP receiver does not forward %s", sig)
		}
	}
}

// Dashboards: unique uids, a title, panels with ids unique per dashboard,
// every query target has an expression on the templated data source.
func TestDashboardsAreWellFormed(t *testing.T) {
	seen := map[string]string{}
	want := map[string]bool{"commerce-overview": false, "commerce-contexts": false, "commerce-events": false, "commerce-realtime": false}
	for _, d := range dashboards(t) {
		if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
			t.Errorf("%s: uid %q title %q, %d panels", d.file, d.UID, d.Title, len(d.Panels))
		}
		if f, dup := seen[d.UID]; dup {
			t.Errorf("uid %s in %s and %s", d.UID, f, d.file)
		}
		seen[d.UID] = d.file
		if _, ok := want[d.UID]; ok {
			want[d.UID] = true
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d twice", d.file, p.ID)
			}
			ids[p.ID] = true
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", d.file, p.Title)
			}
		}
		for k, e := range d.exprs() {
			if strings.TrimSpace(e) == "" {
				t.Errorf("%s: empty expression", k)
			}
		}
	}
	for uid, ok := range want {
		if !ok {
			t.Errorf("no dashboard %s", uid)
		}
	}
}
