// Package gateway talks to payment providers: the interface, the local
// test gateway, and the Stripe webhook signature scheme used by both.
package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Gateway is one payment provider.
type Gateway interface {
	// Name is the path segment of its webhook and the payment_gateway value.
	Name() string
	// CreateIntent creates a payment intent; key makes retries idempotent.
	CreateIntent(ctx context.Context, amount int64, currency, orderID, key string) (intentID, clientSecret string, err error)
	// CancelIntent cancels an unpaid intent.
	CancelIntent(ctx context.Context, intentID string) error
	// Refund refunds part of a captured intent; key makes retries idempotent.
	Refund(ctx context.Context, intentID string, amount int64, key string) (refundID string, err error)
	// WebhookSecrets are the signing secrets accepted for webhooks.
	WebhookSecrets() []string
}

// Event is a provider webhook event in Stripe's shape.
type Event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID string `json:"id"`
			// Amount is what the intent asked for; AmountReceived what
			// was captured (Stripe sends both). Pointers tell a missing
			// field from zero: money is never assumed.
			Amount         *int64            `json:"amount"`
			AmountReceived *int64            `json:"amount_received"`
			Currency       string            `json:"currency"`
			Metadata       map[string]string `json:"metadata"`
		} `json:"object"`
	} `json:"data"`
}

// Tolerance is how old a signed webhook may be.
const Tolerance = 300 * time.Second

// Webhook verification errors (all answered 400).
var (
	ErrNoSignature  = errors.New("missing Stripe-Signature header")
	ErrBadSignature = errors.New("no valid signature")
	ErrStale        = errors.New("timestamp outside the tolerance")
)

// Verify checks a Stripe-Signature header (t=<unix>,v1=<hex>[,v1=<hex>...])
// over the raw body against every secret (rotation), in constant time, and
// decodes the event.
func Verify(body []byte, header string, secrets []string, now time.Time) (Event, error) {
	var ev Event
	if header == "" {
		return ev, ErrNoSignature
	}
	var ts int64
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts, _ = strconv.ParseInt(v, 10, 64)
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == 0 || len(sigs) == 0 {
		return ev, ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ev, ErrStale
	}
	valid := false
	for _, secret := range secrets {
		want := Sign(secret, ts, body)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				valid = true
			}
		}
	}
	if !valid {
		return ev, ErrBadSignature
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return ev, fmt.Errorf("%w: body is not an event", ErrBadSignature)
	}
	return ev, nil
}

// Sign computes the v1 signature of body at ts.
func Sign(secret string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Header builds a Stripe-Signature header (tests, and the test gateway's docs).
func Header(secret string, ts int64, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", ts, hex.EncodeToString(Sign(secret, ts, body)))
}

// Test is the built-in gateway: intents exist only locally and are paid by
// posting a signed webhook in Stripe's event shape.
type Test struct{ Secret string }

// Name implements Gateway.
func (Test) Name() string { return "test" }

// CreateIntent implements Gateway.
func (Test) CreateIntent(_ context.Context, _ int64, _, _, key string) (string, string, error) {
	id := "pi_test_" + strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceOID, []byte(key)).String(), "-", "")
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return id, id + "_secret_" + hex.EncodeToString(b), nil
}

// CancelIntent implements Gateway.
func (Test) CancelIntent(context.Context, string) error { return nil }

// Refund implements Gateway.
func (Test) Refund(_ context.Context, _ string, _ int64, key string) (string, error) {
	return "re_test_" + strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceOID, []byte(key)).String(), "-", ""), nil
}

// WebhookSecrets implements Gateway.
func (t Test) WebhookSecrets() []string { return []string{t.Secret} }
