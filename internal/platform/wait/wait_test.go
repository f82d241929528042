package wait_test

import (
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/wait"
)

func TestForReportsWhetherTheConditionHeld(t *testing.T) {
	n := 0
	if !wait.For(time.Second, time.Millisecond, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("held after %d asks", n)
	}
	if wait.For(5*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("a condition that never holds was reported held")
	}
}
