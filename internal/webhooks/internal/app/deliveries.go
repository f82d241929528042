package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/webhooks/internal/ssrf"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// Config tunes delivery. Zero values take the defaults.
type Config struct {
	// Policy is the SSRF policy (WEBHOOKS_ALLOW_INSECURE).
	Policy ssrf.Policy
	// Timeout bounds one attempt, connect to response (default 10s): a
	// 2xx within it is a success.
	Timeout time.Duration
	// Resolver resolves endpoint host names (nil: the system's); the
	// dialer checks what it returns.
	Resolver ssrf.Resolver
	// RootCAs are the CAs that verify receivers (nil: the system's).
	RootCAs *x509.CertPool
	// Backoff is the delay before attempt n+1 after n failed attempts
	// (default: 30s doubling, capped at 6h, with jitter).
	Backoff func(n int) time.Duration
	// GiveUpAfter is how long a delivery is retried (default 72h).
	GiveUpAfter time.Duration
	// DisableAfter is how long an endpoint may fail without a success
	// before it is disabled (default 24h).
	DisableAfter time.Duration
	// PollInterval is how often the dispatcher looks for due retries when
	// nothing woke it (default 1s).
	PollInterval time.Duration
	// Concurrency is how many attempts run at once (default 16).
	Concurrency int
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = Backoff
	}
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = 72 * time.Hour
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = 24 * time.Hour
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	return c
}

// Backoff is the default retry schedule: 30s after the first failure,
// doubling up to 6h, each delay drawn uniformly from its upper half so
// that receivers recovering from an outage are not hit all at once.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	d = min(d, 6*time.Hour)
	return d/2 + rand.N(d/2+1)
}

// Delivery is one event sent (or to be sent) to one endpoint, with its log.
type Delivery struct {
	ID         string `json:"id" bun:"id"`
	EndpointID string `json:"endpoint_id" bun:"endpoint_id"`
	EventID    string `json:"event_id" bun:"event_id"`
	EventType  string `json:"event_type" bun:"event_type"`
	Status     string `json:"status" bun:"status" enum:"pending,succeeded,failed"`
	Attempts   int    `json:"attempts" bun:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt *time.Time `json:"next_attempt_at" bun:"next_attempt_at"`
	// ReplayOf is the delivery this one replays (same event id).
	ReplayOf    *string    `json:"replay_of" bun:"replay_of"`
	CreatedAt   time.Time  `json:"created_at" bun:"created_at"`
	CompletedAt *time.Time `json:"completed_at" bun:"completed_at"`
	Log         []Attempt  `json:"log" bun:"-"`
}

// Attempt is one HTTP attempt of a delivery.
type Attempt struct {
	DeliveryID string    `json:"-" bun:"delivery_id"`
	N          int       `json:"attempt" bun:"n"`
	At         time.Time `json:"attempted_at" bun:"attempted_at"`
	LatencyMS  int       `json:"latency_ms" bun:"latency_ms"`
	// ResponseCode is the receiver's HTTP status (null: no response).
	ResponseCode *int `json:"response_code" bun:"response_code"`
	// ResponseBody is the first KiB of the receiver's answer.
	ResponseBody string `json:"response_body" bun:"response_body"`
	// Error says why no response counted (timeout, refused address).
	Error string `json:"error" bun:"error"`
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

const deliveryCols = `id::text, endpoint_id::text, event_id, event_type, status, attempts,
	CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, replay_of::text, created_at, completed_at`

// body is the JSON a receiver gets: the event envelope without the
// platform's trace context.
func body(e events.Envelope) ([]byte, error) {
	e.TraceParent = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("webhook body of %s: %w", e.ID, err)
	}
	return b, nil
}

// HandleEvent queues one delivery of e for each enabled endpoint whose
// filter matches, in the consumer's transaction (the inbox row is in it
// too, and the unique original delivery per endpoint and event makes a
// redelivered event a no-op).
func (s *Service) HandleEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	if !slices.Contains(webhooksapi.Events, e.Type) {
		return nil
	}
	var endpoints []string
	if err := tx.NewRaw("SELECT id::text FROM webhooks.endpoints WHERE enabled AND events && ?::text[] ORDER BY id",
		pgdialect.Array([]string{e.Type, webhooksapi.AllEvents})).Scan(ctx, &endpoints); err != nil {
		return fmt.Errorf("endpoints of %s: %w", e.Type, err)
	}
	if len(endpoints) == 0 {
		return nil
	}
	b, err := body(e)
	if err != nil {
		return err
	}
	ids := make([]string, len(endpoints))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO webhooks.deliveries (id, endpoint_id, event_id, event_type, payload, next_attempt_at)
		SELECT d, ep, ?, ?, ?, now() FROM unnest(?::uuid[], ?::uuid[]) AS x(d, ep)
		ON CONFLICT (endpoint_id, event_id) WHERE replay_of IS NULL DO NOTHING`,
		e.ID, e.Type, string(b), pgdialect.Array(ids), pgdialect.Array(endpoints))
	if err != nil {
		return fmt.Errorf("queue deliveries of %s: %w", e.ID, err)
	}
	return nil
}

// Wake tells the dispatcher deliveries may be due now (the consumer's
// After hook), instead of waiting for its next poll.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Deliveries pages an endpoint's deliveries, newest first, each with its
// attempts (one query for the page's log).
func (s *Service) Deliveries(ctx context.Context, endpointID, cur string, limit int) ([]Delivery, *string, error) {
	if _, err := s.Get(ctx, endpointID); err != nil {
		return nil, nil, err
	}
	before, err := cursor.Decode(cur)
	if err != nil {
		return nil, nil, err
	}
	q := "SELECT " + deliveryCols + " FROM webhooks.deliveries WHERE endpoint_id = ?"
	args := []any{endpointID}
	if before != "" {
		q += " AND id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	var rows []Delivery
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	rows, next := cursor.Page(rows, limit, func(d Delivery) string { return d.ID })
	if rows == nil {
		rows = []Delivery{}
	}
	if err := s.attachLog(ctx, rows); err != nil {
		return nil, nil, err
	}
	return rows, next, nil
}

func (s *Service) attachLog(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	at := make(map[string]int, len(ds))
	for i := range ds {
		ids[i] = ds[i].ID
		at[ds[i].ID] = i
		ds[i].Log = []Attempt{}
	}
	var log []Attempt
	if err := s.db.NewRaw(`SELECT delivery_id::text, n, attempted_at, latency_ms, response_code, response_body, error
		FROM webhooks.attempts WHERE delivery_id = ANY(?::uuid[]) ORDER BY delivery_id, n`, pgdialect.Array(ids)).Scan(ctx, &log); err != nil {
		return fmt.Errorf("webhook delivery log: %w", err)
	}
	for _, a := range log {
		i := at[a.DeliveryID]
		ds[i].Log = append(ds[i].Log, a)
	}
	return nil
}

func (s *Service) delivery(ctx context.Context, endpointID, id string) (*Delivery, error) {
	d := new(Delivery)
	err := s.db.NewRaw("SELECT "+deliveryCols+" FROM webhooks.deliveries WHERE id = ? AND endpoint_id = ?", id, endpointID).Scan(ctx, d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrDeliveryNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("webhook delivery: %w", err)
	}
	ds := []Delivery{*d}
	if err := s.attachLog(ctx, ds); err != nil {
		return nil, err
	}
	return &ds[0], nil
}

// Replay queues a new delivery of a delivery's event (same event id and
// body, newly signed), whatever the first one's outcome.
func (s *Service) Replay(ctx context.Context, endpointID, deliveryID string) (*Delivery, error) {
	e, err := s.Get(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	id, ok := parseID(deliveryID)
	if !ok {
		return nil, ErrDeliveryNotFound
	}
	if !e.Enabled {
		return nil, ErrDisabled
	}
	newID := uuid.Must(uuid.NewV7()).String()
	res, err := s.db.ExecContext(ctx, `INSERT INTO webhooks.deliveries (id, endpoint_id, event_id, event_type, payload, next_attempt_at, replay_of)
		SELECT ?, endpoint_id, event_id, event_type, payload, now(), id FROM webhooks.deliveries WHERE id = ? AND endpoint_id = ?`,
		newID, id, e.ID)
	if err != nil {
		return nil, fmt.Errorf("replay webhook delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrDeliveryNotFound
	}
	s.Wake()
	return s.delivery(ctx, e.ID, newID)
}

// Ping sends a webhooks.ping event to the endpoint now and returns the
// delivery with its one attempt (not retried).
func (s *Service) Ping(ctx context.Context, endpointID string) (*Delivery, error) {
	e, err := s.Get(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	env, err := events.New(webhooksapi.EventPing, e.ID, map[string]string{"endpoint_id": e.ID})
	if err != nil {
		return nil, err
	}
	b, err := body(env)
	if err != nil {
		return nil, err
	}
	var c claimed
	err = s.db.NewRaw(`INSERT INTO webhooks.deliveries AS d (id, endpoint_id, event_id, event_type, payload, attempts, next_attempt_at)
		SELECT ?, e.id, ?, ?, ?, 1, now() + make_interval(secs => ?) FROM webhooks.endpoints e WHERE e.id = ?
		RETURNING d.id::text, d.endpoint_id::text, d.event_id, d.event_type, d.payload, d.attempts, d.created_at`,
		uuid.Must(uuid.NewV7()).String(), env.ID, env.Type, string(b), s.lease().Seconds(), e.ID).Scan(ctx, &c)
	if err != nil {
		return nil, fmt.Errorf("ping webhook endpoint: %w", err)
	}
	if err := s.db.NewRaw(`SELECT url, secret, CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous_secret
		FROM webhooks.endpoints WHERE id = ?`, e.ID).Scan(ctx, &c); err != nil {
		return nil, fmt.Errorf("ping webhook endpoint: %w", err)
	}
	res := s.attempt(ctx, c)
	if err := s.record(ctx, c, res, false); err != nil {
		return nil, err
	}
	return s.delivery(ctx, e.ID, c.ID)
}

// claimed is a delivery taken for one attempt, with what sending needs.
type claimed struct {
	ID             string         `bun:"id"`
	EndpointID     string         `bun:"endpoint_id"`
	EventID        string         `bun:"event_id"`
	EventType      string         `bun:"event_type"`
	Payload        string         `bun:"payload"`
	Attempts       int            `bun:"attempts"`
	CreatedAt      time.Time      `bun:"created_at"`
	URL            string         `bun:"url"`
	Secret         string         `bun:"secret"`
	PreviousSecret sql.NullString `bun:"previous_secret"`
}

// lease is how long a claimed delivery is hidden from other dispatchers:
// longer than an attempt can take, so it is retried only when the process
// attempting it died.
func (s *Service) lease() time.Duration { return s.cfg.Timeout + 30*time.Second }

// claim takes up to n due deliveries of enabled endpoints (SKIP LOCKED:
// any number of instances share the work), counting the attempt and
// moving next_attempt_at past the lease.
func (s *Service) claim(ctx context.Context, n int) ([]claimed, error) {
	var out []claimed
	err := s.db.NewRaw(`WITH due AS (
			SELECT d.id FROM webhooks.deliveries d JOIN webhooks.endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.enabled
			ORDER BY d.next_attempt_at LIMIT ? FOR UPDATE OF d SKIP LOCKED)
		UPDATE webhooks.deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
		FROM due, webhooks.endpoints e WHERE d.id = due.id AND e.id = d.endpoint_id
		RETURNING d.id::text, d.endpoint_id::text, d.event_id, d.event_type, d.payload, d.attempts, d.created_at, e.url, e.secret,
			CASE WHEN e.previous_expires_at > now() THEN e.previous_secret END AS previous_secret`,
		n, s.lease().Seconds()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// result is the outcome of one attempt.
type result struct {
	at      time.Time
	latency time.Duration
	code    int // 0: no response
	body    string
	err     string
}

func (r result) ok() bool { return r.code >= 200 && r.code < 300 && r.err == "" }

// httpClient sends deliveries through the SSRF-guarded dialer, without
// proxies (a proxy would connect for us, past the guard) and without
// following redirects (a 3xx is a failure, not a new destination).
type httpClient struct {
	c       *http.Client
	timeout time.Duration
}

func newHTTPClient(cfg Config) *httpClient {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           cfg.Policy.Dialer(cfg.Resolver, cfg.Timeout),
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &httpClient{timeout: cfg.Timeout, c: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// maxLoggedBody is how much of a receiver's answer the log keeps.
const maxLoggedBody = 1024

// attempt sends one delivery: POST of the envelope, signed with the
// endpoint's secret (and the previous one during a rotation).
func (s *Service) attempt(ctx context.Context, c claimed) result {
	ctx, cancel := context.WithTimeout(ctx, s.client.timeout)
	defer cancel()
	start := time.Now()
	r := result{at: start.UTC()}
	payload := []byte(c.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(payload))
	if err != nil {
		r.err = "bad request: " + err.Error()
		return r
	}
	secrets := []string{c.Secret}
	if c.PreviousSecret.Valid && c.PreviousSecret.String != "" {
		secrets = append(secrets, c.PreviousSecret.String)
	}
	ts := start.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Commerce-Webhooks/1")
	req.Header.Set(webhooksapi.HeaderEventID, c.EventID)
	req.Header.Set(webhooksapi.HeaderEventType, c.EventType)
	req.Header.Set(webhooksapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(webhooksapi.HeaderSignature, webhooksapi.Sign(ts, payload, secrets...))
	res, err := s.client.c.Do(req)
	if err != nil {
		r.latency = time.Since(start)
		r.err = describe(err, ctx)
		return r
	}
	b, rerr := io.ReadAll(io.LimitReader(res.Body, maxLoggedBody))
	_ = res.Body.Close()
	r.latency = time.Since(start)
	r.code = res.StatusCode
	r.body = validPrefix(b)
	if rerr != nil && ctx.Err() != nil {
		r.err = "timed out reading the response"
	}
	return r
}

// describe turns a transport error into the log's words, without the
// request URL (which may carry a token in its query).
func describe(err error, ctx context.Context) string {
	switch {
	case errors.Is(err, ssrf.ErrForbiddenAddress):
		return "refused: the endpoint resolves to a private, loopback, link-local or metadata address"
	case ctx.Err() == context.DeadlineExceeded:
		return "timed out"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// validPrefix keeps the logged body valid UTF-8 (text columns refuse
// anything else): a cut rune and invalid bytes are replaced.
func validPrefix(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// record logs the attempt and moves the delivery on: succeeded, due again
// after the backoff, or failed when retrying would pass GiveUpAfter (or
// retry is false). A failure also extends the endpoint's failing run and,
// past DisableAfter, disables it and tells the administrators (the event
// commits with the change).
func (s *Service) record(ctx context.Context, c claimed, r result, retry bool) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var code *int
		if r.code != 0 {
			code = &r.code
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks.attempts (delivery_id, n, attempted_at, latency_ms, response_code, response_body, error)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			c.ID, c.Attempts, r.at, r.latency.Milliseconds(), code, r.body, r.err); err != nil {
			return fmt.Errorf("log webhook attempt: %w", err)
		}
		if r.ok() {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks.deliveries SET status = 'succeeded', completed_at = now(), next_attempt_at = NULL WHERE id = ?`, c.ID); err != nil {
				return fmt.Errorf("webhook delivery succeeded: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks.endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`, c.EndpointID); err != nil {
				return fmt.Errorf("webhook endpoint recovered: %w", err)
			}
			return nil
		}
		delay := s.cfg.Backoff(c.Attempts)
		if !retry || time.Now().Add(delay).After(c.CreatedAt.Add(s.cfg.GiveUpAfter)) {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks.deliveries SET status = 'failed', completed_at = now(), next_attempt_at = NULL WHERE id = ?`, c.ID); err != nil {
				return fmt.Errorf("webhook delivery failed: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE webhooks.deliveries SET next_attempt_at = now() + make_interval(secs => ?) WHERE id = ?`,
			delay.Seconds(), c.ID); err != nil {
			return fmt.Errorf("reschedule webhook delivery: %w", err)
		}
		return s.failing(ctx, tx, c.EndpointID)
	})
}

// failing extends the endpoint's failing run and disables it past
// DisableAfter, publishing webhooks.endpoint_disabled.
func (s *Service) failing(ctx context.Context, tx bun.Tx, endpointID string) error {
	var ep struct {
		URL          string    `bun:"url"`
		Description  string    `bun:"description"`
		Enabled      bool      `bun:"enabled"`
		FailingSince time.Time `bun:"failing_since"`
		Expired      bool      `bun:"expired"`
	}
	err := tx.NewRaw(`UPDATE webhooks.endpoints SET failing_since = COALESCE(failing_since, now()) WHERE id = ?
		RETURNING url, description, enabled, failing_since, failing_since <= now() - make_interval(secs => ?) AS expired`,
		endpointID, s.cfg.DisableAfter.Seconds()).Scan(ctx, &ep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("webhook endpoint failing: %w", err)
	}
	if !ep.Enabled || !ep.Expired {
		return nil
	}
	reason := fmt.Sprintf("every delivery failed for %s", s.cfg.DisableAfter)
	if _, err := tx.ExecContext(ctx, `UPDATE webhooks.endpoints SET enabled = false, disabled_reason = ?, updated_at = now() WHERE id = ?`,
		reason, endpointID); err != nil {
		return fmt.Errorf("disable failing webhook endpoint: %w", err)
	}
	s.log.WarnContext(ctx, "webhook endpoint disabled after failing", "endpoint_id", endpointID, "failing_since", ep.FailingSince)
	ev, err := events.New(webhooksapi.EventEndpointDisabled, endpointID, webhooksapi.EndpointDisabled{
		EndpointID: endpointID, URL: ep.URL, Description: ep.Description, FailingSince: ep.FailingSince.UTC(), Reason: reason})
	if err != nil {
		return err
	}
	return s.outbox.Publish(ctx, tx, ev)
}

// Run attempts due deliveries until ctx ends: up to Concurrency at once,
// claiming more as attempts finish, woken by new deliveries (Wake) and
// otherwise polling every PollInterval for due retries.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.cfg.Concurrency)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		free := cap(slots) - len(slots)
		if free > 0 {
			batch, err := s.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "webhook dispatcher", "err", err)
			}
			for _, c := range batch {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots; s.Wake() }()
					r := s.attempt(ctx, c)
					if ctx.Err() != nil {
						return // shutting down: the lease brings it back
					}
					if err := s.record(ctx, c, r, true); err != nil {
						s.log.WarnContext(ctx, "webhook delivery not recorded", "delivery_id", c.ID, "err", err)
					}
				}()
			}
			if len(batch) == free {
				continue // there may be more due
			}
		}
		t.Reset(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}
