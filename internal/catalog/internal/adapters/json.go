package adapters

import (
	"database/sql/driver"
	"encoding/json"
)

// pgJSON sends a Go value as a JSON text parameter.
type pgJSON struct{ v any }

// Value implements driver.Valuer.
func (j pgJSON) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}
