// Package binvars finds the repository the deployment artifacts belong to
// and asks the commerce binary built from it which configuration variables
// it knows, so that a deployment file setting a variable the binary would
// silently ignore (a typo, a removed setting) fails the checks instead of
// a production start.
package binvars

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Module is the module path of the shop, whose go.mod marks the root.
const Module = "github.com/opencommerce/commerce"

// RepoRoot returns the repository root: the nearest directory above the
// working directory whose go.mod declares the shop's module (deploy/check
// has a go.mod of its own, which is skipped).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+Module+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of " + Module + ") not found above the working directory")
		}
		dir = parent
	}
}

var (
	once  sync.Once
	known map[string]bool
	err   error
)

// bracket is a variable name as `commerce serve --help` prints it, at the
// end of each flag's line: "--http-addr ... [HTTP_ADDR]".
var bracket = regexp.MustCompile(`\[([A-Z][A-Z0-9_]*)\]\s*$`)

// Known returns the variables `commerce serve --help` lists, from a binary
// built from the repository root (once per test process; the Go build
// cache makes it quick after `make test` has built the shop).
func Known() (map[string]bool, error) {
	once.Do(func() { known, err = build() })
	return known, err
}

func build() (map[string]bool, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "commerce-binvars-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "commerce")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/commerce")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/commerce: %w\n%s", err, out)
	}
	return Parse(bin)
}

// Parse runs `<bin> serve --help` and returns the variables in brackets.
func Parse(bin string) (map[string]bool, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve", "--help")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s serve --help: %w\n%s", bin, err, out.String())
	}
	vars := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		if m := bracket.FindStringSubmatch(l); m != nil {
			vars[m[1]] = true
		}
	}
	if len(vars) < 20 {
		return nil, fmt.Errorf("commerce serve --help lists only %d variables in brackets; has its format changed?", len(vars))
	}
	return vars, nil
}

// IsKnown reports whether the binary reads name: a variable of its help,
// or one of the OpenTelemetry SDK's own (OTEL_*), which it also reads
// (docs/configuration.md, "Logs and telemetry").
func IsKnown(vars map[string]bool, name string) bool {
	return vars[name] || strings.HasPrefix(name, "OTEL_")
}
