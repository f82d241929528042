package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"

	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/fanout"
	"github.com/opencommerce/commerce/internal/platform/gql"
)

// liveFeeds are the Redis fan-out hubs that feed the GraphQL
// subscriptions of the process serving /graphql (the single binary, or
// the split gateway): notify's per-user channel (notifications, and the
// order events that re-run orderStatus) and chat's. The channels are the
// contexts' published ones (<ctx>api.LiveChannelPrefix), so the gateway
// reads them wherever notify and chat run.
type liveFeeds struct {
	notify, chat *fanout.Hub[[]byte]
}

// feedBuffer is how many events a subscription may fall behind before
// its connection is dropped.
const feedBuffer = 64

func newLiveFeeds(rdb *redis.Client, log *slog.Logger) *liveFeeds {
	raw := func(p string) ([]byte, bool) { return []byte(p), true }
	return &liveFeeds{notify: fanout.New(rdb, notifyapi.LiveChannelPrefix, feedBuffer, raw, log),
		chat: fanout.New(rdb, chatapi.LiveChannelPrefix, feedBuffer, raw, log)}
}

// live is what the gateway's subscriptions need, tokens checked by v.
func (f *liveFeeds) live(v *authn.Verifier) *gql.Live {
	return &gql.Live{Verify: v.Verify, Notifications: feedOf(f.notify), Chat: feedOf(f.chat)}
}

func feedOf(h *fanout.Hub[[]byte]) gql.Feed {
	return func(ctx context.Context, user string) (gql.Stream, error) {
		s, err := h.Subscribe(ctx, user)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Run delivers the channels' messages until ctx ends.
func (f *liveFeeds) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return f.notify.Run(ctx) })
	g.Go(func() error { return f.chat.Run(ctx) })
	return g.Wait()
}

// observeSubscriptions registers commerce_ws_connections{endpoint="graphql"}:
// the GraphQL subscription connections open on this instance, beside
// chat's (same instrument, same description).
func observeSubscriptions(mt metric.Meter, g *gql.Gateway) error {
	gauge, err := mt.Int64ObservableGauge("commerce.ws.connections", metric.WithDescription("WebSocket connections open on this instance, by endpoint"))
	if err != nil {
		return fmt.Errorf("commerce.ws.connections: %w", err)
	}
	attr := metric.WithAttributes(attribute.String("endpoint", "graphql"))
	_, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(gauge, int64(g.Connections()), attr)
		return nil
	}, gauge)
	if err != nil {
		return fmt.Errorf("commerce.ws.connections: %w", err)
	}
	return nil
}
