//go:build !no_webhooks

package server

import "github.com/opencommerce/commerce/internal/webhooks"

// webhooks is compiled in unless the build tag no_webhooks leaves it out.
func init() { register(webhooks.Registration) }
