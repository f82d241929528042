package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/money"
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
	view, err := s.view(ctx, userID, true) // the prices it freezes: catalog's database
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
	shipping, err := money.New(quote.Cost, quote.Currency)
	if err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout: shipping quote: %w", err)
	}
	t, err := domain.ComputeTotals(view.totals.subtotal, view.totals.discount, shipping)
	if err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout: %w", err)
	}
	itemsJSON, err := json.Marshal(items)
	if err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout: encode lines: %w", err)
	}
	addrJSON, err := json.Marshal(addr)
	if err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout: encode address: %w", err)
	}
	life := domain.NewSession(s.clock.Now(), s.sessionTTL)
	row := &SessionRecord{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Status: cartapi.SessionPending, Items: itemsJSON,
		Subtotal: t.Subtotal.Amount(), Discount: t.Discount.Amount(), ShippingCost: t.Shipping.Amount(), Total: t.Total.Amount(),
		Currency: t.Subtotal.Currency(), Address: addrJSON, Courier: in.Courier, PaymentGateway: in.PaymentGateway, ETADays: quote.ETADays,
		ExpiresAt: life.ExpiresAt()}
	if view.promotion != nil {
		row.PromoCode, row.PromotionID = &view.promotion.Code, &view.promotion.ID
	}
	if err := s.store.InsertSession(ctx, row); err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout: %w", err)
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

func toSession(r *SessionRecord) cartapi.Session {
	s := cartapi.Session{ID: r.ID, UserID: r.UserID, Status: r.Status, Subtotal: r.Subtotal, Discount: r.Discount, ShippingCost: r.ShippingCost,
		Total: r.Total, Currency: r.Currency, PromoCode: r.PromoCode, Courier: r.Courier, PaymentGateway: r.PaymentGateway, ETADays: r.ETADays,
		OrderID: r.OrderID, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
	_ = json.Unmarshal(r.Items, &s.Items)
	_ = json.Unmarshal(r.Address, &s.Address)
	return s
}

// lifecycle is the stored session's lifecycle, for the domain's rules.
func lifecycle(r *SessionRecord) domain.Session {
	return domain.RestoreSession(r.Status, r.ExpiresAt, r.OrderID)
}

// CheckoutSession implements cartapi.Cart.
func (s *Service) CheckoutSession(ctx context.Context, id string) (cartapi.Session, error) {
	if _, err := uuid.Parse(id); err != nil {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	r, err := s.store.Session(ctx, id, false)
	if errors.Is(err, ErrNotFound) {
		return cartapi.Session{}, cartapi.ErrSessionNotFound
	}
	if err != nil {
		return cartapi.Session{}, fmt.Errorf("checkout session: %w", err)
	}
	r.Status = lifecycle(r).Status(s.clock.Now())
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
	err := s.store.InTx(ctx, func(ctx context.Context, repos Repos) error {
		r, err := repos.Session(ctx, id, true)
		if errors.Is(err, ErrNotFound) || (err == nil && r.UserID != userID) {
			return cartapi.ErrSessionNotFound
		}
		if err != nil {
			return fmt.Errorf("cancel checkout session: %w", err)
		}
		life := lifecycle(r)
		changed, err := life.Cancel(s.clock.Now())
		if err != nil {
			return err
		}
		if changed {
			r.Status = cartapi.SessionCanceled
			if err := repos.SetSessionStatus(ctx, id, r.Status, nil); err != nil {
				return fmt.Errorf("cancel checkout session: %w", err)
			}
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
	now := s.clock.Now()
	// Fast path, one statement: a pending, unexpired session without a
	// promo code. Everything else (promo counting, replays, refusals)
	// takes the locked path below.
	if done, err := s.store.PlaceWithoutPromotion(ctx, sessionID, orderID, userID, now); err != nil {
		return err
	} else if done {
		return nil
	}
	return s.store.InTx(ctx, func(ctx context.Context, repos Repos) error {
		r, err := repos.Session(ctx, sessionID, true)
		if errors.Is(err, ErrNotFound) || (err == nil && r.UserID != userID) {
			return cartapi.ErrSessionNotFound
		}
		if err != nil {
			return fmt.Errorf("place order %s: %w", orderID, err)
		}
		life := lifecycle(r)
		if replay, err := life.Place(orderID, now); err != nil || replay {
			return err
		}
		if r.PromotionID != nil {
			if err := s.usePromotion(ctx, repos, r, orderID, userID); err != nil {
				return err
			}
		}
		if err := repos.SetSessionStatus(ctx, sessionID, cartapi.SessionOrderPlaced, &orderID); err != nil {
			return fmt.Errorf("place order %s: %w", orderID, err)
		}
		return nil
	})
}

// usePromotion counts the session's promotion use by orderID, refusing a
// code used up or already used by the customer meanwhile.
func (s *Service) usePromotion(ctx context.Context, repos Repos, r *SessionRecord, orderID, userID string) error {
	ok, err := repos.CountUse(ctx, *r.PromotionID)
	if err != nil {
		return fmt.Errorf("place order %s: %w", orderID, err)
	}
	if !ok {
		return domain.ErrPromoExhausted
	}
	p, err := repos.PromotionByCode(ctx, deref(r.PromoCode))
	if err != nil {
		return fmt.Errorf("place order %s: %w", orderID, err)
	}
	if p.OncePerCustomer {
		used, err := repos.UsedBy(ctx, p.ID, userID)
		if err != nil {
			return fmt.Errorf("place order %s: %w", orderID, err)
		}
		if used {
			return domain.ErrPromoUsed
		}
	}
	if err := repos.RecordUse(ctx, *r.PromotionID, orderID, userID); err != nil {
		return fmt.Errorf("place order %s: %w", orderID, err)
	}
	return nil
}

// ReleaseOrder implements cartapi.Cart.
func (s *Service) ReleaseOrder(ctx context.Context, orderID string) error {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil
	}
	return s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		return r.ReleaseUses(ctx, orderID)
	})
}

// AbortOrder implements cartapi.Cart.
func (s *Service) AbortOrder(ctx context.Context, orderID string) error {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil
	}
	return s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		if err := r.ReleaseUses(ctx, orderID); err != nil {
			return err
		}
		return r.ReopenSessions(ctx, orderID)
	})
}

// HandleOrderEvent reacts to ordering's events through repos, which the
// module binds to the consumer's inbox transaction (so the effect happens
// exactly once): a placed order empties its products from the cart (only
// now, not at checkout); an expired or canceled order gives back its promo
// code use.
func (s *Service) HandleOrderEvent(ctx context.Context, repos Repos, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
	}
	switch e.Type {
	case orderingapi.EventOrderPlaced:
		if _, err := uuid.Parse(p.CheckoutSessionID); err != nil {
			return nil
		}
		r, err := repos.Session(ctx, p.CheckoutSessionID, false)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("order %s placed: %w", p.OrderID, err)
		}
		var items []cartapi.Item
		if err := json.Unmarshal(r.Items, &items); err != nil {
			return fmt.Errorf("order %s placed: lines of checkout session %s: %w", p.OrderID, r.ID, err)
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.ProductID
		}
		c, err := repos.LockCart(ctx, uuid.Must(uuid.NewV7()).String(), r.UserID)
		if err != nil {
			return fmt.Errorf("order %s placed: %w", p.OrderID, err)
		}
		if _, err := repos.DeleteItems(ctx, c.ID, ids); err != nil {
			return fmt.Errorf("order %s placed: %w", p.OrderID, err)
		}
		c.PromoCode = nil
		if err := repos.UpdateCart(ctx, c); err != nil {
			return fmt.Errorf("order %s placed: %w", p.OrderID, err)
		}
		return s.resetIfEmpty(ctx, repos, c)
	case orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled:
		return repos.ReleaseUses(ctx, p.OrderID)
	}
	return nil
}

// ExpireSessions marks pending sessions past their expiry (by the clock)
// expired.
func (s *Service) ExpireSessions(ctx context.Context) (int64, error) {
	return s.store.ExpireSessions(ctx, s.clock.Now())
}
