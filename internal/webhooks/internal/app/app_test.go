package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/platform/wait"
	"github.com/opencommerce/commerce/internal/webhooks/internal/ssrf"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// received is one request the test receiver got.
type received struct {
	eventID, eventType, signature, timestamp string
	body                                     []byte
}

// receiver is an HTTPS server on loopback answering with the statuses of
// plan in turn (then 200), recording every request.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	plan []int
	hang chan struct{} // when set, the first request waits on it
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{plan: plan}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get(webhooksapi.HeaderEventID), req.Header.Get(webhooksapi.HeaderEventType),
			req.Header.Get(webhooksapi.HeaderSignature), req.Header.Get(webhooksapi.HeaderTimestamp), b})
		n := len(r.got)
		hang := r.hang
		r.hang = nil
		code := 200
		if n <= len(r.plan) {
			code = r.plan[n-1]
		}
		r.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(strings.Repeat("x", 2000)))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(r.srv.Certificate())
	return p
}

type fixture struct {
	s   *Service
	ctx context.Context
}

func start(t *testing.T, cfg Config) fixture {
	t.Helper()
	db := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	cfg.PollInterval = 20 * time.Millisecond
	s := New(db, events.NewOutbox(log), cfg, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return fixture{s: s, ctx: context.Background()}
}

func (f fixture) publish(t *testing.T, e events.Envelope) {
	t.Helper()
	if err := f.s.db.InTx(f.ctx, func(ctx context.Context, tx bun.Tx) error { return f.s.HandleEvent(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
	f.s.Wake()
}

func orderEvent(t *testing.T, typ, orderID string) events.Envelope {
	t.Helper()
	e, err := events.New(typ, orderID, orderingapi.OrderEvent{OrderID: orderID, UserID: uuid.NewString(), Status: "placed", Total: 1500, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	e.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	return e
}

func (f fixture) deliveries(t *testing.T, endpointID string) []Delivery {
	t.Helper()
	ds, _, err := f.s.Deliveries(f.ctx, endpointID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// An order's placed and paid events arrive signed, exactly once per event
// id although the receiver fails twice first; the log shows the attempts;
// a replay delivers the same event id again.
func TestEventsArriveSignedOnceDespiteFailuresAndReplay(t *testing.T) {
	r := newReceiver(t, 500, 500)
	f := start(t, Config{Policy: ssrf.Policy{AllowLoopback: true}, RootCAs: r.pool()})
	ep, err := f.s.Create(f.ctx, CreateInput{URL: r.srv.URL + "/hook", Events: []string{orderingapi.EventOrderPlaced, orderingapi.EventOrderPaid}, Description: "erp"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("secret %q", ep.Secret)
	}
	order := uuid.NewString()
	placed, paid := orderEvent(t, orderingapi.EventOrderPlaced, order), orderEvent(t, orderingapi.EventOrderPaid, order)
	f.publish(t, placed)
	f.publish(t, placed) // redelivered by the bus: still one delivery
	wait.Until(t, "placed delivered", 10*time.Second, 10*time.Millisecond, func() bool {
		ds := f.deliveries(t, ep.ID)
		return len(ds) == 1 && ds[0].Status == StatusSucceeded
	})
	f.publish(t, paid)
	f.publish(t, orderEvent(t, orderingapi.EventOrderCanceled, order)) // not subscribed
	wait.Until(t, "paid delivered", 10*time.Second, 10*time.Millisecond, func() bool {
		ds := f.deliveries(t, ep.ID)
		return len(ds) == 2 && ds[0].Status == StatusSucceeded
	})
	got := r.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 3 attempts of placed and 1 of paid", len(got))
	}
	ok := map[string]int{}
	for _, g := range got {
		if err := webhooksapi.Verify(ep.Secret, g.signature, g.body, 5*time.Minute, time.Now()); err != nil {
			t.Fatalf("signature %q: %v", g.signature, err)
		}
		if !strings.HasPrefix(g.signature, "t="+g.timestamp+",v1=") {
			t.Fatalf("signature %q timestamp %q", g.signature, g.timestamp)
		}
		if err := webhooksapi.Verify("whsec_wrong", g.signature, g.body, 0, time.Now()); err == nil {
			t.Fatal("a wrong secret verified")
		}
		var env map[string]any
		if err := json.Unmarshal(g.body, &env); err != nil || env["id"] != g.eventID || env["type"] != g.eventType || env["trace_parent"] != nil {
			t.Fatalf("body %s (%v)", g.body, err)
		}
		ok[g.eventID]++
	}
	if ok[placed.ID] != 3 || ok[paid.ID] != 1 {
		t.Fatalf("requests per event: %v", ok)
	}
	ds := f.deliveries(t, ep.ID)
	first := ds[1]
	if first.EventID != placed.ID || first.Attempts != 3 || len(first.Log) != 3 {
		t.Fatalf("placed delivery: %+v", first)
	}
	for i, a := range first.Log {
		want := 500
		if i == 2 {
			want = 200
		}
		if a.N != i+1 || a.ResponseCode == nil || *a.ResponseCode != want || len(a.ResponseBody) != 1024 || a.LatencyMS < 0 {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	// The endpoint recovered: no failing run left.
	if e, _ := f.s.Get(f.ctx, ep.ID); e.FailingSince != nil || !e.Enabled {
		t.Fatalf("endpoint after recovery: %+v", e)
	}

	rp, err := f.s.Replay(f.ctx, ep.ID, first.ID)
	if err != nil || rp.ReplayOf == nil || *rp.ReplayOf != first.ID || rp.EventID != placed.ID {
		t.Fatalf("replay: %+v %v", rp, err)
	}
	wait.Until(t, "replay delivered", 10*time.Second, 10*time.Millisecond, func() bool { return len(r.requests()) == 5 })
	if g := r.requests()[4]; g.eventID != placed.ID {
		t.Fatalf("replayed event id %s", g.eventID)
	}
	if _, err := f.s.Replay(f.ctx, ep.ID, uuid.NewString()); err != ErrDeliveryNotFound {
		t.Fatalf("replay of no delivery: %v", err)
	}

	// Rotation: both secrets sign during the overlap, the new one first.
	rot, err := f.s.RotateSecret(f.ctx, ep.ID, RotateInput{})
	if err != nil || rot.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	pd, err := f.s.Ping(f.ctx, ep.ID)
	if err != nil || pd.Status != StatusSucceeded || pd.EventType != webhooksapi.EventPing || len(pd.Log) != 1 {
		t.Fatalf("ping: %+v %v", pd, err)
	}
	g := r.requests()[5]
	if strings.Count(g.signature, "v1=") != 2 {
		t.Fatalf("signature during the overlap: %q", g.signature)
	}
	for _, sec := range []string{rot.Secret, ep.Secret} {
		if err := webhooksapi.Verify(sec, g.signature, g.body, time.Minute, time.Now()); err != nil {
			t.Fatalf("overlap signature with %q: %v", sec[:10], err)
		}
	}
}

// A receiver that does not answer within the timeout fails the attempt,
// which is retried.
func TestSlowReceiverIsRetried(t *testing.T) {
	r := newReceiver(t)
	r.hang = make(chan struct{})
	defer close(r.hang)
	f := start(t, Config{Policy: ssrf.Policy{AllowLoopback: true}, RootCAs: r.pool(), Timeout: 300 * time.Millisecond})
	ep, err := f.s.Create(f.ctx, CreateInput{URL: r.srv.URL, Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	f.publish(t, orderEvent(t, orderingapi.EventOrderPaid, uuid.NewString()))
	wait.Until(t, "delivered on the second attempt", 10*time.Second, 10*time.Millisecond, func() bool {
		ds := f.deliveries(t, ep.ID)
		return len(ds) == 1 && ds[0].Status == StatusSucceeded
	})
	d := f.deliveries(t, ep.ID)[0]
	if len(d.Log) != 2 || d.Log[0].ResponseCode != nil || d.Log[0].Error != "timed out" || *d.Log[1].ResponseCode != 200 {
		t.Fatalf("log: %+v", d.Log)
	}
}

// Retrying stops after GiveUpAfter (failed), and an endpoint failing for
// DisableAfter is disabled, with webhooks.endpoint_disabled in the outbox.
func TestGivingUpAndDisabling(t *testing.T) {
	plan := make([]int, 100)
	for i := range plan {
		plan[i] = 500
	}
	r := newReceiver(t, plan...)
	f := start(t, Config{Policy: ssrf.Policy{AllowLoopback: true}, RootCAs: r.pool(), GiveUpAfter: 200 * time.Millisecond})
	ep, err := f.s.Create(f.ctx, CreateInput{URL: r.srv.URL, Events: []string{orderingapi.EventOrderPaid}})
	if err != nil {
		t.Fatal(err)
	}
	f.publish(t, orderEvent(t, orderingapi.EventOrderPaid, uuid.NewString()))
	wait.Until(t, "failed", 10*time.Second, 10*time.Millisecond, func() bool {
		ds := f.deliveries(t, ep.ID)
		return len(ds) == 1 && ds[0].Status == StatusFailed
	})
	e, _ := f.s.Get(f.ctx, ep.ID)
	if !e.Enabled || e.FailingSince == nil {
		t.Fatalf("endpoint after a failed delivery: %+v", e)
	}
	// A day of failures later, the next failure disables it.
	if _, err := f.s.db.ExecContext(f.ctx, "UPDATE webhooks.endpoints SET failing_since = now() - interval '25 hours' WHERE id = ?", ep.ID); err != nil {
		t.Fatal(err)
	}
	f.publish(t, orderEvent(t, orderingapi.EventOrderPaid, uuid.NewString()))
	wait.Until(t, "disabled", 10*time.Second, 10*time.Millisecond, func() bool {
		e, _ := f.s.Get(f.ctx, ep.ID)
		return !e.Enabled && e.DisabledReason != nil
	})
	var payload string
	if err := f.s.db.NewRaw("SELECT payload::text FROM events.outbox WHERE topic = ?", webhooksapi.EventEndpointDisabled).Scan(f.ctx, &payload); err != nil ||
		!strings.Contains(payload, ep.ID) {
		t.Fatalf("endpoint_disabled event: %q %v", payload, err)
	}
	// Disabled: no new deliveries, replay refused until enabled again.
	f.publish(t, orderEvent(t, orderingapi.EventOrderPaid, uuid.NewString()))
	if n := len(f.deliveries(t, ep.ID)); n != 2 {
		t.Fatalf("%d deliveries to a disabled endpoint", n)
	}
	if _, err := f.s.Replay(f.ctx, ep.ID, f.deliveries(t, ep.ID)[0].ID); err != ErrDisabled {
		t.Fatalf("replay to a disabled endpoint: %v", err)
	}
	on := true
	if e, err := f.s.Update(f.ctx, ep.ID, UpdateInput{Enabled: &on}); err != nil || !e.Enabled || e.FailingSince != nil || e.DisabledReason != nil {
		t.Fatalf("enable: %+v %v", e, err)
	}
}

// Registration refuses what the SSRF policy refuses, with 422 on url.
func TestRegistrationRefusesPrivateTargets(t *testing.T) {
	f := start(t, Config{})
	for _, u := range []string{"https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook", "https://127.0.0.1/hook", "https://[::1]/hook",
		"https://localhost/hook", "http://example.com/hook", "https://[fd00:ec2::254]/", "https://100.100.100.200/", "https://[::ffff:10.0.0.1]/",
		"https://user:pw@example.com/", "ftp://example.com/", "example.com/hook", "https://0.0.0.0/"} {
		_, err := f.s.Create(f.ctx, CreateInput{URL: u, Events: []string{"*"}})
		if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "url" {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := f.s.Create(f.ctx, CreateInput{URL: "https://hooks.example.com/x", Events: []string{"auth.password_reset_requested"}}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("a secret-carrying event was accepted: %v", err)
	}
	e, err := f.s.Create(f.ctx, CreateInput{URL: "https://Hooks.Example.com/x?a=1", Events: []string{orderingapi.EventOrderPaid, orderingapi.EventOrderPaid}})
	if err != nil || e.URL != "https://hooks.example.com/x?a=1" || len(e.Events) != 1 {
		t.Fatalf("public https URL: %+v %v", e, err)
	}
	var n int
	_ = f.s.db.NewRaw("SELECT count(*) FROM webhooks.endpoints").Scan(f.ctx, &n)
	if n != 1 {
		t.Fatalf("%d endpoints stored", n)
	}
}

// staticResolver maps every name to one address.
type staticResolver netip.Addr

func (r staticResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.Addr(r)}, nil
}

// A name that resolves to loopback at delivery time is refused before
// connecting: the receiver on loopback never sees a request.
func TestNameResolvingToLoopbackIsRefusedAtConnect(t *testing.T) {
	r := newReceiver(t)
	u, _ := url.Parse(r.srv.URL)
	f := start(t, Config{RootCAs: r.pool(), Resolver: staticResolver(netip.MustParseAddr("127.0.0.1"))})
	ep, err := f.s.Create(f.ctx, CreateInput{URL: "https://hooks.internal.test:" + u.Port() + "/", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.s.Ping(f.ctx, ep.ID)
	if err != nil || d.Status != StatusFailed || len(d.Log) != 1 || !strings.HasPrefix(d.Log[0].Error, "refused") || d.Log[0].ResponseCode != nil {
		t.Fatalf("ping: %+v %v", d, err)
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("the receiver got %d requests", n)
	}
}
