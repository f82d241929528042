// Package grpcclient implements fulfillmentapi.Fulfillment over gRPC.
package grpcclient

import (
	"context"

	"google.golang.org/grpc"

	fulfillmentv1 "github.com/opencommerce/commerce/api/proto/fulfillment/v1"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// Client is the remote fulfillment context.
type Client struct {
	c fulfillmentv1.FulfillmentServiceClient
}

// New wraps a connection.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{c: fulfillmentv1.NewFulfillmentServiceClient(conn)}
}

// Quote implements fulfillmentapi.Fulfillment.
func (c *Client) Quote(ctx context.Context, r fulfillmentapi.QuoteRequest) (fulfillmentapi.Quote, error) {
	q, err := c.c.Quote(ctx, &fulfillmentv1.QuoteRequest{Country: r.Country, WeightGrams: int64(r.WeightGrams), Courier: r.Courier, Currency: r.Currency})
	if err != nil {
		return fulfillmentapi.Quote{}, grpcx.FromStatus(err)
	}
	return fulfillmentapi.Quote{Courier: q.GetCourier(), Cost: q.GetCost(), Currency: q.GetCurrency(), ETADays: int(q.GetEtaDays()), Zone: q.GetZone()}, nil
}
