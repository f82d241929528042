package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/auth/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// RegisterInput is the body of POST /auth/register.
type RegisterInput struct {
	Email    string `json:"email" validate:"required,max=320"`
	Password string `json:"password" validate:"required,max=128"`
	Name     string `json:"name" validate:"required,max=100"`
}

// User is the public view of an account.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role" enum:"customer,admin"`
	Status    string    `json:"status" enum:"unverified,active,disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func toUser(r *adapters.UserRow) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, Status: r.Status, CreatedAt: r.CreatedAt.UTC()}
}

// Register creates an unverified customer and, in the same transaction,
// the user_registered and verification_requested events (the latter makes
// notify send the 24h verification link).
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	email := domain.NormalizeEmail(in.Email)
	var fields []errs.FieldError
	if !domain.ValidEmail(email) {
		fields = append(fields, errs.Field("email", "must be a valid email address"))
	}
	if f := domain.CheckPassword(in.Password, email); f != nil {
		fields = append(fields, *f)
	}
	name, f := domain.CleanName(in.Name)
	if f != nil {
		fields = append(fields, *f)
	}
	if len(fields) > 0 {
		return User{}, errs.Validation(fields...)
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return User{}, err
	}
	row := &adapters.UserRow{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, PasswordHash: hash,
		Role: authn.RoleCustomer, Status: domain.StatusUnverified}
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.CreateUser(ctx, tx, row); err != nil {
			return err
		}
		reg, err := events.New(authapi.EventUserRegistered, row.ID, authapi.UserRegistered{UserID: row.ID, Email: email, Name: name})
		if err != nil {
			return err
		}
		ver, err := s.issueToken(ctx, tx, row, "verify_email", authapi.EventVerificationRequested, s.cfg.VerifyTTL)
		if err != nil {
			return err
		}
		return s.outbox.Publish(ctx, tx, reg, ver)
	})
	if errors.Is(err, adapters.ErrDuplicate) {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, err
	}
	return toUser(row), nil
}

// issueToken stores a single-use token and returns the event that carries
// it to notify.
func (s *Service) issueToken(ctx context.Context, tx bun.Tx, u *adapters.UserRow, purpose, eventType string, ttl time.Duration) (events.Envelope, error) {
	tok, hash := newToken()
	exp := time.Now().Add(ttl).UTC().Truncate(time.Second)
	if err := s.store.CreateToken(ctx, tx, hash, u.ID, purpose, exp); err != nil {
		return events.Envelope{}, err
	}
	return events.New(eventType, u.ID, authapi.TokenIssued{UserID: u.ID, Email: u.Email, Name: u.Name, Token: tok, ExpiresAt: exp})
}

// Verify consumes a verification token and activates the account.
func (s *Service) Verify(ctx context.Context, token string) error {
	if token == "" || len(token) > 200 {
		return ErrBadToken
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		userID, err := s.store.ConsumeToken(ctx, tx, hashToken(token), "verify_email")
		if errors.Is(err, adapters.ErrNotFound) {
			return ErrBadToken
		}
		if err != nil {
			return err
		}
		return s.activate(ctx, tx, userID)
	})
}

// activate verifies an unverified account and records auth.user_verified.
func (s *Service) activate(ctx context.Context, tx bun.Tx, userID string) error {
	changed, err := s.store.Activate(ctx, tx, userID)
	if err != nil || !changed {
		return err
	}
	u, err := s.store.UserByID(ctx, tx, userID)
	if err != nil {
		return err
	}
	ev, err := events.New(authapi.EventUserVerified, userID, authapi.UserVerified{UserID: userID, Email: u.Email})
	if err != nil {
		return err
	}
	return s.outbox.Publish(ctx, tx, ev)
}

// ResendVerification mails a new link to an unverified account. It answers
// the same for unknown and verified emails (no account enumeration) and
// limits requests per email.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	return s.mailToken(ctx, email, tokenMail{limit: "resend", purpose: "verify_email", event: authapi.EventVerificationRequested, ttl: s.cfg.VerifyTTL,
		eligible: func(u *adapters.UserRow) bool { return u.Status == domain.StatusUnverified }})
}

// tokenMail describes one "email me a link" flow.
type tokenMail struct {
	limit, purpose, event string
	ttl                   time.Duration
	eligible              func(*adapters.UserRow) bool
}

// mailToken validates the email, applies the per-email limit and, when the
// account exists and is eligible, issues the token and its event in one
// transaction. Unknown emails get the same answer.
func (s *Service) mailToken(ctx context.Context, email string, m tokenMail) error {
	email = domain.NormalizeEmail(email)
	if !domain.ValidEmail(email) {
		return errs.Validation(errs.Field("email", "must be a valid email address"))
	}
	if err := s.limitEmail(ctx, m.limit, email); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.store.UserByEmail(ctx, tx, email)
		if errors.Is(err, adapters.ErrNotFound) {
			return nil
		}
		if err != nil || !m.eligible(u) {
			return err
		}
		ev, err := s.issueToken(ctx, tx, u, m.purpose, m.event, m.ttl)
		if err != nil {
			return err
		}
		return s.outbox.Publish(ctx, tx, ev)
	})
}

func (s *Service) limitEmail(ctx context.Context, what, email string) error {
	res, err := s.limiter.Hit(ctx, "auth:"+what+":"+email, s.cfg.EmailsPerHour, time.Hour)
	if err != nil {
		s.log.WarnContext(ctx, "rate limiter unavailable", "err", err)
		return nil
	}
	if !res.Allowed {
		return rateLimited(res.RetryAfter)
	}
	return nil
}
