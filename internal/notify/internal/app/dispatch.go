package app

import (
	"context"
	"fmt"
	"time"

	"github.com/opencommerce/commerce/internal/notify/internal/sms"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// outgoing is one queued email or text as the dispatcher claims it.
type outgoing struct {
	ID       string `bun:"id"`
	To       string `bun:"to_addr"`
	Subject  string `bun:"subject"`
	Text     string `bun:"text_body"`
	HTML     string `bun:"html_body"`
	Attempts int    `bun:"attempts"`
	// TraceParent is the trace context of the event that queued it.
	TraceParent string `bun:"trace_parent"`
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
		table: "notify.emails", columns: "id::text, to_addr, subject, text_body, html_body, attempts, coalesce(trace_parent, '') AS trace_parent",
		send: func(ctx context.Context, o outgoing) (string, error) {
			// The row id is the Message-ID's left part: a resend is the same message.
			return "smtp", s.sender.Send(ctx, mail.Message{ID: o.ID, To: o.To, Subject: o.Subject, Text: o.Text, HTML: o.HTML})
		},
	}, {
		table: "notify.sms", columns: "id::text, to_phone AS to_addr, body AS text_body, attempts, coalesce(trace_parent, '') AS trace_parent",
		send: func(ctx context.Context, o outgoing) (string, error) {
			return s.sms.Send(ctx, sms.Message{ID: o.ID, To: o.To, Body: o.Text})
		},
	}}
}

// dispatchPoll is how often Run looks for due messages without a wake-up.
// New messages wake it (AfterEvent, in the process of the consumer that
// queued them), so the poll only picks up retries, whose backoff starts at
// 5 s, and what a crash left behind; a faster tick only costs idle CPU.
const dispatchPoll = 5 * time.Second

// Run delivers queued emails and texts, and pushes what a crash left
// unpushed, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(dispatchPoll)
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

// sendTimeout bounds one send; claimLease, which holds a claimed message
// away from other dispatchers, outlasts it, so that a slow send is never
// claimed and sent a second time while it is still under way.
const (
	sendTimeout = 30 * time.Second
	claimLease  = sendTimeout + 30*time.Second
	// batchSize is how many messages one DispatchOnce sends per channel.
	batchSize = 10
)

// dispatch sends up to batchSize messages of a channel, claiming them one
// at a time: claim (a short statement that pushes next_attempt_at past the
// send), send outside any transaction, record the outcome at once. A crash
// can therefore leave at most one message per dispatcher claimed but not
// recorded as sent, which is tried again after claimLease: delivery is at
// least once (SMTP has no idempotency); the resent email carries the same
// Message-ID (derived from its row id) and a text the same id, so
// receivers recognise the duplicate.
func (s *Service) dispatch(ctx context.Context, ch channel) (int, error) {
	n := 0
	for n < batchSize {
		var batch []outgoing
		err := s.db.NewRaw(`UPDATE `+ch.table+` SET attempts = attempts + 1,
				next_attempt_at = now() + make_interval(secs => ?)
			WHERE id = (SELECT id FROM `+ch.table+` WHERE status = 'pending' AND next_attempt_at <= now()
			            ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+ch.columns, claimLease.Seconds()).Scan(ctx, &batch)
		if err != nil {
			return n, fmt.Errorf("claim from %s: %w", ch.table, err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		n++
		if err := s.sendOne(ctx, ch, batch[0]); err != nil {
			return n, err
		}
	}
	return n, nil
}

// sendOne sends a claimed message and records the outcome. The record is
// written even when ctx ends right after a successful send (shutdown), so
// a stop does not turn into a resend.
func (s *Service) sendOne(ctx context.Context, ch channel, o outgoing) error {
	sendCtx := ctx
	if o.TraceParent != "" {
		// The send (its span, when tracing is on) joins the trace of the
		// event that queued the message.
		sendCtx = otelx.Extract(ctx, func(k string) string {
			if k == "traceparent" {
				return o.TraceParent
			}
			return ""
		})
	}
	sendCtx, cancel := context.WithTimeout(sendCtx, sendTimeout)
	via, err := ch.send(sendCtx, o)
	cancel()
	recCtx, cancelRec := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelRec()
	if err == nil {
		if _, err := s.db.ExecContext(recCtx, "UPDATE "+ch.table+" SET status = 'sent', sent_at = now(), last_error = NULL, provider = ? WHERE id = ?", via, o.ID); err != nil {
			return fmt.Errorf("record %s %s as sent: %w", ch.table, o.ID, err)
		}
		return nil
	}
	status := "pending"
	if o.Attempts >= MaxAttempts {
		status = "failed"
	}
	s.log.WarnContext(ctx, "notification not sent", "table", ch.table, "id", o.ID, "attempt", o.Attempts, "err", err)
	// Retry after an exponential backoff (5s, 10s, 20s, ... at most 5 min),
	// unless another dispatcher has claimed the message since (this one
	// outlived its lease) or sent it: its outcome is the current one.
	if _, uerr := s.db.ExecContext(recCtx, `UPDATE `+ch.table+` SET status = ?, last_error = ?,
			next_attempt_at = now() + make_interval(secs => least(300, 2 ^ (attempts - 1) * 5))
		WHERE id = ? AND status = 'pending' AND attempts = ?`,
		status, truncate(err.Error(), 1000), o.ID, o.Attempts); uerr != nil {
		return fmt.Errorf("record send failure: %w", uerr)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
