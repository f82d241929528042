// Package grpcclient implements catalogapi.Catalog over gRPC, mapping
// proto messages to the same DTOs and status codes back to the same
// sentinel errors, so callers cannot tell the transports apart.
package grpcclient

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	catalogv1 "github.com/opencommerce/commerce/api/proto/catalog/v1"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// Client is the remote catalog.
type Client struct {
	c catalogv1.CatalogServiceClient
}

// New wraps a connection.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{c: catalogv1.NewCatalogServiceClient(conn)}
}

var _ catalogapi.Catalog = (*Client)(nil)

// Product implements catalogapi.Catalog.
func (c *Client) Product(ctx context.Context, id string) (catalogapi.Product, error) {
	r, err := c.c.GetProduct(ctx, &catalogv1.GetProductRequest{Id: id})
	if err != nil {
		return catalogapi.Product{}, grpcx.FromStatus(err)
	}
	return FromProto(r.GetProduct()), nil
}

// Products implements catalogapi.Catalog.
func (c *Client) Products(ctx context.Context, ids []string) (map[string]catalogapi.Product, error) {
	r, err := c.c.GetProducts(ctx, &catalogv1.GetProductsRequest{Ids: ids})
	if err != nil {
		return nil, grpcx.FromStatus(err)
	}
	out := make(map[string]catalogapi.Product, len(r.GetProducts()))
	for _, p := range r.GetProducts() {
		out[p.GetId()] = FromProto(p)
	}
	return out, nil
}

// DisplayProducts implements catalogapi.Catalog with the same call as
// Products: the catalog process answers from its database, which is at
// least as fresh as its cache.
func (c *Client) DisplayProducts(ctx context.Context, ids []string) (map[string]catalogapi.Product, error) {
	return c.Products(ctx, ids)
}

// Reserve implements catalogapi.Catalog.
func (c *Client) Reserve(ctx context.Context, orderID string, lines []catalogapi.Line, expiresAt *time.Time) error {
	req := &catalogv1.ReserveRequest{OrderId: orderID}
	for _, l := range lines {
		req.Lines = append(req.Lines, &catalogv1.Line{ProductId: l.ProductID, Quantity: int64(l.Quantity)})
	}
	if expiresAt != nil {
		req.ExpiresAt = timestamppb.New(*expiresAt)
	}
	_, err := c.c.Reserve(ctx, req)
	return grpcx.FromStatus(err)
}

// Release implements catalogapi.Catalog.
func (c *Client) Release(ctx context.Context, orderID, reason string) error {
	_, err := c.c.Release(ctx, &catalogv1.ReleaseRequest{OrderId: orderID, Reason: reason})
	return grpcx.FromStatus(err)
}

// Commit implements catalogapi.Catalog.
func (c *Client) Commit(ctx context.Context, orderID string) error {
	_, err := c.c.Commit(ctx, &catalogv1.CommitRequest{OrderId: orderID})
	return grpcx.FromStatus(err)
}

// ToProto maps a product to its message.
func ToProto(p catalogapi.Product) *catalogv1.Product {
	attrs, _ := structpb.NewStruct(p.Attributes)
	return &catalogv1.Product{Id: p.ID, Sku: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category, Brand: p.Brand,
		Attributes: attrs, Price: p.Price, Currency: p.Currency, Images: p.Images, WeightGrams: int64(p.WeightGrams), Status: p.Status,
		Stock:   &catalogv1.Stock{OnHand: int64(p.Stock.OnHand), Reserved: int64(p.Stock.Reserved), Available: int64(p.Stock.Available)},
		Version: int64(p.Version), CreatedAt: timestamppb.New(p.CreatedAt), UpdatedAt: timestamppb.New(p.UpdatedAt)}
}

// FromProto maps a message to a product.
func FromProto(m *catalogv1.Product) catalogapi.Product {
	attrs := m.GetAttributes().AsMap()
	imgs := m.GetImages()
	if imgs == nil {
		imgs = []string{}
	}
	s := m.GetStock()
	return catalogapi.Product{ID: m.GetId(), SKU: m.GetSku(), Name: m.GetName(), Description: m.GetDescription(), Category: m.GetCategory(),
		Brand: m.GetBrand(), Attributes: attrs, Price: m.GetPrice(), Currency: m.GetCurrency(), Images: imgs, WeightGrams: int(m.GetWeightGrams()),
		Status: m.GetStatus(), Version: int(m.GetVersion()), CreatedAt: m.GetCreatedAt().AsTime(), UpdatedAt: m.GetUpdatedAt().AsTime(),
		Stock: catalogapi.Stock{OnHand: int(s.GetOnHand()), Reserved: int(s.GetReserved()), Available: int(s.GetAvailable())}}
}

// Page implements catalogapi.Catalog.
func (c *Client) Page(ctx context.Context, after string, limit int) ([]catalogapi.Product, int, error) {
	r, err := c.c.ListProducts(ctx, &catalogv1.ListProductsRequest{After: after, Limit: int64(limit)})
	if err != nil {
		return nil, 0, grpcx.FromStatus(err)
	}
	out := make([]catalogapi.Product, len(r.GetProducts()))
	for i, p := range r.GetProducts() {
		out[i] = FromProto(p)
	}
	return out, int(r.GetTotal()), nil
}

// LowStock implements catalogapi.Catalog.
func (c *Client) LowStock(ctx context.Context, threshold, limit int) ([]catalogapi.LowStockItem, error) {
	r, err := c.c.LowStock(ctx, &catalogv1.LowStockRequest{Threshold: int64(threshold), Limit: int64(limit)})
	if err != nil {
		return nil, grpcx.FromStatus(err)
	}
	out := make([]catalogapi.LowStockItem, len(r.GetItems()))
	for i, it := range r.GetItems() {
		out[i] = catalogapi.LowStockItem{ProductID: it.GetProductId(), SKU: it.GetSku(), Name: it.GetName(), Available: int(it.GetAvailable())}
	}
	return out, nil
}
