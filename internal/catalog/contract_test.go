package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/grpcx/grpctest"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// One contract, two transports: the in-process facade and the gRPC
// client over bufconn must behave identically, errors included.
func TestCatalogContract(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "a@shop.test", "admin-password" })
	admin := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@shop.test", "password": "admin-password"}, "").Str("access_token")
	mk := func(sku string, stock int) string {
		return e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": sku, "name": sku, "category": "c", "price": 700, "currency": "EUR",
			"attributes": map[string]any{"color": "red", "size": 3.5}, "initial_stock": stock}, admin).Str("id")
	}
	conn := grpctest.Serve(t, e.Server.Hosted("catalog").(*catalog.Module).RegisterGRPC)
	transports := map[string]catalogapi.Catalog{"in-process": e.Server.Hosted("catalog").(*catalog.Module).API(), "grpc": grpcclient.New(conn)}
	for name, api := range transports {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := mk("A-"+name, 5), mk("B-"+name, 1)
			p, err := api.Product(ctx, a)
			if err != nil || p.SKU != "A-"+name || p.Stock.Available != 5 || p.Attributes["color"] != "red" || p.Price != 700 {
				t.Fatalf("product: %+v %v", p, err)
			}
			if _, err := api.Product(ctx, uuid.NewString()); !errors.Is(err, catalogapi.ErrNotFound) {
				t.Fatalf("unknown product: %v", err)
			}
			all, err := api.Products(ctx, []string{a, b, uuid.NewString()})
			if err != nil || len(all) != 2 {
				t.Fatalf("batch: %d %v", len(all), err)
			}
			shown, err := api.DisplayProducts(ctx, []string{a, b, uuid.NewString()})
			if err != nil || len(shown) != 2 || shown[a].Price != 700 || shown[b].Stock != all[b].Stock || shown[a].Attributes["size"] != 3.5 {
				t.Fatalf("display batch: %+v %v", shown, err)
			}
			order := uuid.Must(uuid.NewV7()).String()
			exp := time.Now().Add(time.Hour)
			err = api.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 1}, {ProductID: b, Quantity: 2}}, &exp)
			if !errors.Is(err, catalogapi.ErrInsufficientStock) {
				t.Fatalf("short: %v", err)
			}
			if e, ok := err.(interface{ Error() string }); !ok || e == nil {
				t.Fatal("no error")
			}
			if err := api.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 2}}, &exp); err != nil {
				t.Fatal(err)
			}
			if err := api.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 2}}, &exp); err != nil {
				t.Fatalf("repeat: %v", err)
			}
			if err := api.Reserve(ctx, order, []catalogapi.Line{{ProductID: a, Quantity: 3}}, nil); !errors.Is(err, catalogapi.ErrReservationDiffer) {
				t.Fatalf("differ: %v", err)
			}
			if err := api.Commit(ctx, order); err != nil {
				t.Fatal(err)
			}
			if err := api.Commit(ctx, order); err != nil {
				t.Fatalf("commit twice: %v", err)
			}
			if err := api.Release(ctx, order, "late"); err != nil {
				t.Fatal(err)
			}
			if err := api.Commit(ctx, uuid.Must(uuid.NewV7()).String()); !errors.Is(err, catalogapi.ErrNoReservation) {
				t.Fatalf("commit unknown: %v", err)
			}
			if p, _ := api.Product(ctx, a); p.Stock.OnHand != 3 || p.Stock.Reserved != 0 {
				t.Fatalf("stock: %+v", p.Stock)
			}
			low, err := api.LowStock(ctx, 3, 100)
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]int{}
			for _, it := range low {
				found[it.ProductID] = it.Available
			}
			if v, ok := found[b]; !ok || v != 1 || found[a] != 3 {
				t.Fatalf("low stock: %+v", low)
			}
			for i := 1; i < len(low); i++ {
				if low[i].Available < low[i-1].Available {
					t.Fatalf("low stock not lowest first: %+v", low)
				}
			}
			if _, err := api.LowStock(ctx, -1, 10); err == nil {
				t.Fatal("negative threshold accepted")
			}
			if _, err := api.LowStock(ctx, 3, 0); err == nil {
				t.Fatal("limit 0 accepted")
			}
			if err := api.Reserve(ctx, "not-a-uuid", []catalogapi.Line{{ProductID: a, Quantity: 1}}, nil); err == nil {
				t.Fatal("bad order id accepted")
			}
		})
	}
}
