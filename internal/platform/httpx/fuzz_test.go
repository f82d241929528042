package httpx_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

type fuzzBody struct {
	Name    string         `json:"name" validate:"max=50"`
	Count   *int64         `json:"count" validate:"omitempty,gte=0,max=100000000000"`
	Tags    []string       `json:"tags" validate:"max=5,dive,max=20"`
	Attrs   map[string]any `json:"attributes"`
	Address *struct {
		Line1   string `json:"line1" validate:"max=200"`
		Country string `json:"country" validate:"omitempty,iso3166_1_alpha2"`
	} `json:"address"`
}

// FuzzDecodeJSON: the body decoder never panics, answers only 4xx
// problems, and whatever it accepts holds only clean text.
func FuzzDecodeJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var b fuzzBody
		err := httpx.DecodeJSON(data, &b, true)
		if err == nil {
			err = httpx.Check(b)
		}
		if err != nil {
			e, ok := errs.As(err)
			if !ok || httpx.StatusOf(err) >= 500 || (e.Code != "malformed_json" && e.Code != "invalid_characters" && e.Code != "validation_failed") {
				t.Fatalf("%q: %v", data, err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
		texts := []string{b.Name}
		texts = append(texts, b.Tags...)
		if b.Address != nil {
			texts = append(texts, b.Address.Line1, b.Address.Country)
		}
		for _, s := range texts {
			if !httpx.CleanText(s) {
				t.Fatalf("accepted %q from %q", s, data)
			}
		}
	})
}

// FuzzCheckRequestLine: any path and query the client can send is either
// clean UTF-8 without NUL or refused with 400 invalid_characters.
func FuzzCheckRequestLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, path, query string) {
		var args fasthttp.Args
		args.Parse(query)
		err := httpx.CheckRequestLine([]byte(path), &args)
		clean := httpx.CleanText(path)
		args.VisitAll(func(k, v []byte) { clean = clean && httpx.CleanText(string(k)) && httpx.CleanText(string(v)) })
		if clean != (err == nil) {
			t.Fatalf("path %q query %q: clean=%v err=%v", path, query, clean, err)
		}
		if err != nil && (httpx.StatusOf(err) != 400 || !strings.Contains(err.Error(), "invalid_characters")) {
			t.Fatalf("%v", err)
		}
	})
}

// FuzzParseLimit: a limit is 1..100 or a 422, never a panic.
func FuzzParseLimit(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := httpx.ParseLimit(raw)
		if err != nil {
			if httpx.StatusOf(err) != 422 {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		if n < 1 || n > 100 {
			t.Fatalf("%q: %d", raw, n)
		}
	})
}
