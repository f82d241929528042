// Package app holds auth's use cases, one file each group. Handlers take
// plain inputs (no Fiber types) and return DTOs or categorised errors.
package app

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// Config holds auth's tunables.
type Config struct {
	AccessTTL        time.Duration
	RefreshTTL       time.Duration
	VerifyTTL        time.Duration // 24h
	ResetTTL         time.Duration // 1h
	LoginMaxFailures int           // 5
	LoginWindow      time.Duration // 15m
	EmailsPerHour    int           // 3: resend-verification and forgot-password per email
}

// Hasher hashes and verifies passwords.
type Hasher interface {
	Hash(pw string) (string, error)
	Verify(pw, encoded string) (bool, error)
}

// Service implements auth's use cases.
type Service struct {
	db      *pg.DB
	store   adapters.Store
	outbox  *events.Outbox
	keys    *authn.Keys
	hasher  Hasher
	limiter *ratelimit.Limiter
	cfg     Config
	log     *slog.Logger
	dummy   string // hash compared against when the email is unknown (timing)
}

// New builds the service.
func New(db *pg.DB, outbox *events.Outbox, keys *authn.Keys, hasher Hasher, limiter *ratelimit.Limiter, cfg Config, log *slog.Logger) *Service {
	if cfg.VerifyTTL == 0 {
		cfg.VerifyTTL = 24 * time.Hour
	}
	if cfg.ResetTTL == 0 {
		cfg.ResetTTL = time.Hour
	}
	if cfg.LoginMaxFailures == 0 {
		cfg.LoginMaxFailures = 5
	}
	if cfg.LoginWindow == 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	if cfg.EmailsPerHour == 0 {
		cfg.EmailsPerHour = 3
	}
	dummy, _ := hasher.Hash("not-a-real-password-just-for-timing")
	return &Service{db: db, outbox: outbox, keys: keys, hasher: hasher, limiter: limiter, cfg: cfg, log: log, dummy: dummy}
}

// Errors answered by auth's use cases.
var (
	ErrEmailTaken         = errs.New(errs.Conflict, "email_taken", "an account with this email already exists")
	ErrBadToken           = errs.New(errs.BadRequest, "invalid_token", "the token is invalid, expired or already used")
	ErrInvalidCredentials = errs.New(errs.Unauthenticated, "invalid_credentials", "email or password is wrong")
	ErrEmailNotVerified   = errs.New(errs.Forbidden, "email_not_verified", "verify your email address before logging in")
	ErrAccountDisabled    = errs.New(errs.Forbidden, "account_disabled", "this account is disabled")
	ErrTokenReused        = errs.New(errs.Unauthenticated, "token_reused", "this refresh token was already used; all sessions of this login were revoked")
	ErrInvalidRefresh     = errs.New(errs.Unauthenticated, "invalid_refresh_token", "the refresh token is invalid, expired or revoked")
	ErrNotFound           = errs.New(errs.NotFound, "not_found", "not found")
	ErrDefaultRequired    = errs.Validation(errs.Field("is_default", "an address list always has one default; mark another address as default instead"))
)

func rateLimited(retry time.Duration) error {
	e := errs.New(errs.RateLimited, "rate_limited", "too many attempts; retry later")
	e.RetryAfter = retry
	return e
}

// newToken returns a URL-safe random token and the hash that is stored.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}
