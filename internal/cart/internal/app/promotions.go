package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	code := strings.ToUpper(strings.TrimSpace(in.Code))
	var f []errs.FieldError
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			f = append(f, errs.Field("code", "may contain only letters, digits, '-' and '_'"))
			break
		}
	}
	if in.Kind == domain.KindPercent && in.Value > 100 {
		f = append(f, errs.Field("value", "a percentage must be 1 to 100"))
	}
	cur := strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Kind == domain.KindFixed && len(cur) != 3 {
		f = append(f, errs.Field("currency", "is required for fixed discounts (ISO 4217)"))
	}
	if in.StartsAt != nil && in.EndsAt != nil && !in.StartsAt.Before(*in.EndsAt) {
		f = append(f, errs.Field("ends_at", "must be after starts_at"))
	}
	if len(f) > 0 {
		return PromotionRow{}, errs.Validation(f...)
	}
	p := PromotionRow{ID: uuid.Must(uuid.NewV7()).String(), Code: code, Kind: in.Kind, Value: in.Value, MinSubtotal: in.MinSubtotal,
		MaxUses: in.MaxUses, OncePerCustomer: in.OncePerCustomer == nil || *in.OncePerCustomer, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		Active: in.Active == nil || *in.Active}
	if cur != "" {
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
