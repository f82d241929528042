package config

import (
	"strings"
	"testing"
)

// The publishable key is written into every storefront page: only a
// pk_ key is accepted, so a secret key set there by mistake stops the
// start instead of being published.
func TestStripePublishableKeyRefusesSecrets(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"STRIPE_PUBLISHABLE_KEY": "pk_test_51Abc"}))
	if err != nil || c.StripePublishableKey != "pk_test_51Abc" {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"sk_live_51Abc", "rk_test_1", "pk_test_<script>", "pk_live_a b"} {
		_, err := Load(nil, env(map[string]string{"STRIPE_PUBLISHABLE_KEY": bad}))
		if err == nil || !strings.Contains(err.Error(), "STRIPE_PUBLISHABLE_KEY") {
			t.Errorf("%q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("%q: the error repeats the value, which may be a secret: %v", bad, err)
		}
	}
}
