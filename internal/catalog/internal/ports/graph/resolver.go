// Package graph is catalog's GraphQL subgraph (Federation v2): products by
// id and by page, and the Product entity other subgraphs reference. It
// calls catalog's own app layer only. gqlgen generates generated.go,
// federation.go and models_gen.go from schema.graphqls (`make graphql`).
package graph

import (
	"context"
	_ "embed"
	"time"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/app"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: the catalog's app layer.
type Resolver struct{ Svc *app.Service }

// maxPage bounds a products page like the REST limit does.
const maxPage = 100

func toProduct(p catalogapi.Product) *Product {
	images := p.Images
	if images == nil {
		images = []string{}
	}
	status := ProductStatusActive
	if p.Status == catalogapi.StatusArchived {
		status = ProductStatusArchived
	}
	return &Product{ID: p.ID, Sku: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category, Brand: p.Brand,
		Price: &Money{Amount: p.Price, Currency: p.Currency}, Images: images, WeightGrams: int64(p.WeightGrams), Status: status,
		Stock:   &Stock{OnHand: int64(p.Stock.OnHand), Reserved: int64(p.Stock.Reserved), Available: int64(p.Stock.Available)},
		Version: int64(p.Version), CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}

// products resolves a batch of product ids with one query; unknown ids
// come back nil, in the order asked.
func (r *Resolver) products(ctx context.Context, ids []string) ([]*Product, error) {
	m, err := r.Svc.Products(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*Product, len(ids))
	for i, id := range ids {
		if p, ok := m[id]; ok {
			out[i] = toProduct(p)
		}
	}
	return out, nil
}
