package pg

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// A NOTIFY inside a transaction makes its commit take PostgreSQL's
// database-wide notification lock and hold it through the commit's WAL
// flush: every transaction that notifies commits one after another, so
// writers that each append to the outbox lost group commit (placing
// orders ran at half the rate with one NOTIFY per transaction). A
// transaction run by InTx instead names its channels (NotifyAfterCommit)
// and, once it committed, the DB's notifier sends them: one statement for
// whatever channels piled up meanwhile, outside every writer's commit.
// A notification lost to a crash between the commit and the send is what
// the listeners' fallback poll is for.

type afterCommitKey struct{}

// afterCommit is the channels a transaction asked to notify.
type afterCommit struct {
	mu       sync.Mutex
	channels []string
}

// NotifyAfterCommit asks for NOTIFY channel once the transaction of ctx
// commits; it reports false when ctx is not in a transaction of InTx, and
// the caller must then notify inside its transaction.
func NotifyAfterCommit(ctx context.Context, channel string) bool {
	ac, ok := ctx.Value(afterCommitKey{}).(*afterCommit)
	if !ok {
		return false
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for _, c := range ac.channels {
		if c == channel {
			return true
		}
	}
	ac.channels = append(ac.channels, channel)
	return true
}

// notifier sends the channels of committed transactions, coalesced.
type notifier struct {
	once    sync.Once
	closing sync.Once
	mu      sync.Mutex
	pending map[string]bool
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newNotifier() *notifier {
	return &notifier{pending: map[string]bool{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// wake queues channels and makes sure a send follows.
func (n *notifier) wake(d *DB, channels []string) {
	n.mu.Lock()
	for _, c := range channels {
		n.pending[c] = true
	}
	n.mu.Unlock()
	n.once.Do(func() { go n.loop(d) })
	select {
	case n.kick <- struct{}{}:
	default: // a send is already due; it takes these channels too
	}
}

func (n *notifier) loop(d *DB) {
	defer close(n.done)
	for {
		select {
		case <-n.stop:
			return
		case <-n.kick:
		}
		n.mu.Lock()
		chs := make([]string, 0, len(n.pending))
		for c := range n.pending {
			chs = append(chs, c)
		}
		clear(n.pending)
		n.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// Best effort: a failed send is covered by the fallback poll.
		_, _ = d.DB.ExecContext(ctx, "SELECT pg_notify(c, '') FROM unnest(?::text[]) AS c", pgdialect.Array(chs))
		cancel()
	}
}

// close stops the loop (if it ever started) and waits for it; closing
// twice is a no-op.
func (n *notifier) close() {
	n.closing.Do(func() {
		started := true
		n.once.Do(func() { started = false })
		close(n.stop)
		if started {
			<-n.done
		}
	})
}
