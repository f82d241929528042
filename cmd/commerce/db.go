package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// dbCmd is `commerce db url`: the connection string of the shop's
// database with its secret, for an operator's psql. The embedded database
// is reachable only through a private socket with a generated password,
// so this is the one way to get at it by hand. It starts nothing.
func dbCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, dbUsage, true)
	}
	if len(args) == 0 || args[0] != "url" {
		return errors.New("usage: commerce db url [flags] (see --help)")
	}
	cfg, err := loadConfig(args[1:], stdout)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		fmt.Fprintln(stdout, cfg.DatabaseURL)
		return nil
	}
	url, running, err := pg.EmbeddedURL(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("db url: %w", err)
	}
	fmt.Fprintln(stdout, url)
	if !running {
		fmt.Fprintln(stderr, "note: the embedded database is not running; this URL works while 'commerce serve' runs")
	}
	return nil
}
