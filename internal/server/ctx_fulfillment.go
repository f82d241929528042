//go:build !no_fulfillment

package server

import "github.com/opencommerce/commerce/internal/fulfillment"

// fulfillment is compiled in unless the build tag no_fulfillment leaves it out.
func init() { register(fulfillment.Registration) }
