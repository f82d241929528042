// Package authapi is the only package other contexts import from auth: the
// integration events auth publishes and the read interface other contexts
// use to look up users and addresses.
package authapi

import (
	"context"
	"time"

	"github.com/opencommerce/commerce/internal/auth/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Event types (topics) published by auth through its outbox.
const (
	EventUserRegistered         = "auth.user_registered"
	EventUserVerified           = "auth.user_verified"
	EventVerificationRequested  = "auth.verification_requested"
	EventPasswordResetRequested = "auth.password_reset_requested"
)

// Topics lists every topic auth publishes, so the bus can create them.
var Topics = []string{EventUserRegistered, EventUserVerified, EventVerificationRequested, EventPasswordResetRequested}

// UserRegistered is the payload of auth.user_registered.
type UserRegistered struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	// Role is "admin" for administrators (created by BOOTSTRAP_ADMIN_* or
	// `commerce admin create`), so notify knows whom to tell about
	// payments that need review; empty or "customer" otherwise.
	Role string `json:"role,omitempty"`
}

// UserVerified is the payload of auth.user_verified.
type UserVerified struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// TokenIssued is the payload of auth.verification_requested and
// auth.password_reset_requested: the notify context mails the token. The
// token is single-use and short-lived; auth itself stores only its hash.
type TokenIssued struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// User is the view of a user other contexts get.
type User struct {
	ID     string
	Email  string
	Name   string
	Role   string
	Status string
}

// Address is a saved shipping address.
type Address struct {
	ID         string `json:"id"`
	Label      string `json:"label"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	Region     string `json:"region"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
	Phone      string `json:"phone"`
	IsDefault  bool   `json:"is_default"`
}

// ErrNotFound is returned for unknown users and addresses.
var ErrNotFound = errs.New(errs.NotFound, "not_found", "not found")

// Auth is what other contexts may ask of auth, in-process or over gRPC.
type Auth interface {
	// User returns a user by id.
	User(ctx context.Context, id string) (User, error)
	// Address returns one of the user's addresses.
	Address(ctx context.Context, userID, addressID string) (Address, error)
}

// NormalizeAddress applies auth's address rules to an address given inline
// (at checkout), so every context validates addresses the same way.
func NormalizeAddress(a *Address) error {
	d := domain.Address{Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
	if err := d.Normalize(); err != nil {
		return err
	}
	a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone = d.Label, d.Line1, d.Line2, d.City, d.Region, d.PostalCode, d.Country, d.Phone
	return nil
}
