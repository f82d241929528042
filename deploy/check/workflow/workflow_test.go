package workflow

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/opencommerce/commerce/deploy/check/internal/binvars"
)

func workflowFile(t *testing.T) (root, file string) {
	t.Helper()
	root, err := binvars.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root, filepath.Join(root, ".github", "workflows", "ci.yml")
}

// actionlint finds the binary on PATH or in GOPATH/bin (where .ci/run's
// go install puts it).
func actionlint() (string, bool) {
	if p, err := exec.LookPath("actionlint"); err == nil {
		return p, true
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", false
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(dir, "bin", "actionlint")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// TestActionlint: actionlint reports nothing on the workflow. Without the
// binary the test skips, except under CI=true, where .ci/run installs it.
func TestActionlint(t *testing.T) {
	root, file := workflowFile(t)
	bin, ok := actionlint()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("actionlint is required under CI=true (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12; .ci/run does it)")
		}
		t.Skip("actionlint not installed (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12): skipped")
	}
	cmd := exec.Command(bin, "-no-color", file)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

// workflow is the part of a GitHub Actions workflow the rules read.
type workflow struct {
	On          any               `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Needs       any               `yaml:"needs"`
		Permissions map[string]string `yaml:"permissions"`
		Services    map[string]struct {
			Image   string `yaml:"image"`
			Options string `yaml:"options"`
		} `yaml:"services"`
		Steps []struct {
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
			If   string         `yaml:"if"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestJobs: the jobs the project relies on, with what each must do.
func TestJobs(t *testing.T) {
	_, file := workflowFile(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("ci.yml: %v", err)
	}
	if w.Permissions["contents"] != "read" || len(w.Permissions) != 1 {
		t.Errorf("the workflow's default permissions are %v; want contents: read only", w.Permissions)
	}
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$`)
	runs := func(job string) string {
		var all []string
		for _, s := range w.Jobs[job].Steps {
			all = append(all, s.Run)
		}
		return strings.Join(all, "\n")
	}
	uses := func(job, action string) bool {
		for _, s := range w.Jobs[job].Steps {
			if strings.HasPrefix(s.Uses, action+"@") {
				return true
			}
		}
		return false
	}
	for name, j := range w.Jobs {
		for _, s := range j.Steps {
			if s.Uses != "" && !pinned.MatchString(s.Uses) {
				t.Errorf("job %s uses %q: pin a version (owner/action@vN or a commit)", name, s.Uses)
			}
		}
	}
	if !strings.Contains(runs("vet"), "go vet ./...") {
		t.Error("job vet does not run go vet ./...")
	}

	test := w.Jobs["test"]
	for svc, probe := range map[string]string{"postgres": "pg_isready", "redis": "redis-cli ping"} {
		s, ok := test.Services[svc]
		if !ok {
			t.Errorf("job test has no %s service container", svc)
			continue
		}
		if !strings.Contains(s.Options, "--health-cmd") || !strings.Contains(s.Options, probe) {
			t.Errorf("service %s of job test has no health check (%s): %q", svc, probe, s.Options)
		}
	}
	if !uses("test", "actions/setup-go") || !uses("test", "actions/setup-node") {
		t.Error("job test must set up Go and Node")
	}
	for _, s := range test.Steps {
		if strings.HasPrefix(s.Uses, "actions/setup-node@") && s.With["node-version"] != 20 && s.With["node-version"] != "20" {
			t.Errorf("job test sets up Node %v; the project uses 20", s.With["node-version"])
		}
	}
	if !strings.Contains(runs("test"), ".ci/run") && !strings.Contains(runs("test"), "make test") {
		t.Error("job test runs neither .ci/run nor make test")
	}

	img := w.Jobs["image"]
	if img.Permissions["packages"] != "write" {
		t.Error("job image needs permissions packages: write to push to the registry")
	}
	pushes := false
	for _, s := range img.Steps {
		if !strings.HasPrefix(s.Uses, "docker/build-push-action@") {
			continue
		}
		pushes = true
		if s.With["file"] != "deploy/docker/Dockerfile" {
			t.Errorf("the image is built from %v; want deploy/docker/Dockerfile", s.With["file"])
		}
		if push, _ := s.With["push"].(string); !strings.Contains(push, "refs/heads/main") {
			t.Errorf("the image is pushed on %q; push from main only", push)
		}
		if args, _ := s.With["build-args"].(string); !strings.Contains(args, "VERSION=") {
			t.Error("the image build does not pass VERSION")
		}
	}
	if !pushes {
		t.Error("job image does not use docker/build-push-action")
	}
	if !strings.Contains(runs("deploy-check"), "make deploy-check") {
		t.Error("job deploy-check does not run make deploy-check")
	}
}
