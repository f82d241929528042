package main

import (
	"fmt"
	"io"

	"github.com/opencommerce/commerce/internal/server"
)

// eventsCmd prints what a deployment needs to know about the event
// topics: `commerce events topics` lists the Kafka topics the binary
// publishes, to pre-create them where brokers do not auto-create topics.
func eventsCmd(args []string, stdout io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, eventsUsage, false)
	}
	if len(args) != 1 || args[0] != "topics" {
		return fmt.Errorf("usage: commerce events topics")
	}
	for _, t := range server.EventTopics() {
		fmt.Fprintln(stdout, t)
	}
	return nil
}

// gatewayCmd prints the gateway's routing table: `commerce gateway routes`
// lists "prefix context" lines, to configure an external ingress the same
// way as the gateway routes.
func gatewayCmd(args []string, stdout io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, gatewayUsage, false)
	}
	if len(args) != 1 || args[0] != "routes" {
		return fmt.Errorf("usage: commerce gateway routes")
	}
	for _, r := range server.GatewayRoutes() {
		fmt.Fprintln(stdout, r.Prefix, r.Context)
	}
	return nil
}
