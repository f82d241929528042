// Package domain holds auth's rules: what a valid email, password, name and
// address are, and the user lifecycle. It imports no infrastructure.
package domain

import (
	"net/mail"
	"strings"
	"unicode/utf8"

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

// Normalize trims fields and upper-cases the country, then validates.
func (a *Address) Normalize() error {
	for _, p := range []*string{&a.Label, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &a.Phone} {
		*p = strings.TrimSpace(*p)
	}
	a.Country = strings.ToUpper(a.Country)
	var fields []errs.FieldError
	req := map[string]string{"line1": a.Line1, "city": a.City, "postal_code": a.PostalCode, "country": a.Country}
	for _, k := range []string{"line1", "city", "postal_code", "country"} {
		if req[k] == "" {
			fields = append(fields, errs.Field(k, "is required"))
		}
	}
	if a.Country != "" && (len(a.Country) != 2 || a.Country[0] < 'A' || a.Country[0] > 'Z' || a.Country[1] < 'A' || a.Country[1] > 'Z') {
		fields = append(fields, errs.Field("country", "must be an ISO 3166-1 alpha-2 code"))
	}
	long := map[string]string{"label": a.Label, "line1": a.Line1, "line2": a.Line2, "city": a.City, "region": a.Region, "postal_code": a.PostalCode, "phone": a.Phone}
	for _, k := range []string{"label", "line1", "line2", "city", "region", "postal_code", "phone"} {
		if utf8.RuneCountInString(long[k]) > 200 {
			fields = append(fields, errs.Field(k, "must be at most 200 characters"))
		}
	}
	if a.Phone != "" && !validPhone(a.Phone) {
		fields = append(fields, errs.Field("phone", "must contain only digits, spaces, +, -, ( and )"))
	}
	if len(fields) > 0 {
		return errs.Validation(fields...)
	}
	return nil
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() .", r):
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}
