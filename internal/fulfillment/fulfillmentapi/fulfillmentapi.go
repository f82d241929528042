// Package fulfillmentapi is the only package other contexts import from
// fulfillment. For now: shipping quotes, used by cart at checkout.
package fulfillmentapi

import (
	"context"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Couriers offered.
const (
	CourierStandard = "standard"
	CourierExpress  = "express"
)

// QuoteRequest describes what is shipped where.
type QuoteRequest struct {
	Country     string // ISO 3166-1 alpha-2
	WeightGrams int
	Courier     string
	Currency    string
}

// Quote is the price and delivery estimate of a shipment.
type Quote struct {
	Courier  string `json:"courier" enum:"standard,express"`
	Cost     int64  `json:"cost"`
	Currency string `json:"currency"`
	ETADays  int    `json:"eta_days"`
	Zone     string `json:"zone"`
}

// ErrNoRate is returned when no rate covers the destination, weight and currency.
var ErrNoRate = errs.New(errs.Invalid, "no_shipping_rate", "no shipping rate covers this destination, weight and currency")

// Fulfillment is what other contexts may ask of fulfillment.
type Fulfillment interface {
	// Quote prices a shipment from the rate table.
	Quote(ctx context.Context, r QuoteRequest) (Quote, error)
}

// Event types (topics) published by fulfillment through its outbox.
const (
	EventFulfillmentCreated = "fulfillment.fulfillment_created"
	EventShipped            = "fulfillment.shipped"
	EventDelivered          = "fulfillment.delivered"
)

// Topics lists every topic fulfillment publishes.
var Topics = []string{EventFulfillmentCreated, EventShipped, EventDelivered}

// FulfillmentEvent is the payload of fulfillment's events.
type FulfillmentEvent struct {
	FulfillmentID string `json:"fulfillment_id"`
	OrderID       string `json:"order_id"`
	UserID        string `json:"user_id"`
	Email         string `json:"email,omitempty"`
	Status        string `json:"status"`
	Courier       string `json:"courier"`
	TrackingID    string `json:"tracking_id,omitempty"`
	ETA           string `json:"eta,omitempty"`
}
