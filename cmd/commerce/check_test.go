package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server/check"
)

// `commerce check` connects with DATABASE_URL (here its flag), exits 0 on
// a clean shop and 1 with the violation in its JSON report otherwise; a
// bad --grace is refused before connecting.
func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--grace", "soon"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--grace") {
		t.Fatalf("bad grace: exit %d: %s", code, errb.String())
	}
	dsn := pgtest.NewDatabase(t)
	dataDir := t.TempDir()
	if code := run([]string{"migrate", "up", "--database-url", dsn, "--data-dir", dataDir}, &out, &errb); code != 0 {
		t.Fatalf("migrate: %s", errb.String())
	}
	report := func(wantCode int) check.Report {
		t.Helper()
		out.Reset()
		errb.Reset()
		if code := run([]string{"check", "--json", "--grace=0s", "--database-url", dsn, "--data-dir", dataDir}, &out, &errb); code != wantCode {
			t.Fatalf("exit %d, want %d: %s %s", code, wantCode, out.String(), errb.String())
		}
		var r check.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		return r
	}
	if r := report(0); len(r.Violations) != 0 || len(r.Skipped) != 0 {
		t.Fatalf("empty shop: %+v", r)
	}
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), `INSERT INTO ordering.orders (id, user_id, checkout_session_id, status, items, subtotal, discount, shipping_cost, total, currency, address, courier, payment_gateway)
		VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'placing', '[]', 0, 0, 0, 0, 'USD', '{}', 'standard', 'test')`); err != nil {
		t.Fatal(err)
	}
	if r := report(1); len(r.Violations) != 1 || r.Violations[0].Invariant != check.OrderPlacing {
		t.Fatalf("placing order: %+v", r.Violations)
	}
}
