package logx_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/logx"
)

// recorder keeps the records an extra handler receives.
type recorder struct {
	recs  *[]slog.Record
	attrs []slog.Attr
}

func (r recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	rec.AddAttrs(r.attrs...)
	*r.recs = append(*r.recs, rec)
	return nil
}
func (r recorder) WithAttrs(a []slog.Attr) slog.Handler {
	return recorder{r.recs, append(append([]slog.Attr(nil), r.attrs...), a...)}
}
func (r recorder) WithGroup(string) slog.Handler { return r }

// An extra handler (the OTLP bridge) gets the records at the logger's
// level with the request id, and the JSON lines do not change.
func TestExtraHandlerLeavesJSONUnchanged(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	ctx := logx.WithRequestID(trace.ContextWithSpanContext(context.Background(), sc), "req-7")
	var plain, fanned bytes.Buffer
	var recs []slog.Record
	logx.New(&plain, "info").With("component", "x").InfoContext(ctx, "hello", "k", 1)
	log := logx.New(&fanned, "info", recorder{recs: &recs}, nil).With("component", "x")
	log.InfoContext(ctx, "hello", "k", 1)
	log.DebugContext(ctx, "below the level")
	strip := func(s string) string { return s[strings.Index(s, `"level"`):] } // the time differs
	if strip(plain.String()) != strip(fanned.String()) || strings.Count(fanned.String(), "\n") != 1 {
		t.Fatalf("JSON changed:\n%s\n%s", plain.String(), fanned.String())
	}
	if !strings.Contains(fanned.String(), `"request_id":"req-7"`) || !strings.Contains(fanned.String(), `"trace_id":"01000000000000000000000000000000"`) {
		t.Fatalf("JSON lacks ids: %s", fanned.String())
	}
	if len(recs) != 1 {
		t.Fatalf("%d records reached the extra handler", len(recs))
	}
	got := map[string]string{}
	recs[0].Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
	if got["request_id"] != "req-7" || got["k"] != "1" || got["component"] != "x" || got["trace_id"] != "" {
		t.Fatalf("extra handler's attributes: %v", got)
	}
}

// Export follows trace sampling: info records of an unsampled trace stay
// on stdout only; warnings, and records of sampled traces, are exported,
// except the access record of a sampled request (its span is exported).
func TestExportFollowsSampling(t *testing.T) {
	unsampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}}))
	sampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{5}, SpanID: trace.SpanID{6}, TraceFlags: trace.FlagsSampled}))
	var out bytes.Buffer
	var recs []slog.Record
	log := logx.New(&out, "info", recorder{recs: &recs})
	log.InfoContext(unsampled, "dropped from the export")
	log.WarnContext(unsampled, "exported warning")
	log.InfoContext(sampled, "exported info")
	log.InfoContext(context.Background(), "exported, no trace")
	// The access record of a sampled request is its server span already;
	// a 5xx one, or one outside a trace, is exported.
	log.InfoContext(sampled, logx.AccessMessage, "status", 200)
	log.ErrorContext(sampled, logx.AccessMessage, "status", 500)
	log.InfoContext(context.Background(), logx.AccessMessage, "status", 201)
	if n := strings.Count(out.String(), "\n"); n != 7 {
		t.Fatalf("stdout has %d lines, want 7", n)
	}
	var msgs []string
	for _, r := range recs {
		m := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "status" {
				m += " " + a.Value.String()
			}
			return true
		})
		msgs = append(msgs, m)
	}
	if strings.Join(msgs, "|") != "exported warning|exported info|exported, no trace|http request 500|http request 201" {
		t.Fatalf("exported: %v", msgs)
	}
}
