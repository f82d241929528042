//go:build temporal

// Package temporal runs the acceptance suite's order scenarios with
// SAGA_ENGINE=temporal against a real Temporal server started in-process
// (temporaltest, on loopback). It is a module of its own: the server's
// dependencies clash with the shop's (go.opentelemetry.io/otel/log), and its
// first compile takes minutes, so `go test ./...` of the shop never builds
// it; `make test-temporal` runs it.
package temporal

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.temporal.io/server/temporaltest"
)

// scenarios are the acceptance tests of the order lifecycle: place,
// idempotent replay, webhook ×10 → one paid order, cancel restores stock,
// expiry with reminders and restock, 200 buyers on 50 units, cancel racing
// payment, and a restart (SIGKILL) mid-saga that loses nothing.
const scenarios = `^(TestOrderToPaymentOverHTTP|TestOrderExpiryAndRemindersOverHTTP|TestConcurrentOrdersNeverOversell|TestCancelRacingPayment|TestRestartLosesNothing)$`

func TestOrderScenariosOnTemporal(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	run := os.Getenv("TEMPORAL_SCENARIOS")
	if run == "" {
		run = scenarios
	}
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", run, "./test/acceptance/")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ACCEPTANCE_SAGA_ENGINE=temporal", "ACCEPTANCE_TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(),
		"ACCEPTANCE_TEMPORAL_NAMESPACE="+srv.GetDefaultNamespace())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the order scenarios with SAGA_ENGINE=temporal: %v", err)
	}
}

// TestPlaceOrderThroughput runs, with TEMPORAL_BENCH=1, the place-order
// benchmark on both engines side by side (same machine, same run) against
// the in-process server: BenchmarkPlaceOrder and BenchmarkPlaceOrderTemporal
// each report orders/s.
func TestPlaceOrderThroughput(t *testing.T) {
	if os.Getenv("TEMPORAL_BENCH") != "1" {
		t.Skip("TEMPORAL_BENCH=1 runs the benchmark")
	}
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^$", "-bench", "^BenchmarkPlaceOrder(Temporal)?$", "-benchtime", "300x", "./internal/ordering/")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ORDERING_BENCH_TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(), "ORDERING_BENCH_TEMPORAL_NAMESPACE="+srv.GetDefaultNamespace())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("benchmark: %v", err)
	}
}
