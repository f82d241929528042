package domain

import (
	"time"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
)

// Session is the lifecycle of a checkout session: pending until an order
// is placed from it, it is canceled, or it expires. Expiry is decided by
// the caller's clock, not by when a sweeper last ran: a pending session
// past its expiry is expired already.
type Session struct {
	status    string
	expiresAt time.Time
	orderID   *string
}

// RestoreSession rebuilds a session's lifecycle from storage.
func RestoreSession(status string, expiresAt time.Time, orderID *string) Session {
	return Session{status: status, expiresAt: expiresAt, orderID: orderID}
}

// NewSession starts a pending session valid for ttl from now; the expiry
// is kept to the millisecond, as stored.
func NewSession(now time.Time, ttl time.Duration) Session {
	return Session{status: cartapi.SessionPending, expiresAt: now.Add(ttl).UTC().Truncate(time.Millisecond)}
}

// ExpiresAt is when a pending session stops accepting an order.
func (s Session) ExpiresAt() time.Time { return s.expiresAt }

// Status is the session's status at now: a pending session at or past its
// expiry reports expired.
func (s Session) Status(now time.Time) string {
	if s.status == cartapi.SessionPending && !now.Before(s.expiresAt) {
		return cartapi.SessionExpired
	}
	return s.status
}

// Cancel cancels a pending session at now; a canceled one stays canceled
// (changed false). A used session refuses with ErrSessionUsed, an expired
// one with ErrSessionExpired.
func (s *Session) Cancel(now time.Time) (changed bool, err error) {
	switch s.Status(now) {
	case cartapi.SessionPending:
		s.status = cartapi.SessionCanceled
		return true, nil
	case cartapi.SessionCanceled:
		return false, nil
	case cartapi.SessionOrderPlaced:
		return false, cartapi.ErrSessionUsed
	}
	return false, cartapi.ErrSessionExpired
}

// Place turns a pending session into orderID at now. Placing the same
// order again is a replay (replay true, nothing to do); another order on
// a used session is ErrSessionUsed; an expired or canceled session is
// ErrSessionExpired.
func (s *Session) Place(orderID string, now time.Time) (replay bool, err error) {
	switch s.Status(now) {
	case cartapi.SessionPending:
		s.status, s.orderID = cartapi.SessionOrderPlaced, &orderID
		return false, nil
	case cartapi.SessionOrderPlaced:
		if s.orderID != nil && *s.orderID == orderID {
			return true, nil
		}
		return false, cartapi.ErrSessionUsed
	}
	return false, cartapi.ErrSessionExpired
}
