package gql

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Resolver errors carry problem+json's code and status; internal causes
// never reach the client; gqlgen's own errors pass through.
func TestPresentMapsErrsLikeProblemJSON(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		err    error
		code   string
		status int
		msg    string
	}{
		{errs.New(errs.NotFound, "not_found", "order not found"), "not_found", 404, "order not found"},
		{errs.New(errs.Conflict, "order_not_cancelable", "too late"), "order_not_cancelable", 409, "too late"},
		{errs.Validation(errs.Field("first", "must be from 1 to 100")), "validation_failed", 422, "the request has invalid fields"},
		{errors.New("pq: connection refused to 10.0.0.1"), "internal", 500, "an unexpected error occurred; it has been logged"},
	} {
		got := Present(ctx, c.err, log)
		if got.Extensions["code"] != c.code || got.Extensions["status"] != c.status || got.Message != c.msg {
			t.Errorf("%v → %+v", c.err, got)
		}
	}
	if got := Present(ctx, errs.Validation(errs.Field("first", "x")), log); got.Extensions["errors"] == nil {
		t.Errorf("field errors dropped: %+v", got)
	}
	own := &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
	if got := Present(ctx, own, log); got != own {
		t.Errorf("gqlgen's error rewritten: %+v", got)
	}
}
