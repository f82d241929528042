// Package domain holds auth's rules: what a valid email, password, name and
// address are, and the user lifecycle. It imports no infrastructure.
package domain

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// User statuses.
const (
	StatusUnverified = "unverified"
	StatusActive     = "active"
	StatusDisabled   = "disabled"
)

// Password length bounds: NIST SP 800-63B minimum of 8; the maximum keeps
// hashing cost bounded.
const (
	MinPassword = 8
	MaxPassword = 128
)

// NormalizeEmail lowercases and trims, so one mailbox is one account.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a bare addr-spec with a dotted domain.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndex(s, "@")
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// CheckPassword applies the password policy.
func CheckPassword(pw, email string) *errs.FieldError {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPassword:
		f := errs.Field("password", "must be at least 8 characters")
		return &f
	case n > MaxPassword:
		f := errs.Field("password", "must be at most 128 characters")
		return &f
	case email != "" && strings.EqualFold(pw, email):
		f := errs.Field("password", "must not be your email address")
		return &f
	}
	return nil
}

// CleanName trims a display name and checks its length.
func CleanName(s string) (string, *errs.FieldError) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 100 {
		f := errs.Field("name", "must be 1 to 100 characters")
		return "", &f
	}
	return s, nil
}

// Address is a shipping address as the rules see it.
type Address struct {
	Label, Line1, Line2, City, Region, PostalCode, Country, Phone string
	IsDefault                                                     bool
}

// Normalize trims fields and upper-cases the country, then validates with
// the platform's one set of address rules (shared with checkout and
// shipping quotes).
func (a *Address) Normalize() error {
	pa := address.Address{Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
	if err := pa.Normalize(address.Deliverable, ""); err != nil {
		return err
	}
	a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone = pa.Label, pa.Line1, pa.Line2, pa.City, pa.Region, pa.PostalCode, pa.Country, pa.Phone
	return nil
}
