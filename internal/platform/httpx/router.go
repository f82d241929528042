package httpx

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// Router registers routes on Fiber and documents them at the same time, so
// the OpenAPI document is generated from what is actually served.
type Router struct {
	r      fiber.Router
	prefix string
	doc    *openapi.Registry
	auth   *Auth
	// PerRoute, when set, returns extra middleware for a route (per-route
	// rate limits from configuration); nil for none.
	PerRoute func(method, path string) fiber.Handler
	// Audit, when set, records every change an administrator makes: each
	// POST, PUT, PATCH or DELETE on an Admin route, after its handler,
	// with the response status (see AuditEntry). Set it before Group.
	Audit Auditor
}

// AuditEntry is one administrator's change as the router saw it. It never
// holds the request body (which may carry secrets or personal data) nor
// the query string (which may carry tokens).
type AuditEntry struct {
	ActorID    string
	ActorEmail string // from the token's claims; "" when absent
	Method     string
	Route      string // the OpenAPI path template, e.g. /api/v1/admin/products/{id}
	Path       string // the concrete path, without the query string
	Status     int
	RequestID  string
}

// Auditor keeps the audit log. Record is called after the handler and
// must not fail the request: the change already happened, so a failure to
// record it is the auditor's to report (logs), not the client's.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry)
}

// audited reports whether a route's calls are recorded: the methods that
// change something, on admin routes.
func audited(op openapi.Op) bool {
	if !op.Admin {
		return false
	}
	switch op.Method {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
		return true
	}
	return false
}

// auditMiddleware records the call after the rest of the chain ran (only
// requests RequireAdmin let through reach it: a refused caller changed
// nothing and is not an administrator).
func auditMiddleware(a Auditor, method, route string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = StatusOf(err)
		}
		p, _ := Principal(c)
		id, _ := c.Locals("requestid").(string)
		a.Record(context.WithoutCancel(c.UserContext()), AuditEntry{ActorID: p.UserID, ActorEmail: p.Email, Method: method, Route: route,
			Path: strings.Clone(c.Path()), Status: status, RequestID: id})
		return err
	}
}

// NewRouter wraps a Fiber router (app or group).
func NewRouter(r fiber.Router, doc *openapi.Registry, auth *Auth) *Router {
	return &Router{r: r, doc: doc, auth: auth}
}

// Group returns a router under prefix with extra middleware.
func (rt *Router) Group(prefix string, mw ...fiber.Handler) *Router {
	return &Router{r: rt.r.Group(prefix, mw...), prefix: rt.prefix + prefix, doc: rt.doc, auth: rt.auth, PerRoute: rt.PerRoute, Audit: rt.Audit}
}

// Handle registers and documents one route. op.Path is relative to the
// router and in OpenAPI syntax ({id}); Auth and Admin add the middleware.
func (rt *Router) Handle(op openapi.Op, h ...fiber.Handler) {
	full := rt.prefix + op.Path
	op.Path = full
	rt.doc.Add(op)
	if rt.auth != nil && slices.Contains(op.Query, "access_token") {
		rt.auth.AllowQueryToken(full)
	}
	chain := []fiber.Handler{}
	if rt.PerRoute != nil {
		if mw := rt.PerRoute(op.Method, full); mw != nil {
			chain = append(chain, mw)
		}
	}
	if op.Admin {
		chain = append(chain, rt.auth.RequireAdmin)
		if rt.Audit != nil && audited(op) {
			chain = append(chain, auditMiddleware(rt.Audit, op.Method, full))
		}
	} else if op.Auth {
		chain = append(chain, rt.auth.RequireUser)
	}
	chain = append(chain, h...)
	rt.r.Add(op.Method, toFiberPath(strings.TrimPrefix(full, rt.prefix)), chain...)
}

// Doc returns the registry (for tests and the /openapi.json handler).
func (rt *Router) Doc() *openapi.Registry { return rt.doc }

// toFiberPath turns /products/{id} into /products/:id.
func toFiberPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + strings.Trim(s, "{}")
		}
	}
	return strings.Join(segs, "/")
}

// ToOpenAPIPath turns /products/:id into /products/{id}.
func ToOpenAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + strings.TrimPrefix(s, ":") + "}"
		}
	}
	return strings.Join(segs, "/")
}

// JSON writes v with status.
func JSON(c *fiber.Ctx, status int, v any) error {
	return c.Status(status).JSON(v)
}

// Page is the list envelope of API.md.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Limit reads ?limit= (default 20, max 100) as API.md prescribes.
func Limit(c *fiber.Ctx) (int, error) { return ParseLimit(c.Query("limit")) }

// ParseLimit is Limit on the raw parameter ("" is the default, 20).
func ParseLimit(raw string) (int, error) {
	if raw == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 100 {
		return 0, errs.Validation(errs.Field("limit", "must be an integer from 1 to 100"))
	}
	return n, nil
}

// Param returns a copy of a path parameter. Fiber's own strings point into
// fasthttp's reused request buffer and change under a value kept past the
// handler (a cache or map key, a goroutine): handlers use this instead.
func Param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }

// Query returns a copy of a query parameter, for the same reason as Param.
func Query(c *fiber.Ctx, name string, def ...string) string {
	return strings.Clone(c.Query(name, def...))
}
