package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

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

// graphqlCmd exports the GraphQL subgraphs: `commerce graphql subgraphs
// DIR` writes each compiled-in subgraph's SDL to DIR/<name>.graphql and
// prints "name file" lines, so that another federation router (Apollo
// Router with rover) can compose the same supergraph, and so that CI
// checks Apollo's composition accepts it.
func graphqlCmd(args []string, stdout io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, graphqlUsage, false)
	}
	if len(args) != 2 || args[0] != "subgraphs" {
		return fmt.Errorf("usage: commerce graphql subgraphs DIR")
	}
	dir := args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("graphql subgraphs: %w", err)
	}
	sdls := server.SubgraphSDLs()
	names := make([]string, 0, len(sdls))
	for n := range sdls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		file := filepath.Join(dir, n+".graphql")
		if err := os.WriteFile(file, []byte(sdls[n]), 0o644); err != nil {
			return fmt.Errorf("graphql subgraphs: %w", err)
		}
		fmt.Fprintln(stdout, n, file)
	}
	return nil
}
