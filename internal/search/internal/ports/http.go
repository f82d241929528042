// Package ports exposes search over HTTP: search, suggestions and the
// admin's query analytics.
package ports

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/search/internal/analytics"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
)

// HTTP holds the handlers.
type HTTP struct {
	backend engine.Backend
	log     *analytics.Log
}

// NewHTTP builds the handlers.
func NewHTTP(b engine.Backend, l *analytics.Log) *HTTP { return &HTTP{backend: b, log: l} }

// Suggestions is the suggest answer.
type Suggestions struct {
	Suggestions []string `json:"suggestions"`
}

// Routes mounts search's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/search", Tag: "search", Response: engine.Result{}, Errors: []int{400, 422},
		Summary: "Typo-tolerant product search with filters, facets over the whole filtered result, sorting and cursor pages",
		Query:   []string{"q", "category", "brand", "min_price", "max_price", "sort", "limit", "cursor"},
		Params: []openapi.Param{
			openapi.QueryParam("min_price", "inclusive, minor units", map[string]any{"type": "integer", "minimum": 0}),
			openapi.QueryParam("max_price", "inclusive, minor units", map[string]any{"type": "integer", "minimum": 0}),
			openapi.QueryParam("sort", "default relevance", openapi.Enum(engine.SortRelevance, engine.SortPriceAsc, engine.SortPriceDesc, engine.SortNewest)),
		}}, h.search)
	api.Handle(openapi.Op{Method: "GET", Path: "/search/suggest", Tag: "search", Response: Suggestions{}, Errors: []int{422},
		Summary: "Completions of a prefix: product names, then (corrected) words", Query: []string{"q", "limit"}, Params: []openapi.Param{openapi.Limit(20, 10)}}, h.suggest)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/search/popular", Tag: "search", Admin: true, Response: analytics.Report{}, Errors: []int{422},
		Summary: "Most frequent queries and most frequent zero-hit queries over a period (?period=7d, 24h, ...)", Query: []string{"period", "limit"},
		Params: []openapi.Param{openapi.QueryParam("period", "7d (default), 24h, ...: at most 90d", map[string]any{"type": "string", "default": "7d"})}}, h.popular)
}

// maxFilter bounds category and brand filters.
const maxFilter = 200

func (h *HTTP) search(c *fiber.Ctx) error {
	q, err := parseQuery(c)
	if err != nil {
		return err
	}
	res, err := h.backend.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	if q.Cursor == "" { // count a search once, not once per page
		h.log.Record(engine.Normalize(q.Text), res.Total, res.TookMS)
	}
	return c.JSON(res)
}

func parseQuery(c *fiber.Ctx) (engine.Query, error) {
	var fields []errs.FieldError
	q := engine.Query{Text: httpx.Query(c, "q"), Category: httpx.Query(c, "category"), Brand: httpx.Query(c, "brand"),
		Sort: httpx.Query(c, "sort"), Cursor: httpx.Query(c, "cursor")}
	if !utf8.ValidString(q.Text) {
		fields = append(fields, errs.Field("q", "must be UTF-8 text"))
	}
	for name, v := range map[string]string{"category": q.Category, "brand": q.Brand} {
		if len(v) > maxFilter || !utf8.ValidString(v) {
			fields = append(fields, errs.Field(name, "must be UTF-8 text of at most 200 bytes"))
		}
	}
	price := func(name string) *int64 {
		raw := c.Query(name)
		if raw == "" {
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			fields = append(fields, errs.Field(name, "must be a non-negative integer (minor units)"))
			return nil
		}
		return &n
	}
	q.MinPrice, q.MaxPrice = price("min_price"), price("max_price")
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		fields = append(fields, errs.Field("max_price", "must not be below min_price"))
	}
	switch q.Sort {
	case "", engine.SortRelevance, engine.SortPriceAsc, engine.SortPriceDesc, engine.SortNewest:
	default:
		fields = append(fields, errs.Field("sort", "must be relevance, price_asc, price_desc or newest"))
	}
	limit, err := httpx.Limit(c)
	if err != nil {
		return q, err
	}
	q.Limit = limit
	if len(fields) > 0 {
		return q, errs.Validation(fields...)
	}
	return q, nil
}

func (h *HTTP) suggest(c *fiber.Ctx) error {
	limit := 10
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 20 {
			return errs.Validation(errs.Field("limit", "must be an integer from 1 to 20"))
		}
		limit = n
	}
	text := httpx.Query(c, "q")
	if !utf8.ValidString(text) {
		return errs.Validation(errs.Field("q", "must be UTF-8 text"))
	}
	out, err := h.backend.Suggest(c.UserContext(), text, limit)
	if err != nil {
		return err
	}
	return c.JSON(Suggestions{Suggestions: out})
}

func (h *HTTP) popular(c *fiber.Ctx) error {
	period, err := parsePeriod(c.Query("period", "7d"))
	if err != nil {
		return err
	}
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	r, err := h.log.Popular(c.UserContext(), time.Now().Add(-period), limit)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// parsePeriod reads "7d" or a Go duration ("24h", "90m"), up to Retention.
func parsePeriod(raw string) (time.Duration, error) {
	bad := errs.Validation(errs.Field("period", "must be like 7d or 24h, at most 90d"))
	var d time.Duration
	if days, ok := strings.CutSuffix(raw, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(raw); err != nil {
			return 0, bad
		}
	}
	if d <= 0 || d > analytics.Retention {
		return 0, bad
	}
	return d, nil
}
