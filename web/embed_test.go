package web

import (
	"bytes"
	"io/fs"
	"regexp"
	"testing"
)

// assetRef is how built files name each other: /assets/x.js in HTML,
// "./x.js" or "assets/x.js" in chunks' imports and preload maps.
var assetRef = regexp.MustCompile(`(?:/assets/|\./|assets/)([\w.-]+\.(?:js|css))\b`)

// reachable is every asset the page loads, at once or later (dynamic
// imports included), following the chunks' references.
func reachable(t *testing.T, dist fs.FS, page string) map[string][]byte {
	t.Helper()
	html, err := fs.ReadFile(dist, page)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var visit func(body []byte)
	visit = func(body []byte) {
		for _, m := range assetRef.FindAllSubmatch(body, -1) {
			name := string(m[1])
			if _, done := out[name]; done {
				continue
			}
			b, err := fs.ReadFile(dist, "assets/"+name)
			if err != nil {
				continue // a name that only looks like an asset
			}
			out[name] = b
			visit(b)
		}
	}
	visit(html)
	return out
}

// The storefront loads no GraphiQL code: the two pages of the build share
// React and nothing of GraphiQL, Monaco or graphql-ws, which would cost
// every shopper megabytes.
func TestStorefrontLoadsNoGraphiQLCode(t *testing.T) {
	dist := Dist()
	if _, err := fs.Stat(dist, "index.html"); err != nil {
		t.Skip("no web build (make web)")
	}
	if GraphiQLPage() == nil {
		t.Fatal("a web build without graphiql.html")
	}
	graphiql := reachable(t, dist, GraphiQLFile)
	if len(graphiql) == 0 {
		t.Fatal("the GraphiQL page loads no asset")
	}
	for name, body := range reachable(t, dist, "index.html") {
		for _, marker := range [][]byte{[]byte("monaco"), []byte("graphiql"), []byte("graphql-transport-ws")} {
			if bytes.Contains(bytes.ToLower(body), marker) {
				t.Errorf("the storefront loads %s, which holds %q", name, marker)
			}
		}
	}
}
