package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/bytedance/sonic"
	"github.com/google/uuid"
	"golang.org/x/text/currency"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// ProductInput is the body of admin create (and, with Version, of PUT).
type ProductInput struct {
	SKU          string         `json:"sku" validate:"required,max=64"`
	Name         string         `json:"name" validate:"required,max=200"`
	Description  string         `json:"description" validate:"max=10000"`
	Category     string         `json:"category" validate:"required,max=100"`
	Brand        string         `json:"brand" validate:"max=100"`
	Attributes   map[string]any `json:"attributes" validate:"max=50"`
	Price        *int64         `json:"price" validate:"required,gte=0,max=100000000000"`
	Currency     string         `json:"currency" validate:"required,max=3"`
	Images       []string       `json:"images" validate:"max=20,dive,max=2048"`
	WeightGrams  int            `json:"weight_grams" validate:"gte=0,max=1000000"`
	Status       string         `json:"status" validate:"omitempty,oneof=active archived"`
	InitialStock int            `json:"initial_stock" validate:"gte=0,max=1000000000"`
	Version      int            `json:"version" validate:"gte=0"`
}

// Errors of product administration.
var (
	ErrSKUTaken        = errs.New(errs.Conflict, "sku_taken", "another product already uses this SKU")
	ErrVersionConflict = errs.New(errs.Conflict, "version_conflict", "the product was changed by someone else; reload it and apply your change to the new version")
	ErrVersionRequired = errs.Validation(errs.Field("version", "is required: send the version you read"))
)

func (in ProductInput) draft() (domain.Draft, error) {
	d := domain.Draft{SKU: in.SKU, Name: in.Name, Description: in.Description, Category: in.Category, Brand: in.Brand,
		Attributes: in.Attributes, Currency: in.Currency, Images: in.Images, WeightGrams: in.WeightGrams, Status: in.Status}
	if in.Price != nil {
		d.Price = *in.Price
	}
	return d, d.Normalize(isoCurrency)
}

// isoCurrency reports an ISO 4217 code in its canonical (upper-case) form.
func isoCurrency(code string) bool {
	u, err := currency.ParseISO(code)
	return err == nil && u.String() == code
}

func rowFromDraft(id string, d domain.Draft) *ProductRecord {
	return &ProductRecord{ID: id, SKU: d.SKU, Name: d.Name, Description: d.Description, Category: d.Category, Brand: d.Brand,
		Attributes: d.Attributes, Price: d.Price, Currency: d.Currency, Images: d.Images, WeightGrams: d.WeightGrams, Status: d.Status}
}

// CreateProduct adds a product at version 1, with optional initial stock.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (catalogapi.Product, error) {
	d, err := in.draft()
	if in.InitialStock < 0 || in.InitialStock > 1_000_000_000 {
		err = errors.Join(err, errs.Validation(errs.Field("initial_stock", "must be between 0 and 1000000000")))
	}
	if in.Version != 0 {
		err = errors.Join(err, errs.Validation(errs.Field("version", "must not be set on create")))
	}
	if err != nil {
		return catalogapi.Product{}, mergeValidation(err)
	}
	row := rowFromDraft(uuid.Must(uuid.NewV7()).String(), d)
	err = s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		if err := r.InsertProduct(ctx, row); err != nil {
			return err
		}
		evs := []events.Envelope{}
		ev, err := productEvent(catalogapi.EventProductCreated, row)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
		if in.InitialStock > 0 {
			moves := []Movement{{ProductID: row.ID, DeltaOnHand: in.InitialStock}}
			after, err := r.Move(ctx, "adjust", "initial stock", "", moves)
			if err != nil {
				return err
			}
			row.OnHand = after[row.ID].OnHand
			sev, err := stockEvents("adjust", "initial stock", "", moves, after)
			if err != nil {
				return err
			}
			evs = append(evs, sev...)
		}
		return r.Publish(ctx, evs...)
	})
	if errors.Is(err, ErrDuplicate) {
		return catalogapi.Product{}, ErrSKUTaken
	}
	if err != nil {
		return catalogapi.Product{}, fmt.Errorf("create product: %w", err)
	}
	s.forgetPages()
	return toProduct(row), nil
}

// UpdateProduct replaces every field if in.Version is the stored version
// (optimistic locking); a stale version writes nothing.
func (s *Service) UpdateProduct(ctx context.Context, id string, in ProductInput) (catalogapi.Product, error) {
	if !validID(id) {
		return catalogapi.Product{}, catalogapi.ErrNotFound
	}
	d, err := in.draft()
	if in.Version < 1 {
		err = errors.Join(err, ErrVersionRequired)
	}
	if in.InitialStock != 0 {
		err = errors.Join(err, errs.Validation(errs.Field("initial_stock", "only on create; adjust stock with POST .../stock")))
	}
	if err != nil {
		return catalogapi.Product{}, mergeValidation(err)
	}
	row := rowFromDraft(id, d)
	var out catalogapi.Product
	err = s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		ok, err := r.UpdateProduct(ctx, row, in.Version)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := r.Product(ctx, id); errors.Is(err, ErrNotFound) {
				return catalogapi.ErrNotFound
			} else if err != nil {
				return err
			}
			return ErrVersionConflict
		}
		full, err := r.Product(ctx, id)
		if err != nil {
			return err
		}
		typ := catalogapi.EventProductUpdated
		ev, err := productEvent(typ, full)
		if err != nil {
			return err
		}
		out = toProduct(full)
		return r.Publish(ctx, ev)
	})
	if errors.Is(err, ErrDuplicate) {
		return catalogapi.Product{}, ErrSKUTaken
	}
	if err != nil {
		return catalogapi.Product{}, fmt.Errorf("update product %s: %w", id, err)
	}
	s.forgetPages()
	s.invalidate(ctx, id)
	return out, nil
}

// ArchiveProduct hides a product from listings; idempotent.
func (s *Service) ArchiveProduct(ctx context.Context, id string) error {
	if !validID(id) {
		return catalogapi.ErrNotFound
	}
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		changed, err := r.Archive(ctx, id)
		if err != nil {
			return err
		}
		full, err := r.Product(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return catalogapi.ErrNotFound
		}
		if err != nil || !changed {
			return err
		}
		ev, err := productEvent(catalogapi.EventProductArchived, full)
		if err != nil {
			return err
		}
		return r.Publish(ctx, ev)
	})
	if err == nil {
		s.forgetPages()
		s.invalidate(ctx, id)
	}
	return err
}

// AdjustInput is the body of POST /admin/products/{id}/stock.
type AdjustInput struct {
	Delta     *int   `json:"delta" validate:"required,ne=0,gte=-1000000000,lte=1000000000"`
	Reason    string `json:"reason" validate:"required,max=200"`
	Reference string `json:"reference" validate:"max=200"`
}

// AdjustStock changes on-hand stock; it never goes below reserved.
func (s *Service) AdjustStock(ctx context.Context, id string, in AdjustInput) (catalogapi.Product, error) {
	if !validID(id) {
		return catalogapi.Product{}, catalogapi.ErrNotFound
	}
	if *in.Delta == 0 || *in.Delta > 1_000_000_000 || *in.Delta < -1_000_000_000 {
		return catalogapi.Product{}, errs.Validation(errs.Field("delta", "must be a non-zero whole number of units"))
	}
	var out catalogapi.Product
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		locked, err := r.LockStock(ctx, []string{id})
		if err != nil {
			return err
		}
		if len(locked) == 0 {
			return catalogapi.ErrNotFound
		}
		if _, err := domain.Adjust(locked[0].OnHand, locked[0].Reserved, *in.Delta); err != nil {
			return err
		}
		moves := []Movement{{ProductID: id, DeltaOnHand: *in.Delta}}
		after, err := r.Move(ctx, "adjust", in.Reason, in.Reference, moves)
		if err != nil {
			return err
		}
		evs, err := stockEvents("adjust", in.Reason, in.Reference, moves, after)
		if err != nil {
			return err
		}
		if err := r.Publish(ctx, evs...); err != nil {
			return err
		}
		full, err := r.Product(ctx, id)
		if err != nil {
			return err
		}
		out = toProduct(full)
		return nil
	})
	if err != nil {
		return catalogapi.Product{}, err
	}
	s.invalidate(ctx, id)
	return out, nil
}

// ProductEntry returns the ready-to-send JSON of a product: from Redis when
// cached; otherwise one database read shared by all concurrent callers
// (single-flight), then cached.
func (s *Service) ProductEntry(ctx context.Context, id string) (Entry, error) {
	if !validID(id) {
		return Entry{}, catalogapi.ErrNotFound
	}
	e, gen, hit, err := s.cache.Get(ctx, id)
	s.inst.productCacheLookup(ctx, err == nil && hit)
	if err == nil && hit {
		return e, nil
	}
	if err != nil {
		s.log.WarnContext(ctx, "cache read failed; reading the database", "err", err)
	}
	s.cacheMissed()
	v, err, _ := s.loads.Do(id, func() (any, error) {
		lctx := context.WithoutCancel(ctx) // one caller's cancel must not fail the others
		// A caller that missed the cache just before an earlier flight
		// filled it starts a new flight after that one ended: look again.
		if e, _, hit, err := s.cache.Get(lctx, id); err == nil && hit {
			return e, nil
		}
		s.DBReads()
		row, err := s.store.Product(lctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, catalogapi.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("product entry: %w", err)
		}
		e, err := entry(toProduct(row))
		if err != nil {
			return nil, err
		}
		if gen != "" {
			if err := s.cache.Fill(lctx, id, gen, e); err != nil {
				s.log.WarnContext(ctx, "cache fill failed", "err", err)
			}
		}
		return e, nil
	})
	if err != nil {
		return Entry{}, err
	}
	return v.(Entry), nil
}

// ListInput selects a page of products.
type ListInput struct {
	Status   string
	Category string
	Brand    string
	Cursor   string
	Limit    int
}

// ListProducts pages products with keyset pagination.
func (s *Service) ListProducts(ctx context.Context, in ListInput) ([]catalogapi.Product, *string, error) {
	after, err := cursor.Decode(in.Cursor)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.store.List(ctx, Filter{Status: in.Status, Category: in.Category, Brand: in.Brand, After: after, Limit: in.Limit + 1})
	if err != nil {
		return nil, nil, err
	}
	rows, next := cursor.Page(rows, in.Limit, func(r ProductRecord) string { return r.ID })
	out := make([]catalogapi.Product, len(rows))
	for i := range rows {
		out[i] = toProduct(&rows[i])
	}
	return out, next, nil
}

// ListEntries is ListProducts as the cached JSON of each product (what
// GET /products/{id} sends): the page's ids come from the products' index
// (or a page served in the last second, pages.go), the bodies from the
// cache, and only the products not cached are read and encoded (in one
// query), then cached. Decoding rows and encoding JSON was most of a
// page's cost; a page of cached products is at most one index scan and
// one cache round trip. The bodies are as fresh as the product reads' (a
// write invalidates before it answers).
func (s *Service) ListEntries(ctx context.Context, in ListInput) ([]Entry, *string, error) {
	after, err := cursor.Decode(in.Cursor)
	if err != nil {
		return nil, nil, err
	}
	key := pageKey{status: in.Status, category: in.Category, brand: in.Brand, cursor: in.Cursor, limit: in.Limit}
	cached, gen, ok := s.pages.get(key)
	ids, next := cached.ids, cached.next
	if !ok {
		all, err := s.store.ListIDs(ctx, Filter{Status: in.Status, Category: in.Category, Brand: in.Brand, After: after, Limit: in.Limit + 1})
		if err != nil {
			return nil, nil, err
		}
		ids, next = cursor.Page(all, in.Limit, func(id string) string { return id })
		s.pages.put(key, gen, ids, next)
	}
	if len(ids) == 0 {
		return []Entry{}, next, nil
	}
	entries, err := s.entriesOf(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("list products: %w", err)
	}
	out := entries[:0]
	for _, e := range entries {
		if e.Body != nil { // nil: gone between the two reads
			out = append(out, e)
		}
	}
	return out, next, nil
}

// entriesOf returns the cached entries of ids, in their order: from the
// cache, and only the products not cached read (in one query), encoded
// and cached. An id with no product has a zero Entry (nil Body).
func (s *Service) entriesOf(ctx context.Context, ids []string) ([]Entry, error) {
	entries, gens, hit, err := s.cache.GetMany(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "cache read failed; reading the database", "err", err)
		entries, gens, hit = make([]Entry, len(ids)), make([]string, len(ids)), make([]bool, len(ids))
	}
	var missing []string
	for i, ok := range hit {
		s.inst.productCacheLookup(ctx, ok)
		if !ok {
			missing = append(missing, ids[i])
		}
	}
	if len(missing) == 0 {
		return entries, nil
	}
	s.cacheMissed()
	s.DBReads()
	rows, err := s.store.Products(ctx, missing)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ProductRecord, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	for i, id := range ids {
		if hit[i] {
			continue
		}
		row, ok := byID[id]
		if !ok {
			entries[i] = Entry{}
			continue
		}
		e, err := entry(toProduct(row))
		if err != nil {
			return nil, err
		}
		if gens[i] != "" {
			if err := s.cache.Fill(context.WithoutCancel(ctx), id, gens[i], e); err != nil {
				s.log.WarnContext(ctx, "cache fill failed", "err", err)
			}
		}
		entries[i] = e
	}
	return entries, nil
}

// Ledger pages a product's stock movements (admin).
func (s *Service) Ledger(ctx context.Context, id string, before int64, limit int) ([]LedgerRow, error) {
	if !validID(id) {
		return nil, catalogapi.ErrNotFound
	}
	return s.store.Ledger(ctx, id, before, limit)
}

// Product implements catalogapi.Catalog.
func (s *Service) Product(ctx context.Context, id string) (catalogapi.Product, error) {
	if !validID(id) {
		return catalogapi.Product{}, catalogapi.ErrNotFound
	}
	row, err := s.store.Product(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return catalogapi.Product{}, catalogapi.ErrNotFound
	}
	if err != nil {
		return catalogapi.Product{}, err
	}
	return toProduct(row), nil
}

// Products implements catalogapi.Catalog: one query for the whole batch.
func (s *Service) Products(ctx context.Context, ids []string) (map[string]catalogapi.Product, error) {
	valid := validIDs(ids)
	out := make(map[string]catalogapi.Product, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	rows, err := s.store.Products(ctx, valid)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		out[rows[i].ID] = toProduct(&rows[i])
	}
	return out, nil
}

func validIDs(ids []string) []string {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			valid = append(valid, id)
		}
	}
	return valid
}

// DisplayProducts implements catalogapi.Catalog from the products' cached
// entries (what GET /products/{id} sends), decoded: the cart prices every
// view and change with it, and a database read of full rows per call was
// most of an add-to-cart's cost. Only the products not cached are read
// (one query), then cached. The entries are as fresh as the product
// reads' (a write, stock moves included, invalidates before it answers).
func (s *Service) DisplayProducts(ctx context.Context, ids []string) (map[string]catalogapi.Product, error) {
	valid := validIDs(ids)
	out := make(map[string]catalogapi.Product, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	entries, err := s.entriesOf(ctx, valid)
	if err != nil {
		return nil, fmt.Errorf("display products: %w", err)
	}
	for i, e := range entries {
		if e.Body == nil {
			continue
		}
		var p catalogapi.Product
		if err := sonic.Unmarshal(e.Body, &p); err != nil {
			return nil, fmt.Errorf("decode cached product %s: %w", valid[i], err)
		}
		out[p.ID] = p
	}
	return out, nil
}

// mergeValidation folds several validation errors into one problem.
func mergeValidation(err error) error {
	var fields []errs.FieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if ce, ok := errs.As(e); ok && ce.Kind == errs.Invalid {
			fields = append(fields, ce.Fields...)
		}
	}
	walk(err)
	if len(fields) == 0 {
		return err
	}
	return errs.Validation(fields...)
}

// Page implements catalogapi.Catalog: every product by id, for rebuilds.
func (s *Service) Page(ctx context.Context, after string, limit int) ([]catalogapi.Product, int, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if after != "" && !validID(after) {
		return nil, 0, errs.New(errs.BadRequest, "bad_cursor", "after must be a product id")
	}
	rows, err := s.store.List(ctx, Filter{After: after, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	out := make([]catalogapi.Product, len(rows))
	for i := range rows {
		out[i] = toProduct(&rows[i])
	}
	total := 0
	if after == "" {
		if total, err = s.store.Count(ctx); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}
