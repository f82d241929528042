// Package jobs runs the periodic background work of the contexts (sweepers,
// retries of provider calls). The work itself is idempotent and its state
// lives in PostgreSQL, so a tick lost to a restart is simply done later.
package jobs

import (
	"context"
	"log/slog"
	"time"
)

// Every runs fn at once and then every interval until ctx ends. Errors are
// logged, not fatal: the next tick retries.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, name string, fn func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn("background job failed", "job", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
