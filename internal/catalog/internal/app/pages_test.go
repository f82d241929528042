package app

import "testing"

// A list read that began before a product write may not store its page
// after it, and a page older than pageTTL is read again.
func TestPageCacheRefusesAPageReadBeforeAWrite(t *testing.T) {
	c := newPageCache()
	k := pageKey{status: "active", limit: 20}
	_, gen, ok := c.get(k)
	if ok {
		t.Fatal("an empty cache had a page")
	}
	c.bump() // a product write committed while the list was read
	c.put(k, gen, []string{"a"}, nil)
	if _, _, ok := c.get(k); ok {
		t.Fatal("a page read before a write was stored after it")
	}
	_, gen, _ = c.get(k)
	c.put(k, gen, []string{"a"}, nil)
	if p, _, ok := c.get(k); !ok || len(p.ids) != 1 {
		t.Fatal("a current page was not kept")
	}
	c.mu.Lock()
	p := c.m[k]
	p.at = p.at.Add(-pageTTL)
	c.m[k] = p
	c.mu.Unlock()
	if _, _, ok := c.get(k); ok {
		t.Fatal("a page older than pageTTL was served")
	}
}
