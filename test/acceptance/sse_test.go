package acceptance

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sseEvent is one received Server-Sent Event.
type sseEvent struct {
	ID    int64
	Event string
	Data  map[string]any
	At    time.Time
}

// sseClient is an EventSource-like reader of /api/v1/notifications/stream.
type sseClient struct {
	t      *testing.T
	events chan sseEvent
	pings  atomic.Int32
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// openSSE connects with the token in the header, or in ?access_token=
// when viaQuery; lastID, when set, is sent as Last-Event-ID.
func openSSE(t *testing.T, base, token, lastID string, viaQuery bool) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := base + "/api/v1/notifications/stream"
	if viaQuery {
		u += "?access_token=" + token
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Accept", "text/event-stream")
	if !viaQuery {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	c := &sseClient{t: t, events: make(chan sseEvent, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data.Len() > 0 {
					ev.At = time.Now()
					_ = json.Unmarshal([]byte(data.String()), &ev.Data)
					c.events <- ev
				}
				ev, data = sseEvent{}, strings.Builder{}
			case strings.HasPrefix(line, ":"):
				c.pings.Add(1)
			case strings.HasPrefix(line, "id: "):
				ev.ID, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				data.WriteString(line[6:])
			}
		}
		c.mu.Lock()
		c.err = sc.Err()
		c.mu.Unlock()
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	<-c.done
}

// next waits for the next event.
func (c *sseClient) next(within time.Duration) (sseEvent, bool) {
	select {
	case ev := <-c.events:
		return ev, true
	case <-time.After(within):
		return sseEvent{}, false
	}
}

// waitKind reads events until one of kind arrives; it returns it and the
// events before it.
func (c *sseClient) waitKind(kind string, within time.Duration) (sseEvent, []sseEvent) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var before []sseEvent
	for {
		ev, ok := c.next(time.Until(deadline))
		if !ok {
			c.t.Fatalf("no %s event within %s (got %v)", kind, within, before)
		}
		if ev.Event == kind {
			return ev, before
		}
		before = append(before, ev)
	}
}
