package server_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server"
)

// The gateway relays Server-Sent Events as they come (not buffered) and
// tunnels WebSockets to the owning process; both, like plain forwards,
// carry the request's trace to the upstream (a traceparent with the
// caller's trace id, or a new one).
func TestGatewayStreamsSSEAndTunnelsWebSockets(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	traceparents := map[string]string{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents[r.URL.Path] = r.Header.Get("traceparent")
		mu.Unlock()
		switch r.URL.Path {
		case "/api/v1/notifications/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "id: 1\nevent: order_paid\ndata: {\"n\":1}\n\n")
			w.(http.Flusher).Flush()
			select { // the stream stays open: the first event must arrive anyway
			case <-release:
			case <-r.Context().Done():
			}
		case "/api/v1/chat/ws":
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil {
					return
				}
				_ = c.Write(r.Context(), typ, append([]byte("echo:"), msg...))
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer upstream.Close()

	var ups []string
	for _, c := range config.AllContexts {
		ups = append(ups, c+"="+upstream.URL)
	}
	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"CONTEXTS": "gateway", "DATA_DIR": t.TempDir(), "GATEWAY_UPSTREAMS": strings.Join(ups, ","), "HTTP_ADDR": "127.0.0.1:0"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr = ln.Addr().String()
	_ = ln.Close()
	g, err := server.NewGateway(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	defer close(release) // runs first: streams end before the gateway stops
	base := "http://" + cfg.HTTPAddr
	for i := 0; i < 50; i++ {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	const callerTrace = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest("GET", base+"/api/v1/notifications/stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("traceparent", "00-"+callerTrace+"-b7ad6b7169203331-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	got := make(chan string, 1)
	go func() {
		br := bufio.NewReader(resp.Body)
		var sb strings.Builder
		for {
			line, err := br.ReadString('\n')
			sb.WriteString(line)
			if err != nil || line == "\n" {
				got <- sb.String()
				return
			}
		}
	}()
	select {
	case ev := <-got:
		if !strings.Contains(ev, "event: order_paid") || !strings.Contains(ev, `data: {"n":1}`) {
			t.Fatalf("event: %q", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive while the stream was open: buffered")
	}

	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	c, _, err := websocket.Dial(wctx, "ws://"+cfg.HTTPAddr+"/api/v1/chat/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Traceparent": {"00-" + callerTrace + "-b7ad6b7169203331-01"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, m := range []string{"hello", "again"} {
		if err := c.Write(wctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, back, err := c.Read(wctx)
		if err != nil || string(back) != "echo:"+m {
			t.Fatalf("websocket: %q %v", back, err)
		}
	}

	if r, err := http.Get(base + "/api/v1/products"); err == nil {
		r.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"/api/v1/notifications/stream", "/api/v1/chat/ws"} {
		if tp := traceparents[p]; !strings.HasPrefix(tp, "00-"+callerTrace+"-") {
			t.Errorf("%s reached the upstream with traceparent %q; want the caller's trace %s", p, tp, callerTrace)
		}
	}
	if tp := traceparents["/api/v1/products"]; len(tp) != 55 || strings.Contains(tp, callerTrace) {
		t.Errorf("a forward without a caller's trace carried traceparent %q; want a new trace", tp)
	}
}
