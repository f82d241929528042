package app

import (
	"encoding/json"
	"fmt"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
)

// OpenAPIRawTypes tells the OpenAPI document what the raw JSON columns
// hold: the checkout session's frozen lines and shipping address.
func (Order) OpenAPIRawTypes() map[string]any {
	return map[string]any{"items": []cartapi.Item{}, "address": authapi.Address{}}
}

// ItemsOf are an order's lines in the checkout session's JSON shape (the
// shape stored and served).
func ItemsOf(lines []domain.Line) []cartapi.Item {
	out := make([]cartapi.Item, len(lines))
	for i, l := range lines {
		out[i] = cartapi.Item{ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, UnitPrice: l.UnitPrice, Quantity: l.Quantity,
			LineTotal: l.LineTotal, WeightGrams: l.WeightGrams}
	}
	return out
}

// LinesOf are the checkout session's items as order lines.
func LinesOf(items []cartapi.Item) []domain.Line {
	out := make([]domain.Line, len(items))
	for i, it := range items {
		out[i] = domain.Line{ProductID: it.ProductID, SKU: it.SKU, Name: it.Name, UnitPrice: it.UnitPrice, Quantity: it.Quantity,
			LineTotal: it.LineTotal, WeightGrams: it.WeightGrams}
	}
	return out
}

// AddressJSON is an order's address in the checkout session's JSON shape.
func AddressJSON(a domain.Address) authapi.Address {
	return authapi.Address{ID: a.ID, Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode,
		Country: a.Country, Phone: a.Phone, IsDefault: a.IsDefault}
}

// AddressOf is the checkout session's address as the order's.
func AddressOf(a authapi.Address) domain.Address {
	return domain.Address{ID: a.ID, Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode,
		Country: a.Country, Phone: a.Phone, IsDefault: a.IsDefault}
}

// viewOf is the API's view of an aggregate (the order just placed).
func viewOf(o *domain.Order) (*Order, error) {
	s := o.Snapshot()
	items, err := json.Marshal(ItemsOf(s.Lines))
	if err != nil {
		return nil, fmt.Errorf("order %s items: %w", s.ID, err)
	}
	addr, err := json.Marshal(AddressJSON(s.Address))
	if err != nil {
		return nil, fmt.Errorf("order %s address: %w", s.ID, err)
	}
	return &Order{ID: s.ID, UserID: s.UserID, Email: s.Email, SessionID: s.SessionID, Status: string(s.Status), Items: items, Subtotal: s.Subtotal,
		Discount: s.Discount, ShippingCost: s.ShippingCost, Total: s.Total, Currency: s.Currency, PromoCode: s.PromoCode, Address: addr,
		Courier: s.Courier, Payment: Payment{Gateway: s.Payment.Gateway, PaymentID: s.Payment.PaymentID, IntentID: s.Payment.IntentID,
			ClientSecret: s.Payment.ClientSecret}, RefundedAmount: s.RefundedAmount, ExpiresAt: s.ExpiresAt, PaidAt: s.PaidAt,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}, nil
}
