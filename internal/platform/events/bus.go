package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/otelx"
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
}

// BusConfig tunes delivery. Zero values take the defaults.
type BusConfig struct {
	PollInterval time.Duration // default 200ms
	MaxAttempts  int           // default 5, then dead-lettered
	BaseBackoff  time.Duration // default 100ms, doubling, capped at 2s
	// Subscriber, when set, makes consumers read another transport (Kafka);
	// nil reads the Postgres topic tables.
	Subscriber func(group string) (message.Subscriber, error)
}

// Bus delivers outbox events to consumers over the Postgres transport:
// watermill-sql subscribers, one consumer group per consumer.
type Bus struct {
	db     *pg.DB
	log    *slog.Logger
	cfg    BusConfig
	router *message.Router
	subs   []message.Subscriber
	cons   []Consumer
	mu     sync.Mutex
}

// NewBus builds the bus; register consumers, then Run.
func NewBus(db *pg.DB, log *slog.Logger, cfg BusConfig) (*Bus, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = 100 * time.Millisecond
	}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, wmLogger(log))
	if err != nil {
		return nil, err
	}
	return &Bus{db: db, log: log, cfg: cfg, router: r}, nil
}

// InitTopics creates the message and offset tables of the topics (idempotent,
// serialised by an advisory lock inside watermill-sql).
func (b *Bus) InitTopics(topics ...string) error {
	sub, err := b.newSQLSubscriber("init")
	if err != nil {
		return err
	}
	defer sub.Close()
	for _, t := range topics {
		if err := sub.SubscribeInitialize(t); err != nil {
			return fmt.Errorf("init topic %s: %w", t, err)
		}
	}
	return nil
}

// newSubscriber reads a consumer group from the configured transport: the
// Postgres topic tables, or Kafka (fed by the Forwarder).
func (b *Bus) newSubscriber(group string) (message.Subscriber, error) {
	if b.cfg.Subscriber != nil {
		return b.cfg.Subscriber(group)
	}
	return b.newSQLSubscriber(group)
}

func (b *Bus) newSQLSubscriber(group string) (*wsql.Subscriber, error) {
	ack := 60 * time.Second
	return wsql.NewSubscriber(wsql.BeginnerFromStdSQL(b.db.SQL()), wsql.SubscriberConfig{
		ConsumerGroup:  group,
		PollInterval:   b.cfg.PollInterval,
		ResendInterval: b.cfg.BaseBackoff,
		AckDeadline:    &ack,
		SchemaAdapter:  schemaAdapter(),
		OffsetsAdapter: offsetsAdapter(),
	}, wmLogger(b.log))
}

// Register adds a consumer. Call before Run.
func (b *Bus) Register(c Consumer) error {
	if c.Name == "" || c.Inbox == "" || c.Handle == nil || len(c.Topics) == 0 {
		return errors.New("events: consumer needs name, inbox, topics and handler")
	}
	sub, err := b.newSubscriber(c.Name)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, sub)
	b.cons = append(b.cons, c)
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

// Run delivers until ctx ends or Close is called.
func (b *Bus) Run(ctx context.Context) error {
	if len(b.cons) == 0 {
		<-ctx.Done()
		return nil
	}
	return b.router.Run(ctx)
}

// Running is closed once every handler has subscribed (at once when there
// are no consumers).
func (b *Bus) Running() <-chan struct{} {
	if len(b.cons) == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return b.router.Running()
}

// Close stops delivery, letting in-flight handlers finish.
func (b *Bus) Close() error {
	err := b.router.Close()
	for _, s := range b.subs {
		_ = s.Close()
	}
	return err
}

// handle wraps a consumer: decode, inbox check + effect in one transaction,
// retries with exponential backoff, and after MaxAttempts a dead-letter
// row (only then is the message acknowledged). If even the dead-letter
// write fails, the message is nacked and redelivered.
func (b *Bus) handle(c Consumer, topic string) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		var env Envelope
		if err := json.Unmarshal(msg.Payload, &env); err != nil || env.ID == "" {
			return b.deadLetter(ctx, c, topic, msg.UUID, msg.Payload, fmt.Errorf("undecodable envelope: %v", err), 1)
		}
		if env.TraceParent != "" {
			ctx = otelx.Extract(ctx, func(k string) string {
				if k == "traceparent" {
					return env.TraceParent
				}
				return ""
			})
		}
		var err error
		delay := b.cfg.BaseBackoff
		for attempt := 1; attempt <= b.cfg.MaxAttempts; attempt++ {
			var applied bool
			if applied, err = b.applyOnce(ctx, c, env); err == nil {
				if applied && c.After != nil {
					c.After(ctx, env)
				}
				return nil
			}
			b.log.WarnContext(ctx, "event handler failed", "consumer", c.Name, "topic", topic, "event_id", env.ID, "attempt", attempt, "err", err)
			if attempt == b.cfg.MaxAttempts {
				break
			}
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
			if delay *= 2; delay > 2*time.Second {
				delay = 2 * time.Second
			}
		}
		return b.deadLetter(ctx, c, topic, env.ID, msg.Payload, err, b.cfg.MaxAttempts)
	}
}

func (b *Bus) applyOnce(ctx context.Context, c Consumer, env Envelope) (applied bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			applied, err = false, fmt.Errorf("handler panic: %v", r)
		}
	}()
	err = b.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		applied = false
		res, err := tx.ExecContext(ctx, "INSERT INTO "+c.Inbox+" (consumer, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.Name, env.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already applied
		}
		applied = true
		return c.Handle(ctx, tx, env)
	})
	return applied && err == nil, err
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
