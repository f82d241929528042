// Package address is the one shape and rule set of a postal address in
// requests: a saved address (/me/addresses), an inline checkout address
// and a shipping-quote destination are the same JSON object, checked by
// the same code, so a client can send any of them anywhere.
package address

import (
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// MaxLen is the longest text field of an address, in characters.
const MaxLen = 200

// Address is a postal address as clients send it. The validate tags bound
// sizes at decoding; Normalize applies the rules that need the trimmed
// value (required fields, the country, the phone number).
type Address struct {
	Label      string `json:"label" validate:"max=200"`
	Line1      string `json:"line1" validate:"max=200"`
	Line2      string `json:"line2" validate:"max=200"`
	City       string `json:"city" validate:"max=200"`
	Region     string `json:"region" validate:"max=200"`
	PostalCode string `json:"postal_code" validate:"max=200"`
	// Country is an ISO 3166-1 alpha-2 code that exists; lower case is
	// accepted and stored upper case.
	Country   string `json:"country" validate:"required"`
	Phone     string `json:"phone" validate:"max=200"`
	IsDefault bool   `json:"is_default"`
}

// Patch is Address with every field optional (PATCH /me/addresses/{id}):
// absent fields keep their values.
type Patch struct {
	Label      *string `json:"label" validate:"omitempty,max=200"`
	Line1      *string `json:"line1" validate:"omitempty,max=200"`
	Line2      *string `json:"line2" validate:"omitempty,max=200"`
	City       *string `json:"city" validate:"omitempty,max=200"`
	Region     *string `json:"region" validate:"omitempty,max=200"`
	PostalCode *string `json:"postal_code" validate:"omitempty,max=200"`
	Country    *string `json:"country"`
	Phone      *string `json:"phone" validate:"omitempty,max=200"`
	IsDefault  *bool   `json:"is_default"`
}

// Apply copies the fields present in p onto a.
func (p Patch) Apply(a *Address) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.Label, p.Label)
	set(&a.Line1, p.Line1)
	set(&a.Line2, p.Line2)
	set(&a.City, p.City)
	set(&a.Region, p.Region)
	set(&a.PostalCode, p.PostalCode)
	set(&a.Country, p.Country)
	set(&a.Phone, p.Phone)
	if p.IsDefault != nil {
		a.IsDefault = *p.IsDefault
	}
}

// Use says which fields an address needs where it is used.
type Use int

const (
	// Deliverable is an address a parcel can be sent to (saved
	// addresses, checkout): line1, city, postal_code and country.
	Deliverable Use = iota
	// Destination only prices a shipment (quotes): the country.
	Destination
)

var countries = validator.New()

// ValidCountry reports whether code (any case) is an ISO 3166-1 alpha-2
// code that exists ("XX" does not).
func ValidCountry(code string) bool {
	code = strings.ToUpper(code)
	return len(code) == 2 && countries.Var(code, "iso3166_1_alpha2") == nil
}

// Normalize trims every field and upper-cases the country, then checks the
// rules; field names in the error are prefix + the JSON name ("address."
// where the address is nested in a body).
func (a *Address) Normalize(use Use, prefix string) error {
	for _, p := range []*string{&a.Label, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &a.Phone} {
		*p = strings.TrimSpace(*p)
	}
	a.Country = strings.ToUpper(a.Country)
	var fields []errs.FieldError
	bad := func(k, msg string) { fields = append(fields, errs.Field(prefix+k, msg)) }
	required := []string{"country"}
	if use == Deliverable {
		required = []string{"line1", "city", "postal_code", "country"}
	}
	values := map[string]string{"label": a.Label, "line1": a.Line1, "line2": a.Line2, "city": a.City, "region": a.Region,
		"postal_code": a.PostalCode, "country": a.Country, "phone": a.Phone}
	for _, k := range required {
		if values[k] == "" {
			bad(k, "is required")
		}
	}
	if a.Country != "" && !ValidCountry(a.Country) {
		bad("country", "must be an ISO 3166-1 alpha-2 country code")
	}
	for _, k := range []string{"label", "line1", "line2", "city", "region", "postal_code", "phone"} {
		if utf8.RuneCountInString(values[k]) > MaxLen {
			bad(k, "must be at most 200 characters")
		}
	}
	if a.Phone != "" && !validPhone(a.Phone) {
		bad("phone", "must contain only digits, spaces, +, -, ., ( and )")
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
