// Package kafka is a Watermill Publisher and Subscriber on franz-go, the
// event transport of split deployments (EVENT_TRANSPORT=kafka). Records
// are keyed by the partition key (the aggregate id) so one aggregate's
// events stay ordered; offsets are committed only after the handler acked.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kgo"
)

// PartitionKeyMetadata is the message metadata holding the record key.
const PartitionKeyMetadata = "partition_key" // same as events.PartitionKey

const uuidHeader = "_watermill_message_uuid"

// Publisher produces messages to Kafka.
type Publisher struct {
	client *kgo.Client
	mu     sync.RWMutex
	closed bool
}

// NewPublisher connects to the seed brokers; the client's own log lines go
// to log (nil: none).
func NewPublisher(brokers []string, log *slog.Logger, opts ...kgo.Opt) (*Publisher, error) {
	c, err := kgo.NewClient(withLog(log, append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0)}, opts...))...)
	if err != nil {
		return nil, err
	}
	return &Publisher{client: c}, nil
}

// Publish sends the messages synchronously, in order.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errors.New("kafka publisher closed")
	}
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		key := m.Metadata.Get(PartitionKeyMetadata)
		if key == "" {
			key = m.UUID
		}
		r := &kgo.Record{Topic: topic, Key: []byte(key), Value: m.Payload}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: uuidHeader, Value: []byte(m.UUID)})
		for k, v := range m.Metadata {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		recs[i] = r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.client.ProduceSync(ctx, recs...).FirstErr()
}

// Close flushes and closes the client.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.client.Close()
	}
	return nil
}

// SessionTimeout is how long the broker waits for a silent group member
// before it gives the member's partitions to the others. Kafka's default
// (45 s) would leave a killed process's share of the events unread for
// that long; handlers here are short, so a member that misses 10 s of
// heartbeats (sent every 2.5 s) is gone.
const SessionTimeout = 10 * time.Second

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	Brokers       []string
	ConsumerGroup string
	// NackResendSleep is the pause before a nacked message is delivered again.
	NackResendSleep time.Duration
	// Logger receives fetch and commit errors and the clients' own log
	// lines (group membership, rebalances); nil discards them.
	Logger *slog.Logger
	Opts   []kgo.Opt
}

// Subscriber consumes a topic in a consumer group, one message at a time
// per subscription (so order is kept), committing each offset after ack.
type Subscriber struct {
	cfg     SubscriberConfig
	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

// NewSubscriber builds a subscriber.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers")
	}
	if cfg.ConsumerGroup == "" {
		return nil, errors.New("kafka: a consumer group is required")
	}
	if cfg.NackResendSleep == 0 {
		cfg.NackResendSleep = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{cfg: cfg, closing: make(chan struct{})}, nil
}

// Subscribe starts consuming topic; the channel closes when ctx ends or the
// subscriber closes.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("kafka subscriber closed")
	}
	// One Kafka group per (consumer, topic): a rebalance caused by one topic's
	// members never waits for another topic's busy handler.
	client, err := kgo.NewClient(withLog(s.cfg.Logger, append([]kgo.Opt{kgo.SeedBrokers(s.cfg.Brokers...), kgo.ConsumerGroup(s.cfg.ConsumerGroup + "." + topic), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(),
		kgo.BlockRebalanceOnPoll(), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.SessionTimeout(SessionTimeout), kgo.HeartbeatInterval(SessionTimeout / 4)}, s.cfg.Opts...))...)
	if err != nil {
		return nil, fmt.Errorf("kafka subscribe %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		// BlockRebalanceOnPoll: a plain Close could wait on a rebalance.
		defer client.CloseAllowingRebalance()
		defer cancel()
		go func() {
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.consume(ctx, client, out)
	}()
	return out, nil
}

func (s *Subscriber) consume(ctx context.Context, client *kgo.Client, out chan<- *message.Message) {
	for ctx.Err() == nil {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			client.AllowRebalance()
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.cfg.Logger.Error("kafka fetch", "topic", t, "partition", p, "error", err)
		})
		ok := true
		fetches.EachRecord(func(r *kgo.Record) {
			if !ok {
				return
			}
			ok = s.deliver(ctx, client, r, out)
		})
		client.AllowRebalance()
		if !ok {
			return
		}
	}
}

// deliver sends one record until it is acked (nacks resend it), then
// commits its offset. It returns false when the subscription ends first;
// the uncommitted record is then delivered again to the group.
func (s *Subscriber) deliver(ctx context.Context, client *kgo.Client, r *kgo.Record, out chan<- *message.Message) bool {
	for {
		msg := toMessage(r)
		mctx, cancel := context.WithCancel(ctx)
		msg.SetContext(mctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-msg.Acked():
			cancel()
			if err := client.CommitRecords(ctx, r); err != nil {
				s.cfg.Logger.Error("kafka commit", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", err)
				return ctx.Err() == nil
			}
			return true
		case <-msg.Nacked():
			cancel()
			select {
			case <-time.After(s.cfg.NackResendSleep):
			case <-ctx.Done():
				return false
			}
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

func toMessage(r *kgo.Record) *message.Message {
	id := ""
	md := message.Metadata{}
	for _, h := range r.Headers {
		if h.Key == uuidHeader {
			id = string(h.Value)
			continue
		}
		md.Set(h.Key, string(h.Value))
	}
	m := message.NewMessage(id, r.Value)
	m.Metadata = md
	return m
}

// Close stops every subscription and waits for them.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		// Uncommitted records are redelivered to the group: nothing is lost
		// by not waiting longer, and shutdown stays bounded.
		return errors.New("kafka subscriber: subscriptions did not stop within 10s")
	}
}

// Ping checks that a broker answers (readiness).
func (p *Publisher) Ping(ctx context.Context) error { return p.client.Ping(ctx) }
