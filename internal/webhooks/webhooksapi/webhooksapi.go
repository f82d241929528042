// Package webhooksapi is what other contexts and receivers may use of the
// webhooks context: the events it publishes, the integration events an
// endpoint may subscribe to, the delivery headers and the signature scheme
// (Sign, Verify), so a receiver written in Go verifies exactly what the
// sender signs.
package webhooksapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
)

// EventEndpointDisabled is published when an endpoint failed for 24 hours
// straight and was disabled, so notify can tell the administrators.
const EventEndpointDisabled = "webhooks.endpoint_disabled"

// EventPing is the type of the test delivery POST .../ping sends; it is
// not an integration event and never goes through the outbox.
const EventPing = "webhooks.ping"

// Topics lists every topic webhooks publishes.
var Topics = []string{EventEndpointDisabled}

// EndpointDisabled is the payload of webhooks.endpoint_disabled.
type EndpointDisabled struct {
	EndpointID   string    `json:"endpoint_id"`
	URL          string    `json:"url"`
	Description  string    `json:"description"`
	FailingSince time.Time `json:"failing_since"`
	Reason       string    `json:"reason"`
}

// Events are the integration events an endpoint may subscribe to ("*"
// subscribes to all of them). Events carrying secrets (verification and
// password-reset tokens), private messages (chat) and internal schedules
// (payment reminders) are deliberately not offered.
var Events = []string{
	authapi.EventUserRegistered, authapi.EventUserVerified,
	catalogapi.EventProductCreated, catalogapi.EventProductUpdated, catalogapi.EventProductArchived, catalogapi.EventStockChanged,
	orderingapi.EventOrderPlaced, orderingapi.EventOrderPaid, orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled, orderingapi.EventOrderRefunded,
	paymentsapi.EventPaymentSucceeded, paymentsapi.EventPaymentFailed, paymentsapi.EventRefundSucceeded, paymentsapi.EventPaymentAmountMismatch,
	fulfillmentapi.EventFulfillmentCreated, fulfillmentapi.EventShipped, fulfillmentapi.EventDelivered,
}

// AllEvents is the wildcard filter: every event of Events.
const AllEvents = "*"

// The headers of every delivery.
const (
	HeaderEventID   = "Commerce-Event-Id"
	HeaderEventType = "Commerce-Event-Type"
	HeaderTimestamp = "Commerce-Timestamp"
	HeaderSignature = "Commerce-Signature"
)

// Signature returns the hex HMAC-SHA256 of t + "." + body under secret:
// one v1 value of the Commerce-Signature header.
func Signature(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Sign builds the Commerce-Signature header "t=<unix>,v1=<hex>[,v1=<hex>]"
// with one v1 per secret (the new secret first during a rotation).
func Sign(t int64, body []byte, secrets ...string) string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(t, 10))
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(Signature(s, t, body))
	}
	return b.String()
}

// Errors of Verify.
var (
	ErrBadSignatureHeader = errors.New("webhooks: malformed Commerce-Signature header")
	ErrSignatureMismatch  = errors.New("webhooks: no signature matches")
	ErrTimestampTooOld    = errors.New("webhooks: timestamp outside the tolerance")
)

// Verify checks a Commerce-Signature header against body with the
// receiver's secret: one v1 value must match (constant-time) and t must be
// within tolerance of now (replay protection; 0 skips the check).
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var t int64 = -1
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrBadSignatureHeader
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return ErrBadSignatureHeader
			}
			t = n
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if t < 0 || len(sigs) == 0 {
		return ErrBadSignatureHeader
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
			return ErrTimestampTooOld
		}
	}
	want := []byte(Signature(secret, t, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}
