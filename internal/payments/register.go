package payments

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "payments" }

// Registration is how the composition root hosts payments
// (internal/server/ctx_payments.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "payments",
	Topics:        paymentsapi.Topics,
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/payments", "/api/v1/admin/payments"},
	New: func(d module.Deps) (module.Module, error) {
		cfg := d.Config
		secret, err := WebhookSecret(cfg)
		if err != nil {
			return nil, err
		}
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Log: d.Log, TestWebhookSecret: secret,
			StripeSecretKey: cfg.StripeSecretKey, StripeWebhookSecret: cfg.StripeWebhook, StripeAPIBase: cfg.StripeAPIBase, Meter: d.Meter("payments")}), nil
	},
}

// WebhookSecret is PAYMENT_WEBHOOK_SECRET, or a secret generated once into
// DATA_DIR so the test gateway works with no configuration.
func WebhookSecret(cfg *config.Config) (string, error) {
	if cfg.PaymentWebhook != "" {
		return cfg.PaymentWebhook, nil
	}
	file := filepath.Join(cfg.DataDir, "payment_webhook_secret")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := "whsec_" + hex.EncodeToString(buf)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("PAYMENT_WEBHOOK_SECRET: cannot store a generated secret: %w", err)
	}
	return secret, nil
}
