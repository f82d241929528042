package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
)

func TestSMTPModes(t *testing.T) {
	cases := []struct {
		name string
		mode mailtest.Mode
		url  func(addr string) string
	}{
		{"plain", mailtest.Plain, func(a string) string { return "smtp://" + a + "?tls=none" }},
		{"plain with opportunistic STARTTLS", mailtest.Plain, func(a string) string { return "smtp://" + a }},
		{"STARTTLS required with auth", mailtest.StartTLS, func(a string) string {
			return "smtp://shop:secret@" + a + "?tls=required&insecure_skip_verify=true"
		}},
		{"implicit TLS with auth", mailtest.ImplicitTLS, func(a string) string {
			return "smtps://shop:secret@" + a + "?insecure_skip_verify=true"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user, pass := "", ""
			if strings.Contains(c.url("x"), "shop:secret") {
				user, pass = "shop", "secret"
			}
			srv := mailtest.Start(t, c.mode, user, pass)
			s, err := mail.New(c.url(srv.Addr), "Shop <shop@example.test>", slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = s.Send(ctx, mail.Message{To: "ann@example.test", Subject: "Hello " + c.name, Text: "plain part", HTML: "<p>html part</p>"})
			if err != nil {
				t.Fatal(err)
			}
			m := srv.WaitFor(t, "ann@example.test", "Hello "+c.name, 5*time.Second)
			for _, want := range []string{"multipart/alternative", "plain part", "html part", "text/html"} {
				if !strings.Contains(m.Data, want) {
					t.Errorf("message lacks %q", want)
				}
			}
		})
	}
}

func TestSTARTTLSRequiredFailsOnPlainServer(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Plain, "", "")
	s, err := mail.New(fmt.Sprintf("smtp://%s?tls=required", srv.Addr), "shop@example.test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.test", Subject: "x", Text: "x"}); err == nil {
		t.Fatal("sent without TLS although tls=required")
	}
}
