package ports

import (
	"context"
	"time"

	catalogv1 "github.com/opencommerce/commerce/api/proto/catalog/v1"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
)

// GRPC serves catalogapi.Catalog over gRPC, on the same facade as in-process.
type GRPC struct {
	catalogv1.UnimplementedCatalogServiceServer
	api catalogapi.Catalog
}

// NewGRPC builds the server.
func NewGRPC(api catalogapi.Catalog) *GRPC { return &GRPC{api: api} }

// GetProduct implements catalogv1.CatalogServiceServer.
func (g *GRPC) GetProduct(ctx context.Context, r *catalogv1.GetProductRequest) (*catalogv1.GetProductResponse, error) {
	p, err := g.api.Product(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetProductResponse{Product: grpcclient.ToProto(p)}, nil
}

// GetProducts implements catalogv1.CatalogServiceServer.
func (g *GRPC) GetProducts(ctx context.Context, r *catalogv1.GetProductsRequest) (*catalogv1.GetProductsResponse, error) {
	ps, err := g.api.Products(ctx, r.GetIds())
	if err != nil {
		return nil, err
	}
	out := &catalogv1.GetProductsResponse{}
	for _, p := range ps {
		out.Products = append(out.Products, grpcclient.ToProto(p))
	}
	return out, nil
}

// Reserve implements catalogv1.CatalogServiceServer.
func (g *GRPC) Reserve(ctx context.Context, r *catalogv1.ReserveRequest) (*catalogv1.ReserveResponse, error) {
	lines := make([]catalogapi.Line, len(r.GetLines()))
	for i, l := range r.GetLines() {
		lines[i] = catalogapi.Line{ProductID: l.GetProductId(), Quantity: int(l.GetQuantity())}
	}
	var exp *time.Time
	if r.ExpiresAt != nil {
		t := r.GetExpiresAt().AsTime()
		exp = &t
	}
	return &catalogv1.ReserveResponse{}, g.api.Reserve(ctx, r.GetOrderId(), lines, exp)
}

// Release implements catalogv1.CatalogServiceServer.
func (g *GRPC) Release(ctx context.Context, r *catalogv1.ReleaseRequest) (*catalogv1.ReleaseResponse, error) {
	return &catalogv1.ReleaseResponse{}, g.api.Release(ctx, r.GetOrderId(), r.GetReason())
}

// Commit implements catalogv1.CatalogServiceServer.
func (g *GRPC) Commit(ctx context.Context, r *catalogv1.CommitRequest) (*catalogv1.CommitResponse, error) {
	return &catalogv1.CommitResponse{}, g.api.Commit(ctx, r.GetOrderId())
}

// ListProducts implements catalogv1.CatalogServiceServer.
func (g *GRPC) ListProducts(ctx context.Context, r *catalogv1.ListProductsRequest) (*catalogv1.ListProductsResponse, error) {
	items, total, err := g.api.Page(ctx, r.GetAfter(), int(r.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &catalogv1.ListProductsResponse{Total: int64(total), Products: make([]*catalogv1.Product, len(items))}
	for i, p := range items {
		out.Products[i] = grpcclient.ToProto(p)
	}
	return out, nil
}

// LowStock implements catalogv1.CatalogServiceServer.
func (g *GRPC) LowStock(ctx context.Context, r *catalogv1.LowStockRequest) (*catalogv1.LowStockResponse, error) {
	items, err := g.api.LowStock(ctx, clampInt(r.GetThreshold()), clampInt(r.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &catalogv1.LowStockResponse{Items: make([]*catalogv1.LowStockItem, len(items))}
	for i, it := range items {
		out.Items[i] = &catalogv1.LowStockItem{ProductId: it.ProductID, Sku: it.SKU, Name: it.Name, Available: int64(it.Available)}
	}
	return out, nil
}

// clampInt narrows a wire int64 to int without wrapping around, so an
// out-of-range value is refused by validation instead of becoming another.
func clampInt(v int64) int {
	const lim = 1 << 31
	switch {
	case v > lim:
		return lim
	case v < -lim:
		return -lim
	}
	return int(v)
}
