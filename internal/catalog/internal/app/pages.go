package app

import (
	"sync"
	"sync/atomic"
	"time"
)

// pageTTL is how long a served page's id list is reused. Writes in this
// process drop every list at once; another process serving the catalog
// (a second replica) learns of a product created, changed or archived
// elsewhere within pageTTL, as it does of the product's own body through
// the near cache in front of Redis.
const pageTTL = time.Second

// pageCacheMax bounds the lists kept (filters × cursors): past it the
// cache starts over, which costs one query per page.
const pageCacheMax = 4096

// pageKey is what selects a page of the storefront's list.
type pageKey struct {
	status, category, brand, cursor string
	limit                           int
}

// page is a served page: its product ids and the next cursor.
type page struct {
	ids  []string
	next *string
	gen  uint64
	at   time.Time
}

// pageCache keeps the id lists of recently served product pages, so that
// a page of cached products costs no database round trip at all (the
// list's query was most of what a page still cost once the bodies came
// from the product cache). A generation bumped by every product write
// that can change which products a page holds (create, update, archive,
// import; not stock moves, which the bodies' own cache covers) keeps a
// list read before a write from being stored after it.
type pageCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[pageKey]page
}

func newPageCache() *pageCache { return &pageCache{m: map[pageKey]page{}} }

// get returns the page if it is of the current generation and younger
// than pageTTL, and the generation a later put needs.
func (c *pageCache) get(k pageKey) (page, uint64, bool) {
	gen := c.gen.Load()
	c.mu.RLock()
	p, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || p.gen != gen || time.Since(p.at) >= pageTTL {
		return page{}, gen, false
	}
	return p, gen, true
}

// put stores a page read at generation gen, unless a write came since.
func (c *pageCache) put(k pageKey, gen uint64, ids []string, next *string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(c.m) >= pageCacheMax {
		clear(c.m)
	}
	c.m[k] = page{ids: ids, next: next, gen: gen, at: time.Now()}
}

// bump forgets every page: a product was written.
func (c *pageCache) bump() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
}
