//go:build !no_payments

package server

import "github.com/opencommerce/commerce/internal/payments"

// payments is compiled in unless the build tag no_payments leaves it out.
func init() { register(payments.Registration) }
