//go:build !no_fulfillment

package server

import (
	"github.com/opencommerce/commerce/internal/fulfillment"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
)

func newFulfillmentHost(d hostDeps) (FulfillmentHost, error) {
	cat, err := d.s.catalogAPI()
	if err != nil {
		return nil, err
	}
	return fulfillment.New(fulfillment.Deps{DB: d.db, Outbox: d.outbox, Catalog: cat, Log: d.s.log, Audit: d.s.audit}), nil
}

func init() {
	publishedTopics["fulfillment"] = fulfillmentapi.Topics
	subgraphSDLs["fulfillment"] = fulfillment.SubgraphSDL
}
