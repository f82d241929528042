package acceptance

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// splitMode runs every scenario against the split topology instead of the
// monolith (make test runs the suite both ways).
var splitMode = os.Getenv("ACCEPTANCE_TOPOLOGY") == "split"

func monolithOnly(t *testing.T) {
	if splitMode {
		t.Skip("a single-process scenario")
	}
}

// startSplit starts catalog alone, payments alone, search alone, webhooks alone, the other
// contexts together, all on one database with events on a kfake broker and calls over
// gRPC, behind a gateway whose URL the scenario uses.
func startSplit(t *testing.T, env map[string]string) (*proc, time.Duration) {
	began := time.Now()
	cluster := kafkaCluster(t)
	keyFile := env["JWT_PRIVATE_KEY_FILE"]
	if keyFile == "" {
		keyFile = jwtKeyFile(t)
	}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range env {
			out[k] = v
		}
		out["DATA_DIR"] = t.TempDir()
		out["JWT_PRIVATE_KEY_FILE"] = keyFile
		out["EVENT_TRANSPORT"] = "kafka"
		out["KAFKA_BROKERS"] = strings.Join(cluster.ListenAddrs(), ",")
		out["TRUST_PROXY"] = "true"
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	cat, _ := startOne(t, with(map[string]string{"CONTEXTS": "catalog", "GRPC_ADDR": "127.0.0.1:0"}))
	pay, _ := startOne(t, with(map[string]string{"CONTEXTS": "payments", "GRPC_ADDR": "127.0.0.1:0"}))
	rest, _ := startOne(t, with(map[string]string{"CONTEXTS": "auth,cart,fulfillment,ordering,notify,chat", "GRPC_ADDR": "127.0.0.1:0",
		"CATALOG_GRPC_ADDR": cat.GRPC, "PAYMENTS_GRPC_ADDR": pay.GRPC}))
	srch, _ := startOne(t, with(map[string]string{"CONTEXTS": "search", "CATALOG_GRPC_ADDR": cat.GRPC}))
	hooks, _ := startOne(t, with(map[string]string{"CONTEXTS": "webhooks"}))
	ups := []string{"catalog=" + cat.URL, "payments=" + pay.URL, "search=" + srch.URL, "webhooks=" + hooks.URL}
	for _, c := range []string{"auth", "cart", "fulfillment", "ordering", "notify", "chat"} {
		ups = append(ups, c+"="+rest.URL)
	}
	gwEnv := map[string]string{"CONTEXTS": "gateway", "DATA_DIR": t.TempDir(), "JWT_PRIVATE_KEY_FILE": keyFile, "GATEWAY_UPSTREAMS": strings.Join(ups, ",")}
	// The edge's Redis is the contexts' one, as deployed: its rate limits
	// and GraphQL persisted queries live there, and its subscriptions read
	// the fan-out notify and chat publish.
	for _, k := range []string{"RATE_LIMIT_PER_MINUTE", "REDIS_URL"} {
		if v := env[k]; v != "" {
			gwEnv[k] = v
		}
	}
	for k, v := range env {
		if strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "GRAPHQL_") { // the edge exports its telemetry too, and serves GraphQL
			gwEnv[k] = v
		}
	}
	gw, _ := startOne(t, gwEnv)
	gw.children = []*proc{rest, srch, hooks, pay, cat}
	return gw, time.Since(began)
}

// kafkaCluster runs an in-process Kafka (kfake) for the test.
func kafkaCluster(t *testing.T) *kfake.Cluster {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(2), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster
}

// jwtKeyFile writes a signing key every process of a topology shares.
func jwtKeyFile(t *testing.T) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
