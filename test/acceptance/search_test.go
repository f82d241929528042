package acceptance

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchOK runs a search and returns its JSON (never a 5xx).
func (s *shop) search(query string) map[string]any {
	s.t.Helper()
	return expect(s.t, call(s.t, s.u, "GET", "/api/v1/search?"+query, nil, ""), 200, "search "+query).JSON()
}

func hitNames(r map[string]any) []string {
	var out []string
	for _, h := range r["hits"].([]any) {
		out = append(out, h.(map[string]any)["name"].(string))
	}
	return out
}

// The walk on a seeded catalog plus a few known products: typos,
// facets equal to the filtered hits, price edges, sort, pages without
// duplicates or gaps, update and archive reflected (update latency
// measured), absurd input never a 5xx, analytics for admins only.
func TestSearchOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	out, code := runCLI(t, []string{"DATABASE_URL=" + s.env["DATABASE_URL"], "DATA_DIR=" + t.TempDir()}, "seed", "--products", "300")
	if code != 0 {
		t.Fatalf("seed: %s", out)
	}
	mk := func(name, brand, category string, price int) string {
		return expect(t, call(t, s.u, "POST", "/api/v1/admin/products", map[string]any{"sku": "S-" + strings.ReplaceAll(name, " ", "-"), "name": name,
			"brand": brand, "category": category, "price": price, "currency": "USD", "description": name + " by " + brand, "initial_stock": 5}, s.admin), 201, "create").Str("id")
	}
	sony := mk("Wireless Noise Cancelling Headphones", "Sony", "audio", 29999)
	mk("Studio Headphones", "Audio-Technica", "audio", 14900)
	mk("Galaxy Smartphone", "Samsung", "phones", 2500)
	kettle := mk("Electric Kettle", "Breville", "kitchen", 5000)

	// Everything reaches the index through events.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r := s.search("limit=1"); r["total"].(float64) >= 304 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index incomplete: %v", s.search("limit=1")["total"])
		}
		time.Sleep(200 * time.Millisecond)
	}

	if got := hitNames(s.search("q=hedphones")); !slices.Contains(got, "Studio Headphones") || !slices.Contains(got, "Wireless Noise Cancelling Headphones") {
		t.Fatalf("hedphones: %v", got)
	}
	if got := hitNames(s.search("q=sumsung")); !slices.Contains(got, "Galaxy Smartphone") {
		t.Fatalf("sumsung: %v", got)
	}
	if s, err := call(t, s.u, "GET", "/api/v1/search/suggest?q=galax", nil, "").JSON()["suggestions"].([]any); !err || len(s) == 0 {
		t.Fatalf("suggest: %v", s)
	}

	// Facets count the whole filtered result.
	for _, q := range []string{"limit=5", "q=compact&limit=5", "category=audio&limit=1", "min_price=2500&max_price=5000&limit=2"} {
		r := s.search(q)
		for _, facet := range []string{"category", "price"} {
			n := 0.0
			for _, v := range r["facets"].(map[string]any)[facet].(map[string]any) {
				n += v.(float64)
			}
			if n != r["total"].(float64) {
				t.Fatalf("%s: %s facet sums to %v, total %v", q, facet, n, r["total"])
			}
		}
	}
	// Price edges are inclusive.
	for _, h := range s.search("min_price=2500&max_price=2500&limit=100")["hits"].([]any) {
		if p := h.(map[string]any)["price"].(float64); p != 2500 {
			t.Fatalf("price %v in 2500..2500", p)
		}
	}
	if !slices.Contains(hitNames(s.search("min_price=2500&max_price=2500&limit=100")), "Galaxy Smartphone") {
		t.Fatal("the edge price is excluded")
	}
	// Sort and pages: price_asc over everything, 37 per page.
	seen, last, total := map[string]bool{}, -1.0, 0.0
	q := "sort=price_asc&limit=37"
	for page := 0; ; page++ {
		r := s.search(q)
		total = r["total"].(float64)
		for _, h := range r["hits"].([]any) {
			m := h.(map[string]any)
			if seen[m["id"].(string)] {
				t.Fatalf("page %d repeats %s", page, m["id"])
			}
			seen[m["id"].(string)] = true
			if p := m["price"].(float64); p < last {
				t.Fatalf("price_asc: %v after %v", p, last)
			} else {
				last = p
			}
		}
		next, _ := r["next_cursor"].(string)
		if next == "" {
			break
		}
		q = "sort=price_asc&limit=37&cursor=" + url.QueryEscape(next)
	}
	if float64(len(seen)) != total {
		t.Fatalf("paged %d of %v", len(seen), total)
	}

	// An update is searchable within 2 s.
	cur := expect(t, call(t, s.u, "GET", "/api/v1/products/"+kettle, nil, ""), 200, "kettle").JSON()
	began := time.Now()
	expect(t, call(t, s.u, "PUT", "/api/v1/admin/products/"+kettle, map[string]any{"sku": cur["sku"], "name": "Gooseneck Pour-Over Kettle",
		"brand": "Fellow", "category": "kitchen", "price": 16500, "currency": "USD", "version": cur["version"]}, s.admin), 200, "update")
	for !slices.Contains(hitNames(s.search("q=gooseneck")), "Gooseneck Pour-Over Kettle") {
		if time.Since(began) > 10*time.Second {
			t.Fatal("update never searchable")
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(began)
	t.Logf("update → searchable in %s", took)
	if took > 2*time.Second {
		t.Fatalf("update searchable after %s, want within 2s", took)
	}
	// Archive: gone from results.
	expect(t, call(t, s.u, "DELETE", "/api/v1/admin/products/"+sony, nil, s.admin), 204, "archive")
	deadline = time.Now().Add(10 * time.Second)
	for slices.Contains(hitNames(s.search("q=headphones")), "Wireless Noise Cancelling Headphones") {
		if time.Now().After(deadline) {
			t.Fatal("archived product still found")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Absurd input: 200 or a 4xx problem, never a 5xx.
	for _, q := range []string{
		// 3 KB: within the 4 KB request-line buffer, so the handler sees it
		// (a longer line gets 431 from fasthttp, which may reset the
		// connection before the client reads the answer).
		"q=" + url.QueryEscape(strings.Repeat("x", 3*1024)),
		"q=" + url.QueryEscape(strings.Repeat("headphones ", 300)),
		"q=" + url.QueryEscape("'; DROP TABLE search.products; --"),
		"q=" + url.QueryEscape(`% _ \ " & | ! ( ) : * < >`),
		"q=" + url.QueryEscape("🎧🔥"),
		"q=%FF%FE", "sort=cheapest", "min_price=-5", "min_price=10&max_price=1", "limit=0", "limit=1000", "cursor=%21%21", "category=" + strings.Repeat("c", 300),
	} {
		r := call(t, s.u, "GET", "/api/v1/search?"+q, nil, "")
		if r.Status >= 500 || (r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json") {
			t.Fatalf("%.60s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := call(t, s.u, "GET", "/api/v1/search/suggest?q="+url.QueryEscape("🎧"), nil, ""); r.Status != 200 {
		t.Fatalf("suggest emoji: %d", r.Status)
	}

	// Analytics: popular and zero-hit queries, admins only.
	for i := 0; i < 3; i++ {
		s.search("q=Headphones")
	}
	s.search("q=unobtainium")
	tok := customerToken(t, s.u, s.smtp, "searcher@shop.test")
	expectProblem(t, call(t, s.u, "GET", "/api/v1/admin/search/popular", nil, tok), 403, "", "customer reads analytics")
	expectProblem(t, call(t, s.u, "GET", "/api/v1/admin/search/popular?period=forever", nil, s.admin), 422, "validation_failed", "bad period")
	deadline = time.Now().Add(10 * time.Second)
	for {
		rep := expect(t, call(t, s.u, "GET", "/api/v1/admin/search/popular?period=1d", nil, s.admin), 200, "popular").JSON()
		top := fmt.Sprint(rep["popular"])
		zero := fmt.Sprint(rep["zero_hits"])
		if strings.Contains(top, "query:headphones") && strings.Contains(zero, "query:unobtainium") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics: %v / %v", top, zero)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
