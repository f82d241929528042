// Package wait polls a condition until it holds or a limit passes: tests
// wait on an outcome (an event applied, a status reached), never for a
// guessed duration, and every package polls the same way.
package wait

import (
	"testing"
	"time"
)

// For asks ok every interval until it holds (true) or limit has passed
// (false, after one last ask).
func For(limit, every time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return ok()
		}
		time.Sleep(every)
	}
	return true
}

// Until is For that fails the test, naming what it waited for, when the
// limit passes.
func Until(t testing.TB, what string, limit, every time.Duration, ok func() bool) {
	t.Helper()
	if !For(limit, every, ok) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}
