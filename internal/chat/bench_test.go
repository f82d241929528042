package chat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/procstat"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// TestMain lets the benchmark re-run this binary as its client fleet, so
// the clients' memory is not counted as the server's.
func TestMain(m *testing.M) {
	if procstat.InFleet() {
		os.Exit(runChatClients())
	}
	os.Exit(m.Run())
}

// BenchmarkChatConnections holds 5,000 WebSocket connections (CHAT_BENCH_CONNS)
// on one in-process server, paired into support conversations (a customer
// and an agent), and sends CHAT_BENCH_RATE messages per second (default
// 500) for 10 s from the customers; reported: the server's resident memory
// per connection, send → receipt latency at the agent (p50/p99), and how
// long all connections took to open and settle (a reconnect storm).
//
//	go test -run '^$' -bench ChatConnections -benchtime 1x ./internal/chat/
func BenchmarkChatConnections(b *testing.B) {
	conns, rate := 5000, 500
	if v := os.Getenv("CHAT_BENCH_CONNS"); v != "" {
		fmt.Sscan(v, &conns)
	}
	if v := os.Getenv("CHAT_BENCH_RATE"); v != "" {
		fmt.Sscan(v, &rate)
	}
	pairs := conns / 2
	env := servertest.Start(b, func(c *config.Config) {
		c.RateLimitPerMinute = 100_000_000
		if os.Getenv("CI") == "true" || redisUp() {
			c.RedisURL = "redis://127.0.0.1:6379/0"
		}
	})
	ctx := context.Background()
	var lines strings.Builder
	convs, users, roles := make([]string, pairs), make([]string, 0, conns), make([]string, 0, conns)
	var pconv []string
	for i := 0; i < pairs; i++ {
		convs[i] = uuid.NewString()
		cust, agent := uuid.NewString(), uuid.NewString()
		ct, _, _ := env.Server.Keys.Issue(authn.Principal{UserID: cust, Role: "customer"}, time.Hour)
		at, _, _ := env.Server.Keys.Issue(authn.Principal{UserID: agent, Role: "admin"}, time.Hour)
		fmt.Fprintf(&lines, "%s %s %s\n", convs[i], ct, at)
		users, roles = append(users, cust, agent), append(roles, "customer", "agent")
		pconv = append(pconv, convs[i], convs[i])
	}
	if _, err := env.DB.ExecContext(ctx, `INSERT INTO chat.conversations (id, kind, title, created_by)
		SELECT c::uuid, 'support', 'bench', c::uuid FROM unnest(?::text[]) c`, pgdialect.Array(convs)); err != nil {
		b.Fatal(err)
	}
	if _, err := env.DB.ExecContext(ctx, `INSERT INTO chat.participants (conversation_id, user_id, role)
		SELECT c::uuid, u::uuid, r FROM unnest(?::text[], ?::text[], ?::text[]) AS x(c, u, r)`, pgdialect.Array(pconv), pgdialect.Array(users), pgdialect.Array(roles)); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "pairs")
	if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	rssIdle, liveIdle := procstat.RSSKiB(), procstat.LiveKiB()
	connecting := time.Now()
	sc := procstat.StartFleet(b, "CHAT_BENCH_URL="+env.URL, "CHAT_BENCH_PAIRS="+file, fmt.Sprint("CHAT_BENCH_RATE=", rate))
	rssConnected, liveConnected := procstat.RSSKiB(), procstat.LiveKiB()
	connectAll := time.Since(connecting)
	b.ResetTimer()
	var lat []float64
	sent := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if f[0] == "done" {
			sent, _ = strconv.Atoi(f[1])
			break
		}
		v, _ := strconv.ParseFloat(f[0], 64)
		lat = append(lat, v)
		if os.Getenv("CHAT_BENCH_TRACE") != "" && v > 100 {
			fmt.Fprintln(os.Stderr, "slow", f[0], "at", f[1])
		}
	}
	b.StopTimer()
	rssBusy := procstat.RSSKiB()
	if len(lat) == 0 {
		b.Fatal("no message delivered")
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))] }
	b.ReportMetric(q(0.5), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(float64(len(lat))/float64(max(sent, 1)), "delivered/sent")
	b.ReportMetric(float64(rssIdle)/1024, "rss_idle_MiB")
	b.ReportMetric(float64(rssConnected)/1024, "rss_MiB")
	b.ReportMetric(float64(rssBusy)/1024, "rss_busy_MiB")
	b.ReportMetric(float64(liveConnected-liveIdle)/float64(conns), "live_KiB/conn")
	b.ReportMetric(connectAll.Seconds(), "connect_all_s")
}

func redisUp() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// runChatClients connects both sides of every pair, prints "ready", sends
// at the given rate for 10 s from the customers, prints each agent-side
// latency in ms, then "done <sent>".
func runChatClients() int {
	data, err := os.ReadFile(os.Getenv("CHAT_BENCH_PAIRS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	base := "ws" + strings.TrimPrefix(os.Getenv("CHAT_BENCH_URL"), "http") + "/api/v1/chat/ws"
	rate, _ := strconv.Atoi(os.Getenv("CHAT_BENCH_RATE"))
	type pair struct {
		conv        string
		cust, agent *websocket.Conn
	}
	var ps []*pair
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		ps = append(ps, &pair{conv: f[0]})
	}
	toks := strings.Split(strings.TrimSpace(string(data)), "\n")
	out := make(chan string, 65536)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	var failed sync.Once
	ok := true
	dialOne := func(tok string) *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, base, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
		if err != nil {
			failed.Do(func() { fmt.Fprintln(os.Stderr, "dial:", err); ok = false })
			return nil
		}
		return c
	}
	for i, p := range ps {
		f := strings.Fields(toks[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			p.cust, p.agent = dialOne(f[1]), dialOne(f[2])
			<-sem
		}()
	}
	wg.Wait()
	if !ok {
		return 1
	}
	began := time.Now()
	var received atomic.Int64  // messages the agents heard
	var settled sync.WaitGroup // every customer has heard its agent is online
	settled.Add(len(ps))
	reader := func(c *websocket.Conn, measure bool) {
		heard := false
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if !measure {
				if !heard && strings.Contains(string(b), `"presence"`) {
					heard = true
					settled.Done()
				}
				continue
			}
			var f struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if json.Unmarshal(b, &f) == nil && f.Type == "message" {
				received.Add(1)
				if ns, err := strconv.ParseInt(f.Text, 10, 64); err == nil {
					out <- strconv.FormatFloat(float64(time.Now().UnixNano()-ns)/1e6, 'f', 3, 64) + " " + strconv.FormatFloat(time.Since(began).Seconds(), 'f', 2, 64)
				}
			}
		}
	}
	for _, p := range ps {
		go reader(p.cust, false)
		go reader(p.agent, true)
	}
	settled.Wait() // connection work (presence) done: measure the steady state
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for l := range out {
			fmt.Fprintln(w, l)
			if strings.HasPrefix(l, "done") {
				w.Flush()
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(10 * time.Second)
	sent := 0
	for time.Now().Before(end) {
		<-tick.C
		p := ps[sent%len(ps)]
		b, _ := json.Marshal(map[string]any{"type": "message", "conversation_id": p.conv, "client_id": strconv.Itoa(sent), "text": strconv.FormatInt(time.Now().UnixNano(), 10)})
		go func() { _ = p.cust.Write(context.Background(), websocket.MessageText, b) }()
		sent++
	}
	// Stragglers: until every message sent was heard, for 2 s at most.
	for deadline := time.Now().Add(2 * time.Second); received.Load() < int64(sent) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	out <- fmt.Sprint("done ", sent)
	<-finished
	return 0
}
