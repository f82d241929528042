// Package cursor encodes keyset-pagination cursors: opaque to clients,
// carrying the last id of the previous page.
package cursor

import (
	"encoding/base64"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// ErrInvalid is answered for cursors that were not issued by us.
var ErrInvalid = errs.New(errs.BadRequest, "invalid_cursor", "the cursor is not valid")

// Encode makes the cursor for a page ending at id.
func Encode(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// Decode returns the id in c ("" for the first page).
func Decode(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", ErrInvalid
	}
	u, err := uuid.Parse(string(b))
	if err != nil || len(b) != 36 {
		return "", ErrInvalid
	}
	// Canonical (lower-case) form: ids are compared as text in some
	// keyset queries, where upper case would sort differently.
	return u.String(), nil
}

// Page trims rows fetched with limit+1 to limit and returns the cursor of
// the next page, or nil on the last page.
func Page[T any](rows []T, limit int, id func(T) string) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	c := Encode(id(rows[limit-1]))
	return rows, &c
}
