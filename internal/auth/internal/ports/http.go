// Package ports exposes auth's use cases over HTTP and in-process.
package ports

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/app"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// HTTP holds the handlers.
type HTTP struct {
	svc     *app.Service
	keys    *authn.Keys
	limiter *ratelimit.Limiter
	perIP   int
}

// NewHTTP builds the handlers; perIP caps credential requests per client
// IP and minute (0 = 60).
func NewHTTP(svc *app.Service, keys *authn.Keys, limiter *ratelimit.Limiter, perIP int) *HTTP {
	if perIP <= 0 {
		perIP = 60
	}
	return &HTTP{svc: svc, keys: keys, limiter: limiter, perIP: perIP}
}

type emailBody struct {
	Email string `json:"email" validate:"required,max=320"`
}
type tokenBody struct {
	Token string `json:"token" validate:"required,max=512"`
}
type refreshBody struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=512"`
}
type statusBody struct {
	Status string `json:"status"`
}

// Routes registers auth's routes. root is the app root (for JWKS); api is /api/v1.
func (h *HTTP) Routes(root, api *httpx.Router) {
	root.Handle(openapi.Op{Method: "GET", Path: "/.well-known/jwks.json", Summary: "Public keys that verify access tokens", Tag: "auth", Response: authn.JWKS{}}, h.jwks)
	// A per-IP cap on credential endpoints on top of the per-account limits.
	perIP := httpx.RateLimit(h.limiter, "auth-ip", h.perIP, time.Minute, httpx.ByIP)
	a := api.Group("/auth")
	a.Handle(openapi.Op{Method: "POST", Path: "/register", Summary: "Create an account; sends a verification email", Tag: "auth", Request: app.RegisterInput{}, Response: app.User{}, Status: 201, Errors: []int{409}}, perIP, h.register)
	a.Handle(openapi.Op{Method: "POST", Path: "/verify", Summary: "Verify the email address with the mailed token", Tag: "auth", Request: tokenBody{}, Response: statusBody{}}, perIP, h.verify)
	a.Handle(openapi.Op{Method: "POST", Path: "/resend-verification", Summary: "Mail a new verification link (3 per email per hour)", Tag: "auth", Request: emailBody{}, Status: 202, Produces: "text/plain", Response: ""}, perIP, h.resend)
	a.Handle(openapi.Op{Method: "POST", Path: "/login", Summary: "Exchange email and password for tokens", Tag: "auth", Request: app.LoginInput{}, Response: app.Tokens{}, Errors: []int{401, 403}}, perIP, h.login)
	a.Handle(openapi.Op{Method: "POST", Path: "/refresh", Summary: "Rotate a refresh token; reuse revokes the family", Tag: "auth", Request: refreshBody{}, Response: app.Tokens{}, Errors: []int{401}}, perIP, h.refresh)
	a.Handle(openapi.Op{Method: "POST", Path: "/logout", Summary: "Revoke the refresh token's session", Tag: "auth", Request: refreshBody{}, Status: 204}, h.logout)
	a.Handle(openapi.Op{Method: "POST", Path: "/password/forgot", Summary: "Mail a password reset link", Tag: "auth", Request: emailBody{}, Status: 202, Produces: "text/plain", Response: ""}, perIP, h.forgot)
	a.Handle(openapi.Op{Method: "POST", Path: "/password/reset", Summary: "Set a new password with the mailed token; revokes all sessions", Tag: "auth", Request: app.ResetInput{}, Response: statusBody{}}, perIP, h.reset)

	api.Handle(openapi.Op{Method: "GET", Path: "/me", Summary: "The caller's profile", Tag: "auth", Auth: true, Response: app.User{}}, h.me)
	api.Handle(openapi.Op{Method: "PATCH", Path: "/me", Summary: "Update the caller's profile", Tag: "auth", Auth: true, Request: app.UpdateMeInput{}, Response: app.User{}}, h.updateMe)
	api.Handle(openapi.Op{Method: "GET", Path: "/me/addresses", Summary: "The caller's addresses", Tag: "auth", Auth: true, Response: httpx.Page[authapi.Address]{}}, h.addresses)
	api.Handle(openapi.Op{Method: "POST", Path: "/me/addresses", Summary: "Add an address", Tag: "auth", Auth: true, Request: app.AddressInput{}, Response: authapi.Address{}, Status: 201}, h.addAddress)
	api.Handle(openapi.Op{Method: "PATCH", Path: "/me/addresses/{id}", Summary: "Change an address", Tag: "auth", Auth: true, Request: app.AddressInput{}, Response: authapi.Address{}, Errors: []int{404}}, h.updateAddress)
	api.Handle(openapi.Op{Method: "DELETE", Path: "/me/addresses/{id}", Summary: "Delete an address", Tag: "auth", Auth: true, Status: 204, Errors: []int{404}}, h.deleteAddress)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/users", Tag: "admin", Admin: true, Response: httpx.Page[app.User]{},
		Summary: "List users, optionally searched (q: a case-insensitive substring of the email or name) and filtered by role and status",
		Query:   []string{"limit", "cursor"},
		Params: []openapi.Param{
			openapi.QueryParam("q", "a case-insensitive substring of the email or name, matched literally", map[string]any{"type": "string", "maxLength": 320}),
			openapi.QueryParam("role", "only users with this role", openapi.Enum(authn.RoleCustomer, authn.RoleAdmin)),
			openapi.QueryParam("status", "only users in this status", openapi.Enum("unverified", "active", "disabled")),
		}}, h.listUsers)
}

func (h *HTTP) jwks(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(h.keys.JWKS())
}

func (h *HTTP) register(c *fiber.Ctx) error {
	var in app.RegisterInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	u, err := h.svc.Register(c.UserContext(), in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, u)
}

func (h *HTTP) verify(c *fiber.Ctx) error {
	var in tokenBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.Verify(c.UserContext(), in.Token); err != nil {
		return err
	}
	return c.JSON(statusBody{Status: "active"})
}

func (h *HTTP) resend(c *fiber.Ctx) error {
	var in emailBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.ResendVerification(c.UserContext(), in.Email); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

func (h *HTTP) login(c *fiber.Ctx) error {
	var in app.LoginInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	t, err := h.svc.Login(c.UserContext(), in, c.IP())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(t)
}

func (h *HTTP) refresh(c *fiber.Ctx) error {
	var in refreshBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	t, err := h.svc.Refresh(c.UserContext(), in.RefreshToken)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(t)
}

func (h *HTTP) logout(c *fiber.Ctx) error {
	var in refreshBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.Logout(c.UserContext(), in.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *HTTP) forgot(c *fiber.Ctx) error {
	var in emailBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.ForgotPassword(c.UserContext(), in.Email); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

func (h *HTTP) reset(c *fiber.Ctx) error {
	var in app.ResetInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.ResetPassword(c.UserContext(), in); err != nil {
		return err
	}
	return c.JSON(statusBody{Status: "password_reset"})
}

func caller(c *fiber.Ctx) authn.Principal {
	p, _ := httpx.Principal(c) // routes are behind RequireUser
	return p
}

func (h *HTTP) me(c *fiber.Ctx) error {
	u, err := h.svc.Me(c.UserContext(), caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *HTTP) updateMe(c *fiber.Ctx) error {
	var in app.UpdateMeInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateMe(c.UserContext(), caller(c).UserID, in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *HTTP) addresses(c *fiber.Ctx) error {
	list, err := h.svc.Addresses(c.UserContext(), caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[authapi.Address]{Items: list})
}

func (h *HTTP) addAddress(c *fiber.Ctx) error {
	var in app.AddressInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	a, err := h.svc.AddAddress(c.UserContext(), caller(c).UserID, in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, a)
}

func (h *HTTP) updateAddress(c *fiber.Ctx) error {
	var in app.AddressInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	a, err := h.svc.UpdateAddress(c.UserContext(), caller(c).UserID, httpx.Param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (h *HTTP) deleteAddress(c *fiber.Ctx) error {
	if err := h.svc.DeleteAddress(c.UserContext(), caller(c).UserID, httpx.Param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *HTTP) listUsers(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	f := app.UserFilter{Q: httpx.Query(c, "q"), Role: httpx.Query(c, "role"), Status: httpx.Query(c, "status")}
	users, next, err := h.svc.ListUsers(c.UserContext(), f, httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.User]{Items: users, NextCursor: next})
}
