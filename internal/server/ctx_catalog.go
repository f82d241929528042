//go:build !no_catalog

package server

import "github.com/opencommerce/commerce/internal/catalog"

// catalog is compiled in unless the build tag no_catalog leaves it out.
func init() { register(catalog.Registration) }
