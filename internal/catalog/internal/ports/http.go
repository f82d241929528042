// Package ports exposes catalog over HTTP.
package ports

import (
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/app"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct{ svc *app.Service }

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts catalog's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/products", Summary: "List products (active; admins may pass status=archived|all)", Tag: "catalog",
		Query: []string{"category", "brand", "status", "limit", "cursor"}, Response: httpx.Page[catalogapi.Product]{}, Errors: []int{403},
		Params: []openapi.Param{openapi.QueryParam("status", "archived and all need an admin token", openapi.Enum(catalogapi.StatusActive, catalogapi.StatusArchived, "all"))}}, h.list)
	api.Handle(openapi.Op{Method: "GET", Path: "/products/{id}", Summary: "One product; ETag / If-None-Match give 304", Tag: "catalog",
		Response: catalogapi.Product{}, Errors: []int{304, 404}, Params: []openapi.Param{openapi.HeaderParam("If-None-Match", "an ETag of this product: 304 while it is current", false)}}, h.get)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/products", Summary: "Create a product (version 1)", Tag: "admin", Admin: true,
		Request: app.ProductInput{}, Response: catalogapi.Product{}, Status: 201, Errors: []int{409}}, h.create)
	api.Handle(openapi.Op{Method: "PUT", Path: "/admin/products/{id}", Summary: "Replace a product; send the version you read (stale: 409 version_conflict)", Tag: "admin", Admin: true,
		Request: app.ProductInput{}, Response: catalogapi.Product{}, Errors: []int{404, 409}}, h.update)
	api.Handle(openapi.Op{Method: "DELETE", Path: "/admin/products/{id}", Summary: "Archive a product", Tag: "admin", Admin: true, Status: 204, Errors: []int{404}}, h.archive)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/products/{id}/stock", Summary: "Adjust on-hand stock by delta (never below reserved: 409)", Tag: "admin", Admin: true,
		Request: app.AdjustInput{}, Response: catalogapi.Product{}, Errors: []int{404, 409}}, h.adjust)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/products/{id}/stock/ledger", Summary: "Stock movements of a product, newest first", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.LedgerRow]{}, Errors: []int{404}}, h.ledger)
}

var errStatusForbidden = errs.New(errs.Forbidden, "forbidden", "only admins may list archived products")

func (h *HTTP) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	status := httpx.Query(c, "status", catalogapi.StatusActive)
	switch status {
	case catalogapi.StatusActive:
	case catalogapi.StatusArchived, "all":
		if p, ok := httpx.Principal(c); !ok || !p.IsAdmin() {
			return errStatusForbidden
		}
		if status == "all" {
			status = ""
		}
	default:
		return errs.Validation(errs.Field("status", "must be one of: active, archived, all"))
	}
	in := app.ListInput{Status: status, Category: httpx.Query(c, "category"), Brand: httpx.Query(c, "brand"), Cursor: httpx.Query(c, "cursor"), Limit: limit}
	if status == catalogapi.StatusActive {
		// The storefront's page: the cached bodies of GET /products/{id}.
		items, next, err := h.svc.ListEntries(c.UserContext(), in)
		if err != nil {
			return err
		}
		return sendPage(c, items, next)
	}
	items, next, err := h.svc.ListProducts(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[catalogapi.Product]{Items: items, NextCursor: next})
}

// sendPage writes the httpx.Page JSON of already-encoded products.
func sendPage(c *fiber.Ctx, items []app.Entry, next *string) error {
	n := 32
	for _, e := range items {
		n += len(e.Body) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"items":[`...)
	for i, e := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.Body...)
	}
	buf = append(buf, `],"next_cursor":`...)
	cur, err := json.Marshal(next) // null at the end
	if err != nil {
		return err
	}
	buf = append(buf, cur...)
	buf = append(buf, '}')
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(buf)
}

func (h *HTTP) get(c *fiber.Ctx) error {
	e, err := h.svc.ProductEntry(c.UserContext(), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, e.ETag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && (inm == e.ETag || inm == "W/"+e.ETag || inm == "*") {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(e.Body)
}

func (h *HTTP) create(c *fiber.Ctx) error {
	var in app.ProductInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.CreateProduct(c.UserContext(), in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, p)
}

func (h *HTTP) update(c *fiber.Ctx) error {
	var in app.ProductInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.UpdateProduct(c.UserContext(), httpx.Param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *HTTP) archive(c *fiber.Ctx) error {
	if err := h.svc.ArchiveProduct(c.UserContext(), httpx.Param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *HTTP) adjust(c *fiber.Ctx) error {
	var in app.AdjustInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.AdjustStock(c.UserContext(), httpx.Param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *HTTP) ledger(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	var before int64
	if cur := httpx.Query(c, "cursor"); cur != "" {
		if before, err = strconv.ParseInt(cur, 10, 64); err != nil || before <= 0 {
			return errs.New(errs.BadRequest, "invalid_cursor", "the cursor is not valid")
		}
	}
	rows, err := h.svc.Ledger(c.UserContext(), httpx.Param(c, "id"), before, limit+1)
	if err != nil {
		return err
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		s := strconv.FormatInt(rows[limit-1].ID, 10)
		next = &s
	}
	if rows == nil {
		rows = []app.LedgerRow{}
	}
	return c.JSON(httpx.Page[app.LedgerRow]{Items: rows, NextCursor: next})
}
