// Package domain is payments' core: the Payment aggregate with its refunds,
// the one table of the status transitions a payment may take, and the
// rules of money (a success captures only the intent's own amount, refunds
// never add up past what was captured). It records the events a change
// causes; the repository writes them to the outbox in the change's
// transaction. No infrastructure here: no SQL, no HTTP, no provider calls.
package domain

import (
	"fmt"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Status is where a payment stands; its values are paymentsapi's status
// strings, stored as they are in payments.payments.status.
type Status string

// The statuses of a payment. AmountMismatch is reviewable: the provider
// reported a success for money other than the intent's, so nothing is paid.
const (
	StatusRequiresPayment Status = paymentsapi.StatusRequiresPayment
	StatusSucceeded       Status = paymentsapi.StatusSucceeded
	StatusFailed          Status = paymentsapi.StatusFailed
	StatusCanceled        Status = paymentsapi.StatusCanceled
	StatusAmountMismatch  Status = paymentsapi.StatusAmountMismatch
)

// Statuses lists every status, in the order an admin filter offers them.
var Statuses = []Status{StatusRequiresPayment, StatusSucceeded, StatusFailed, StatusCanceled, StatusAmountMismatch}

// transitions is the one table of the moves a payment may make; anything
// absent is refused. It encodes the rule "state never moves backwards":
//   - a provider's success wins over a failure, a cancel or an earlier
//     mismatch (the provider did take money), unless its amount or
//     currency differ from the intent's, which makes it amount_mismatch
//     again (each such report is recorded and announced);
//   - a failure only moves an unpaid intent (after anything else it is
//     ignored);
//   - only an unpaid intent is canceled;
//   - succeeded is final: refunds change amounts, never the status.
var transitions = map[Status][]Status{
	StatusRequiresPayment: {StatusSucceeded, StatusFailed, StatusCanceled, StatusAmountMismatch},
	StatusFailed:          {StatusSucceeded, StatusAmountMismatch},
	StatusCanceled:        {StatusSucceeded, StatusAmountMismatch},
	StatusAmountMismatch:  {StatusSucceeded, StatusAmountMismatch},
	StatusSucceeded:       nil,
}

// ErrTransition is returned for a move the transition table refuses.
var ErrTransition = errs.New(errs.Conflict, "invalid_payment_transition", "the payment cannot make this status change")

// ParseStatus reads a stored status, refusing an unknown one (a row the
// code does not understand must not be acted on).
func ParseStatus(s string) (Status, error) {
	if _, ok := transitions[Status(s)]; !ok {
		return "", fmt.Errorf("payment status %q: %w", s, errs.New(errs.Internal, "unknown_payment_status", "unknown payment status"))
	}
	return Status(s), nil
}

// CanBecome reports whether the table allows moving from s to to.
func (s Status) CanBecome(to Status) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// String is the stored and published form.
func (s Status) String() string { return string(s) }

// Outcome says what a provider report did to a payment; its values are
// what payments.webhook_events.outcome records and the payment metrics count.
type Outcome string

// Outcomes of a provider report.
const (
	OutcomeSucceeded        Outcome = paymentsapi.StatusSucceeded
	OutcomeFailed           Outcome = paymentsapi.StatusFailed
	OutcomeAmountMismatch   Outcome = paymentsapi.StatusAmountMismatch
	OutcomeAlreadySucceeded Outcome = "already_succeeded"
	OutcomeIgnored          Outcome = "ignored"
	OutcomeUnknownIntent    Outcome = "unknown_intent"
)

// Counted reports whether the outcome changed the payment, which the
// commerce_payments_total metric counts (an ignored or repeated report
// counts nothing).
func (o Outcome) Counted() bool {
	return o == OutcomeSucceeded || o == OutcomeFailed || o == OutcomeAmountMismatch
}
