package ports

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/notify/internal/app"
	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// StreamConfig tunes the live stream.
type StreamConfig struct {
	// Heartbeat is how often an idle stream gets a comment line, so
	// proxies keep it open and dead clients are noticed (default 15s).
	Heartbeat time.Duration
	// WriteTimeout is how long one write may block before the client is
	// considered gone (default 10s).
	WriteTimeout time.Duration
}

// replayPage is how many stored notifications one catch-up query reads.
const replayPage = 500

var errBadLastID = errs.New(errs.BadRequest, "bad_last_event_id", "Last-Event-ID must be a notification seq (a non-negative integer)")
var errStreamsDown = errs.New(errs.Unavailable, "unavailable", "live notifications are temporarily unavailable; retry shortly")

func (h *HTTP) streamRoute(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/notifications/stream", Tag: "notifications", Auth: true, Produces: "text/event-stream", Response: "",
		Summary: "Server-Sent Events of the caller's notifications: event = kind, id = seq, data = the notification; send Last-Event-ID (or ?last_event_id=) to resume; auth by bearer header or ?access_token=",
		Query:   []string{"access_token", "last_event_id"}, Errors: []int{503},
		Params: []openapi.Param{
			openapi.HeaderParam("Last-Event-ID", "the seq of the last notification received: the stream resumes after it", false),
			openapi.QueryParam("last_event_id", "Last-Event-ID for clients that cannot set headers", map[string]any{"type": "integer", "minimum": 0}),
		}}, h.stream)
}

// stream serves one SSE connection. Order of work: subscribe first, then
// read the table, so an event committed in between arrives either from
// the table or live (deduplicated by seq), never not at all.
func (h *HTTP) stream(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	user := p.UserID
	raw := c.Get("Last-Event-ID")
	if raw == "" {
		raw = c.Query("last_event_id")
	}
	resume := raw != ""
	var last int64
	if resume {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 {
			return errBadLastID
		}
		last = v
	}
	if h.hub == nil {
		return errStreamsDown
	}
	sub, err := h.hub.Subscribe(c.UserContext(), user)
	if err != nil {
		return errStreamsDown
	}
	if !resume {
		if last, err = h.svc.LastSeq(c.UserContext(), user); err != nil {
			sub.Close()
			return err
		}
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache, no-store")
	c.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	// The stream takes the connection over (hijack): fasthttp writes the
	// status and headers with a body delimited by the connection's close,
	// then hands the raw connection to one goroutine that writes events
	// through a small buffer. That is one goroutine and about 1 KB of
	// buffers per stream instead of fasthttp's stream pipe (two goroutines,
	// three 4 KB buffers), and no server write timeout cutting it: every
	// flush sets its own write deadline, which also drops a stuck client.
	c.Response().Header.SetContentLength(-2) // identity: the body ends with the connection
	c.Response().Header.SetConnectionClose()
	// fasthttp names the identity coding; HTTP/1.1 clients (Go's among
	// them) accept a close-delimited body only without that header.
	head := bytes.Replace(c.Response().Header.Header(), []byte("Transfer-Encoding: identity\r\n"), nil, 1)
	c.Context().HijackSetNoResponse(true) // the head is written here, below
	cfg := h.streamCfg
	c.Context().Hijack(func(conn net.Conn) {
		defer sub.Close()
		defer func() {
			if r := recover(); r != nil {
				h.log.Error("notification stream panicked", "panic", r)
			}
		}()
		s := &sseWriter{w: bufio.NewWriterSize(conn, 1024), deadline: func() { _ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout)) }}
		s.raw(string(head))
		s.raw("retry: 2000\n\n")
		if !s.catchUp(h.svc, user, &last) || !s.flush() {
			return
		}
		beat := time.NewTicker(cfg.Heartbeat)
		defer beat.Stop()
		for {
			select {
			case ev := <-sub.C():
				switch {
				case ev.Seq <= last: // already sent (replay and live overlap)
					continue
				case ev.Seq == last+1:
					s.event(ev)
					last = ev.Seq
				default: // a gap: something was published out of order or lost
					if !s.catchUp(h.svc, user, &last) {
						return
					}
				}
			case <-beat.C:
				s.raw(": ping\n\n")
			case <-sub.Gone():
				return // too slow, or shutting down: the client resumes elsewhere
			}
			if !s.flush() {
				return
			}
		}
	})
	return nil
}

// sseWriter writes SSE frames, each flush bounded by a write deadline.
type sseWriter struct {
	w        *bufio.Writer
	deadline func()
	err      error
}

func (s *sseWriter) raw(v string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(v)
	}
}

func (s *sseWriter) event(ev push.Event) {
	s.raw("id: " + strconv.FormatInt(ev.Seq, 10) + "\nevent: " + ev.Kind + "\ndata: ")
	if s.err == nil {
		_, s.err = s.w.Write(ev.Data)
	}
	s.raw("\n\n")
}

func (s *sseWriter) flush() bool {
	if s.err != nil {
		return false
	}
	s.deadline()
	s.err = s.w.Flush()
	return s.err == nil
}

// catchUp sends every stored notification after *last, oldest first.
func (s *sseWriter) catchUp(svc *app.Service, user string, last *int64) bool {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rows, err := svc.Since(ctx, user, *last, replayPage)
		cancel()
		if err != nil {
			return false // the client reconnects and resumes
		}
		for _, n := range rows {
			s.event(push.Event{Seq: n.Seq, Kind: n.Kind, Data: app.Encode(n)})
			*last = n.Seq
		}
		if len(rows) < replayPage {
			return s.err == nil
		}
		if !s.flush() {
			return false
		}
	}
}
