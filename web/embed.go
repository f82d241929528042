// Package web is the storefront as the binary carries it: the Vite build
// under dist/ (written by `make web`, never committed) and a placeholder
// page for a checkout that has no build, so `go build ./...` works and `/`
// answers something useful either way.
package web

import (
	"embed"
	"io/fs"
)

// dist is embedded with all: because Vite names some chunks with a
// leading underscore, which a plain pattern would silently leave out. It
// always holds at least dist/.keep (committed), so the pattern matches in
// a clean checkout too.
//
//go:embed all:dist
var dist embed.FS

// Placeholder is the page served at / (and for client routes) when dist/
// has no index.html: it tells whoever opens the shop how to build the
// storefront instead of answering 404.
//
//go:embed placeholder.html
var Placeholder []byte

// Dist returns the build output with dist/ as its root ("index.html",
// "assets/index-1a2b3c.js"), the shape the HTTP handler serves from.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path; "dist" is a constant.
		panic(err)
	}
	return sub
}

// GraphiQLFile is the build's second page (web/graphiql.html): the GraphiQL
// IDE the GraphQL endpoint sends a browser on GET /graphql, with its own
// Content-Security-Policy, so the storefront does not serve it as a file.
const GraphiQLFile = "graphiql.html"

// GraphiQLPage returns the built GraphiQL page, or nil when the binary was
// built without the web app (the endpoint then serves its CDN page).
func GraphiQLPage() []byte {
	b, err := fs.ReadFile(Dist(), GraphiQLFile)
	if err != nil {
		return nil
	}
	return b
}
