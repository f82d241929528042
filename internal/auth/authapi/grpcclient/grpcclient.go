// Package grpcclient implements authapi.Auth over gRPC.
package grpcclient

import (
	"context"

	"google.golang.org/grpc"

	authv1 "github.com/opencommerce/commerce/api/proto/auth/v1"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// Client is the remote auth context.
type Client struct{ c authv1.AuthServiceClient }

// New wraps a connection.
func New(conn grpc.ClientConnInterface) *Client { return &Client{c: authv1.NewAuthServiceClient(conn)} }

// User implements authapi.Auth.
func (c *Client) User(ctx context.Context, id string) (authapi.User, error) {
	r, err := c.c.GetUser(ctx, &authv1.GetUserRequest{Id: id})
	if err != nil {
		return authapi.User{}, grpcx.FromStatus(err)
	}
	u := r.GetUser()
	return authapi.User{ID: u.GetId(), Email: u.GetEmail(), Name: u.GetName(), Role: u.GetRole(), Status: u.GetStatus()}, nil
}

// Address implements authapi.Auth.
func (c *Client) Address(ctx context.Context, userID, addressID string) (authapi.Address, error) {
	r, err := c.c.GetAddress(ctx, &authv1.GetAddressRequest{UserId: userID, AddressId: addressID})
	if err != nil {
		return authapi.Address{}, grpcx.FromStatus(err)
	}
	a := r.GetAddress()
	return authapi.Address{ID: a.GetId(), Label: a.GetLabel(), Line1: a.GetLine1(), Line2: a.GetLine2(), City: a.GetCity(), Region: a.GetRegion(),
		PostalCode: a.GetPostalCode(), Country: a.GetCountry(), Phone: a.GetPhone(), IsDefault: a.GetIsDefault()}, nil
}
