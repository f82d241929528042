package idempotency_test

import (
	"context"
	"errors"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// Do has the header's semantics for GraphQL mutations: the same key and
// request replay the first result without running again, another request
// under the key conflicts, a failure releases the key, keys are per scope.
func TestDoReplaysConflictsAndReleasesOnFailure(t *testing.T) {
	db := pgtest.New(t)
	s := idempotency.New(db, quiet)
	ctx := context.Background()
	runs := 0
	fn := func(context.Context) ([]byte, error) { runs++; return []byte(`{"id":"o1"}`), nil }
	out, replayed, err := s.Do(ctx, "user:a", "k1", "placeOrder", []byte("s1"), fn)
	if err != nil || replayed || string(out) != `{"id":"o1"}` {
		t.Fatalf("first: %s %v %v", out, replayed, err)
	}
	out, replayed, err = s.Do(ctx, "user:a", "k1", "placeOrder", []byte("s1"), fn)
	if err != nil || !replayed || string(out) != `{"id":"o1"}` || runs != 1 {
		t.Fatalf("replay: %s %v %v runs=%d", out, replayed, err, runs)
	}
	if _, _, err := s.Do(ctx, "user:a", "k1", "placeOrder", []byte("s2"), fn); !errors.Is(err, idempotency.ErrConflict) {
		t.Fatalf("other request: %v", err)
	}
	if _, replayed, err := s.Do(ctx, "user:b", "k1", "placeOrder", []byte("s2"), fn); err != nil || replayed || runs != 2 {
		t.Fatalf("other scope: %v %v runs=%d", replayed, err, runs)
	}
	boom := errors.New("boom")
	if _, _, err := s.Do(ctx, "user:a", "k2", "placeOrder", []byte("s3"), func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failure: %v", err)
	}
	if _, replayed, err := s.Do(ctx, "user:a", "k2", "placeOrder", []byte("s3"), fn); err != nil || replayed || runs != 3 {
		t.Fatalf("after a failure the key runs again: %v %v runs=%d", replayed, err, runs)
	}
	if _, _, err := s.Do(ctx, "user:a", "", "placeOrder", nil, fn); !errors.Is(err, idempotency.ErrBadKey) {
		t.Fatalf("empty key: %v", err)
	}
}
