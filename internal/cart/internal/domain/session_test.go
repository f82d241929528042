package domain

import (
	"errors"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
)

// A session is pending until its expiry and expired from that instant on,
// decided by the clock it is asked with.
func TestSessionExpiresByTheClock(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := NewSession(c.Now(), 15*time.Minute)
	if got := s.Status(c.Now()); got != cartapi.SessionPending {
		t.Fatalf("new: %s", got)
	}
	c.Advance(15*time.Minute - time.Millisecond)
	if got := s.Status(c.Now()); got != cartapi.SessionPending {
		t.Fatalf("just before expiry: %s", got)
	}
	c.Advance(time.Millisecond)
	if got := s.Status(c.Now()); got != cartapi.SessionExpired {
		t.Fatalf("at expiry: %s", got)
	}
	if _, err := s.Place("o1", c.Now()); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("place after expiry: %v", err)
	}
	if _, err := s.Cancel(c.Now()); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("cancel after expiry: %v", err)
	}
}

func TestSessionPlaceAndCancel(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := NewSession(now, time.Hour)
	if replay, err := s.Place("o1", now); err != nil || replay {
		t.Fatalf("place: %v %v", replay, err)
	}
	if replay, err := s.Place("o1", now); err != nil || !replay {
		t.Fatalf("replay: %v %v", replay, err)
	}
	if _, err := s.Place("o2", now); !errors.Is(err, cartapi.ErrSessionUsed) {
		t.Fatalf("second order: %v", err)
	}
	if _, err := s.Cancel(now); !errors.Is(err, cartapi.ErrSessionUsed) {
		t.Fatalf("cancel a used session: %v", err)
	}
	// Placed sessions never expire.
	if got := s.Status(now.Add(48 * time.Hour)); got != cartapi.SessionOrderPlaced {
		t.Fatalf("placed later: %s", got)
	}

	c := NewSession(now, time.Hour)
	if changed, err := c.Cancel(now); err != nil || !changed {
		t.Fatalf("cancel: %v %v", changed, err)
	}
	if changed, err := c.Cancel(now); err != nil || changed {
		t.Fatalf("cancel again: %v %v", changed, err)
	}
	if _, err := c.Place("o1", now); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("place a canceled session: %v", err)
	}
	restored := RestoreSession(cartapi.SessionPending, now, nil)
	if restored.Status(now.Add(-time.Second)) != cartapi.SessionPending || restored.ExpiresAt() != now {
		t.Fatal("restore")
	}
}
