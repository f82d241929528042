// Package gql is the GraphQL plumbing shared by the contexts' subgraphs
// and the gateway that composes them: one error mapping (errs categories
// to extensions.code, the same codes as problem+json), the subgraph HTTP
// handler, the principal hand-over from gateway to subgraph, and the
// gateway itself (composition, planning, limits, GraphiQL).
package gql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	gqllru "github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

// Subgraph is one context's part of the graph: its name (the context),
// its SDL (what the gateway composes) and the handler that executes
// operations the gateway plans for it.
type Subgraph struct {
	Name    string
	SDL     string
	Handler http.Handler
}

// InternalPath is where a process serves a hosted context's subgraph in
// the split topology; the gateway's prefix table never routes it, so
// only the gateway (inside the deployment) reaches it.
func InternalPath(ctx string) string { return "/internal/graphql/" + ctx }

// NewHandler serves a subgraph's executable schema over POST, with the
// shared error mapping and panic recovery; the gateway applies the
// client-facing limits before anything reaches a subgraph.
func NewHandler(es graphql.ExecutableSchema, log *slog.Logger) http.Handler {
	h := handler.New(es)
	h.AddTransport(transport.POST{})
	// The gateway sends the same few operations again and again: parsed
	// and validated once each.
	h.SetQueryCache(gqllru.New[*ast.QueryDocument](1000))
	h.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error { return Present(ctx, err, log) })
	h.SetRecoverFunc(func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "graphql resolver panic", "panic", fmt.Sprint(v))
		return errors.New("internal error")
	})
	return h
}

// Present maps a resolver error to a GraphQL error carrying the same code
// (extensions.code) and status as the REST API's problem+json for that
// error: the one place where errs categories become GraphQL errors.
// Parse and validation errors of gqlgen pass through as they are.
func Present(ctx context.Context, err error, log *slog.Logger) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) && ge.Err == nil {
		return ge
	}
	out := graphql.DefaultErrorPresenter(ctx, err)
	cause := err
	if ge != nil && ge.Err != nil {
		cause = ge.Err
	}
	p := httpx.ProblemOf(cause)
	if p.Status >= 500 && log != nil {
		log.ErrorContext(ctx, "graphql resolver failed", "err", cause, "path", out.Path.String())
	}
	out.Message = p.Detail
	if out.Message == "" {
		out.Message = p.Title
	}
	out.Extensions = map[string]any{"code": p.Code, "status": p.Status}
	if len(p.Errors) > 0 {
		out.Extensions["errors"] = p.Errors
	}
	return out
}

// Authenticate puts the principal of the request's bearer token into its
// context (authn.FromContext), as httpx.Auth.Identify does for REST: the
// gateway forwards the caller's Authorization header to every subgraph
// call, in-process or over HTTP. A missing or invalid token leaves the
// request anonymous; resolvers needing a user answer unauthenticated.
func Authenticate(v *authn.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			tok := strings.TrimSpace(h[7:])
			if c, ok := r.Context().Value(verifiedKey{}).(verifiedCaller); ok && c.token == tok {
				r = r.WithContext(authn.WithPrincipal(r.Context(), c.who))
			} else if p, err := v.Verify(tok); err == nil {
				r = r.WithContext(authn.WithPrincipal(r.Context(), p))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// User is the authenticated caller, or the unauthenticated error REST
// answers (401 unauthenticated) for routes that need one.
func User(ctx context.Context) (authn.Principal, error) {
	p, ok := authn.FromContext(ctx)
	if !ok {
		return authn.Principal{}, httpx.ErrUnauthenticated
	}
	return p, nil
}

// Page sizes of the graph's lists, as REST's limit: 20 unless asked, at
// most 100.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageSize is a list's `first` argument as a limit, or REST's validation
// error for one out of range.
func PageSize(first *int64) (int, error) {
	if first == nil {
		return DefaultPageSize, nil
	}
	if *first < 1 || *first > MaxPageSize {
		return 0, errs.Validation(errs.Field("first", fmt.Sprintf("must be from 1 to %d", MaxPageSize)))
	}
	return int(*first), nil
}
