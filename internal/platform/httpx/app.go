// Package httpx is the one Fiber application shape of every process: sonic
// JSON, RFC 9457 problem errors mapped from errs categories in one place,
// strict body binding and validation, request ids, security headers, CORS,
// access logs, and a router that documents every route in OpenAPI.
package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytedance/sonic"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Config is the HTTP server's part of the configuration.
type Config struct {
	BodyLimit    int
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	CORSOrigins  []string
	TrustProxy   bool
}

// NewApp builds the Fiber app with the common middleware chain.
func NewApp(cfg Config, log *slog.Logger) *fiber.App {
	fc := fiber.Config{
		AppName:               "commerce",
		DisableStartupMessage: true,
		JSONEncoder:           sonic.Marshal,
		JSONDecoder:           sonic.Unmarshal,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ErrorHandler:          ErrorHandler(log),
		StrictRouting:         false,
		CaseSensitive:         true,
	}
	if cfg.TrustProxy {
		fc.ProxyHeader = fiber.HeaderXForwardedFor
	}
	app := fiber.New(fc)
	app.Use(fiberrecover.New(fiberrecover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		log.ErrorContext(c.UserContext(), "panic in handler", "panic", e, "path", c.Path())
	}}))
	app.Use(requestid.New(requestid.Config{Header: "X-Request-ID", Generator: newRequestID}))
	app.Use(func(c *fiber.Ctx) error {
		id, _ := c.Locals("requestid").(string)
		if len(id) > 128 || strings.ContainsAny(id, "\r\n") {
			id = newRequestID()
			c.Set("X-Request-ID", id)
		}
		// An incoming X-Request-ID points into fasthttp's reused buffer; the
		// id outlives the handler (logs, gRPC metadata whose HPACK table
		// keeps it), so it must be copied.
		id = strings.Clone(id)
		c.Locals("requestid", id)
		// The traceparent is read where it is needed (Extract clones it);
		// the gateway writes the one its upstream continues when it
		// forwards (server.Gateway.forward).
		ctx := otelx.Extract(logx.WithRequestID(c.UserContext(), id), func(k string) string { return strings.Clone(c.Get(k)) })
		if otelx.Tracing() {
			return serverSpan(c, ctx, cfg.TrustProxy)
		}
		c.SetUserContext(otelx.Ensure(ctx))
		return c.Next()
	})
	app.Use(accessLog(log, cfg.TrustProxy))
	app.Use(helmet.New(helmet.Config{ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:"}))
	corsCfg := cors.Config{AllowMethods: "GET,POST,PUT,PATCH,DELETE,OPTIONS", AllowHeaders: "Authorization,Content-Type,Idempotency-Key,Last-Event-ID,X-Request-ID", ExposeHeaders: "ETag,Retry-After,X-Request-ID,Idempotent-Replayed"}
	if len(cfg.CORSOrigins) > 0 {
		corsCfg.AllowOrigins = strings.Join(cfg.CORSOrigins, ",")
		app.Use(cors.New(corsCfg))
	}
	app.Use(RejectInvalidCharacters)
	return app
}

// serverSpan runs the rest of the chain in a server span, a child of the
// caller's traceparent or the root of a new trace. The span is named by
// the route template once routing is known ("GET /api/v1/orders/:id",
// never the raw path); 5xx answers and panics mark it as an error.
func serverSpan(c *fiber.Ctx, parent context.Context, ipFromHeader bool) (err error) {
	method := MethodName(c.Method())
	ctx, span := otelx.Tracer().Start(parent, method, serverKind)
	c.SetUserContext(ctx)
	defer func() {
		if r := recover(); r != nil { // the recover middleware answers 500
			endServerSpan(c, span, method, ipFromHeader, fiber.StatusInternalServerError, fmt.Errorf("panic: %v", r))
			panic(r)
		}
	}()
	err = c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = StatusOf(err)
	}
	endServerSpan(c, span, method, ipFromHeader, status, err)
	return err
}

// serverKind is the start option of server spans, made once: an option
// built per request is an allocation on every request, traced or not.
var serverKind = trace.WithSpanKind(trace.SpanKindServer)

// endServerSpan names the span by its route, records the request and its
// outcome and ends it. All attributes go in one SetAttributes call at the
// end (each call takes the span's lock and passes over its attributes;
// the sampler never sees them, Start is given none).
func endServerSpan(c *fiber.Ctx, span trace.Span, method string, ipFromHeader bool, status int, err error) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	// The required attributes only (each one costs on every sampled
	// request); fasthttp reuses the buffers behind Path and a proxy
	// header's IP, and the span outlives the request until exported. The
	// socket's address is a new string already.
	ip := c.IP()
	if ipFromHeader {
		ip = strings.Clone(ip)
	}
	attrs := [...]attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(strings.Clone(c.Path())),
		semconv.ClientAddress(ip), semconv.HTTPResponseStatusCode(status), {}}
	n := 4
	r := c.Route()
	if r.Path != "" && (r.Path != "/" || c.Path() == "/") {
		// Named by its route template. A request unmatched, or answered
		// by a middleware mounted at / (the gateway's forwarding, static
		// files), has no template to name it by.
		span.SetName(spanName(r, method))
		attrs[n] = semconv.HTTPRoute(r.Path)
		n++
	}
	otelx.SetAttributes(span, attrs[:n]...)
	if status >= 500 {
		span.SetStatus(codes.Error, "")
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(semconv.ErrorTypeKey.String(fmt.Sprintf("%T", err)))
			span.RecordError(err)
		} else {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		}
	}
}

// spanNames holds the "METHOD /route/:template" name of each route's
// server spans (*fiber.Route → string): routes are few and fixed, and a
// name built per sampled request was an allocation each time. nSpanNames
// bounds it (fiber makes a Route per call in its error-handler fallback;
// past the bound names are built per request).
var (
	spanNames  sync.Map
	nSpanNames atomic.Int64
)

// maxSpanNames is far above any shop's number of routes.
const maxSpanNames = 4096

// spanName is the server span's name for route r answering method.
func spanName(r *fiber.Route, method string) string {
	if r.Method == method {
		if n, ok := spanNames.Load(r); ok {
			return n.(string)
		}
		n := method + " " + r.Path
		if nSpanNames.Load() < maxSpanNames {
			if _, loaded := spanNames.LoadOrStore(r, n); !loaded {
				nSpanNames.Add(1)
			}
		}
		return n
	}
	// A route of several methods (Use, All): the name is per request.
	return method + " " + r.Path
}

// accessLog writes one record per request. Its values outlive the
// request when logs are exported (the OTLP batch holds them), so those
// that point into fasthttp's reused buffers are copied: the path always,
// the client IP when it comes from a proxy header.
func accessLog(log *slog.Logger, ipFromHeader bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = StatusOf(err)
		}
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		ctx := c.UserContext()
		if !log.Enabled(ctx, lvl) {
			return err
		}
		ip := c.IP()
		if ipFromHeader {
			ip = strings.Clone(ip)
		}
		// The query string is left out: it may carry tokens (?access_token=).
		log.LogAttrs(ctx, lvl, logx.AccessMessage, slog.String("method", MethodName(c.Method())), slog.String("path", strings.Clone(c.Path())),
			slog.String("route", c.Route().Path), slog.Int("status", status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.String("ip", ip))
		return err
	}
}

// MethodName is the HTTP method as a constant string: fiber's Method()
// points into the request's reused buffer, which must not outlive the
// request (spans, exported logs, metric attributes keep their strings).
// A method outside the standard ones is reported as "_OTHER", as the
// OpenTelemetry HTTP conventions ask (it also bounds metric cardinality).
func MethodName(m string) string {
	switch m {
	case fiber.MethodGet:
		return fiber.MethodGet
	case fiber.MethodPost:
		return fiber.MethodPost
	case fiber.MethodPut:
		return fiber.MethodPut
	case fiber.MethodPatch:
		return fiber.MethodPatch
	case fiber.MethodDelete:
		return fiber.MethodDelete
	case fiber.MethodHead:
		return fiber.MethodHead
	case fiber.MethodOptions:
		return fiber.MethodOptions
	case fiber.MethodConnect:
		return fiber.MethodConnect
	case fiber.MethodTrace:
		return fiber.MethodTrace
	}
	return "_OTHER"
}
