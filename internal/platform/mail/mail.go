// Package mail sends multipart (HTML + text) email over SMTP with plain,
// STARTTLS or implicit TLS, or logs it when no SMTP server is configured.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Message is one email to one recipient.
type Message struct {
	// ID is the message's stable identity (the email row's id): when set,
	// the Message-ID header is <ID@domain of MAIL_FROM>, the same on every
	// attempt. SMTP has no idempotency, so delivery is at least once; a
	// resend after a crash between "accepted by the SMTP server" and
	// "recorded as sent" then carries the same Message-ID, which receiving
	// systems and mail clients use to recognise the duplicate. Empty: a
	// random Message-ID.
	ID      string
	To      string
	Subject string
	Text    string
	HTML    string
}

// MessageID returns the Message-ID header value (angle brackets included)
// of the message with id sent from the address from ("Shop
// <shop@example.com>" or "shop@example.com"): <id@example.com>. It fails
// for an id that is not a valid left part of a Message-ID (RFC 5322
// dot-atom-text) or an unparsable sender, rather than send a header
// receivers would rewrite.
func MessageID(id, from string) (string, error) {
	if !dotAtom(id) {
		return "", fmt.Errorf("message id %q: not a valid Message-ID left part", id)
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("MAIL_FROM: %w", err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at < 0 || !dotAtom(addr.Address[at+1:]) {
		return "", errors.New("MAIL_FROM: the address has no domain usable in a Message-ID")
	}
	return "<" + id + "@" + addr.Address[at+1:] + ">", nil
}

// dotAtom reports RFC 5322 dot-atom-text: atext runs separated by single dots.
func dotAtom(s string) bool {
	if s == "" || len(s) > 200 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// New returns an SMTP sender for smtpURL, or a logging sender when empty.
// smtp://user:pass@host:port uses STARTTLS when the server offers it
// (?tls=required insists, ?tls=none never); smtps:// is implicit TLS.
func New(smtpURL, from string, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return logSender{log: log}, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: bad port")
		}
	}
	opts := []gomail.Option{gomail.WithPort(port)}
	switch {
	case u.Scheme == "smtps":
		opts = append(opts, gomail.WithSSL(), gomail.WithPort(port))
	case u.Query().Get("tls") == "required":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case u.Query().Get("tls") == "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	if u.Query().Get("insecure_skip_verify") == "true" {
		opts = append(opts, gomail.WithTLSConfig(insecureTLS(u.Hostname())))
	}
	return &smtpSender{host: u.Hostname(), port: port, opts: opts, from: from}, nil
}

type smtpSender struct {
	host string
	port int
	opts []gomail.Option
	from string
}

// Send delivers m in a client span "smtp send" (when tracing is on) with
// the server's address and port; the recipient, subject and body stay out
// of the trace.
func (s *smtpSender) Send(ctx context.Context, m Message) (err error) {
	if otelx.Tracing() {
		var span trace.Span
		ctx, span = otelx.Tracer().Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("server.address", s.host), attribute.Int("server.port", s.port)))
		defer func() {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}()
	}
	return s.send(ctx, m)
}

func (s *smtpSender) send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("MAIL_FROM: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	if m.ID != "" {
		id, err := MessageID(m.ID, s.from)
		if err != nil {
			return err
		}
		msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

type logSender struct{ log *slog.Logger }

// Send logs the email, body included: this mode is for local use, where
// the log is the mailbox (verification links must be reachable).
func (l logSender) Send(ctx context.Context, m Message) error {
	l.log.InfoContext(ctx, "email (SMTP_URL unset, not sent)", "id", m.ID, "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
