// Package app holds fulfillment's use cases: shipping quotes from the
// admin-managed rate table.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Service implements fulfillmentapi.Fulfillment and the shipments.
type Service struct {
	db      *pg.DB
	outbox  *events.Outbox
	carrier Carrier
}

// New builds the service with the simulated carrier.
func New(db *pg.DB, outbox *events.Outbox) *Service {
	return &Service{db: db, outbox: outbox, carrier: SimulatedCarrier{}}
}

var _ fulfillmentapi.Fulfillment = (*Service)(nil)

// Quote finds the zone of the country (or the default zone) and the rate
// whose weight band contains the weight.
func (s *Service) Quote(ctx context.Context, r fulfillmentapi.QuoteRequest) (fulfillmentapi.Quote, error) {
	r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
	r.Currency = strings.ToUpper(r.Currency)
	if r.Courier != fulfillmentapi.CourierStandard && r.Courier != fulfillmentapi.CourierExpress {
		return fulfillmentapi.Quote{}, errs.Validation(errs.Field("courier", "must be one of: standard, express"))
	}
	if !address.ValidCountry(r.Country) {
		return fulfillmentapi.Quote{}, errs.Validation(errs.Field("country", "must be an ISO 3166-1 alpha-2 country code"))
	}
	if r.WeightGrams < 0 {
		return fulfillmentapi.Quote{}, errs.Validation(errs.Field("weight_grams", "must not be negative"))
	}
	var q fulfillmentapi.Quote
	err := s.db.NewRaw(`SELECT r.courier, r.cost, r.currency, r.eta_days, r.zone
		FROM fulfillment.rates r
		JOIN fulfillment.zones z ON z.code = r.zone
		WHERE r.courier = ? AND r.currency = ? AND r.min_weight_grams <= ? AND r.max_weight_grams > ?
		  AND (? = ANY(z.countries) OR (z.is_default AND NOT EXISTS (SELECT 1 FROM fulfillment.zones z2 WHERE ? = ANY(z2.countries))))
		LIMIT 1`, r.Courier, r.Currency, r.WeightGrams, r.WeightGrams, r.Country, r.Country).
		Scan(ctx, &q.Courier, &q.Cost, &q.Currency, &q.ETADays, &q.Zone)
	if errors.Is(err, sql.ErrNoRows) {
		return fulfillmentapi.Quote{}, fulfillmentapi.ErrNoRate
	}
	return q, err
}

// Zone is a destination zone of the rate table.
type Zone struct {
	Code      string   `json:"code" validate:"required,max=20"`
	Name      string   `json:"name" validate:"required,max=100"`
	Countries []string `json:"countries" validate:"max=300"`
	IsDefault bool     `json:"is_default"`
}

// Rate is one line of the rate table.
type Rate struct {
	Courier        string `json:"courier" bun:"courier" validate:"required,oneof=standard express" enum:"standard,express"`
	Zone           string `json:"zone" bun:"zone" validate:"required,max=20"`
	Currency       string `json:"currency" bun:"currency" validate:"required,iso4217"`
	MinWeightGrams int    `json:"min_weight_grams" bun:"min_weight_grams" validate:"gte=0,max=1000000000"`
	MaxWeightGrams int    `json:"max_weight_grams" bun:"max_weight_grams" validate:"gtfield=MinWeightGrams,max=1000000000"`
	Cost           int64  `json:"cost" bun:"cost" validate:"gte=0,max=100000000000"`
	ETADays        int    `json:"eta_days" bun:"eta_days" validate:"gte=1,lte=90"`
}

// RateTable is the whole table, read and replaced by admins.
type RateTable struct {
	Zones []Zone `json:"zones" validate:"required,min=1,max=100,dive"`
	Rates []Rate `json:"rates" validate:"required,min=1,max=1000,dive"`
}

// Table returns the current rate table.
func (s *Service) Table(ctx context.Context) (RateTable, error) {
	var t RateTable
	rows, err := s.db.QueryContext(ctx, "SELECT code, name, countries, is_default FROM fulfillment.zones ORDER BY code")
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var z Zone
		if err := rows.Scan(&z.Code, &z.Name, pgdialect.Array(&z.Countries), &z.IsDefault); err != nil {
			return t, err
		}
		t.Zones = append(t.Zones, z)
	}
	if err := rows.Err(); err != nil {
		return t, err
	}
	err = s.db.NewRaw(`SELECT courier, zone, currency, min_weight_grams, max_weight_grams, cost, eta_days FROM fulfillment.rates
		ORDER BY zone, currency, courier, min_weight_grams`).Scan(ctx, &t.Rates)
	return t, err
}

// ReplaceTable swaps the whole rate table atomically after checking that
// zones and bands are consistent.
func (s *Service) ReplaceTable(ctx context.Context, t RateTable) (RateTable, error) {
	if err := t.check(); err != nil {
		return RateTable{}, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM fulfillment.rates"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM fulfillment.zones"); err != nil {
			return err
		}
		for _, z := range t.Zones {
			if _, err := tx.ExecContext(ctx, "INSERT INTO fulfillment.zones (code, name, countries, is_default) VALUES (?, ?, ?, ?)",
				z.Code, z.Name, pgdialect.Array(z.Countries), z.IsDefault); err != nil {
				return err
			}
		}
		for _, r := range t.Rates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fulfillment.rates (courier, zone, currency, min_weight_grams, max_weight_grams, cost, eta_days)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Courier, r.Zone, r.Currency, r.MinWeightGrams, r.MaxWeightGrams, r.Cost, r.ETADays); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return RateTable{}, err
	}
	return s.Table(ctx)
}

// check enforces what the database alone cannot: each country in one
// zone, at most one default zone, rates only for known zones, and no
// overlapping weight bands.
func (t *RateTable) check() error {
	var f []errs.FieldError
	zones := map[string]bool{}
	country := map[string]string{}
	defaults := 0
	for i, z := range t.Zones {
		z.Code = strings.TrimSpace(z.Code)
		if zones[z.Code] {
			f = append(f, errs.Field(fmt.Sprintf("zones[%d].code", i), "is repeated"))
		}
		zones[z.Code] = true
		if z.IsDefault {
			defaults++
		}
		for j, c := range z.Countries {
			c = strings.ToUpper(strings.TrimSpace(c))
			t.Zones[i].Countries[j] = c
			if !address.ValidCountry(c) {
				f = append(f, errs.Field(fmt.Sprintf("zones[%d].countries[%d]", i, j), "must be an ISO 3166-1 alpha-2 country code"))
			} else if other, ok := country[c]; ok {
				f = append(f, errs.Field(fmt.Sprintf("zones[%d].countries[%d]", i, j), c+" is already in zone "+other))
			}
			country[c] = z.Code
		}
	}
	if defaults > 1 {
		f = append(f, errs.Field("zones", "at most one zone may be the default"))
	}
	type key struct{ courier, zone, currency string }
	bands := map[key][][2]int{}
	for i, r := range t.Rates {
		if !zones[r.Zone] {
			f = append(f, errs.Field(fmt.Sprintf("rates[%d].zone", i), "is not a zone of this table"))
		}
		k := key{r.Courier, r.Zone, r.Currency}
		bands[k] = append(bands[k], [2]int{r.MinWeightGrams, r.MaxWeightGrams})
	}
	for k, bs := range bands {
		sort.Slice(bs, func(i, j int) bool { return bs[i][0] < bs[j][0] })
		for i := 1; i < len(bs); i++ {
			if bs[i][0] < bs[i-1][1] {
				f = append(f, errs.Field("rates", fmt.Sprintf("weight bands of %s/%s/%s overlap", k.courier, k.zone, k.currency)))
				break
			}
		}
	}
	if len(f) > 0 {
		return errs.Validation(f...)
	}
	return nil
}
