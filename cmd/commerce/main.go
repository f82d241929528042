// Command commerce runs the whole shop as one binary (serve), manages its
// database schema (migrate), creates administrators (admin), loads a demo
// catalog (seed), rebuilds the search index (search), prints the database
// URL (db), lists the event topics (events) and the gateway's routes
// (gateway) for deployments, probes a running server (healthcheck) and
// reports its version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only when PPROF_ADDR is set
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server"
)

// version is stamped by the build (-ldflags "-X main.version=...").
var version = "dev"

const usage = `commerce — one binary that runs a whole shop

Usage:
  commerce serve [flags]                       run the shop (no configuration needed)
  commerce migrate up|down [N]|status [flags]  manage the database schema
  commerce admin create --email E --password P create a verified administrator
  commerce seed [--products N] [flags]         add a deterministic demo catalog (default 1000; safe to rerun)
  commerce search reindex [flags]              rebuild the search index from the catalog
  commerce db url [flags]                      print the database URL, secret included: psql "$(commerce db url)"
  commerce check [--json] [--grace 2m] [flags] audit the shop's invariants, read-only (exit 1 on a violation)
  commerce dev kafka [--addr 127.0.0.1:9092]   run an in-process Kafka (kfake) for local split runs
  commerce events topics                       print the Kafka topics the binary publishes, one a line
  commerce gateway routes                      print the gateway's path prefix → context table
  commerce graphql subgraphs DIR               write each GraphQL subgraph's SDL to DIR (for rover / Apollo Router)
  commerce healthcheck [--url URL]             exit 0 when a running serve answers /healthz (container HEALTHCHECK)
  commerce version                             print the version

Every flag mirrors an environment variable (--http-addr = HTTP_ADDR).
Run 'commerce <command> --help' for a command's own usage and the list.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	server.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], stdout, stderr)
	case "admin":
		err = adminCmd(ctx, args[1:], stdout, stderr)
	case "seed":
		err = seedCmd(ctx, args[1:], stdout, stderr)
	case "search":
		err = searchCmd(ctx, args[1:], stdout, stderr)
	case "db":
		err = dbCmd(ctx, args[1:], stdout, stderr)
	case "check":
		err = checkCmd(ctx, args[1:], stdout, stderr)
	case "dev":
		err = devCmd(ctx, args[1:], stdout, stderr)
	case "events":
		err = eventsCmd(args[1:], stdout)
	case "gateway":
		err = gatewayCmd(args[1:], stdout)
	case "graphql":
		err = graphqlCmd(args[1:], stdout)
	case "healthcheck":
		err = healthcheckCmd(ctx, args[1:], os.Getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "commerce", version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

func loadConfig(args []string, stdout io.Writer) (*config.Config, error) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(stdout, "Flags (each mirrors the environment variable in brackets):")
			config.Usage(stdout)
			return nil, flag.ErrHelp
		}
	}
	return config.Load(args, os.Getenv)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, serveUsage, true)
	}
	start := time.Now()
	cfg, err := loadConfig(args, stdout)
	if err != nil {
		return err
	}
	// Telemetry first: the logger exports through it (OTLP logs), and it
	// is flushed and stopped last, after the server's own shutdown.
	tel, err := server.StartTelemetry(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(sctx)
	}()
	log := logx.New(stderr, cfg.LogLevel, tel.LogHandler())
	slog.SetDefault(log)
	traces, metrics, logs := tel.Enabled()
	log.Info("starting commerce", "version", version, "config", cfg.Masked(), "otlp_traces", traces, "otlp_metrics", metrics, "otlp_logs", logs)
	if cfg.PprofAddr != "" {
		go func() {
			srv := &http.Server{Addr: cfg.PprofAddr, ReadHeaderTimeout: 5 * time.Second} // DefaultServeMux carries net/http/pprof
			log.Info("pprof listening", "addr", cfg.PprofAddr, "err", srv.ListenAndServe())
		}()
	}

	if cfg.Gateway() {
		g, err := server.NewGateway(ctx, cfg, log)
		if err != nil {
			return err
		}
		log.Info("ready (gateway)", "startup_ms", time.Since(start).Milliseconds())
		return g.Run(ctx)
	}
	db, closeDB, n, err := server.OpenMigrated(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer closeDB()
	log.Info("migrations applied", "count", n)
	srv, err := server.New(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	log.Info("ready", "startup_ms", time.Since(start).Milliseconds())
	return srv.Run(ctx)
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, migrateUsage, true)
	}
	if len(args) == 0 {
		return errors.New("usage: commerce migrate up|down [N]|status (see --help)")
	}
	switch args[0] {
	case "up", "down", "status":
	default:
		return fmt.Errorf("unknown migrate action %q (up, down, status; see --help)", args[0])
	}
	action, rest := args[0], args[1:]
	steps := 1
	if action == "down" && len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 1 {
			return fmt.Errorf("migrate down: %q is not a positive number of steps", rest[0])
		}
		steps, rest = n, rest[1:]
	}
	cfg, err := loadConfig(rest, stdout)
	if err != nil {
		return err
	}
	log := logx.New(stderr, cfg.LogLevel)
	db, closeDB, err := server.Database(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer closeDB()
	m, err := server.Migrator(db, cfg)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	case "down":
		n, err := m.Down(ctx, steps)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back %d migration(s)\n", n)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			applied := "pending"
			if s.AppliedAt != nil {
				applied = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%-12s %04d_%-24s %s\n", s.Context, s.Version, s.Name, applied)
		}
	default:
		return fmt.Errorf("unknown migrate action %q (up, down, status)", action)
	}
	return nil
}

func adminCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, adminUsage, true)
	}
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: commerce admin create --email E --password P (see --help)")
	}
	var email, password string
	var rest []string
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "--email" || a == "-email") && i+1 < len(args):
			email, i = args[i+1], i+1
		case (a == "--password" || a == "-password") && i+1 < len(args):
			password, i = args[i+1], i+1
		default:
			rest = append(rest, a)
		}
	}
	if email == "" || password == "" {
		return errors.New("admin create needs --email and --password")
	}
	cfg, log, db, closeDB, err := openShop(ctx, rest, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	created, err := server.CreateAdmin(ctx, cfg, db, log, email, password)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("an account with email %s already exists", email)
	}
	fmt.Fprintf(stdout, "admin %s created\n", email)
	return nil
}

// openShop is the common start of the data subcommands (admin, seed):
// configuration, logger, database (embedded when needed) with migrations
// applied. An embedded server is stopped again only if this process
// started it (a running `serve` keeps its database).
func openShop(ctx context.Context, args []string, stdout, stderr io.Writer) (*config.Config, *slog.Logger, *pg.DB, func(), error) {
	cfg, err := loadConfig(args, stdout)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	log := logx.New(stderr, cfg.LogLevel)
	db, closeDB, _, err := server.OpenMigrated(ctx, cfg, log, false)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return cfg, log, db, closeDB, nil
}
