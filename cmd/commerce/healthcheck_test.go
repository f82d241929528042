package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck: the container HEALTHCHECK succeeds on a 2xx /healthz
// and fails (exit 1) on an error status or when nothing listens, reading
// the port from HTTP_ADDR when no --url is given.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv("HTTP_ADDR", ":"+port)
	var out, errOut bytes.Buffer
	if code := run([]string{"healthcheck"}, &out, &errOut); code != 0 || path != "/healthz" {
		t.Fatalf("healthcheck against a healthy server: exit %d, path %q, stderr %q", code, path, errOut.String())
	}

	status = http.StatusServiceUnavailable
	errOut.Reset()
	if code := run([]string{"healthcheck", "--url", srv.URL + "/readyz"}, &out, &errOut); code != 1 || path != "/readyz" {
		t.Fatalf("healthcheck against a 503: exit %d, path %q; want 1", code, path)
	}
	if !strings.Contains(errOut.String(), "503") {
		t.Errorf("the failure does not name the status: %q", errOut.String())
	}

	srv.Close()
	if code := run([]string{"healthcheck", "--timeout", "1s"}, &out, &errOut); code != 1 {
		t.Fatalf("healthcheck with nothing listening: exit %d; want 1", code)
	}
	if code := run([]string{"healthcheck", "--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "Usage: commerce healthcheck") {
		t.Fatalf("healthcheck --help: exit %d, %q", code, out.String())
	}
}

// TestHealthURL: the default URL follows HTTP_ADDR, with loopback for a
// wildcard listen address.
func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"0.0.0.0:8081":   "http://127.0.0.1:8081/healthz",
		"[::]:8082":      "http://127.0.0.1:8082/healthz",
		"10.0.0.5:8083":  "http://10.0.0.5:8083/healthz",
		"[fd00::1]:8084": "http://[fd00::1]:8084/healthz",
	} {
		got, err := healthURL(addr)
		if err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := healthURL("8080"); err == nil {
		t.Error("healthURL(\"8080\") accepted an address without a port separator")
	}
}
