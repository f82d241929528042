package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/opencommerce/commerce/internal/server"
)

// searchCmd is `commerce search reindex`: rebuild search's read model
// from the catalog (after a restore, or to pick up a new backend).
func searchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, searchUsage, true)
	}
	if len(args) == 0 || args[0] != "reindex" {
		return fmt.Errorf("usage: commerce search reindex [flags] (see --help)")
	}
	cfg, log, db, closeDB, err := openShop(ctx, args[1:], stdout, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	bar := newProgress(stdout, 1, "indexing", "products")
	start := time.Now()
	n, err := server.ReindexSearch(ctx, cfg, db, log, bar.set)
	bar.done()
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "indexed %d products in %s (%.0f products/s)\n", n, took.Round(time.Millisecond), float64(n)/max(took.Seconds(), 0.001))
	return nil
}
