package acceptance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// These scenarios guard event delivery (docs/architecture.md, "Events:
// outbox, inbox, transports") against the failures of the design it
// replaced: a subscriber that only read rows below the cluster's oldest
// snapshot (so any idle transaction on the server, in any database, stopped
// every topic for as long as it lasted), that depended on transaction ids
// (a dump/restore), and whose subscriptions held pool connections (a
// restart with a backlog could exhaust the pool). The idle transactions
// here stay open for the whole test, well past the 20 s each step is
// given: under the old design the steps would wait for them and fail.

// evStepLimit is how long one event-driven step may take. Generous for a
// loaded machine; the old design waited for as long as the foreign
// transactions lasted, i.e. the whole test.
const evStepLimit = 20 * time.Second

// evRun is a short random suffix for names that must be unique.
func evRun() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// evIdle is a session left idle in a transaction that has a transaction id
// (and so holds back the cluster's oldest snapshot).
type evIdle struct {
	what string
	conn *pgx.Conn
	xid  int64
}

// evIdleTx opens a session on dsn, begins a transaction, takes a
// transaction id and leaves it idle in transaction until the test ends.
func evIdleTx(t *testing.T, dsn, what string) *evIdle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "acceptance-idle-tx"
	// Never ended by the server on our behalf, whatever its defaults.
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "0"
	cfg.RuntimeParams["statement_timeout"] = "0"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		pgtest.Unavailable(t, "PostgreSQL", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	x := &evIdle{what: what, conn: c}
	if err := c.QueryRow(ctx, "SELECT txid_current()").Scan(&x.xid); err != nil {
		t.Fatal(err)
	}
	return x
}

// stillOpen fails the test unless the transaction is still the one begun
// (so every step above really ran while it was open).
func (x *evIdle) stillOpen(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var xid int64
	if err := x.conn.QueryRow(ctx, "SELECT txid_current()").Scan(&xid); err != nil || xid != x.xid {
		t.Fatalf("the idle transaction in %s did not stay open for the whole test (xid %d, now %d, %v): the test proves nothing", x.what, x.xid, xid, err)
	}
}

// evWithin polls ok until it holds, failing after limit; it logs how long
// the step took.
func evWithin(t *testing.T, what string, limit time.Duration, ok func() bool) time.Duration {
	t.Helper()
	began := time.Now()
	for !ok() {
		if time.Since(began) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(began)
	t.Logf("%s: %s", what, took.Round(time.Millisecond))
	return took
}

// evMail waits for an email to addr whose text contains substr.
func evMail(t *testing.T, smtp *mailtest.Server, addr, substr string, limit time.Duration) mailtest.Message {
	t.Helper()
	var got mailtest.Message
	evWithin(t, "email "+strconv.Quote(substr)+" to "+addr, limit, func() bool {
		for _, m := range smtp.Messages() {
			if len(m.To) > 0 && m.To[0] == addr && strings.Contains(m.Data, substr) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// evSearch returns the hits of a search (200 or the test fails).
func evSearch(t *testing.T, base, query string) []map[string]any {
	t.Helper()
	r := expect(t, call(t, base, "GET", "/api/v1/search?"+query, nil, ""), 200, "search "+query).JSON()
	var out []map[string]any
	for _, h := range r["hits"].([]any) {
		out = append(out, h.(map[string]any))
	}
	return out
}

func evFound(t *testing.T, base, query, id string) bool {
	for _, h := range evSearch(t, base, query) {
		if h["id"] == id {
			return true
		}
	}
	return false
}

// TestEventsFlowPastIdleTransactions guards against delivery that stalls
// while a transaction elsewhere on the server stays open: one idle in
// transaction in another database of the same server, one in the shop's
// own database, both with a transaction id and both open for the whole
// test. Every event-driven step of a purchase (verification email, order
// paid, fulfillment created, product searchable) must still arrive within
// 20 s; the replaced subscriber waited for those transactions to end.
func TestEventsFlowPastIdleTransactions(t *testing.T) {
	elsewhere := evIdleTx(t, pgtest.NewDatabase(t), "another database")
	db := pgtest.NewDatabase(t)
	own := evIdleTx(t, db, "the shop's database") // open before the shop starts
	s := newShop(t, map[string]string{"DATABASE_URL": db})
	run := evRun()

	email := "idle-" + run + "@shop.test"
	expect(t, call(t, s.u, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse", "name": "Idle"}, ""), 201, "register")
	msg := evMail(t, s.smtp, email, "Confirm your email", evStepLimit)
	expect(t, call(t, s.u, "POST", "/api/v1/auth/verify", map[string]string{"token": mailToken(t, msg.Data)}, ""), 200, "verify")
	tok := expect(t, call(t, s.u, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse"}, ""), 200, "login").Str("access_token")

	name := "Quokka" + run + " Teapot"
	pid := expect(t, call(t, s.u, "POST", "/api/v1/admin/products", map[string]any{"sku": "IDLE-" + run, "name": name, "category": "idle-" + run,
		"price": 2500, "currency": "USD", "weight_grams": 500, "initial_stock": 5}, s.admin), 201, "product").Str("id")
	o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order").JSON()
	id := o["id"].(string)
	pay := o["payment"].(map[string]any)
	expect(t, s.webhook("evt_idle_"+run, "payment_intent.succeeded", pay["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "webhook")
	evWithin(t, "order paid", evStepLimit, func() bool {
		st := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order").Str("status")
		return laterThanPaid[st]
	})
	evWithin(t, "fulfillment created", evStepLimit, func() bool {
		r := call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, tok)
		if r.Status != 200 && r.Status != 404 {
			t.Fatalf("fulfillment: %d %s", r.Status, r.Body)
		}
		return r.Status == 200
	})
	evWithin(t, "product searchable", evStepLimit, func() bool {
		return evFound(t, s.u, "q=quokka"+run+"&category="+url.QueryEscape("idle-"+run), pid)
	})
	s.smtp.WaitFor(t, email, "Subject: Payment received", evStepLimit)

	elsewhere.stillOpen(t)
	own.stillOpen(t)
}

// evPgTool finds a PostgreSQL client program the way the binary finds the
// server's (PATH, then the usual install directories, newest version
// first); without one the test is skipped, or fails under CI=true.
func evPgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var found []string
	for _, pat := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql*/bin", "/usr/local/opt/postgresql*/bin", "/usr/local/pgsql/bin"} {
		m, _ := filepath.Glob(filepath.Join(pat, name))
		found = append(found, m...)
	}
	major := func(p string) int { // the version in the directory name
		for _, part := range strings.Split(p, "/") {
			digits := strings.TrimLeftFunc(part, func(r rune) bool { return r < '0' || r > '9' })
			if n, err := strconv.Atoi(digits); err == nil {
				return n
			}
		}
		return 0
	}
	sort.SliceStable(found, func(i, j int) bool { return major(found[i]) > major(found[j]) })
	if len(found) == 0 {
		pgtest.Unavailable(t, name, fmt.Errorf("not on PATH nor under the usual PostgreSQL directories"))
	}
	return found[0]
}

// TestEventsAfterDumpRestore guards against delivery that depends on the
// server's transaction ids (the replaced subscriber stored them with every
// message and compared them with the cluster's snapshot): a shop's database
// dumped with pg_dump and restored into a new database must keep
// delivering at once, without re-delivering what was already delivered,
// also while a transaction elsewhere on the server (a report, another
// pg_dump) stays open from the dump to the end.
func TestEventsAfterDumpRestore(t *testing.T) {
	if splitMode {
		t.Skip("the database is the same in both topologies; the split topology's Kafka (kfake) does not survive a stop, so a restore there tests the test harness, not delivery")
	}
	pgDump, pgRestore := evPgTool(t, "pg_dump"), evPgTool(t, "pg_restore")
	s := newShop(t, nil)
	run := evRun()
	before := "before-dump-" + run + "@shop.test"
	customerToken(t, s.u, s.smtp, before)
	s.p.stop()
	// A report (or another pg_dump) elsewhere on the server stays open from
	// the dump to the end.
	elsewhere := evIdleTx(t, pgtest.NewDatabase(t), "another database")

	file := filepath.Join(t.TempDir(), "shop.dump")
	if out, err := exec.Command(pgDump, "--format=custom", "--no-owner", "--file="+file, "--dbname="+s.env["DATABASE_URL"]).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	restored := pgtest.NewDatabase(t)
	if out, err := exec.Command(pgRestore, "--no-owner", "--exit-on-error", "--dbname="+restored, file).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	env["DATABASE_URL"] = restored
	p, _ := start(t, env)
	u := p.URL

	after := "after-restore-" + run + "@shop.test"
	expect(t, call(t, u, "POST", "/api/v1/auth/register", map[string]string{"email": after, "password": "correct horse", "name": "R"}, ""), 201, "register after restore")
	msg := evMail(t, s.smtp, after, "Confirm your email", evStepLimit)
	expect(t, call(t, u, "POST", "/api/v1/auth/verify", map[string]string{"token": mailToken(t, msg.Data)}, ""), 200, "verify after restore")
	expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": before, "password": "correct horse"}, ""), 200, "the user from before the dump logs in")

	admin := expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": "ord-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	pid := expect(t, call(t, u, "POST", "/api/v1/admin/products", map[string]any{"sku": "RESTORED-" + run, "name": "Restored Zither" + run, "category": "restored-" + run,
		"price": 4200, "currency": "USD", "weight_grams": 900, "initial_stock": 3}, admin), 201, "product after restore").Str("id")
	evWithin(t, "product searchable after restore", evStepLimit, func() bool {
		return evFound(t, u, "q=zither"+run+"&category="+url.QueryEscape("restored-"+run), pid)
	})
	// What was delivered before the dump is not delivered again.
	if n := (&shop{smtp: s.smtp}).emails(before, "Confirm your email"); n != 1 {
		t.Fatalf("%d verification emails to %s, want 1 (re-delivered after the restore?)", n, before)
	}
	elsewhere.stillOpen(t)
}

// TestEventsRestartWithBacklog guards against a restart that a backlog
// makes unready or unresponsive (the replaced subscriptions each held pool
// connections, and ten of them could exhaust the default pool of ten): a
// backlog on several topics is written while the consumers of notify and
// search do not run (auth and catalog alone, killed with SIGKILL right
// after the writes); the whole shop then starts on that database with the
// default pool and must be ready within 10 s, answer requests while it
// drains, and deliver every event within 30 s, while a transaction in
// another database, begun before the backlog was written, stays open.
func TestEventsRestartWithBacklog(t *testing.T) {
	const users, products = 20, 30
	s := newShop(t, nil) // every consumer has its offset
	s.p.stop()
	run := evRun()
	category := "backlog-" + run
	// Open from before the backlog is written until it has drained.
	elsewhere := evIdleTx(t, pgtest.NewDatabase(t), "another database")

	// The backlog: auth and catalog alone write; nobody sends mail or indexes.
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	env["CONTEXTS"] = "auth,catalog"
	w, _ := start(t, env)
	admin := expect(t, call(t, w.URL, "POST", "/api/v1/auth/login", map[string]string{"email": "ord-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	emails := make([]string, users)
	ids := make([]string, products)
	for i := range emails {
		emails[i] = fmt.Sprintf("backlog-%s-%02d@shop.test", run, i)
	}
	// Interleaved, so that the backlog mixes topics.
	for i := range max(users, products) {
		if i < users {
			expect(t, call(t, w.URL, "POST", "/api/v1/auth/register", map[string]string{"email": emails[i], "password": "correct horse", "name": "B"}, ""), 201, "register")
		}
		if i < products {
			ids[i] = expect(t, call(t, w.URL, "POST", "/api/v1/admin/products", map[string]any{"sku": fmt.Sprintf("BL-%s-%02d", run, i), "name": fmt.Sprintf("Backlog Widget %02d", i),
				"category": category, "price": 1000 + i, "currency": "USD", "weight_grams": 100, "initial_stock": 5}, admin), 201, "product").Str("id")
			expect(t, call(t, w.URL, "POST", "/api/v1/admin/products/"+ids[i]+"/stock", map[string]any{"delta": 3, "reason": "delivery"}, admin), 200, "adjust stock")
		}
	}
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w.done
	for _, e := range emails {
		if n := (&shop{smtp: s.smtp}).emails(e, "Confirm your email"); n != 0 {
			t.Fatalf("%s got a verification email before the shop ran notify: no backlog", e)
		}
	}

	// The whole shop, default pool, on the backlog.
	delete(env, "CONTEXTS")
	p, took := start(t, env)
	t.Logf("ready %s after the process started", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Fatalf("/readyz answered 200 only %s after the start, want within 10s (the backlog holds the start back?)", took)
	}
	readyAt := time.Now()
	u := p.URL

	// Requests answer while the backlog drains (plain HTTP: this goroutine
	// must not call t.Fatal).
	stop := make(chan struct{})
	probed := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 15 * time.Second}
		var worst time.Duration
		n := 0
		for {
			for _, path := range []string{"/api/v1/products/" + ids[0], "/api/v1/search?category=" + url.QueryEscape(category) + "&limit=1", "/readyz"} {
				began := time.Now()
				res, err := client.Get(u + path)
				d := time.Since(began)
				if err != nil {
					probed <- fmt.Errorf("GET %s while draining: %v", path, err)
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					probed <- fmt.Errorf("GET %s while draining: %d", path, res.StatusCode)
					return
				}
				worst = max(worst, d)
				n++
			}
			select {
			case <-stop:
				if worst > 5*time.Second {
					probed <- fmt.Errorf("a request took %s while the backlog drained, want under 5s", worst)
				} else {
					t.Logf("%d requests while draining, slowest %s", n, worst.Round(time.Millisecond))
					probed <- nil
				}
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	drained := func() bool {
		for _, e := range emails {
			if (&shop{smtp: s.smtp}).emails(e, "Confirm your email") == 0 {
				return false
			}
		}
		hits := evSearch(t, u, "category="+url.QueryEscape(category)+"&limit=100")
		if len(hits) != products {
			return false
		}
		for _, h := range hits {
			if st, _ := h["stock"].(map[string]any); st == nil || st["on_hand"] != float64(8) {
				return false
			}
		}
		return true
	}
	for !drained() {
		if time.Since(readyAt) > 30*time.Second {
			got := 0
			for _, e := range emails {
				if (&shop{smtp: s.smtp}).emails(e, "Confirm your email") > 0 {
					got++
				}
			}
			close(stop)
			<-probed
			t.Fatalf("backlog not drained 30s after ready: %d/%d verification emails, %d/%d products searchable with their stock",
				got, users, len(evSearch(t, u, "category="+url.QueryEscape(category)+"&limit=100")), products)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("backlog drained %s after ready", time.Since(readyAt).Round(time.Millisecond))
	close(stop)
	if err := <-probed; err != nil {
		t.Fatal(err)
	}
	elsewhere.stillOpen(t)
}
