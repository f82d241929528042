package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/chat/internal/ports"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

func dial(t *testing.T, base, tok string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/chat/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// Two participants send at once from both ends: every message is stored
// once with contiguous seqs (the conversation's order), each side receives
// all of them, and one sender's messages arrive in the order sent (frames
// carry seq, so clients order concurrent senders' messages by it). Run
// under -race: sessions, the fan-out hub and presence.
func TestConcurrentSendersKeepOneOrder(t *testing.T) {
	env := servertest.Start(t, nil)
	_, cust, _ := issue(t, env, "customer")
	_, admin, _ := issue(t, env, "admin")
	conv := env.Do("POST", "/api/v1/chat/conversations", map[string]any{"title": "order"}, cust)
	if conv.Status != 201 {
		t.Fatalf("open: %d %s", conv.Status, conv.Body)
	}
	id := conv.Str("id")
	if r := env.Do("POST", "/api/v1/chat/conversations/"+id+"/join", nil, admin); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	conns := []*websocket.Conn{dial(t, env.URL, cust), dial(t, env.URL, admin)}
	const each = 8 // under the per-user rate limit
	got := make([][]float64, len(conns))
	lastOf := []map[string]int{{}, {}}
	var readers sync.WaitGroup
	for i, c := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			for len(got[i]) < 2*each {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				var f map[string]any
				_ = json.Unmarshal(data, &f)
				if f["type"] == "message" {
					got[i] = append(got[i], f["seq"].(float64))
					text := f["client_id"].(string)
					sender := text[:1]
					n := 0
					fmt.Sscan(text[2:], &n)
					if last, ok := lastOf[i][sender]; ok && n <= last {
						t.Errorf("client %d: sender %s's message %d after %d", i, sender, n, last)
					}
					lastOf[i][sender] = n
				}
			}
		}()
	}
	var senders sync.WaitGroup
	for i, c := range conns {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for n := 0; n < each; n++ {
				b, _ := json.Marshal(map[string]any{"type": "message", "conversation_id": id, "client_id": fmt.Sprint(i, "-", n), "text": fmt.Sprint("hello ", n)})
				if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	senders.Wait()
	readers.Wait()
	for i := range conns {
		if len(got[i]) != 2*each {
			t.Fatalf("client %d got %d messages", i, len(got[i]))
		}
		seqs := append([]float64(nil), got[i]...)
		slices.Sort(seqs)
		for n, seq := range seqs {
			if seq != float64(n+1) {
				t.Fatalf("client %d: seqs %v", i, got[i])
			}
		}
	}
	h := env.Do("GET", "/api/v1/chat/conversations/"+id+"/messages?limit=100", nil, cust)
	if n := len(h.JSON()["items"].([]any)); n != 2*each {
		t.Fatalf("history holds %d", n)
	}
}

// Attachments travel as metadata; a user over the message rate gets
// rate_limited error frames and the connection stays usable.
func TestAttachmentsAndRateLimit(t *testing.T) {
	env := servertest.Start(t, nil)
	custID, cust, _ := issue(t, env, "customer")
	id := env.Do("POST", "/api/v1/chat/conversations", map[string]any{"title": "photos"}, cust).Str("id")
	c := dial(t, env.URL, cust)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(v map[string]any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]any {
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			if f["type"] != "presence" {
				return f
			}
		}
	}
	send(map[string]any{"type": "message", "conversation_id": id, "client_id": "img", "kind": "image",
		"attachment": map[string]any{"url": "https://cdn.example/p.jpg", "name": "p.jpg", "size": 1234, "mime": "image/jpeg"}})
	if f := read(); f["kind"] != "image" || f["attachment"].(map[string]any)["url"] != "https://cdn.example/p.jpg" {
		t.Fatalf("image: %v", f)
	}
	send(map[string]any{"type": "message", "conversation_id": id, "client_id": "bad", "kind": "file", "attachment": map[string]any{"url": "javascript:alert(1)"}})
	if f := read(); f["code"] != "bad_message" {
		t.Fatalf("bad attachment: %v", f)
	}
	// The user has already sent all but 5 of this window's messages (a
	// window held open for 30 s, so that a slow machine cannot let it run
	// out mid-burst): of a burst of 15, 5 are stored and 10 refused.
	key := "rl:chat:msg:" + custID
	if err := env.Server.Redis.Set(ctx, key, ports.MessagesPerSecond-5, 30*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	limited, stored := 0, 0
	for i := 0; i < 15; i++ {
		send(map[string]any{"type": "message", "conversation_id": id, "client_id": fmt.Sprint("m", i), "text": "spam"})
	}
	for i := 0; i < 15; i++ {
		switch f := read(); {
		case f["code"] == "rate_limited":
			limited++
		case f["type"] == "message":
			stored++
		default:
			t.Fatalf("burst: %v", f)
		}
	}
	if limited != 10 || stored != 5 {
		t.Fatalf("a burst of 15 with 5 messages left in the window: %d stored, %d rate limited", stored, limited)
	}
	// The window ends (its counter expires in Redis, the limit's clock):
	// the connection is usable again.
	if err := env.Server.Redis.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	send(map[string]any{"type": "message", "conversation_id": id, "client_id": "later", "text": "calm again"})
	if f := read(); f["client_id"] != "later" || f["type"] != "message" {
		t.Fatalf("after the window: %v", f)
	}
}

func issue(t *testing.T, env *servertest.Env, role string) (string, string, error) {
	id := uuid.NewString()
	s, _, err := env.Server.Keys.Issue(authn.Principal{UserID: id, Role: role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return id, s, nil
}
