package terraform

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"

	"github.com/opencommerce/commerce/deploy/check/internal/binvars"
)

// wantModules are the modules issue 18 asks for, and the environment.
var wantModules = []string{"modules/network", "modules/gke", "modules/operators", "environments/prod"}

func tfRoot(t *testing.T) string {
	t.Helper()
	root, err := binvars.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "deploy", "terraform")
}

// modules returns every directory under deploy/terraform holding .tf
// files, relative to it.
func modules(t *testing.T, dir string) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".tf") {
			rel, _ := filepath.Rel(dir, filepath.Dir(p))
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// TestModules: terraform-config-inspect reads every module without an
// error; variables have a type and a description, outputs a description,
// required providers a source and a version constraint, and a module call
// points at a module of the tree and sets only variables it declares
// (and every one it requires).
func TestModules(t *testing.T) {
	dir := tfRoot(t)
	mods := modules(t, dir)
	for _, w := range wantModules {
		if !slices.Contains(mods, w) {
			t.Errorf("deploy/terraform/%s is missing", w)
		}
	}
	loaded := map[string]*tfconfig.Module{}
	for _, m := range mods {
		mod, diags := tfconfig.LoadModule(filepath.Join(dir, filepath.FromSlash(m)))
		if diags.HasErrors() {
			t.Errorf("%s: %v", m, diags.Err())
			continue
		}
		for _, d := range diags {
			t.Errorf("%s: %s: %s", m, d.Summary, d.Detail)
		}
		loaded[m] = mod
		if len(mod.RequiredCore) == 0 {
			t.Errorf("%s: no required_version for terraform", m)
		}
		for name, v := range mod.Variables {
			if v.Type == "" {
				t.Errorf("%s: variable %s has no type", m, name)
			}
			if strings.TrimSpace(v.Description) == "" {
				t.Errorf("%s: variable %s has no description", m, name)
			}
		}
		for name, o := range mod.Outputs {
			if strings.TrimSpace(o.Description) == "" {
				t.Errorf("%s: output %s has no description", m, name)
			}
		}
		for name, p := range mod.RequiredProviders {
			if p.Source == "" {
				t.Errorf("%s: provider %s has no source", m, name)
			}
			if len(p.VersionConstraints) == 0 {
				t.Errorf("%s: provider %s has no version constraint", m, name)
			}
		}
		// A provider used by a resource must be declared (and so pinned).
		for _, r := range mod.ManagedResources {
			if _, ok := mod.RequiredProviders[r.Provider.Name]; !ok {
				t.Errorf("%s: resource %s.%s uses provider %s, which required_providers does not pin", m, r.Type, r.Name, r.Provider.Name)
			}
		}
		for _, r := range mod.DataResources {
			if _, ok := mod.RequiredProviders[r.Provider.Name]; !ok {
				t.Errorf("%s: data %s.%s uses provider %s, which required_providers does not pin", m, r.Type, r.Name, r.Provider.Name)
			}
		}
	}
	for m, mod := range loaded {
		for name, call := range mod.ModuleCalls {
			target := filepath.ToSlash(filepath.Clean(filepath.Join(m, call.Source)))
			if _, ok := loaded[target]; !ok {
				t.Errorf("%s: module %s uses %s, which is not a module of deploy/terraform", m, name, call.Source)
				continue
			}
			if call.Version != "" {
				t.Errorf("%s: module %s is local; a version means nothing", m, name)
			}
		}
	}
}

// TestModuleArguments: the environment sets only variables a module
// declares and every variable without a default. terraform-config-inspect
// does not expose a call's arguments, so they are read from the HCL of
// the environment with the same parser it uses.
func TestModuleArguments(t *testing.T) {
	dir := tfRoot(t)
	env := filepath.Join(dir, "environments", "prod")
	args, err := moduleArguments(env)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range args {
		callee, diags := tfconfig.LoadModule(filepath.Join(env, a.source))
		if diags.HasErrors() {
			t.Errorf("module %s: %v", name, diags.Err())
			continue
		}
		for _, k := range a.keys {
			if _, ok := callee.Variables[k]; !ok {
				t.Errorf("environments/prod: module %s sets %s, which %s does not declare", name, k, a.source)
			}
		}
		for vn, v := range callee.Variables {
			if v.Required && !slices.Contains(a.keys, vn) {
				t.Errorf("environments/prod: module %s leaves out %s, which %s requires", name, vn, a.source)
			}
		}
	}
	for _, want := range []string{"network", "gke", "operators"} {
		if _, ok := args[want]; !ok {
			t.Errorf("environments/prod does not use module %s", want)
		}
	}
}

// TestFmt: `terraform fmt -check -recursive` passes, when the binary is
// on the machine (it is not required: the issue asks for it where present).
func TestFmt(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not installed: fmt not checked")
	}
	cmd := exec.Command(bin, "fmt", "-check", "-recursive", "-diff", tfRoot(t))
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=", "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("terraform fmt -check: %v (run terraform fmt -recursive deploy/terraform)\n%s", err, out)
	}
}
