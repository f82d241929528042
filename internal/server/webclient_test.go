package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencommerce/commerce/internal/server/servertest"
)

// webOpenAPI is the copy of the API document the storefront's typed
// client (web/src/api/schema.d.ts) is generated from.
var webOpenAPI = filepath.Join("..", "..", "web", "openapi.json")

// TestWebClientIsGeneratedFromTheCurrentAPI fails when a route or schema
// changed without regenerating the storefront's client: the committed
// web/openapi.json must equal what the binary serves, and the web build
// (tsc over the generated types) then proves the app still compiles
// against it. `make api-client` regenerates both (it runs this test with
// UPDATE_WEB_OPENAPI=1, then openapi-typescript).
func TestWebClientIsGeneratedFromTheCurrentAPI(t *testing.T) {
	e := servertest.Start(t, nil)
	r := e.Do("GET", "/openapi.json", nil, "")
	if r.Status != 200 {
		t.Fatalf("GET /openapi.json: %d", r.Status)
	}
	var live any
	if err := json.Unmarshal(r.Body, &live); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_WEB_OPENAPI") == "1" {
		// Through a map: keys sorted, so regenerating an unchanged API
		// rewrites the same bytes (and the same generated types).
		b, err := json.MarshalIndent(live, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(webOpenAPI, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(webOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var committed any
	if err := json.Unmarshal(b, &committed); err != nil {
		t.Fatalf("web/openapi.json: %v", err)
	}
	if !reflect.DeepEqual(live, committed) {
		t.Fatal("web/openapi.json is not the API the binary serves: run `make api-client` and commit web/openapi.json and web/src/api/schema.d.ts")
	}
}
