// Package mail sends multipart (HTML + text) email over SMTP with plain,
// STARTTLS or implicit TLS, or logs it when no SMTP server is configured.
package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
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
	return &smtpSender{host: u.Hostname(), opts: opts, from: from}, nil
}

type smtpSender struct {
	host string
	opts []gomail.Option
	from string
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("MAIL_FROM: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

type logSender struct{ log *slog.Logger }

// Send logs the email, body included: this mode is for local use, where
// the log is the mailbox (verification links must be reachable).
func (l logSender) Send(ctx context.Context, m Message) error {
	l.log.InfoContext(ctx, "email (SMTP_URL unset, not sent)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
