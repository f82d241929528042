package idempotency

// InstanceForTest is the id this store's leases name.
func (s *Store) InstanceForTest() string { return s.instance }

// LiveForTest reports whether new leases name this process.
func (s *Store) LiveForTest() bool { return s.owner() != nil }
