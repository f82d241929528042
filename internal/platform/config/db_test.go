package config

import (
	"strings"
	"testing"
	"time"
)

func TestDatabaseBounds(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBStatementTimeout != 30*time.Second || c.DBIdleInTxTimeout != 15*time.Second || c.DBMaxConns != 10 {
		t.Fatalf("defaults: %s %s %d", c.DBStatementTimeout, c.DBIdleInTxTimeout, c.DBMaxConns)
	}
	c, err = Load([]string{"--db-statement-timeout", "0"}, env(map[string]string{"DB_IDLE_IN_TRANSACTION_TIMEOUT": "0s", "DB_MAX_CONNS": "25"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBStatementTimeout != 0 || c.DBIdleInTxTimeout != 0 || c.DBMaxConns != 25 {
		t.Fatalf("0 disables: %s %s %d", c.DBStatementTimeout, c.DBIdleInTxTimeout, c.DBMaxConns)
	}
	for k, v := range map[string]string{
		"DB_STATEMENT_TIMEOUT":           "-1s",
		"DB_IDLE_IN_TRANSACTION_TIMEOUT": "soon",
		"DB_MAX_CONNS":                   "0",
	} {
		_, err := Load(nil, env(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: want an error naming it, got %v", k, v, err)
		}
	}
	_, err = Load(nil, env(map[string]string{"DB_MAX_CONNS": "-3"}))
	if err == nil || !strings.Contains(err.Error(), "DB_MAX_CONNS") {
		t.Errorf("negative pool size: %v", err)
	}
}
