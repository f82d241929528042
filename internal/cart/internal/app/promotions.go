package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// PromotionInput is the body of POST /admin/promotions.
type PromotionInput struct {
	Code            string     `json:"code" validate:"required,min=3,max=64"`
	Kind            string     `json:"kind" validate:"required,oneof=percent fixed"`
	Value           int64      `json:"value" validate:"required,gt=0,max=100000000000"`
	Currency        string     `json:"currency" validate:"max=3"`
	MinSubtotal     int64      `json:"min_subtotal" validate:"gte=0,max=100000000000"`
	MaxUses         *int       `json:"max_uses" validate:"omitempty,gt=0,max=1000000000"`
	OncePerCustomer *bool      `json:"once_per_customer"`
	StartsAt        *time.Time `json:"starts_at"`
	EndsAt          *time.Time `json:"ends_at"`
	Active          *bool      `json:"active"`
}

// ErrCodeTaken is answered for an existing promo code.
var ErrCodeTaken = errs.New(errs.Conflict, "promo_code_taken", "a promotion with this code exists")

// CreatePromotion stores a promotion after checking its rules.
func (s *Service) CreatePromotion(ctx context.Context, in PromotionInput) (PromotionRow, error) {
	d, err := domain.NewPromotion(in.Code, in.Kind, in.Value, in.Currency, in.MinSubtotal, in.MaxUses,
		in.OncePerCustomer == nil || *in.OncePerCustomer, in.StartsAt, in.EndsAt, in.Active == nil || *in.Active)
	if err != nil {
		return PromotionRow{}, err
	}
	p := PromotionRow{ID: uuid.Must(uuid.NewV7()).String(), Code: d.Code, Kind: d.Kind, Value: d.Value, MinSubtotal: d.MinSubtotal,
		MaxUses: d.MaxUses, OncePerCustomer: d.OncePerCustomer, StartsAt: d.StartsAt, EndsAt: d.EndsAt, Active: d.Active}
	if d.Currency != "" {
		cur := d.Currency
		p.Currency = &cur
	}
	if err := s.store.InsertPromotion(ctx, &p); errors.Is(err, ErrDuplicate) {
		return PromotionRow{}, ErrCodeTaken
	} else if err != nil {
		return PromotionRow{}, fmt.Errorf("create promotion: %w", err)
	}
	return p, nil
}

// Promotions lists promotions for admins.
func (s *Service) Promotions(ctx context.Context) ([]PromotionRow, error) {
	out, err := s.store.Promotions(ctx)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []PromotionRow{}
	}
	return out, err
}

// SetPromotionActive switches a promotion on or off.
func (s *Service) SetPromotionActive(ctx context.Context, id string, active bool) (PromotionRow, error) {
	if _, err := uuid.Parse(id); err != nil {
		return PromotionRow{}, errs.New(errs.NotFound, "not_found", "promotion not found")
	}
	p, err := s.store.SetPromotionActive(ctx, id, active)
	if errors.Is(err, ErrNotFound) {
		return PromotionRow{}, errs.New(errs.NotFound, "not_found", "promotion not found")
	}
	if err != nil {
		return PromotionRow{}, fmt.Errorf("set promotion active: %w", err)
	}
	return *p, nil
}
