package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/server"
)

// seedCmd is `commerce seed`: the demo catalog, so that a fresh shop has
// something to browse and search.
func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, seedUsage, true)
	}
	n := 1000
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "--products" || a == "-products") && i+1 < len(args):
			v, err := strconv.Atoi(args[i+1])
			if err != nil || v < 1 || v > 10_000_000 {
				return fmt.Errorf("--products: %q is not a number from 1 to 10000000", args[i+1])
			}
			n, i = v, i+1
		case strings.HasPrefix(a, "--products="):
			v, err := strconv.Atoi(strings.TrimPrefix(a, "--products="))
			if err != nil || v < 1 || v > 10_000_000 {
				return errors.New("--products: not a number from 1 to 10000000")
			}
			n = v
		default:
			rest = append(rest, a)
		}
	}
	cfg, log, db, closeDB, err := openShop(ctx, rest, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	bar := newProgress(stdout, n, "seeding", "products")
	start := time.Now()
	created, err := server.SeedCatalog(ctx, cfg, db, log, n, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d of %d demo products (%d already present) in %s\n", created, n, n-created, time.Since(start).Round(time.Millisecond))
	return nil
}

// progress draws a bar on a terminal and plain lines elsewhere (CI logs).
type progress struct {
	w           io.Writer
	total       int
	tty         bool
	last        time.Time
	verb, nouns string
}

func newProgress(w io.Writer, total int, verb, nouns string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, total: total, tty: tty, verb: verb, nouns: nouns}
}

// set updates a bar whose total is learnt on the way.
func (p *progress) set(done, total int) {
	p.total = max(total, 1)
	p.update(done)
}

func (p *progress) update(done int) {
	if p.tty {
		const width = 40
		filled := done * width / p.total
		fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/p.total, done, p.total)
		return
	}
	if done == p.total || time.Since(p.last) > 2*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "%s: %d/%d %s\n", p.verb, done, p.total, p.nouns)
	}
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
