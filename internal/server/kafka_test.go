package server_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// EVENT_TRANSPORT=kafka: the outbox is forwarded to Kafka (kfake here) and
// consumers read Kafka; the registration email proves the path end to end.
func TestEventsOverKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	// A cleanup registered before the server's runs after it (LIFO): the
	// server flushes and closes its Kafka clients while the brokers are
	// still up. (A defer closed the cluster first, and the shutdown then
	// waited on dead brokers past the 30 s limit under load.)
	t.Cleanup(cluster.Close)
	e := servertest.Start(t, func(c *config.Config) {
		c.EventTransport, c.KafkaBrokers = "kafka", cluster.ListenAddrs()
	})
	r := e.Do("GET", "/readyz", nil, "")
	if r.Status != 200 || r.JSON()["checks"].(map[string]any)["kafka"] != "ok" {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "k@shop.test", "password": "s3cret-pass", "name": "K"}, ""); r.Status != 201 {
		t.Fatalf("register: %d", r.Status)
	}
	tok := e.WaitToken("k@shop.test", "verify_email")
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": tok}, ""); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
}
