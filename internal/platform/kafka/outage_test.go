package kafka_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opencommerce/commerce/internal/platform/kafka"
)

// cutListener drops every connection and refuses new ones while cut: a
// stopped broker to its clients, while kfake keeps its data.
type cutListener struct {
	net.Listener
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (l *cutListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.conns = append(l.conns, c)
		l.mu.Unlock()
		return c, nil
	}
}

func (l *cutListener) set(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = cut
	if cut {
		for _, c := range l.conns {
			_ = c.Close()
		}
		l.conns = nil
	}
}

// zombie is a client's dialer that can be made to lose the network for
// good: the process was killed (-9) and sent no LeaveGroup.
type zombie struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (z *zombie) dial(ctx context.Context, network, host string) (net.Conn, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.dead {
		return nil, fmt.Errorf("zombie: no network")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		z.conns = append(z.conns, c)
	}
	return c, err
}

func (z *zombie) kill() {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.dead = true
	for _, c := range z.conns {
		_ = c.Close()
	}
}

// outage is a one-broker kfake cluster (two partitions per topic) whose
// listener can be cut, a publisher to it and helpers to consume.
type outage struct {
	t       *testing.T
	cut     *cutListener
	brokers []string
	pub     *kafka.Publisher
}

func newOutage(t *testing.T) *outage {
	l := &cutListener{}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(2), kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			inner, err := net.Listen(network, "127.0.0.1:0")
			l.Listener = inner
			return l, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	pub, err := kafka.NewPublisher(c.ListenAddrs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return &outage{t: t, cut: l, brokers: c.ListenAddrs(), pub: pub}
}

// send publishes n messages "<prefix>-<i>" spread over the partitions.
func (o *outage) send(prefix string, n int) {
	for i := range n {
		m := message.NewMessage(fmt.Sprintf("%s-%d", prefix, i), []byte("x"))
		m.Metadata.Set(kafka.PartitionKeyMetadata, fmt.Sprintf("k%d", i))
		if err := o.pub.Publish("orders", m); err != nil {
			o.t.Fatal(err)
		}
	}
}

// consume subscribes sub in group "g" and reports each message's id on the
// returned channel, acking it after work (a handler's time).
func (o *outage) consume(ctx context.Context, opts []kgo.Opt, work time.Duration) <-chan string {
	sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: o.brokers, ConsumerGroup: "g", Opts: opts})
	if err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(ctx, "orders")
	if err != nil {
		o.t.Fatal(err)
	}
	got := make(chan string, 1000)
	go func() {
		for m := range msgs {
			time.Sleep(work)
			got <- m.UUID
			m.Ack()
		}
	}()
	return got
}

// brokerAway cuts the broker off for 10 s.
func (o *outage) brokerAway() {
	o.cut.set(true)
	time.Sleep(10 * time.Second)
	o.cut.set(false)
}

// sendAndAwait publishes 40 "b" messages and waits until got has seen them
// all, within a session timeout and 20 s (a killed member's partitions
// move once its session times out).
func (o *outage) sendAndAwait(got <-chan string) {
	start := time.Now()
	o.send("b", 40)
	seen := map[string]bool{}
	deadline := time.After(kafka.SessionTimeout + 20*time.Second)
	for len(seen) < 40 {
		select {
		case id := <-got:
			if id[0] == 'b' {
				seen[id] = true
			}
		case <-deadline:
			o.t.Fatalf("after the outage %d of 40 were consumed", len(seen))
		}
	}
	o.t.Logf("all consumed %s after the outage", time.Since(start).Round(time.Millisecond))
}

// After a member dies without leaving and the broker is away for a while,
// the group's next member consumes every partition again.
func TestGroupRecoversFromKilledMemberAndBrokerOutage(t *testing.T) {
	o := newOutage(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.send("a", 20)
	z := &zombie{}
	first := o.consume(ctx, []kgo.Opt{kgo.Dialer(z.dial)}, 0)
	for range 20 {
		<-first
	}
	z.kill()
	second := o.consume(ctx, nil, 0)
	time.Sleep(2 * time.Second)
	o.brokerAway()
	o.sendAndAwait(second)
}

// A member that lives through a broker outage goes on consuming after it,
// idle or busy (commits in flight when the broker goes).
func TestMemberResumesAfterBrokerOutage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backlog int
		work    time.Duration
	}{{"idle", 10, 0}, {"busy", 300, 10 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOutage(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o.send("a", tc.backlog)
			got := o.consume(ctx, nil, tc.work)
			for range 10 {
				<-got
			}
			o.brokerAway()
			o.sendAndAwait(got)
		})
	}
}
