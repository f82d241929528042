// Package logx sets up structured JSON logging (log/slog) and carries the
// request id through context.Context so every log line of a request can be
// correlated without passing loggers around.
package logx

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

type ctxKey struct{}

// WithRequestID stores the request id in ctx.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New builds a JSON logger at the given level whose records carry the
// request id found in the context of *Context log calls. Each extra
// handler (nil ones are skipped), such as the OpenTelemetry bridge that
// exports logs over OTLP (otelx.Telemetry.LogHandler), receives the same
// records at the same level, with the request id; the JSON lines are
// unchanged by them.
func New(w io.Writer, level string, extra ...slog.Handler) *slog.Logger {
	l := ParseLevel(level)
	var h slog.Handler = ctxHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})}
	hs := []slog.Handler{h}
	for _, e := range extra {
		if e != nil {
			hs = append(hs, requestIDHandler{leveled{e, l}})
		}
	}
	if len(hs) > 1 {
		h = slog.NewMultiHandler(hs...)
	}
	return slog.New(h)
}

// ParseLevel maps LOG_LEVEL to a slog level (info when unknown).
func ParseLevel(level string) slog.Level {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return l
}

type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(a []slog.Attr) slog.Handler { return ctxHandler{h.Handler.WithAttrs(a)} }
func (h ctxHandler) WithGroup(n string) slog.Handler      { return ctxHandler{h.Handler.WithGroup(n)} }

// leveled drops records below a level (the bridge has no level of its own).
type leveled struct {
	slog.Handler
	level slog.Level
}

func (h leveled) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}
func (h leveled) WithAttrs(a []slog.Attr) slog.Handler {
	return leveled{h.Handler.WithAttrs(a), h.level}
}
func (h leveled) WithGroup(n string) slog.Handler { return leveled{h.Handler.WithGroup(n), h.level} }

// AccessMessage is the message of the per-request access record (httpx's
// access log). The OTLP branch knows it by this message: the record of a
// request whose server span is exported is not exported as well.
const AccessMessage = "http request"

// requestIDHandler adds the request id of the context; trace and span
// ids are the bridge's own business (fields of the OTLP record).
//
// It also makes the export follow trace sampling: a record below WARN
// logged inside a trace that is not sampled (OTEL_TRACES_SAMPLER with a
// ratio) is not exported, since its trace is not kept either; it is still
// written to stdout. Warnings and errors are always exported. Without
// this, sampling would leave the per-request access log, the bulk of the
// export, at full volume.
//
// And the access record (AccessMessage) of a request whose server span is
// sampled is not exported: that span already is the request's record in
// the trace store (method, route, status, duration, client address), and
// exporting both doubled the cost of telemetry on a cached read. An access
// record at WARN or above (a 5xx), or of a request that is not traced
// (traces off, logs on), is exported.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !sc.IsSampled() {
			return false
		}
	}
	return h.Handler.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn && r.Message == AccessMessage && trace.SpanContextFromContext(ctx).IsSampled() {
		return nil
	}
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}
func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}
