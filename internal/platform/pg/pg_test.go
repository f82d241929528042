package pg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

func open(t *testing.T, opts ...pg.Option) *pg.DB {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	db, err := pg.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func show(t *testing.T, db *pg.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(context.Background(), "SHOW "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSessionTimeoutsAreConnectionSettings(t *testing.T) {
	ctx := context.Background()
	db := open(t, pg.WithSessionTimeouts(300*time.Millisecond, 1500*time.Millisecond), pg.WithMaxConns(3))
	if got := show(t, db, "statement_timeout"); got != "300ms" {
		t.Fatalf("statement_timeout = %q, want 300ms", got)
	}
	if got := show(t, db, "idle_in_transaction_session_timeout"); got != "1500ms" {
		t.Fatalf("idle_in_transaction_session_timeout = %q, want 1500ms", got)
	}
	if got := db.Pool.Config().MaxConns; got != 3 {
		t.Fatalf("MaxConns = %d, want 3", got)
	}
	// Through the pool as well as through bun/database/sql.
	var v string
	if err := db.Pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&v); err != nil || v != "300ms" {
		t.Fatalf("pool connection: %q %v", v, err)
	}

	_, err := db.ExecContext(ctx, "SELECT pg_sleep(2)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("a statement over statement_timeout: %v, want SQLSTATE 57014", err)
	}
	if !pg.IsConnectionError(err) {
		t.Fatalf("statement timeout not classified as a database availability error: %v", err)
	}

	// A transaction left idle is ended by the server; its next statement fails.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	var pid uint32
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	waitGone(t, func(q string, pid uint32) (n int, err error) {
		err = db.Pool.QueryRow(ctx, q, pid).Scan(&n)
		return n, err
	}, pid, 10*time.Second)
	_, err = tx.ExecContext(ctx, "SELECT 1")
	_ = tx.Rollback()
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("statement after idle_in_transaction_session_timeout: %v", err)
	}
	// The pool recovers.
	if got := show(t, db, "statement_timeout"); got != "300ms" {
		t.Fatalf("after the session was ended: %q", got)
	}
}

func TestNoTimeoutsByDefault(t *testing.T) {
	db := open(t)
	if got := show(t, db, "statement_timeout"); got != "0" {
		t.Fatalf("statement_timeout = %q, want 0 (off) without WithSessionTimeouts", got)
	}
	if got := db.Pool.Config().MaxConns; got != 10 {
		t.Fatalf("default MaxConns = %d, want 10", got)
	}
	zero := open(t, pg.WithSessionTimeouts(0, 0), pg.WithMaxConns(0))
	if got := show(t, zero, "idle_in_transaction_session_timeout"); got != "0" {
		t.Fatalf("0 must disable: %q", got)
	}
}

// terminate ends the backend with pid from another connection.
func terminate(t *testing.T, db *pg.DB, pid uint32) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), db.Pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var ok bool
	if err := c.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend: %v %v", ok, err)
	}
	waitGone(t, func(q string, pid uint32) (n int, err error) {
		err = c.QueryRow(context.Background(), q, pid).Scan(&n)
		return n, err
	}, pid, 5*time.Second)
}

// waitGone waits until the backend pid has exited (the server ended it:
// terminated, or past a timeout), asking through query, which runs its
// SQL with the pid on another connection.
func waitGone(t *testing.T, query func(q string, pid uint32) (int, error), pid uint32, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		n, err := query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d still there after %s (%v)", pid, limit, err)
		}
	}
}

func TestIsConnectionErrorOnTerminatedBackends(t *testing.T) {
	ctx := context.Background()
	db := open(t)

	// pgx pool connection.
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, db, pc.Conn().PgConn().PID())
	_, err = pc.Exec(ctx, "SELECT 1")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("first use of a terminated pgx connection: %v (%T)", err, err)
	}
	_, err = pc.Exec(ctx, "SELECT 1")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("second use of a terminated pgx connection: %v (%T)", err, err)
	}
	pc.Release()

	// database/sql connection (what bun uses), inside a transaction so that
	// database/sql cannot silently retry on another connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid uint32
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, db, pid)
	_, err = tx.ExecContext(ctx, "SELECT 1")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("statement on a terminated database/sql connection: %v (%T)", err, err)
	}
	_ = tx.Rollback()
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("reuse of a terminated database/sql connection: %v (%T)", err, err)
	}
	_ = conn.Close()

	// A server that refuses connections.
	_, err = pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("connect refused: %v", err)
	}

	// A closed pool.
	_ = db.Close()
	_, err = db.Pool.Exec(ctx, "SELECT 1")
	if err == nil || !pg.IsConnectionError(err) {
		t.Fatalf("closed pool: %v (%T)", err, err)
	}
}

func TestIsConnectionErrorLeavesOtherErrorsAlone(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	_, syntax := db.ExecContext(ctx, "SELEC 1")
	_, _ = db.ExecContext(ctx, "CREATE TABLE u (k int PRIMARY KEY)")
	_, _ = db.ExecContext(ctx, "INSERT INTO u VALUES (1)")
	_, dup := db.ExecContext(ctx, "INSERT INTO u VALUES (1)")
	if !pg.IsUniqueViolation(dup) {
		t.Fatalf("setup: %v", dup)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, canceled := db.ExecContext(cctx, "SELECT 1")
	for _, err := range []error{nil, syntax, dup, canceled, io.EOF, io.ErrUnexpectedEOF, fmt.Errorf("stripe: %w", io.ErrUnexpectedEOF), errors.New("conn closed")} {
		if pg.IsConnectionError(err) {
			t.Errorf("classified as a database availability error: %v", err)
		}
	}
}
