package address_test

import (
	"testing"

	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

func fields(err error) map[string]string {
	out := map[string]string{}
	if e, ok := errs.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Message
		}
	}
	return out
}

// A country must be an ISO 3166-1 alpha-2 code that exists: "XX" has the
// right shape but names no country.
func TestCountryMustExist(t *testing.T) {
	for code, ok := range map[string]bool{"DE": true, "de": true, "US": true, "XX": false, "ZZ": false, "DEU": false, "D": false, "": false, "Germany": false, "D\x00": false} {
		if address.ValidCountry(code) != ok {
			t.Errorf("%q: want %v", code, ok)
		}
	}
	a := address.Address{Country: "xx"}
	if got := fields(a.Normalize(address.Destination, "address.")); got["address.country"] != "must be an ISO 3166-1 alpha-2 country code" {
		t.Fatalf("%v", got)
	}
}

func TestNormalizeByUse(t *testing.T) {
	a := address.Address{Line1: " 1 Main St ", City: "Berlin", PostalCode: "10115", Country: " de ", Label: "home", Phone: "+49 (30) 123-456", IsDefault: true}
	if err := a.Normalize(address.Deliverable, ""); err != nil || a.Country != "DE" || a.Line1 != "1 Main St" {
		t.Fatalf("%+v %v", a, err)
	}
	q := address.Address{Country: "fr"}
	if err := q.Normalize(address.Destination, "address."); err != nil || q.Country != "FR" {
		t.Fatalf("destination: %+v %v", q, err)
	}
	got := fields(q.Normalize(address.Deliverable, "address."))
	for _, k := range []string{"address.line1", "address.city", "address.postal_code"} {
		if got[k] != "is required" {
			t.Errorf("%s: %q", k, got[k])
		}
	}
	bad := address.Address{Line1: "x", City: "x", PostalCode: "1", Country: "DE", Phone: "call me"}
	if got := fields(bad.Normalize(address.Deliverable, "")); got["phone"] == "" {
		t.Fatalf("phone: %v", got)
	}
}

func TestPatchKeepsAbsentFields(t *testing.T) {
	a := address.Address{Line1: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"}
	city, def := "Munich", true
	address.Patch{City: &city, IsDefault: &def}.Apply(&a)
	if a.City != "Munich" || a.Line1 != "1 Main St" || !a.IsDefault {
		t.Fatalf("%+v", a)
	}
}
