package ratelimit

// SettledForTest reports whether the local window of key has no hits
// waiting for Redis and no sync in flight: whatever this replica counted
// has reached Redis, and it has adopted the global count.
func (l *Limiter) SettledForTest(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.local[key]
	return w == nil || (!w.syncing && w.pending == 0)
}
