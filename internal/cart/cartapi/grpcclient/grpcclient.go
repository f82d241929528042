// Package grpcclient implements cartapi.Cart over gRPC.
package grpcclient

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	cartv1 "github.com/opencommerce/commerce/api/proto/cart/v1"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// Client is the remote cart context.
type Client struct{ c cartv1.CartServiceClient }

// New wraps a connection.
func New(conn grpc.ClientConnInterface) *Client { return &Client{c: cartv1.NewCartServiceClient(conn)} }

var _ cartapi.Cart = (*Client)(nil)

// CheckoutSession implements cartapi.Cart.
func (c *Client) CheckoutSession(ctx context.Context, id string) (cartapi.Session, error) {
	r, err := c.c.GetCheckoutSession(ctx, &cartv1.GetCheckoutSessionRequest{Id: id})
	if err != nil {
		return cartapi.Session{}, grpcx.FromStatus(err)
	}
	return FromProto(r.GetSession()), nil
}

// PlaceOrder implements cartapi.Cart.
func (c *Client) PlaceOrder(ctx context.Context, sessionID, orderID, userID string) error {
	_, err := c.c.PlaceOrder(ctx, &cartv1.PlaceOrderRequest{SessionId: sessionID, OrderId: orderID, UserId: userID})
	return grpcx.FromStatus(err)
}

// ReleaseOrder implements cartapi.Cart.
func (c *Client) ReleaseOrder(ctx context.Context, orderID string) error {
	_, err := c.c.ReleaseOrder(ctx, &cartv1.ReleaseOrderRequest{OrderId: orderID})
	return grpcx.FromStatus(err)
}

// AbortOrder implements cartapi.Cart.
func (c *Client) AbortOrder(ctx context.Context, orderID string) error {
	_, err := c.c.AbortOrder(ctx, &cartv1.AbortOrderRequest{OrderId: orderID})
	return grpcx.FromStatus(err)
}

// ToProto maps a session to its message.
func ToProto(s cartapi.Session) *cartv1.CheckoutSession {
	m := &cartv1.CheckoutSession{Id: s.ID, UserId: s.UserID, Status: s.Status, Subtotal: s.Subtotal, Discount: s.Discount, ShippingCost: s.ShippingCost,
		Total: s.Total, Currency: s.Currency, PromoCode: s.PromoCode, Courier: s.Courier, PaymentGateway: s.PaymentGateway, EtaDays: int64(s.ETADays),
		OrderId: s.OrderID, ExpiresAt: timestamppb.New(s.ExpiresAt), CreatedAt: timestamppb.New(s.CreatedAt),
		Address: &cartv1.Address{Label: s.Address.Label, Line1: s.Address.Line1, Line2: s.Address.Line2, City: s.Address.City, Region: s.Address.Region,
			PostalCode: s.Address.PostalCode, Country: s.Address.Country, Phone: s.Address.Phone}}
	for _, it := range s.Items {
		m.Items = append(m.Items, &cartv1.Item{ProductId: it.ProductID, Sku: it.SKU, Name: it.Name, UnitPrice: it.UnitPrice, Quantity: int64(it.Quantity),
			LineTotal: it.LineTotal, WeightGrams: int64(it.WeightGrams)})
	}
	return m
}

// FromProto maps a message to a session.
func FromProto(m *cartv1.CheckoutSession) cartapi.Session {
	a := m.GetAddress()
	s := cartapi.Session{ID: m.GetId(), UserID: m.GetUserId(), Status: m.GetStatus(), Subtotal: m.GetSubtotal(), Discount: m.GetDiscount(),
		ShippingCost: m.GetShippingCost(), Total: m.GetTotal(), Currency: m.GetCurrency(), PromoCode: m.PromoCode, Courier: m.GetCourier(),
		PaymentGateway: m.GetPaymentGateway(), ETADays: int(m.GetEtaDays()), OrderID: m.OrderId, ExpiresAt: m.GetExpiresAt().AsTime(),
		CreatedAt: m.GetCreatedAt().AsTime(), Items: []cartapi.Item{},
		Address: authapi.Address{Label: a.GetLabel(), Line1: a.GetLine1(), Line2: a.GetLine2(), City: a.GetCity(), Region: a.GetRegion(),
			PostalCode: a.GetPostalCode(), Country: a.GetCountry(), Phone: a.GetPhone()}}
	for _, it := range m.GetItems() {
		s.Items = append(s.Items, cartapi.Item{ProductID: it.GetProductId(), SKU: it.GetSku(), Name: it.GetName(), UnitPrice: it.GetUnitPrice(),
			Quantity: int(it.GetQuantity()), LineTotal: it.GetLineTotal(), WeightGrams: int(it.GetWeightGrams())})
	}
	return s
}
