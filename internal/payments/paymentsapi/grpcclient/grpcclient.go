// Package grpcclient implements paymentsapi.Payments over gRPC.
package grpcclient

import (
	"context"

	"google.golang.org/grpc"

	paymentsv1 "github.com/opencommerce/commerce/api/proto/payments/v1"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// NotRetried lists methods a client must not retry blindly: a refund
// without an idempotency key could be applied twice.
var NotRetried = []string{paymentsv1.PaymentsService_Refund_FullMethodName}

// Client is the remote payments context.
type Client struct {
	c paymentsv1.PaymentsServiceClient
}

// New wraps a connection.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{c: paymentsv1.NewPaymentsServiceClient(conn)}
}

// CreateIntent implements paymentsapi.Payments.
func (c *Client) CreateIntent(ctx context.Context, orderID, userID, gateway string, amount int64, currency string) (paymentsapi.Intent, error) {
	r, err := c.c.CreateIntent(ctx, &paymentsv1.CreateIntentRequest{OrderId: orderID, UserId: userID, Gateway: gateway, Amount: amount, Currency: currency})
	if err != nil {
		return paymentsapi.Intent{}, grpcx.FromStatus(err)
	}
	i := r.GetIntent()
	return paymentsapi.Intent{PaymentID: i.GetPaymentId(), Gateway: i.GetGateway(), IntentID: i.GetIntentId(), ClientSecret: i.GetClientSecret(), Status: i.GetStatus()}, nil
}

// RequestCancel implements paymentsapi.Payments.
func (c *Client) RequestCancel(ctx context.Context, orderID string) error {
	_, err := c.c.RequestCancel(ctx, &paymentsv1.RequestCancelRequest{OrderId: orderID})
	return grpcx.FromStatus(err)
}

// Refund implements paymentsapi.Payments.
func (c *Client) Refund(ctx context.Context, orderID string, amount int64, reason, key string) (paymentsapi.Refund, error) {
	r, err := c.c.Refund(ctx, &paymentsv1.RefundRequest{OrderId: orderID, Amount: amount, Reason: reason, IdempotencyKey: key})
	if err != nil {
		return paymentsapi.Refund{}, grpcx.FromStatus(err)
	}
	f := r.GetRefund()
	return paymentsapi.Refund{ID: f.GetId(), Amount: f.GetAmount(), Status: f.GetStatus(), TotalRefunded: f.GetTotalRefunded(), CreatedAt: f.GetCreatedAt().AsTime()}, nil
}

// Gateways implements paymentsapi.Payments.
func (c *Client) Gateways(ctx context.Context) ([]paymentsapi.Gateway, error) {
	r, err := c.c.ListGateways(ctx, &paymentsv1.ListGatewaysRequest{})
	if err != nil {
		return nil, grpcx.FromStatus(err)
	}
	out := make([]paymentsapi.Gateway, len(r.GetGateways()))
	for i, g := range r.GetGateways() {
		out[i] = paymentsapi.Gateway{Name: g.GetName(), DisplayName: g.GetDisplayName(), Test: g.GetTest()}
	}
	return out, nil
}

// ReviewSummary implements paymentsapi.Payments.
func (c *Client) ReviewSummary(ctx context.Context, limit int) (paymentsapi.ReviewSummary, error) {
	r, err := c.c.ReviewSummary(ctx, &paymentsv1.ReviewSummaryRequest{Limit: int64(limit)})
	if err != nil {
		return paymentsapi.ReviewSummary{}, grpcx.FromStatus(err)
	}
	out := paymentsapi.ReviewSummary{AmountMismatch: int(r.GetAmountMismatch()), Failed: int(r.GetFailed()), Items: make([]paymentsapi.ReviewItem, len(r.GetItems()))}
	for i, it := range r.GetItems() {
		out.Items[i] = paymentsapi.ReviewItem{ID: it.GetId(), OrderID: it.GetOrderId(), Status: it.GetStatus(), Amount: it.GetAmount(),
			Currency: it.GetCurrency(), UpdatedAt: it.GetUpdatedAt().AsTime()}
	}
	return out, nil
}
