package dockerfile

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"

	"github.com/opencommerce/commerce/deploy/check/internal/binvars"
)

// offlineImages answers every base image with an empty linux/amd64 image
// configuration, so the lint runs the whole frontend without a registry.
type offlineImages struct{ asked []string }

// ResolveImageConfig records the image and answers an empty configuration.
func (o *offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	o.asked = append(o.asked, ref)
	cfg, err := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{}})
	return ref, digest.FromBytes(cfg), cfg, err
}

func read(t *testing.T) (root string, dt []byte) {
	t.Helper()
	root, err := binvars.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dt, err = os.ReadFile(filepath.Join(root, "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return root, dt
}

// TestLint: buildkit's lint (`docker build --check`) finds no warning and
// no error in the Dockerfile, with every stage checked and the
// experimental rules on too.
func TestLint(t *testing.T) {
	root, _ := read(t)
	for _, f := range []string{"deploy/docker/Dockerfile", "deploy/tilt/Dockerfile"} {
		t.Run(f, func(t *testing.T) {
			dt, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
			if err != nil {
				t.Fatal(err)
			}
			lint(t, dt)
		})
	}
}

func lint(t *testing.T, dt []byte) {
	// The check directive turns the experimental rules on, as a
	// `# check=experimental=all` line at the top of the file would.
	dt = append([]byte("# check=experimental=all\n"), dt...)
	images := &offlineImages{}
	src := llb.Scratch()
	def, err := src.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	smap := llb.NewSourceMap(&src, "Dockerfile", "Dockerfile", dt)
	smap.Definition = def
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildArgs: map[string]string{"VERSION": "v0.0.0-check"},
		},
		SourceMap:    smap,
		MetaResolver: images,
	})
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	if res.Error != nil {
		t.Errorf("the Dockerfile does not build: %s", res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := int32(0)
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line - 1 // the check directive added above
		}
		t.Errorf("Dockerfile:%d: %s: %s (%s)", line, w.RuleName, w.Detail, w.URL)
	}
	if len(images.asked) == 0 {
		t.Errorf("the lint resolved only %v: were the stages checked?", images.asked)
	}
}

// stages parses the Dockerfile into its stages, as the frontend does.
func stages(t *testing.T, dt []byte) ([]instructions.Stage, []instructions.ArgCommand) {
	t.Helper()
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	st, args, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	return st, args
}

// TestRules: the project's own rules for the image.
func TestRules(t *testing.T) {
	_, dt := read(t)
	st, meta := stages(t, dt)
	if len(st) < 3 {
		t.Fatalf("%d stages; want the web build, the Go build and the runtime", len(st))
	}
	secret := regexp.MustCompile(`(?i)pass|secret|token|key|credential|dsn|database_url|redis_url|smtp_url`)
	checkName := func(kind, name string) {
		if secret.MatchString(name) {
			t.Errorf("%s %s looks secret: an image must not carry secrets (pass them at run time)", kind, name)
		}
	}
	for _, a := range meta {
		for _, kv := range a.Args {
			checkName("ARG", kv.Key)
		}
	}
	var trimpath, versionArg, npmCI, static bool
	var froms []string
	for _, s := range st {
		froms = append(froms, s.BaseName)
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					checkName("ARG", kv.Key)
					versionArg = versionArg || kv.Key == "VERSION"
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					checkName("ENV", kv.Key)
				}
			case *instructions.RunCommand:
				cmd := strings.Join(c.CmdLine, " ")
				if strings.Contains(cmd, "go build") {
					trimpath = strings.Contains(cmd, "-trimpath")
					static = strings.Contains(cmd, "CGO_ENABLED=0")
					if !strings.Contains(cmd, "-X main.version=${VERSION}") {
						t.Errorf("the go build does not stamp the version (-ldflags \"-X main.version=${VERSION}\"): %s", cmd)
					}
				}
				npmCI = npmCI || strings.Contains(cmd, "npm ci")
			}
		}
	}
	if !trimpath || !static || !versionArg {
		t.Errorf("the Go build must be static (CGO_ENABLED=0) with -trimpath and an ARG VERSION: static %v, trimpath %v, ARG VERSION %v", static, trimpath, versionArg)
	}
	if !npmCI {
		t.Error("the web build must install from the lock file (npm ci)")
	}
	if !slices.ContainsFunc(froms, func(f string) bool { return strings.HasPrefix(f, "node:${NODE_VERSION}") }) ||
		!slices.ContainsFunc(froms, func(f string) bool { return strings.HasPrefix(f, "golang:${GO_VERSION}") }) {
		t.Errorf("stages from %v; want a node and a golang stage with pinned versions", froms)
	}
	for _, a := range meta {
		for _, kv := range a.Args {
			if (kv.Key == "NODE_VERSION" || kv.Key == "GO_VERSION") && (kv.Value == nil || *kv.Value == "" || *kv.Value == "latest") {
				t.Errorf("ARG %s has no pinned default", kv.Key)
			}
		}
	}

	final := st[len(st)-1]
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/") && final.BaseName != "scratch" {
		t.Errorf("the runtime stage is FROM %s; want distroless or scratch", final.BaseName)
	}
	var user string
	var exposed []string
	var health, entry, cmdServe bool
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.HealthCheckCommand:
			health = c.Health != nil && len(c.Health.Test) > 1 && c.Health.Test[0] != "NONE"
			if health && !slices.Contains(c.Health.Test, "/commerce") {
				t.Errorf("HEALTHCHECK runs %v; the runtime has no shell or curl, use /commerce healthcheck", c.Health.Test)
			}
		case *instructions.EntrypointCommand:
			entry = !c.PrependShell && slices.Equal(c.CmdLine, []string{"/commerce"})
		case *instructions.CmdCommand:
			cmdServe = !c.PrependShell && slices.Equal(c.CmdLine, []string{"serve"})
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == "DATA_DIR" && !strings.HasPrefix(kv.Value, "/") {
					t.Errorf("DATA_DIR=%s: give the runtime an absolute, writable data directory", kv.Value)
				}
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "root" || uid == "0" {
		t.Errorf("the runtime runs as %q; want a non-root USER", user)
	}
	if !slices.Contains(exposed, "8080") || !slices.Contains(exposed, "9090") {
		t.Errorf("the runtime exposes %v; want 8080 (HTTP) and 9090 (gRPC)", exposed)
	}
	if !health {
		t.Error("the runtime has no HEALTHCHECK")
	}
	if !entry || !cmdServe {
		t.Error(`want ENTRYPOINT ["/commerce"] and CMD ["serve"] (exec form)`)
	}
}

// TestDockerignore: the build context leaves out the repository's history,
// local builds and dependencies, and keeps every file the build needs
// (the sources git tracks under cmd/, internal/, api/, migrations/ and
// web/, go.mod, go.sum, the web lock file).
func TestDockerignore(t *testing.T) {
	root, _ := read(t)
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(p string) bool {
		ok, err := pm.MatchesOrParentMatches(p)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if excluded("bin/commerce-linux") {
		t.Error(".dockerignore leaves out bin/commerce-linux, which the Tiltfile's image copies")
	}
	for _, p := range []string{".git", ".git/config", "bin/commerce", "web/node_modules/react/index.js", "web/dist/index.html", ".commerce/jwt_rs256.pem", "test/browser/out/shot.png", "deploy/compose/.env"} {
		if !excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "go.mod", "go.sum", "cmd", "internal", "api", "migrations", "web").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	files := strings.Fields(string(out))
	if len(files) < 50 {
		t.Fatalf("git ls-files found only %d source files", len(files))
	}
	for _, p := range files {
		if strings.HasPrefix(p, "web/dist/") {
			continue // the build's own output, rebuilt in the image
		}
		if excluded(p) {
			t.Errorf(".dockerignore leaves %s out of the build context; the build needs it", p)
		}
	}
}
