package httpx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// A request whose database connection breaks (terminated backend, closed
// pool) or whose statement runs over statement_timeout answers 503
// database_unavailable with Retry-After, not 500.
func TestDatabaseConnectionFailuresAre503(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	db, err := pg.Open(ctx, dsn, pg.WithSessionTimeouts(200*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	app := httpx.NewApp(httpx.Config{BodyLimit: 1 << 20, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	app.Get("/terminated", func(c *fiber.Ctx) error {
		conn, err := db.Conn(c.UserContext())
		if err != nil {
			return err
		}
		defer conn.Close()
		tx, err := conn.BeginTx(c.UserContext(), nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		var pid int
		if err := tx.QueryRowContext(c.UserContext(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		if _, err := admin.Exec(c.UserContext(), "SELECT pg_terminate_backend($1)", pid); err != nil {
			return err
		}
		// The backend is gone before the transaction's next statement.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var n int
			if err := admin.QueryRow(c.UserContext(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
				return err
			}
			if n == 0 || time.Now().After(deadline) {
				break
			}
		}
		_, err = tx.ExecContext(c.UserContext(), "SELECT 1")
		return fmt.Errorf("load cart: %w", err)
	})
	app.Get("/slow", func(c *fiber.Ctx) error {
		_, err := db.ExecContext(c.UserContext(), "SELECT pg_sleep(2)")
		return fmt.Errorf("report: %w", err)
	})
	app.Get("/categorised", func(c *fiber.Ctx) error {
		// An error already categorised keeps its category even when its
		// cause is a connection failure.
		_, err := db.ExecContext(c.UserContext(), "SELECT pg_sleep(2)")
		return &errs.Error{Kind: errs.Conflict, Code: "version_conflict", Detail: "stale", Cause: err}
	})
	app.Get("/syntax", func(c *fiber.Ctx) error {
		_, err := db.ExecContext(c.UserContext(), "SELEC 1")
		return err
	})

	for _, path := range []string{"/terminated", "/slow"} {
		res, err := app.Test(httptest.NewRequest("GET", path, nil), 10_000)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d Retry-After=%q %s", path, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		var p httpx.Problem
		if err := json.Unmarshal(body, &p); err != nil || p.Code != "database_unavailable" || p.Status != 503 {
			t.Fatalf("%s: problem %s (%v)", path, body, err)
		}
	}
	if status, m := problem(t, app, "/categorised"); status != 409 || m["code"] != "version_conflict" {
		t.Fatalf("categorised: %d %v", status, m)
	}
	if status, m := problem(t, app, "/syntax"); status != 500 || m["code"] != "internal" {
		t.Fatalf("a broken query is still 500: %d %v", status, m)
	}
}

// Every 503 carries Retry-After, also when its error names none (a
// neighbour unreachable over gRPC, an upstream of the gateway down).
func TestEvery503SaysWhenToRetry(t *testing.T) {
	app := httpx.NewApp(httpx.Config{BodyLimit: 1 << 20, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	app.Get("/down", func(c *fiber.Ctx) error {
		return errs.New(errs.Unavailable, "unavailable", "a service this request needs is unavailable; retry shortly")
	})
	res, err := app.Test(httptest.NewRequest("GET", "/down", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "1" || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d Retry-After=%q %q", res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
	}
}
