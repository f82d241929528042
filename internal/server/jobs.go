package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// QueuesPath is where the queue monitor (asynqmon) is served, to
// administrators only.
const QueuesPath = "/admin/queues"

// newJobs builds the process's job system on its Redis (the in-process one
// when REDIS_URL is unset). Its queues are prefixed with JOBS_NAMESPACE,
// by default the database's name, so that replicas of one shop share
// queues and two shops on one Redis never take each other's tasks.
func newJobs(ctx context.Context, cfg *config.Config, db *pg.DB, rdb redis.UniversalClient, log *slog.Logger) (*jobs.Queue, error) {
	ns := cfg.JobsNamespace
	if ns == "" {
		if err := db.NewRaw("SELECT current_database()").Scan(ctx, &ns); err != nil {
			return nil, fmt.Errorf("jobs namespace: %w", err)
		}
	}
	return jobs.New(rdb, jobs.Config{Concurrency: cfg.JobsConcurrency, MaxRetry: cfg.JobsMaxRetry, Namespace: ns,
		ShutdownTimeout: cfg.ShutdownTimeout / 2, Log: log}), nil
}

// platformJobs are the platform's periodic maintenance, run once per
// period across all processes of the shop: Idempotency-Key records past
// their 24h retention, and delivered outbox rows past OUTBOX_RETENTION.
func (s *Server) platformJobs() {
	p := s.jobs.Scope("platform")
	p.Every("idempotency_purge", time.Hour, func(ctx context.Context) error {
		n, err := s.idem.Purge(ctx)
		if n > 0 {
			s.log.Info("purged idempotency keys", "count", n)
		}
		return err
	})
	p.Every("outbox_purge", time.Hour, func(ctx context.Context) error {
		res, err := events.PurgeDelivered(ctx, s.DB, s.cfg.OutboxRetention)
		if res.Deleted > 0 {
			s.log.Info("purged delivered events from the outbox", "count", res.Deleted)
		}
		if len(res.HeldBack) > 0 {
			s.log.Warn("outbox purge held back: these consumers have not read events older than OUTBOX_RETENTION (delete the offset row of one that is gone for good)",
				"consumers", res.HeldBack)
		}
		return err
	})
}

// mountQueueMonitor serves asynqmon at QueuesPath: 401 without a token,
// 403 for anyone but an administrator. A browser reaches it with a bearer
// token only (the console's session is not a cookie), which is what an
// operator's proxy or tooling sends.
func mountQueueMonitor(app *fiber.App, auth *httpx.Auth, rdb redis.UniversalClient) {
	h := adaptor.HTTPHandler(jobs.Monitor(rdb, QueuesPath))
	// Mounted as a prefix (asynqmon's UI and its JSON API below it): a
	// third-party console, like GraphQL not part of the REST document.
	app.Use(QueuesPath, auth.RequireAdmin, h)
}
