// Package graph is catalog's GraphQL subgraph (Federation v2): products by
// id and by page, the Product entity other subgraphs reference, and the
// administrators' product and stock mutations (the admin role and audit
// log of REST's admin routes). It calls catalog's own app layer only. gqlgen generates generated.go,
// federation.go and models_gen.go from schema.graphqls (`make graphql`).
package graph

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/app"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: the catalog's app layer, and
// the audit log that records administrators' mutations as REST's admin
// routes are recorded (nil: not recorded).
type Resolver struct {
	Svc   *app.Service
	Audit httpx.Auditor
}

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

// productInput is REST's product body for a ProductInput, checked with the
// validator REST binds it with (httpx.Check); version and initialStock are
// the app layer's to judge (required on update, only on create).
func productInput(in ProductInput, version, initialStock int64) (app.ProductInput, error) {
	if in.Price == nil {
		return app.ProductInput{}, errs.Validation(errs.Field("price", "is required"))
	}
	price := in.Price.Amount
	out := app.ProductInput{SKU: in.Sku, Name: in.Name, Category: in.Category, Price: &price, Currency: in.Price.Currency,
		Images: in.Images, Version: int(version), InitialStock: int(initialStock)}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if in.Brand != nil {
		out.Brand = *in.Brand
	}
	if in.WeightGrams != nil {
		out.WeightGrams = int(*in.WeightGrams)
	}
	if in.Status != nil {
		out.Status = strings.ToLower(string(*in.Status))
	}
	if in.Attributes != nil {
		if err := json.Unmarshal([]byte(*in.Attributes), &out.Attributes); err != nil || out.Attributes == nil {
			return app.ProductInput{}, errs.Validation(errs.Field("attributes", "must be a JSON object"))
		}
	}
	if err := httpx.Check(out); err != nil {
		return app.ProductInput{}, err
	}
	return out, nil
}
