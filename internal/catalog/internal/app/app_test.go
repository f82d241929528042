package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/adapters"
	. "github.com/opencommerce/commerce/internal/catalog/internal/app"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

func newService(t testing.TB) (*Service, *pg.DB) {
	s, db, _ := newServiceWith(t, nil)
	return s, db
}

// newServiceWith builds the service on a fresh database and Redis with the
// clock clk (nil: the system clock), returning its cache too.
func newServiceWith(t testing.TB, clk clock.Clock) (*Service, *pg.DB, *adapters.Cache) {
	t.Helper()
	db := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus, err := events.NewBus(db, log, events.BusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.InitTopics(catalogapi.Topics...); err != nil {
		t.Fatal(err)
	}
	rdb, err := redisx.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	cache := adapters.NewCache(rdb, time.Minute)
	return New(adapters.NewStore(db, events.NewOutbox(log)), cache, clk, log), db, cache
}

func product(t testing.TB, s *Service, stock int) string {
	t.Helper()
	price := int64(1000)
	p, err := s.CreateProduct(context.Background(), ProductInput{SKU: "SKU-" + uuid.NewString()[:8], Name: "P", Category: "c", Price: &price, Currency: "EUR", InitialStock: stock})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func scalar(t *testing.T, db *pg.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNoOversellUnder200ConcurrentReservations(t *testing.T) {
	s, db := newService(t)
	id := product(t, s, 50)
	var ok, short atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Reserve(context.Background(), uuid.Must(uuid.NewV7()).String(), []catalogapi.Line{{ProductID: id, Quantity: 1}}, nil)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, catalogapi.ErrInsufficientStock):
				short.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 50 || short.Load() != 150 {
		t.Fatalf("reserved %d, refused %d; want 50 and 150", ok.Load(), short.Load())
	}
	p, _ := s.Product(context.Background(), id)
	if p.Stock.OnHand != 50 || p.Stock.Reserved != 50 || p.Stock.Available != 0 {
		t.Fatalf("stock %+v", p.Stock)
	}
	if n := scalar(t, db, "SELECT coalesce(sum(delta_reserved), 0) FROM catalog.stock_ledger WHERE product_id = ?", id); n != 50 {
		t.Fatalf("ledger reserved %d", n)
	}
	if n := scalar(t, db, "SELECT coalesce(sum(delta_on_hand), 0) FROM catalog.stock_ledger WHERE product_id = ?", id); n != 50 {
		t.Fatalf("ledger on_hand %d", n)
	}
	if n := scalar(t, db, "SELECT coalesce(sum(quantity), 0) FROM catalog.reservations WHERE product_id = ? AND status = 'reserved'", id); n != 50 {
		t.Fatalf("reservations %d", n)
	}
}

func TestOppositeOrderMultiLineReservationsDoNotDeadlock(t *testing.T) {
	s, db := newService(t)
	ids := []string{product(t, s, 1000), product(t, s, 1000), product(t, s, 1000)}
	var wg sync.WaitGroup
	errc := make(chan error, 120)
	for i := 0; i < 120; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lines := []catalogapi.Line{{ProductID: ids[0], Quantity: 1}, {ProductID: ids[1], Quantity: 2}, {ProductID: ids[2], Quantity: 3}}
			if i%2 == 1 {
				lines[0], lines[2] = lines[2], lines[0]
			}
			errc <- s.Reserve(context.Background(), uuid.Must(uuid.NewV7()).String(), lines, nil)
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("reservations did not finish: deadlock?")
	}
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := scalar(t, db, "SELECT reserved FROM catalog.stock WHERE product_id = ?", ids[2]); n != 360 {
		t.Fatalf("reserved %d", n)
	}
}

func TestReservationLifecycleIsIdempotentAndAllOrNothing(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	a, b := product(t, s, 5), product(t, s, 1)
	order := uuid.Must(uuid.NewV7()).String()

	// b is short: nothing at all is reserved.
	err := s.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 2}, {ProductID: b, Quantity: 2}}, nil)
	if !errors.Is(err, catalogapi.ErrInsufficientStock) {
		t.Fatalf("want insufficient_stock, got %v", err)
	}
	if n := scalar(t, db, "SELECT sum(reserved) FROM catalog.stock"); n != 0 {
		t.Fatalf("partial reservation: %d", n)
	}

	lines := []catalogapi.Line{{ProductID: a, Quantity: 2}, {ProductID: b, Quantity: 1}}
	for i := 0; i < 3; i++ {
		if err := s.Reserve(ctx, order, lines, nil); err != nil {
			t.Fatalf("reserve #%d: %v", i, err)
		}
	}
	if err := s.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 3}}, nil); !errors.Is(err, catalogapi.ErrReservationDiffer) {
		t.Fatalf("other lines for the same order: %v", err)
	}
	if n := scalar(t, db, "SELECT reserved FROM catalog.stock WHERE product_id = ?", a); n != 2 {
		t.Fatalf("reserved %d after repeats", n)
	}
	for i := 0; i < 2; i++ {
		if err := s.Commit(ctx, order); err != nil {
			t.Fatal(err)
		}
	}
	pa, _ := s.Product(ctx, a)
	if pa.Stock.OnHand != 3 || pa.Stock.Reserved != 0 {
		t.Fatalf("after commit: %+v", pa.Stock)
	}
	if err := s.Release(ctx, order, "late cancel"); err != nil {
		t.Fatal(err) // committed: release is a no-op
	}
	if pa, _ = s.Product(ctx, a); pa.Stock.OnHand != 3 {
		t.Fatalf("release after commit changed stock: %+v", pa.Stock)
	}

	other := uuid.Must(uuid.NewV7()).String()
	if err := s.Reserve(ctx, other, []catalogapi.Line{{ProductID: a, Quantity: 3}}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.Release(ctx, other, "canceled"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx, other); !errors.Is(err, catalogapi.ErrReservationClosed) {
		t.Fatalf("commit after release: %v", err)
	}
	if pa, _ = s.Product(ctx, a); pa.Stock.Available != 3 {
		t.Fatalf("after release: %+v", pa.Stock)
	}
	kinds := scalar(t, db, "SELECT count(DISTINCT kind) FROM catalog.stock_ledger WHERE product_id = ?", a)
	if kinds != 4 {
		t.Fatalf("ledger kinds %d, want adjust/reserve/commit/release", kinds)
	}
	// Every movement went through the outbox, in the same transactions.
	moves := scalar(t, db, "SELECT count(*) FROM catalog.stock_ledger")
	if n := scalar(t, db, `SELECT count(*) FROM events.outbox WHERE topic = 'catalog.stock_changed'`); n != moves {
		t.Fatalf("stock_changed events %d, ledger rows %d", n, moves)
	}
	if n := scalar(t, db, `SELECT count(*) FROM events.outbox WHERE topic = 'catalog.product_created'`); n != 2 {
		t.Fatalf("product_created events %d", n)
	}
	if err := s.ArchiveProduct(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.ArchiveProduct(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, db, `SELECT count(*) FROM events.outbox WHERE topic = 'catalog.product_archived'`); n != 1 {
		t.Fatalf("product_archived events %d (archive is idempotent)", n)
	}
	if err := s.Reserve(ctx, uuid.Must(uuid.NewV7()).String(), []catalogapi.Line{{ProductID: b, Quantity: 1}}, nil); !errors.Is(err, catalogapi.ErrInsufficientStock) {
		t.Fatalf("reserving an archived product: %v", err)
	}
	got, err := s.Products(ctx, []string{a, b, "not-an-id", uuid.NewString()})
	if err != nil || len(got) != 2 {
		t.Fatalf("batch lookup: %d %v", len(got), err)
	}
}

func TestExpiredReservationsAreReleased(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	id := product(t, s, 3)
	past := time.Now().Add(-time.Minute)
	if err := s.Reserve(ctx, uuid.Must(uuid.NewV7()).String(), []catalogapi.Line{{ProductID: id, Quantity: 3}}, &past); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if p, _ := s.Product(ctx, id); p.Stock.Available != 3 {
		t.Fatalf("%+v", p.Stock)
	}
}

func TestSingleFlightCollapsesABurstIntoOneRead(t *testing.T) {
	s, _ := newService(t)
	id := product(t, s, 1)
	const burst = 1000
	// The one database read waits until every reader of the burst has
	// missed the cache (and so joins its flight or finds the cache filled
	// after it), instead of holding the flight open for a guessed time.
	var missed, reads atomic.Int32
	allMissed := make(chan struct{})
	s.OnCacheMiss(func() {
		if missed.Add(1) == burst {
			close(allMissed)
		}
	})
	s.DBReads = func() {
		reads.Add(1)
		select {
		case <-allMissed:
		case <-time.After(30 * time.Second):
			t.Error("the burst's readers did not all miss the cache")
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.ProductEntry(context.Background(), id); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d database reads for one burst, want 1", n)
	}
	// Now cached: no more reads.
	if _, err := s.ProductEntry(context.Background(), id); err != nil || reads.Load() != 1 {
		t.Fatalf("cached read hit the database: %d %v", reads.Load(), err)
	}
}

func TestCacheNeverServesAValueOlderThanAWrite(t *testing.T) {
	s, _, cache := newServiceWith(t, nil)
	ctx := context.Background()
	id := product(t, s, 1)
	e1, err := s.ProductEntry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// A slow reader read generation g, then a write happened, then the
	// reader tries to fill: it must be refused.
	_, gen, _, _ := cache.Get(ctx, id)
	p, _ := s.Product(ctx, id)
	price := int64(2000)
	if _, err := s.UpdateProduct(ctx, id, ProductInput{SKU: p.SKU, Name: "New", Category: "c", Price: &price, Currency: "EUR", Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	if err := cache.Fill(ctx, id, gen, e1); err != nil {
		t.Fatal(err)
	}
	e2, err := s.ProductEntry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e2.ETag == e1.ETag {
		t.Fatal("stale entry served after an update")
	}
	if _, err := s.UpdateProduct(ctx, id, ProductInput{SKU: p.SKU, Name: "Stale", Category: "c", Price: &price, Currency: "EUR", Version: p.Version}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if got, _ := s.Product(ctx, id); got.Name != "New" || got.Version != 2 {
		t.Fatalf("stale update wrote: %+v", got)
	}
}

func TestConcurrentRepeatsOfOneReservationReserveOnce(t *testing.T) {
	s, db := newService(t)
	id := product(t, s, 10)
	order := uuid.Must(uuid.NewV7()).String()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Reserve(context.Background(), order, []catalogapi.Line{{ProductID: id, Quantity: 3}}, nil)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := scalar(t, db, "SELECT reserved FROM catalog.stock WHERE product_id = ?", id); n != 3 {
		t.Fatalf("reserved %d, want 3", n)
	}
}

// Reservations expire by the service's clock, not the database's: the
// sweeper leaves a reservation alone until the clock passes its expiry,
// then gives its stock back.
func TestReservationExpiryFollowsTheClock(t *testing.T) {
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	s, _, _ := newServiceWith(t, clk)
	ctx := context.Background()
	id := product(t, s, 4)
	exp := clk.Now().Add(15 * time.Minute)
	if err := s.Reserve(ctx, uuid.Must(uuid.NewV7()).String(), []catalogapi.Line{{ProductID: id, Quantity: 3}}, &exp); err != nil {
		t.Fatal(err)
	}
	clk.Advance(15 * time.Minute)
	if n, err := s.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("at the expiry instant: %d %v", n, err)
	}
	if p, _ := s.Product(ctx, id); p.Stock.Available != 1 {
		t.Fatalf("still reserved: %+v", p.Stock)
	}
	clk.Advance(time.Millisecond)
	if n, err := s.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("past the expiry: %d %v", n, err)
	}
	if p, _ := s.Product(ctx, id); p.Stock.Available != 4 || p.Stock.Reserved != 0 {
		t.Fatalf("after the sweep: %+v", p.Stock)
	}
	if n, err := s.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

// A reservation far in the future is not swept by a clock that has not
// reached it, even if the database's clock would say otherwise.
func TestSweepIgnoresTheDatabaseClock(t *testing.T) {
	clk := clock.NewFake(time.Now().Add(-time.Hour).Truncate(time.Second))
	s, _, _ := newServiceWith(t, clk)
	ctx := context.Background()
	id := product(t, s, 2)
	exp := clk.Now().Add(time.Minute) // already past for the database
	if err := s.Reserve(ctx, uuid.Must(uuid.NewV7()).String(), []catalogapi.Line{{ProductID: id, Quantity: 2}}, &exp); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("swept by the database's clock: %d %v", n, err)
	}
}

// A product page from the cache is the page ListProducts reads from the
// database, product for product (each item is the GET body), with the
// same cursor; it fills the cache, and shows a write at once.
func TestListEntriesIsTheListFromTheCache(t *testing.T) {
	s, _, cache := newServiceWith(t, nil)
	ctx := context.Background()
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = product(t, s, i+1)
	}
	if err := s.ArchiveProduct(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	// One product cached before, the others not.
	if _, err := s.ProductEntry(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	page := func(cur string) ([]string, *string) {
		t.Helper()
		in := ListInput{Status: catalogapi.StatusActive, Limit: 2, Cursor: cur}
		entries, next, err := s.ListEntries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want, wantNext, err := s.ListProducts(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if (next == nil) != (wantNext == nil) || next != nil && *next != *wantNext {
			t.Fatalf("cursor %v, want %v", next, wantNext)
		}
		if len(entries) != len(want) {
			t.Fatalf("%d items, want %d", len(entries), len(want))
		}
		var got []string
		for i, e := range entries {
			var p catalogapi.Product
			if err := json.Unmarshal(e.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.ID != want[i].ID || p.Price != want[i].Price || p.Stock != want[i].Stock || p.Status != catalogapi.StatusActive {
				t.Fatalf("item %d: %+v, want %+v", i, p, want[i])
			}
			one, err := s.ProductEntry(ctx, p.ID)
			if err != nil || one.ETag != e.ETag || string(one.Body) != string(e.Body) {
				t.Fatalf("item %d is not the GET body (%v)", i, err)
			}
			got = append(got, p.ID)
		}
		return got, next
	}
	first, next := page("")
	second, end := page(*next)
	if end != nil || len(first) != 2 || len(second) != 2 {
		t.Fatalf("pages %v %v (end %v): want the 4 active products in two pages", first, second, end)
	}
	for _, id := range ids {
		if _, _, hit, _ := cache.Get(ctx, id); !hit && id != ids[1] {
			t.Errorf("%s not cached after the list", id)
		}
	}
	// A write is on the next page read.
	p, _ := s.Product(ctx, ids[0])
	price := int64(4321)
	if _, err := s.UpdateProduct(ctx, ids[0], ProductInput{SKU: p.SKU, Name: "Renamed", Category: "c", Price: &price, Currency: "EUR", Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := s.ListEntries(ctx, ListInput{Status: catalogapi.StatusActive, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got catalogapi.Product
	if err := json.Unmarshal(entries[0].Body, &got); err != nil || got.ID != ids[0] || got.Price != 4321 || got.Name != "Renamed" {
		t.Fatalf("after the update: %+v %v", got, err)
	}
}

// countingStore counts the list queries that reach the database.
type countingStore struct {
	Store
	listIDs atomic.Int32
}

func (c *countingStore) ListIDs(ctx context.Context, f Filter) ([]string, error) {
	c.listIDs.Add(1)
	return c.Store.ListIDs(ctx, f)
}

// A page served a moment ago is served again without a query; a product
// created, archived or changed in this process is on the next page read
// at once, and a stock move (the bodies' business) keeps the lists.
func TestListEntriesReusesRecentPagesUntilAProductWrite(t *testing.T) {
	_, db, cache := newServiceWith(t, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := &countingStore{Store: adapters.NewStore(db, events.NewOutbox(log))}
	s := New(store, cache, nil, log)
	ctx := context.Background()
	active := func() []string {
		t.Helper()
		entries, _, err := s.ListEntries(ctx, ListInput{Status: catalogapi.StatusActive, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(entries))
		for i, e := range entries {
			var p catalogapi.Product
			if err := json.Unmarshal(e.Body, &p); err != nil {
				t.Fatal(err)
			}
			ids[i] = p.ID
		}
		return ids
	}
	a, b := product(t, s, 5), product(t, s, 5)
	if got := active(); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("first read %v", got)
	}
	before := store.listIDs.Load()
	for range 5 {
		active()
	}
	if n := store.listIDs.Load() - before; n != 0 {
		t.Fatalf("%d list queries for a page served a moment ago, want 0", n)
	}
	three := 3
	if _, err := s.AdjustStock(ctx, a, AdjustInput{Delta: &three, Reason: "count"}); err != nil {
		t.Fatal(err)
	}
	active()
	if n := store.listIDs.Load() - before; n != 0 {
		t.Fatalf("a stock move dropped the cached page (%d queries)", n)
	}
	c := product(t, s, 5)
	if got := active(); !slices.Equal(got, []string{a, b, c}) {
		t.Fatalf("after a create: %v", got)
	}
	if err := s.ArchiveProduct(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := active(); !slices.Equal(got, []string{b, c}) {
		t.Fatalf("after an archive: %v", got)
	}
}

// DisplayProducts (what the cart prices with) comes from the cached
// entries and is the database's products field for field, stock moves and
// product writes included.
func TestProductsFromTheCacheAreTheDatabase(t *testing.T) {
	s, _, _ := newServiceWith(t, nil)
	ctx := context.Background()
	a, b := product(t, s, 7), product(t, s, 9)
	check := func(when string) {
		t.Helper()
		got, err := s.DisplayProducts(ctx, []string{a, b, "not-an-id", uuid.NewString()})
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := s.ListProducts(ctx, ListInput{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%s: %d products, want 2", when, len(got))
		}
		for _, w := range want {
			g := got[w.ID]
			if g.Price != w.Price || g.Stock != w.Stock || g.Name != w.Name || g.Status != w.Status || g.Version != w.Version ||
				!g.UpdatedAt.Equal(w.UpdatedAt) || g.SKU != w.SKU || g.WeightGrams != w.WeightGrams {
				t.Fatalf("%s: %+v, want %+v", when, g, w)
			}
		}
	}
	check("cold")
	check("cached")
	if err := s.Reserve(ctx, uuid.NewString(), []catalogapi.Line{{ProductID: a, Quantity: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	check("after a reservation")
	p, _ := s.Product(ctx, b)
	price := int64(777)
	if _, err := s.UpdateProduct(ctx, b, ProductInput{SKU: p.SKU, Name: "New", Category: "c", Price: &price, Currency: "EUR", Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	check("after an update")
}

// Concurrent reservations of many orders, which share transactions
// (group commit), never reserve more than the stock: every order is
// reserved whole or refused whole, the stock row, the reservations and
// the ledger agree, and each reserved order published its stock events.
func TestConcurrentOrdersShareTransactionsAndNeverOversell(t *testing.T) {
	s, db := newService(t)
	a, b := product(t, s, 40), product(t, s, 1000)
	const orders = 64
	var wg sync.WaitGroup
	results := make([]error, orders)
	ids := make([]string, orders)
	for i := range orders {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each order takes 1 of a (40 in stock) and 2 of b; every
			// fourth asks for 41 of a and can never be served.
			q := 1
			if i%4 == 3 {
				q = 41
			}
			results[i] = s.Reserve(context.Background(), ids[i], []catalogapi.Line{{ProductID: a, Quantity: q}, {ProductID: b, Quantity: 2}}, nil)
			if results[i] == nil { // a repeat is a no-op
				results[i] = s.Reserve(context.Background(), ids[i], []catalogapi.Line{{ProductID: a, Quantity: q}, {ProductID: b, Quantity: 2}}, nil)
			}
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case err == nil:
			ok++
			if i%4 == 3 {
				t.Fatalf("order %d reserved 41 of 40", i)
			}
		case !errors.Is(err, catalogapi.ErrInsufficientStock):
			t.Fatalf("order %d: %v", i, err)
		}
	}
	if ok != 40 {
		t.Fatalf("%d orders reserved, want 40 (the stock of a)", ok)
	}
	if n := scalar(t, db, "SELECT reserved FROM catalog.stock WHERE product_id = ?", a); n != 40 {
		t.Fatalf("a reserved %d, want 40", n)
	}
	if n := scalar(t, db, "SELECT reserved FROM catalog.stock WHERE product_id = ?", b); n != 80 {
		t.Fatalf("b reserved %d, want 80", n)
	}
	if n := scalar(t, db, "SELECT count(DISTINCT order_id) FROM catalog.reservations WHERE status = 'reserved'"); n != 40 {
		t.Fatalf("%d orders hold reservations, want 40", n)
	}
	if n := scalar(t, db, "SELECT coalesce(sum(delta_reserved), 0) FROM catalog.stock_ledger WHERE kind = 'reserve'"); n != 120 {
		t.Fatalf("ledger reserves %d, want 120", n)
	}
	if n := scalar(t, db, "SELECT count(*) FROM events.outbox WHERE topic = ? AND payload::text LIKE '%\"kind\":\"reserve\"%'", catalogapi.EventStockChanged); n != 80 {
		t.Fatalf("%d reserve stock events, want 80", n)
	}
	// Each event tells the position after its own order: a's reserved
	// counts are 1, 2, … 40 once each, in the outbox's order.
	var reserved []int
	if err := db.NewRaw(`SELECT (payload::jsonb->'data'->>'reserved')::int FROM events.outbox
		WHERE topic = ? AND payload::jsonb->'data'->>'product_id' = ? AND payload::jsonb->'data'->>'kind' = 'reserve' ORDER BY id`,
		catalogapi.EventStockChanged, a).Scan(context.Background(), &reserved); err != nil {
		t.Fatal(err)
	}
	if len(reserved) != 40 {
		t.Fatalf("%d reserve events of a, want 40", len(reserved))
	}
	for i, n := range reserved {
		if n != i+1 {
			t.Fatalf("a's reserve events tell reserved %v, want 1 … 40 in order", reserved)
		}
	}
}
