package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Handler applies one event inside tx; the inbox row is in the same tx, so
// the effect happens exactly once even though delivery is at-least-once.
type Handler func(ctx context.Context, tx bun.Tx, e Envelope) error

// Consumer is a named subscriber to some topics. Inbox is the fully
// qualified inbox table of the consuming context (e.g. "notify.inbox").
type Consumer struct {
	Name   string
	Inbox  string
	Topics []string
	Handle Handler
	// After, when set, runs after the transaction of a newly applied event
	// committed (cache invalidation and other best-effort side effects).
	After func(ctx context.Context, e Envelope)
	// Batch, when set, lets the Postgres transport apply the events it
	// finds waiting in one transaction (deliverBatch): one durable commit
	// instead of one per event. Set it only for handlers that lock no row
	// that requests or other consumers also lock: a batch takes its locks
	// in event order, and against a writer that locks in another order
	// (the reservation group commit locks stock rows in product order)
	// that deadlocks.
	Batch bool
}

// BusConfig tunes delivery. Zero values take the defaults.
type BusConfig struct {
	// PollInterval is how often consumers, the relay and the forwarder
	// look for events when no wake-up arrived; default 30s. Wake-ups come
	// over LISTEN/NOTIFY (writers notify on commit, the relay after each
	// pass, and the listener wakes everyone after any reconnect), so this
	// is only a safety net: a short interval costs idle CPU in the binary
	// and in PostgreSQL (two queries per consumer per interval) and buys
	// no latency.
	PollInterval time.Duration
	MaxAttempts  int           // default 5, then dead-lettered
	BaseBackoff  time.Duration // default 100ms, doubling, capped at 2s
	// BatchSize is how many events a consumer reads per query; default 100.
	BatchSize int
	// RetryPollInterval is how often the bus looks for requested
	// dead-letter retries of its consumers when no notification arrived;
	// default 60s (requests notify too).
	RetryPollInterval time.Duration
	// Subscriber, when set, makes consumers read another transport (Kafka);
	// nil reads events.outbox.
	Subscriber func(group string) (message.Subscriber, error)
}

// DefaultPollInterval is the fallback poll of consumers, relay and
// forwarder (see BusConfig.PollInterval).
const DefaultPollInterval = 30 * time.Second

// Bus delivers outbox events to consumers. On the Postgres transport each
// consumer is one loop that reads events.outbox in sequence order past its
// offset, with no transaction open while it reads or waits; each event is
// applied in one short transaction holding the inbox row, the effect and
// the new offset. The relay (see relay.go) gives committed rows their
// sequence. With a Subscriber (Kafka), consumers read that transport.
type Bus struct {
	db     *pg.DB
	log    *slog.Logger
	cfg    BusConfig
	router *message.Router
	subs   []message.Subscriber
	cons   []Consumer
	mu     sync.Mutex
	wake   *waker
	// readers are the offsets Lag reports on; lag caches its reading.
	readers []reader
	lag     lagCache
	metrics *busMetrics // see metrics.go; nil records nothing

	running chan struct{}
	stop    context.CancelFunc
	done    chan struct{}
}

// NewBus builds the bus; register consumers, then Run.
func NewBus(db *pg.DB, log *slog.Logger, cfg BusConfig) (*Bus, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = 100 * time.Millisecond
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.RetryPollInterval == 0 {
		cfg.RetryPollInterval = 60 * time.Second
	}
	b := &Bus{db: db, log: log, cfg: cfg, wake: newWaker(db, log), running: make(chan struct{}), done: make(chan struct{})}
	if cfg.Subscriber != nil {
		r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, wmLogger(log))
		if err != nil {
			return nil, err
		}
		b.router = r
	}
	return b, nil
}

// InitTopics checks topic names. Every topic shares events.outbox (created
// by the platform migration), so there is nothing to create; the call
// stays so that a name that could never be delivered fails at start.
func (b *Bus) InitTopics(topics ...string) error {
	for _, t := range topics {
		if t == "" || strings.ContainsAny(t, " \t\n\x00") {
			return fmt.Errorf("events: invalid topic name %q", t)
		}
	}
	return nil
}

// Register adds a consumer. Call before Run.
func (b *Bus) Register(c Consumer) error {
	if c.Name == "" || c.Inbox == "" || c.Handle == nil || len(c.Topics) == 0 {
		return errors.New("events: consumer needs name, inbox, topics and handler")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cons = append(b.cons, c)
	if b.router == nil {
		b.readers = append(b.readers, reader{name: c.Name, topics: c.Topics})
		return nil
	}
	sub, err := b.cfg.Subscriber(c.Name)
	if err != nil {
		return err
	}
	b.subs = append(b.subs, sub)
	for _, t := range c.Topics {
		b.router.AddConsumerHandler(c.Name+"@"+t, t, sub, b.handle(c, t))
	}
	return nil
}

// Topics lists every topic a registered consumer reads.
func (b *Bus) Topics() []string {
	var out []string
	for _, c := range b.cons {
		out = append(out, c.Topics...)
	}
	return out
}

// Run relays and delivers until ctx ends or Close is called: the wake-up
// listener, the relay that sequences committed outbox rows, and one loop
// per consumer (or the Kafka router).
func (b *Bus) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	b.mu.Lock()
	b.stop = cancel
	b.mu.Unlock()
	defer close(b.done)
	defer cancel()
	var wg sync.WaitGroup
	start := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	start(b.wake.run)
	start(b.relay)
	if len(b.cons) > 0 {
		start(b.retryLoop)
	}
	var routerErr error
	if b.router != nil {
		if len(b.cons) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := b.router.Run(ctx); err != nil && ctx.Err() == nil {
					routerErr = err
					cancel()
				}
			}()
			go func() {
				select {
				case <-b.router.Running():
					close(b.running)
				case <-ctx.Done():
				}
			}()
		} else {
			close(b.running)
		}
	} else {
		for _, c := range b.cons {
			if err := b.ensureOffset(ctx, c.Name, c.Topics); err != nil {
				cancel()
				wg.Wait()
				return err
			}
		}
		for _, c := range b.cons {
			start(func(ctx context.Context) { b.consume(ctx, c, b.wake.subscribe(chanEvents)) })
		}
		close(b.running)
	}
	<-ctx.Done()
	wg.Wait()
	return routerErr
}

// Running is closed once every consumer is reading.
func (b *Bus) Running() <-chan struct{} { return b.running }

// Close stops delivery, letting in-flight handlers finish.
func (b *Bus) Close() error {
	b.mu.Lock()
	stop := b.stop
	b.mu.Unlock()
	var err error
	if b.router != nil {
		err = b.router.Close()
		for _, s := range b.subs {
			_ = s.Close()
		}
	}
	if stop != nil {
		stop()
		<-b.done
	}
	return err
}

// ensureOffset creates a consumer's offset row (at 0: a new consumer reads
// every event there is; its inbox makes that safe) and records the topics
// it reads, which the outbox purge honours (purge.go).
func (b *Bus) ensureOffset(ctx context.Context, name string, topics []string) error {
	_, err := b.db.ExecContext(ctx, `INSERT INTO events.consumer_offsets (consumer, topics) VALUES (?, ?::text[])
		ON CONFLICT (consumer) DO UPDATE SET topics = EXCLUDED.topics`, name, pgdialect.Array(topics))
	if err != nil {
		return fmt.Errorf("events: offset of %s: %w", name, err)
	}
	return nil
}

// outboxRow is one sequenced event as a consumer reads it.
type outboxRow struct {
	Seq     int64  `bun:"seq"`
	Topic   string `bun:"topic"`
	EventID string `bun:"event_id"`
	Payload string `bun:"payload"`
}

// drainRow is a row of drain's read: the consumer's offset and the head
// on every row, and one event past the offset (NULL when there is none).
type drainRow struct {
	Off     int64          `bun:"off"`
	Hi      int64          `bun:"hi"`
	Seq     sql.NullInt64  `bun:"seq"`
	Topic   sql.NullString `bun:"topic"`
	EventID sql.NullString `bun:"event_id"`
	Payload sql.NullString `bun:"payload"`
}

// consume is one consumer's loop: drain what is there, then sleep until a
// wake-up or the poll interval. Errors (a lost connection, a terminated
// backend) only delay: the loop retries with backoff and resumes from its
// committed offset.
func (b *Bus) consume(ctx context.Context, c Consumer, wake <-chan struct{}) {
	backoff := b.cfg.BaseBackoff
	var skipped time.Time // when the offset last skipped other topics' events
	for ctx.Err() == nil {
		full, deferred, err := b.drain(ctx, c, &skipped)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.WarnContext(ctx, "event consumer: read failed; retrying", "consumer", c.Name, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff *= 2; backoff > 2*time.Second {
				backoff = 2 * time.Second
			}
			continue
		}
		backoff = b.cfg.BaseBackoff
		if full {
			continue
		}
		sleep := b.cfg.PollInterval
		if deferred {
			sleep = min(sleep, skipEvery) // come back to record the skip
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(sleep):
		}
	}
}

// skipEvery is how often at most a consumer records that its offset moved
// past other topics' events. Every consumer wakes on every event, and
// recording the skip each time was a commit (a WAL flush) per consumer per
// event, a third of what PostgreSQL waited on while orders were placed;
// delaying it only makes the next read start a little earlier (the
// events of the consumer's own topics move its offset in their own
// transactions).
const skipEvery = 250 * time.Millisecond

// drain delivers the next batch past the consumer's offset. full reports a
// whole batch (more may be waiting); deferred that the offset was not
// moved past other topics' events because it was, at *skipped, less than
// skipEvery ago. Reads are single statements: no transaction is held
// between them or while a handler runs.
func (b *Bus) drain(ctx context.Context, c Consumer, skipped *time.Time) (full, deferred bool, err error) {
	// The offset, the head and the next events past the offset in one
	// round trip: every consumer drains on every wake-up, and three
	// statements each were a sixth of all the statements placing an order
	// caused. Without events the one row has the offset and head only.
	var read []drainRow
	if err := b.db.NewRaw(`SELECT o.seq AS off, h.hi, x.seq, x.topic, x.event_id, x.payload
		FROM events.consumer_offsets o
		CROSS JOIN (SELECT coalesce(max(seq), 0) AS hi FROM events.outbox) h
		LEFT JOIN LATERAL (SELECT seq, topic, event_id, payload::text AS payload FROM events.outbox
			WHERE seq > o.seq AND seq <= h.hi AND topic IN (?) ORDER BY seq LIMIT ?) x ON true
		WHERE o.consumer = ? ORDER BY x.seq`, bun.In(c.Topics), b.cfg.BatchSize, c.Name).Scan(ctx, &read); err != nil {
		return false, false, fmt.Errorf("read: %w", err)
	}
	if len(read) == 0 {
		return false, false, fmt.Errorf("read: no offset row for consumer %s", c.Name)
	}
	off, hi := read[0].Off, read[0].Hi
	if hi <= off {
		return false, false, nil
	}
	rows := make([]outboxRow, 0, len(read))
	for _, r := range read {
		if r.Seq.Valid {
			rows = append(rows, outboxRow{Seq: r.Seq.Int64, Topic: r.Topic.String, EventID: r.EventID.String, Payload: r.Payload.String})
		}
	}
	for i := 0; i < len(rows); {
		n, err := b.deliverBatch(ctx, c, rows[i:])
		if err != nil {
			return false, false, err
		}
		if n == 0 { // alone, or the first of the batch failed: on its own, with retries
			if err := b.deliver(ctx, c, rows[i]); err != nil {
				return false, false, err
			}
			n = 1
		}
		i += n
	}
	if len(rows) == b.cfg.BatchSize {
		return true, false, nil
	}
	// Nothing else of ours up to hi: skip the other topics' events, at
	// most every skipEvery.
	if now := time.Now(); now.Sub(*skipped) >= skipEvery {
		*skipped = now
		_, err = b.db.ExecContext(ctx, "UPDATE events.consumer_offsets SET seq = ?, updated_at = now() WHERE consumer = ? AND seq < ?", hi, c.Name, hi)
		return false, false, err
	}
	return false, true, nil
}

// batchFailed is the error of a batch whose event at index at failed.
type batchFailed struct {
	at  int
	err error
}

func (e *batchFailed) Error() string { return fmt.Sprintf("event %d of the batch: %v", e.at, e.err) }
func (e *batchFailed) Unwrap() error { return e.err }

// deliverBatch applies the leading decodable events of rows in one
// transaction: each still gets its inbox row (exactly once), its
// handler's effect and its own span, and the offset moves once, to the
// last of them. A consumer that finds several events waiting (the case
// under load) so makes one durable commit for all of them instead of one
// each. When an event's handler fails the whole transaction rolls back
// (a failed statement aborts a PostgreSQL transaction anyway), the events
// before it are applied again as a batch and n stops before the failed
// one, which deliver then retries on its own and dead-letters if it keeps
// failing. n is 0 when there is not more than one event to batch.
func (b *Bus) deliverBatch(ctx context.Context, c Consumer, rows []outboxRow) (n int, err error) {
	if !c.Batch {
		return 0, nil
	}
	envs := make([]Envelope, 0, min(len(rows), b.cfg.BatchSize))
	for _, r := range rows {
		var env Envelope
		if err := json.Unmarshal([]byte(r.Payload), &env); err != nil || env.ID == "" {
			break // deliver dead-letters it on its own
		}
		envs = append(envs, env)
	}
	for len(envs) > 1 {
		err := b.applyBatch(ctx, c, rows[:len(envs)], envs)
		if err == nil {
			return len(envs), nil
		}
		var bf *batchFailed
		if ctx.Err() != nil || !errors.As(err, &bf) {
			return 0, err
		}
		b.log.WarnContext(ctx, "event handler failed in a batch; applying the events before it, then it alone",
			"consumer", c.Name, "topic", rows[bf.at].Topic, "event_id", envs[bf.at].ID, "err", bf.err)
		envs = envs[:bf.at]
	}
	return 0, nil
}

// applyBatch is the one transaction of deliverBatch: every event's inbox
// row and effect, then the offset; after the commit the After hook of
// each newly applied event. Each event has its own process span, which
// covers its After hook as in deliver, so that the hook works in the
// event's trace.
func (b *Bus) applyBatch(ctx context.Context, c Consumer, rows []outboxRow, envs []Envelope) error {
	ctxs := make([]context.Context, len(envs))
	spans := make([]trace.Span, len(envs))
	applied := make([]bool, len(envs))
	err := b.db.InTx(ctx, func(txCtx context.Context, tx bun.Tx) error {
		for i, env := range envs {
			if ctxs[i] == nil {
				ctxs[i], spans[i] = consumeSpan(ctx, c, rows[i].Topic, "", env)
			}
			// The handler works in the event's trace and in the
			// transaction's context (its after-commit wake-ups).
			hctx := trace.ContextWithSpanContext(txCtx, trace.SpanContextFromContext(ctxs[i]))
			if spans[i] != nil {
				hctx = trace.ContextWithSpan(txCtx, spans[i])
			}
			ok, err := b.applyIn(hctx, tx, c, env)
			if err != nil {
				return &batchFailed{at: i, err: err}
			}
			applied[i] = ok
		}
		return b.advanceIn(txCtx, tx, c.Name, rows[len(envs)-1].Seq)
	})
	for i, span := range spans {
		if err == nil && applied[i] && c.After != nil {
			c.After(ctxs[i], envs[i])
		}
		endSpan(span, err)
	}
	return err
}

// deliver applies one event with retries; after MaxAttempts it is
// dead-lettered and the offset moves past it. It returns an error only
// when even that could not be recorded (the event is read again).
func (b *Bus) deliver(ctx context.Context, c Consumer, r outboxRow) error {
	var env Envelope
	if err := json.Unmarshal([]byte(r.Payload), &env); err != nil || env.ID == "" {
		if err := b.deadLetter(ctx, c, r.Topic, r.EventID, []byte(r.Payload), fmt.Errorf("undecodable envelope: %v", err), 1); err != nil {
			return err
		}
		return b.advance(ctx, b.db, c.Name, r.Seq)
	}
	ctx, span := consumeSpan(ctx, c, r.Topic, "", env)
	err := b.attempts(ctx, c, r.Topic, env, r.Seq)
	endSpan(span, err)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := b.deadLetter(ctx, c, r.Topic, env.ID, []byte(r.Payload), err, b.cfg.MaxAttempts); err != nil {
		return err
	}
	return b.advance(ctx, b.db, c.Name, r.Seq)
}

// advance moves a consumer's offset forward (never back).
func (b *Bus) advance(ctx context.Context, db bun.IDB, consumer string, seq int64) error {
	_, err := db.ExecContext(ctx, "UPDATE events.consumer_offsets SET seq = ?, updated_at = now() WHERE consumer = ? AND seq < ?", seq, consumer, seq)
	if err != nil {
		return fmt.Errorf("advance %s: %w", consumer, err)
	}
	return nil
}

// attempts runs applyOnce with exponential backoff; seq (0 on Kafka) is
// committed as the consumer's offset with the effect.
func (b *Bus) attempts(ctx context.Context, c Consumer, topic string, env Envelope, seq int64) error {
	var err error
	delay := b.cfg.BaseBackoff
	for attempt := 1; attempt <= b.cfg.MaxAttempts; attempt++ {
		var applied bool
		if applied, err = b.applyOnce(ctx, c, env, seq); err == nil {
			if applied && c.After != nil {
				c.After(ctx, env)
			}
			return nil
		}
		b.log.WarnContext(ctx, "event handler failed", "consumer", c.Name, "topic", topic, "event_id", env.ID, "attempt", attempt, "err", err)
		if attempt == b.cfg.MaxAttempts {
			break
		}
		b.metrics.retried(ctx, c.Name)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		if delay *= 2; delay > 2*time.Second {
			delay = 2 * time.Second
		}
	}
	return err
}

// handle wraps a consumer for a watermill subscriber (Kafka): decode,
// then attempts (inbox check + effect in one transaction, retries with
// backoff) and after MaxAttempts a dead-letter row (only then is the
// message acknowledged). If even the dead-letter write fails, the message
// is nacked and redelivered.
func (b *Bus) handle(c Consumer, topic string) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		var env Envelope
		if err := json.Unmarshal(msg.Payload, &env); err != nil || env.ID == "" {
			return b.deadLetter(ctx, c, topic, msg.UUID, msg.Payload, fmt.Errorf("undecodable envelope: %v", err), 1)
		}
		ctx, span := consumeSpan(ctx, c, topic, msg.Metadata.Get("traceparent"), env)
		err := b.attempts(ctx, c, topic, env, 0)
		endSpan(span, err)
		if err == nil || ctx.Err() != nil {
			return err
		}
		return b.deadLetter(ctx, c, topic, env.ID, msg.Payload, err, b.cfg.MaxAttempts)
	}
}

// applyOnce is the one transaction of an event: the inbox row, the
// handler's effect and (Postgres transport) the consumer's new offset.
func (b *Bus) applyOnce(ctx context.Context, c Consumer, env Envelope, seq int64) (applied bool, err error) {
	err = b.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if applied, err = b.applyIn(ctx, tx, c, env); err != nil {
			return err
		}
		return b.advanceIn(ctx, tx, c.Name, seq)
	})
	return applied && err == nil, err
}

// applyIn is a delivery inside tx: the inbox row, then the handler when
// the row is new (applied). A panicking handler is an error.
func (b *Bus) applyIn(ctx context.Context, tx bun.Tx, c Consumer, env Envelope) (applied bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			applied, err = false, fmt.Errorf("handler panic: %v", r)
		}
	}()
	res, err := tx.ExecContext(ctx, "INSERT INTO "+c.Inbox+" (consumer, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.Name, env.ID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // already applied
	}
	if err := c.Handle(ctx, tx, env); err != nil {
		return false, err
	}
	return true, nil
}

func (b *Bus) deadLetter(ctx context.Context, c Consumer, topic, id string, payload []byte, cause error, attempts int) error {
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(payload))
	}
	_, err := b.db.ExecContext(ctx, `INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (consumer, event_id) DO NOTHING`, c.Name, topic, id, string(payload), cause.Error(), attempts)
	if err != nil {
		return fmt.Errorf("dead-letter %s: %w (cause: %v)", id, err, cause)
	}
	b.log.ErrorContext(ctx, "event dead-lettered", "consumer", c.Name, "topic", topic, "event_id", id, "err", cause)
	return nil
}

// advanceIn advances the offset inside the event's transaction (no-op on
// Kafka, whose offsets the subscriber commits).
func (b *Bus) advanceIn(ctx context.Context, tx bun.Tx, consumer string, seq int64) error {
	if seq == 0 {
		return nil
	}
	return b.advance(ctx, tx, consumer, seq)
}
