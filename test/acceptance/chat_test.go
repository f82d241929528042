package acceptance

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// wsClient is a chat WebSocket with a frame reader.
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan map[string]any
	closed chan websocket.CloseError
}

func dialChat(t *testing.T, base, token string, viaQuery bool) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/chat/ws"
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if viaQuery {
		u += "?access_token=" + token
	} else {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	c, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: t, c: c, frames: make(chan map[string]any, 256), closed: make(chan websocket.CloseError, 1)}
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				if ok := asClose(err, &ce); ok {
					w.closed <- ce
				}
				close(w.frames)
				return
			}
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			w.frames <- f
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return w
}

func asClose(err error, ce *websocket.CloseError) bool {
	code := websocket.CloseStatus(err)
	if code == -1 {
		return false
	}
	ce.Code = code
	return true
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	w.sendRaw(b)
}

func (w *wsClient) sendRaw(b []byte) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

// expectFrame waits for a frame of type typ (others are skipped and
// returned) matching ok.
func (w *wsClient) expectFrame(typ string, ok func(map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.After(10 * time.Second)
	var skipped []map[string]any
	for {
		select {
		case f, open := <-w.frames:
			if !open {
				w.t.Fatalf("connection closed waiting for %s (skipped %v)", typ, skipped)
			}
			if f["type"] == typ && (ok == nil || ok(f)) {
				return f
			}
			skipped = append(skipped, f)
		case <-deadline:
			w.t.Fatalf("no %s frame (got %v)", typ, skipped)
		}
	}
}

// quiet asserts no frame of typ arrives for d.
func (w *wsClient) quiet(typ string, d time.Duration) {
	w.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, open := <-w.frames:
			if !open {
				return
			}
			if f["type"] == typ {
				w.t.Fatalf("unexpected %s frame: %v", typ, f)
			}
		case <-deadline:
			return
		}
	}
}

func userID(t *testing.T, base, tok string) string {
	return expect(t, call(t, base, "GET", "/api/v1/me", nil, tok), 200, "me").Str("id")
}

// The walk: a customer opens a support conversation, an admin
// joins; over WebSocket they exchange messages, see typing, presence and
// read receipts; a resend is stored once; history reloads and searches; a
// bystander gets 404; bad frames get error frames.
func TestChatOverWebSocket(t *testing.T) {
	s := newShop(t, nil)
	cust := customerToken(t, s.u, s.smtp, "chatty@shop.test")
	other := customerToken(t, s.u, s.smtp, "lurker@shop.test")
	custID, adminID := userID(t, s.u, cust), userID(t, s.u, s.admin)

	expectProblem(t, call(t, s.u, "GET", "/api/v1/chat/ws", nil, cust), 426, "upgrade_required", "plain GET of the socket")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/chat/conversations", map[string]any{"title": ""}, cust), 422, "validation_failed", "no title")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/chat/conversations", map[string]any{"title": "x", "participant_ids": []string{"0192b7c4-0000-7000-8000-00000000dead"}}, cust),
		422, "unknown_participants", "unknown participant")
	conv := expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations", map[string]any{"title": "Where is my parcel?"}, cust), 201, "open support").JSON()
	id := conv["id"].(string)
	if conv["kind"] != "support" || conv["assigned"] != false {
		t.Fatalf("conversation: %v", conv)
	}
	if l := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations", nil, s.admin), 200, "admin list").Body; !strings.Contains(string(l), id) {
		t.Fatalf("admin does not see the unassigned conversation: %s", l)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/join", nil, other), 403, "", "customer joins")
	expectProblem(t, call(t, s.u, "GET", "/api/v1/chat/conversations/"+id+"/messages", nil, other), 404, "not_found", "bystander reads")
	expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/join", nil, s.admin), 200, "admin joins")

	cws := dialChat(t, s.u, cust, true)
	aws := dialChat(t, s.u, s.admin, false)
	cws.expectFrame("presence", func(f map[string]any) bool { return f["user_id"] == adminID && f["online"] == true })

	cws.send(map[string]any{"type": "typing", "conversation_id": id})
	aws.expectFrame("typing", func(f map[string]any) bool {
		return f["sender_id"] == custID && f["conversation_id"] == id && f["id"] != "" && f["created_at"] != nil
	})

	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-1", "text": "My parcel never arrived"})
	got := aws.expectFrame("message", nil)
	if got["sender_id"] != custID || got["text"] != "My parcel never arrived" || got["id"] == "" || got["created_at"] == nil || got["seq"].(float64) != 1 {
		t.Fatalf("message frame: %v", got)
	}
	echo := cws.expectFrame("message", nil)
	if echo["id"] != got["id"] {
		t.Fatalf("sender's echo: %v", echo)
	}
	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-1", "text": "My parcel never arrived"})
	if dup := cws.expectFrame("message", nil); dup["id"] != got["id"] || dup["duplicate"] != true {
		t.Fatalf("resend: %v", dup)
	}
	aws.quiet("message", 500*time.Millisecond)

	aws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "a-1", "text": "Sorry! Resending it today, tracking follows"})
	reply := cws.expectFrame("message", func(f map[string]any) bool { return f["sender_id"] == adminID })
	cws.send(map[string]any{"type": "read", "conversation_id": id, "message_id": reply["id"]})
	if r := aws.expectFrame("read", nil); r["sender_id"] != custID || r["seq"].(float64) != 2 {
		t.Fatalf("read receipt: %v", r)
	}

	// Bad frames: error frames, the connection lives on.
	cws.sendRaw([]byte("not json"))
	cws.expectFrame("error", func(f map[string]any) bool { return f["code"] == "bad_frame" })
	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-big", "text": strings.Repeat("a", 9*1024)})
	cws.expectFrame("error", func(f map[string]any) bool { return f["code"] == "message_too_large" && f["client_id"] == "c-big" })
	cws.send(map[string]any{"type": "shout", "conversation_id": id})
	cws.expectFrame("error", func(f map[string]any) bool { return f["code"] == "bad_frame" })
	lws := dialChat(t, s.u, other, true)
	lws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "l-1", "text": "let me in"})
	lws.expectFrame("error", func(f map[string]any) bool { return f["code"] == "not_found" })
	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-2", "text": "Thanks, the tracking number please"})
	aws.expectFrame("message", func(f map[string]any) bool { return f["client_id"] == "c-2" })

	// History: stored once each, newest first; search.
	h := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations/"+id+"/messages?limit=2", nil, cust), 200, "history").JSON()
	items := h["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["client_id"] != "c-2" || h["next_cursor"] == nil {
		t.Fatalf("history page: %v", h)
	}
	older := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations/"+id+"/messages?before="+h["next_cursor"].(string), nil, cust), 200, "older").JSON()
	if n := len(older["items"].([]any)); n != 1 {
		t.Fatalf("older page: %v", older)
	}
	if f := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations/"+id+"/messages?q=parcel", nil, s.admin), 200, "search").JSON()["items"].([]any); len(f) != 1 {
		t.Fatalf("search: %v", f)
	}
	list := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations", nil, s.admin), 200, "admin list").JSON()["items"].([]any)
	if u := list[0].(map[string]any)["unread"].(float64); u != 1 {
		t.Fatalf("admin unread %v, want 1 (c-2)", u)
	}

	// A frame over 64 KB closes the connection (1009 when the close frame
	// arrives). The server closes with part of the frame unread, so its
	// kernel may reset the connection, and the reset can lose the close
	// frame whether or not the client's write completed (seen through the
	// gateway's tunnel in the split topology): then only the end of the
	// connection is checked.
	big := dialChat(t, s.u, cust, false)
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	werr := big.c.Write(wctx, websocket.MessageText, []byte(`{"type":"message","text":"`+strings.Repeat("x", 70*1024)+`"}`))
	wcancel()
	for ended := false; !ended; {
		select {
		case ce := <-big.closed:
			if ce.Code != websocket.StatusMessageTooBig {
				t.Fatalf("close code %d", ce.Code)
			}
			ended = true
		case f, open := <-big.frames:
			if open && f["type"] != "presence" {
				t.Fatalf("oversized frame answered with %v", f)
			}
			if !open {
				if len(big.closed) == 0 {
					t.Logf("closed by a reset, without a close frame (write error: %v)", werr)
				}
				ended = len(big.closed) == 0
			}
		case <-time.After(10 * time.Second):
			t.Fatal("oversized frame did not close the connection")
		}
	}
	// Presence: the admin leaves.
	aws.c.Close(websocket.StatusNormalClosure, "bye")
	cws.expectFrame("presence", func(f map[string]any) bool { return f["user_id"] == adminID && f["online"] == false })

	// Closed conversations take no messages until reopened.
	expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/close", nil, cust), 200, "close")
	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-3", "text": "hello?"})
	cws.expectFrame("error", func(f map[string]any) bool { return f["code"] == "conversation_closed" })
	expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/reopen", nil, cust), 200, "reopen")

	// Offline participants hear of new messages from notify: the admin
	// in-app; the customer in-app and by email (once per burst).
	cws.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "c-4", "text": "Anyone there?"})
	cws.expectFrame("message", func(f map[string]any) bool { return f["client_id"] == "c-4" })
	waitNotification(t, s.u, s.admin, "chat_message")
	cws.c.Close(websocket.StatusNormalClosure, "bye")
	aws2 := dialChat(t, s.u, s.admin, false)
	// The customer's presence lapses with its connection, inside the
	// binary (its Redis): nothing outside can see it go, so a short window
	// after the close is all there is.
	time.Sleep(300 * time.Millisecond)
	for i := 0; i < 2; i++ {
		aws2.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "a-late-" + string(rune('0'+i)), "text": "Your parcel ships today"})
		aws2.expectFrame("message", func(f map[string]any) bool {
			return f["sender_id"] == adminID && f["text"] == "Your parcel ships today" && f["duplicate"] == nil
		})
	}
	waitNotification(t, s.u, cust, "chat_message")
	s.smtp.WaitFor(t, "chatty@shop.test", "Subject: You have a new message", 20*time.Second)
	s.settle() // no second email for the burst
	if n := s.emails("chatty@shop.test", "You have a new message"); n != 1 {
		t.Fatalf("%d chat emails for one burst, want 1", n)
	}
}

// Two instances on one database and Redis deliver across each other.
func TestChatAcrossInstances(t *testing.T) {
	monolithOnly(t)
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	db := pgtest.NewDatabase(t)
	key := jwtKeyFile(t)
	env := func() map[string]string {
		return map[string]string{"DATABASE_URL": db, "REDIS_URL": "redis://127.0.0.1:6379/0", "DATA_DIR": t.TempDir(), "JWT_PRIVATE_KEY_FILE": key,
			"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": "ord-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
			"RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000"}
	}
	a, _ := startOne(t, env())
	b, _ := startOne(t, env())
	admin := expect(t, call(t, b.URL, "POST", "/api/v1/auth/login", map[string]string{"email": "ord-admin@shop.test", "password": "admin-password"}, ""), 200, "login").Str("access_token")
	cust := customerToken(t, a.URL, smtp, "twin-chat@shop.test")
	id := expect(t, call(t, a.URL, "POST", "/api/v1/chat/conversations", map[string]any{"title": "Hi"}, cust), 201, "open").Str("id")
	expect(t, call(t, b.URL, "POST", "/api/v1/chat/conversations/"+id+"/join", nil, admin), 200, "join on B")
	onA := dialChat(t, a.URL, cust, true)
	onB := dialChat(t, b.URL, admin, true)
	onA.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "x1", "text": "from A"})
	onB.expectFrame("message", func(f map[string]any) bool { return f["text"] == "from A" })
	onB.send(map[string]any{"type": "message", "conversation_id": id, "client_id": "y1", "text": "from B"})
	onA.expectFrame("message", func(f map[string]any) bool { return f["text"] == "from B" })
}
