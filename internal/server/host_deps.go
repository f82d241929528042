package server

import (
	"errors"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// hostDeps is what the host constructors need from the platform.
type hostDeps struct {
	s       *Server
	db      *pg.DB
	outbox  *events.Outbox
	limiter *ratelimit.Limiter
	sender  mail.Sender
}

func builtWithout(ctx string) error {
	return errors.New("CONTEXTS: this binary was built without " + ctx + " (build tag no_" + ctx + ")")
}
