package cursor_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/cursor"
)

// FuzzDecode: a cursor from a client is either one we could have issued
// (a canonical UUID that survives a round trip) or ErrInvalid; it never
// panics and never lets text reach SQL that a uuid column would refuse.
func FuzzDecode(f *testing.F) {
	f.Add(cursor.Encode("0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11"))
	f.Fuzz(func(t *testing.T, c string) {
		id, err := cursor.Decode(c)
		if err != nil {
			if !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("%q: %v", c, err)
			}
			return
		}
		if c == "" {
			if id != "" {
				t.Fatalf("empty cursor gave %q", id)
			}
			return
		}
		u, perr := uuid.Parse(id)
		if perr != nil || u.String() != id {
			t.Fatalf("%q decoded to non-canonical id %q", c, id)
		}
	})
}
