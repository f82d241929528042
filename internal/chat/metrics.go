package chat

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrument registers commerce_ws_connections{endpoint="chat"}: the chat
// WebSocket connections open on this instance.
func (m *Module) instrument(mt metric.Meter) error {
	g, err := mt.Int64ObservableGauge("commerce.ws.connections", metric.WithDescription("WebSocket connections open on this instance, by endpoint"))
	if err != nil {
		return err
	}
	attr := metric.WithAttributes(attribute.String("endpoint", "chat"))
	_, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, int64(m.ws.Connections()), attr)
		return nil
	}, g)
	return err
}
