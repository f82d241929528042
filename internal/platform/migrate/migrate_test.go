package migrate_test

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/opencommerce/commerce/internal/platform/migrate"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

var files = fstest.MapFS{
	"platform/0001_init.up.sql":   {Data: []byte("CREATE SCHEMA p; CREATE TABLE p.a (id int);")},
	"platform/0001_init.down.sql": {Data: []byte("DROP SCHEMA p CASCADE;")},
	"shop/0001_init.up.sql":       {Data: []byte("CREATE SCHEMA s; CREATE TABLE s.b (id int);")},
	"shop/0001_init.down.sql":     {Data: []byte("DROP SCHEMA s CASCADE;")},
	"shop/0002_more.up.sql":       {Data: []byte("ALTER TABLE s.b ADD COLUMN n int;")},
	"shop/0002_more.down.sql":     {Data: []byte("ALTER TABLE s.b DROP COLUMN n;")},
}

func TestUpDownStatusAndConcurrentStart(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	db, err := pg.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := migrate.New(db.SQL(), files, []string{"platform", "shop"})
	if err != nil {
		t.Fatal(err)
	}
	// Two processes starting together: the lock serialises them and
	// exactly three migrations are applied in total.
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errs := make([]error, 4)
	for i := range counts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			counts[i], errs[i] = m.Up(ctx)
		}(i)
	}
	wg.Wait()
	total := 0
	for i := range counts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += counts[i]
	}
	if total != 3 {
		t.Fatalf("applied %d, want 3", total)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO s.b (id, n) VALUES (1, 2)"); err != nil {
		t.Fatal(err)
	}
	n, err := m.Down(ctx, 1)
	if err != nil || n != 1 {
		t.Fatalf("down: %d %v", n, err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[2].AppliedAt != nil || st[1].AppliedAt == nil {
		t.Fatalf("status: %+v", st)
	}
	if n, err := m.Up(ctx); err != nil || n != 1 {
		t.Fatalf("re-up: %d %v", n, err)
	}
}
