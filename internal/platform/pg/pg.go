// Package pg opens PostgreSQL through pgx v5 and exposes it as bun (for
// queries) and database/sql (for watermill-sql), one pool for both.
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DB bundles the views of one connection pool that the layers need.
type DB struct {
	*bun.DB
	Pool *pgxpool.Pool
}

// Open connects and pings, retrying briefly so that a database that is
// still starting (compose, embedded) does not fail the process.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
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
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Pool: pool}, nil
}

// Option adjusts the pool configuration.
type Option func(*pgxpool.Config)

// WithTracer traces every query (statement counting in benchmarks).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// WithMaxConns sets the pool size.
func WithMaxConns(n int32) Option {
	return func(c *pgxpool.Config) { c.MaxConns = n }
}

// SQL returns the database/sql handle (for watermill-sql).
func (d *DB) SQL() *sql.DB { return d.DB.DB }

// Close closes the database/sql view and the pool.
func (d *DB) Close() error {
	err := d.DB.Close()
	d.Pool.Close()
	return err
}

// InTx runs fn in a transaction, committing when it returns nil. It is the
// one transaction shape: state change and outbox rows commit together.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return d.RunInTx(ctx, nil, fn)
}

// IsUniqueViolation reports a duplicate-key error (SQLSTATE 23505), the
// way repositories detect taken unique values and racing inserts.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
