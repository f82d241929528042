package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/auth/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/authn"
)

// Tokens is the login/refresh response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// LoginInput is the body of POST /auth/login.
type LoginInput struct {
	Email    string `json:"email" validate:"required,max=320"`
	Password string `json:"password" validate:"required,max=1024"`
}

// Login checks credentials and opens a new refresh-token family. Failures
// are counted per email+IP; past the limit the answer is 429 before the
// password is even checked.
func (s *Service) Login(ctx context.Context, in LoginInput, ip string) (Tokens, error) {
	email := domain.NormalizeEmail(in.Email)
	key := "auth:login:" + email + "|" + ip
	if res, err := s.limiter.Peek(ctx, key, s.cfg.LoginMaxFailures); err == nil && !res.Allowed {
		return Tokens{}, rateLimited(res.RetryAfter)
	}
	u, err := s.store.UserByEmail(ctx, s.db, email)
	if err != nil && !errors.Is(err, adapters.ErrNotFound) {
		return Tokens{}, err
	}
	hash := s.dummy
	if err == nil {
		hash = u.PasswordHash
	}
	ok, verr := s.hasher.Verify(in.Password, hash)
	if verr != nil || !ok || err != nil {
		if _, herr := s.limiter.Hit(ctx, key, s.cfg.LoginMaxFailures, s.cfg.LoginWindow); herr != nil {
			s.log.WarnContext(ctx, "rate limiter unavailable", "err", herr)
		}
		return Tokens{}, ErrInvalidCredentials
	}
	_ = s.limiter.Reset(ctx, key)
	switch u.Status {
	case domain.StatusUnverified:
		return Tokens{}, ErrEmailNotVerified
	case domain.StatusDisabled:
		return Tokens{}, ErrAccountDisabled
	}
	var out Tokens
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.issue(ctx, tx, u, uuid.Must(uuid.NewV7()).String())
		return err
	})
	return out, err
}

func (s *Service) issue(ctx context.Context, tx bun.Tx, u *adapters.UserRow, family string) (Tokens, error) {
	access, _, err := s.keys.Issue(authn.Principal{UserID: u.ID, Role: u.Role, Email: u.Email}, s.cfg.AccessTTL)
	if err != nil {
		return Tokens{}, err
	}
	tok, hash := newToken()
	err = s.store.CreateRefresh(ctx, tx, &adapters.RefreshRow{ID: uuid.Must(uuid.NewV7()).String(), FamilyID: family, UserID: u.ID,
		TokenHash: hash, ExpiresAt: time.Now().Add(s.cfg.RefreshTTL)})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, RefreshToken: tok, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds())}, nil
}

// Refresh rotates a refresh token. Presenting a token that was already
// rotated means it leaked (or a client bug): the whole family is revoked
// and the answer is 401 token_reused. The row lock makes two concurrent
// refreshes of one token resolve as one rotation and one reuse.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	if token == "" || len(token) > 200 {
		return Tokens{}, ErrInvalidRefresh
	}
	var out Tokens
	reused := false
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := s.store.RefreshForUpdate(ctx, tx, hashToken(token))
		if errors.Is(err, adapters.ErrNotFound) {
			return ErrInvalidRefresh
		}
		if err != nil {
			return err
		}
		if r.RotatedAt != nil {
			reused = true
			return s.store.RevokeFamily(ctx, tx, r.FamilyID) // committed, then 401
		}
		if r.RevokedAt != nil || time.Now().After(r.ExpiresAt) {
			return ErrInvalidRefresh
		}
		u, err := s.store.UserByID(ctx, tx, r.UserID)
		if err != nil {
			return err
		}
		if u.Status != domain.StatusActive {
			return ErrInvalidRefresh
		}
		if err := s.store.MarkRotated(ctx, tx, r.ID); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, r.FamilyID)
		return err
	})
	if err == nil && reused {
		s.log.WarnContext(ctx, "refresh token reuse detected; family revoked")
		return Tokens{}, ErrTokenReused
	}
	return out, err
}

// Logout revokes the refresh token's family. Unknown tokens are ignored so
// logout is idempotent.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > 200 {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := s.store.RefreshForUpdate(ctx, tx, hashToken(token))
		if errors.Is(err, adapters.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.store.RevokeFamily(ctx, tx, r.FamilyID)
	})
}
