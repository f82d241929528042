// Package idempotency implements Idempotency-Key on mutating POSTs with
// Stripe semantics, stored in PostgreSQL so replays survive restarts and
// work across replicas: same key and same request within 24h replays the
// first response; the same key with another request is 409; a duplicate
// arriving while the first is still running is 409 until it finishes, or
// until the process running it is known dead (see Store.Run), whichever
// comes first.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// Retention is how long a key replays its response.
const Retention = 24 * time.Hour

// lease is how long an in-flight request holds its key at most; a
// crashed request's key becomes usable again after it. It is the fallback:
// a lease whose owner process is known dead is taken over at once.
const lease = 2 * time.Minute

// Heartbeats: Run records that this process is alive every HeartbeatEvery;
// a process whose last heartbeat is older than DeadAfter (or that removed
// its row when it stopped) is dead, and its leases are abandoned.
// DeadAfter leaves room for two missed beats, so a briefly slow database
// does not make a live process look dead.
const (
	HeartbeatEvery = 2 * time.Second
	DeadAfter      = 3 * HeartbeatEvery
	// ownerFresh is how recent this process's last successful heartbeat
	// must be for its leases to name it: a process that cannot beat would
	// soon look dead, so it falls back to the plain time-limited lease.
	ownerFresh = DeadAfter - HeartbeatEvery
	// forgetInstancesAfter is when Purge removes rows of dead instances.
	forgetInstancesAfter = time.Hour
)

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
	// instance identifies this process in platform.instances and in the
	// leases it holds; random per start.
	instance string
	// clock decides whether the last heartbeat is fresh enough for new
	// leases to name this process (the system clock; tests move a fake).
	clock clock.Clock
	// epoch is the clock's reading at New: lastBeat counts from it (on the
	// system clock a monotonic difference).
	epoch time.Time
	// lastBeat is the time since epoch of the last successful heartbeat,
	// plus one (0 before Run).
	lastBeat atomic.Int64
}

// New builds the store. Until Run has recorded a heartbeat, leases carry
// no owner and last the full 2 minutes after a crash.
func New(db *pg.DB, log *slog.Logger) *Store {
	return &Store{db: db, log: log, instance: uuid.NewString(), clock: clock.System, epoch: clock.System.Now()}
}

// Run keeps this process's heartbeat in platform.instances until ctx ends,
// then deletes the row, so that the leases of a process that stopped are
// taken over at once. It must run for the whole time the process serves
// requests, and stop only after in-flight requests have finished (a
// deleted row frees their keys). The heartbeat has a connection of its
// own, outside the pool: a pool exhausted by slow requests must not make
// a live process look dead and its requests' keys free. A failed
// heartbeat is logged and retried, never fatal: the leases then fall back
// to the 2-minute cap. It returns nil when ctx ends.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	failing := false
	for ctx.Err() == nil {
		err := s.beat(ctx, &conn)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			s.log.WarnContext(ctx, "idempotency heartbeat failed; leases fall back to the time limit", "err", err)
			failing = true
		case err == nil && failing:
			s.log.InfoContext(ctx, "idempotency heartbeat recovered")
			failing = false
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	s.lastBeat.Store(0)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(bg, "DELETE FROM platform.instances WHERE id = ?", s.instance); err != nil {
		s.log.WarnContext(bg, "idempotency: remove instance row", "err", err)
	}
	return nil
}

// beat records one heartbeat on *conn, (re)connecting when needed, and
// re-creates the row if a purge removed it.
func (s *Store) beat(ctx context.Context, conn **pgx.Conn) error {
	bctx, cancel := context.WithTimeout(ctx, HeartbeatEvery)
	defer cancel()
	before := s.clock.Now().Sub(s.epoch)
	if *conn == nil || (*conn).IsClosed() {
		c, err := pgx.ConnectConfig(bctx, s.db.Pool.Config().ConnConfig.Copy())
		if err != nil {
			return fmt.Errorf("idempotency heartbeat: connect: %w", err)
		}
		*conn = c
	}
	if _, err := (*conn).Exec(bctx, `INSERT INTO platform.instances (id) VALUES ($1)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, s.instance); err != nil {
		_ = (*conn).Close(context.Background())
		*conn = nil
		return fmt.Errorf("idempotency heartbeat: %w", err)
	}
	// The beat counts from before the statement: the row may be that old.
	s.lastBeat.Store(int64(before) + 1)
	return nil
}

// owner is the instance id a new lease names, or nil when this process's
// heartbeat is not fresh (Run not started, or failing).
func (s *Store) owner() any {
	last := s.lastBeat.Load()
	if last == 0 || s.clock.Now().Sub(s.epoch)-time.Duration(last) > ownerFresh {
		return nil
	}
	return s.instance
}

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
// old, or an abandoned lease of the same request: past its time limit, or
// held by a process that is dead, i.e. whose heartbeat is older than
// DeadAfter or whose row is gone). It reports whether this request owns it.
func (s *Store) claim(ctx context.Context, scope, key, path string, hash []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO platform.idempotency_keys AS k (scope, key, method, path, request_hash, locked_until, owner)
		VALUES (?, ?, 'POST', ?, ?, now() + make_interval(secs => ?), ?)
		ON CONFLICT (scope, key) DO UPDATE SET path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
			status = NULL, body = NULL, content_type = NULL, locked_until = EXCLUDED.locked_until, owner = EXCLUDED.owner, created_at = now()
		WHERE k.created_at < now() - make_interval(secs => ?)
		   OR (k.status IS NULL AND k.request_hash = EXCLUDED.request_hash
		       AND (k.locked_until < now()
		            OR (k.owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM platform.instances i
		                    WHERE i.id = k.owner AND i.heartbeat_at > now() - make_interval(secs => ?)))))`,
		scope, key, path, hash, lease.Seconds(), s.owner(), Retention.Seconds(), DeadAfter.Seconds())
	if err != nil {
		return false, fmt.Errorf("claim idempotency key: %w", err)
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

// Purge deletes records past retention, and the rows of instances dead
// for an hour (crashed processes leave theirs); run it periodically.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM platform.instances WHERE heartbeat_at < now() - make_interval(secs => ?)", forgetInstancesAfter.Seconds()); err != nil {
		return 0, fmt.Errorf("purge instances: %w", err)
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM platform.idempotency_keys WHERE created_at < now() - make_interval(secs => ?)", Retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
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
