package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/auth/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Me returns the caller's profile.
func (s *Service) Me(ctx context.Context, userID string) (User, error) {
	u, err := s.store.UserByID(ctx, s.db, userID)
	if errors.Is(err, adapters.ErrNotFound) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	return toUser(u), nil
}

// UpdateMeInput is the body of PATCH /me. Email changes need a new
// verification flow and are not accepted here.
type UpdateMeInput struct {
	Name *string `json:"name" validate:"omitempty,max=100"`
}

// UpdateMe changes the caller's profile.
func (s *Service) UpdateMe(ctx context.Context, userID string, in UpdateMeInput) (User, error) {
	if in.Name != nil {
		name, f := domain.CleanName(*in.Name)
		if f != nil {
			return User{}, errs.Validation(*f)
		}
		if err := s.store.SetName(ctx, s.db, userID, name); err != nil {
			return User{}, err
		}
	}
	return s.Me(ctx, userID)
}

// AddressInput is the body of POST and PATCH /me/addresses: the
// platform's one address shape (the same as checkout's and the shipping
// quote's), every field optional at decoding. On PATCH, absent fields keep
// their values; the result must be a deliverable address either way.
type AddressInput = address.Patch

func toAddress(r *adapters.AddressRow) authapi.Address {
	return authapi.Address{ID: r.ID, Label: r.Label, Line1: r.Line1, Line2: r.Line2, City: r.City, Region: r.Region,
		PostalCode: r.PostalCode, Country: r.Country, Phone: r.Phone, IsDefault: r.IsDefault}
}

// applyAddress sets the fields present in in on r and checks the result.
func applyAddress(in AddressInput, r *adapters.AddressRow) error {
	a := address.Address{Label: r.Label, Line1: r.Line1, Line2: r.Line2, City: r.City, Region: r.Region, PostalCode: r.PostalCode, Country: r.Country, Phone: r.Phone}
	in.Apply(&a)
	if err := a.Normalize(address.Deliverable, ""); err != nil {
		return err
	}
	r.Label, r.Line1, r.Line2, r.City, r.Region, r.PostalCode, r.Country, r.Phone = a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone
	return nil
}

// Addresses lists the caller's addresses, default first.
func (s *Service) Addresses(ctx context.Context, userID string) ([]authapi.Address, error) {
	rows, err := s.store.Addresses(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	out := make([]authapi.Address, len(rows))
	for i := range rows {
		out[i] = toAddress(&rows[i])
	}
	return out, nil
}

// AddAddress saves a new address. The first address is the default; a new
// default replaces the old one in the same transaction.
func (s *Service) AddAddress(ctx context.Context, userID string, in AddressInput) (authapi.Address, error) {
	r := &adapters.AddressRow{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID}
	if err := applyAddress(in, r); err != nil {
		return authapi.Address{}, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		existing, err := s.store.Addresses(ctx, tx, userID)
		if err != nil {
			return err
		}
		r.IsDefault = len(existing) == 0 || (in.IsDefault != nil && *in.IsDefault)
		if r.IsDefault {
			if err := s.store.ClearDefault(ctx, tx, userID); err != nil {
				return err
			}
		}
		return s.store.SaveAddress(ctx, tx, r, true)
	})
	return toAddress(r), err
}

// UpdateAddress changes fields of one of the caller's addresses.
func (s *Service) UpdateAddress(ctx context.Context, userID, id string, in AddressInput) (authapi.Address, error) {
	if _, err := uuid.Parse(id); err != nil {
		return authapi.Address{}, ErrNotFound
	}
	var out authapi.Address
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		r, err := s.store.AddressForUpdate(ctx, tx, userID, id)
		if errors.Is(err, adapters.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := applyAddress(in, r); err != nil {
			return err
		}
		if in.IsDefault != nil {
			if !*in.IsDefault && r.IsDefault {
				return ErrDefaultRequired
			}
			if *in.IsDefault && !r.IsDefault {
				if err := s.store.ClearDefault(ctx, tx, userID); err != nil {
					return err
				}
				r.IsDefault = true
			}
		}
		out = toAddress(r)
		return s.store.SaveAddress(ctx, tx, r, false)
	})
	return out, err
}

// DeleteAddress removes one of the caller's addresses; if it was the
// default, the newest remaining address becomes the default.
func (s *Service) DeleteAddress(ctx context.Context, userID, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return ErrNotFound
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		r, err := s.store.AddressForUpdate(ctx, tx, userID, id)
		if errors.Is(err, adapters.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.store.DeleteAddress(ctx, tx, userID, id, r.IsDefault)
	})
}

// UserFilter narrows the admins' user list: Q is a case-insensitive
// substring of the email or name (taken literally), Role and Status exact
// values; empty fields match every user.
type UserFilter struct {
	Q      string
	Role   string
	Status string
}

// maxUserQuery bounds q: longer text matches no email anyway.
const maxUserQuery = 320

// ListUsers pages the users for admins, by id, filtered by f.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, cur string, limit int) ([]User, *string, error) {
	var bad []errs.FieldError
	if utf8.RuneCountInString(f.Q) > maxUserQuery {
		bad = append(bad, errs.Field("q", "must be at most 320 characters"))
	}
	if f.Role != "" && f.Role != authn.RoleAdmin && f.Role != authn.RoleCustomer {
		bad = append(bad, errs.Field("role", "must be customer or admin"))
	}
	if f.Status != "" && f.Status != domain.StatusUnverified && f.Status != domain.StatusActive && f.Status != domain.StatusDisabled {
		bad = append(bad, errs.Field("status", "must be unverified, active or disabled"))
	}
	if len(bad) > 0 {
		return nil, nil, errs.Validation(bad...)
	}
	after, err := cursor.Decode(cur)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.store.ListUsers(ctx, s.db, adapters.UserFilter{Q: strings.TrimSpace(f.Q), Role: f.Role, Status: f.Status}, after, limit+1)
	if err != nil {
		return nil, nil, err
	}
	rows, next := cursor.Page(rows, limit, func(r adapters.UserRow) string { return r.ID })
	out := make([]User, len(rows))
	for i := range rows {
		out[i] = toUser(&rows[i])
	}
	return out, next, nil
}

// EnsureAdmin creates a verified admin with this email if none exists
// (BOOTSTRAP_ADMIN_*, `commerce admin create`). It reports whether it
// created one; an existing account is left untouched.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	email = domain.NormalizeEmail(email)
	if !domain.ValidEmail(email) {
		return false, errs.Validation(errs.Field("email", "must be a valid email address"))
	}
	if f := domain.CheckPassword(password, email); f != nil {
		return false, errs.Validation(*f)
	}
	if u, err := s.store.UserByEmail(ctx, s.db, email); err == nil {
		if u.Role == authn.RoleAdmin {
			// Announced again with a stable event id: an admin created by
			// an older version becomes known to notify, and consumers'
			// inboxes drop the repeat.
			return false, s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.announceAdmin(ctx, tx, u) })
		}
		return false, nil
	} else if !errors.Is(err, adapters.ErrNotFound) {
		return false, err
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return false, err
	}
	row := &adapters.UserRow{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: "Administrator", PasswordHash: hash,
		Role: authn.RoleAdmin, Status: domain.StatusActive}
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.CreateUser(ctx, tx, row); err != nil {
			return err
		}
		return s.announceAdmin(ctx, tx, row)
	})
	if errors.Is(err, adapters.ErrDuplicate) {
		return false, nil // created concurrently by another replica
	}
	return err == nil, err
}

// announceAdmin publishes user_registered with role admin under an event
// id derived from the user, so announcing twice is one event to consumers.
func (s *Service) announceAdmin(ctx context.Context, tx bun.Tx, u *adapters.UserRow) error {
	ev, err := events.New(authapi.EventUserRegistered, u.ID, authapi.UserRegistered{UserID: u.ID, Email: u.Email, Name: u.Name, Role: authn.RoleAdmin})
	if err != nil {
		return fmt.Errorf("admin announcement: %w", err)
	}
	ev.ID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("auth.admin:"+u.ID)).String()
	if err := s.outbox.Publish(ctx, tx, ev); err != nil {
		return fmt.Errorf("admin announcement: %w", err)
	}
	return nil
}

// User implements authapi.Auth.
func (s *Service) User(ctx context.Context, id string) (authapi.User, error) {
	if _, err := uuid.Parse(id); err != nil {
		return authapi.User{}, authapi.ErrNotFound
	}
	u, err := s.store.UserByID(ctx, s.db, id)
	if errors.Is(err, adapters.ErrNotFound) {
		return authapi.User{}, authapi.ErrNotFound
	}
	if err != nil {
		return authapi.User{}, err
	}
	return authapi.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Status: u.Status}, nil
}

// Address implements authapi.Auth.
func (s *Service) Address(ctx context.Context, userID, addressID string) (authapi.Address, error) {
	if _, err := uuid.Parse(addressID); err != nil {
		return authapi.Address{}, authapi.ErrNotFound
	}
	r, err := s.store.Address(ctx, s.db, userID, addressID)
	if errors.Is(err, adapters.ErrNotFound) {
		return authapi.Address{}, authapi.ErrNotFound
	}
	if err != nil {
		return authapi.Address{}, err
	}
	return toAddress(r), nil
}
