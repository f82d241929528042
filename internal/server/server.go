package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/audit"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/kafka"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/metrics"
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

//go:embed assets/docs.html
var docsHTML []byte

// Version is set by cmd/ from the build.
var Version = "dev"

// Server is one running process: platform plus hosted contexts.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	DB      *pg.DB
	Redis   *redisx.Client
	Keys    *authn.Keys
	Bus     *events.Bus
	App     *fiber.App
	Doc     *openapi.Registry
	metrics *metrics.Metrics
	idem    *idempotency.Store
	limiter *ratelimit.Limiter
	// jobs is the process's asynq server and client (jobs.go).
	jobs *jobs.Queue
	// modules are the hosted contexts, in the registry's order.
	modules    []module.Module
	kafka      *kafka.Publisher
	forwarder  *events.Forwarder
	conns      map[string]*grpc.ClientConn
	storefront *httpx.Storefront
	audit      *audit.Log
	graph      *gql.Gateway
	// feeds feed graph's subscriptions (nil without GraphQL).
	feeds *liveFeeds
}

// New wires everything on an open, migrated database. It does not start
// listening; Run does.
func New(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log, DB: db, Doc: &openapi.Registry{}, audit: audit.New(db, log)}
	var err error
	if s.Redis, err = redisx.Open(ctx, cfg.RedisURL); err != nil {
		return nil, err
	}
	if s.Keys, err = authn.LoadOrGenerate(cfg.JWTKeyFile, cfg.DataDir); err != nil {
		return nil, err
	}
	if s.metrics, err = metrics.New(); err != nil {
		return nil, err
	}
	busCfg := events.BusConfig{}
	if cfg.EventTransport == "kafka" {
		if s.kafka, err = kafka.NewPublisher(cfg.KafkaBrokers, log); err != nil {
			return nil, fmt.Errorf("KAFKA_BROKERS: %w", err)
		}
		busCfg.Subscriber = func(group string) (message.Subscriber, error) {
			return kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: cfg.KafkaBrokers, ConsumerGroup: group, Logger: log})
		}
	}
	if s.Bus, err = events.NewBus(db, log, busCfg); err != nil {
		return nil, err
	}
	outbox := events.NewOutbox(log)
	limiter := ratelimit.New(s.Redis)
	s.limiter = limiter
	s.idem = idempotency.New(db, log)
	sender, err := mail.New(cfg.SMTPURL, cfg.MailFrom, log.With("component", "mail"))
	if err != nil {
		return nil, err
	}

	if s.jobs, err = newJobs(ctx, cfg, db, s.Redis.Client, log); err != nil {
		return nil, err
	}
	s.platformJobs()

	published, err := s.wireContexts(db, outbox, limiter, sender)
	if err != nil {
		return nil, err
	}
	topics := append(append([]string{}, published...), s.Bus.Topics()...)
	if err := s.Bus.InitTopics(topics...); err != nil {
		return nil, err
	}
	if s.kafka != nil && len(published) > 0 {
		// Every topic this process publishes is relayed from its outbox to Kafka.
		if s.forwarder, err = events.NewForwarder(s.Bus, s.kafka, published); err != nil {
			return nil, err
		}
	}
	for _, m := range s.modules {
		if b, ok := m.(module.AdminBootstrapper); ok && cfg.AdminEmail != "" {
			created, err := b.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
			if err != nil {
				return nil, fmt.Errorf("BOOTSTRAP_ADMIN_EMAIL: %w", err)
			}
			if created {
				log.Info("bootstrap admin created", "email", cfg.AdminEmail)
			}
		}
	}
	if err := s.observeEvents(); err != nil {
		return nil, fmt.Errorf("event metrics: %w", err)
	}
	if err := s.observeShop(); err != nil { // observe.go
		return nil, fmt.Errorf("shop metrics: %w", err)
	}
	if s.storefront, err = newStorefront(cfg); err != nil {
		return nil, err
	}
	if s.App, err = s.buildHTTP(limiter); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) buildHTTP(limiter *ratelimit.Limiter) (*fiber.App, error) {
	cfg := s.cfg
	app := httpx.NewApp(httpx.Config{BodyLimit: cfg.BodyLimit, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout,
		IdleTimeout: cfg.IdleTimeout, CORSOrigins: cfg.CORSOrigins, TrustProxy: cfg.TrustProxy}, s.log)
	app.Use(s.metrics.Middleware)
	authMW := httpx.NewAuth(s.Keys.Verifier())
	app.Use(authMW.Identify)

	root := httpx.NewRouter(app, s.Doc, authMW)
	root.Audit = s.audit // before any group: every admin change is recorded
	root.PerRoute = func(method, path string) fiber.Handler {
		l, ok := cfg.RouteLimits[method+" "+path]
		if !ok {
			return nil
		}
		return httpx.RateLimit(limiter, "route:"+method+" "+path, l.Limit, l.Window, func(c *fiber.Ctx) string {
			if p, ok := httpx.Principal(c); ok {
				return "u:" + p.UserID
			}
			return "ip:" + c.IP()
		})
	}
	root.Handle(openapi.Op{Method: "GET", Path: "/healthz", Summary: "Process is alive", Tag: "ops", Response: healthBody{}}, func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	root.Handle(openapi.Op{Method: "GET", Path: "/readyz", Summary: "Database and Redis reachable", Tag: "ops", Response: readyBody{}, Responses: map[int]any{503: readyBody{}}}, s.ready)
	root.Handle(openapi.Op{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics", Tag: "ops", Produces: "text/plain", Response: ""}, s.metrics.Handler())
	root.Handle(openapi.Op{Method: "GET", Path: "/openapi.json", Summary: "This OpenAPI 3.1 document", Tag: "ops", Response: map[string]any{}}, func(c *fiber.Ctx) error {
		return c.JSON(s.Doc.Document("Commerce API", Version))
	})
	root.Handle(openapi.Op{Method: "GET", Path: "/docs", Summary: "Browsable API documentation", Tag: "ops", Produces: "text/html", Response: ""}, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(docsHTML)
	})

	mountQueueMonitor(app, authMW, s.Redis.Client)
	perMinute := cfg.RateLimitPerMinute
	api := root.Group("/api/v1",
		httpx.RateLimit(limiter, "ip", perMinute, time.Minute, httpx.ByIP),
		httpx.RateLimit(limiter, "user", perMinute, time.Minute, httpx.ByUser),
		s.idem.Middleware,
	)
	s.platformAdminRoutes(api)
	for _, m := range s.modules {
		switch r := m.(type) {
		case module.RootRouter:
			r.Routes(root, api)
		case module.Router:
			r.Routes(api)
		}
	}
	// GraphQL behind the same rate limits as REST (graphql.go), ahead
	// of the storefront, which would answer a browser's GET with the app.
	if err := s.mountGraphQL(app, httpx.RateLimit(limiter, "ip", perMinute, time.Minute, httpx.ByIP),
		httpx.RateLimit(limiter, "user", perMinute, time.Minute, httpx.ByUser)); err != nil {
		return nil, err
	}
	// The storefront last, so it never shadows a route: GET / is
	// documented like any route; its handler then takes what nothing else
	// matched (files of the build, a browser's client routes) and passes
	// the rest on to the 404.
	root.Handle(storefrontOp, s.storefront.Index)
	app.Use(s.storefront.Handler)
	return app, nil
}

// healthBody documents the answer of /healthz.
type healthBody struct {
	Status string `json:"status" enum:"ok"`
}

// readyBody documents the answer of /readyz (200 and 503 alike): one
// check per dependency, "ok" or "unreachable"; "degraded" (still 200) when
// events wait longer than EVENT_LAG_DEGRADED, with checks.events naming
// the topics.
type readyBody struct {
	Status string            `json:"status" enum:"ready,degraded,unavailable"`
	Checks map[string]string `json:"checks"`
}

func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{"database": "ok", "redis": "ok"}
	ok := true
	if err := s.DB.PingContext(ctx); err != nil {
		checks["database"], ok = "unreachable", false
	}
	if err := s.Redis.Ping(ctx).Err(); err != nil {
		checks["redis"], ok = "unreachable", false
	}
	if s.kafka != nil {
		checks["kafka"] = "ok"
		if err := s.kafka.Ping(ctx); err != nil {
			checks["kafka"], ok = "unreachable", false
		}
	}
	for _, m := range s.modules {
		if rc, is := m.(module.ReadinessChecker); is {
			if name, err := rc.CheckReady(ctx); name != "" {
				checks[name] = "ok"
				if err != nil {
					checks[name], ok = "unreachable", false
				}
			}
		}
	}
	status, word := fiber.StatusOK, "ready"
	if ok {
		if lagging := s.laggingTopics(ctx); lagging != "" {
			checks["events"], word = "lagging: "+lagging, "degraded"
		} else {
			checks["events"] = "ok"
		}
	} else {
		status, word = fiber.StatusServiceUnavailable, "unavailable"
	}
	return c.Status(status).JSON(fiber.Map{"status": word, "checks": checks})
}

// laggingTopics names the topics whose oldest undelivered event is older
// than EVENT_LAG_DEGRADED ("" when none, or when lag cannot be read: the
// database check reports that).
func (s *Server) laggingTopics(ctx context.Context) string {
	lag, err := s.Bus.Lag(ctx)
	if err != nil {
		return ""
	}
	var out []string
	for topic, age := range lag {
		if age > s.cfg.EventLagDegraded.Seconds() {
			out = append(out, fmt.Sprintf("%s %.0fs", topic, age))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// observeEvents registers the event-delivery gauges: per-topic lag and the
// age of the oldest transaction the binary's own sessions hold.
func (s *Server) observeEvents() error {
	m := s.metrics.Meter("commerce/events")
	lag, err := m.Float64ObservableGauge("commerce.outbox.lag", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest event not yet delivered to this process's consumers (or forwarder), per topic"))
	if err != nil {
		return err
	}
	oldest, err := m.Float64ObservableGauge("commerce.db.oldest_transaction", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest open transaction in the binary's own database sessions"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if l, err := s.Bus.Lag(ctx); err == nil {
			for topic, age := range l {
				o.ObserveFloat64(lag, age, metric.WithAttributes(attribute.String("topic", topic)))
			}
		}
		if d, err := s.DB.OldestTransaction(ctx); err == nil {
			o.ObserveFloat64(oldest, d.Seconds())
		}
		return nil
	}, lag, oldest)
	return err
}

// Run serves until ctx ends, then shuts down gracefully: stop accepting,
// drain in-flight requests, stop consumers and workers, close pools.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener (tests).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	g, gctx := errgroup.WithContext(workCtx)
	// Every background worker logs why it stopped: a stopped worker stops
	// the process (an orchestrator restarts it) instead of silently
	// leaving events or deadlines unprocessed.
	goWorker := func(name string, fn func(context.Context) error) {
		g.Go(func() error {
			err := fn(gctx)
			if err != nil && gctx.Err() == nil {
				s.log.Error("background worker stopped", "worker", name, "err", err)
			}
			return err
		})
	}
	goWorker("events", s.Bus.Run)
	// The heartbeat that lets another process take over an Idempotency-Key
	// lease of this one if it dies; it stops (and frees its leases) after
	// in-flight requests drained.
	goWorker("idempotency-heartbeat", s.idem.Run)
	if s.forwarder != nil {
		goWorker("outbox-forwarder", s.forwarder.Run)
	}
	if s.cfg.Split() && s.grpcServed() {
		goWorker("grpc", s.serveGRPC)
	}
	// Consumers subscribe before traffic arrives (and before a quick
	// shutdown, which would otherwise wait for a half-started router).
	select {
	case <-s.Bus.Running():
	case <-gctx.Done():
	case <-time.After(30 * time.Second):
		s.log.Warn("event consumers slow to start")
	}
	if s.feeds != nil {
		goWorker("graphql-feeds", s.feeds.Run)
	}
	for _, m := range s.modules {
		if r, ok := m.(module.Runner); ok {
			goWorker(m.Name(), r.Run)
		}
	}
	goWorker("jobs", s.jobs.Run)
	httpErr := make(chan error, 1)
	go func() { httpErr <- s.App.Listener(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "version", Version, "storefront_built", s.storefront.Built())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpErr:
	case <-gctx.Done():
		runErr = errors.New("background worker stopped")
	}
	s.log.Info("shutting down")
	for _, m := range s.modules {
		if sd, ok := m.(module.Shutdowner); ok {
			sd.Shutdown() // SSE streams and WebSockets never end by themselves
		}
	}
	if s.graph != nil {
		s.graph.CloseSubscriptions() // nor GraphQL subscriptions
	}
	if err := s.App.ShutdownWithTimeout(s.cfg.ShutdownTimeout); err != nil {
		s.log.Error("http shutdown", "err", err)
	}
	stopWork()
	_ = s.Bus.Close()
	if s.forwarder != nil {
		_ = s.forwarder.Close() // closes the Kafka publisher too
	} else if s.kafka != nil {
		_ = s.kafka.Close()
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) && runErr == nil {
		runErr = err
	}
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.limiter.Close()
	shutdownTelemetry(s.metrics, s.log) // the last OTLP pushes
	_ = s.Redis.Close()
	return runErr
}
