//go:build !no_auth

package server

import "github.com/opencommerce/commerce/internal/auth"

// auth is compiled in unless the build tag no_auth leaves it out.
func init() { register(auth.Registration) }
