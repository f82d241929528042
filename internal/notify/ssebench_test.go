package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/notify/internal/app"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/procstat"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// TestMain lets the benchmark re-run this binary as its client fleet, so
// the clients' memory is not counted as the server's.
func TestMain(m *testing.M) {
	if procstat.InFleet() {
		os.Exit(runSSEClients(os.Getenv("SSE_BENCH_URL"), os.Getenv("SSE_BENCH_TOKENS")))
	}
	os.Exit(m.Run())
}

// BenchmarkSSEFanout holds N live streams on one in-process server (the
// whole shop, real Postgres, Redis on 127.0.0.1:6379 when reachable) and
// per iteration commits one notification for every one of the N users in
// one transaction, pushes it the production way (AfterEvent) and measures
// commit → receipt at each client (clients run in a child process).
//
//	go test -run '^$' -bench SSEFanout -benchtime 3x ./internal/notify/
func BenchmarkSSEFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	env := servertest.Start(b, func(c *config.Config) {
		c.RateLimitPerMinute = 100_000_000
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err == nil {
			conn.Close()
			c.RedisURL = "redis://127.0.0.1:6379/0"
		}
	})
	users := make([]string, n)
	var toks strings.Builder
	for i := range users {
		users[i] = uuid.NewString()
		tok, _, err := env.Server.Keys.Issue(authn.Principal{UserID: users[i], Role: "customer"}, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		toks.WriteString(tok + "\n")
	}
	file := filepath.Join(b.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(toks.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	rssIdle, liveIdle := procstat.RSSKiB(), procstat.LiveKiB()
	lines := procstat.StartFleet(b, "SSE_BENCH_URL="+env.URL, "SSE_BENCH_TOKENS="+file)
	rssConnected, liveConnected := procstat.RSSKiB(), procstat.LiveKiB()

	svc := app.New(env.DB, env.Server.Redis.Client, nil, app.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	var all []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eventID := fmt.Sprintf("bench-%d-%d", n, i)
		// One broadcast: a row per user, all committed at once.
		if _, err := env.DB.ExecContext(ctx, `INSERT INTO notify.notifications (id, user_id, kind, title, body, event_id, seq)
			SELECT gen_random_uuid(), u::uuid, 'announcement', 'Sale', 'Everything is 10% off today', ?, ?
			FROM unnest(?::text[]) AS u`, eventID, i+1, pgArray(users)); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		svc.AfterEvent(ctx, events.Envelope{ID: eventID})
		for got := 0; got < n; got++ {
			if !lines.Scan() {
				b.Fatalf("client fleet ended after %d of %d", got, n)
			}
			f := strings.Fields(lines.Text())
			at, _ := strconv.ParseInt(f[1], 10, 64)
			all = append(all, time.Unix(0, at).Sub(committed))
		}
	}
	b.StopTimer()
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1), "last_ms")
	b.ReportMetric(float64(rssIdle)/1024, "rss_idle_MiB")
	b.ReportMetric(float64(rssConnected)/1024, "rss_MiB")
	b.ReportMetric(float64(liveConnected-liveIdle)/float64(n), "live_KiB/stream")
}

func pgArray(ss []string) string {
	return "{" + strings.Join(ss, ",") + "}"
}

// runSSEClients opens a stream per token, prints "ready" once all are
// open, then "<seq> <unix nanos>" per received event.
func runSSEClients(base, tokensFile string) int {
	data, err := os.ReadFile(tokensFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	u, _ := url.Parse(base)
	tokens := strings.Fields(string(data))
	out := make(chan string, 65536)
	var ready sync.WaitGroup
	var failed atomic.Int32
	sem := make(chan struct{}, 200)
	for _, tok := range tokens {
		ready.Add(1)
		go func() {
			sem <- struct{}{}
			conn, err := net.Dial("tcp", u.Host)
			if err == nil {
				_, err = fmt.Fprintf(conn, "GET /api/v1/notifications/stream HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n", u.Host, tok)
			}
			var r *bufio.Reader
			if err == nil {
				r = bufio.NewReaderSize(conn, 1024)
				var status string
				status, err = r.ReadString('\n')
				if err == nil && !strings.Contains(status, " 200 ") {
					err = fmt.Errorf("status %q", strings.TrimSpace(status))
				}
			}
			<-sem
			if err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "client:", err)
				ready.Done()
				return
			}
			// Headers, then "retry:" means the stream is live.
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					ready.Done()
					return
				}
				if strings.HasPrefix(l, "retry:") {
					break
				}
			}
			ready.Done()
			seq := ""
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if v, ok := strings.CutPrefix(l, "id: "); ok {
					seq = strings.TrimSpace(v)
				} else if strings.HasPrefix(l, "data: ") {
					out <- seq + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
				}
			}
		}()
	}
	ready.Wait()
	if failed.Load() > 0 {
		fmt.Println("failed", failed.Load())
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for {
		select {
		case l := <-out:
			fmt.Fprintln(w, l)
		case <-time.After(20 * time.Millisecond):
			w.Flush()
		}
	}
}
