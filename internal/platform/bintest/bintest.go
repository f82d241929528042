// Package bintest holds what the black-box suites (acceptance, chaos,
// browser) share to drive the real binary: building it once per test
// binary and picking free loopback ports. One place, so that how the
// binary under test is built cannot drift between suites.
package bintest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main builds cmd/commerce (pkg is its path relative to the test's
// package, e.g. "../../cmd/commerce") into a temporary directory, sets
// *binary, runs the tests and exits with their code. It is a TestMain body.
func Main(m *testing.M, pkg string, binary *string) {
	dir, err := os.MkdirTemp("", "commerce-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	*binary = filepath.Join(dir, "commerce")
	build := exec.Command("go", "build", "-o", *binary, pkg)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build failed:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// FreePort returns a loopback TCP port that was free a moment ago (the
// binary under test is told to listen on it).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
