package server

import (
	"fmt"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/web"
)

// storefrontOp documents GET /: the storefront is served by the same
// process as the API, so it is part of the published contract (client
// routes such as /products/{id} answer the same page to a browser; that
// catch-all cannot be written as an OpenAPI path and is described here).
var storefrontOp = openapi.Op{Method: "GET", Path: "/", Tag: "storefront", Produces: "text/html", Response: "", Errors: []int{304},
	Summary: "The storefront web app's entry page (a page saying how to build it when the binary has none); browsers navigating to a client route get the same page"}

// newStorefront builds the storefront handler from the embedded web build
// (package web), with the CSP and Stripe key of cfg. The single binary and
// the gateway of a split deployment (the public edge) both serve it. The
// GraphiQL page of the build is GET /graphql's (web.GraphiQLPage), not a file
// of the storefront; its scripts are the storefront's /assets/.
func newStorefront(cfg *config.Config) (*httpx.Storefront, error) {
	sf, err := httpx.NewStorefront(httpx.StorefrontConfig{Files: web.Dist(), Placeholder: web.Placeholder,
		StripePublishableKey: cfg.StripePublishableKey, Exclude: []string{"/" + web.GraphiQLFile}})
	if err != nil {
		return nil, fmt.Errorf("storefront: %w", err)
	}
	return sf, nil
}

// StorefrontBuilt reports whether the binary embeds a web build (false:
// / serves the placeholder), for tests and the start-up log.
func (s *Server) StorefrontBuilt() bool { return s.storefront.Built() }
