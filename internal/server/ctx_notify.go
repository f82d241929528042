//go:build !no_notify

package server

import "github.com/opencommerce/commerce/internal/notify"

// notify is compiled in unless the build tag no_notify leaves it out.
func init() { register(notify.Registration) }
