// Package servertest starts a whole in-process server on a fresh, migrated
// test database and a loopback port, with helpers to call it over real
// HTTP. Component tests of every context use it.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server"
)

// Env is a running server.
type Env struct {
	T      testing.TB
	Server *server.Server
	DB     *pg.DB
	URL    string
	Config *config.Config
}

// Start runs a server; mutate adjusts the configuration first.
func Start(t testing.TB, mutate func(*config.Config)) *Env {
	t.Helper()
	return StartWith(t, mutate)
}

// StartWith is Start with options for the database pool (a query tracer,
// a pool size).
func StartWith(t testing.TB, mutate func(*config.Config), dbOpts ...pg.Option) *Env {
	t.Helper()
	db := pgtest.New(t, dbOpts...)
	cfg, err := config.Load(nil, func(k string) string {
		switch k {
		case "DATA_DIR":
			return t.TempDir()
		case "PASSWORD_HASH_MEMORY_KIB":
			return "64" // tests only: keep argon2 cheap
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	var log *slog.Logger
	if os.Getenv("TEST_LOG") != "" {
		log = logx.New(os.Stderr, "debug")
	} else {
		log = logx.New(io.Discard, "error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, db, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not shut down")
		}
	})
	return &Env{T: t, Server: srv, DB: db, URL: "http://" + ln.Addr().String(), Config: cfg}
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Str returns a top-level string field.
func (r Response) Str(k string) string {
	s, _ := r.JSON()[k].(string)
	return s
}

// Do sends a request; body may be nil, a []byte/string (sent raw) or a
// value to encode. The response is checked against the server's OpenAPI
// document (see checkContract).
func (e *Env) Do(method, path string, body any, token string, headers ...string) Response {
	e.T.Helper()
	return Do(e.T, e.URL, method, path, body, token, headers...)
}

// Do is Env.Do against any base URL (the acceptance suite uses it); every
// response is validated against base's /openapi.json.
func Do(t testing.TB, base, method, path string, body any, token string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Header: res.Header, Body: b}
	checkContract(t, base, method, path, out)
	return out
}

var tokenRe = regexp.MustCompile(`token to the API:\s+(\S+)`)

// WaitToken waits for the newest queued email of kind to addr and returns
// the token in it.
func (e *Env) WaitToken(addr, kind string) string {
	e.T.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var body string
		err := e.DB.NewRaw("SELECT text_body FROM notify.emails WHERE to_addr = ? AND kind = ? ORDER BY id DESC LIMIT 1", addr, kind).Scan(context.Background(), &body)
		if err == nil {
			if m := tokenRe.FindStringSubmatch(body); m != nil {
				return m[1]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.T.Fatalf("no %s email to %s", kind, addr)
	return ""
}

// ExtractToken finds the API token in an email body.
func ExtractToken(body string) string {
	if m := tokenRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// PostDeclaringSize sends only the headers of a POST whose Content-Length
// declares size bytes, then reads the answer. Servers refuse oversized
// bodies from the header alone; sending the body too would race the
// server's early close (the client may see a reset instead of the 413).
func PostDeclaringSize(t testing.TB, base, path string, size int) Response {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", path, u.Host, size)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Header: res.Header, Body: b}
	checkContract(t, base, "POST", path, out)
	return out
}
