package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
)

// Do gives a call that is not an HTTP route (a GraphQL mutation) the
// semantics of the Idempotency-Key header: within 24h the same key and
// the same request replay the first result (replayed is true), the same
// key with another request is ErrConflict, and a duplicate arriving while
// the first still runs is ErrInFlight. op names the operation (it is
// stored as the key's path) and request is what identifies the request
// (its arguments). An error of fn releases the key, so a retry runs
// again; REST keeps a 4xx answer instead, and replays it.
func (s *Store) Do(ctx context.Context, scope, key, op string, request []byte, fn func(ctx context.Context) ([]byte, error)) (result []byte, replayed bool, err error) {
	if len(key) == 0 || len(key) > 255 || !printable(key) {
		return nil, false, ErrBadKey
	}
	h := sha256.New()
	h.Write([]byte("GRAPHQL " + op + "\n"))
	h.Write(request)
	hash := h.Sum(nil)
	claimed, err := s.claim(ctx, scope, key, op, hash)
	if err != nil {
		return nil, false, err
	}
	if !claimed {
		var rec struct {
			hash   []byte
			status sql.NullInt64
			body   []byte
		}
		err := s.db.QueryRowContext(ctx, "SELECT request_hash, status, body FROM platform.idempotency_keys WHERE scope = ? AND key = ?", scope, key).
			Scan(&rec.hash, &rec.status, &rec.body)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, false, ErrInFlight
		case err != nil:
			return nil, false, fmt.Errorf("read idempotency key: %w", err)
		case string(rec.hash) != string(hash):
			return nil, false, ErrConflict
		case !rec.status.Valid:
			return nil, false, ErrInFlight
		}
		return rec.body, true, nil
	}
	bg := context.WithoutCancel(ctx)
	out, ferr := fn(ctx)
	if ferr != nil {
		_, _ = s.db.ExecContext(bg, "DELETE FROM platform.idempotency_keys WHERE scope = ? AND key = ?", scope, key)
		return nil, false, ferr
	}
	if _, err := s.db.ExecContext(bg, `UPDATE platform.idempotency_keys SET status = 200, content_type = 'application/json', body = ?, locked_until = NULL
		WHERE scope = ? AND key = ?`, out, scope, key); err != nil {
		s.log.ErrorContext(ctx, "store idempotent result", "err", err)
	}
	return out, false, nil
}
