package acceptance

import (
	"testing"

	"github.com/opencommerce/commerce/internal/server/servertest"
)

type resp = servertest.Response

// call sends a request to the binary; body is raw when []byte or string,
// JSON-encoded otherwise.
func call(t *testing.T, base, method, path string, body any, token string, headers ...string) resp {
	t.Helper()
	return servertest.Do(t, base, method, path, body, token, headers...)
}

func expect(t *testing.T, r resp, status int, what string) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	return r
}

func expectProblem(t *testing.T, r resp, status int, code, what string) {
	t.Helper()
	expect(t, r, status, what)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: content type %q", what, ct)
	}
	if code != "" && r.Str("code") != code {
		t.Fatalf("%s: code %q, want %q (%s)", what, r.Str("code"), code, r.Body)
	}
}
