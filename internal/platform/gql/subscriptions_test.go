package gql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/authn"
)

const liveSDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Order @key(fields: "id") { id: ID! status: OrderStatus! }
enum OrderStatus { PENDING_PAYMENT PAID }
enum NotificationKind { ORDER_PAID WELCOME }
type Notification { id: ID! kind: NotificationKind! title: String! createdAt: String! }
type ChatMessage { id: ID! conversationId: ID! text: String! }
type Query { order(id: ID!): Order }
`

var aliasRe = regexp.MustCompile(`(\w+):\s*order\(`)

// waitFor polls cond for up to 5 s; on failure it shows the next message
// of c, if any (an error explaining why no stream opened).
func waitFor(t *testing.T, cond func() bool, c ...*websocket.Conn) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			if len(c) > 0 {
				_ = c[0].SetReadDeadline(time.Now().Add(time.Second))
				_, b, err := c[0].ReadMessage()
				t.Fatalf("the feed was not opened: %s %v", b, err)
			}
			t.Fatal("the feed was not opened")
		}
	}
}

// fakeStream is a feed's stream the test pushes into.
type fakeStream struct {
	c    chan []byte
	gone chan struct{}
	once sync.Once
}

func (f *fakeStream) C() <-chan []byte      { return f.c }
func (f *fakeStream) Gone() <-chan struct{} { return f.gone }
func (f *fakeStream) Close()                { f.once.Do(func() { close(f.gone) }) }

// fakeFeeds hands out streams per user and pushes to all of a user's.
type fakeFeeds struct {
	mu      sync.Mutex
	streams map[string][]*fakeStream
}

func (f *fakeFeeds) feed(ctx context.Context, user string) (Stream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &fakeStream{c: make(chan []byte, 8), gone: make(chan struct{})}
	f.streams[user] = append(f.streams[user], s)
	return s, nil
}

func (f *fakeFeeds) push(user, payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.streams[user] {
		s.c <- []byte(payload)
	}
}

func (f *fakeFeeds) count(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.streams[user])
}

// The graphql-transport-ws protocol over a real socket: the handshake
// rules (subprotocol, token in connection_init, subscribe before ack,
// duplicate ids), orderStatus re-running the order for its owner on each
// order event (and only sending changes), a stranger's order answered by
// an error and nothing else, notifications and chat messages projected
// from the pushed JSON, complete, and shutdown.
func TestSubscriptionsOverWebSocket(t *testing.T) {
	var mu sync.Mutex
	status := "PENDING_PAYMENT"
	sub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(string(b), "o-other") || r.Header.Get("Authorization") != "Bearer tok-alice" {
			_, _ = io.WriteString(w, `{"data":{"order":null},"errors":[{"message":"order not found","path":["order"],"extensions":{"code":"not_found"}}]}`)
			return
		}
		key := "order" // the engine sends the client's alias upstream
		if m := aliasRe.FindStringSubmatch(string(b)); m != nil {
			key = m[1]
		}
		_, _ = fmt.Fprintf(w, `{"data":{%q:{"id":"o1","status":%q}}}`, key, status)
	})
	g, err := NewGateway(context.Background(), []Endpoint{{Name: "ordering", URL: InProcessURL("ordering"), SDL: liveSDL}},
		InProcess(map[string]http.Handler{"ordering.subgraph.local": sub}), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	notes, chat := &fakeFeeds{streams: map[string][]*fakeStream{}}, &fakeFeeds{streams: map[string][]*fakeStream{}}
	err = g.Subscribe(&Live{
		Verify: func(tok string) (authn.Principal, error) {
			if tok == "tok-alice" {
				return authn.Principal{UserID: "alice", Role: "customer", Expires: time.Now().Add(time.Hour)}, nil
			}
			return authn.Principal{}, errors.New("bad token")
		},
		Notifications: notes.feed, Chat: chat.feed,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.Schema(), "type Subscription {") || !strings.Contains(g.Schema(), "orderStatus(orderId: ID!): Order!") {
		t.Fatalf("schema lacks the Subscription type:\n%s", g.Schema())
	}
	app := fiber.New()
	app.All("/graphql", g.Handle)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	url := "ws://" + ln.Addr().String() + "/graphql"

	dial := func(t *testing.T, protocols ...string) *websocket.Conn {
		t.Helper()
		d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 5 * time.Second}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	send := func(t *testing.T, c *websocket.Conn, m map[string]any) {
		t.Helper()
		if err := c.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	read := func(t *testing.T, c *websocket.Conn) wsMessage {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m wsMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		return m
	}
	closeCode := func(t *testing.T, c *websocket.Conn) int {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			if err != nil {
				t.Fatalf("no close frame: %v", err)
			}
		}
	}
	ready := func(t *testing.T) *websocket.Conn {
		t.Helper()
		c := dial(t, Protocol)
		send(t, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer tok-alice"}})
		if m := read(t, c); m.Type != "connection_ack" {
			t.Fatalf("ack: %+v", m)
		}
		return c
	}

	t.Run("handshake", func(t *testing.T) {
		if code := closeCode(t, dial(t)); code != closeNotAcceptable {
			t.Fatalf("without the subprotocol: %d", code)
		}
		c := dial(t, Protocol)
		send(t, c, map[string]any{"type": "connection_init", "payload": map[string]any{"token": "forged"}})
		if code := closeCode(t, c); code != closeForbidden {
			t.Fatalf("bad token: %d", code)
		}
		c = dial(t, Protocol)
		send(t, c, map[string]any{"type": "connection_init"})
		if code := closeCode(t, c); code != closeForbidden {
			t.Fatalf("no token: %d", code)
		}
		c = dial(t, Protocol)
		send(t, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { notifications { id } }"}})
		if code := closeCode(t, c); code != closeUnauthorized {
			t.Fatalf("subscribe before ack: %d", code)
		}
		c = ready(t)
		send(t, c, map[string]any{"type": "ping", "payload": map[string]any{"x": 1}})
		if m := read(t, c); m.Type != "pong" || string(m.Payload) != `{"x":1}` {
			t.Fatalf("pong: %+v", m)
		}
		send(t, c, map[string]any{"id": "a", "type": "subscribe", "payload": map[string]any{"query": "subscription { notifications { id } }"}})
		send(t, c, map[string]any{"id": "a", "type": "subscribe", "payload": map[string]any{"query": "subscription { notifications { id } }"}})
		if code := closeCode(t, c); code != closeDuplicateID {
			t.Fatalf("duplicate id: %d", code)
		}
	})

	t.Run("orderStatus", func(t *testing.T) {
		c := ready(t)
		before := notes.count("alice")
		send(t, c, map[string]any{"id": "s1", "type": "subscribe", "payload": map[string]any{
			"query": "subscription($o: ID!) { live: orderStatus(orderId: $o) { id status } }", "variables": map[string]any{"o": "o1"}}})
		if m := read(t, c); m.Type != "next" || m.ID != "s1" || !strings.Contains(string(m.Payload), `"live":{"id":"o1","status":"PENDING_PAYMENT"}`) {
			t.Fatalf("first: %+v %s", m, m.Payload)
		}
		waitFor(t, func() bool { return notes.count("alice") > before })
		notes.push("alice", `{"kind":"welcome","seq":1}`) // not an order event
		notes.push("alice", `{"kind":"order_placed","seq":2}`)
		mu.Lock()
		status = "PAID"
		mu.Unlock()
		notes.push("alice", `{"kind":"order_paid","seq":3}`)
		// order_placed found the same order: nothing sent for it.
		if m := read(t, c); m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"PAID"`) {
			t.Fatalf("after payment: %+v %s", m, m.Payload)
		}
		send(t, c, map[string]any{"id": "s1", "type": "complete"})
		send(t, c, map[string]any{"id": "s2", "type": "subscribe", "payload": map[string]any{"query": `subscription { orderStatus(orderId: "o-other") { status } }`}})
		if m := read(t, c); m.Type != "error" || m.ID != "s2" || !strings.Contains(string(m.Payload), `"not_found"`) {
			t.Fatalf("a stranger's order: %+v %s", m, m.Payload)
		}
		send(t, c, map[string]any{"id": "s3", "type": "subscribe", "payload": map[string]any{"query": `subscription { orderStatus(orderId: "o1") { nope } }`}})
		if m := read(t, c); m.Type != "error" || !strings.Contains(string(m.Payload), "validation_failed") {
			t.Fatalf("an invalid selection: %+v %s", m, m.Payload)
		}
		send(t, c, map[string]any{"id": "s4", "type": "subscribe", "payload": map[string]any{"query": `{ order(id: "o1") { status } }`}})
		if m := read(t, c); m.Type != "error" || !strings.Contains(string(m.Payload), "only subscriptions") {
			t.Fatalf("a query: %+v %s", m, m.Payload)
		}
	})

	t.Run("notifications and chat", func(t *testing.T) {
		c := ready(t)
		nb, cb := notes.count("alice"), chat.count("alice")
		send(t, c, map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{
			"query": "subscription { notifications { __typename id kind ...F } } fragment F on Notification { when: createdAt }"}})
		send(t, c, map[string]any{"id": "m", "type": "subscribe", "payload": map[string]any{"query": `subscription { chatMessages(conversationId: "c1") { id text conversationId } }`}})
		waitFor(t, func() bool { return notes.count("alice") > nb && chat.count("alice") > cb }, c)
		notes.push("alice", `{"id":"n1","seq":4,"kind":"order_paid","title":"Paid","created_at":"2026-12-01T00:00:00Z"}`)
		m := read(t, c)
		var p struct {
			Data map[string]map[string]any `json:"data"`
		}
		_ = json.Unmarshal(m.Payload, &p)
		if n := p.Data["notifications"]; m.ID != "n" || n["__typename"] != "Notification" || n["id"] != "n1" || n["kind"] != "ORDER_PAID" || n["when"] != "2026-12-01T00:00:00Z" || len(n) != 4 {
			t.Fatalf("notification: %+v %s", m, m.Payload)
		}
		chat.push("alice", `{"type":"typing","conversation_id":"c1"}`)
		chat.push("alice", `{"type":"message","id":"x","conversation_id":"c2","text":"elsewhere"}`)
		chat.push("alice", `{"type":"message","id":"m1","conversation_id":"c1","text":"hello"}`)
		if m := read(t, c); m.ID != "m" || string(m.Payload) != `{"data":{"chatMessages":{"conversationId":"c1","id":"m1","text":"hello"}}}` {
			t.Fatalf("chat message: %+v %s", m, m.Payload)
		}
		// Shutdown ends the connection, going away.
		g.CloseSubscriptions()
		if code := closeCode(t, c); code != websocket.CloseGoingAway {
			t.Fatalf("shutdown: %d", code)
		}
		waitFor(t, func() bool { return g.Connections() == 0 })
		if c, _, err := (&websocket.Dialer{Subprotocols: []string{Protocol}}).Dial(url, nil); err == nil {
			if code := closeCode(t, c); code != websocket.CloseGoingAway {
				t.Fatalf("a connection after shutdown: %d", code)
			}
		}
	})
}
