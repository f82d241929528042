package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/opencommerce/commerce/internal/platform/config"
)

// Each subcommand's own usage, printed by `commerce <command> --help`
// (followed by the shared configuration flags for those that take them),
// so an operator learns a command's flags without reading the code.
const (
	serveUsage = `Usage: commerce serve [flags]

Runs the shop. With DATABASE_URL unset it manages an embedded PostgreSQL
under DATA_DIR and owns DATA_DIR while it runs (DATA_DIR/serve.lock): a
second serve on the same DATA_DIR is refused with the pid of the first.
`
	migrateUsage = `Usage: commerce migrate up|down [N]|status [flags]

  up          apply every pending migration
  down [N]    roll back the last N migrations (default 1)
  status      list every migration, applied (with when) or pending

Next to a running 'commerce serve' it uses that server's database and
leaves it running.
`
	adminUsage = `Usage: commerce admin create --email E --password P [flags]

Creates a verified administrator; fails if the email is taken.

  --email E       the administrator's email
  --password P    the administrator's password
`
	seedUsage = `Usage: commerce seed [--products N] [flags]

Adds the first N products of a deterministic demo catalog (the same N gives
the same products; SKUs already present are skipped, so it is safe to
rerun), then ANALYZEs the catalog tables so that the first queries are
planned with statistics. Next to a running 'commerce serve' it uses that
server's database; 'commerce serve' indexes the products for search.

  --products N    how many demo products, 1 to 10000000 (default 1000)
`
	searchUsage = `Usage: commerce search reindex [flags]

Rebuilds the search index from the catalog, with progress (reads the
catalog over gRPC at CATALOG_GRPC_ADDR when set).
`
	dbUsage = `Usage: commerce db url [flags]

Prints a connection string for the shop's database, secret included, so
that psql "$(commerce db url)" works.

With DATABASE_URL set it prints DATABASE_URL. Otherwise it prints the URL
of the embedded PostgreSQL under DATA_DIR: its private Unix socket as host
and the generated password (DATA_DIR/postgres_password). It never starts
the database: the URL works while 'commerce serve' runs (when the database
is not running, the URL is still printed and a note goes to stderr). It
fails when DATA_DIR holds no embedded database yet.
`
	checkUsage = `Usage: commerce check [--json] [--grace 2m] [flags]

Audits the shop's data for the invariants that crashes and outages must
not break, prints every violation and exits 1 if there is one (0 when
clean; a check that cannot run also exits 1, with "error:"). It only reads, each context's schema in one READ ONLY,
REPEATABLE READ transaction, so it is safe on a live shop. It connects
like serve: DATABASE_URL, or with it unset the embedded database of the
'commerce serve' running on DATA_DIR (it never starts one, nor migrates).

  stock_matches_ledger            on hand and reserved = the ledger's sums
  reserved_matches_reservations   reserved = the open reservations
  no_order_stuck_placing          no order placing for longer than the grace
  stock_settled_once              paid: committed once; canceled/expired: released once
  refunds_within_capture          refunded <= captured, per payment
  one_fulfillment_per_paid_order  and none for an order never paid
  one_email_per_order_event       one email (one Message-ID) per order event
  dead_letter_not_applied         no event both dead-lettered and applied

  --json       the report as JSON ({"violations": [...], "examined": {...}})
  --grace D    changes younger than D are not judged on what travels by
               event (default 2m; recovery of a placing order takes 1m);
               0s after a load has drained
`
	devUsage = `Usage: commerce dev kafka [--addr 127.0.0.1:9092] [--partitions 3]

Runs an in-process Kafka (kfake) for local split runs; messages live in
memory only and Ctrl-C stops it.

  --addr HOST:PORT    listen address, loopback only (default 127.0.0.1:9092)
  --partitions N      partitions of auto-created topics (default 3)
`
	eventsUsage = `Usage: commerce events topics

Prints every event topic this binary publishes, one a line, sorted. With
EVENT_TRANSPORT=kafka each is the Kafka topic of the same name (no prefix),
so this is the list to create beforehand where the brokers do not create
topics on first use (auto.create.topics.enable=false). Consumers read them
in the group <CONSUMER>.<topic>.
`
	gatewayUsage = `Usage: commerce gateway routes

Prints the path prefix → context table of the gateway (CONTEXTS=gateway),
one "prefix context" line each, sorted; the longest prefix wins. The last
line, /api/v1/orders/*/fulfillment, is not a prefix: * is one path segment
(an order id). Use it to configure an external ingress or to check one.
`
	graphqlUsage = `Usage: commerce graphql subgraphs DIR

Writes the SDL of every GraphQL subgraph compiled into this binary to
DIR/<name>.graphql (Federation v2) and prints "name file" lines. The
binary's own gateway composes them at start; with these files another
federation router composes the same graph (for Apollo Router:
rover supergraph compose, each subgraph's routing URL being
<its process>/internal/graphql/<name>).
`
	healthcheckUsage = `Usage: commerce healthcheck [--url URL] [--timeout 3s]

GETs /healthz of a running 'commerce serve' and exits 0 on a 2xx answer,
1 otherwise: the HEALTHCHECK of the container image, which has no shell
or curl. Without --url it asks http://127.0.0.1:<port of HTTP_ADDR>/healthz
(HTTP_ADDR defaults to :8080; a host named in it is used as is).

  --url URL        the URL to GET instead
  --timeout D      time allowed for the answer (default 3s)
`
)

// wantsHelp reports whether the arguments ask for help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// help prints a subcommand's usage and the shared configuration flags, and
// returns flag.ErrHelp so that the command exits 0 without doing anything.
func help(w io.Writer, usage string, shared bool) error {
	fmt.Fprint(w, usage)
	if shared {
		fmt.Fprintln(w, "\nFlags (each mirrors the environment variable in brackets):")
		config.Usage(w)
	}
	return flag.ErrHelp
}
