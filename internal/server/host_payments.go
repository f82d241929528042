//go:build !no_payments

package server

import (
	"github.com/opencommerce/commerce/internal/payments"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
)

func newPaymentsHost(d hostDeps) (PaymentsHost, error) {
	cfg := d.s.cfg
	secret, err := webhookSecret(cfg)
	if err != nil {
		return nil, err
	}
	return payments.New(payments.Deps{DB: d.db, Outbox: d.outbox, Log: d.s.log, TestWebhookSecret: secret,
		StripeSecretKey: cfg.StripeSecretKey, StripeWebhookSecret: cfg.StripeWebhook, StripeAPIBase: cfg.StripeAPIBase, Meter: d.meter("payments")}), nil
}

func init() {
	publishedTopics["payments"] = paymentsapi.Topics
	subgraphSDLs["payments"] = payments.SubgraphSDL
}
