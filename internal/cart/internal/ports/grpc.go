package ports

import (
	"context"

	cartv1 "github.com/opencommerce/commerce/api/proto/cart/v1"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi/grpcclient"
)

// GRPC serves cartapi.Cart over gRPC.
type GRPC struct {
	cartv1.UnimplementedCartServiceServer
	API cartapi.Cart
}

// GetCheckoutSession implements cartv1.CartServiceServer.
func (s GRPC) GetCheckoutSession(ctx context.Context, r *cartv1.GetCheckoutSessionRequest) (*cartv1.GetCheckoutSessionResponse, error) {
	sess, err := s.API.CheckoutSession(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	return &cartv1.GetCheckoutSessionResponse{Session: grpcclient.ToProto(sess)}, nil
}

// PlaceOrder implements cartv1.CartServiceServer.
func (s GRPC) PlaceOrder(ctx context.Context, r *cartv1.PlaceOrderRequest) (*cartv1.PlaceOrderResponse, error) {
	return &cartv1.PlaceOrderResponse{}, s.API.PlaceOrder(ctx, r.GetSessionId(), r.GetOrderId(), r.GetUserId())
}

// ReleaseOrder implements cartv1.CartServiceServer.
func (s GRPC) ReleaseOrder(ctx context.Context, r *cartv1.ReleaseOrderRequest) (*cartv1.ReleaseOrderResponse, error) {
	return &cartv1.ReleaseOrderResponse{}, s.API.ReleaseOrder(ctx, r.GetOrderId())
}

// AbortOrder implements cartv1.CartServiceServer.
func (s GRPC) AbortOrder(ctx context.Context, r *cartv1.AbortOrderRequest) (*cartv1.AbortOrderResponse, error) {
	return &cartv1.AbortOrderResponse{}, s.API.AbortOrder(ctx, r.GetOrderId())
}
