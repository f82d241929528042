//go:build !no_cart

package server

import "github.com/opencommerce/commerce/internal/cart"

// cart is compiled in unless the build tag no_cart leaves it out.
func init() { register(cart.Registration) }
