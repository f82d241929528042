package notify

import "context"

// DispatchOnceForTest sends one batch of queued emails and texts.
func (m *Module) DispatchOnceForTest(ctx context.Context) (int, error) {
	return m.svc.DispatchOnce(ctx)
}
