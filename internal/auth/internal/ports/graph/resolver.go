// Package graph is auth's GraphQL subgraph (Federation v2): the caller's
// account (me) and address book, with the same app-layer calls, checks
// and errors as the REST routes under /api/v1/me. gqlgen generates
// generated.go, federation.go and models_gen.go from schema.graphqls
// (`make graphql`).
package graph

import (
	_ "embed"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/app"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: auth's app layer.
type Resolver struct{ Svc *app.Service }

func toUser(u app.User) *User {
	return &User{ID: u.ID, Email: u.Email, Name: u.Name, Role: Role(strings.ToUpper(u.Role)), Status: UserStatus(strings.ToUpper(u.Status)),
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339Nano)}
}

func toAddress(a authapi.Address) *Address {
	return &Address{ID: a.ID, Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode,
		Country: a.Country, Phone: a.Phone, IsDefault: a.IsDefault}
}

// patch is the REST body an AddressInput stands for; like REST's JSON
// decoding, no string may hold NUL.
func patch(in AddressInput) (address.Patch, error) {
	for name, v := range map[string]*string{"label": in.Label, "line1": in.Line1, "line2": in.Line2, "city": in.City, "region": in.Region,
		"postalCode": in.PostalCode, "country": in.Country, "phone": in.Phone} {
		if v != nil && strings.ContainsRune(*v, 0) {
			return address.Patch{}, errs.Validation(errs.Field(name, "must not contain NUL characters"))
		}
	}
	return address.Patch{Label: in.Label, Line1: in.Line1, Line2: in.Line2, City: in.City, Region: in.Region, PostalCode: in.PostalCode,
		Country: in.Country, Phone: in.Phone, IsDefault: in.IsDefault}, nil
}
