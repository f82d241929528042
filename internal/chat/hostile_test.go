package chat_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/opencommerce/commerce/internal/server/servertest"
)

// Frames obey the rules of request bodies: NUL in any string is answered
// with an invalid_characters error frame, bytes that are not UTF-8 with
// bad_frame; nothing is stored, nobody else is told, and the connection
// stays open for the next (valid) frame.
func TestHostileFramesAreRefused(t *testing.T) {
	env := servertest.Start(t, nil)
	_, cust, _ := issue(t, env, "customer")
	id := env.Do("POST", "/api/v1/chat/conversations", map[string]any{"title": "help"}, cust).Str("id")
	c := dial(t, env.URL, cust)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
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
	frames := map[string]string{
		`{"type":"message","conversation_id":"` + id + `","client_id":"a","text":"hi\u0000there"}`:                                "invalid_characters",
		`{"type":"message","conversation_id":"` + id + `","client_id":"b\u0000","text":"hi"}`:                                     "invalid_characters",
		`{"type":"message","conversation_id":"` + id + `\u0000","client_id":"c","text":"hi"}`:                                     "invalid_characters",
		`{"type":"message","conversation_id":"` + id + `","client_id":"d","kind":"file","attachment":{"url":"https://x/\u0000"}}`: "invalid_characters",
		`{"type":"typing\u0000","conversation_id":"` + id + `"}`:                                                                  "invalid_characters",
		`{"type":"read","conversation_id":"` + id + `","message_id":"\u0000"}`:                                                    "invalid_characters",
		"{\"type\":\"message\",\"conversation_id\":\"" + id + "\",\"client_id\":\"e\",\"text\":\"a\xffb\"}":                       "bad_frame",
		`{"type":"message","conversation_id":"` + id + `","client_id":"f","text":1e300}`:                                          "bad_frame",
		`[]`: "bad_frame",
	}
	for frame, code := range frames {
		if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		if f := read(); f["type"] != "error" || f["code"] != code {
			t.Errorf("%q: %v, want error %s", frame, f, code)
		}
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"message","conversation_id":"`+id+`","client_id":"ok","text":"still here"}`)); err != nil {
		t.Fatal(err)
	}
	if f := read(); f["type"] != "message" || f["text"] != "still here" {
		t.Fatalf("after hostile frames: %v", f)
	}
	var n int
	if err := env.DB.NewRaw("SELECT count(*) FROM chat.messages WHERE conversation_id = ?", id).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("stored messages: %d %v", n, err)
	}
}
