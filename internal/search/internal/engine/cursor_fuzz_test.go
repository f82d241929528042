package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzDecodeCursor: a search cursor from a client either decodes to a
// position we could have issued (canonical UUID id, bounded offset) or is
// ErrBadCursor; it never panics. Issued cursors round-trip.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(*encodeCursor(cursorState{Sort: SortNewest, Created: time.Unix(1700000000, 0).UTC(), ID: "0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11"}), SortNewest)
	f.Fuzz(func(t *testing.T, s, sort string) {
		c, err := decodeCursor(s, sort)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if c.ID != "" {
			if u, perr := uuid.Parse(c.ID); perr != nil || u.String() != c.ID {
				t.Fatalf("%q: id %q", s, c.ID)
			}
		}
		if c.Offset < 0 || c.Offset > maxOffset {
			t.Fatalf("%q: offset %d", s, c.Offset)
		}
		if s != "" {
			again, err := decodeCursor(*encodeCursor(c), c.Sort)
			if err != nil || again.ID != c.ID || again.Offset != c.Offset {
				t.Fatalf("%q: no round trip: %+v %v", s, again, err)
			}
		}
	})
}
