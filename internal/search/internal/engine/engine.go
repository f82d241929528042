// Package engine answers product searches. Two backends implement one
// contract: PostgreSQL (the default; full text plus trigram typo
// correction, no extra server) and Meilisearch. Both return the same
// shapes, and one contract test suite runs against each.
package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
	SortNewest    = "newest"
)

// Query is one search request, validated.
type Query struct {
	Text     string
	Category string
	Brand    string
	MinPrice *int64 // inclusive, minor units
	MaxPrice *int64 // inclusive, minor units
	Sort     string
	Limit    int
	Cursor   string
}

// Result is one page of hits with the facets of the whole filtered result.
type Result struct {
	Hits       []json.RawMessage `json:"hits"`
	Total      int               `json:"total"`
	Facets     Facets            `json:"facets"`
	NextCursor *string           `json:"next_cursor"`
	TookMS     float64           `json:"took_ms"`
}

// OpenAPIRawTypes tells the OpenAPI document that hits are the indexed
// product documents: the catalog's public product with its stock.
func (Result) OpenAPIRawTypes() map[string]any {
	return map[string]any{"hits": []catalogapi.Product{}}
}

// Facets are counts over every hit of the query and filters (not only the
// page): by category, brand and price bucket.
type Facets struct {
	Category map[string]int `json:"category"`
	Brand    map[string]int `json:"brand"`
	Price    map[string]int `json:"price"`
}

// Backend is a search engine.
type Backend interface {
	// Name is the SEARCH_BACKEND value.
	Name() string
	Search(ctx context.Context, q Query) (Result, error)
	// Suggest completes a prefix (product names, then corrected words).
	Suggest(ctx context.Context, prefix string, limit int) ([]string, error)
}

// PriceBuckets are the price facet's buckets in minor units: [from, to).
var PriceBuckets = []struct {
	Label    string
	From, To int64 // To 0 = open
}{
	{"0-2500", 0, 2500}, {"2500-5000", 2500, 5000}, {"5000-10000", 5000, 10000},
	{"10000-25000", 10000, 25000}, {"25000-50000", 25000, 50000}, {"50000+", 50000, 0},
}

// Bucket is the price facet label of a price.
func Bucket(price int64) string {
	for _, b := range PriceBuckets {
		if price >= b.From && (b.To == 0 || price < b.To) {
			return b.Label
		}
	}
	return PriceBuckets[0].Label
}

// MaxWords and MaxWordLen bound what a query can cost: longer input is
// cut, never rejected (a pasted paragraph still searches).
const (
	MaxWords   = 10
	MaxWordLen = 40
)

// Words splits text into lowercase words of letters and digits. Anything
// else (punctuation, SQL or query-syntax characters, emoji) separates
// words and is dropped.
func Words(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if r := []rune(f); len(r) > MaxWordLen {
			f = string(r[:MaxWordLen])
		}
		out = append(out, f)
		if len(out) == MaxWords {
			break
		}
	}
	return out
}

// Normalize is the query as analytics count it: its words, space-joined.
func Normalize(text string) string { return strings.Join(Words(text), " ") }

// cursorState is the keyset position after the last hit of a page.
type cursorState struct {
	Sort    string    `json:"s"`
	Rank    float32   `json:"r,omitempty"`
	Price   int64     `json:"p,omitempty"`
	Created time.Time `json:"t,omitempty"`
	ID      string    `json:"i"`
	Offset  int       `json:"o,omitempty"` // offset-paged backends
}

// maxOffset bounds the offset of offset-paged cursors (far beyond any
// page a person reads; backends refuse deeper paging anyway).
const maxOffset = 100_000

// ErrBadCursor is answered for a cursor this query did not produce.
var ErrBadCursor = errs.New(errs.BadRequest, "bad_cursor", "cursor is malformed or belongs to another sort order")

func encodeCursor(c cursorState) *string {
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeCursor(s, sort string) (cursorState, error) {
	var c cursorState
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 512 || json.Unmarshal(b, &c) != nil || c.Sort != sort {
		return c, ErrBadCursor
	}
	// A cursor is client input: its id goes to a uuid column and its
	// offset to the backend, so both must be what we could have issued.
	if c.ID != "" {
		u, err := uuid.Parse(c.ID)
		if err != nil || u.String() != c.ID {
			return cursorState{}, ErrBadCursor
		}
	}
	if c.Offset < 0 || c.Offset > maxOffset {
		return cursorState{}, ErrBadCursor
	}
	return c, nil
}

// effectiveSort is relevance only when there is text to be relevant to.
func effectiveSort(q Query, words []string) string {
	if q.Sort == "" || (q.Sort == SortRelevance && len(words) == 0) {
		if len(words) == 0 {
			return SortNewest
		}
		return SortRelevance
	}
	return q.Sort
}

func emptyResult() Result {
	return Result{Hits: []json.RawMessage{}, Facets: Facets{Category: map[string]int{}, Brand: map[string]int{}, Price: map[string]int{}}}
}

// plan is what every backend does first: the query's words, its effective
// sort and cursor; done means the text had nothing searchable (only
// symbols or emoji), so nothing can match.
func plan(q Query) (words []string, sort string, cur cursorState, done bool, err error) {
	words = Words(q.Text)
	if strings.TrimSpace(q.Text) != "" && len(words) == 0 {
		return nil, "", cur, true, nil
	}
	sort = effectiveSort(q, words)
	cur, err = decodeCursor(q.Cursor, sort)
	return words, sort, cur, false, err
}
