// Package sms sends text messages through a chain of providers: the first
// that accepts a message wins, so one provider's outage does not stop
// order and shipping texts.
package sms

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Message is one text message. ID is stable across retries, so a provider
// can drop a resend of a message it already accepted (Idempotency-Key).
type Message struct {
	ID   string
	To   string
	Body string
}

// Provider delivers text messages.
type Provider interface {
	// Name identifies the provider in logs and in the sms table.
	Name() string
	Send(ctx context.Context, m Message) error
}

// Log is the built-in provider: it writes the message to the log (the
// number masked), for development and for shops without an SMS vendor.
type Log struct{ Logger *slog.Logger }

// Name implements Provider.
func (Log) Name() string { return "log" }

// Send implements Provider.
func (l Log) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "sms (log provider)", "sms_id", m.ID, "to", Mask(m.To), "body", m.Body)
	return nil
}

// Mask keeps the last two digits of a phone number, enough to tell
// messages apart in a log without recording the number.
func Mask(phone string) string {
	if len(phone) <= 2 {
		return "**"
	}
	return strings.Repeat("*", len(phone)-2) + phone[len(phone)-2:]
}

// HTTP is a generic HTTP provider: it POSTs {"id","to","body"} as JSON to
// URL with the bearer Token; any 2xx is accepted.
type HTTP struct {
	URL    string
	Token  string
	Client *http.Client
}

// Name implements Provider: the host, never the token.
func (h *HTTP) Name() string {
	if u, err := url.Parse(h.URL); err == nil {
		return u.Host
	}
	return "http"
}

// Send implements Provider.
func (h *HTTP) Send(ctx context.Context, m Message) error {
	body, _ := json.Marshal(map[string]string{"id": m.ID, "to": m.To, "body": m.Body})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	c := h.Client
	if c == nil {
		c = defaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d: %s", h.Name(), res.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

var defaultClient = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}

// Failover tries its providers in order.
type Failover []Provider

// Send delivers m through the first provider that accepts it and returns
// that provider's name; the error joins every provider's failure. Each
// provider's attempt is a client span "sms send" (when tracing is on)
// naming the provider; the number, the body and the provider's answer
// (which may echo them) stay out of the trace.
func (f Failover) Send(ctx context.Context, m Message) (string, error) {
	var errs []error
	for _, p := range f {
		err := sendTraced(ctx, p, m)
		if err == nil {
			return p.Name(), nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.Name(), err))
	}
	if len(errs) == 0 {
		return "", errors.New("no SMS provider configured")
	}
	return "", errors.Join(errs...)
}

func sendTraced(ctx context.Context, p Provider, m Message) error {
	if !otelx.Tracing() {
		return p.Send(ctx, m)
	}
	ctx, span := otelx.Tracer().Start(ctx, "sms send", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("sms.provider", p.Name())))
	defer span.End()
	err := p.Send(ctx, m)
	if err != nil {
		span.SetStatus(codes.Error, "provider did not accept the message")
	}
	return err
}

// Parse builds the chain from SMS_PROVIDERS: a comma-separated list of
// "log" and http(s) URLs, tried in that order. A URL's password part, if
// any, is its bearer token (https://:token@sms.example/send); otherwise
// defaultToken (SMS_HTTP_TOKEN) is used.
func Parse(spec, defaultToken string, log *slog.Logger) (Failover, error) {
	var out Failover
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "log":
			out = append(out, Log{Logger: log})
		case strings.HasPrefix(item, "http://"), strings.HasPrefix(item, "https://"):
			u, err := url.Parse(item)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("SMS_PROVIDERS: bad URL %q", redact(item))
			}
			tok := defaultToken
			if pw, ok := u.User.Password(); ok {
				tok = pw
			}
			u.User = nil
			out = append(out, &HTTP{URL: u.String(), Token: tok})
		default:
			return nil, fmt.Errorf("SMS_PROVIDERS: %q is neither \"log\" nor an http(s) URL", redact(item))
		}
	}
	if len(out) == 0 {
		out = Failover{Log{Logger: log}}
	}
	return out, nil
}

// redact hides a URL's credentials in an error message.
func redact(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "***" + s[i:]
		}
	}
	return s
}
