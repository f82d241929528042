// Package observability checks deploy/observability offline: Prometheus
// rules and configuration (promtool), the YAML configurations, the Alloy
// configuration's wiring, the Grafana dashboards, and that every metric
// the dashboards and rules name is one the binary exports (read from a
// running in-process server's /metrics after an order was placed and
// paid). With Debian's prometheus installed, a real Prometheus scrapes the
// running binary and answers a query. Tools missing skip the tests that
// need them, except under CI=true where they fail.
package observability
