//go:build !no_chat

package server

import "github.com/opencommerce/commerce/internal/chat"

// chat is compiled in unless the build tag no_chat leaves it out.
func init() { register(chat.Registration) }
