package app

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/events"
)

type seedCategory struct {
	name       string
	nouns      []string
	minPrice   int64 // minor units
	maxPrice   int64
	minWeight  int // grams
	maxWeight  int
	popularity int // relative share of products
	// brands are real makers of the category, drawn beside the demo
	// brands so that searches like the README's (`sumsung`) find them.
	brands []string
}

var seedCategories = []seedCategory{
	{"audio", []string{"Headphones", "Earbuds", "Speaker", "Soundbar", "Turntable"}, 1999, 49999, 80, 4000, 12, []string{"Samsung", "Sony"}},
	{"computers", []string{"Laptop", "Monitor", "Keyboard", "Mouse", "Webcam"}, 1499, 299999, 90, 9000, 10, []string{"Samsung"}},
	{"phones", []string{"Smartphone", "Phone Case", "Charger", "Screen Protector"}, 599, 129999, 20, 400, 10, []string{"Samsung"}},
	{"home", []string{"Lamp", "Blanket", "Vase", "Clock", "Mirror"}, 999, 19999, 200, 8000, 9, nil},
	{"kitchen", []string{"Kettle", "Blender", "Knife Set", "Pan", "Coffee Grinder"}, 1299, 39999, 300, 6000, 9, nil},
	{"garden", []string{"Hose", "Planter", "Shears", "Lantern"}, 799, 14999, 150, 12000, 6, nil},
	{"sports", []string{"Yoga Mat", "Dumbbell", "Running Shoes", "Water Bottle", "Tent"}, 999, 39999, 100, 20000, 8, nil},
	{"toys", []string{"Puzzle", "Building Set", "Plush Bear", "Board Game"}, 499, 9999, 100, 2500, 7, nil},
	{"books", []string{"Novel", "Cookbook", "Travel Guide", "Notebook"}, 499, 4999, 150, 1500, 8, nil},
	{"fashion", []string{"T-Shirt", "Jacket", "Sneakers", "Backpack", "Scarf"}, 1499, 24999, 100, 2000, 11, nil},
	{"beauty", []string{"Shampoo", "Face Cream", "Perfume", "Hair Dryer"}, 599, 14999, 50, 1200, 5, nil},
	{"office", []string{"Desk Chair", "Pen Set", "Desk Organizer", "Printer Paper"}, 299, 49999, 50, 25000, 5, nil},
}

var (
	seedBrands     = []string{"Acme", "Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Aperture", "Gringotts", "Oceanic", "Monarch", "Dunder", "Pied Piper", "Massive Dynamic"}
	seedAdjectives = []string{"Classic", "Premium", "Compact", "Wireless", "Eco", "Pro", "Ultra", "Essential", "Deluxe", "Smart", "Travel", "Vintage", "Modern", "Rugged", "Lightweight"}
	seedColors     = []string{"black", "white", "red", "blue", "green", "grey", "silver", "beige"}
)

// showcase are the first demo products: what the README's examples look
// for (`sumsung` → Samsung, `hedphones` → headphones) exists even in a
// small seed. The generated products follow.
var showcase = []struct {
	name, category, brand, noun, color string
	price                              int64
	weight, stock                      int
}{
	{"Samsung Wireless Headphones", "audio", "Samsung", "Headphones", "black", 12999, 250, 40},
	{"Samsung Galaxy Smartphone", "phones", "Samsung", "Smartphone", "silver", 79999, 190, 25},
	{"Northwind Studio Headphones", "audio", "Northwind", "Headphones", "white", 8999, 300, 60},
}

// DemoProducts returns the i-th to (i+n-1)-th products of the deterministic
// demo catalog: the same index always yields the same product.
func DemoProducts(from, n int) []ProductInput {
	total := 0
	for _, c := range seedCategories {
		total += c.popularity
	}
	out := make([]ProductInput, 0, n)
	for i := from; i < from+n; i++ {
		if i < len(showcase) {
			sc := showcase[i]
			price := sc.price
			out = append(out, ProductInput{
				SKU: fmt.Sprintf("DEMO-%06d", i), Name: sc.name, Category: sc.category, Brand: sc.brand,
				Description: fmt.Sprintf("%s by %s in %s.", sc.noun, sc.brand, sc.color),
				Attributes:  map[string]any{"color": sc.color}, Price: &price, Currency: "USD",
				WeightGrams: sc.weight, InitialStock: sc.stock,
			})
			continue
		}
		r := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
		pick := r.IntN(total)
		var c seedCategory
		for _, c = range seedCategories {
			if pick < c.popularity {
				break
			}
			pick -= c.popularity
		}
		brand := seedBrands[r.IntN(len(seedBrands))]
		if len(c.brands) > 0 && r.IntN(8) == 0 {
			brand = c.brands[r.IntN(len(c.brands))]
		}
		noun := c.nouns[r.IntN(len(c.nouns))]
		adj := seedAdjectives[r.IntN(len(seedAdjectives))]
		price := c.minPrice + r.Int64N(c.maxPrice-c.minPrice+1)
		price = price/100*100 + 99 // 12.99-style prices
		color := seedColors[r.IntN(len(seedColors))]
		out = append(out, ProductInput{
			SKU:         fmt.Sprintf("DEMO-%06d", i),
			Name:        fmt.Sprintf("%s %s %s", brand, adj, noun),
			Description: fmt.Sprintf("A %s %s by %s in %s.", adj, noun, brand, color),
			Category:    c.name,
			Brand:       brand,
			Attributes:  map[string]any{"color": color},
			Price:       &price,
			Currency:    "USD",
			WeightGrams: c.minWeight + r.IntN(c.maxWeight-c.minWeight+1),
			InitialStock: func() int {
				if r.IntN(10) == 0 {
					return 0 // some products start sold out
				}
				return 5 + r.IntN(200)
			}(),
		})
	}
	return out
}

// Seed adds the first n demo products in batches; products whose SKU
// exists are skipped, so running it twice adds nothing. progress is called
// after each batch with the number of products processed. It ends with
// ANALYZE of the catalog tables it filled.
func (s *Service) Seed(ctx context.Context, n int, progress func(done int)) (int, error) {
	const batch = 500
	created := 0
	for from := 0; from < n; from += batch {
		size := min(batch, n-from)
		c, err := s.importBatch(ctx, DemoProducts(from, size))
		if err != nil {
			return created, err
		}
		created += c
		if progress != nil {
			progress(from + size)
		}
	}
	// Statistics now: until autovacuum gets to it, a freshly loaded table
	// looks empty to the planner and the product list sorts every row.
	if err := s.store.Analyze(ctx); err != nil {
		return created, fmt.Errorf("seed: %w", err)
	}
	return created, nil
}

// importBatch inserts products (skipping known SKUs), their stock, ledger
// rows and events in one transaction.
func (s *Service) importBatch(ctx context.Context, in []ProductInput) (int, error) {
	rows := make([]ProductRecord, 0, len(in))
	for _, p := range in {
		d, err := p.draft()
		if err != nil {
			return 0, fmt.Errorf("demo product %s: %w", p.SKU, err)
		}
		r := rowFromDraft(uuid.Must(uuid.NewV7()).String(), d)
		r.OnHand = p.InitialStock
		rows = append(rows, *r)
	}
	created := 0
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		inserted, err := r.InsertProducts(ctx, rows)
		if err != nil {
			return err
		}
		created = len(inserted)
		var evs []events.Envelope
		var moves []Movement
		for i := range inserted {
			ev, err := productEvent(catalogapi.EventProductCreated, &inserted[i])
			if err != nil {
				return err
			}
			evs = append(evs, ev)
			if inserted[i].OnHand > 0 {
				moves = append(moves, Movement{ProductID: inserted[i].ID, DeltaOnHand: inserted[i].OnHand})
			}
		}
		if len(moves) > 0 {
			after, err := r.Move(ctx, "adjust", "initial stock", "seed", moves)
			if err != nil {
				return err
			}
			sev, err := stockEvents("adjust", "initial stock", "seed", moves, after)
			if err != nil {
				return err
			}
			evs = append(evs, sev...)
		}
		return r.Publish(ctx, evs...)
	})
	if err != nil {
		return 0, fmt.Errorf("seed %d products: %w", len(in), err)
	}
	s.forgetPages()
	return created, nil
}
