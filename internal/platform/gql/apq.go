package gql

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Automatic persisted queries (Apollo's protocol, version 1): a client
// sends the SHA-256 of its query in extensions.persistedQuery instead of
// the text; an unknown hash is answered with PERSISTED_QUERY_NOT_FOUND and
// the client sends the text and hash once, after which the hash alone
// suffices, also over GET (cacheable URLs). The error code and message
// are the protocol's own, which clients (Apollo Client, urql) test for.
const (
	// CodePersistedQueryNotFound asks the client to send the query text.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodePersistedQueryNotSupported answers a protocol version other
	// than 1.
	CodePersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED"
	msgPersistedQueryNotFound      = "PersistedQueryNotFound"
)

// persistedQuery is the extensions.persistedQuery of a request.
type persistedQuery struct {
	Version    int    `json:"version"`
	Sha256Hash string `json:"sha256Hash"`
}

// QueryStore keeps persisted query texts by their SHA-256 (hex).
type QueryStore interface {
	Get(ctx context.Context, hash string) (string, bool, error)
	Put(ctx context.Context, hash, query string) error
}

// PersistQueries turns automatic persisted queries on, kept in store.
// Without a store, a request carrying a persisted query hash and no text
// is answered PERSISTED_QUERY_NOT_SUPPORTED.
func (g *Gateway) PersistQueries(store QueryStore) { g.apq = store }

// resolvePersisted applies the protocol to a request: it fills in the
// query of a known hash and checks the hash of a text sent with one. It
// returns the HTTP status, code and message of a refusal (status 0: go
// on). The caller registers a sent text (register) once it has passed
// the limits, so that no hostile text is kept.
func (g *Gateway) resolvePersisted(ctx context.Context, req *request) (status int, code, msg string) {
	pq := req.Extensions.PersistedQuery
	if pq == nil {
		return 0, "", ""
	}
	if pq.Version != 1 || g.apq == nil {
		return 200, CodePersistedQueryNotSupported, "PersistedQueryNotSupported"
	}
	if !validHash(pq.Sha256Hash) {
		return 400, "bad_request", "extensions.persistedQuery.sha256Hash is not a SHA-256 in lowercase hex"
	}
	if req.Query == "" {
		q, ok, err := g.apq.Get(ctx, pq.Sha256Hash)
		if err != nil {
			return 503, "unavailable", "persisted queries are unavailable; send the query text"
		}
		if !ok {
			return 200, CodePersistedQueryNotFound, msgPersistedQueryNotFound
		}
		req.Query = q
		return 0, "", ""
	}
	sum := sha256.Sum256([]byte(req.Query))
	if hex.EncodeToString(sum[:]) != pq.Sha256Hash {
		return 400, "bad_request", "provided sha does not match query"
	}
	return 0, "", ""
}

// register keeps the text a request sent with its hash (one that passed
// resolvePersisted and the limits). A store that is down costs the
// client nothing: it sent the text and gets its answer.
func (g *Gateway) register(ctx context.Context, req *request) {
	if pq := req.Extensions.PersistedQuery; pq != nil && g.apq != nil {
		_ = g.apq.Put(ctx, pq.Sha256Hash, req.Query)
	}
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RedisQueries is the QueryStore of the shop: Redis, shared by every
// replica of the gateway (a client's registration on one serves its GETs
// on all), with a bounded in-process cache of the hottest texts in front
// so that a known hash usually costs no round trip.
type RedisQueries struct {
	rdb   redis.Cmdable
	ttl   time.Duration
	local *lru
}

// NewRedisQueries keeps texts in rdb for ttl after their last
// registration, and up to localEntries of them in process.
func NewRedisQueries(rdb redis.Cmdable, ttl time.Duration, localEntries int) *RedisQueries {
	return &RedisQueries{rdb: rdb, ttl: ttl, local: newLRU(localEntries)}
}

func apqKey(hash string) string { return "gql:apq:" + hash }

// Get returns the text of hash.
func (s *RedisQueries) Get(ctx context.Context, hash string) (string, bool, error) {
	if q, ok := s.local.get(hash); ok {
		return q, true, nil
	}
	q, err := s.rdb.Get(ctx, apqKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("persisted query %s: %w", hash[:12], err)
	}
	s.local.put(hash, q)
	return q, true, nil
}

// Put stores the text of hash.
func (s *RedisQueries) Put(ctx context.Context, hash, query string) error {
	s.local.put(hash, query)
	if err := s.rdb.Set(ctx, apqKey(hash), query, s.ttl).Err(); err != nil {
		return fmt.Errorf("persisted query %s: %w", hash[:12], err)
	}
	return nil
}

// lru is a bounded least-recently-used map of texts.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry struct{ key, value string }

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru) get(k string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.items[k]
	if !ok {
		return "", false
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry).value, true
}

func (l *lru) put(k, v string) {
	if l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[k]; ok {
		l.order.MoveToFront(e)
		return
	}
	l.items[k] = l.order.PushFront(&lruEntry{k, v})
	if l.order.Len() > l.max {
		old := l.order.Back()
		l.order.Remove(old)
		delete(l.items, old.Value.(*lruEntry).key)
	}
}
