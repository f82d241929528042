package grpcx_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// The interceptor's series come out under the Prometheus names the
// dashboards and alert rules use, with the client's status code.
func TestServerMetricsNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer mp.Shutdown(context.Background())
	ic, err := grpcx.ServerMetrics(mp.Meter("commerce/grpc"))
	if err != nil {
		t.Fatal(err)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/catalog.v1.CatalogService/GetProduct"}
	_, _ = ic(context.Background(), nil, info, func(context.Context, any) (any, error) { return "ok", nil })
	_, _ = ic(context.Background(), nil, info, func(context.Context, any) (any, error) {
		return nil, errs.New(errs.NotFound, "not_found", "no such product")
	})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		if f.GetName() == "target_info" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["rpc_method"] != info.FullMethod {
				t.Errorf("%s: rpc_method %q", f.GetName(), labels["rpc_method"])
			}
			got[f.GetName()+" "+labels["grpc_code"]] = true
		}
	}
	for _, w := range []string{"rpc_server_requests_total OK", "rpc_server_requests_total NotFound",
		"rpc_server_duration_seconds OK", "rpc_server_duration_seconds NotFound"} {
		if !got[w] {
			t.Errorf("no series %s; have %v", w, got)
		}
	}
}
