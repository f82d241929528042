// Package app holds payments' use cases: intents, signed webhooks applied
// once, refunds that never exceed the captured amount, and the provider
// calls that run outside transactions with retries. The rules live in the
// domain's Payment aggregate; storage behind the Repository and Reads
// interfaces declared here (implemented in adapters).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// Service implements paymentsapi.Payments.
type Service struct {
	repo     Repository
	reads    Reads
	gateways map[string]gateway.Gateway
	log      *slog.Logger
	clock    clock.Clock
	inst     instruments // metrics.go
}

// Deps are what the service needs; Clock may be nil (the system clock).
type Deps struct {
	Repo     Repository
	Reads    Reads
	Gateways []gateway.Gateway
	Log      *slog.Logger
	// Clock decides whether a signed webhook is fresh and when a pending
	// refund counts as stuck.
	Clock clock.Clock
}

// New builds the service over the configured gateways.
func New(d Deps) *Service {
	m := map[string]gateway.Gateway{}
	for _, g := range d.Gateways {
		m[g.Name()] = g
	}
	return &Service{repo: d.Repo, reads: d.Reads, gateways: m, log: d.Log, clock: clock.Or(d.Clock)}
}

var _ paymentsapi.Payments = (*Service)(nil)

func toIntent(p *domain.Payment) paymentsapi.Intent {
	return paymentsapi.Intent{PaymentID: p.ID(), Gateway: p.Gateway(), IntentID: p.IntentID(), ClientSecret: p.ClientSecret(), Status: p.Status().String()}
}

// CreateIntent implements paymentsapi.Payments: the provider is called with
// the order id as idempotency key, outside any transaction; the payment is
// then stored once (a concurrent duplicate finds it).
func (s *Service) CreateIntent(ctx context.Context, orderID, userID, gw string, amount int64, currency string) (paymentsapi.Intent, error) {
	g, ok := s.gateways[gw]
	if !ok {
		return paymentsapi.Intent{}, paymentsapi.ErrUnknownGateway
	}
	m, err := money.New(amount, currency)
	if err != nil {
		return paymentsapi.Intent{}, fmt.Errorf("payment intent of order %s: %w", orderID, err)
	}
	intentID, secret, err := g.CreateIntent(ctx, amount, currency, orderID, "order-"+orderID)
	if err != nil {
		s.log.ErrorContext(ctx, "create payment intent", "gateway", gw, "err", err)
		return paymentsapi.Intent{}, paymentsapi.ErrGateway
	}
	// The provider call is idempotent per order (same key), so a repeat
	// gets the same intent; the payment is stored once and the stored one wins.
	p, err := domain.NewPayment(uuid.Must(uuid.NewV7()).String(), orderID, userID, gw, intentID, secret, m)
	if err != nil {
		return paymentsapi.Intent{}, fmt.Errorf("payment intent of order %s: %w", orderID, err)
	}
	stored, err := s.repo.Create(ctx, p)
	if err != nil {
		return paymentsapi.Intent{}, fmt.Errorf("store payment intent of order %s: %w", orderID, err)
	}
	return toIntent(stored), nil
}

// RequestCancel implements paymentsapi.Payments.
func (s *Service) RequestCancel(ctx context.Context, orderID string) error {
	return s.CancelForOrder(ctx, s.repo, orderID)
}

// CancelForOrder asks for the order's unpaid intent to be canceled at the
// provider (by Work, outside any transaction), through payments: the
// event consumer passes the repository of its inbox transaction, so the
// request commits with the inbox row. An order without a payment, or a
// payment past cancelling, is left alone.
func (s *Service) CancelForOrder(ctx context.Context, payments Payments, orderID string) error {
	err := payments.UpdateBy(ctx, Lookup{OrderID: orderID}, func(p *domain.Payment) error {
		p.RequestCancel(s.clock.Now())
		return nil
	})
	if errors.Is(err, paymentsapi.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("request cancel of order %s's payment: %w", orderID, err)
	}
	return nil
}

// ErrUnknownGateway is answered for webhooks of an unconfigured gateway.
var ErrUnknownGateway = errs.New(errs.NotFound, "not_found", "no such payment gateway")

// HandleWebhook verifies and applies one provider event. A replay of an
// event id is acknowledged with no second effect. State never moves
// backwards: a success after a failure wins, a failure after a success
// is ignored (the domain's transition table).
func (s *Service) HandleWebhook(ctx context.Context, gw string, body []byte, signature string) error {
	g, ok := s.gateways[gw]
	if !ok {
		return ErrUnknownGateway
	}
	ev, err := gateway.Verify(body, signature, g.WebhookSecrets(), s.clock.Now())
	if err != nil {
		return errs.New(errs.BadRequest, "invalid_signature", err.Error())
	}
	return s.apply(ctx, gw, ev)
}

// errUnknownIntent stops an Update whose payment is not the event's.
var errUnknownIntent = errors.New("the event's intent is not this payment's")

// apply records and applies one verified provider event: the one path for
// webhooks and for test-card confirmations, so both dedupe and publish
// the same way. The dedupe row, the payment's change, its events and the
// event's recorded outcome commit in one transaction.
func (s *Service) apply(ctx context.Context, gw string, ev gateway.Event) error {
	var outcome domain.Outcome // counted once committed
	err := s.repo.InTx(ctx, func(ctx context.Context, r Repository) error {
		fresh, err := r.Receive(ctx, gw, ev.ID, ev.Type)
		if err != nil {
			return fmt.Errorf("receive provider event %s: %w", ev.ID, err)
		}
		if !fresh {
			return nil // already processed
		}
		obj := ev.Data.Object
		by := Lookup{IntentID: obj.ID}
		if oid := obj.Metadata["order_id"]; oid != "" {
			if _, perr := uuid.Parse(oid); perr == nil {
				by.OrderID = oid
			}
		}
		paymentID := ""
		err = r.UpdateBy(ctx, by, func(p *domain.Payment) error {
			// An event naming one order's id in its metadata but another
			// intent is not that order's payment.
			if p.Gateway() != gw || p.IntentID() != obj.ID {
				return errUnknownIntent
			}
			paymentID = p.ID()
			var err error
			switch ev.Type {
			case "payment_intent.succeeded":
				got, cur, ok := received(ev)
				outcome, err = p.Succeeded(domain.Report{EventID: ev.ID, Amount: got, Currency: cur, Complete: ok})
				if outcome == domain.OutcomeAmountMismatch {
					s.log.ErrorContext(ctx, "payment succeeded with an amount or currency other than the intent's; order left unpaid for review",
						"payment_id", p.ID(), "order_id", p.OrderID(), "gateway", gw, "intent_id", p.IntentID(), "event_id", ev.ID,
						"expected_amount", p.Amount().Amount(), "expected_currency", p.Amount().Currency(), "received_amount", got, "received_currency", cur)
				}
			case "payment_intent.payment_failed":
				outcome, err = p.Failed()
			default:
				outcome = domain.OutcomeIgnored
			}
			return err
		})
		if errors.Is(err, paymentsapi.ErrNotFound) || errors.Is(err, errUnknownIntent) {
			s.log.WarnContext(ctx, "webhook for an unknown intent ignored", "gateway", gw, "event_id", ev.ID)
			paymentID, outcome = "", domain.OutcomeUnknownIntent
		} else if err != nil {
			return fmt.Errorf("apply provider event %s: %w", ev.ID, err)
		}
		amount := obj.AmountReceived
		if amount == nil {
			amount = obj.Amount
		}
		if err := r.Settle(ctx, ProviderOutcome{Gateway: gw, EventID: ev.ID, PaymentID: paymentID, Amount: amount,
			Currency: strings.ToUpper(obj.Currency), Outcome: string(outcome)}); err != nil {
			return fmt.Errorf("record provider event %s: %w", ev.ID, err)
		}
		return nil
	})
	if err == nil && outcome.Counted() {
		s.inst.payment(ctx, gw, string(outcome))
	}
	return err
}

// Test cards of the test gateway, as in Stripe's test mode.
const (
	CardSucceeds          = "4242424242424242"
	CardDeclined          = "4000000000000002"
	CardInsufficientFunds = "4000000000009995"
)

// Errors of test-card confirmations.
var (
	ErrCardDeclined      = errs.New(errs.Invalid, "card_declined", "the card was declined")
	ErrInsufficientFunds = errs.New(errs.Invalid, "insufficient_funds", "the card has insufficient funds")
	ErrPaymentClosed     = domain.ErrPaymentClosed
	ErrNotTestPayment    = domain.ErrNotTestPayment
	ErrTestCard          = errs.Validation(errs.Field("card_number", "use a test card: 4242 4242 4242 4242 (succeeds), 4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds)"))
)

// ConfirmTest pays (or fails) a test-gateway intent with a test card, the
// way Stripe test mode does in a browser. The outcome becomes a provider
// event with an id derived from the intent and the outcome, applied
// through exactly the webhook path (same dedupe, same events). Only the
// order's owner may confirm; anyone else gets not found.
func (s *Service) ConfirmTest(ctx context.Context, userID, intentID, card string) (string, error) {
	if _, ok := s.gateways[domain.TestGateway]; !ok {
		return "", ErrUnknownGateway
	}
	card = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, card)
	var typ, outcome string
	var decline *errs.Error
	switch card {
	case CardSucceeds:
		typ, outcome = "payment_intent.succeeded", paymentsapi.StatusSucceeded
	case CardDeclined:
		typ, outcome, decline = "payment_intent.payment_failed", "card_declined", ErrCardDeclined
	case CardInsufficientFunds:
		typ, outcome, decline = "payment_intent.payment_failed", "insufficient_funds", ErrInsufficientFunds
	default:
		return "", ErrTestCard
	}
	p, err := s.repo.Get(ctx, Lookup{IntentID: intentID})
	if errors.Is(err, paymentsapi.ErrNotFound) {
		return "", paymentsapi.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("confirm intent %s: %w", intentID, err)
	}
	if !p.OwnedBy(userID) {
		return "", paymentsapi.ErrNotFound
	}
	paid, err := p.CheckCardConfirmation(outcome == paymentsapi.StatusSucceeded)
	if err != nil {
		return "", err
	}
	if paid {
		return p.Status().String(), nil // a repeated confirmation: already paid
	}
	var ev gateway.Event
	ev.ID = "evt_card_" + strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceOID, []byte(p.IntentID()+":"+outcome)).String(), "-", "")
	ev.Type = typ
	ev.Data.Object.ID = p.IntentID()
	amount := p.Amount().Amount()
	ev.Data.Object.Amount, ev.Data.Object.AmountReceived, ev.Data.Object.Currency = &amount, &amount, strings.ToLower(p.Amount().Currency())
	ev.Data.Object.Metadata = map[string]string{"order_id": p.OrderID()}
	if err := s.apply(ctx, domain.TestGateway, ev); err != nil {
		return "", err
	}
	if decline != nil {
		return outcome, decline
	}
	after, err := s.repo.Get(ctx, Lookup{ID: p.ID()})
	if err != nil {
		return "", fmt.Errorf("confirmed payment %s: %w", p.ID(), err)
	}
	return after.Status().String(), nil
}

// received is the money a success event reports: amount_received when the
// provider sent it (Stripe does), else amount. ok is false when the event
// names no amount or no currency, which can never pay an order.
func received(ev gateway.Event) (amount int64, currency string, ok bool) {
	o := ev.Data.Object
	switch {
	case o.AmountReceived != nil:
		amount = *o.AmountReceived
	case o.Amount != nil:
		amount = *o.Amount
	default:
		return -1, o.Currency, false
	}
	return amount, o.Currency, o.Currency != ""
}

// Gateways implements paymentsapi.Payments: the configured gateways.
func (s *Service) Gateways(context.Context) ([]paymentsapi.Gateway, error) {
	out := make([]paymentsapi.Gateway, 0, len(s.gateways))
	for _, name := range []string{"stripe", "test"} {
		if _, ok := s.gateways[name]; !ok {
			continue
		}
		g := paymentsapi.Gateway{Name: name, DisplayName: "Card (Stripe)"}
		if name == "test" {
			g.DisplayName, g.Test = "Test payment (no money moves)", true
		}
		out = append(out, g)
	}
	return out, nil
}

// Refund implements paymentsapi.Payments: reserve the amount as a pending
// refund under the payment's lock (so concurrent refunds cannot add up
// past the captured amount; the aggregate refuses), call the provider
// outside the transaction with the refund id as idempotency key, then
// record the outcome.
func (s *Service) Refund(ctx context.Context, orderID string, amount int64, reason, key string) (paymentsapi.Refund, error) {
	if amount <= 0 {
		return paymentsapi.Refund{}, errs.Validation(errs.Field("amount", "must be a positive amount in minor units"))
	}
	refundID := uuid.Must(uuid.NewV7()).String()
	if key != "" {
		refundID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("refund:"+orderID+":"+key)).String()
	}
	var p *domain.Payment
	var r *domain.Refund
	err := s.repo.UpdateBy(ctx, Lookup{OrderID: orderID}, func(q *domain.Payment) error {
		m, err := money.New(amount, q.Amount().Currency())
		if err != nil {
			return err
		}
		p = q
		r, err = q.Refund(refundID, m, reason)
		return err
	})
	if err != nil {
		return paymentsapi.Refund{}, fmt.Errorf("refund order %s: %w", orderID, err)
	}
	if r.Status() != domain.RefundPending {
		return refundResult(p, r), nil // a retry of a finished refund
	}
	if err := s.executeRefund(ctx, p, r); err != nil {
		return paymentsapi.Refund{}, err
	}
	after, err := s.repo.Get(ctx, Lookup{ID: p.ID()})
	if err != nil {
		return paymentsapi.Refund{}, fmt.Errorf("refunded payment %s: %w", p.ID(), err)
	}
	done, ok := after.RefundByID(refundID)
	if !ok {
		return paymentsapi.Refund{}, fmt.Errorf("refund %s of payment %s: %w", refundID, p.ID(), paymentsapi.ErrNotFound)
	}
	return refundResult(after, done), nil
}

func refundResult(p *domain.Payment, r *domain.Refund) paymentsapi.Refund {
	return paymentsapi.Refund{ID: r.ID(), Amount: r.Amount().Amount(), Status: string(r.Status()), TotalRefunded: p.Refunded().Amount(),
		CreatedAt: r.CreatedAt().UTC()}
}

// executeRefund calls the provider for a pending refund (outside any
// transaction) and records the result: refund_succeeded, or the refund
// failed (its money no longer held).
func (s *Service) executeRefund(ctx context.Context, p *domain.Payment, r *domain.Refund) error {
	g, ok := s.gateways[p.Gateway()]
	if !ok {
		return paymentsapi.ErrGateway
	}
	refundID := r.ID()
	providerID, err := g.Refund(ctx, p.IntentID(), r.Amount().Amount(), refundID)
	if err != nil {
		s.log.ErrorContext(ctx, "refund at provider failed", "payment_id", p.ID(), "err", err)
		s.inst.payment(ctx, p.Gateway(), "refund_failed")
		if uerr := s.repo.Update(context.WithoutCancel(ctx), p.ID(), func(q *domain.Payment) error {
			q.RefundFailed(refundID)
			return nil
		}); uerr != nil {
			s.log.ErrorContext(ctx, "record failed refund", "payment_id", p.ID(), "refund_id", refundID, "err", uerr)
		}
		return paymentsapi.ErrGateway
	}
	refunded := false // counted once committed
	err = s.repo.Update(context.WithoutCancel(ctx), p.ID(), func(q *domain.Payment) error {
		var err error
		refunded, err = q.RefundSucceeded(refundID, providerID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record refund %s of payment %s: %w", refundID, p.ID(), err)
	}
	if refunded {
		s.inst.payment(ctx, p.Gateway(), "refunded")
	}
	return nil
}

// stuckAfter is how long a refund may stay pending before Work asks the
// provider again (with the same idempotency key).
const stuckAfter = time.Minute

// Work performs provider calls that must survive crashes: intent cancels
// that were requested, and refunds left pending by a crash (retried with
// the same idempotency key).
func (s *Service) Work(ctx context.Context) error {
	cancels, err := s.repo.PendingCancels(ctx, 20)
	if err != nil {
		return fmt.Errorf("pending intent cancels: %w", err)
	}
	for _, c := range cancels {
		if g, ok := s.gateways[c.Gateway]; ok {
			if err := g.CancelIntent(ctx, c.IntentID); err != nil {
				s.log.WarnContext(ctx, "cancel intent at provider", "payment_id", c.PaymentID, "err", err)
				continue
			}
		}
		if err := s.repo.Update(ctx, c.PaymentID, func(p *domain.Payment) error {
			p.CanceledAtProvider(s.clock.Now())
			return nil
		}); err != nil {
			return fmt.Errorf("record intent cancel of payment %s: %w", c.PaymentID, err)
		}
	}
	stuck, err := s.repo.StuckRefunds(ctx, s.clock.Now().Add(-stuckAfter), 20)
	if err != nil {
		return fmt.Errorf("stuck refunds: %w", err)
	}
	for _, sr := range stuck {
		p, err := s.repo.Get(ctx, Lookup{ID: sr.PaymentID})
		if err != nil {
			return fmt.Errorf("payment %s of stuck refund %s: %w", sr.PaymentID, sr.RefundID, err)
		}
		if r, ok := p.RefundByID(sr.RefundID); ok {
			_ = s.executeRefund(ctx, p, r)
		}
	}
	return nil
}
