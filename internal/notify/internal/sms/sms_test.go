package sms

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type vendor struct {
	*httptest.Server
	mu   sync.Mutex
	hits []*http.Request
	msgs []map[string]string
}

func newVendor(t *testing.T, status int) *vendor {
	v := &vendor{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		v.mu.Lock()
		v.hits = append(v.hits, r)
		v.msgs = append(v.msgs, m)
		v.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(v.Close)
	return v
}

func TestFailoverUsesTheNextProviderOnce(t *testing.T) {
	down, up, spare := newVendor(t, 502), newVendor(t, 200), newVendor(t, 200)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain, err := Parse(down.URL+", http://:tok-up@"+strings.TrimPrefix(up.URL, "http://")+","+spare.URL+",log", "default-tok", log)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 4 || chain[3].Name() != "log" {
		t.Fatalf("chain: %v", chain)
	}
	via, err := chain.Send(context.Background(), Message{ID: "m-1", To: "+15550001111", Body: "Your order has shipped"})
	if err != nil || via != strings.TrimPrefix(up.URL, "http://") {
		t.Fatalf("via %q err %v", via, err)
	}
	if len(down.hits) != 1 || len(up.hits) != 1 || len(spare.hits) != 0 {
		t.Fatalf("hits: down %d up %d spare %d", len(down.hits), len(up.hits), len(spare.hits))
	}
	r := up.hits[0]
	if r.Header.Get("Authorization") != "Bearer tok-up" || r.Header.Get("Idempotency-Key") != "m-1" || up.msgs[0]["to"] != "+15550001111" {
		t.Fatalf("request: %v %v", r.Header, up.msgs[0])
	}
	if down.hits[0].Header.Get("Authorization") != "Bearer default-tok" {
		t.Fatal("a provider without its own token uses SMS_HTTP_TOKEN")
	}
}

func TestAllProvidersDownIsAnError(t *testing.T) {
	a, b := newVendor(t, 500), newVendor(t, 429)
	chain, _ := Parse(a.URL+","+b.URL, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := chain.Send(context.Background(), Message{ID: "x", To: "1", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err: %v", err)
	}
}

func TestParseRejectsAndRedacts(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := Parse("carrier-pigeon", "", log); err == nil {
		t.Fatal("unknown provider accepted")
	}
	_, err := Parse("ftp://:secret@x", "", log)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error must not leak the token: %v", err)
	}
	if c, err := Parse("", "", log); err != nil || len(c) != 1 || c[0].Name() != "log" {
		t.Fatal("empty spec is the log provider")
	}
	if Mask("+15550001234") != "**********34" {
		t.Fatal(Mask("+15550001234"))
	}
}
