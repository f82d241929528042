package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/adapters"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// CheckoutInput is the body of POST /checkout: address_id or address.
type CheckoutInput struct {
	AddressID      string           `json:"address_id"`
	Address        *address.Address `json:"address"`
	Courier        string           `json:"courier" validate:"required,oneof=standard express"`
	PaymentGateway string           `json:"payment_gateway" validate:"required,oneof=stripe test"`
}

// Errors of checkout.
var (
	ErrCartEmpty        = errs.New(errs.Invalid, "cart_empty", "the cart is empty")
	ErrUnavailableItems = errs.New(errs.Conflict, "cart_has_unavailable_items", "some products are archived or out of stock; update the cart")
	ErrAddressChoice    = errs.Validation(errs.Field("address_id", "send exactly one of address_id and address"))
	ErrAddressNotFound  = errs.New(errs.NotFound, "not_found", "address not found")
)

var _ cartapi.Cart = (*Service)(nil)

// Checkout freezes the cart into a session: prices, discount, shipping and
// total, valid for the session TTL. Remote calls (catalog, auth,
// fulfillment) happen before the one short transaction that stores it.
func (s *Service) Checkout(ctx context.Context, userID string, in CheckoutInput) (cartapi.Session, error) {
	if (in.AddressID == "") == (in.Address == nil) {
		return cartapi.Session{}, ErrAddressChoice
	}
	if err := s.checkGateway(ctx, in.PaymentGateway); err != nil {
		return cartapi.Session{}, err
	}
	var addr authapi.Address
	if in.AddressID != "" {
		a, err := s.auth.Address(ctx, userID, in.AddressID)
		if errors.Is(err, authapi.ErrNotFound) {
			return cartapi.Session{}, ErrAddressNotFound
		}
		if err != nil {
			return cartapi.Session{}, err
		}
		addr = a
	} else {
		a := *in.Address
		if err := a.Normalize(address.Deliverable, "address."); err != nil {
			return cartapi.Session{}, err
		}
		addr = authapi.Address{Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
	}
	view, err := s.View(ctx, userID)
	if err != nil {
		return cartapi.Session{}, err
	}
	if len(view.Items) == 0 {
		return cartapi.Session{}, ErrCartEmpty
	}
	var bad []errs.FieldError
	items := make([]cartapi.Item, len(view.Items))
	weight := 0
	for i, l := range view.Items {
		if len(l.Flags) > 0 {
			bad = append(bad, errs.Field(l.ProductID, l.Flags[0]))
		}
		items[i] = cartapi.Item{ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, UnitPrice: l.UnitPrice, Quantity: l.Quantity, LineTotal: l.LineTotal, WeightGrams: l.WeightGrams}
		weight += l.WeightGrams * l.Quantity
	}
	if len(bad) > 0 {
		e := *ErrUnavailableItems
		e.Fields = bad
		return cartapi.Session{}, &e
	}
	if view.PromoCode != nil && view.PromoError != nil {
		return cartapi.Session{}, errs.New(errs.Invalid, *view.PromoError, "the cart's promo code no longer applies: "+*view.PromoError+"; remove it to continue")
	}
	quote, err := s.fulfillment.Quote(ctx, fulfillmentapi.QuoteRequest{Country: addr.Country, WeightGrams: weight, Courier: in.Courier, Currency: deref(view.Currency)})
	if err != nil {
		return cartapi.Session{}, err
	}
	t := domain.ComputeTotals(view.Subtotal, view.Discount, quote.Cost)
	itemsJSON, _ := json.Marshal(items)
	addrJSON, _ := json.Marshal(addr)
	row := &adapters.SessionRow{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Status: cartapi.SessionPending, Items: itemsJSON,
		Subtotal: t.Subtotal, Discount: t.Discount, ShippingCost: t.Shipping, Total: t.Total, Currency: deref(view.Currency),
		Address: addrJSON, Courier: in.Courier, PaymentGateway: in.PaymentGateway, ETADays: quote.ETADays,
		ExpiresAt: s.now().Add(s.sessionTTL).UTC().Truncate(time.Millisecond)}
	if view.promotion != nil {
		row.PromoCode, row.PromotionID = &view.promotion.Code, &view.promotion.ID
	}
	if err := s.store.InsertSession(ctx, s.db, row); err != nil {
		return cartapi.Session{}, err
	}
	return toSession(row), nil
}

// checkGateway refuses a gateway the shop does not accept (stripe without
// a Stripe key) at checkout, instead of an order that fails when placed.
func (s *Service) checkGateway(ctx context.Context, name string) error {
	gws, err := s.payments.Gateways(ctx)
	if err != nil {
		return fmt.Errorf("payment gateways: %w", err)
	}
	for _, g := range gws {
		if g.Name == name {
			return nil
		}
	}
	e := *paymentsapi.ErrGatewayUnavailable
	e.Fields = []errs.FieldError{errs.Field("payment_gateway", "this shop does not accept "+name+" payments")}
	return &e
}

func toSession(r *adapters.SessionRow) cartapi.Session {
	s := cartapi.Session{ID: r.ID, UserID: r.UserID, Status: r.Status, Subtotal: r.Subtotal, Discount: r.Discount, ShippingCost: r.ShippingCost,
		Total: r.Total, Currency: r.Currency, PromoCode: r.PromoCode, Courier: r.Courier, PaymentGateway: r.PaymentGateway, ETADays: r.ETADays,
		OrderID: r.OrderID, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
	_ = json.Unmarshal(r.Items, &s.Items)
	_ = json.Unmarshal(r.Address, &s.Address)
	return s
}

// effectiveStatus reports a pending session past its expiry as expired.
func (s *Service) effectiveStatus(r *adapters.SessionRow) string {
	if r.Status == cartapi.SessionPending && !s.now().Before(r.ExpiresAt) {
		return cartapi.SessionExpired
	}
	return r.Status
}

// CheckoutSession implements cartapi.Cart.
func (s *Service) CheckoutSession(ctx context.Context, id string) (cartapi.Session, error) {
	if _, err := uuid.Parse(id); err != nil {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	r, err := s.store.Session(ctx, s.db, id, false)
	if errors.Is(err, adapters.ErrNotFound) {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	if err != nil {
		return cartapi.Session{}, err
	}
	r.Status = s.effectiveStatus(r)
	return toSession(r), nil
}

// OwnSession returns a session of the caller (others' sessions are 404).
func (s *Service) OwnSession(ctx context.Context, userID, id string) (cartapi.Session, error) {
	sess, err := s.CheckoutSession(ctx, id)
	if err == nil && sess.UserID != userID {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	return sess, err
}

// CancelSession cancels a pending session of the caller.
func (s *Service) CancelSession(ctx context.Context, userID, id string) (cartapi.Session, error) {
	if _, err := uuid.Parse(id); err != nil {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	var out cartapi.Session
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := s.store.Session(ctx, tx, id, true)
		if errors.Is(err, adapters.ErrNotFound) || (err == nil && r.UserID != userID) {
			return cartapi.ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		switch s.effectiveStatus(r) {
		case cartapi.SessionPending:
			r.Status = cartapi.SessionCanceled
			if err := s.store.SetSessionStatus(ctx, tx, id, r.Status, nil); err != nil {
				return err
			}
		case cartapi.SessionCanceled:
		case cartapi.SessionOrderPlaced:
			return cartapi.ErrSessionUsed
		default:
			return cartapi.ErrSessionExpired
		}
		out = toSession(r)
		return nil
	})
	return out, err
}

// PlaceOrder implements cartapi.Cart. The promotion row is locked by the
// conditional increment, so max_uses holds under any number of concurrent
// orders, and the once-per-customer check after it cannot race.
func (s *Service) PlaceOrder(ctx context.Context, sessionID, orderID, userID string) error {
	if _, err := uuid.Parse(sessionID); err != nil {
		return cartapi.ErrSessionNotFound
	}
	if _, err := uuid.Parse(orderID); err != nil {
		return errs.Validation(errs.Field("order_id", "must be a UUID"))
	}
	// Fast path, one statement: a pending, unexpired session without a
	// promo code. Everything else (promo counting, replays, refusals)
	// takes the locked path below.
	if res, err := s.db.ExecContext(ctx, `UPDATE cart.checkout_sessions SET status = 'order_placed', order_id = ?, updated_at = now()
		WHERE id = ? AND user_id = ? AND status = 'pending' AND expires_at > ? AND promotion_id IS NULL`, orderID, sessionID, userID, s.now()); err != nil {
		return err
	} else if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := s.store.Session(ctx, tx, sessionID, true)
		if errors.Is(err, adapters.ErrNotFound) || (err == nil && r.UserID != userID) {
			return cartapi.ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		switch s.effectiveStatus(r) {
		case cartapi.SessionPending:
		case cartapi.SessionOrderPlaced:
			if r.OrderID != nil && *r.OrderID == orderID {
				return nil
			}
			return cartapi.ErrSessionUsed
		default:
			return cartapi.ErrSessionExpired
		}
		if r.PromotionID != nil {
			ok, err := s.store.CountUse(ctx, tx, *r.PromotionID)
			if err != nil {
				return err
			}
			if !ok {
				return domain.ErrPromoExhausted
			}
			p, err := s.store.PromotionByCode(ctx, tx, deref(r.PromoCode))
			if err != nil {
				return err
			}
			if p.OncePerCustomer {
				used, err := s.store.UsedBy(ctx, tx, p.ID, userID)
				if err != nil {
					return err
				}
				if used {
					return domain.ErrPromoUsed
				}
			}
			if err := s.store.RecordUse(ctx, tx, *r.PromotionID, orderID, userID); err != nil {
				return err
			}
		}
		return s.store.SetSessionStatus(ctx, tx, sessionID, cartapi.SessionOrderPlaced, &orderID)
	})
}

// ReleaseOrder implements cartapi.Cart.
func (s *Service) ReleaseOrder(ctx context.Context, orderID string) error {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.store.ReleaseUses(ctx, tx, orderID)
	})
}

// AbortOrder implements cartapi.Cart.
func (s *Service) AbortOrder(ctx context.Context, orderID string) error {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.ReleaseUses(ctx, tx, orderID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE cart.checkout_sessions SET status = 'pending', order_id = NULL, updated_at = now()
			WHERE order_id = ? AND status = 'order_placed'`, orderID)
		return err
	})
}

// HandleOrderEvent reacts to ordering's events inside the consumer's
// transaction: a placed order empties its products from the cart (only
// now, not at checkout); an expired or canceled order gives back its promo
// code use.
func (s *Service) HandleOrderEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	switch e.Type {
	case orderingapi.EventOrderPlaced:
		if _, err := uuid.Parse(p.CheckoutSessionID); err != nil {
			return nil
		}
		r, err := s.store.Session(ctx, tx, p.CheckoutSessionID, false)
		if errors.Is(err, adapters.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var items []cartapi.Item
		if err := json.Unmarshal(r.Items, &items); err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.ProductID
		}
		c, err := s.store.LockCart(ctx, tx, uuid.Must(uuid.NewV7()).String(), r.UserID)
		if err != nil {
			return err
		}
		if _, err := s.store.DeleteItems(ctx, tx, c.ID, ids); err != nil {
			return err
		}
		c.PromoCode = nil
		if err := s.store.UpdateCart(ctx, tx, c); err != nil {
			return err
		}
		return s.resetIfEmpty(ctx, tx, c)
	case orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled:
		return s.store.ReleaseUses(ctx, tx, p.OrderID)
	}
	return nil
}

// ExpireSessions marks overdue pending sessions expired.
func (s *Service) ExpireSessions(ctx context.Context) (int64, error) {
	return s.store.ExpireSessions(ctx, s.db)
}
