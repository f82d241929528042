package ports

import (
	"context"

	fulfillmentv1 "github.com/opencommerce/commerce/api/proto/fulfillment/v1"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
)

// GRPC serves fulfillmentapi.Fulfillment over gRPC.
type GRPC struct {
	fulfillmentv1.UnimplementedFulfillmentServiceServer
	API fulfillmentapi.Fulfillment
}

// Quote implements fulfillmentv1.FulfillmentServiceServer.
func (s GRPC) Quote(ctx context.Context, r *fulfillmentv1.QuoteRequest) (*fulfillmentv1.QuoteResponse, error) {
	q, err := s.API.Quote(ctx, fulfillmentapi.QuoteRequest{Country: r.GetCountry(), WeightGrams: int(r.GetWeightGrams()), Courier: r.GetCourier(), Currency: r.GetCurrency()})
	if err != nil {
		return nil, err
	}
	return &fulfillmentv1.QuoteResponse{Courier: q.Courier, Cost: q.Cost, Currency: q.Currency, EtaDays: int64(q.ETADays), Zone: q.Zone}, nil
}
