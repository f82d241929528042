//go:build !no_ordering

package server

import (
	"github.com/opencommerce/commerce/internal/ordering"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
)

func newOrderingHost(d hostDeps) (OrderingHost, error) {
	cat, err := d.s.catalogAPI()
	if err != nil {
		return nil, err
	}
	crt, err := d.s.cartAPI()
	if err != nil {
		return nil, err
	}
	pay, err := d.s.paymentsAPI()
	if err != nil {
		return nil, err
	}
	return ordering.New(ordering.Deps{DB: d.db, Outbox: d.outbox, Catalog: cat, Cart: crt, Payments: pay,
		PaymentTimeout: d.s.cfg.PaymentTimeout, Reminders: d.s.cfg.Reminders, Log: d.s.log, Meter: d.meter("ordering"), Idempotency: d.s.idem, Audit: d.s.audit}), nil
}

func init() {
	publishedTopics["ordering"] = orderingapi.Topics
	subgraphSDLs["ordering"] = ordering.SubgraphSDL
}
