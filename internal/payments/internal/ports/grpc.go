package ports

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	paymentsv1 "github.com/opencommerce/commerce/api/proto/payments/v1"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
)

// GRPC serves paymentsapi.Payments over gRPC.
type GRPC struct {
	paymentsv1.UnimplementedPaymentsServiceServer
	API paymentsapi.Payments
}

// CreateIntent implements paymentsv1.PaymentsServiceServer.
func (s GRPC) CreateIntent(ctx context.Context, r *paymentsv1.CreateIntentRequest) (*paymentsv1.CreateIntentResponse, error) {
	i, err := s.API.CreateIntent(ctx, r.GetOrderId(), r.GetUserId(), r.GetGateway(), r.GetAmount(), r.GetCurrency())
	if err != nil {
		return nil, err
	}
	return &paymentsv1.CreateIntentResponse{Intent: &paymentsv1.Intent{PaymentId: i.PaymentID, Gateway: i.Gateway, IntentId: i.IntentID, ClientSecret: i.ClientSecret, Status: i.Status}}, nil
}

// RequestCancel implements paymentsv1.PaymentsServiceServer.
func (s GRPC) RequestCancel(ctx context.Context, r *paymentsv1.RequestCancelRequest) (*paymentsv1.RequestCancelResponse, error) {
	return &paymentsv1.RequestCancelResponse{}, s.API.RequestCancel(ctx, r.GetOrderId())
}

// Refund implements paymentsv1.PaymentsServiceServer.
func (s GRPC) Refund(ctx context.Context, r *paymentsv1.RefundRequest) (*paymentsv1.RefundResponse, error) {
	f, err := s.API.Refund(ctx, r.GetOrderId(), r.GetAmount(), r.GetReason(), r.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	return &paymentsv1.RefundResponse{Refund: &paymentsv1.RefundResult{Id: f.ID, Amount: f.Amount, Status: f.Status, TotalRefunded: f.TotalRefunded, CreatedAt: timestamppb.New(f.CreatedAt)}}, nil
}

// ListGateways implements paymentsv1.PaymentsServiceServer.
func (s GRPC) ListGateways(ctx context.Context, _ *paymentsv1.ListGatewaysRequest) (*paymentsv1.ListGatewaysResponse, error) {
	gws, err := s.API.Gateways(ctx)
	if err != nil {
		return nil, err
	}
	out := &paymentsv1.ListGatewaysResponse{Gateways: make([]*paymentsv1.Gateway, len(gws))}
	for i, g := range gws {
		out.Gateways[i] = &paymentsv1.Gateway{Name: g.Name, DisplayName: g.DisplayName, Test: g.Test}
	}
	return out, nil
}

// ReviewSummary implements paymentsv1.PaymentsServiceServer.
func (s GRPC) ReviewSummary(ctx context.Context, r *paymentsv1.ReviewSummaryRequest) (*paymentsv1.ReviewSummaryResponse, error) {
	limit := r.GetLimit()
	if limit > 1<<20 || limit < -1<<20 {
		limit = -1 // out of any valid range: refused by validation, never wrapped
	}
	sum, err := s.API.ReviewSummary(ctx, int(limit))
	if err != nil {
		return nil, err
	}
	out := &paymentsv1.ReviewSummaryResponse{AmountMismatch: int64(sum.AmountMismatch), Failed: int64(sum.Failed),
		Items: make([]*paymentsv1.ReviewItem, len(sum.Items))}
	for i, it := range sum.Items {
		out.Items[i] = &paymentsv1.ReviewItem{Id: it.ID, OrderId: it.OrderID, Status: it.Status, Amount: it.Amount, Currency: it.Currency,
			UpdatedAt: timestamppb.New(it.UpdatedAt)}
	}
	return out, nil
}
