package meter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/clock"
)

// Concurrent scrapes share one read per interval, a failure is cached
// too, and each read gets a bounded context.
func TestSamplerReadsOncePerInterval(t *testing.T) {
	var reads atomic.Int32
	fail := errors.New("down")
	s := NewSampler(func(ctx context.Context) (int, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("read without a deadline")
		}
		if reads.Add(1) == 2 {
			return 0, fail
		}
		return 7, nil
	})
	s.every = 50 * time.Millisecond
	clk := clock.NewFake(time.Now())
	s.clock = clk
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := s.Get(context.Background()); v != 7 || err != nil {
				t.Errorf("got %d %v", v, err)
			}
		}()
	}
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	clk.Advance(60 * time.Millisecond) // past the interval
	if _, err := s.Get(context.Background()); !errors.Is(err, fail) {
		t.Fatalf("err %v", err)
	}
	if _, err := s.Get(context.Background()); !errors.Is(err, fail) || reads.Load() != 2 {
		t.Fatalf("the failure was not cached: %v, %d reads", err, reads.Load())
	}
}
