package events

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// waker turns PostgreSQL notifications into in-process wake-ups. It holds
// one dedicated connection outside the pool (LISTEN needs a session of its
// own), reconnects after any failure and, on every (re)connect, wakes
// everyone once: notifications sent while it was away are lost, the rows
// they announced are not.
type waker struct {
	db  *pg.DB
	log *slog.Logger

	mu   sync.Mutex
	subs map[string][]chan struct{}
}

func newWaker(db *pg.DB, log *slog.Logger) *waker {
	return &waker{db: db, log: log, subs: map[string][]chan struct{}{}}
}

// subscribe returns a channel that receives (coalesced) wake-ups of channel.
func (w *waker) subscribe(channel string) <-chan struct{} {
	c := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs[channel] = append(w.subs[channel], c)
	w.mu.Unlock()
	return c
}

// wake signals every subscriber of channel ("" for all channels) without
// blocking: a pending wake-up already covers this one.
func (w *waker) wake(channel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, cs := range w.subs {
		if channel != "" && name != channel {
			continue
		}
		for _, c := range cs {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
}

// run listens until ctx ends.
func (w *waker) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		began := time.Now()
		err := w.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		w.log.Warn("event wake-ups: listener connection lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 2*time.Second {
			backoff = 2 * time.Second
		}
	}
}

func (w *waker) listen(ctx context.Context) error {
	cfg := w.db.Pool.Config().ConnConfig.Copy()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{chanOutbox, chanEvents, chanRetries} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	w.wake("") // catch up on whatever was announced while not listening
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		w.wake(n.Channel)
	}
}
