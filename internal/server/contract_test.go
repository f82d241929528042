package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	authgrpc "github.com/opencommerce/commerce/internal/auth/authapi/grpcclient"
	"github.com/opencommerce/commerce/internal/cart"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	cartgrpc "github.com/opencommerce/commerce/internal/cart/cartapi/grpcclient"
	"github.com/opencommerce/commerce/internal/fulfillment"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	fulfillmentgrpc "github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi/grpcclient"
	"github.com/opencommerce/commerce/internal/payments"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	paymentsgrpc "github.com/opencommerce/commerce/internal/payments/paymentsapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/grpcx/grpctest"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// Contract suites of cart, payments, fulfillment and auth: each runs
// against the in-process facade and the gRPC client over bufconn.
func TestCrossContextContracts(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "a@shop.test", "admin-password" })
	ctx := context.Background()
	admin := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@shop.test", "password": "admin-password"}, "").Str("access_token")
	who, _ := e.Server.Keys.Verifier().Verify(admin)
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "C1", "name": "C1", "category": "c", "price": 900, "currency": "USD", "weight_grams": 1200, "initial_stock": 50}, admin).Str("id")
	addrID := e.Do("POST", "/api/v1/me/addresses", map[string]any{"line1": "1 St", "city": "Berlin", "postal_code": "10115", "country": "DE"}, admin).Str("id")

	t.Run("fulfillment", func(t *testing.T) {
		conn := grpctest.Serve(t, e.Server.Hosted("fulfillment").(*fulfillment.Module).RegisterGRPC)
		for name, api := range map[string]fulfillmentapi.Fulfillment{"in-process": e.Server.Hosted("fulfillment").(*fulfillment.Module).API(), "grpc": fulfillmentgrpc.New(conn)} {
			q, err := api.Quote(ctx, fulfillmentapi.QuoteRequest{Country: "de", WeightGrams: 1200, Courier: "standard", Currency: "USD"})
			if err != nil || q.Cost != 1079 || q.Zone != "EU" || q.ETADays != 6 {
				t.Fatalf("%s: %+v %v", name, q, err)
			}
			if _, err := api.Quote(ctx, fulfillmentapi.QuoteRequest{Country: "DE", WeightGrams: 10_000_000, Courier: "standard", Currency: "USD"}); !errors.Is(err, fulfillmentapi.ErrNoRate) {
				t.Fatalf("%s: no rate: %v", name, err)
			}
			_, err = api.Quote(ctx, fulfillmentapi.QuoteRequest{Country: "DE", Courier: "drone", Currency: "USD"})
			if e, ok := errs.As(err); !ok || e.Code != "validation_failed" || len(e.Fields) != 1 || e.Fields[0].Field != "courier" {
				t.Fatalf("%s: validation: %v", name, err)
			}
		}
	})
	t.Run("auth", func(t *testing.T) {
		conn := grpctest.Serve(t, e.Server.Hosted("auth").(*auth.Module).RegisterGRPC)
		for name, api := range map[string]authapi.Auth{"in-process": e.Server.Hosted("auth").(*auth.Module).API(), "grpc": authgrpc.New(conn)} {
			if u, err := api.User(ctx, who.UserID); err != nil || u.Email != "a@shop.test" || u.Role != "admin" {
				t.Fatalf("%s: %+v %v", name, u, err)
			}
			if _, err := api.User(ctx, uuid.NewString()); !errors.Is(err, authapi.ErrNotFound) {
				t.Fatalf("%s: unknown user: %v", name, err)
			}
			if a, err := api.Address(ctx, who.UserID, addrID); err != nil || a.City != "Berlin" || !a.IsDefault {
				t.Fatalf("%s: address %+v %v", name, a, err)
			}
			if _, err := api.Address(ctx, uuid.NewString(), addrID); !errors.Is(err, authapi.ErrNotFound) {
				t.Fatalf("%s: someone else's address: %v", name, err)
			}
		}
	})
	t.Run("cart", func(t *testing.T) {
		conn := grpctest.Serve(t, e.Server.Hosted("cart").(*cart.Module).RegisterGRPC)
		for name, api := range map[string]cartapi.Cart{"in-process": e.Server.Hosted("cart").(*cart.Module).API(), "grpc": cartgrpc.New(conn)} {
			e.Do("DELETE", "/api/v1/cart/items/"+pid, nil, admin)
			e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 2}, admin)
			sid := e.Do("POST", "/api/v1/checkout", map[string]any{"address_id": addrID, "courier": "express", "payment_gateway": "test"}, admin).Str("checkout_session_id")
			s, err := api.CheckoutSession(ctx, sid)
			if err != nil || s.UserID != who.UserID || s.Status != "pending" || len(s.Items) != 1 || s.Items[0].Quantity != 2 || s.Address.City != "Berlin" || s.Total != s.Subtotal-s.Discount+s.ShippingCost {
				t.Fatalf("%s: session %+v %v", name, s, err)
			}
			if _, err := api.CheckoutSession(ctx, uuid.NewString()); !errors.Is(err, cartapi.ErrSessionNotFound) {
				t.Fatalf("%s: unknown session: %v", name, err)
			}
			order := uuid.Must(uuid.NewV7()).String()
			if err := api.PlaceOrder(ctx, sid, order, uuid.NewString()); !errors.Is(err, cartapi.ErrSessionNotFound) {
				t.Fatalf("%s: other user: %v", name, err)
			}
			if err := api.PlaceOrder(ctx, sid, order, who.UserID); err != nil {
				t.Fatal(err)
			}
			if err := api.PlaceOrder(ctx, sid, order, who.UserID); err != nil {
				t.Fatalf("%s: repeat: %v", name, err)
			}
			if err := api.PlaceOrder(ctx, sid, uuid.Must(uuid.NewV7()).String(), who.UserID); !errors.Is(err, cartapi.ErrSessionUsed) {
				t.Fatalf("%s: second order: %v", name, err)
			}
			if err := api.AbortOrder(ctx, order); err != nil {
				t.Fatal(err)
			}
			if s, _ := api.CheckoutSession(ctx, sid); s.Status != "pending" || s.OrderID != nil {
				t.Fatalf("%s: after abort: %+v", name, s)
			}
			if err := api.ReleaseOrder(ctx, order); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("payments", func(t *testing.T) {
		conn := grpctest.Serve(t, e.Server.Hosted("payments").(*payments.Module).RegisterGRPC)
		for name, api := range map[string]paymentsapi.Payments{"in-process": e.Server.Hosted("payments").(*payments.Module).API(), "grpc": paymentsgrpc.New(conn)} {
			order := uuid.Must(uuid.NewV7()).String()
			i1, err := api.CreateIntent(ctx, order, uuid.Must(uuid.NewV7()).String(), "test", 1234, "USD")
			if err != nil || i1.IntentID == "" || i1.Status != "requires_payment" {
				t.Fatalf("%s: %+v %v", name, i1, err)
			}
			i2, err := api.CreateIntent(ctx, order, uuid.Must(uuid.NewV7()).String(), "test", 1234, "USD")
			if err != nil || i2.PaymentID != i1.PaymentID || i2.ClientSecret != i1.ClientSecret {
				t.Fatalf("%s: not idempotent: %+v %+v", name, i1, i2)
			}
			if _, err := api.CreateIntent(ctx, uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), "paypal", 1, "USD"); !errors.Is(err, paymentsapi.ErrUnknownGateway) {
				t.Fatalf("%s: gateway: %v", name, err)
			}
			if _, err := api.Refund(ctx, order, 100, "x", "k"); !errors.Is(err, paymentsapi.ErrNotCaptured) {
				t.Fatalf("%s: uncaptured refund: %v", name, err)
			}
			if err := api.RequestCancel(ctx, order); err != nil {
				t.Fatal(err)
			}
		}
	})
}
