package app

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/auth/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// ForgotPassword mails a 1h single-use reset link when the account exists;
// the answer never reveals whether it does.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	return s.mailToken(ctx, email, tokenMail{limit: "forgot", purpose: "password_reset", event: authapi.EventPasswordResetRequested, ttl: s.cfg.ResetTTL,
		eligible: func(u *adapters.UserRow) bool { return u.Status != domain.StatusDisabled }})
}

// ResetInput is the body of POST /auth/password/reset.
type ResetInput struct {
	Token    string `json:"token" validate:"required,max=512"`
	Password string `json:"password" validate:"required,max=128"`
}

// ResetPassword consumes the token, sets the password and revokes every
// session of the user. The emailed link also proves mailbox ownership, so
// an unverified account becomes active.
func (s *Service) ResetPassword(ctx context.Context, in ResetInput) error {
	if len(in.Token) > 200 {
		return ErrBadToken
	}
	if f := domain.CheckPassword(in.Password, ""); f != nil {
		return errs.Validation(*f)
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		userID, err := s.store.ConsumeToken(ctx, tx, hashToken(in.Token), "password_reset")
		if errors.Is(err, adapters.ErrNotFound) {
			return ErrBadToken
		}
		if err != nil {
			return err
		}
		if err := s.store.SetPassword(ctx, tx, userID, hash); err != nil {
			return err
		}
		if err := s.store.RevokeUser(ctx, tx, userID); err != nil {
			return err
		}
		return s.activate(ctx, tx, userID)
	})
}
