package app

import (
	"context"
	"fmt"
	"time"

	"github.com/opencommerce/commerce/internal/notify/internal/sms"
	"github.com/opencommerce/commerce/internal/platform/mail"
)

// outgoing is one queued email or text as the dispatcher claims it.
type outgoing struct {
	ID       string `bun:"id"`
	To       string `bun:"to_addr"`
	Subject  string `bun:"subject"`
	Text     string `bun:"text_body"`
	HTML     string `bun:"html_body"`
	Attempts int    `bun:"attempts"`
}

// channel is a delivery channel's queue table and sender. send returns
// the name of whoever accepted the message (recorded for texts).
type channel struct {
	table   string
	columns string // selected as the outgoing fields
	send    func(ctx context.Context, o outgoing) (string, error)
}

func (s *Service) channels() []channel {
	return []channel{{
		table: "notify.emails", columns: "id::text, to_addr, subject, text_body, html_body, attempts",
		send: func(ctx context.Context, o outgoing) (string, error) {
			return "smtp", s.sender.Send(ctx, mail.Message{To: o.To, Subject: o.Subject, Text: o.Text, HTML: o.HTML})
		},
	}, {
		table: "notify.sms", columns: "id::text, to_phone AS to_addr, body AS text_body, attempts",
		send: func(ctx context.Context, o outgoing) (string, error) {
			return s.sms.Send(ctx, sms.Message{ID: o.ID, To: o.To, Body: o.Text})
		},
	}}
}

// Run delivers queued emails and texts, and pushes what a crash left
// unpushed, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastSweep := time.Now()
	for {
		n, err := s.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "notification dispatch failed", "err", err)
		}
		if time.Since(lastSweep) >= sweepEvery {
			lastSweep = time.Now()
			if err := s.SweepPushes(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "push sweep failed", "err", err)
			}
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// DispatchOnce sends one batch of each channel and returns how many
// messages it handled.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	total := 0
	for _, ch := range s.channels() {
		n, err := s.dispatch(ctx, ch)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// dispatch claims a batch by pushing next_attempt_at forward in a short
// transaction; the sends happen outside any transaction; success or
// failure is recorded afterwards. A crash mid-send means the message is
// tried again later (at-least-once; texts carry a stable id providers can
// deduplicate on).
func (s *Service) dispatch(ctx context.Context, ch channel) (int, error) {
	var batch []outgoing
	err := s.db.NewRaw(`UPDATE `+ch.table+` SET attempts = attempts + 1,
			next_attempt_at = now() + make_interval(secs => least(300, 2 ^ attempts * 5))
		WHERE id IN (SELECT id FROM `+ch.table+` WHERE status = 'pending' AND next_attempt_at <= now()
		             ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED)
		RETURNING `+ch.columns).Scan(ctx, &batch)
	if err != nil {
		return 0, err
	}
	for _, o := range batch {
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		via, err := ch.send(sendCtx, o)
		cancel()
		if err == nil {
			_, err = s.db.ExecContext(ctx, "UPDATE "+ch.table+" SET status = 'sent', sent_at = now(), last_error = NULL, provider = ? WHERE id = ?", via, o.ID)
			if err != nil {
				return len(batch), err
			}
			continue
		}
		status := "pending"
		if o.Attempts >= MaxAttempts {
			status = "failed"
		}
		s.log.WarnContext(ctx, "notification not sent", "table", ch.table, "id", o.ID, "attempt", o.Attempts, "err", err)
		if _, uerr := s.db.ExecContext(ctx, "UPDATE "+ch.table+" SET status = ?, last_error = ? WHERE id = ?", status, truncate(err.Error(), 1000), o.ID); uerr != nil {
			return len(batch), fmt.Errorf("record send failure: %w", uerr)
		}
	}
	return len(batch), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
