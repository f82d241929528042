package search_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/search"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
)

// genCatalog is an in-memory catalog of n shop-like products (brand,
// adjective, noun; category by noun), serving Page for reindex.
type genCatalog struct{ items []catalogapi.Product }

var (
	benchBrands = []string{"Acme", "Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne",
		"Wonka", "Tyrell", "Cyberdyne", "Aperture", "Gringotts", "Oceanic", "Monarch", "Dunder", "Samsung", "Sony"}
	benchAdjectives = []string{"Classic", "Premium", "Compact", "Wireless", "Eco", "Pro", "Ultra", "Essential", "Deluxe", "Smart", "Travel", "Vintage"}
	benchNouns      = map[string][]string{
		"audio": {"Headphones", "Earbuds", "Speaker", "Soundbar"}, "computers": {"Laptop", "Monitor", "Keyboard", "Mouse"},
		"phones": {"Smartphone", "Charger", "Case"}, "kitchen": {"Kettle", "Blender", "Knife", "Grinder"},
		"home": {"Lamp", "Blanket", "Clock", "Mirror"}, "sports": {"Dumbbell", "Tent", "Bottle", "Sneakers"},
	}
)

func newGenCatalog(n int) *genCatalog {
	r := rand.New(rand.NewPCG(1, 2))
	cats := make([]string, 0, len(benchNouns))
	for c := range benchNouns {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	g := &genCatalog{}
	base := time.Now().Add(-time.Duration(n) * time.Second)
	for i := 0; i < n; i++ {
		c := cats[r.IntN(len(cats))]
		noun := benchNouns[c][r.IntN(len(benchNouns[c]))]
		brand, adj := benchBrands[r.IntN(len(benchBrands))], benchAdjectives[r.IntN(len(benchAdjectives))]
		g.items = append(g.items, catalogapi.Product{ID: uuid.Must(uuid.NewV7()).String(), SKU: fmt.Sprint("B-", i), Name: brand + " " + adj + " " + noun,
			Brand: brand, Category: c, Description: "A " + strings.ToLower(adj) + " " + strings.ToLower(noun) + " by " + brand + ".",
			Price: int64(500 + r.IntN(100000)), Currency: "USD", Status: catalogapi.StatusActive, Version: 1, CreatedAt: base.Add(time.Duration(i) * time.Second),
			Attributes: map[string]any{"color": "black"}, Images: []string{}, Stock: catalogapi.Stock{OnHand: r.IntN(100)}})
	}
	return g
}

func (g *genCatalog) Page(_ context.Context, after string, limit int) ([]catalogapi.Product, int, error) {
	i, _ := slices.BinarySearchFunc(g.items, after, func(p catalogapi.Product, id string) int { return strings.Compare(p.ID, id) })
	if after != "" && i < len(g.items) && g.items[i].ID == after {
		i++
	}
	return g.items[i:min(i+limit, len(g.items))], len(g.items), nil
}

var errUnused = errors.New("not used by reindex")

func (g *genCatalog) Product(context.Context, string) (catalogapi.Product, error) {
	return catalogapi.Product{}, errUnused
}
func (g *genCatalog) Products(context.Context, []string) (map[string]catalogapi.Product, error) {
	return nil, errUnused
}
func (g *genCatalog) DisplayProducts(context.Context, []string) (map[string]catalogapi.Product, error) {
	return nil, errUnused
}
func (g *genCatalog) Reserve(context.Context, string, []catalogapi.Line, *time.Time) error {
	return errUnused
}
func (g *genCatalog) Release(context.Context, string, string) error { return errUnused }
func (g *genCatalog) Commit(context.Context, string) error          { return errUnused }
func (g *genCatalog) LowStock(context.Context, int, int) ([]catalogapi.LowStockItem, error) {
	return nil, errUnused
}

// typo drops one inner letter.
func typo(w string, r *rand.Rand) string {
	if len(w) < 5 {
		return w
	}
	i := 1 + r.IntN(len(w)-2)
	return w[:i] + w[i+1:]
}

// BenchmarkSearch100k reindexes 100,000 products (SEARCH_BENCH_PRODUCTS
// to change) and then measures, side by side in one run, two-word queries
// with one typo plus a category and a brand filter against the same
// queries spelled right (the typo-correction overhead) and the typo
// queries without filters (large result sets, facets over thousands),
// reporting p50/p95.
//
//	go test -run '^$' -bench Search100k -benchtime 2000x ./internal/search/
func BenchmarkSearch100k(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SEARCH_BENCH_PRODUCTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	db := pgtest.New(b)
	cat := newGenCatalog(n)
	m, err := search.New(search.Deps{DB: db, Catalog: cat, Backend: "postgres", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	began := time.Now()
	if _, err := m.Reindex(ctx, nil); err != nil {
		b.Fatal(err)
	}
	indexRate := float64(n) / time.Since(began).Seconds()
	if _, err := db.ExecContext(ctx, "ANALYZE search.products; ANALYZE search.terms; ANALYZE search.stock"); err != nil {
		b.Fatal(err)
	}
	be := m.BackendForTest()
	r := rand.New(rand.NewPCG(3, 4))
	type pair struct{ typo, exact, broad engine.Query }
	var qs []pair
	cats := []string{"audio", "computers", "phones", "kitchen", "home", "sports"}
	for i := 0; i < 500; i++ {
		c := cats[r.IntN(len(cats))]
		noun := strings.ToLower(benchNouns[c][r.IntN(len(benchNouns[c]))])
		adj := strings.ToLower(benchAdjectives[r.IntN(len(benchAdjectives))])
		brand := benchBrands[r.IntN(len(benchBrands))]
		exact := engine.Query{Text: adj + " " + noun, Category: c, Brand: brand, Limit: 20}
		t := exact
		t.Text = adj + " " + typo(noun, r)
		broad := t
		broad.Category, broad.Brand = "", ""
		qs = append(qs, pair{t, exact, broad})
	}
	var typoLat, exactLat, broadLat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := qs[i%len(qs)]
		t0 := time.Now()
		if _, err := be.Search(ctx, p.typo); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := be.Search(ctx, p.exact); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := be.Search(ctx, p.broad); err != nil {
			b.Fatal(err)
		}
		typoLat, exactLat, broadLat = append(typoLat, t1.Sub(t0)), append(exactLat, t2.Sub(t1)), append(broadLat, time.Since(t2))
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(typoLat, 0.50), "typo_p50_ms")
	b.ReportMetric(pct(typoLat, 0.95), "typo_p95_ms")
	b.ReportMetric(pct(exactLat, 0.50), "exact_p50_ms")
	b.ReportMetric(pct(exactLat, 0.95), "exact_p95_ms")
	b.ReportMetric(pct(broadLat, 0.50), "nofilter_p50_ms")
	b.ReportMetric(pct(broadLat, 0.95), "nofilter_p95_ms")
	b.ReportMetric(indexRate, "reindex_products/s")
}
