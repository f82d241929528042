package gql

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jensneuse/abstractlogger"
	nodev1 "github.com/wundergraph/cosmo/router/gen/proto/wg/cosmo/node/v1"
	"github.com/wundergraph/graphql-go-tools/execution/engine"
	"github.com/wundergraph/graphql-go-tools/execution/graphql"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/ast"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/engine/resolve"
	"google.golang.org/protobuf/proto"

	"github.com/opencommerce/commerce/internal/platform/authn"
)

// Limits are the protections every operation passes before it is
// planned: hostile queries get an error in the GraphQL envelope, never a
// 5xx and never a hang.
type Limits struct {
	// MaxQueryBytes bounds the query text (the body limit bounds the rest).
	MaxQueryBytes int
	// MaxDepth bounds the nesting of selections (fragments expanded).
	MaxDepth int
	// MaxFields bounds the complexity: the number of fields selected,
	// fragments expanded (a fragment bomb stops at the bound).
	MaxFields int
	// MaxAliases bounds aliased fields (alias amplification).
	MaxAliases int
	// Timeout bounds one operation, subgraph calls included.
	Timeout time.Duration
	// Introspection allows __schema and __type (GRAPHQL_INTROSPECTION).
	Introspection bool
}

// DefaultLimits are the limits of the shop: the deepest legitimate query
// of the schema (orders → items → product → price) is 5 levels deep.
var DefaultLimits = Limits{MaxQueryBytes: 32 << 10, MaxDepth: 12, MaxFields: 2000, MaxAliases: 30, Timeout: 10 * time.Second, Introspection: true}

// Endpoint is a subgraph as the gateway reaches it: its SDL and the URL
// of its GraphQL route (in-process in the monolith, see InProcess).
type Endpoint struct {
	Name string
	URL  string
	SDL  string
}

// Gateway composes the subgraphs into one supergraph and executes client
// operations across them with graphql-go-tools' federation engine.
type Gateway struct {
	engine *engine.ExecutionEngine
	schema string
	limits Limits
	// apq keeps automatic persisted queries (nil: not supported).
	apq QueryStore
	// live feeds subscriptions (nil: none); subSchema is the schema with
	// its Subscription type, which subscribe messages are validated on.
	live      *Live
	subSchema *ast.Document
	sessions  sessionSet
	// graphiQLPage is the bundled GraphiQL page (ServeGraphiQL; empty:
	// the CDN page).
	graphiQLPage []byte
}

// NewGateway composes the endpoints' SDL into the supergraph (an error
// names what failed to compose: start must fail with it) and builds the
// engine whose subgraph calls go through client.
func NewGateway(ctx context.Context, endpoints []Endpoint, client *http.Client, limits Limits) (*Gateway, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("graphql: no subgraph to compose")
	}
	subs := make([]engine.SubgraphConfiguration, len(endpoints))
	for i, e := range endpoints {
		subs[i] = engine.SubgraphConfiguration{Name: e.Name, URL: e.URL, SDL: e.SDL}
	}
	f := engine.NewFederationEngineConfigFactory(ctx, subs, engine.WithFederationHttpClient(withAuth(client)))
	rc, err := compose(f, endpoints)
	if err != nil {
		return nil, fmt.Errorf("graphql: composing the supergraph from %s: %w", names(endpoints), err)
	}
	cfg, err := f.BuildEngineConfigurationWithRouterConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("graphql: planning the supergraph: %w", err)
	}
	eng, err := engine.NewExecutionEngine(ctx, abstractlogger.Noop{}, cfg, resolve.ResolverOptions{
		MaxConcurrency: 64, PropagateSubgraphErrors: true, SubgraphErrorPropagationMode: resolve.SubgraphErrorPropagationModePassThrough,
		RewriteSubgraphErrorPaths: true, OmitSubgraphErrorLocations: true, AllowedErrorExtensionFields: []string{"code", "status", "errors"},
		AllowedSubgraphErrorFields: []string{"extensions"},
	})
	if err != nil {
		return nil, fmt.Errorf("graphql: engine: %w", err)
	}
	return &Gateway{engine: eng, schema: rc.EngineConfig.GraphqlSchema, limits: limits}, nil
}

// composed memoises supergraph compositions by their input: composing
// runs the federation composer in a JavaScript VM, seconds of CPU, and a
// process that builds several gateways from the same subgraphs (tests, a
// gateway rebuilt after a reload) composes once.
var composed struct {
	sync.Mutex
	m map[[sha256.Size]byte]*nodev1.RouterConfig
}

// compose returns the router configuration of endpoints, from the memo
// when the same names, URLs and SDLs were composed before. The caller
// gets its own copy (planning may modify it).
func compose(f *engine.FederationEngineConfigFactory, endpoints []Endpoint) (*nodev1.RouterConfig, error) {
	h := sha256.New()
	for _, e := range endpoints {
		for _, part := range []string{e.Name, e.URL, e.SDL} {
			_, _ = fmt.Fprintf(h, "%d:%s", len(part), part)
		}
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	composed.Lock()
	rc, ok := composed.m[key]
	composed.Unlock()
	if ok {
		return proto.Clone(rc).(*nodev1.RouterConfig), nil
	}
	rc, err := f.Compose()
	if err != nil {
		return nil, err
	}
	composed.Lock()
	if composed.m == nil || len(composed.m) >= 16 {
		composed.m = map[[sha256.Size]byte]*nodev1.RouterConfig{}
	}
	composed.m[key] = proto.Clone(rc).(*nodev1.RouterConfig)
	composed.Unlock()
	return rc, nil
}

func names(es []Endpoint) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return strings.Join(out, ", ")
}

// Schema is the composed client schema (what schema.graphql holds).
func (g *Gateway) Schema() string { return g.schema }

// request is a GraphQL request over HTTP.
type request struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    struct {
		PersistedQuery *persistedQuery `json:"persistedQuery"`
	} `json:"extensions"`
}

// Handle serves POST /graphql (JSON body) and GET /graphql (query
// parameters; the GraphiQL page for a browser asking for HTML).
func (g *Gateway) Handle(c *fiber.Ctx) error {
	var req request
	switch c.Method() {
	case fiber.MethodGet:
		if isUpgrade(c) {
			return g.serveWS(c)
		}
		if wantsGraphiQL(c) {
			return g.sendGraphiQL(c)
		}
		req.Query, req.OperationName = c.Query("query"), c.Query("operationName")
		if v := c.Query("variables"); v != "" {
			req.Variables = json.RawMessage(v)
		}
		if x := c.Query("extensions"); x != "" {
			if err := json.Unmarshal([]byte(x), &req.Extensions); err != nil {
				return reply(c, fiber.StatusBadRequest, "bad_request", "extensions is not JSON")
			}
		}
	case fiber.MethodPost:
		if err := json.Unmarshal(c.Body(), &req); err != nil {
			return reply(c, fiber.StatusBadRequest, "bad_request", "the body is not a GraphQL request in JSON")
		}
	default:
		return reply(c, fiber.StatusMethodNotAllowed, "method_not_allowed", "use POST, or GET with a query")
	}
	if status, code, msg := g.resolvePersisted(c.UserContext(), &req); status != 0 {
		return reply(c, status, code, msg)
	}
	if strings.TrimSpace(req.Query) == "" {
		return reply(c, fiber.StatusBadRequest, "bad_request", "query is required")
	}
	if len(req.Variables) > 0 && !json.Valid(req.Variables) {
		return reply(c, fiber.StatusBadRequest, "bad_request", "variables are not JSON")
	}
	if status, code, msg := g.limits.check(req.Query); status != 0 {
		return reply(c, status, code, msg)
	}
	g.register(c.UserContext(), &req)
	if c.Method() == fiber.MethodGet && isMutation(req.Query, req.OperationName) {
		return reply(c, fiber.StatusMethodNotAllowed, "method_not_allowed", "mutations need POST")
	}
	ctx, tok := c.UserContext(), bearer(c)
	if p, ok := authn.FromContext(ctx); ok && tok != "" {
		// The HTTP middleware verified this very header (httpx.Auth).
		ctx = WithVerifiedCaller(ctx, tok, p)
	}
	status, body := g.Execute(ctx, tok, req.Query, req.OperationName, req.Variables)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

// Execute runs one operation that passed the limits for the caller whose
// bearer token is token ("" when anonymous) and returns the HTTP status
// and the response envelope. Handle calls it; tests call it with a
// context that a statement counter recognises.
func (g *Gateway) Execute(ctx context.Context, token, query, operationName string, variables json.RawMessage) (int, []byte) {
	ctx, cancel := context.WithTimeout(ctx, g.limits.Timeout)
	defer cancel()
	if token != "" {
		ctx = context.WithValue(ctx, tokenKey{}, token)
	}
	op := graphql.Request{Query: query, OperationName: operationName, Variables: variables}
	var buf bytes.Buffer
	w := graphql.NewEngineResultWriterFromBuffer(&buf)
	if err := g.engine.Execute(ctx, &op, &w); err != nil {
		if ctx.Err() != nil {
			return fiber.StatusOK, envelope("timeout", "the operation took longer than allowed")
		}
		return fiber.StatusOK, requestErrors(err)
	}
	return fiber.StatusOK, buf.Bytes()
}

func envelope(code, msg string) []byte {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}}})
	return body
}

// reply answers an error in the GraphQL envelope.
func reply(c *fiber.Ctx, status int, code, msg string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(envelope(code, msg))
}

// requestErrors renders the engine's request errors (validation,
// planning) as the envelope, extensions.code validation_failed.
func requestErrors(err error) []byte {
	type errorWriter interface {
		WriteResponse(io.Writer) (int, error)
	}
	var ew errorWriter
	if errors.As(err, &ew) {
		var buf bytes.Buffer
		if _, werr := ew.WriteResponse(&buf); werr == nil {
			var env struct {
				Errors []map[string]any `json:"errors"`
			}
			if json.Unmarshal(buf.Bytes(), &env) == nil && len(env.Errors) > 0 {
				for _, e := range env.Errors {
					e["extensions"] = map[string]any{"code": "validation_failed"}
				}
				body, _ := json.Marshal(env)
				return body
			}
		}
	}
	return envelope("validation_failed", err.Error())
}

func bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// tokenKey carries the caller's bearer token from the client request to
// the subgraph calls the engine makes for it.
type tokenKey struct{}

// verifiedKey carries a token this process verified already, with its
// principal: an in-process subgraph (Authenticate) then takes the
// principal instead of verifying the same signature again. A context
// never crosses processes, so a subgraph reached over HTTP always
// verifies.
type verifiedKey struct{}

type verifiedCaller struct {
	token string
	who   authn.Principal
}

// WithVerifiedCaller records that token was verified as who: the
// subgraph calls of operations run with the context skip verifying it
// again in this process.
func WithVerifiedCaller(ctx context.Context, token string, who authn.Principal) context.Context {
	return context.WithValue(ctx, verifiedKey{}, verifiedCaller{token: token, who: who})
}

// withAuth forwards the caller's token on every subgraph call, so each
// subgraph authorizes like REST does (Authenticate).
func withAuth(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out := *c
	out.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if tok, ok := r.Context().Value(tokenKey{}).(string); ok {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return next.RoundTrip(r)
	})
	return &out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// InProcess is the transport of the monolith: a subgraph call runs the
// subgraph's handler directly, no socket. Hosts maps the URL host of
// each endpoint to its handler.
func InProcess(hosts map[string]http.Handler) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h, ok := hosts[r.URL.Host]
		if !ok {
			return nil, fmt.Errorf("graphql: no in-process subgraph at %s", r.URL.Host)
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		return &http.Response{StatusCode: rec.status, Status: http.StatusText(rec.status), Header: rec.header, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), ContentLength: int64(rec.body.Len()), Request: r}, nil
	})}
}

// InProcessURL is the URL of a hosted subgraph for InProcess.
func InProcessURL(name string) string { return "http://" + name + ".subgraph.local/graphql" }

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if !r.wrote {
		r.status, r.wrote = s, true
	}
}
