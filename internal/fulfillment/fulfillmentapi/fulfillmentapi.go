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
	Courier  string `json:"courier"`
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
