package adapters

import (
	"sync"
	"time"
)

// nearCache is a bounded in-process map of recent entries with a short
// lifetime; when full it stops admitting new entries until expired ones
// are swept.
type nearCache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	max     int
	entries map[string]nearEntry
	swept   time.Time
}

type nearEntry struct {
	e       Entry
	expires time.Time
}

func newNearCache(ttl time.Duration, max int) *nearCache {
	return &nearCache{ttl: ttl, max: max, entries: make(map[string]nearEntry)}
}

func (n *nearCache) get(id string) (Entry, bool) {
	n.mu.RLock()
	ne, ok := n.entries[id]
	n.mu.RUnlock()
	if !ok || time.Now().After(ne.expires) {
		return Entry{}, false
	}
	return ne.e, true
}

func (n *nearCache) put(id string, e Entry) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.entries) >= n.max && now.Sub(n.swept) > n.ttl {
		for k, v := range n.entries {
			if now.After(v.expires) {
				delete(n.entries, k)
			}
		}
		n.swept = now
	}
	if len(n.entries) < n.max {
		n.entries[id] = nearEntry{e: e, expires: now.Add(n.ttl)}
	}
}

func (n *nearCache) drop(id string) {
	n.mu.Lock()
	delete(n.entries, id)
	n.mu.Unlock()
}
