// Package events is the integration-event plumbing shared by every context:
// the wire envelope, the transactional outbox (one table, written in the
// caller's transaction, sequenced after commit by a relay), consumers with
// an inbox, retries and a dead-letter table, and the Kafka forwarder.
package events

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Envelope is the wire shape of every event (API.md). Payloads carry IDs and
// facts and evolve by adding fields; a breaking change bumps Version.
type Envelope struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Version     int             `json:"version"`
	OccurredAt  time.Time       `json:"occurred_at"`
	AggregateID string          `json:"aggregate_id"`
	Data        json.RawMessage `json:"data"`
	TraceParent string          `json:"trace_parent,omitempty"`
}

// New builds a version-1 envelope with a UUIDv7 id. The type is also the
// topic: "<context>.<event>".
func New(typ, aggregateID string, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return Envelope{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Type:        typ,
		Version:     1,
		OccurredAt:  time.Now().UTC().Truncate(time.Microsecond),
		AggregateID: aggregateID,
		Data:        raw,
	}, nil
}

// Decode unmarshals the payload into v.
func (e Envelope) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}
