// Package graph is cart's GraphQL subgraph (Federation v2): the caller's
// cart, its line and promo mutations, and checkout, with the same
// app-layer calls, input rules and errors as the REST routes under
// /api/v1/cart and /api/v1/checkout. Lines reference catalog's Product
// entity by id. gqlgen generates generated.go, federation.go and
// models_gen.go from schema.graphqls (`make graphql`).
package graph

import (
	_ "embed"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/app"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: cart's app layer.
type Resolver struct{ Svc *app.Service }

func toCart(c app.Cart) *Cart {
	cur := ""
	if c.Currency != nil {
		cur = *c.Currency
	}
	money := func(v int64) *Money { return &Money{Amount: v, Currency: cur} }
	out := &Cart{ID: c.ID, Items: make([]CartLine, len(c.Items)), Subtotal: money(c.Subtotal), Discount: money(c.Discount), Total: money(c.Total),
		PromoCode: c.PromoCode, PromoError: c.PromoError}
	for i, l := range c.Items {
		flags := make([]CartLineFlag, len(l.Flags))
		for j, f := range l.Flags {
			flags[j] = CartLineFlag(strings.ToUpper(f))
		}
		out.Items[i] = CartLine{Product: &Product{ID: l.ProductID}, Name: l.Name, UnitPrice: money(l.UnitPrice), Quantity: int64(l.Quantity),
			LineTotal: money(l.LineTotal), Available: int64(l.Available), Flags: flags}
	}
	return out
}

func toSession(s cartapi.Session) *CheckoutSession {
	money := func(v int64) *Money { return &Money{Amount: v, Currency: s.Currency} }
	out := &CheckoutSession{ID: s.ID, Status: CheckoutStatus(strings.ToUpper(s.Status)), Items: make([]CheckoutItem, len(s.Items)),
		Subtotal: money(s.Subtotal), Discount: money(s.Discount), ShippingCost: money(s.ShippingCost), Total: money(s.Total),
		PromoCode: s.PromoCode, Courier: Courier(strings.ToUpper(s.Courier)), PaymentGateway: PaymentGateway(strings.ToUpper(s.PaymentGateway)),
		EtaDays: int64(s.ETADays), OrderID: s.OrderID, ExpiresAt: s.ExpiresAt.UTC().Format(time.RFC3339Nano)}
	for i, it := range s.Items {
		out.Items[i] = CheckoutItem{Product: &Product{ID: it.ProductID}, Sku: it.SKU, Name: it.Name, Quantity: int64(it.Quantity),
			UnitPrice: money(it.UnitPrice), LineTotal: money(it.LineTotal)}
	}
	return out
}

// checkoutInput is the REST body a CheckoutInput stands for; like REST's
// JSON decoding, no string may hold NUL.
func checkoutInput(in CheckoutInput) (app.CheckoutInput, error) {
	out := app.CheckoutInput{Courier: strings.ToLower(string(in.Courier)), PaymentGateway: strings.ToLower(string(in.PaymentGateway))}
	if in.AddressID != nil {
		out.AddressID = *in.AddressID
	}
	if a := in.Address; a != nil {
		s := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		out.Address = &address.Address{Label: s(a.Label), Line1: s(a.Line1), Line2: s(a.Line2), City: s(a.City), Region: s(a.Region),
			PostalCode: s(a.PostalCode), Country: a.Country, Phone: s(a.Phone)}
		for name, v := range map[string]string{"label": out.Address.Label, "line1": out.Address.Line1, "line2": out.Address.Line2, "city": out.Address.City,
			"region": out.Address.Region, "postalCode": out.Address.PostalCode, "country": out.Address.Country, "phone": out.Address.Phone} {
			if strings.ContainsRune(v, 0) {
				return app.CheckoutInput{}, errs.Validation(errs.Field("address."+name, "must not contain NUL characters"))
			}
		}
	}
	return out, nil
}
