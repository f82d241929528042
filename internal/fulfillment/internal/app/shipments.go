package app

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Carrier creates shipments at a shipping company.
type Carrier interface {
	CreateShipment(ctx context.Context, orderID, courier, country string, weightGrams int, eta time.Time) (trackingID string, err error)
}

// SimulatedCarrier is the built-in carrier: deterministic tracking ids, no
// network. Real carriers implement the same interface.
type SimulatedCarrier struct{}

// CreateShipment implements Carrier.
func (SimulatedCarrier) CreateShipment(_ context.Context, orderID, courier, _ string, _ int, _ time.Time) (string, error) {
	sum := sha256.Sum256([]byte(orderID))
	return "SIM" + strings.ToUpper(courier[:1]) + strings.ToUpper(hex.EncodeToString(sum[:6])), nil
}

// Fulfillment is a shipment as its owner sees it.
type Fulfillment struct {
	ID         string     `json:"id" bun:"id"`
	OrderID    string     `json:"order_id" bun:"order_id"`
	UserID     string     `json:"-" bun:"user_id"`
	Email      string     `json:"-" bun:"email"`
	Status     string     `json:"status" bun:"status" enum:"pending,in_progress,shipped,delivered"`
	Courier    string     `json:"courier" bun:"courier" enum:"standard,express"`
	TrackingID *string    `json:"tracking_id" bun:"tracking_id"`
	ETA        *time.Time `json:"eta" bun:"eta"`
	CreatedAt  time.Time  `json:"created_at" bun:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at" bun:"updated_at"`
}

const fulfillmentCols = "id::text, order_id::text, user_id::text, email, status, courier, tracking_id, eta, created_at, updated_at"

// Errors of fulfillment.
var (
	ErrNotFound   = errs.New(errs.NotFound, "not_found", "fulfillment not found")
	ErrTransition = errs.New(errs.Conflict, "invalid_transition", "the fulfillment cannot move to this status from its current one")
)

// WithCarrier sets the carrier (default: simulated).
func (s *Service) WithCarrier(c Carrier) { s.carrier = c }

// HandleOrderPaid creates the order's one fulfillment (unique per order)
// and records fulfillment_created, in the consumer's transaction.
func (s *Service) HandleOrderPaid(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	if e.Type != orderingapi.EventOrderPaid {
		return nil
	}
	f := Fulfillment{ID: uuid.Must(uuid.NewV7()).String(), OrderID: p.OrderID, UserID: p.UserID, Email: p.Email, Status: "pending", Courier: p.Courier}
	res, err := tx.ExecContext(ctx, `INSERT INTO fulfillment.fulfillments (id, order_id, user_id, email, status, courier, country, weight_grams, currency)
		VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING`,
		f.ID, p.OrderID, p.UserID, p.Email, p.Courier, p.Country, p.WeightGrams, p.Currency)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return s.publish(ctx, tx, fulfillmentapi.EventFulfillmentCreated, &f)
}

func (s *Service) publish(ctx context.Context, tx bun.Tx, typ string, f *Fulfillment) error {
	p := fulfillmentapi.FulfillmentEvent{FulfillmentID: f.ID, OrderID: f.OrderID, UserID: f.UserID, Email: f.Email, Status: f.Status, Courier: f.Courier}
	if f.TrackingID != nil {
		p.TrackingID = *f.TrackingID
	}
	if f.ETA != nil {
		p.ETA = f.ETA.UTC().Format(time.RFC3339)
	}
	ev, err := events.New(typ, f.OrderID, p)
	if err != nil {
		return err
	}
	return s.outbox.Publish(ctx, tx, ev)
}

// CreateShipments hands pending fulfillments to the carrier. Each is
// claimed by pushing its next attempt forward (short transaction), the
// carrier is called outside any transaction, and the outcome recorded; a
// failure is retried with exponential backoff.
func (s *Service) CreateShipments(ctx context.Context) error {
	var due []struct {
		ID          string `bun:"id"`
		OrderID     string `bun:"order_id"`
		Courier     string `bun:"courier"`
		Country     string `bun:"country"`
		WeightGrams int    `bun:"weight_grams"`
		Currency    string `bun:"currency"`
	}
	if err := s.db.NewRaw(`UPDATE fulfillment.fulfillments SET attempts = attempts + 1,
			next_attempt_at = now() + make_interval(secs => least(600, 2 ^ attempts * 2))
		WHERE id IN (SELECT id FROM fulfillment.fulfillments WHERE status = 'pending' AND next_attempt_at <= now()
		             ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
		RETURNING id::text, order_id::text, courier, country, weight_grams, currency`).Scan(ctx, &due); err != nil {
		return err
	}
	for _, d := range due {
		days := 5
		if q, err := s.Quote(ctx, fulfillmentapi.QuoteRequest{Country: d.Country, WeightGrams: d.WeightGrams, Courier: d.Courier, Currency: d.Currency}); err == nil {
			days = q.ETADays
		}
		eta := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, days)
		tracking, err := s.createShipment(ctx, d.OrderID, d.Courier, d.Country, d.WeightGrams, eta)
		if err != nil {
			if _, uerr := s.db.ExecContext(ctx, "UPDATE fulfillment.fulfillments SET last_error = ?, updated_at = now() WHERE id = ?", err.Error(), d.ID); uerr != nil {
				return uerr
			}
			continue
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE fulfillment.fulfillments SET status = 'in_progress', tracking_id = ?, eta = ?, last_error = NULL,
			updated_at = now() WHERE id = ? AND status = 'pending'`, tracking, eta, d.ID); err != nil {
			return err
		}
	}
	return nil
}

// createShipment calls the carrier in a client span "carrier create
// shipment" (when tracing is on) with the order id and courier; the
// destination stays out of the trace.
func (s *Service) createShipment(ctx context.Context, orderID, courier, country string, weightGrams int, eta time.Time) (string, error) {
	if !otelx.Tracing() {
		return s.carrier.CreateShipment(ctx, orderID, courier, country, weightGrams, eta)
	}
	ctx, span := otelx.Tracer().Start(ctx, "carrier create shipment", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("commerce.order.id", orderID), attribute.String("commerce.courier", courier)))
	defer span.End()
	tracking, err := s.carrier.CreateShipment(ctx, orderID, courier, country, weightGrams, eta)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return tracking, err
}

// Advance moves a fulfillment to shipped or delivered (admin) and records
// the event ordering and notify follow. trackingID, when not empty on
// ship, replaces the carrier's tracking id (a parcel the admin booked by
// hand); otherwise the carrier's is kept.
func (s *Service) Advance(ctx context.Context, id, to, trackingID string) (*Fulfillment, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	from := map[string]string{"shipped": "in_progress", "delivered": "shipped"}[to]
	typ := map[string]string{"shipped": fulfillmentapi.EventShipped, "delivered": fulfillmentapi.EventDelivered}[to]
	var out *Fulfillment
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		f := new(Fulfillment)
		err := tx.NewRaw("SELECT "+fulfillmentCols+" FROM fulfillment.fulfillments WHERE id = ? FOR UPDATE", id).Scan(ctx, f)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if f.Status != from {
			return ErrTransition.WithDetail("the fulfillment is " + f.Status)
		}
		f.Status = to
		if trackingID != "" && to == "shipped" {
			f.TrackingID = &trackingID
		}
		if err := tx.NewRaw("UPDATE fulfillment.fulfillments SET status = ?, tracking_id = ?, updated_at = now() WHERE id = ? RETURNING updated_at",
			to, f.TrackingID, id).Scan(ctx, &f.UpdatedAt); err != nil {
			return fmt.Errorf("advance fulfillment: %w", err)
		}
		out = f
		return s.publish(ctx, tx, typ, f)
	})
	return out, err
}

// OfOrder returns the fulfillment of one of the caller's orders.
func (s *Service) OfOrder(ctx context.Context, userID, orderID string, admin bool) (*Fulfillment, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	f := new(Fulfillment)
	err := s.db.NewRaw("SELECT "+fulfillmentCols+" FROM fulfillment.fulfillments WHERE order_id = ?", orderID).Scan(ctx, f)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && f.UserID != userID && !admin) {
		return nil, ErrNotFound
	}
	return f, err
}
