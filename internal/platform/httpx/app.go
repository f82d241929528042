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
	"time"

	"github.com/bytedance/sonic"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
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
		ctx := otelx.Extract(logx.WithRequestID(c.UserContext(), id), func(k string) string { return strings.Clone(c.Get(k)) })
		if otelx.Tracing() {
			return serverSpan(c, ctx)
		}
		ctx = otelx.Ensure(ctx)
		c.SetUserContext(ctx)
		c.Request().Header.Del("traceparent")
		otelx.Inject(ctx, func(k, v string) { c.Request().Header.Set(k, v) }) // forwarded as is by the gateway
		return c.Next()
	})
	app.Use(accessLog(log))
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
func serverSpan(c *fiber.Ctx, parent context.Context) (err error) {
	method := strings.Clone(c.Method())
	// The required attributes only (each one costs on every request).
	ctx, span := otelx.Tracer().Start(parent, method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(strings.Clone(c.Path())), semconv.ClientAddress(strings.Clone(c.IP())),
	))
	c.SetUserContext(ctx)
	c.Request().Header.Del("traceparent")
	otelx.Inject(ctx, func(k, v string) { c.Request().Header.Set(k, v) }) // forwarded as is by the gateway
	defer func() {
		if r := recover(); r != nil { // the recover middleware answers 500
			endServerSpan(c, span, method, fiber.StatusInternalServerError, fmt.Errorf("panic: %v", r))
			panic(r)
		}
	}()
	err = c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = StatusOf(err)
	}
	endServerSpan(c, span, method, status, err)
	return err
}

// endServerSpan names the span by its route, records the outcome and ends it.
func endServerSpan(c *fiber.Ctx, span trace.Span, method string, status int, err error) {
	defer span.End()
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		// Unmatched, or answered by a middleware mounted at / (the
		// gateway's forwarding, static files): no template to name it by.
		route = ""
	}
	if route != "" {
		span.SetName(method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
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

func accessLog(log *slog.Logger) fiber.Handler {
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
		// The query string is left out: it may carry tokens (?access_token=).
		log.Log(c.UserContext(), lvl, "http request", "method", c.Method(), "path", c.Path(), "route", c.Route().Path,
			"status", status, "duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", c.IP())
		return err
	}
}
