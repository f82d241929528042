package procstat

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// FleetEnv marks the child process StartFleet runs: the test binary's
// TestMain calls the fleet's code instead of the tests when it is set.
const FleetEnv = "BENCH_FLEET"

// InFleet reports whether this process is a benchmark's client fleet.
func InFleet() bool { return os.Getenv(FleetEnv) != "" }

// StartFleet runs this test binary again as a benchmark's client fleet
// (so the clients' memory is not counted as the server's) with env added,
// waits for its first line, "ready", and returns its output for the rest.
// The child is killed when the benchmark ends.
func StartFleet(tb testing.TB, env ...string) *bufio.Scanner {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), FleetEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		tb.Fatalf("client fleet did not start: %q", lines.Text())
	}
	return lines
}
