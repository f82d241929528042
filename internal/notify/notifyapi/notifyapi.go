// Package notifyapi is what other contexts may import from notify: the
// notification kinds it knows. Notify is driven by events, so there is no
// call interface.
package notifyapi

import "github.com/google/uuid"

// Kinds of email and in-app notifications (API.md).
const (
	KindVerifyEmail     = "verify_email"
	KindPasswordReset   = "password_reset"
	KindOrderPlaced     = "order_placed"
	KindPaymentReminder = "payment_reminder"
	KindOrderPaid       = "order_paid"
	KindOrderExpired    = "order_expired"
	KindOrderCanceled   = "order_canceled"
	KindOrderRefunded   = "order_refunded"
	KindOrderShipped    = "order_shipped"
	KindOrderDelivered  = "order_delivered"
	KindChatMessage     = "chat_message"
	// KindCartRecovery is the email of an abandoned cart.
	KindCartRecovery = "cart_recovery"
	// In-app only.
	KindWelcome       = "welcome"
	KindEmailVerified = "email_verified"
	KindPaymentFailed = "payment_failed"
	// KindPaymentReview tells administrators a payment needs review (a
	// provider reported another amount or currency than the intent's).
	KindPaymentReview = "payment_review"
	// KindWebhookDisabled tells administrators the platform disabled a
	// webhook endpoint that failed for 24 hours (in-app and email).
	KindWebhookDisabled = "webhook_disabled"
)

// LiveChannelPrefix + a user id is the Redis channel on which every
// notification of the user is published as it is created (the JSON of
// the REST list's items, with "seq"): the SSE streams and the GraphQL
// notifications/orderStatus subscriptions read it, in any process.
const LiveChannelPrefix = "notify:user:"

// DerivedID is the id of what an event causes in notify (what is "email/"
// or "sms/" plus the kind, for example): stable, so that a redelivered
// event cannot queue a second email, and an email's Message-ID is built
// from it. `commerce check` recomputes it to match order events to their
// emails.
func DerivedID(eventID, what string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(eventID+"/"+what)).String()
}
