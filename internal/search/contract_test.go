package search_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/search"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
)

// fixture is the catalog every backend is tested against.
var fixture = []struct {
	name, brand, category, desc string
	price                       int64
}{
	{"Wireless Noise Cancelling Headphones", "Sony", "audio", "Over-ear headphones with 30 hours of battery", 29999},
	{"Studio Headphones", "Audio-Technica", "audio", "Closed-back monitor headphones", 14900},
	{"Galaxy Buds Earbuds", "Samsung", "audio", "True wireless earbuds", 12999},
	{"Galaxy S24 Smartphone", "Samsung", "phones", "Android phone with a great camera", 79999},
	{"Pixel 9 Smartphone", "Google", "phones", "Android phone", 69999},
	{"Bluetooth Speaker", "Sony", "audio", "Portable speaker, waterproof", 9999},
	{"Espresso Machine", "Breville", "kitchen", "Makes espresso and cappuccino", 49999},
	{"Chef Knife", "Wusthof", "kitchen", "Forged steel knife for headphones-free cooking", 2500},
	{"Kettle", "Breville", "kitchen", "Electric kettle", 5000},
	{"Paperback Novel", "", "books", "A story", 1299},
}

type harness struct {
	t       *testing.T
	db      *pg.DB
	m       *search.Module
	b       engine.Backend
	ids     []string
	version map[string]int
	meili   bool
}

// backends runs fn against every configured backend: PostgreSQL always,
// Meilisearch when MEILISEARCH_URL is set.
func backends(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("postgres", func(t *testing.T) { fn(t, newHarness(t, "postgres")) })
	t.Run("meilisearch", func(t *testing.T) {
		if os.Getenv("MEILISEARCH_URL") == "" {
			t.Skip("MEILISEARCH_URL not set")
		}
		fn(t, newHarness(t, "meilisearch"))
	})
}

func newHarness(t *testing.T, backend string) *harness {
	db := pgtest.New(t)
	m, err := search.New(search.Deps{DB: db, Backend: backend, MeiliURL: os.Getenv("MEILISEARCH_URL"), MeiliKey: os.Getenv("MEILISEARCH_KEY"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	h := &harness{t: t, db: db, m: m, b: m.BackendForTest(), version: map[string]int{}, meili: backend == "meilisearch"}
	base := time.Now().Add(-time.Hour)
	for i, f := range fixture {
		id := uuid.Must(uuid.NewV7()).String()
		h.ids = append(h.ids, id)
		h.put(catalogapi.Product{ID: id, SKU: fmt.Sprint("SKU-", i), Name: f.name, Brand: f.brand, Category: f.category, Description: f.desc,
			Price: f.price, Currency: "USD", Status: catalogapi.StatusActive, CreatedAt: base.Add(time.Duration(i) * time.Minute),
			Attributes: map[string]any{}, Images: []string{}}, catalogapi.EventProductCreated)
		h.apply(catalogapi.EventStockChanged, catalogapi.StockChanged{ProductID: id, OnHand: 10 + i, Available: 10 + i})
	}
	h.settle()
	return h
}

// put sends a product event for p (the next version of it).
func (h *harness) put(p catalogapi.Product, typ string) {
	h.version[p.ID]++
	p.Version = h.version[p.ID]
	h.apply(typ, catalogapi.ProductEvent{ProductID: p.ID, Name: p.Name, Status: p.Status, Version: p.Version, Product: &p})
}

// apply delivers an event the way the bus does: inbox and effect in one
// transaction, then the After hook.
func (h *harness) apply(typ string, payload any) {
	h.t.Helper()
	ev, err := events.New(typ, "x", payload)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range h.m.Consumers() {
		for _, topic := range c.Topics {
			if topic != typ {
				continue
			}
			ctx := context.Background()
			err := h.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO "+c.Inbox+" (consumer, event_id) VALUES (?, ?)", c.Name, ev.ID); err != nil {
					return err
				}
				return c.Handle(ctx, tx, ev)
			})
			if err != nil {
				h.t.Fatal(err)
			}
			if c.After != nil {
				c.After(ctx, ev)
			}
		}
	}
}

// settle waits until an external engine has every change.
func (h *harness) settle() {
	if !h.meili {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		_ = h.db.NewRaw("SELECT count(*) FROM search.products WHERE synced_version <> version").Scan(context.Background(), &n)
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatal("meilisearch never caught up")
}

func (h *harness) search(q engine.Query) engine.Result {
	h.t.Helper()
	if q.Limit == 0 {
		q.Limit = 20
	}
	r, err := h.b.Search(context.Background(), q)
	if err != nil {
		h.t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func names(r engine.Result) []string {
	var out []string
	for _, h := range r.Hits {
		s := string(h)
		i := strings.Index(s, `"name": "`)
		if i < 0 {
			i = strings.Index(s, `"name":"`) - 1
		}
		rest := s[i+9:]
		out = append(out, rest[:strings.Index(rest, `"`)])
	}
	return out
}

func i64(v int64) *int64 { return &v }

func TestTyposStillFind(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		if got := names(h.search(engine.Query{Text: "hedphones"})); !slices.Contains(got, "Studio Headphones") || !slices.Contains(got, "Wireless Noise Cancelling Headphones") {
			t.Fatalf("hedphones: %v", got)
		}
		if got := names(h.search(engine.Query{Text: "sumsung"})); !slices.Contains(got, "Galaxy S24 Smartphone") || !slices.Contains(got, "Galaxy Buds Earbuds") {
			t.Fatalf("sumsung: %v", got)
		}
		if got := names(h.search(engine.Query{Text: "sony hedphones"})); len(got) != 1 || got[0] != "Wireless Noise Cancelling Headphones" {
			t.Fatalf("sony hedphones: %v", got)
		}
		// Name outranks description ("headphones-free" knife).
		if got := names(h.search(engine.Query{Text: "headphones"})); len(got) < 2 || !strings.Contains(got[0], "Headphones") {
			t.Fatalf("ranking: %v", got)
		}
		if got := names(h.search(engine.Query{Text: "espres"})); !slices.Contains(got, "Espresso Machine") {
			t.Fatalf("prefix: %v", got)
		}
		if s, err := h.b.Suggest(context.Background(), "gal", 5); err != nil || len(s) == 0 || !strings.HasPrefix(s[0], "Galaxy") {
			t.Fatalf("suggest: %v %v", s, err)
		}
	})
}

func TestFacetsCountTheFilteredResult(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		for _, q := range []engine.Query{{}, {Text: "phone"}, {Category: "audio"}, {Brand: "Samsung"}, {Text: "headphones", MinPrice: i64(20000)}} {
			q.Limit = 2
			r := h.search(q)
			sum := func(m map[string]int) int {
				n := 0
				for _, v := range m {
					n += v
				}
				return n
			}
			if sum(r.Facets.Category) != r.Total || sum(r.Facets.Price) != r.Total {
				t.Fatalf("%+v: total %d, facets %+v", q, r.Total, r.Facets)
			}
		}
		r := h.search(engine.Query{Category: "audio", Limit: 1})
		if r.Total != 4 || r.Facets.Brand["Sony"] != 2 || r.Facets.Category["audio"] != 4 || r.Facets.Price["25000-50000"] != 1 {
			t.Fatalf("audio facets: %d %+v", r.Total, r.Facets)
		}
	})
}

func TestPriceEdgesSortAndPages(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		if r := h.search(engine.Query{MinPrice: i64(2500), MaxPrice: i64(5000)}); r.Total != 2 {
			t.Fatalf("2500..5000 inclusive: %v", names(r))
		}
		if r := h.search(engine.Query{MinPrice: i64(2501), MaxPrice: i64(4999)}); r.Total != 0 {
			t.Fatalf("2501..4999: %v", names(r))
		}
		asc := h.search(engine.Query{Sort: engine.SortPriceAsc, Limit: 100})
		if names(asc)[0] != "Paperback Novel" || names(asc)[len(asc.Hits)-1] != "Galaxy S24 Smartphone" {
			t.Fatalf("price_asc: %v", names(asc))
		}
		desc := h.search(engine.Query{Sort: engine.SortPriceDesc, Limit: 100})
		if names(desc)[0] != "Galaxy S24 Smartphone" {
			t.Fatalf("price_desc: %v", names(desc))
		}
		if newest := names(h.search(engine.Query{Sort: engine.SortNewest})); newest[0] != "Paperback Novel" {
			t.Fatalf("newest: %v", newest)
		}
		for _, sort := range []string{engine.SortRelevance, engine.SortPriceAsc, engine.SortPriceDesc, engine.SortNewest} {
			for _, text := range []string{"", "phone"} {
				seen := map[string]bool{}
				q := engine.Query{Text: text, Sort: sort, Limit: 3}
				total := -1
				for pages := 0; pages < 20; pages++ {
					r := h.search(q)
					total = r.Total
					for _, n := range names(r) {
						if seen[n] {
							t.Fatalf("%s %q: %s twice", sort, text, n)
						}
						seen[n] = true
					}
					if r.NextCursor == nil {
						break
					}
					q.Cursor = *r.NextCursor
				}
				if len(seen) != total {
					t.Fatalf("%s %q: paged %d of %d", sort, text, len(seen), total)
				}
			}
		}
		if _, err := h.b.Search(context.Background(), engine.Query{Sort: engine.SortPriceAsc, Limit: 2, Cursor: "garbage"}); err == nil {
			t.Fatal("garbage cursor accepted")
		}
	})
}

func TestUpdatesArchivesAndAbsurdInput(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		kettle := h.ids[8]
		h.put(catalogapi.Product{ID: kettle, Name: "Gooseneck Kettle", Brand: "Fellow", Category: "kitchen", Price: 16500, Currency: "USD",
			Status: catalogapi.StatusActive, CreatedAt: time.Now(), Attributes: map[string]any{}, Images: []string{}}, catalogapi.EventProductUpdated)
		h.settle()
		if got := names(h.search(engine.Query{Text: "gooseneck"})); len(got) != 1 {
			t.Fatalf("updated name: %v", got)
		}
		// A stale event (lower version) does not roll it back.
		h.version[kettle] = 0
		h.put(catalogapi.Product{ID: kettle, Name: "Old Kettle", Status: catalogapi.StatusActive, Currency: "USD", CreatedAt: time.Now()}, catalogapi.EventProductUpdated)
		h.version[kettle] = 2
		if got := names(h.search(engine.Query{Text: "gooseneck"})); len(got) != 1 {
			t.Fatalf("stale event applied: %v", got)
		}
		h.put(catalogapi.Product{ID: h.ids[1], Name: "Studio Headphones", Brand: "Audio-Technica", Category: "audio", Price: 14900, Currency: "USD",
			Status: catalogapi.StatusArchived, CreatedAt: time.Now()}, catalogapi.EventProductArchived)
		h.settle()
		if got := names(h.search(engine.Query{Text: "headphones"})); slices.Contains(got, "Studio Headphones") {
			t.Fatalf("archived product found: %v", got)
		}
		for _, text := range []string{strings.Repeat("headphones ", 1000), "'; DROP TABLE search.products; --", `% _ \ " & | ! ( ) : * < >`, "🎧🎧", "ёжик 東京", "   "} {
			h.search(engine.Query{Text: text})
			if _, err := h.b.Suggest(context.Background(), text, 10); err != nil {
				t.Fatalf("suggest %q: %v", text, err)
			}
		}
	})
}
