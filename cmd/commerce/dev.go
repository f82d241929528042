package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// devCmd runs local helpers for split deployments on one machine.
func devCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, devUsage, false)
	}
	if len(args) == 0 || args[0] != "kafka" {
		return errors.New("usage: commerce dev kafka [--addr 127.0.0.1:9092] [--partitions 3] (see --help)")
	}
	fs := flag.NewFlagSet("dev kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, devUsage) }
	addr := fs.String("addr", "127.0.0.1:9092", "listen address (loopback only)")
	parts := fs.Int("partitions", 3, "partitions of auto-created topics")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	host, port, ok := strings.Cut(*addr, ":")
	if !ok || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
		return errors.New("--addr must be a loopback host:port: this in-process Kafka is for local runs only")
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil {
		return fmt.Errorf("--addr: bad port %q", port)
	}
	c, err := kfake.NewCluster(kfake.Ports(p), kfake.DefaultNumPartitions(*parts), kfake.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "in-process Kafka (kfake) listening; use:\n  EVENT_TRANSPORT=kafka KAFKA_BROKERS=%s\nCtrl-C stops it (messages live in memory only).\n", strings.Join(c.ListenAddrs(), ","))
	<-ctx.Done()
	return nil
}
