package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server/check"
)

// errViolations makes `commerce check` exit 1 after printing its report.
var errViolations = errors.New("invariants violated")

// checkCmd is `commerce check`: audit the shop's data for the invariants
// crashes and outages must not break (internal/server/check). It reads only, in
// READ ONLY REPEATABLE READ transactions, so it is safe on a live shop; it
// neither migrates nor starts the embedded database.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, checkUsage, true)
	}
	asJSON := false
	grace := 2 * time.Minute
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case (a == "--grace" || a == "-grace") && i+1 < len(args):
			d, err := time.ParseDuration(args[i+1])
			if err != nil || d < 0 {
				return fmt.Errorf("--grace: %q is not a duration of 0s or more (2m, 30s)", args[i+1])
			}
			grace, i = d, i+1
		case strings.HasPrefix(a, "--grace="):
			d, err := time.ParseDuration(strings.TrimPrefix(a, "--grace="))
			if err != nil || d < 0 {
				return fmt.Errorf("--grace: %q is not a duration of 0s or more (2m, 30s)", strings.TrimPrefix(a, "--grace="))
			}
			grace = d
		default:
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(rest, stdout)
	if err != nil {
		return err
	}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		url, running, err := pg.EmbeddedURL(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if !running {
			return errors.New("check: DATABASE_URL is unset and the embedded database under DATA_DIR is not running (start commerce serve, or set DATABASE_URL)")
		}
		dsn = url
	}
	db, err := pg.Open(ctx, dsn, pg.WithMaxConns(2))
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer db.Close()
	rep, err := check.Run(ctx, db.SQL(), check.Options{Grace: grace})
	if err != nil {
		return err
	}
	if asJSON {
		b, err := rep.JSON()
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprint(stdout, rep.Text())
	}
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%w: %d", errViolations, len(rep.Violations))
	}
	return nil
}
