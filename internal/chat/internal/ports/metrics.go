package ports

// Connections is the number of WebSocket connections open on this
// instance (each holds one subscription of the hub).
func (w *WS) Connections() int { return w.hub.Subscriptions() }
