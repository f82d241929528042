//go:build chaos

package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaGroups reports every consumer group of the broker: its state, its
// members and what each was assigned, and per partition the committed
// offset against the end. A failed split run shows which consumer stopped
// and whether the broker still counts it as a member.
func kafkaGroups(brokers []string) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return "kafka client: " + err.Error()
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := kadm.NewClient(cl).Lag(ctx)
	if err != nil {
		return "kafka lag: " + err.Error()
	}
	var b strings.Builder
	for _, g := range lags.Sorted() {
		fmt.Fprintf(&b, "group %s state=%s members=%d err=%v\n", g.Group, g.State, len(g.Members), g.Error())
		for _, m := range g.Members {
			var assigned []string
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					assigned = append(assigned, fmt.Sprintf("%s%v", t.Topic, t.Partitions))
				}
			}
			fmt.Fprintf(&b, "  member %s client=%s assigned=%v\n", m.MemberID, m.ClientID, assigned)
		}
		for _, l := range g.Lag.Sorted() {
			who := "-"
			if l.Member != nil {
				who = l.Member.MemberID
			}
			fmt.Fprintf(&b, "  %s/%d commit=%d end=%d lag=%d member=%s err=%v\n", l.Topic, l.Partition, l.Commit.At, l.End.Offset, l.Lag, who, l.Err)
		}
	}
	return b.String()
}

// pipelineMetrics is the events pipeline's health as a process reports it
// on /metrics (outbox pending and lag, retries, dead letters).
func pipelineMetrics(base string) string {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"commerce_outbox_", "commerce_consumer_retries_total", "commerce_dead_letters"} {
			if strings.HasPrefix(line, p) {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	return b.String()
}

// diagnose logs what a failed run needs to be understood: the pipeline's
// metrics per process and, in split, the Kafka groups.
func (s *shop) diagnose(t *testing.T) {
	for _, p := range s.procs {
		t.Logf("events pipeline of %s (%s):\n%s", p.name, p.url, pipelineMetrics(p.url))
	}
	if s.brokers != nil {
		t.Logf("kafka consumer groups:\n%s", kafkaGroups(s.brokers))
	}
}
