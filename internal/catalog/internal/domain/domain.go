// Package domain holds catalog's rules: what a valid product is, how stock
// moves, and how reservation lines are normalised. No infrastructure.
package domain

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Limits that keep one product bounded in size.
const (
	MaxAttributes      = 50
	MaxAttributesBytes = 16 << 10
	MaxImages          = 20
	MaxPrice           = 1_000_000_000_00 // 1e9 major units
	MaxLineQuantity    = 10_000
	MaxLines           = 100
)

var skuRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Draft is a product as submitted by an admin.
type Draft struct {
	SKU         string
	Name        string
	Description string
	Category    string
	Brand       string
	Attributes  map[string]any
	Price       int64
	Currency    string
	Images      []string
	WeightGrams int
	Status      string
}

// Normalize trims and canonicalises fields, then validates every rule,
// reporting all bad fields at once. knownCurrency says whether a code is a
// currency the shop can price in (the ISO 4217 list lives outside the
// domain, which imports no third-party tables).
func (d *Draft) Normalize(knownCurrency func(code string) bool) error {
	d.SKU = strings.TrimSpace(d.SKU)
	d.Name = strings.TrimSpace(d.Name)
	d.Category = strings.ToLower(strings.TrimSpace(d.Category))
	d.Brand = strings.TrimSpace(d.Brand)
	d.Currency = strings.ToUpper(strings.TrimSpace(d.Currency))
	if d.Status == "" {
		d.Status = "active"
	}
	if d.Attributes == nil {
		d.Attributes = map[string]any{}
	}
	if d.Images == nil {
		d.Images = []string{}
	}
	var f []errs.FieldError
	add := func(field, msg string) { f = append(f, errs.Field(field, msg)) }
	if !skuRe.MatchString(d.SKU) {
		add("sku", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if n := utf8.RuneCountInString(d.Name); n == 0 || n > 200 {
		add("name", "must be 1 to 200 characters")
	}
	if utf8.RuneCountInString(d.Description) > 10_000 {
		add("description", "must be at most 10000 characters")
	}
	if n := utf8.RuneCountInString(d.Category); n == 0 || n > 100 {
		add("category", "must be 1 to 100 characters")
	}
	if utf8.RuneCountInString(d.Brand) > 100 {
		add("brand", "must be at most 100 characters")
	}
	if d.Price < 0 || d.Price > MaxPrice {
		add("price", "must be a non-negative amount in minor units")
	}
	if len(d.Currency) != 3 || !knownCurrency(d.Currency) {
		add("currency", "must be an ISO 4217 currency code such as USD")
	}
	if d.WeightGrams < 0 || d.WeightGrams > 1_000_000 {
		add("weight_grams", "must be between 0 and 1000000")
	}
	if d.Status != "active" && d.Status != "archived" {
		add("status", "must be one of: active, archived")
	}
	if len(d.Attributes) > MaxAttributes {
		add("attributes", fmt.Sprintf("must have at most %d keys", MaxAttributes))
	} else if b, err := json.Marshal(d.Attributes); err != nil || len(b) > MaxAttributesBytes {
		add("attributes", fmt.Sprintf("must encode to at most %d bytes", MaxAttributesBytes))
	} else {
		for k := range d.Attributes {
			if k == "" || len(k) > 64 {
				add("attributes", "keys must be 1 to 64 characters")
				break
			}
		}
	}
	if len(d.Images) > MaxImages {
		add("images", fmt.Sprintf("must have at most %d entries", MaxImages))
	}
	for i, img := range d.Images {
		u, err := url.Parse(img)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(img) > 2048 {
			add(fmt.Sprintf("images[%d]", i), "must be an http(s) URL")
		}
	}
	if len(f) > 0 {
		return errs.Validation(f...)
	}
	return nil
}

// ErrBelowReserved is returned when an adjustment would leave on-hand
// stock below what is already promised to orders.
var ErrBelowReserved = errs.New(errs.Conflict, "stock_below_reserved", "on_hand cannot go below reserved stock")

// Adjust applies an admin delta to on-hand stock.
func Adjust(onHand, reserved, delta int) (int, error) {
	n := onHand + delta
	if n < reserved || n < 0 {
		return 0, ErrBelowReserved.WithDetail(fmt.Sprintf("on_hand %d%+d would be below reserved %d", onHand, delta, reserved))
	}
	return n, nil
}

// Line is a product and a quantity.
type Line struct {
	ProductID string
	Quantity  int
}

// NormalizeLines validates quantities, merges repeated products and sorts
// by product id: the fixed order in which row locks are taken, so two
// reservations can never wait on each other in a cycle.
func NormalizeLines(lines []Line, validID func(string) bool) ([]Line, error) {
	if len(lines) == 0 || len(lines) > MaxLines {
		return nil, errs.Validation(errs.Field("lines", fmt.Sprintf("must have 1 to %d lines", MaxLines)))
	}
	merged := map[string]int{}
	for i, l := range lines {
		if !validID(l.ProductID) {
			return nil, errs.Validation(errs.Field(fmt.Sprintf("lines[%d].product_id", i), "must be a product id"))
		}
		if l.Quantity < 1 || l.Quantity > MaxLineQuantity {
			return nil, errs.Validation(errs.Field(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("must be 1 to %d", MaxLineQuantity)))
		}
		merged[l.ProductID] += l.Quantity
	}
	out := make([]Line, 0, len(merged))
	for id, q := range merged {
		out = append(out, Line{ProductID: id, Quantity: q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProductID < out[j].ProductID })
	return out, nil
}
