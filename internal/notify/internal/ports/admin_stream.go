package ports

import (
	"bufio"
	"bytes"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

func (h *HTTP) adminStreamRoute(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/stream", Tag: "admin", Admin: true, Produces: "text/event-stream", Response: "",
		Summary: "Server-Sent Events for the admin console: event = type (order_placed, order_paid, order_canceled, order_expired, payment_amount_mismatch, " +
			"fulfillment_shipped, fulfillment_delivered), data = {type, order_id?, payment_id?, fulfillment_id?, total?, currency?, at}; " +
			"no resume (refetch on reconnect); auth by bearer header or ?access_token=",
		Query: []string{"access_token"}, Errors: []int{503}}, h.adminStream)
}

// adminStream serves one administrator's SSE connection: every admin
// event published from now on, with heartbeats. It hijacks the connection
// like the notifications stream (see stream).
func (h *HTTP) adminStream(c *fiber.Ctx) error {
	if h.adminHub == nil {
		return errStreamsDown
	}
	sub, err := push.SubscribeAdmin(c.UserContext(), h.adminHub)
	if err != nil {
		return errStreamsDown
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache, no-store")
	c.Set("X-Accel-Buffering", "no")
	c.Response().Header.SetContentLength(-2)
	c.Response().Header.SetConnectionClose()
	head := bytes.Replace(c.Response().Header.Header(), []byte("Transfer-Encoding: identity\r\n"), nil, 1)
	c.Context().HijackSetNoResponse(true)
	cfg := h.streamCfg
	c.Context().Hijack(func(conn net.Conn) {
		defer sub.Close()
		defer func() {
			if r := recover(); r != nil {
				h.log.Error("admin stream panicked", "panic", r)
			}
		}()
		s := &sseWriter{w: bufio.NewWriterSize(conn, 1024), deadline: func() { _ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout)) }}
		s.raw(string(head))
		s.raw("retry: 2000\n\n")
		if !s.flush() {
			return
		}
		beat := time.NewTicker(cfg.Heartbeat)
		defer beat.Stop()
		for {
			select {
			case ev := <-sub.C():
				s.raw("event: " + ev.Type + "\ndata: ")
				if s.err == nil {
					_, s.err = s.w.Write(ev.Data)
				}
				s.raw("\n\n")
			case <-beat.C:
				s.raw(": ping\n\n")
			case <-sub.Gone():
				return // too slow, or shutting down: the console reconnects
			}
			if !s.flush() {
				return
			}
		}
	})
	return nil
}
