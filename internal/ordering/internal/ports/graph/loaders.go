package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/platform/gql"
)

// loaders are one request's dataloaders: the fields of a page of orders
// that live in other tables are fetched for the whole page in one query
// (Order.timeline), never one per order. They are built per request, so
// nothing is cached across requests or callers.
type loaders struct {
	timeline *dataloadgen.Loader[string, []app.TimelineEntry]
}

type loadersKey struct{}

// WithLoaders gives every request to the subgraph its own dataloaders.
func WithLoaders(svc *app.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &loaders{timeline: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([][]app.TimelineEntry, []error) {
			who, err := gql.User(ctx)
			if err != nil {
				return nil, []error{err}
			}
			m, err := svc.Timelines(ctx, who.UserID, who.IsAdmin(), ids)
			if err != nil {
				return nil, []error{err}
			}
			out := make([][]app.TimelineEntry, len(ids))
			for i, id := range ids {
				out[i] = m[id]
			}
			return out, nil
		}, dataloadgen.WithWait(2*time.Millisecond), dataloadgen.WithBatchCapacity(100))}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadersKey{}, l)))
	})
}

// timelineOf loads an order's timeline through the request's dataloader
// (directly when the handler was built without WithLoaders).
func (r *Resolver) timelineOf(ctx context.Context, orderID string) ([]app.TimelineEntry, error) {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l.timeline.Load(ctx, orderID)
	}
	who, err := gql.User(ctx)
	if err != nil {
		return nil, err
	}
	return r.Svc.Timeline(ctx, who.UserID, orderID, who.IsAdmin())
}
