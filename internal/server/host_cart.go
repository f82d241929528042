//go:build !no_cart

package server

import "github.com/opencommerce/commerce/internal/cart"

func newCartHost(d hostDeps) (CartHost, error) {
	cat, err := d.s.catalogAPI()
	if err != nil {
		return nil, err
	}
	au, err := d.s.authAPI()
	if err != nil {
		return nil, err
	}
	ful, err := d.s.fulfillmentAPI()
	if err != nil {
		return nil, err
	}
	pay, err := d.s.paymentsAPI()
	if err != nil {
		return nil, err
	}
	return cart.New(cart.Deps{DB: d.db, Catalog: cat, Auth: au, Fulfillment: ful, Payments: pay, SessionTTL: d.s.cfg.CheckoutTTL, Log: d.s.log}), nil
}

func init() { subgraphSDLs["cart"] = cart.SubgraphSDL }
