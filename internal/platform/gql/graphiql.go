package gql

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// graphiQLCSP opens the page's Content-Security-Policy to the CDN that
// serves GraphiQL; the queries it sends stay on this origin. It is the
// fallback page's, for a binary built without the web app.
const graphiQLCSP = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; style-src 'self' 'unsafe-inline' https://unpkg.com; " +
	"img-src 'self' data: https:; font-src 'self' data: https://unpkg.com; connect-src 'self'"

// BundledGraphiQLCSP is the Content-Security-Policy of the GraphiQL page
// bundled into the web build (ServeGraphiQL): everything from this origin
// only, so it works offline and loads nothing from elsewhere. Monaco (the
// editor) injects style elements and ships its icon fonts and images as
// data: URLs, hence 'unsafe-inline' styles and data: fonts and images; its
// language services run as module workers from /assets/ (blob: is its
// fallback way of starting one); subscriptions need the WebSocket schemes.
const BundledGraphiQLCSP = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; " +
	"frame-ancestors 'none'; form-action 'self'"

// ServeGraphiQL makes a browser's GET /graphql answer page, the GraphiQL
// IDE the web build bundles (web/graphiql.html, its scripts under
// /assets/ served by the storefront), instead of the page loading GraphiQL
// from a CDN, which fails offline. An empty page keeps the CDN page: a
// binary built without the web app has no bundle to serve. Call it before
// serving.
func (g *Gateway) ServeGraphiQL(page []byte) {
	g.graphiQLPage = page
}

// wantsGraphiQL reports whether a GET is a browser opening the endpoint
// (it asks for HTML and carries no operation).
func wantsGraphiQL(c *fiber.Ctx) bool {
	return c.Query("query") == "" && c.Query("extensions") == "" && strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

// sendGraphiQL answers with the bundled page when there is one, else the
// CDN page. It is never cached: the bundle's asset names change with
// each build.
func (g *Gateway) sendGraphiQL(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "strict-origin-when-cross-origin")
	if len(g.graphiQLPage) > 0 {
		c.Set(fiber.HeaderContentSecurityPolicy, BundledGraphiQLCSP)
		return c.Send(g.graphiQLPage)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, graphiQLCSP)
	return c.SendString(graphiQL)
}

// graphiQL is the page a browser gets on GET /graphql: the GraphiQL IDE
// against this endpoint. Paste an access token as
// {"Authorization": "Bearer …"} in its headers tab for your own orders.
const graphiQL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Commerce GraphQL</title>
<style>body { height: 100vh; margin: 0; } #graphiql { height: 100vh; }</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
<script>
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
</script>
</body>
</html>
`
