// Package graph is search's GraphQL subgraph (Federation v2): product
// search with REST's filters, sort, facets and cursor pages. Hits are
// Product entity references (ids): the gateway asks catalog's subgraph
// for their fields, so search serves only what its read model owns. It
// calls search's own engine and query analytics only. gqlgen generates
// generated.go, federation.go and models_gen.go from schema.graphqls
// (`make graphql`).
package graph

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/search/internal/analytics"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: the search engine in use and
// the query analytics REST's searches feed too.
type Resolver struct {
	Backend engine.Backend
	Queries *analytics.Log
}

// maxPage bounds a page like the REST limit does; maxFilter bounds the
// category and brand filters like REST does.
const (
	maxPage   = 100
	maxFilter = 200
)

// query validates the arguments as REST's GET /search validates its
// parameters (the same checks and code, validation_failed; the fields are
// named as the arguments).
func query(q, category, brand *string, minPrice, maxPrice *int64, sortBy *SearchSort, first *int64, after *string) (engine.Query, error) {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	out := engine.Query{Text: str(q), Category: str(category), Brand: str(brand), Cursor: str(after), MinPrice: minPrice, MaxPrice: maxPrice}
	var fields []errs.FieldError
	if !utf8.ValidString(out.Text) {
		fields = append(fields, errs.Field("q", "must be UTF-8 text"))
	}
	for _, f := range []struct{ name, v string }{{"category", out.Category}, {"brand", out.Brand}} {
		if len(f.v) > maxFilter || !utf8.ValidString(f.v) {
			fields = append(fields, errs.Field(f.name, "must be UTF-8 text of at most 200 bytes"))
		}
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"minPrice", minPrice}, {"maxPrice", maxPrice}} {
		if f.v != nil && *f.v < 0 {
			fields = append(fields, errs.Field(f.name, "must be a non-negative integer (minor units)"))
		}
	}
	if minPrice != nil && maxPrice != nil && *minPrice >= 0 && *minPrice > *maxPrice {
		fields = append(fields, errs.Field("maxPrice", "must not be below minPrice"))
	}
	if sortBy != nil {
		if !sortBy.IsValid() {
			fields = append(fields, errs.Field("sort", "must be RELEVANCE, PRICE_ASC, PRICE_DESC or NEWEST"))
		}
		out.Sort = strings.ToLower(string(*sortBy))
	}
	out.Limit = 20
	if first != nil {
		if *first < 1 || *first > maxPage {
			fields = append(fields, errs.Field("first", "must be from 1 to 100"))
		}
		out.Limit = int(*first)
	}
	if len(fields) > 0 {
		return out, errs.Validation(fields...)
	}
	return out, nil
}

// toResult turns the engine's page into the subgraph's: each hit (the
// indexed product document) becomes a Product reference by its id.
func toResult(res engine.Result) (*SearchResult, error) {
	out := &SearchResult{Hits: make([]Product, len(res.Hits)), Total: int64(res.Total), NextCursor: res.NextCursor, TookMs: res.TookMS,
		Facets: &SearchFacets{Category: byCount(res.Facets.Category), Brand: byCount(res.Facets.Brand), Price: byBucket(res.Facets.Price)}}
	for i, h := range res.Hits {
		var doc struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(h, &doc); err != nil {
			return nil, fmt.Errorf("search hit %d: %w", i, err)
		}
		out.Hits[i] = Product{ID: doc.ID}
	}
	return out, nil
}

// byCount lists a facet's values, most hits first (then by value).
func byCount(m map[string]int) []FacetCount {
	out := make([]FacetCount, 0, len(m))
	for v, n := range m {
		out = append(out, FacetCount{Value: v, Count: int64(n)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// byBucket lists the price facet in the order of engine.PriceBuckets.
func byBucket(m map[string]int) []FacetCount {
	out := make([]FacetCount, 0, len(m))
	for _, b := range engine.PriceBuckets {
		if n, ok := m[b.Label]; ok {
			out = append(out, FacetCount{Value: b.Label, Count: int64(n)})
		}
	}
	return out
}
