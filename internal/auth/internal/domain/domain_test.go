package domain

import "testing"

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"a@b.co": true, "first.last+tag@shop.example": true,
		"": false, "nope": false, "a@b": false, "A <a@b.co>": false, "a@@b.co": false, " a@b.co": false,
	} {
		if got := ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v", in, got)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pw, email string
		ok        bool
	}{
		{"short", "", false}, {"longenough", "", true}, {"me@x.io1", "me@x.io1", false},
		{string(make([]byte, 129)), "", false},
	}
	for _, c := range cases {
		if got := CheckPassword(c.pw, c.email) == nil; got != c.ok {
			t.Errorf("CheckPassword(%q) ok=%v", c.pw, got)
		}
	}
}

func TestAddressNormalize(t *testing.T) {
	t.Parallel()
	a := Address{Line1: " 1 Main St ", City: "Berlin", PostalCode: "10115", Country: "de"}
	if err := a.Normalize(); err != nil || a.Country != "DE" || a.Line1 != "1 Main St" {
		t.Fatalf("%+v %v", a, err)
	}
	bad := []Address{
		{City: "x", PostalCode: "1", Country: "DE"},
		{Line1: "x", City: "x", PostalCode: "1", Country: "DEU"},
		{Line1: "x", City: "x", PostalCode: "1", Country: "DE", Phone: "call me"},
	}
	for _, b := range bad {
		if err := b.Normalize(); err == nil {
			t.Errorf("want error for %+v", b)
		}
	}
}
