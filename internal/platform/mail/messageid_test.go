package mail_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
)

// Sending the same message twice (a resend after a crash) carries the same
// Message-ID, derived from the message's id and MAIL_FROM's domain.
func TestMessageIDIsStableAcrossResends(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Plain, "", "")
	s, err := mail.New("smtp://"+srv.Addr+"?tls=none", "Shop <no-reply@shop.example>", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := mail.Message{ID: "0192b7c4-0000-7000-8000-00000000abcd", To: "ann@example.test", Subject: "Verify", Text: "x"}
	for range 2 {
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ids := srv.MessageIDs(t, 2)
	want := "<0192b7c4-0000-7000-8000-00000000abcd@shop.example>"
	if ids[0] != want || ids[1] != want {
		t.Fatalf("Message-IDs %q, want %s twice", ids, want)
	}
	// Without an id each send gets its own.
	for range 2 {
		if err := s.Send(ctx, mail.Message{To: "bob@example.test", Subject: "Hi", Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ids = srv.MessageIDs(t, 4)
	if ids[2] == "" || ids[2] == ids[3] {
		t.Fatalf("random Message-IDs: %q", ids[2:])
	}
}

func TestMessageID(t *testing.T) {
	for _, c := range []struct{ id, from, want string }{
		{"abc-1", "Commerce <no-reply@localhost>", "<abc-1@localhost>"},
		{"abc", "shop@mail.example.com", "<abc@mail.example.com>"},
		{"a b", "shop@example.com", ""},
		{"a>b", "shop@example.com", ""},
		{"", "shop@example.com", ""},
		{"abc", "not an address", ""},
	} {
		got, err := mail.MessageID(c.id, c.from)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("MessageID(%q, %q) = %q, %v; want %q", c.id, c.from, got, err, c.want)
		}
	}
}
