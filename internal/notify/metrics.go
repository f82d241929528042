package notify

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrument registers commerce_sse_streams{stream}: the Server-Sent
// Events streams open on this instance, stream="notify" (customers'
// notifications) and stream="admin" (the console's live updates). Both
// series are always reported (0 without Redis).
func (m *Module) instrument(mt metric.Meter) error {
	g, err := mt.Int64ObservableGauge("commerce.sse.streams", metric.WithDescription("Server-Sent Events streams open on this instance (notify, admin)"))
	if err != nil {
		return err
	}
	notifyAttr := metric.WithAttributes(attribute.String("stream", "notify"))
	adminAttr := metric.WithAttributes(attribute.String("stream", "admin"))
	_, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		var n, a int64
		if m.hub != nil {
			n = int64(m.hub.Subscriptions())
		}
		if m.adminHub != nil {
			a = int64(m.adminHub.Subscriptions())
		}
		o.ObserveInt64(g, n, notifyAttr)
		o.ObserveInt64(g, a, adminAttr)
		return nil
	}, g)
	return err
}
