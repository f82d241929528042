package adapters

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/catalog/internal/app"
)

// Entry is the app layer's cached product representation.
type Entry = app.Entry

var _ app.Cache = (*Cache)(nil)

// Cache is the cache-aside store of product JSON in Redis. Each product has
// a generation counter bumped on every write; a reader remembers the
// generation it saw before loading from the database and may only fill
// the cache if it is still current, so a slow reader can never put back a
// value older than a write that happened meanwhile.
//
// In front of Redis sits a small in-process near cache with a short
// lifetime: hot products are served without a network round trip. Writes
// in this process drop the near entry at once; other processes learn of
// them within nearTTL.
type Cache struct {
	rdb  redis.UniversalClient
	ttl  time.Duration
	near *nearCache
}

// NewCache builds the cache with the entry lifetime ttl.
func NewCache(rdb redis.UniversalClient, ttl time.Duration) *Cache {
	return &Cache{rdb: rdb, ttl: ttl, near: newNearCache(time.Second, 10_000)}
}

// Hash tags keep both keys of a product in one cluster slot.
func genKey(id string) string   { return "catalog:{" + id + "}:gen" }
func entryKey(id string) string { return "catalog:{" + id + "}:p" }

// Get returns the entry if cached for the current generation, and that
// generation (for a later Fill).
func (c *Cache) Get(ctx context.Context, id string) (Entry, string, bool, error) {
	if e, ok := c.near.get(id); ok {
		return e, "", true, nil
	}
	vals, err := c.rdb.MGet(ctx, genKey(id), entryKey(id)).Result()
	if err != nil {
		return Entry{}, "", false, err
	}
	e, gen, ok := c.decode(id, vals)
	return e, gen, ok, nil
}

// GetMany is Get of each id: near entries first, then one pipeline of the
// others' generation and entry (an MGET per product: the two keys of one
// product share a cluster slot, two products' keys need not).
func (c *Cache) GetMany(ctx context.Context, ids []string) ([]Entry, []string, []bool, error) {
	entries, gens, hit := make([]Entry, len(ids)), make([]string, len(ids)), make([]bool, len(ids))
	var far []int
	for i, id := range ids {
		if entries[i], hit[i] = c.near.get(id); !hit[i] {
			far = append(far, i)
		}
	}
	if len(far) == 0 {
		return entries, gens, hit, nil
	}
	cmds := make([]*redis.SliceCmd, len(far))
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for j, i := range far {
			cmds[j] = p.MGet(ctx, genKey(ids[i]), entryKey(ids[i]))
		}
		return nil
	}); err != nil {
		return nil, nil, nil, err
	}
	for j, i := range far {
		entries[i], gens[i], hit[i] = c.decode(ids[i], cmds[j].Val())
	}
	return entries, gens, hit, nil
}

// decode reads an MGET of a product's generation and entry: the entry
// when it is of the current generation (kept near too), and that
// generation.
func (c *Cache) decode(id string, vals []any) (Entry, string, bool) {
	gen := "0"
	if len(vals) != 2 {
		return Entry{}, gen, false
	}
	if s, ok := vals[0].(string); ok {
		gen = s
	}
	raw, ok := vals[1].(string)
	if !ok {
		return Entry{}, gen, false
	}
	// Layout: gen \n etag \n body
	b := []byte(raw)
	i := bytes.IndexByte(b, '\n')
	if i < 0 || string(b[:i]) != gen {
		return Entry{}, gen, false
	}
	rest := b[i+1:]
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		return Entry{}, gen, false
	}
	e := Entry{ETag: string(rest[:j]), Body: rest[j+1:]}
	c.near.put(id, e)
	return e, gen, true
}

var fill = redis.NewScript(`
local g = redis.call('GET', KEYS[1]) or '0'
if g ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`)

// Fill stores e if gen is still the product's generation.
func (c *Cache) Fill(ctx context.Context, id, gen string, e Entry) error {
	val := make([]byte, 0, len(gen)+len(e.ETag)+len(e.Body)+2)
	val = append(append(append(append(append(val, gen...), '\n'), e.ETag...), '\n'), e.Body...)
	ok, err := fill.Run(ctx, c.rdb, []string{genKey(id), entryKey(id)}, gen, val, c.ttl.Milliseconds()).Int()
	if err == nil && ok == 1 {
		c.near.put(id, e)
	}
	return err
}

// Invalidate bumps the generation of each product and drops its entry.
func (c *Cache) Invalidate(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		c.near.drop(id)
	}
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Incr(ctx, genKey(id))
			p.Expire(ctx, genKey(id), 7*24*time.Hour)
			p.Del(ctx, entryKey(id))
		}
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
