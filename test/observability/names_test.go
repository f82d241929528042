package observability

import (
	"reflect"
	"testing"
)

func TestMetricNamesOfExpressions(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum(rate(http_server_requests_total{http_response_status_code=~"5.."}[5m])) / sum(rate(http_server_requests_total[5m])) > 0.05`:                 {"http_server_requests_total"},
		`histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`: {"http_server_request_duration_seconds_bucket"},
		`sum(max by (consumer) (commerce_dead_letters)) - sum(max by (consumer) (commerce_dead_letters offset 15m)) > 0`:                                 {"commerce_dead_letters"},
		`sum by (class) (label_replace(rate(x_total[1m]), "class", "${1}xx", "code", "([0-9]).."))`:                                                      {"x_total"},
		`a / on (instance) group_left (job) b > 1e3 and up == 0`:                                                                                         {"a", "b", "up"},
	} {
		if got := metricNames(grafanaVars(expr)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", expr, got, want)
		}
	}
}
