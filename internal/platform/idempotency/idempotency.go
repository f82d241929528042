// Package idempotency implements Idempotency-Key on mutating POSTs with
// Stripe semantics, stored in PostgreSQL so replays survive restarts and
// work across replicas: same key and same request within 24h replays the
// first response; the same key with another request is 409; a duplicate
// arriving while the first is still running is 409 until it finishes.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// Retention is how long a key replays its response.
const Retention = 24 * time.Hour

// lease is how long an in-flight request holds its key; a crashed request's
// key becomes usable again after it.
const lease = 2 * time.Minute

// Errors answered to clients.
var (
	ErrConflict = errs.New(errs.Conflict, "idempotency_conflict", "this Idempotency-Key was used with a different request")
	ErrInFlight = errs.New(errs.Conflict, "idempotency_conflict", "a request with this Idempotency-Key is still being processed; retry shortly")
	ErrBadKey   = errs.New(errs.BadRequest, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable characters")
)

// Store keeps keys and responses.
type Store struct {
	db  *pg.DB
	log *slog.Logger
}

// New builds the store.
func New(db *pg.DB, log *slog.Logger) *Store { return &Store{db: db, log: log} }

// Middleware applies to POST requests that carry the header.
func (s *Store) Middleware(c *fiber.Ctx) error {
	key := c.Get(Header)
	if c.Method() != fiber.MethodPost || key == "" {
		return c.Next()
	}
	if len(key) > 255 || !printable(key) {
		return ErrBadKey
	}
	scope := "ip:" + c.IP()
	if p, ok := httpx.Principal(c); ok {
		scope = "user:" + p.UserID
	}
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "\n"))
	h.Write(c.Body())
	hash := h.Sum(nil)
	ctx := c.UserContext()
	path := string(append([]byte(nil), c.Path()...))

	claimed, err := s.claim(ctx, scope, key, path, hash)
	if err != nil {
		return err
	}
	if !claimed {
		return s.replay(c, scope, key, hash)
	}
	// We own the key: run the handler and record its response.
	herr := c.Next()
	if herr != nil {
		if err := c.App().Config().ErrorHandler(c, herr); err != nil {
			return err
		}
	}
	status := c.Response().StatusCode()
	bg := context.WithoutCancel(ctx)
	noStore := bytes.Contains(c.Response().Header.Peek(fiber.HeaderCacheControl), []byte("no-store"))
	if status >= 500 || noStore {
		// Server errors are not final: release the key so a retry runs again.
		// Credential responses (Cache-Control: no-store) are never kept at rest.
		_, _ = s.db.ExecContext(bg, "DELETE FROM platform.idempotency_keys WHERE scope = ? AND key = ?", scope, key)
		return nil
	}
	body := append([]byte(nil), c.Response().Body()...)
	ctype := string(c.Response().Header.ContentType())
	if _, err := s.db.ExecContext(bg, `UPDATE platform.idempotency_keys SET status = ?, content_type = ?, body = ?, locked_until = NULL
		WHERE scope = ? AND key = ?`, status, ctype, body, scope, key); err != nil {
		s.log.ErrorContext(ctx, "store idempotent response", "err", err)
	}
	return nil
}

// claim inserts the key as in-flight, or takes over an expired record (24h
// old, or an abandoned lease). It reports whether this request owns it.
func (s *Store) claim(ctx context.Context, scope, key, path string, hash []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO platform.idempotency_keys (scope, key, method, path, request_hash, locked_until)
		VALUES (?, ?, 'POST', ?, ?, now() + make_interval(secs => ?))
		ON CONFLICT (scope, key) DO UPDATE SET path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
			status = NULL, body = NULL, content_type = NULL, locked_until = EXCLUDED.locked_until, created_at = now()
		WHERE platform.idempotency_keys.created_at < now() - make_interval(secs => ?)
		   OR (platform.idempotency_keys.status IS NULL AND platform.idempotency_keys.locked_until < now()
		       AND platform.idempotency_keys.request_hash = EXCLUDED.request_hash)`,
		scope, key, path, hash, lease.Seconds(), Retention.Seconds())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Store) replay(c *fiber.Ctx, scope, key string, hash []byte) error {
	var rec struct {
		Path        string
		RequestHash []byte
		Status      sql.NullInt64
		ContentType sql.NullString
		Body        []byte
	}
	err := s.db.QueryRowContext(c.UserContext(), `SELECT path, request_hash, status, content_type, body
		FROM platform.idempotency_keys WHERE scope = ? AND key = ?`, scope, key).
		Scan(&rec.Path, &rec.RequestHash, &rec.Status, &rec.ContentType, &rec.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrInFlight // released between our claim and read: let the client retry
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(rec.RequestHash, hash) {
		return ErrConflict
	}
	if !rec.Status.Valid {
		return ErrInFlight
	}
	c.Set("Idempotent-Replayed", "true")
	if rec.ContentType.Valid && rec.ContentType.String != "" {
		c.Set(fiber.HeaderContentType, rec.ContentType.String)
	}
	return c.Status(int(rec.Status.Int64)).Send(rec.Body)
}

// Purge deletes records past retention; run it periodically.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM platform.idempotency_keys WHERE created_at < now() - make_interval(secs => ?)", Retention.Seconds())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
