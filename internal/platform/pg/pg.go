// Package pg opens PostgreSQL through pgx v5 and exposes it as bun (for
// queries) and database/sql (for libraries that take one), one pool for both.
package pg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// ApplicationName is the application_name of the binary's sessions unless
// the DSN sets one.
const ApplicationName = "commerce"

// OldestTransaction is the age of the oldest transaction open in a session
// of this database that carries the application name of db's own sessions
// (0 when none): the gauge that shows a stuck transaction of the shop.
func (d *DB) OldestTransaction(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := d.NewRaw(`SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)::float8 FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = current_setting('application_name') AND pid <> pg_backend_pid()
		AND xact_start IS NOT NULL`).Scan(ctx, &secs)
	if err != nil {
		return 0, fmt.Errorf("oldest transaction: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// DB bundles the views of one connection pool that the layers need.
type DB struct {
	*bun.DB
	Pool *pgxpool.Pool
	// notify sends the notifications of committed transactions (notify.go).
	notify *notifier
}

// Open connects and pings, retrying briefly so that a database that is
// still starting (compose, embedded) does not fail the process.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") && cfg.MaxConns < defaultMaxConns {
		cfg.MaxConns = defaultMaxConns
	}
	for _, o := range opts {
		o(cfg)
	}
	traceQueries(cfg)
	if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
		// Names the binary's sessions in pg_stat_activity (operators, and
		// the oldest-transaction gauge, tell them from everyone else's).
		cfg.ConnConfig.RuntimeParams["application_name"] = ApplicationName
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		err = pool.Ping(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Pool: pool, notify: newNotifier()}, nil
}

// Option adjusts the pool configuration.
type Option func(*pgxpool.Config)

// WithTracer traces every query (statement counting in benchmarks).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// traceQueries adds a client span per statement (and per new connection)
// to the pool when tracing is on (otelx.Setup ran with an endpoint),
// composed with a tracer an Option already set; without tracing the pool
// gets no tracer of its own, so queries cost nothing more. Spans are named
// by the SQL operation ("SELECT", "INSERT") and carry the server, database
// and user, never the statement text (bun inlines the values) nor its
// arguments.
func traceQueries(cfg *pgxpool.Config) {
	if !otelx.Tracing() {
		return
	}
	t := sampledQueries{newQueryTracer(cfg.ConnConfig)}
	if prev := cfg.ConnConfig.Tracer; prev != nil {
		cfg.ConnConfig.Tracer = multitracer.New(prev, t)
		return
	}
	cfg.ConnConfig.Tracer = t
}

// newQueryTracer is the span tracer of a pool connecting with cc (see
// traceQueries), on the installed tracer provider. The connection's
// attributes (system, server, port, database, user) are computed here,
// once: otelpgx's own per-statement reading of them copies the whole
// connection config on every statement.
func newQueryTracer(cc *pgx.ConnConfig) *otelpgx.Tracer {
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(otelx.TracerProvider()),
		otelpgx.WithDisableSQLStatementInAttributes(),
		otelpgx.WithDisableAcquireTracer(),
		otelpgx.WithDisableConnectionDetailsInAttributes(),
		otelpgx.WithTracerAttributes(semconv.DBSystemNamePostgreSQL, semconv.ServerAddress(cc.Host), semconv.ServerPort(int(cc.Port)),
			semconv.UserName(cc.User), semconv.DBNamespace(cc.Database)),
		// Spans only: the pool's metrics are the binary's own.
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
	)
}

// defaultMaxConns is the pool size when neither DATABASE_URL
// (pool_max_conns) nor WithMaxConns chooses one: pgx's own default (the
// number of CPUs, at least 4) starves a shop on a small machine.
const defaultMaxConns = 10

// WithMaxConns sets the pool size (DB_MAX_CONNS), overriding
// pool_max_conns of the DSN; n < 1 leaves the size alone.
func WithMaxConns(n int32) Option {
	return func(c *pgxpool.Config) {
		if n > 0 {
			c.MaxConns = n
		}
	}
}

// WithSessionTimeouts bounds what one connection of the binary can hold
// open on the server: statement_timeout cancels a statement running longer
// than statement (SQLSTATE 57014), idle_in_transaction_session_timeout
// ends a session whose transaction sits idle longer than idleInTx (a stuck
// request must not hold row locks and a connection forever). They are sent
// as startup runtime parameters, so they cost no round trip and hold for
// every connection of the pool. Zero leaves the server's setting (off by
// default); sub-millisecond values round up to 1ms. `commerce serve` uses
// them (DB_STATEMENT_TIMEOUT, DB_IDLE_IN_TRANSACTION_TIMEOUT); the data
// commands (migrate, seed, search reindex, admin) and the migrations run
// at start do not, because their statements may legitimately run long.
func WithSessionTimeouts(statement, idleInTx time.Duration) Option {
	return func(c *pgxpool.Config) {
		if c.ConnConfig.RuntimeParams == nil {
			c.ConnConfig.RuntimeParams = map[string]string{}
		}
		if statement > 0 {
			c.ConnConfig.RuntimeParams["statement_timeout"] = millis(statement)
		}
		if idleInTx > 0 {
			c.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = millis(idleInTx)
		}
	}
}

// millis renders d as a PostgreSQL integer of milliseconds, at least 1
// (0 would mean "off").
func millis(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	return strconv.FormatInt(int64(ms), 10)
}

// SQL returns the database/sql handle (for libraries that need one).
func (d *DB) SQL() *sql.DB { return d.DB.DB }

// Close closes the database/sql view and the pool.
func (d *DB) Close() error {
	d.notify.close()
	err := d.DB.Close()
	d.Pool.Close()
	return err
}

// InTx runs fn in a transaction, committing when it returns nil. It is the
// one transaction shape: state change and outbox rows commit together.
// The notifications fn asked for (NotifyAfterCommit) are sent once it
// committed.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	ac := &afterCommit{}
	err := d.RunInTx(context.WithValue(ctx, afterCommitKey{}, ac), nil, fn)
	if err == nil && len(ac.channels) > 0 {
		d.notify.wake(d, ac.channels)
	}
	return err
}

// IsUniqueViolation reports a duplicate-key error (SQLSTATE 23505), the
// way repositories detect taken unique values and racing inserts.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsConnectionError reports an error that says the database, not the
// request, is at fault, and that a retry soon may succeed: the connection
// was terminated or lost (pg_terminate_backend, a restart or failover:
// SQLSTATE 57P01/57P02/57P03, class 08, the socket closed or reset
// mid-query), the server refuses connections (53300 too many
// connections), the pool is closed, or a statement was cancelled by
// statement_timeout (57014) or its session ended by
// idle_in_transaction_session_timeout (25P03). HTTP answers these 503 with
// Retry-After instead of 500. A bare io.EOF or network error is not
// enough: it must come from pgx, database/sql or the pool, so failures of
// other dependencies keep their own meaning.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // admin/crash shutdown, cannot connect now
			pe.Code == "57014", // query_canceled: statement_timeout
			pe.Code == "25P03", // idle_in_transaction_session_timeout
			pe.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		closedPool(err) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// pgx wraps what it read or wrote on the socket in errors that say
	// whether a retry is safe; that marks the transport errors below as the
	// database's.
	var fromPgx interface{ SafeToRetry() bool }
	if !errors.As(err, &fromPgx) {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ne) && !ne.Timeout()) || pgconn.Timeout(err) && !errors.Is(err, context.Canceled)
}

// closedPool reports pgxpool's "closed pool" (puddle.ErrClosedPool, which
// this module does not import directly) anywhere in err's chain.
func closedPool(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "closed pool" {
			return true
		}
	}
	return false
}
