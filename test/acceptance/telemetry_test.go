package acceptance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// TestTelemetryOverOTLP runs the shop with OTEL_EXPORTER_OTLP_ENDPOINT on
// an in-test OTLP receiver, places and pays an order, and follows the
// request through what arrives: one trace holds the HTTP span of
// POST /api/v1/orders, the producer span of the order placed event and
// the spans of its consumers (notify's among them), across processes
// (gRPC client and server spans) in the split topology; the payment's
// trace reaches the order paid consumers two events later; metrics and
// log records arrive, the logs carrying the trace and span ids.
func TestTelemetryOverOTLP(t *testing.T) {
	rcv := otlptest.Start(t)
	s := newShop(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.Endpoint,
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=acceptance",
		"OTEL_METRIC_EXPORT_INTERVAL": "500",
		// Read by the SDK itself: export every 100ms, not every 5s/1s.
		"OTEL_BSP_SCHEDULE_DELAY":  "100",
		"OTEL_BLRP_SCHEDULE_DELAY": "100",
	})
	tok := customerToken(t, s.u, s.smtp, "traced@shop.test")
	pid := s.product("SKU-TRACED", 1500, 5)
	session := s.checkout(tok, pid, 1)
	o := expect(t, s.order(tok, session), 201, "order").JSON()
	id := o["id"].(string)
	intent := o["payment"].(map[string]any)["intent_id"].(string)
	expect(t, call(t, s.u, "POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": intent, "card_number": "4242424242424242"}, tok), 200, "pay")
	s.waitStatus(tok, id, "paid")
	s.smtp.WaitFor(t, "traced@shop.test", "Subject: Payment received", 20*time.Second)

	// The order's HTTP span: named by its route, a server span, 201.
	orderSpan := waitSpan(t, rcv, "the HTTP span of POST /api/v1/orders", func(sp otlptest.Span) bool {
		return sp.Name == "POST /api/v1/orders" && sp.Kind == tracepb.Span_SPAN_KIND_SERVER && sp.Attrs["http.response.status_code"] == "201" &&
			sp.Resource["commerce.contexts"] != "gateway"
	})
	if sp := orderSpan; sp.Attrs["http.route"] != "/api/v1/orders" || sp.Attrs["http.request.method"] != "POST" || sp.Resource["service.name"] != "commerce" ||
		sp.Resource["deployment.environment.name"] != "acceptance" || sp.Resource["service.version"] == "" {
		t.Fatalf("order span: %+v", sp)
	}
	trace := orderSpan.TraceID
	inTrace := func(what string, f func(otlptest.Span) bool) otlptest.Span {
		t.Helper()
		return waitSpan(t, rcv, what+" in trace "+trace, func(sp otlptest.Span) bool { return sp.TraceID == trace && f(sp) })
	}
	consumer := func(topic, group string) func(otlptest.Span) bool {
		return func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_CONSUMER && sp.Attrs["messaging.destination.name"] == topic &&
				strings.HasPrefix(sp.Attrs["messaging.consumer.group.name"], group)
		}
	}
	publish := inTrace("the producer span of ordering.order_placed", func(sp otlptest.Span) bool {
		return sp.Kind == tracepb.Span_SPAN_KIND_PRODUCER && sp.Name == "publish ordering.order_placed"
	})
	placed := inTrace("a consumer span of ordering.order_placed", consumer("ordering.order_placed", ""))
	inTrace("notify's consumer span of ordering.order_placed", consumer("ordering.order_placed", "notify."))
	// The contexts' own spans: SQL statements (named by their operation,
	// without statement text or arguments) and the order-placed email's
	// SMTP send, which the dispatcher runs in the trace of the event that
	// queued it (server address only, not the recipient).
	sql := inTrace("a SQL span", func(sp otlptest.Span) bool {
		return sp.Kind == tracepb.Span_SPAN_KIND_CLIENT && sp.Attrs["db.system.name"] == "postgresql"
	})
	if strings.Contains(sql.Name, " ") || sql.Attrs["db.query.text"] != "" {
		t.Fatalf("SQL span should be named by the operation only, without the statement: %+v", sql)
	}
	smtpSpan := inTrace("notify's SMTP send span", func(sp otlptest.Span) bool {
		return sp.Kind == tracepb.Span_SPAN_KIND_CLIENT && sp.Name == "smtp send"
	})
	if smtpSpan.Attrs["server.address"] == "" || smtpSpan.Resource["commerce.contexts"] == "gateway" {
		t.Fatalf("smtp span: %+v", smtpSpan)
	}
	for k, v := range smtpSpan.Attrs {
		if strings.Contains(v, "traced@shop.test") {
			t.Fatalf("smtp span attribute %s carries the recipient: %q", k, v)
		}
	}
	inTrace("the saga's reserve step", func(sp otlptest.Span) bool {
		return sp.Name == "saga reserve" && sp.Attrs["commerce.order.id"] == id
	})
	// Parentage: the consumer continues from the producer (through the
	// Kafka send span in the split topology), the producer from the request.
	spans := map[string]otlptest.Span{}
	for _, sp := range rcv.Trace(trace) {
		spans[sp.SpanID] = sp
	}
	if !descends(spans, placed, publish.SpanID) || !descends(spans, publish, orderSpan.SpanID) || !descends(spans, smtpSpan, publish.SpanID) {
		t.Fatalf("consumer → producer → request parentage broken:\n%s", describe(rcv.Trace(trace)))
	}
	if splitMode {
		// The trace crosses processes: ordering calls catalog over gRPC.
		client := inTrace("a gRPC client span", func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.HasPrefix(sp.Name, "catalog.v1.CatalogService/")
		})
		server := inTrace("the catalog's gRPC server span", func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_SERVER && sp.ParentSpanID == client.SpanID
		})
		if server.Resource["commerce.contexts"] != "catalog" || client.Resource["commerce.contexts"] == "catalog" {
			t.Fatalf("gRPC spans: client in %q, server in %q", client.Resource["commerce.contexts"], server.Resource["commerce.contexts"])
		}
		inTrace("the Kafka send span", func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_PRODUCER && sp.Name == "send ordering.order_placed"
		})
		edge := inTrace("the gateway's server span", func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_SERVER && sp.Resource["commerce.contexts"] == "gateway"
		})
		// The gateway's client span may arrive after the spans read above.
		inTrace("the gateway's client span to ordering", func(sp otlptest.Span) bool {
			return sp.Kind == tracepb.Span_SPAN_KIND_CLIENT && sp.ParentSpanID == edge.SpanID
		})
		for _, sp := range rcv.Trace(trace) {
			spans[sp.SpanID] = sp
		}
		if edge.ParentSpanID != "" || edge.Name != "POST" || !descends(spans, orderSpan, edge.SpanID) {
			t.Fatalf("the edge's span %+v is not the root of the request's:\n%s", edge, describe(rcv.Trace(trace)))
		}
	} else if orderSpan.ParentSpanID != "" {
		t.Fatalf("the request span should be the root of its trace (no traceparent was sent): %+v", orderSpan)
	}

	// The payment's trace goes through two events: payment succeeded →
	// ordering marks the order paid → order paid → notify.
	pay := waitSpan(t, rcv, "the HTTP span of the test card confirmation", func(sp otlptest.Span) bool {
		return sp.Name == "POST /api/v1/payments/test/confirm" && sp.Attrs["http.response.status_code"] == "200" && sp.Resource["commerce.contexts"] != "gateway"
	})
	waitSpan(t, rcv, "notify's consumer span of ordering.order_paid in the payment's trace", func(sp otlptest.Span) bool {
		return sp.TraceID == pay.TraceID && consumer("ordering.order_paid", "notify.")(sp)
	})

	// Logs: ordering's record of the sale, with the request's trace and
	// span. The access record of the request is not exported: its server
	// span is that record.
	rcv.WaitFor(t, 20*time.Second, "the order placed log record", func() bool {
		for _, l := range rcv.Logs() {
			if l.Body == "order placed" && l.Attrs["order_id"] == id {
				if l.TraceID != trace || l.SpanID != orderSpan.SpanID || l.Attrs["request_id"] == "" || l.Resource["service.name"] != "commerce" {
					t.Fatalf("order placed log record: %+v (order span %s, trace %s)", l, orderSpan.SpanID, trace)
				}
				return true
			}
		}
		return false
	})
	for _, l := range rcv.Logs() {
		if l.Body == "http request" && l.TraceID == trace {
			t.Fatalf("the access record of a traced request was exported as a log too: %+v", l)
		}
	}
	// Metrics: the HTTP request metrics of the processes.
	rcv.WaitFor(t, 20*time.Second, "the HTTP request metrics", func() bool {
		for _, m := range rcv.Metrics() {
			if (m.Name == "http.server.requests" || m.Name == "http.server.request.duration") && m.Resource["service.name"] == "commerce" {
				for _, a := range m.Attrs {
					if a["http.route"] == "/api/v1/orders" {
						return true
					}
				}
			}
		}
		return false
	})
	// The stderr JSON lines are still written, trace id included.
	if !strings.Contains(s.p.Logs(), `"trace_id":"`+trace+`"`) {
		t.Fatalf("stderr logs lack trace_id %s", trace)
	}
}

// TestTelemetryEndpointIsValidated: a malformed endpoint stops the start
// with an error naming the variable.
func TestTelemetryEndpointIsValidated(t *testing.T) {
	monolithOnly(t)
	out, code := runCLIWithin(t, time.Minute, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=ftp://collector:4317", "DATA_DIR=" + t.TempDir()}, "serve")
	if code == 0 || !strings.Contains(out, "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Fatalf("serve with a malformed endpoint: exit %d\n%s", code, out)
	}
}

func waitSpan(t *testing.T, rcv *otlptest.Receiver, what string, f func(otlptest.Span) bool) otlptest.Span {
	t.Helper()
	var found otlptest.Span
	rcv.WaitFor(t, 30*time.Second, what, func() bool {
		for _, sp := range rcv.Spans() {
			if f(sp) {
				found = sp
				return true
			}
		}
		return false
	})
	return found
}

// descends reports whether span has ancestor among its parents.
func descends(spans map[string]otlptest.Span, span otlptest.Span, ancestor string) bool {
	for i := 0; i < 32 && span.ParentSpanID != ""; i++ {
		if span.ParentSpanID == ancestor {
			return true
		}
		parent, ok := spans[span.ParentSpanID]
		if !ok {
			return false
		}
		span = parent
	}
	return false
}

func describe(spans []otlptest.Span) string {
	var b strings.Builder
	for _, sp := range spans {
		fmt.Fprintf(&b, "  %s %s span=%s parent=%s (%s)\n", sp.Kind, sp.Name, sp.SpanID, sp.ParentSpanID, sp.Resource["commerce.contexts"])
	}
	return b.String()
}
