package kafka_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/opencommerce/commerce/internal/platform/kafka"
)

func cluster(t *testing.T) []string {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// Watermill's universal Pub/Sub suite against an in-process Kafka (kfake).
func TestUniversalPubSubSuite(t *testing.T) {
	brokers := cluster(t)
	constructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		pub, err := kafka.NewPublisher(brokers, nil)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: group})
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	tests.TestPubSub(t, tests.Features{
		ConsumerGroups:                   true,
		ExactlyOnceDelivery:              false,
		GuaranteedOrder:                  true,
		Persistent:                       true,
		NewSubscriberReceivesOldMessages: false, // members of one group share the partitions
	}, func(t *testing.T) (message.Publisher, message.Subscriber) {
		return constructor(t, "test-"+t.Name()) // subtests share no group
	}, constructor)
}
