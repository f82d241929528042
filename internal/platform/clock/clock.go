// Package clock is the time source of every decision that depends on the
// time (deadlines, expiry, TTLs): production reads the system clock, tests
// inject a Fake they move forward instead of sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
var System Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Or returns c, or System when c is nil: constructors accept a nil clock.
func Or(c Clock) Clock {
	if c == nil {
		return System
	}
	return c
}

// Fake is a clock that moves only when told: a test sets it, advances it
// past a deadline and asserts the outcome, without waiting.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now is the fake's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set shows t from now on.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}
