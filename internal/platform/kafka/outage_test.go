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

// After a member dies without leaving and the broker is away for a while,
// the group's next member consumes every partition again.
func TestGroupRecoversFromKilledMemberAndBrokerOutage(t *testing.T) {
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
	brokers := c.ListenAddrs()
	pub, err := kafka.NewPublisher(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	send := func(prefix string, n int) {
		for i := range n {
			m := message.NewMessage(fmt.Sprintf("%s-%d", prefix, i), []byte("x"))
			m.Metadata.Set(kafka.PartitionKeyMetadata, fmt.Sprintf("k%d", i))
			if err := pub.Publish("orders", m); err != nil {
				t.Fatal(err)
			}
		}
	}
	consume := func(ctx context.Context, sub *kafka.Subscriber, got chan<- string) {
		msgs, err := sub.Subscribe(ctx, "orders")
		if err != nil {
			t.Error(err)
			return
		}
		go func() {
			for m := range msgs {
				got <- m.UUID
				m.Ack()
			}
		}()
	}
	send("a", 20)
	z := &zombie{}
	first, _ := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: "g", Opts: []kgo.Opt{kgo.Dialer(z.dial)}})
	got := make(chan string, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	consume(ctx, first, got)
	for range 20 {
		<-got
	}
	z.kill()

	second, _ := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: "g"})
	defer second.Close()
	got2 := make(chan string, 1000)
	consume(ctx, second, got2)
	time.Sleep(2 * time.Second)
	l.set(true)
	time.Sleep(10 * time.Second)
	l.set(false)
	start := time.Now()
	send("b", 40)
	seen := map[string]bool{}
	// A killed member's partitions move once its session times out (counted
	// from the kill, 12 s before the events were sent), then they are read.
	deadline := time.After(kafka.SessionTimeout + 20*time.Second)
	for len(seen) < 40 {
		select {
		case id := <-got2:
			if id[0] == 'b' {
				seen[id] = true
			}
		case <-deadline:
			t.Fatalf("after the outage the new member consumed %d of 40", len(seen))
		}
	}
	t.Logf("all consumed %s after the outage", time.Since(start).Round(time.Millisecond))
}

// A member that lives through a broker outage goes on consuming after it.
func TestMemberResumesAfterBrokerOutage(t *testing.T) {
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
	brokers := c.ListenAddrs()
	pub, err := kafka.NewPublisher(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	send := func(prefix string, n int) {
		for i := range n {
			m := message.NewMessage(fmt.Sprintf("%s-%d", prefix, i), []byte("x"))
			m.Metadata.Set(kafka.PartitionKeyMetadata, fmt.Sprintf("k%d", i))
			if err := pub.Publish("orders", m); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("a", 10)
	sub, _ := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: "g"})
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := sub.Subscribe(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1000)
	go func() {
		for m := range msgs {
			got <- m.UUID
			m.Ack()
		}
	}()
	for range 10 {
		<-got
	}
	l.set(true)
	time.Sleep(10 * time.Second)
	l.set(false)
	start := time.Now()
	send("b", 40)
	seen := map[string]bool{}
	deadline := time.After(kafka.SessionTimeout + 20*time.Second)
	for len(seen) < 40 {
		select {
		case id := <-got:
			if id[0] == 'b' {
				seen[id] = true
			}
		case <-deadline:
			t.Fatalf("after the outage the member consumed %d of 40", len(seen))
		}
	}
	t.Logf("all consumed %s after the outage", time.Since(start).Round(time.Millisecond))
}

// A member busy when the broker goes away (a commit in flight) goes on
// consuming after it.
func TestBusyMemberResumesAfterBrokerOutage(t *testing.T) {
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
	brokers := c.ListenAddrs()
	pub, err := kafka.NewPublisher(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	send := func(prefix string, n int) {
		for i := range n {
			m := message.NewMessage(fmt.Sprintf("%s-%d", prefix, i), []byte("x"))
			m.Metadata.Set(kafka.PartitionKeyMetadata, fmt.Sprintf("k%d", i))
			if err := pub.Publish("orders", m); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("a", 300)
	sub, _ := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: "g"})
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := sub.Subscribe(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1000)
	go func() {
		for m := range msgs {
			time.Sleep(10 * time.Millisecond)
			got <- m.UUID
			m.Ack()
		}
	}()
	for range 20 {
		<-got
	}
	l.set(true)
	time.Sleep(10 * time.Second)
	l.set(false)
	start := time.Now()
	send("b", 40)
	seen := map[string]bool{}
	deadline := time.After(kafka.SessionTimeout + 20*time.Second)
	for len(seen) < 40 {
		select {
		case id := <-got:
			if id[0] == 'b' {
				seen[id] = true
			}
		case <-deadline:
			t.Fatalf("after the outage the member consumed %d of 40", len(seen))
		}
	}
	t.Logf("all consumed %s after the outage", time.Since(start).Round(time.Millisecond))
}
