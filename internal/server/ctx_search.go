//go:build !no_search

package server

import "github.com/opencommerce/commerce/internal/search"

// search is compiled in unless the build tag no_search leaves it out.
func init() { register(search.Registration) }
