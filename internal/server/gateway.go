package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/proxy"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/metrics"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
	"github.com/opencommerce/commerce/web"
)

// QueryTokenPaths are the streaming routes that take ?access_token= (an
// EventSource or a browser WebSocket cannot send an Authorization header);
// the edge honours the query token nowhere else, like the contexts, whose
// routers learn the same set from the routes documenting access_token.
var QueryTokenPaths = []string{"/api/v1/notifications/stream", "/api/v1/admin/stream", "/api/v1/chat/ws"}

// Errors of the edge.
var (
	errUpstreamDown = errs.New(errs.Unavailable, "unavailable", "this part of the shop is temporarily unavailable; retry shortly")
	errBadToken     = errs.New(errs.Unauthenticated, "unauthenticated", "the bearer access token is invalid or expired")
	errUpstream5xx  = errors.New("upstream unavailable")
)

// Gateway is the public edge of a split deployment: it routes each path to
// the process owning it, validates access tokens, rate limits, adds request
// ids, and trips a circuit breaker per upstream so a dead context answers
// 503 at once while the others keep working.
type Gateway struct {
	App   *fiber.App
	cfg   *config.Config
	rdb   *redisx.Client
	lim   *ratelimit.Limiter
	met   *metrics.Metrics
	cbs   map[string]*gobreaker.CircuitBreaker[any]
	log   *slog.Logger
	auth  *httpx.Auth
	perOp time.Duration
	// streams is the client of streaming relays: no overall timeout.
	streams *http.Client
	// graph and feeds serve GraphQL (nil when no subgraph is upstream).
	graph *gql.Gateway
	feeds *liveFeeds
}

// NewGateway builds the edge from GATEWAY_UPSTREAMS.
func NewGateway(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	// The routing table and the graph come from the registry: a context
	// built out of this binary would answer 404 at the edge.
	for name := range cfg.Upstreams {
		if _, ok := registry[name]; !ok {
			return nil, fmt.Errorf("GATEWAY_UPSTREAMS: the gateway routes only the contexts compiled in: %w", builtWithout(name))
		}
	}
	sf, err := newStorefront(cfg)
	if err != nil {
		return nil, err
	}
	rdb, err := redisx.Open(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	keys, err := authn.LoadOrGenerate(cfg.JWTKeyFile, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	met, err := metrics.New()
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, rdb: rdb, lim: ratelimit.New(rdb), met: met, log: log, cbs: map[string]*gobreaker.CircuitBreaker[any]{}, perOp: cfg.WriteTimeout,
		streams: &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second, DisableCompression: true}}}
	for ctxName, u := range cfg.Upstreams {
		if _, ok := g.cbs[u]; ok {
			continue
		}
		g.cbs[u] = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: ctxName, Timeout: 5 * time.Second,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 }})
	}
	// No write timeout at the edge: it would cut Server-Sent Event streams
	// and WebSocket tunnels; buffered calls are bounded per call instead.
	app := httpx.NewApp(httpx.Config{BodyLimit: cfg.BodyLimit, ReadTimeout: cfg.ReadTimeout,
		IdleTimeout: cfg.IdleTimeout, CORSOrigins: cfg.CORSOrigins, TrustProxy: cfg.TrustProxy}, log)
	app.Use(met.Middleware)
	auth := httpx.NewAuth(keys.Verifier())
	for _, p := range QueryTokenPaths {
		auth.AllowQueryToken(p)
	}
	g.auth = auth
	app.Use(auth.Identify)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", func(c *fiber.Ctx) error {
		if err := rdb.Ping(c.UserContext()).Err(); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": fiber.Map{"redis": "unreachable"}})
		}
		return c.JSON(fiber.Map{"status": "ready", "checks": fiber.Map{"redis": "ok"}})
	})
	app.Get("/metrics", met.Handler())
	// The queue monitor reads the shared Redis directly: every process
	// of the shop queues its tasks there.
	mountQueueMonitor(app, auth, rdb.Client)
	app.Get("/openapi.json", g.openAPI)
	app.Get("/docs", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(docsHTML)
	})
	// The storefront is served at the edge, like the single binary serves
	// it, ahead of the rate limits (a page load fetches many assets) and
	// of forwarding; what it does not serve goes on to the contexts.
	// GraphQL: the gateway composes the subgraphs of GATEWAY_UPSTREAMS
	// itself (graphql.go) and plans each operation across them, behind
	// the same token check and rate limits as forwarded REST calls.
	graph, err := composeUpstreams(cfg)
	if err != nil {
		return nil, err
	}
	if graph != nil {
		graph.PersistQueries(persistedQueries(rdb.Client))
		g.feeds = newLiveFeeds(rdb.Client, log)
		if err := graph.Subscribe(g.feeds.live(keys.Verifier())); err != nil {
			return nil, err
		}
		if err := observeSubscriptions(met.Meter("commerce/graphql"), graph); err != nil {
			return nil, err
		}
		graph.ServeGraphiQL(web.GraphiQLPage())
		g.graph = graph
		chain := []fiber.Handler{g.rejectInvalidTokens,
			httpx.RateLimit(g.lim, "ip", cfg.RateLimitPerMinute, time.Minute, httpx.ByIP),
			httpx.RateLimit(g.lim, "user", cfg.RateLimitPerMinute, time.Minute, httpx.ByUser), graph.Handle}
		app.Get(GraphQLPath, chain...)
		app.Post(GraphQLPath, chain...)
	}
	app.Get("/", sf.Index)
	app.Use(sf.Handler)
	app.Use(g.rejectInvalidTokens,
		httpx.RateLimit(g.lim, "ip", cfg.RateLimitPerMinute, time.Minute, httpx.ByIP),
		httpx.RateLimit(g.lim, "user", cfg.RateLimitPerMinute, time.Minute, httpx.ByUser),
		g.forward)
	g.App = app
	return g, nil
}

// rejectInvalidTokens answers 401 at the edge for a bearer token that does
// not verify, so forged tokens never reach a context.
func (g *Gateway) rejectInvalidTokens(c *fiber.Ctx) error {
	if _, ok := httpx.Principal(c); g.auth.HasToken(c) && !ok {
		return errBadToken
	}
	return c.Next()
}

func (g *Gateway) forward(c *fiber.Ctx) error {
	ctxName := owner(c.Path())
	if ctxName == "" {
		return fiber.ErrNotFound
	}
	base := g.cfg.Upstreams[ctxName]
	cb := g.cbs[base]
	id, _ := c.Locals("requestid").(string)
	c.Request().Header.Set("X-Request-ID", id)
	c.Request().Header.Set(fiber.HeaderXForwardedFor, c.IP())
	target := base + string(c.Request().URI().RequestURI())
	// The upstream continues this request's trace (the edge's server span,
	// or the trace id Ensure gave it), never a traceparent the client sent
	// that the edge did not adopt; streams and tunnels carry it too.
	setTraceParent(c, c.UserContext())
	if strings.EqualFold(c.Get(fiber.HeaderUpgrade), "websocket") {
		return g.tunnel(c, cb, base)
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), "text/event-stream") {
		return g.stream(c, cb, target)
	}
	span := g.clientSpan(c, ctxName)
	_, err := cb.Execute(func() (any, error) {
		if err := proxy.DoTimeout(c, target, g.perOp); err != nil {
			return nil, err
		}
		if s := c.Response().StatusCode(); s == fiber.StatusBadGateway || s == fiber.StatusGatewayTimeout {
			return nil, errUpstream5xx
		}
		return nil, nil
	})
	if span != nil {
		span.SetAttributes(semconv.HTTPResponseStatusCode(c.Response().StatusCode()))
		if err != nil || c.Response().StatusCode() >= 500 {
			span.SetStatus(codes.Error, "")
			if err != nil {
				span.RecordError(err)
			}
		}
		span.End()
	}
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, errUpstream5xx):
		c.Response().Header.Del(fiber.HeaderServer)
		return nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		c.Response().Reset()
		return errUpstreamDown
	case errors.As(err, &ne):
		g.log.WarnContext(c.UserContext(), "upstream unreachable", "context", ctxName, "err", err)
		c.Response().Reset()
		return errUpstreamDown
	default:
		g.log.WarnContext(c.UserContext(), "upstream failed", "context", ctxName, "err", err)
		c.Response().Reset()
		return errUpstreamDown
	}
}

// clientSpan starts the span of a forwarded call (nil with tracing off)
// and makes its traceparent the one the upstream continues.
func (g *Gateway) clientSpan(c *fiber.Ctx, upstream string) trace.Span {
	if !otelx.Tracing() {
		return nil
	}
	method := httpx.MethodName(c.Method())
	ctx, span := otelx.Tracer().Start(c.UserContext(), method+" "+upstream, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), attribute.String("commerce.upstream", upstream)))
	setTraceParent(c, ctx)
	return span
}

// setTraceParent makes the trace context of ctx the forwarded request's
// traceparent (and tracestate), replacing what the client sent.
func setTraceParent(c *fiber.Ctx, ctx context.Context) {
	c.Request().Header.Del("traceparent")
	c.Request().Header.Del("tracestate")
	otelx.Inject(ctx, func(k, v string) { c.Request().Header.Set(k, v) })
}

// Run serves the edge until ctx ends.
func (g *Gateway) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- g.App.Listener(ln) }()
	feedCtx, stopFeeds := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFeeds()
	if g.feeds != nil {
		go func() {
			if err := g.feeds.Run(feedCtx); err != nil {
				g.log.Error("graphql subscription feeds stopped", "err", err)
			}
		}()
	}
	g.log.Info("gateway listening", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	if g.graph != nil {
		g.graph.CloseSubscriptions() // they never end by themselves
	}
	stopFeeds()
	_ = g.App.ShutdownWithTimeout(g.cfg.ShutdownTimeout)
	g.lim.Close()
	shutdownTelemetry(g.met, g.log) // the last OTLP pushes
	return g.rdb.Close()
}

// openAPI merges the documents of every upstream: the split deployment
// publishes the same contract as the monolith.
func (g *Gateway) openAPI(c *fiber.Ctx) error {
	merged := map[string]any{}
	schemas := map[string]any{} // components of every upstream: their paths $ref them
	var doc map[string]any
	seen := map[string]bool{}
	for _, base := range g.cfg.Upstreams {
		if seen[base] {
			continue
		}
		seen[base] = true
		code, body, errs := fiber.Get(base + "/openapi.json").Timeout(5 * time.Second).Bytes()
		if len(errs) > 0 || code != fiber.StatusOK {
			return errUpstreamDown.WithDetail("an upstream did not serve its OpenAPI document")
		}
		var d map[string]any
		if err := json.Unmarshal(body, &d); err != nil {
			return err
		}
		if doc == nil {
			doc = d
		}
		if comps, ok := d["components"].(map[string]any); ok {
			if s, ok := comps["schemas"].(map[string]any); ok {
				for name, schema := range s {
					schemas[name] = schema
				}
			}
		}
		if paths, ok := d["paths"].(map[string]any); ok {
			for p, item := range paths {
				if owner(p) == "" || g.cfg.Upstreams[owner(p)] == base {
					merged[p] = item
				}
			}
		}
	}
	if doc == nil {
		return fiber.ErrNotFound
	}
	doc["paths"] = merged
	if comps, ok := doc["components"].(map[string]any); ok {
		comps["schemas"] = schemas
	}
	return c.JSON(doc)
}

// stream relays a Server-Sent Events response chunk by chunk, flushing each
// one to the client; the upstream request ends when the client leaves.
func (g *Gateway) stream(c *fiber.Ctx, cb *gobreaker.CircuitBreaker[any], target string) error {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, c.Method(), target, bytes.NewReader(append([]byte(nil), c.Body()...)))
	if err != nil {
		cancel()
		return err
	}
	c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
	res, err := cb.Execute(func() (any, error) { return g.streams.Do(req) })
	if err != nil {
		cancel()
		return errUpstreamDown
	}
	resp := res.(*http.Response)
	c.Status(resp.StatusCode)
	for k, vs := range resp.Header {
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				if w.Flush() != nil {
					return // the client left
				}
			}
			if err != nil {
				return
			}
		}
	})
	return nil
}

// tunnel relays a WebSocket: the upgrade request goes to the upstream as
// is; on 101 both connections are piped until either side closes.
func (g *Gateway) tunnel(c *fiber.Ctx, cb *gobreaker.CircuitBreaker[any], base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	res, err := cb.Execute(func() (any, error) { return net.DialTimeout("tcp", u.Host, 5*time.Second) })
	if err != nil {
		return errUpstreamDown
	}
	up := res.(net.Conn)
	if _, err := up.Write(c.Request().Header.Header()); err != nil {
		_ = up.Close()
		return errUpstreamDown
	}
	br := bufio.NewReader(up)
	_ = up.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		_ = up.Close()
		return errUpstreamDown
	}
	_ = up.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer up.Close()
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		c.Status(resp.StatusCode)
		if ct := resp.Header.Get(fiber.HeaderContentType); ct != "" {
			c.Set(fiber.HeaderContentType, ct)
		}
		return c.Send(body)
	}
	c.Status(http.StatusSwitchingProtocols)
	for k, vs := range resp.Header {
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	c.Context().Hijack(func(client net.Conn) {
		defer up.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, client); done <- struct{}{} }()
		go func() { _, _ = io.Copy(client, br); done <- struct{}{} }()
		<-done
		// Both copies must end before fasthttp takes the client
		// connection back: closing the upstream ends one, an expired
		// deadline the other (closing a hijacked conn is fasthttp's job).
		_ = up.Close()
		_ = client.SetDeadline(time.Now())
		<-done
	})
	return nil
}
