// Package notifyapi is what other contexts may import from notify: the
// notification kinds it knows. Notify is driven by events, so there is no
// call interface.
package notifyapi

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
)

// LiveChannelPrefix + a user id is the Redis channel on which every
// notification of the user is published as it is created (the JSON of
// the REST list's items, with "seq"): the SSE streams and the GraphQL
// notifications/orderStatus subscriptions read it, in any process.
const LiveChannelPrefix = "notify:user:"
