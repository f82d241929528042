package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd asks a running `commerce serve` whether it is alive, so a
// container image without a shell or curl (distroless) can still carry a
// Docker HEALTHCHECK: it GETs /healthz on the port of HTTP_ADDR (or --url)
// and succeeds on a 2xx answer within --timeout.
func healthcheckCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		return help(stdout, healthcheckUsage, false)
	}
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage) }
	url := fs.String("url", "", "URL to GET (default http://127.0.0.1:<port of HTTP_ADDR>/healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "time allowed for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck takes no arguments, got %q (see --help)", fs.Args())
	}
	target := *url
	if target == "" {
		var err error
		if target, err = healthURL(getenv("HTTP_ADDR")); err != nil {
			return err
		}
	}
	if *timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("healthcheck: GET %s answered %s", target, res.Status)
	}
	fmt.Fprintf(stdout, "ok: GET %s answered %s\n", target, res.Status)
	return nil
}

// healthURL is the /healthz URL of a server listening on addr (HTTP_ADDR,
// default :8080): its host when it names one, loopback for a wildcard.
func healthURL(addr string) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
