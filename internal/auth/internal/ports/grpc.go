package ports

import (
	"context"

	authv1 "github.com/opencommerce/commerce/api/proto/auth/v1"
	"github.com/opencommerce/commerce/internal/auth/authapi"
)

// GRPC serves authapi.Auth over gRPC.
type GRPC struct {
	authv1.UnimplementedAuthServiceServer
	API authapi.Auth
}

// GetUser implements authv1.AuthServiceServer.
func (s GRPC) GetUser(ctx context.Context, r *authv1.GetUserRequest) (*authv1.GetUserResponse, error) {
	u, err := s.API.User(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	return &authv1.GetUserResponse{User: &authv1.User{Id: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Status: u.Status}}, nil
}

// GetAddress implements authv1.AuthServiceServer.
func (s GRPC) GetAddress(ctx context.Context, r *authv1.GetAddressRequest) (*authv1.GetAddressResponse, error) {
	a, err := s.API.Address(ctx, r.GetUserId(), r.GetAddressId())
	if err != nil {
		return nil, err
	}
	return &authv1.GetAddressResponse{Address: &authv1.Address{Id: a.ID, Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region,
		PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone, IsDefault: a.IsDefault}}, nil
}
