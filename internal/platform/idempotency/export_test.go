package idempotency

import "github.com/opencommerce/commerce/internal/platform/clock"

// InstanceForTest is the id this store's leases name.
func (s *Store) InstanceForTest() string { return s.instance }

// LiveForTest reports whether new leases name this process.
func (s *Store) LiveForTest() bool { return s.owner() != nil }

// OwnerFreshForTest is how recent the last heartbeat must be for new
// leases to name the process.
const OwnerFreshForTest = ownerFresh

// SetClockForTest makes the store read the time from c; call it before Run.
func (s *Store) SetClockForTest(c clock.Clock) { s.clock, s.epoch = c, c.Now() }
