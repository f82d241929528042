package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":100,"currency":"usd"}}}`)
	now := time.Now()
	ts := now.Unix()
	good := Header("whsec_new", ts, body)
	if ev, err := Verify(body, good, []string{"whsec_old", "whsec_new"}, now); err != nil || ev.Data.Object.ID != "pi_1" {
		t.Fatalf("%+v %v", ev, err)
	}
	// Several v1 values (rotation on the sender's side): one valid is enough.
	_, v1, _ := strings.Cut(good, ",")
	multi := fmt.Sprintf("t=%d,v1=00ff,%s", ts, v1)
	if _, err := Verify(body, multi, []string{"whsec_new"}, now); err != nil {
		t.Fatalf("multi v1: %v", err)
	}
	cases := map[string]struct {
		header string
		body   []byte
	}{
		"missing":       {"", body},
		"wrong secret":  {Header("whsec_other", ts, body), body},
		"stale":         {Header("whsec_new", ts-301, body), body},
		"future":        {Header("whsec_new", ts+301, body), body},
		"tampered body": {good, append([]byte(nil), append(body[:len(body)-2], []byte(`1}}`)...)...)},
		"garbage":       {"nonsense", body},
	}
	for name, c := range cases {
		if _, err := Verify(c.body, c.header, []string{"whsec_new"}, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
