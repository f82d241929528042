package mail_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// With tracing on, a send is an "smtp send" client span of the caller's
// trace with the server's address and port; the recipient, subject and
// body stay out of the trace.
func TestSMTPSendSpan(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	srv := mailtest.Start(t, mailtest.Plain, "", "")
	s, err := mail.New("smtp://"+srv.Addr+"?tls=none", "shop@example.test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := otelx.Tracer().Start(context.Background(), "root")
	if err := s.Send(ctx, mail.Message{To: "ann@example.test", Subject: "Secret subject", Text: "secret body"}); err != nil {
		t.Fatal(err)
	}
	root.End()
	flush()
	rcv.WaitFor(t, 10*time.Second, "the smtp send span", func() bool {
		for _, sp := range rcv.Trace(root.SpanContext().TraceID().String()) {
			if sp.Name != "smtp send" {
				continue
			}
			host, _, _ := strings.Cut(srv.Addr, ":")
			if sp.ParentSpanID != root.SpanContext().SpanID().String() || sp.Attrs["server.address"] != host || sp.Attrs["server.port"] == "" {
				t.Fatalf("smtp span: %+v", sp)
			}
			for k, v := range sp.Attrs {
				if strings.Contains(v, "ann@") || strings.Contains(v, "ecret") {
					t.Fatalf("attribute %s carries the message: %q", k, v)
				}
			}
			return true
		}
		return false
	})
}
