// Package config loads the one typed configuration of the binary from the
// environment and mirrored command-line flags, validates it at start and
// prints it with secrets masked, so adapters never read os.Getenv.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Config is every setting of the binary. Field docs live in the spec table
// below so that env names, flag names, defaults and help stay in one place.
type Config struct {
	HTTPAddr    string
	GRPCAddr    string
	DatabaseURL string
	DataDir     string
	// DBStatementTimeout and DBIdleInTxTimeout bound what `commerce serve`
	// holds open on PostgreSQL (0: no bound); DBMaxConns is the pool size.
	DBStatementTimeout time.Duration
	DBIdleInTxTimeout  time.Duration
	DBMaxConns         int
	RedisURL           string
	// Jobs (internal/platform/jobs): workers per process, retries of a
	// failed task, and the prefix of the queue names (default: the
	// database's name, so shops sharing a Redis keep apart).
	JobsConcurrency int
	JobsMaxRetry    int
	JobsNamespace   string
	// CartAbandonedAfter is when a customer's idle cart with items gets its
	// recovery email; CartRecoveryPromo is a promo code the email offers.
	CartAbandonedAfter time.Duration
	CartRecoveryPromo  string
	EventTransport     string
	KafkaBrokers       []string
	SearchBackend      string
	MeilisearchURL     string
	MeilisearchKey     string
	SMTPURL            string
	MailFrom           string
	PublicURL          string
	// Notifications: email template overrides, the SMS failover chain and
	// the SSE keep-alive.
	TemplatesDir string
	SMSProviders string
	SMSHTTPToken string
	SSEHeartbeat time.Duration
	// WebhooksAllowInsecure lets webhook endpoints use plain http and
	// loopback addresses (development only; nothing else private).
	WebhooksAllowInsecure bool
	// EventLagDegraded is how old an undelivered event may get before
	// /readyz answers "degraded" (200, naming the lagging topics).
	EventLagDegraded time.Duration
	// OutboxRetention is how long delivered events stay in the outbox (for
	// the admin event log and re-reads) before the periodic purge.
	OutboxRetention time.Duration
	// AuthPerMinute caps credential requests per client IP.
	AuthPerMinute   int
	StripeSecretKey string
	StripeWebhook   string
	StripeAPIBase   string

	// StripePublishableKey is the public key the storefront hands to
	// Stripe.js; when set, the storefront's Content-Security-Policy admits
	// Stripe's scripts, frames and API.
	StripePublishableKey string

	PaymentWebhook string
	JWTKeyFile     string
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	PaymentTimeout time.Duration
	Reminders      []time.Duration
	// SagaEngine runs the place-order saga: "postgres" (its state in the
	// order row, no extra server) or "temporal" (a Temporal workflow per
	// order on TemporalAddress/TemporalNamespace, worked on TemporalTaskQueue
	// by the processes hosting ordering).
	SagaEngine        string
	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string
	CheckoutTTL       time.Duration
	AdminEmail        string
	AdminPassword     string
	Contexts          []string
	// OpenTelemetry (OTEL_*, the standard variables): see otelx.Settings.
	OTLPEndpoint, OTLPTracesEndpoint, OTLPMetricsEndpoint, OTLPLogsEndpoint string
	OTLPProtocol                                                            string
	OTLPHeaders                                                             string
	OTLPInsecure                                                            bool
	// OTLPTimeout is OTEL_EXPORTER_OTLP_TIMEOUT (ms); OTLPTracesTimeout the
	// traces' override ("" = the generic one).
	OTLPTimeout                                               int
	OTLPTracesTimeout                                         string
	OTLPCompression, OTLPTracesCompression                    string
	OTLPCertificate, OTLPTracesCertificate                    string
	OTLPClientCertificate, OTLPTracesClientCertificate        string
	OTLPClientKey, OTLPTracesClientKey                        string
	OTelServiceName, OTelResourceAttributes                   string
	OTelTracesSampler, OTelTracesSamplerArg                   string
	OTelTracesExporter, OTelMetricsExporter, OTelLogsExporter string
	OTelMetricExportInterval                                  int // milliseconds
	OTelMetricExportTimeout                                   int // milliseconds
	OTelSDKDisabled                                           bool
	LogLevel                                                  string
	CORSOrigins                                               []string
	BodyLimit                                                 int
	ReadTimeout                                               time.Duration
	WriteTimeout                                              time.Duration
	IdleTimeout                                               time.Duration
	ShutdownTimeout                                           time.Duration
	// PasswordHashMemoryKiB tunes argon2id; lowering it is for tests only.
	PasswordHashMemoryKiB int
	// LoginMaxFailures is how many failed logins per email+IP are allowed per LoginWindow.
	LoginMaxFailures int
	LoginWindow      time.Duration
	// RateLimitPerMinute caps requests per client IP (and per user when authenticated).
	RateLimitPerMinute int
	// TrustProxy makes X-Forwarded-For the client IP; only behind a trusted proxy.
	TrustProxy bool
	// GraphQLIntrospection allows __schema/__type queries on /graphql
	// (GraphiQL needs them); a shop may turn it off in production.
	GraphQLIntrospection bool
	// MigrateOnStart makes serve apply pending migrations at start (the
	// zero-setup default). Deployments with replicas turn it off and run
	// `commerce migrate up` once per release (a Job, a one-shot service);
	// serve then refuses to start on a schema that is behind its code.
	MigrateOnStart bool
	// RouteLimits are per-route limits ("POST /api/v1/auth/login" → 10 per 1m),
	// applied per user when authenticated, else per client IP.
	RouteLimits map[string]RouteLimit
	// PprofAddr serves net/http/pprof on a separate (private) address when set.
	PprofAddr string
	// Upstreams maps a context to the base URL of the process serving its
	// HTTP routes, for CONTEXTS=gateway (GATEWAY_UPSTREAMS).
	Upstreams map[string]string
	// gRPC addresses (<CTX>_GRPC_ADDR) of contexts this process does not host.
	AuthGRPCAddr, CatalogGRPCAddr, CartGRPCAddr, PaymentsGRPCAddr, FulfillmentGRPCAddr string
}

// RemoteAddr returns <CTX>_GRPC_ADDR of a context ("" when unset).
func (c *Config) RemoteAddr(ctx string) string {
	return map[string]string{"auth": c.AuthGRPCAddr, "catalog": c.CatalogGRPCAddr, "cart": c.CartGRPCAddr,
		"payments": c.PaymentsGRPCAddr, "fulfillment": c.FulfillmentGRPCAddr}[ctx]
}

// Gateway reports whether this process is the edge of a split deployment.
func (c *Config) Gateway() bool { return len(c.Contexts) == 1 && c.Contexts[0] == "gateway" }

// Split reports whether this process hosts only some contexts.
func (c *Config) Split() bool { return len(c.Contexts) < len(AllContexts) }

// RouteLimit is a request budget per window for one route.
type RouteLimit struct {
	Limit  int
	Window time.Duration
}

// AllContexts is the list of bounded contexts the monolith hosts by default.
var AllContexts = []string{"auth", "catalog", "cart", "ordering", "payments", "fulfillment", "notify", "chat", "search", "webhooks"}

type kind int

const (
	kString kind = iota
	kDuration
	kDurationOrZero
	kInt
	kList
	kDurations
	kBool
	kRouteLimits
	kUpstreams
)

type spec struct {
	env    string
	def    string
	secret bool
	help   string
	k      kind
	ptr    any
	check  func(string) error
}

func (c *Config) specs() []spec {
	return []spec{
		{env: "HTTP_ADDR", def: ":8080", help: "public HTTP listen address", k: kString, ptr: &c.HTTPAddr, check: addr},
		{env: "GRPC_ADDR", def: ":9090", help: "gRPC listen address (split mode)", k: kString, ptr: &c.GRPCAddr, check: addr},
		{env: "DATABASE_URL", help: "PostgreSQL DSN; unset runs an embedded PostgreSQL under DATA_DIR", k: kString, ptr: &c.DatabaseURL, secret: true, check: dsn("postgres", "postgresql")},
		{env: "DB_STATEMENT_TIMEOUT", def: "30s", help: "statement_timeout of the server's database connections (0: none; not applied to migrations and data commands)", k: kDurationOrZero, ptr: &c.DBStatementTimeout},
		{env: "DB_IDLE_IN_TRANSACTION_TIMEOUT", def: "15s", help: "idle_in_transaction_session_timeout of the server's database connections (0: none)", k: kDurationOrZero, ptr: &c.DBIdleInTxTimeout},
		{env: "MIGRATE_ON_START", def: "true", help: "serve applies pending migrations at start; false: they are run once by `commerce migrate up` and serve refuses a schema behind its code", k: kBool, ptr: &c.MigrateOnStart},
		{env: "DB_MAX_CONNS", def: "10", help: "database connection pool size of each process", k: kInt, ptr: &c.DBMaxConns, check: positive},
		{env: "DATA_DIR", def: "./.commerce", help: "directory for embedded data and generated keys", k: kString, ptr: &c.DataDir, check: nonEmpty},
		{env: "REDIS_URL", help: "Redis URL; unset runs an in-process Redis", k: kString, ptr: &c.RedisURL, secret: true, check: dsn("redis", "rediss")},
		{env: "JOBS_CONCURRENCY", def: "10", help: "background tasks (asynq) processed at once by each process", k: kInt, ptr: &c.JobsConcurrency, check: positive},
		{env: "JOBS_MAX_RETRY", def: "8", help: "retries of a failed background task (exponential backoff from 10s, at most 1h apart)", k: kInt, ptr: &c.JobsMaxRetry, check: positive},
		{env: "JOBS_NAMESPACE", help: "prefix of the job queues in Redis; default the database name of DATABASE_URL (commerce when embedded), so shops sharing a Redis keep apart", k: kString, ptr: &c.JobsNamespace},
		{env: "CART_ABANDONED_AFTER", def: "1h", help: "idle time after which a signed-in customer's cart with items gets one recovery email (at most one per cart per 24h)", k: kDuration, ptr: &c.CartAbandonedAfter, check: positiveDuration},
		{env: "CART_RECOVERY_PROMO", help: "promo code offered in cart recovery emails (none when unset)", k: kString, ptr: &c.CartRecoveryPromo},
		{env: "EVENT_TRANSPORT", def: "postgres", help: "postgres or kafka", k: kString, ptr: &c.EventTransport, check: oneOf("postgres", "kafka")},
		{env: "KAFKA_BROKERS", help: "comma separated Kafka seed brokers", k: kList, ptr: &c.KafkaBrokers},
		{env: "SEARCH_BACKEND", def: "postgres", help: "postgres or meilisearch", k: kString, ptr: &c.SearchBackend, check: oneOf("postgres", "meilisearch")},
		{env: "MEILISEARCH_URL", help: "Meilisearch URL", k: kString, ptr: &c.MeilisearchURL},
		{env: "MEILISEARCH_KEY", help: "Meilisearch API key", k: kString, ptr: &c.MeilisearchKey, secret: true},
		{env: "SMTP_URL", help: "smtp://user:pass@host:port (STARTTLS when offered), smtps:// (implicit TLS); ?tls=required|none; unset logs emails", k: kString, ptr: &c.SMTPURL, secret: true, check: dsn("smtp", "smtps")},
		{env: "MAIL_FROM", def: "Commerce <no-reply@localhost>", help: "sender address of emails", k: kString, ptr: &c.MailFrom},
		{env: "NOTIFY_TEMPLATES_DIR", help: "directory of email templates overriding the built-in ones (order.html, verify_email.txt, subjects.json, ...)", k: kString, ptr: &c.TemplatesDir},
		{env: "SMS_PROVIDERS", def: "log", help: `SMS failover chain, tried in order: "log" and http(s) URLs (JSON POST {id,to,body}; https://:token@host/path carries its own token)`, k: kString, ptr: &c.SMSProviders, secret: true},
		{env: "SMS_HTTP_TOKEN", help: "bearer token of HTTP SMS providers without their own", k: kString, ptr: &c.SMSHTTPToken, secret: true},
		{env: "OUTBOX_RETENTION", def: "168h", help: "how long delivered events stay in the outbox before the hourly purge (never one a consumer has not read)", k: kDuration, ptr: &c.OutboxRetention, check: positiveDuration},
		{env: "EVENT_LAG_DEGRADED", def: "30s", help: "age of the oldest undelivered event at which /readyz reports degraded", k: kDuration, ptr: &c.EventLagDegraded, check: positiveDuration},
		{env: "WEBHOOKS_ALLOW_INSECURE", def: "false", help: "webhook endpoints may use http and loopback addresses (development only; other private addresses stay refused)", k: kBool, ptr: &c.WebhooksAllowInsecure},
		{env: "SSE_HEARTBEAT", def: "15s", help: "keep-alive comment interval of Server-Sent Event streams", k: kDuration, ptr: &c.SSEHeartbeat, check: positiveDuration},
		{env: "PUBLIC_URL", help: "base URL used in links sent to users (default http://localhost:<port of HTTP_ADDR>, or its host when HTTP_ADDR names one)", k: kString, ptr: &c.PublicURL, check: dsn("http", "https")},
		{env: "STRIPE_SECRET_KEY", help: "Stripe secret key", k: kString, ptr: &c.StripeSecretKey, secret: true},
		{env: "STRIPE_WEBHOOK_SECRET", help: "Stripe webhook signing secret", k: kString, ptr: &c.StripeWebhook, secret: true},
		{env: "STRIPE_PUBLISHABLE_KEY", help: "Stripe publishable key (pk_...) the storefront gives Stripe.js; opens its Content-Security-Policy to Stripe", k: kString, ptr: &c.StripePublishableKey, check: publishableKey},
		{env: "STRIPE_API_BASE", help: "Stripe API base URL (stripe-mock)", k: kString, ptr: &c.StripeAPIBase},
		{env: "PAYMENT_WEBHOOK_SECRET", help: "secret of the test gateway; generated into DATA_DIR when unset", k: kString, ptr: &c.PaymentWebhook, secret: true},
		{env: "JWT_PRIVATE_KEY_FILE", help: "PEM RSA key for RS256; generated into DATA_DIR when unset", k: kString, ptr: &c.JWTKeyFile},
		{env: "ACCESS_TOKEN_TTL", def: "15m", help: "access token lifetime", k: kDuration, ptr: &c.AccessTTL},
		{env: "REFRESH_TOKEN_TTL", def: "168h", help: "refresh token lifetime", k: kDuration, ptr: &c.RefreshTTL},
		{env: "ORDER_PAYMENT_TIMEOUT", def: "24h", help: "unpaid orders expire after this", k: kDuration, ptr: &c.PaymentTimeout},
		{env: "ORDER_REMINDERS", def: "4h,12h,22h", help: "payment reminder offsets", k: kDurations, ptr: &c.Reminders},
		{env: "SAGA_ENGINE", def: "postgres", help: "engine of the place-order saga: postgres (no extra server) or temporal", k: kString, ptr: &c.SagaEngine, check: oneOf("postgres", "temporal")},
		{env: "TEMPORAL_ADDRESS", help: "host:port of the Temporal frontend (required when SAGA_ENGINE=temporal)", k: kString, ptr: &c.TemporalAddress, check: addr},
		{env: "TEMPORAL_NAMESPACE", def: "default", help: "Temporal namespace of the order workflows", k: kString, ptr: &c.TemporalNamespace, check: nonEmpty},
		{env: "TEMPORAL_TASK_QUEUE", def: "commerce-ordering", help: "Temporal task queue the ordering workers poll", k: kString, ptr: &c.TemporalTaskQueue, check: nonEmpty},
		{env: "CHECKOUT_SESSION_TTL", def: "30m", help: "checkout session lifetime", k: kDuration, ptr: &c.CheckoutTTL},
		{env: "BOOTSTRAP_ADMIN_EMAIL", help: "create this verified admin at start if missing", k: kString, ptr: &c.AdminEmail},
		{env: "BOOTSTRAP_ADMIN_PASSWORD", help: "password of the bootstrap admin", k: kString, ptr: &c.AdminPassword, secret: true},
		{env: "CONTEXTS", def: "all", help: "bounded contexts this process hosts", k: kList, ptr: &c.Contexts},
		{env: "OTEL_EXPORTER_OTLP_ENDPOINT", help: "OTLP endpoint of traces, metrics and logs (http://collector:4317); unset exports nothing", k: kString, ptr: &c.OTLPEndpoint, check: otlpEndpoint},
		{env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", help: "OTLP endpoint of traces (overrides OTEL_EXPORTER_OTLP_ENDPOINT; used as is over http/protobuf)", k: kString, ptr: &c.OTLPTracesEndpoint, check: otlpEndpoint},
		{env: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", help: "OTLP endpoint of metrics (overrides OTEL_EXPORTER_OTLP_ENDPOINT)", k: kString, ptr: &c.OTLPMetricsEndpoint, check: otlpEndpoint},
		{env: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", help: "OTLP endpoint of logs (overrides OTEL_EXPORTER_OTLP_ENDPOINT)", k: kString, ptr: &c.OTLPLogsEndpoint, check: otlpEndpoint},
		{env: "OTEL_EXPORTER_OTLP_PROTOCOL", def: "grpc", help: "grpc or http/protobuf", k: kString, ptr: &c.OTLPProtocol, check: oneOf("grpc", "http/protobuf")},
		{env: "OTEL_EXPORTER_OTLP_HEADERS", help: "headers sent with every export, key=value,... (values URL-encoded)", k: kString, ptr: &c.OTLPHeaders, secret: true, check: keyValues},
		{env: "OTEL_EXPORTER_OTLP_INSECURE", def: "false", help: "plaintext gRPC to an endpoint given without scheme", k: kBool, ptr: &c.OTLPInsecure},
		{env: "OTEL_EXPORTER_OTLP_TIMEOUT", def: "10000", help: "milliseconds an export may take, retries included", k: kInt, ptr: &c.OTLPTimeout, check: positive},
		{env: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", help: "OTEL_EXPORTER_OTLP_TIMEOUT of traces only", k: kString, ptr: &c.OTLPTracesTimeout, check: positive},
		{env: "OTEL_EXPORTER_OTLP_COMPRESSION", help: "gzip or none (default): compression of exports", k: kString, ptr: &c.OTLPCompression, check: oneOf("gzip", "none")},
		{env: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", help: "OTEL_EXPORTER_OTLP_COMPRESSION of traces only", k: kString, ptr: &c.OTLPTracesCompression, check: oneOf("gzip", "none")},
		{env: "OTEL_EXPORTER_OTLP_CERTIFICATE", help: "PEM file of the CA certificates that verify the collector (default: the system's)", k: kString, ptr: &c.OTLPCertificate},
		{env: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", help: "OTEL_EXPORTER_OTLP_CERTIFICATE of traces only", k: kString, ptr: &c.OTLPTracesCertificate},
		{env: "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", help: "PEM file of the client certificate presented to the collector (mTLS)", k: kString, ptr: &c.OTLPClientCertificate},
		{env: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", help: "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE of traces only", k: kString, ptr: &c.OTLPTracesClientCertificate},
		{env: "OTEL_EXPORTER_OTLP_CLIENT_KEY", help: "PEM file of the key of OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", k: kString, ptr: &c.OTLPClientKey},
		{env: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", help: "OTEL_EXPORTER_OTLP_CLIENT_KEY of traces only", k: kString, ptr: &c.OTLPTracesClientKey},
		{env: "OTEL_SERVICE_NAME", def: "commerce", help: "service.name of the exported telemetry", k: kString, ptr: &c.OTelServiceName, check: nonEmpty},
		{env: "OTEL_RESOURCE_ATTRIBUTES", help: "extra resource attributes, key=value,... (values URL-encoded)", k: kString, ptr: &c.OTelResourceAttributes, check: keyValues},
		{env: "OTEL_TRACES_SAMPLER", def: "parentbased_always_on", help: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", k: kString, ptr: &c.OTelTracesSampler,
			check: oneOf("always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio")},
		{env: "OTEL_TRACES_SAMPLER_ARG", help: "sampling ratio (0 to 1) of the traceidratio samplers; default 1", k: kString, ptr: &c.OTelTracesSamplerArg, check: ratio},
		{env: "OTEL_TRACES_EXPORTER", def: "otlp", help: "otlp or none (traces not exported)", k: kString, ptr: &c.OTelTracesExporter, check: oneOf("otlp", "none")},
		{env: "OTEL_METRICS_EXPORTER", def: "otlp", help: "otlp or none (metrics not exported; /metrics stays)", k: kString, ptr: &c.OTelMetricsExporter, check: oneOf("otlp", "none")},
		{env: "OTEL_LOGS_EXPORTER", def: "otlp", help: "otlp or none (logs not exported; stderr stays)", k: kString, ptr: &c.OTelLogsExporter, check: oneOf("otlp", "none")},
		{env: "OTEL_METRIC_EXPORT_INTERVAL", def: "60000", help: "milliseconds between metric exports", k: kInt, ptr: &c.OTelMetricExportInterval, check: positive},
		{env: "OTEL_METRIC_EXPORT_TIMEOUT", def: "30000", help: "milliseconds one metric collect and export may take", k: kInt, ptr: &c.OTelMetricExportTimeout, check: positive},
		{env: "OTEL_SDK_DISABLED", def: "false", help: "true exports nothing whatever the endpoints", k: kBool, ptr: &c.OTelSDKDisabled},
		{env: "LOG_LEVEL", def: "info", help: "debug, info, warn or error", k: kString, ptr: &c.LogLevel, check: oneOf("debug", "info", "warn", "error")},
		{env: "CORS_ALLOWED_ORIGINS", help: "comma separated origins allowed by CORS (empty: same origin only)", k: kList, ptr: &c.CORSOrigins},
		{env: "HTTP_BODY_LIMIT", def: "1048576", help: "largest request body in bytes", k: kInt, ptr: &c.BodyLimit, check: positive},
		{env: "HTTP_READ_TIMEOUT", def: "15s", help: "HTTP read timeout", k: kDuration, ptr: &c.ReadTimeout},
		{env: "HTTP_WRITE_TIMEOUT", def: "30s", help: "HTTP write timeout (not applied to streams)", k: kDuration, ptr: &c.WriteTimeout},
		{env: "HTTP_IDLE_TIMEOUT", def: "120s", help: "HTTP keep-alive idle timeout", k: kDuration, ptr: &c.IdleTimeout},
		{env: "SHUTDOWN_TIMEOUT", def: "20s", help: "graceful shutdown budget", k: kDuration, ptr: &c.ShutdownTimeout},
		{env: "PASSWORD_HASH_MEMORY_KIB", def: "19456", help: "argon2id memory in KiB (OWASP minimum 19456)", k: kInt, ptr: &c.PasswordHashMemoryKiB, check: positive},
		{env: "LOGIN_MAX_FAILURES", def: "5", help: "failed logins per email+IP per window before 429", k: kInt, ptr: &c.LoginMaxFailures, check: positive},
		{env: "LOGIN_FAILURE_WINDOW", def: "15m", help: "window of LOGIN_MAX_FAILURES", k: kDuration, ptr: &c.LoginWindow},
		{env: "AUTH_RATE_LIMIT_PER_MINUTE", def: "60", help: "credential requests (register, login, verify, refresh, password reset) per client IP and minute", k: kInt, ptr: &c.AuthPerMinute, check: positive},
		{env: "RATE_LIMIT_PER_MINUTE", def: "600", help: "requests per minute per client IP and per user", k: kInt, ptr: &c.RateLimitPerMinute, check: positive},
		{env: "TRUST_PROXY", def: "false", help: "take the client IP from X-Forwarded-For", k: kBool, ptr: &c.TrustProxy},
		{env: "GRAPHQL_INTROSPECTION", def: "true", help: "answer introspection (__schema, __type) on /graphql; false refuses it", k: kBool, ptr: &c.GraphQLIntrospection},
		{env: "PPROF_ADDR", help: "serve Go profiling endpoints on this private address (off when empty)", k: kString, ptr: &c.PprofAddr, check: addr},
		{env: "GATEWAY_UPSTREAMS", help: `for CONTEXTS=gateway: "auth=http://host:8080,catalog=http://host2:8080,..." (every context)`, k: kUpstreams, ptr: &c.Upstreams},
		{env: "AUTH_GRPC_ADDR", help: "gRPC address of the auth context when this process does not host it", k: kString, ptr: &c.AuthGRPCAddr, check: addr},
		{env: "CATALOG_GRPC_ADDR", help: "gRPC address of the catalog context when not hosted here", k: kString, ptr: &c.CatalogGRPCAddr, check: addr},
		{env: "CART_GRPC_ADDR", help: "gRPC address of the cart context when not hosted here", k: kString, ptr: &c.CartGRPCAddr, check: addr},
		{env: "PAYMENTS_GRPC_ADDR", help: "gRPC address of the payments context when not hosted here", k: kString, ptr: &c.PaymentsGRPCAddr, check: addr},
		{env: "FULFILLMENT_GRPC_ADDR", help: "gRPC address of the fulfillment context when not hosted here", k: kString, ptr: &c.FulfillmentGRPCAddr, check: addr},
		{env: "RATE_LIMIT_ROUTES", help: `per-route limits, e.g. "POST /api/v1/auth/login=10/1m,GET /api/v1/me=120/1m"`, k: kRouteLimits, ptr: &c.RouteLimits},
	}
}

// Load reads flags (highest precedence), then the environment, then
// defaults. A bad value is an error naming the variable.
func Load(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	specs := c.specs()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := make(map[string]*string, len(specs))
	for _, s := range specs {
		flags[s.env] = fs.String(FlagName(s.env), "", s.help+" (env "+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("config: %w (see --help)", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	for _, s := range specs {
		raw := s.def
		if v := getenv(s.env); v != "" {
			raw = v
		}
		if set[FlagName(s.env)] {
			raw = *flags[s.env]
		}
		raw = strings.TrimSpace(raw)
		if err := s.assign(raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
	}
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// Usage writes the flag/env table, for `commerce serve --help`.
func Usage(w io.Writer) {
	c := &Config{}
	for _, s := range c.specs() {
		def := ""
		if s.def != "" {
			def = " (default " + s.def + ")"
		}
		fmt.Fprintf(w, "  --%-28s %s%s [%s]\n", FlagName(s.env), s.help, def, s.env)
	}
}

// FlagName turns HTTP_ADDR into http-addr: flags mirror the variables.
func FlagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

func (s spec) assign(raw string) error {
	if s.check != nil && raw != "" {
		if err := s.check(raw); err != nil {
			return err
		}
	}
	switch s.k {
	case kString:
		*(s.ptr.(*string)) = raw
	case kInt:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not an integer", raw)
		}
		if s.check != nil {
			if err := s.check(raw); err != nil {
				return err
			}
		}
		*(s.ptr.(*int)) = n
	case kBool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", raw)
		}
		*(s.ptr.(*bool)) = b
	case kDuration:
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration like 15m or 24h", raw)
		}
		*(s.ptr.(*time.Duration)) = d
	case kDurationOrZero:
		if raw == "0" {
			raw = "0s"
		}
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration like 30s, or 0 for none", raw)
		}
		*(s.ptr.(*time.Duration)) = d
	case kList:
		*(s.ptr.(*[]string)) = splitList(raw)
	case kRouteLimits:
		out := map[string]RouteLimit{}
		for _, p := range splitList(raw) {
			route, budget, ok := strings.Cut(p, "=")
			method, path, ok2 := strings.Cut(strings.TrimSpace(route), " ")
			n, win, ok3 := strings.Cut(budget, "/")
			limit, err1 := strconv.Atoi(strings.TrimSpace(n))
			window, err2 := time.ParseDuration(strings.TrimSpace(win))
			if !ok || !ok2 || !ok3 || err1 != nil || err2 != nil || limit <= 0 || window <= 0 || !strings.HasPrefix(strings.TrimSpace(path), "/") {
				return fmt.Errorf("%q is not METHOD /path=N/window (e.g. POST /api/v1/auth/login=10/1m)", p)
			}
			out[strings.ToUpper(method)+" "+strings.TrimSpace(path)] = RouteLimit{Limit: limit, Window: window}
		}
		*(s.ptr.(*map[string]RouteLimit)) = out
	case kUpstreams:
		out := map[string]string{}
		for _, p := range splitList(raw) {
			name, u, ok := strings.Cut(p, "=")
			pu, err := url.Parse(strings.TrimSpace(u))
			if !ok || err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || !contains(AllContexts, strings.TrimSpace(name)) {
				return fmt.Errorf("%q is not context=http://host:port", p)
			}
			out[strings.TrimSpace(name)] = strings.TrimRight(pu.String(), "/")
		}
		*(s.ptr.(*map[string]string)) = out
	case kDurations:
		var out []time.Duration
		for _, p := range splitList(raw) {
			d, err := time.ParseDuration(p)
			if err != nil || d <= 0 {
				return fmt.Errorf("%q is not a positive duration", p)
			}
			out = append(out, d)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		*(s.ptr.(*[]time.Duration)) = out
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicURL(c.HTTPAddr)
	}
	if len(c.Contexts) == 1 && c.Contexts[0] == "all" {
		c.Contexts = append([]string(nil), AllContexts...)
	}
	if contains(c.Contexts, "gateway") {
		if len(c.Contexts) != 1 {
			errs = append(errs, errors.New("CONTEXTS: gateway is a role of its own; do not combine it with contexts"))
		}
		for _, ctx := range AllContexts {
			if c.Upstreams[ctx] == "" {
				errs = append(errs, fmt.Errorf("GATEWAY_UPSTREAMS: no upstream for %s", ctx))
			}
		}
		return errors.Join(errs...)
	}
	for _, name := range c.Contexts {
		if !contains(AllContexts, name) {
			errs = append(errs, fmt.Errorf("CONTEXTS: unknown context %q (known: %s)", name, strings.Join(AllContexts, ", ")))
		}
	}
	if c.EventTransport == "kafka" && len(c.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("KAFKA_BROKERS: required when EVENT_TRANSPORT=kafka"))
	}
	if c.SearchBackend == "meilisearch" && c.MeilisearchURL == "" {
		errs = append(errs, errors.New("MEILISEARCH_URL: required when SEARCH_BACKEND=meilisearch"))
	}
	if c.SagaEngine == "temporal" && c.TemporalAddress == "" {
		errs = append(errs, errors.New("TEMPORAL_ADDRESS: required when SAGA_ENGINE=temporal"))
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together"))
	}
	for _, d := range c.Reminders {
		if d >= c.PaymentTimeout {
			errs = append(errs, fmt.Errorf("ORDER_REMINDERS: %s is not before ORDER_PAYMENT_TIMEOUT %s", d, c.PaymentTimeout))
		}
	}
	if c.PasswordHashMemoryKiB < 8 {
		errs = append(errs, errors.New("PASSWORD_HASH_MEMORY_KIB: must be at least 8"))
	}
	return errors.Join(errs...)
}

// DefaultPublicURL is PUBLIC_URL when unset: where HTTP_ADDR serves, so
// that links in emails reach the shop without configuration. The host is
// HTTP_ADDR's when it names one, localhost for a wildcard (":9000",
// "0.0.0.0:9000", "[::]:9000"); port 80 is left out.
func DefaultPublicURL(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "http://localhost:8080"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port != "80" {
		return "http://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "http://[" + host + "]"
	}
	return "http://" + host
}

// Hosts reports whether this process hosts the named bounded context.
func (c *Config) Hosts(ctx string) bool { return contains(c.Contexts, ctx) }

// Print writes every setting, masking secrets and URL passwords, so an
// operator can see what the process runs with without leaking credentials.
func (c *Config) Print(w io.Writer) {
	for _, s := range c.specs() {
		fmt.Fprintf(w, "  %-28s %s\n", s.env, s.masked())
	}
}

// Masked returns the settings as a map with secrets masked, for structured logs.
func (c *Config) Masked() map[string]string {
	out := map[string]string{}
	for _, s := range c.specs() {
		out[s.env] = s.masked()
	}
	return out
}

func (s spec) masked() string {
	var v string
	switch p := s.ptr.(type) {
	case *string:
		v = *p
	case *int:
		v = strconv.Itoa(*p)
	case *bool:
		v = strconv.FormatBool(*p)
	case *time.Duration:
		v = p.String()
	case *[]string:
		v = strings.Join(*p, ",")
	case *map[string]string:
		var parts []string
		for k, u := range *p {
			parts = append(parts, k+"="+u)
		}
		sort.Strings(parts)
		v = strings.Join(parts, ",")
	case *map[string]RouteLimit:
		var parts []string
		for k, l := range *p {
			parts = append(parts, fmt.Sprintf("%s=%d/%s", k, l.Limit, l.Window))
		}
		sort.Strings(parts)
		v = strings.Join(parts, ",")
	case *[]time.Duration:
		parts := make([]string, len(*p))
		for i, d := range *p {
			parts[i] = d.String()
		}
		v = strings.Join(parts, ",")
	}
	if v == "" || !s.secret {
		return v
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		if u.User != nil {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.Redacted()
	}
	return "****"
}

func splitList(raw string) []string {
	var out []string
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func positive(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a positive integer", v)
	}
	return nil
}

func addr(v string) error {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return fmt.Errorf("%q is not host:port", v)
	}
	if p, err := strconv.Atoi(v[i+1:]); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q has no valid port", v)
	}
	return nil
}

// publishableKey refuses anything but a Stripe publishable key: the value
// is written into every storefront page, so a secret key (sk_, rk_) put
// here by mistake must stop the start instead of being published.
func publishableKey(v string) error {
	if !strings.HasPrefix(v, "pk_") || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return errors.New("is not a Stripe publishable key (pk_test_... or pk_live_...)")
	}
	return nil
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		if !contains(allowed, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	}
}

func dsn(schemes ...string) func(string) error {
	return func(v string) error {
		u, err := url.Parse(v)
		if err != nil {
			return errors.New("is not a valid URL")
		}
		if !contains(schemes, u.Scheme) {
			return fmt.Errorf("URL scheme must be one of %s", strings.Join(schemes, ", "))
		}
		return nil
	}
}

// otlpEndpoint checks an OTLP endpoint: http(s)://host[:port][/path] or
// host:port.
func otlpEndpoint(v string) error { return otelx.CheckEndpoint(v) }

// keyValues checks a key=value,... list (OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_RESOURCE_ATTRIBUTES).
func keyValues(v string) error {
	_, err := otelx.ParseKeyValues(v)
	return err
}

func ratio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("%q is not a ratio between 0 and 1", v)
	}
	return nil
}

func positiveDuration(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration", v)
	}
	return nil
}
