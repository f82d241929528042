// Package app is the webhooks context as a transaction script: endpoints
// administrators register, the consumer that turns integration events into
// deliveries (one per matching endpoint and event, in the consumer's
// transaction), and the dispatcher that attempts due deliveries over HTTP,
// logs every attempt and reschedules failures with exponential backoff and
// jitter for up to three days, all of it in PostgreSQL.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// Errors of webhooks.
var (
	ErrNotFound         = errs.New(errs.NotFound, "not_found", "webhook endpoint not found")
	ErrDeliveryNotFound = errs.New(errs.NotFound, "not_found", "delivery not found")
	ErrDisabled         = errs.New(errs.Conflict, "endpoint_disabled", "the endpoint is disabled; enable it first")
)

// Service is the webhooks context.
type Service struct {
	db     *pg.DB
	outbox *events.Outbox
	log    *slog.Logger
	cfg    Config
	client *httpClient
	wake   chan struct{}
}

// New builds the service; cfg's zero fields take their defaults.
func New(db *pg.DB, outbox *events.Outbox, cfg Config, log *slog.Logger) *Service {
	cfg = cfg.withDefaults()
	return &Service{db: db, outbox: outbox, log: log, cfg: cfg, client: newHTTPClient(cfg), wake: make(chan struct{}, 1)}
}

// Endpoint is a registered receiver as administrators see it (never its
// secret, which is shown once).
type Endpoint struct {
	ID          string   `json:"id" bun:"id"`
	URL         string   `json:"url" bun:"url"`
	Description string   `json:"description" bun:"description"`
	Events      []string `json:"events" bun:"events,array"`
	Enabled     bool     `json:"enabled" bun:"enabled"`
	// DisabledReason says why the platform disabled it (24 hours of
	// failures); null when enabled or disabled by an administrator.
	DisabledReason *string `json:"disabled_reason" bun:"disabled_reason"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince *time.Time `json:"failing_since" bun:"failing_since"`
	// PreviousSecretExpiresAt is the end of a rotation's overlap, while
	// deliveries are signed with both secrets.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at" bun:"previous_expires_at"`
	CreatedAt               time.Time  `json:"created_at" bun:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at" bun:"updated_at"`
}

// EndpointWithSecret is the answer to a registration: the one time the
// signing secret is shown.
type EndpointWithSecret struct {
	Endpoint
	Secret string `json:"secret"`
}

// RotatedSecret is the answer to a rotation: the new secret, shown once,
// and until when the previous one still signs.
type RotatedSecret struct {
	Secret                  string     `json:"secret"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
}

const endpointCols = `id::text, url, description, events, enabled, disabled_reason, failing_since,
	CASE WHEN previous_expires_at > now() THEN previous_expires_at END AS previous_expires_at, created_at, updated_at`

// CreateInput is the body of POST /admin/webhooks.
type CreateInput struct {
	URL         string   `json:"url" validate:"required,max=2048"`
	Events      []string `json:"events" validate:"required,min=1,max=50,dive,max=100"`
	Description string   `json:"description" validate:"max=500"`
}

// UpdateInput is the body of PATCH /admin/webhooks/{id}: only the fields
// present change; enabled=false disables the endpoint, enabled=true
// enables it again (and forgets its failures).
type UpdateInput struct {
	URL         *string  `json:"url,omitempty" validate:"omitempty,max=2048"`
	Events      []string `json:"events,omitempty" validate:"omitempty,min=1,max=50,dive,max=100"`
	Description *string  `json:"description,omitempty" validate:"omitempty,max=500"`
	Enabled     *bool    `json:"enabled,omitempty"`
}

// RotateInput is the optional body of POST /admin/webhooks/{id}/rotate-secret.
type RotateInput struct {
	// OverlapSeconds is how long the previous secret keeps signing
	// (default 86400, at most 7 days; 0 retires it at once).
	OverlapSeconds *int `json:"overlap_seconds,omitempty" validate:"omitempty,gte=0,lte=604800"`
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// checkURL applies the SSRF policy; a refusal is a 422 on the url field.
func (s *Service) checkURL(raw string) (string, error) {
	u, err := s.cfg.Policy.CheckURL(raw)
	if err != nil {
		return "", errs.Validation(errs.Field("url", err.Error()))
	}
	return u, nil
}

// normaliseEvents checks the filter against the offered events and
// returns it sorted without duplicates ("*" alone when present).
func normaliseEvents(in []string) ([]string, error) {
	var out []string
	for i, e := range in {
		e = strings.TrimSpace(e)
		if e == webhooksapi.AllEvents {
			return []string{webhooksapi.AllEvents}, nil
		}
		if !slices.Contains(webhooksapi.Events, e) {
			return nil, errs.Validation(errs.Field(fmt.Sprintf("events[%d]", i), "unknown event type; one of "+strings.Join(webhooksapi.Events, ", ")+` or "*"`))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out, nil
}

func parseID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", false
	}
	return u.String(), true
}

// Create registers an endpoint and returns its secret, once.
func (s *Service) Create(ctx context.Context, in CreateInput) (*EndpointWithSecret, error) {
	u, err := s.checkURL(in.URL)
	if err != nil {
		return nil, err
	}
	evs, err := normaliseEvents(in.Events)
	if err != nil {
		return nil, err
	}
	secret := newSecret()
	out := &EndpointWithSecret{Secret: secret}
	err = s.db.NewRaw(`INSERT INTO webhooks.endpoints (id, url, description, events, secret) VALUES (?, ?, ?, ?, ?) RETURNING `+endpointCols,
		uuid.Must(uuid.NewV7()).String(), u, strings.TrimSpace(in.Description), pgdialect.Array(evs), secret).Scan(ctx, &out.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("register webhook endpoint: %w", err)
	}
	return out, nil
}

// List pages the endpoints, oldest first.
func (s *Service) List(ctx context.Context, cur string, limit int) ([]Endpoint, *string, error) {
	after, err := cursor.Decode(cur)
	if err != nil {
		return nil, nil, err
	}
	q := "SELECT " + endpointCols + " FROM webhooks.endpoints"
	args := []any{}
	if after != "" {
		q += " WHERE id > ?"
		args = append(args, after)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit+1)
	var rows []Endpoint
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("webhook endpoints: %w", err)
	}
	rows, next := cursor.Page(rows, limit, func(e Endpoint) string { return e.ID })
	if rows == nil {
		rows = []Endpoint{}
	}
	return rows, next, nil
}

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, id string) (*Endpoint, error) {
	id, ok := parseID(id)
	if !ok {
		return nil, ErrNotFound
	}
	e := new(Endpoint)
	err := s.db.NewRaw("SELECT "+endpointCols+" FROM webhooks.endpoints WHERE id = ?", id).Scan(ctx, e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("webhook endpoint: %w", err)
	}
	return e, nil
}

// Update changes the fields present in in.
func (s *Service) Update(ctx context.Context, id string, in UpdateInput) (*Endpoint, error) {
	id, ok := parseID(id)
	if !ok {
		return nil, ErrNotFound
	}
	sets := []string{"updated_at = now()"}
	var args []any
	if in.URL != nil {
		u, err := s.checkURL(*in.URL)
		if err != nil {
			return nil, err
		}
		sets = append(sets, "url = ?")
		args = append(args, u)
	}
	if in.Events != nil {
		evs, err := normaliseEvents(in.Events)
		if err != nil {
			return nil, err
		}
		sets = append(sets, "events = ?")
		args = append(args, pgdialect.Array(evs))
	}
	if in.Description != nil {
		sets = append(sets, "description = ?")
		args = append(args, strings.TrimSpace(*in.Description))
	}
	if in.Enabled != nil {
		sets = append(sets, "enabled = ?", "disabled_reason = NULL", "failing_since = NULL")
		args = append(args, *in.Enabled)
	}
	e := new(Endpoint)
	err := s.db.NewRaw("UPDATE webhooks.endpoints SET "+strings.Join(sets, ", ")+" WHERE id = ? RETURNING "+endpointCols, append(args, id)...).Scan(ctx, e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("update webhook endpoint: %w", err)
	}
	if e.Enabled {
		s.Wake() // deliveries held while it was disabled are due again
	}
	return e, nil
}

// Delete removes an endpoint with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, id string) error {
	id, ok := parseID(id)
	if !ok {
		return ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM webhooks.endpoints WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RotateSecret gives the endpoint a new secret; the current one keeps
// signing (a second v1) for the overlap, so receivers can switch without
// losing deliveries.
func (s *Service) RotateSecret(ctx context.Context, id string, in RotateInput) (*RotatedSecret, error) {
	id, ok := parseID(id)
	if !ok {
		return nil, ErrNotFound
	}
	overlap := 86400
	if in.OverlapSeconds != nil {
		overlap = *in.OverlapSeconds
	}
	out := &RotatedSecret{Secret: newSecret()}
	err := s.db.NewRaw(`UPDATE webhooks.endpoints SET previous_secret = CASE WHEN ? > 0 THEN secret END,
			previous_expires_at = CASE WHEN ? > 0 THEN now() + make_interval(secs => ?) END, secret = ?, updated_at = now()
		WHERE id = ? RETURNING previous_expires_at`, overlap, overlap, overlap, out.Secret, id).Scan(ctx, &out.PreviousSecretExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return out, nil
}
