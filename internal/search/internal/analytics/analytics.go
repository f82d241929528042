// Package analytics logs every search (normalised text, hit count, time)
// in batches off the request path, and answers which queries are most
// frequent and which most often find nothing.
package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Retention is how long queries are kept.
const Retention = 90 * 24 * time.Hour

type entry struct {
	query string
	hits  int
	took  float64
}

// Log buffers queries and writes them in batches.
type Log struct {
	db  *pg.DB
	log *slog.Logger
	ch  chan entry
}

// New builds the log.
func New(db *pg.DB, log *slog.Logger) *Log {
	return &Log{db: db, log: log, ch: make(chan entry, 8192)}
}

// Record queues one query; it never blocks a request (when the buffer is
// full, under a flood, the entry is dropped and counted in the log).
func (l *Log) Record(query string, hits int, tookMS float64) {
	if query == "" {
		return
	}
	select {
	case l.ch <- entry{query, hits, tookMS}:
	default:
		l.log.Warn("search analytics buffer full; query not logged")
	}
}

// Run writes batches every second (or every 500 queries) until ctx ends,
// then writes what is left.
func (l *Log) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var batch []entry
	flush := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		if err := l.write(ctx, batch); err != nil {
			l.log.Warn("search analytics write failed", "err", err, "queries", len(batch))
		}
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case e := <-l.ch:
					batch = append(batch, e)
				default:
					fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					flush(fctx)
					cancel()
					return nil
				}
			}
		case e := <-l.ch:
			batch = append(batch, e)
			if len(batch) >= 500 {
				flush(ctx)
			}
		case <-t.C:
			flush(ctx)
		}
	}
}

// Purge drops the queries past Retention (the periodic search:purge_queries
// task, once an hour across replicas).
func (l *Log) Purge(ctx context.Context) error {
	if _, err := l.db.ExecContext(ctx, "DELETE FROM search.queries WHERE at < ?", time.Now().Add(-Retention)); err != nil {
		return fmt.Errorf("search analytics purge: %w", err)
	}
	return nil
}

func (l *Log) write(ctx context.Context, batch []entry) error {
	qs := make([]string, len(batch))
	hits := make([]int, len(batch))
	took := make([]float64, len(batch))
	for i, e := range batch {
		qs[i], hits[i], took[i] = e.query, e.hits, e.took
	}
	_, err := l.db.ExecContext(ctx, "INSERT INTO search.queries (query, hits, took_ms) SELECT * FROM unnest(?::text[], ?::int[], ?::real[])",
		pgdialect.Array(qs), pgdialect.Array(hits), pgdialect.Array(took))
	return err
}

// Count is one query and how often it was searched.
type Count struct {
	Query   string  `json:"query" bun:"query"`
	Count   int     `json:"count" bun:"n"`
	AvgHits float64 `json:"avg_hits" bun:"avg_hits"`
}

// Report is the popular-queries answer.
type Report struct {
	Since    time.Time `json:"since"`
	Popular  []Count   `json:"popular"`
	ZeroHits []Count   `json:"zero_hits"`
}

// Popular is the most frequent queries and the most frequent zero-hit
// queries since the given time.
func (l *Log) Popular(ctx context.Context, since time.Time, limit int) (Report, error) {
	r := Report{Since: since, Popular: []Count{}, ZeroHits: []Count{}}
	err := l.db.NewRaw(`SELECT query, count(*) AS n, avg(hits)::float8 AS avg_hits FROM search.queries WHERE at >= ?
		GROUP BY query ORDER BY n DESC, query LIMIT ?`, since, limit).Scan(ctx, &r.Popular)
	if err != nil {
		return r, err
	}
	err = l.db.NewRaw(`SELECT query, count(*) AS n, 0::float8 AS avg_hits FROM search.queries WHERE at >= ? AND hits = 0
		GROUP BY query ORDER BY n DESC, query LIMIT ?`, since, limit).Scan(ctx, &r.ZeroHits)
	return r, err
}
