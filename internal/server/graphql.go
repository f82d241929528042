package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/web"
)

// subgraphSDLs are the GraphQL subgraph schemas compiled into this binary,
// by context, from the registry: the split topology's gateway composes
// them with the URLs of GATEWAY_UPSTREAMS.
func subgraphSDLs() map[string]string {
	out := map[string]string{}
	for _, r := range registrations() {
		if r.SDL != "" {
			out[r.Name] = r.SDL
		}
	}
	return out
}

// GraphQLPath is where the composed graph is served: by the single binary
// and by the split topology's gateway, which composes it itself. It is no
// REST route: it is not in the OpenAPI document nor in the gateway's
// prefix table (docs/graphql.md).
const GraphQLPath = "/graphql"

func graphQLLimits(cfg *config.Config) gql.Limits {
	l := gql.DefaultLimits
	l.Introspection = cfg.GraphQLIntrospection
	return l
}

// hostedSubgraphs are the subgraphs of the contexts this process hosts,
// each authenticating the caller's forwarded bearer token.
func (s *Server) hostedSubgraphs() []gql.Subgraph {
	var out []gql.Subgraph
	for _, m := range s.modules {
		if sg, ok := m.(module.SubgraphServer); ok {
			out = append(out, sg.Subgraph())
		}
	}
	v := s.Keys.Verifier()
	for i := range out {
		out[i].Handler = gql.Authenticate(v, out[i].Handler)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// mountGraphQL serves GraphQL. The single binary composes its subgraphs
// in-process (no sockets) and serves /graphql behind the same rate limits
// as REST; a process of the split topology serves each hosted subgraph
// on its internal route for the gateway instead.
func (s *Server) mountGraphQL(app *fiber.App, limits ...fiber.Handler) error {
	subs := s.hostedSubgraphs()
	if len(subs) == 0 {
		return nil
	}
	if s.cfg.Split() {
		for _, sg := range subs {
			app.Post(gql.InternalPath(sg.Name), adaptor.HTTPHandler(sg.Handler))
		}
		return nil
	}
	hosts := map[string]http.Handler{}
	eps := make([]gql.Endpoint, len(subs))
	for i, sg := range subs {
		eps[i] = gql.Endpoint{Name: sg.Name, URL: gql.InProcessURL(sg.Name), SDL: sg.SDL}
		hosts[sg.Name+".subgraph.local"] = sg.Handler
	}
	g, err := gql.NewGateway(context.Background(), eps, gql.InProcess(hosts), graphQLLimits(s.cfg))
	if err != nil {
		return err
	}
	g.PersistQueries(persistedQueries(s.Redis.Client))
	s.feeds = newLiveFeeds(s.Redis.Client, s.log)
	if err := g.Subscribe(s.feeds.live(s.Keys.Verifier())); err != nil {
		return err
	}
	if err := observeSubscriptions(s.metrics.Meter("commerce/graphql"), g); err != nil {
		return err
	}
	g.ServeGraphiQL(web.GraphiQLPage())
	s.graph = g
	app.Get(GraphQLPath, append(limits, g.Handle)...)
	app.Post(GraphQLPath, append(limits, g.Handle)...)
	return nil
}

// persistedQueries is where automatic persisted queries are kept: Redis,
// shared by the gateway's replicas, for a day after their last
// registration, with the 1,000 most recently used in process.
func persistedQueries(rdb redis.Cmdable) gql.QueryStore {
	return gql.NewRedisQueries(rdb, 24*time.Hour, 1000)
}

// composeUpstreams is the split gateway's graph: every compiled-in
// subgraph whose context has an upstream, reached at its internal route.
func composeUpstreams(cfg *config.Config) (*gql.Gateway, error) {
	var eps []gql.Endpoint
	for name, sdl := range subgraphSDLs() {
		base, ok := cfg.Upstreams[name]
		if !ok {
			continue
		}
		eps = append(eps, gql.Endpoint{Name: name, URL: base + gql.InternalPath(name), SDL: sdl})
	}
	if len(eps) == 0 {
		return nil, nil
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].Name < eps[j].Name })
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 10 * time.Second}}
	g, err := gql.NewGateway(context.Background(), eps, client, graphQLLimits(cfg))
	if err != nil {
		return nil, fmt.Errorf("GATEWAY_UPSTREAMS: %w", err)
	}
	return g, nil
}

// SubgraphSDLs are the subgraph schemas compiled into this binary, by
// name: what the gateway composes, and what another federation router
// (Apollo Router, with rover) composes the same graph from.
func SubgraphSDLs() map[string]string {
	return subgraphSDLs()
}

// ComposedSchema is the supergraph this binary composes from all its
// subgraphs (schema.graphql in the repository; `make graphql`).
func ComposedSchema() (string, error) {
	cfg := &config.Config{Upstreams: map[string]string{}}
	for name := range subgraphSDLs() {
		cfg.Upstreams[name] = "http://" + name
	}
	g, err := composeUpstreams(cfg)
	if err != nil {
		return "", err
	}
	if g == nil {
		return "", fmt.Errorf("no subgraph compiled in")
	}
	// The Subscription type, as served (feeds are only needed to run).
	feed := func(context.Context, string) (gql.Stream, error) { return nil, fmt.Errorf("no feed") }
	if err := g.Subscribe(&gql.Live{Notifications: feed, Chat: feed}); err != nil {
		return "", err
	}
	return g.Schema(), nil
}

// Graph is the composed GraphQL gateway of the single binary (nil in a
// split process, whose gateway composes it): tests execute operations on
// it directly, with a context of their own.
func (s *Server) Graph() *gql.Gateway { return s.graph }
