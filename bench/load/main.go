// Command load is the project's HTTP load generator for bench/: c
// keep-alive connections each send requests back to back for a duration
// and it prints requests per second and latency percentiles, wrk-style, so
// the scripts run where wrk is not installed. A request is GET url, or
// POST of -body with -header lines; a response outside 2xx is counted as an
// error (and is not a success in the rate). -tokens gives each connection
// a user (bearer token i mod n for connection i) and -bodies rotates the
// bodies a connection sends, so writes spread over many rows as real
// traffic does instead of queueing on one.
//
//	load -c 32 -d 10s [-method POST -body '{...}' -header 'Authorization: Bearer x'] URL
//	load -c 32 -d 10s -method POST -tokens tokens.txt -bodies bodies.txt URL
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	conns := flag.Int("c", 32, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	method := flag.String("method", http.MethodGet, "HTTP method")
	body := flag.String("body", "", "request body (sent with Content-Type: application/json)")
	var hs headers
	flag.Var(&hs, "header", "a request header 'Name: value' (repeatable)")
	tokensFile := flag.String("tokens", "", "file of bearer tokens, one a line: connection i sends token i mod n")
	bodiesFile := flag.String("bodies", "", "file of request bodies, one a line, sent in turn")
	flag.Parse()
	tokens, bodies := lines(*tokensFile), lines(*bodiesFile)
	if len(bodies) == 0 {
		bodies = []string{*body}
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: load [-c N] [-d D] [-method M -body B -header H] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	deadline := time.Now().Add(*dur)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  string
		wg        sync.WaitGroup
	)
	start := time.Now()
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			msg := ""
			for j := i; time.Now().Before(deadline); j++ {
				b := bodies[j%len(bodies)]
				req, err := http.NewRequest(*method, url, bytes.NewReader([]byte(b)))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				if b != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if len(tokens) > 0 {
					req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
				}
				for _, h := range hs {
					k, v, _ := strings.Cut(h, ":")
					req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					msg = err.Error()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					bad++
					msg = resp.Status
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			if msg != "" {
				firstErr = msg
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(float64(len(latencies))*p))]
	}
	fmt.Printf("%d requests in %s, %d errors%s\n", len(latencies), elapsed.Round(time.Millisecond), errs, map[bool]string{true: " (last: " + firstErr + ")", false: ""}[errs > 0])
	fmt.Printf("  50%% %s\n  99%% %s\n", pct(0.50), pct(0.99))
	fmt.Printf("Requests/sec: %.2f\n", float64(len(latencies))/elapsed.Seconds())
}

// lines reads the non-empty lines of file ("" for none).
func lines(file string) []string {
	if file == "" {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
