//go:build !no_ordering

package server

import "github.com/opencommerce/commerce/internal/ordering"

// ordering is compiled in unless the build tag no_ordering leaves it out.
func init() { register(ordering.Registration) }
