// Package audit keeps the audit log of administrators' changes
// (platform.audit_log): the HTTP router records every POST, PUT, PATCH and
// DELETE on an admin route after its handler ran, with the response
// status, in whichever process serves it, so every context's admin routes
// are covered in the monolith and in a split deployment alike. The log
// never holds request bodies or query strings.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// recordTimeout bounds one audit write, so a slow database cannot hold an
// administrator's answer for long.
const recordTimeout = 5 * time.Second

// Entry is one recorded change, as listed.
type Entry struct {
	ID      string    `json:"id" bun:"id"`
	At      time.Time `json:"at" bun:"at"`
	ActorID string    `json:"actor_id" bun:"actor_id"`
	// ActorEmail is the administrator's email from the token's claims
	// (null when the token carried none).
	ActorEmail *string `json:"actor_email" bun:"actor_email"`
	Method     string  `json:"method" bun:"method" enum:"POST,PUT,PATCH,DELETE"`
	// Route is the OpenAPI path template of the operation.
	Route string `json:"route" bun:"route"`
	// Path is the requested path, without the query string.
	Path      string `json:"path" bun:"path"`
	Status    int    `json:"status" bun:"status"`
	RequestID string `json:"request_id" bun:"request_id"`
}

// Log is the audit log on the platform schema. It implements
// httpx.Auditor.
type Log struct {
	db  *pg.DB
	log *slog.Logger
}

// New builds the log over the shop's database.
func New(db *pg.DB, log *slog.Logger) *Log { return &Log{db: db, log: log} }

// Record writes one entry. A failure is logged (with what would have been
// recorded, never a body) and does not fail the request, whose change has
// already happened.
func (l *Log) Record(ctx context.Context, e httpx.AuditEntry) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	var email any
	if e.ActorEmail != "" {
		email = e.ActorEmail
	}
	if _, err := l.db.ExecContext(ctx, `INSERT INTO platform.audit_log (id, actor_id, actor_email, method, route, path, status, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id.String(), e.ActorID, email, e.Method, e.Route, e.Path, e.Status, e.RequestID); err != nil {
		l.log.ErrorContext(ctx, "audit log: entry not recorded", "err", err, "actor_id", e.ActorID, "method", e.Method, "path", e.Path,
			"status", e.Status, "request_id", e.RequestID)
	}
}

// List pages the log newest first; actor, when set, keeps the entries of
// one administrator (their id or email).
func (l *Log) List(ctx context.Context, actor, cur string, limit int) ([]Entry, *string, error) {
	after, err := cursor.Decode(cur)
	if err != nil {
		return nil, nil, err
	}
	var rows []Entry
	q := l.db.NewSelect().TableExpr("platform.audit_log").
		ColumnExpr("id::text AS id, at, actor_id, actor_email, method, route, path, status, request_id")
	if actor != "" {
		q = q.Where("(actor_id = ? OR actor_email = lower(?))", actor, actor)
	}
	if after != "" {
		q = q.Where("id < ?", after)
	}
	if err := q.OrderExpr("id DESC").Limit(int64(limit+1)).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("list audit log: %w", err)
	}
	rows, next := cursor.Page(rows, limit, func(e Entry) string { return e.ID })
	if rows == nil {
		rows = []Entry{}
	}
	return rows, next, nil
}

// Routes mounts GET /admin/audit on api (/api/v1).
func (l *Log) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/audit", Tag: "admin", Admin: true, Response: httpx.Page[Entry]{},
		Summary: "The audit log of administrators' changes (POST, PUT, PATCH, DELETE on admin routes), newest first; actor = an administrator's id or email",
		Query:   []string{"actor", "limit", "cursor"}}, l.list)
}

func (l *Log) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := l.List(c.UserContext(), httpx.Query(c, "actor"), httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[Entry]{Items: items, NextCursor: next})
}

var _ httpx.Auditor = (*Log)(nil)
