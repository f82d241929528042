package httpx

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// Errors of authentication and authorisation.
var (
	ErrUnauthenticated = errs.New(errs.Unauthenticated, "unauthenticated", "a valid bearer access token is required")
	ErrForbidden       = errs.New(errs.Forbidden, "forbidden", "this route needs the admin role")
)

// Auth authenticates requests with bearer access tokens.
type Auth struct {
	v *authn.Verifier
	// queryToken holds the paths that take ?access_token= (streaming
	// routes: browsers' EventSource and WebSocket cannot send headers).
	// Written while routes are registered, read only once serving.
	queryToken map[string]bool
}

// NewAuth builds the middleware set over a verifier.
func NewAuth(v *authn.Verifier) *Auth { return &Auth{v: v, queryToken: map[string]bool{}} }

// AllowQueryToken lets requests to path authenticate with ?access_token=.
// Everywhere else only the Authorization header counts: a token in a URL
// ends up in logs, histories and Referer headers, so it is accepted only
// where no header can be sent. The router calls this for every route
// documenting an access_token query parameter; call it before serving.
func (a *Auth) AllowQueryToken(path string) { a.queryToken[path] = true }

// TakesQueryToken reports whether path accepts ?access_token=.
func (a *Auth) TakesQueryToken(path string) bool { return a.queryToken[path] }

type principalKey struct{}

// Identify parses a bearer token if present (header, or ?access_token= on
// the streaming routes registered with AllowQueryToken) and stores the principal; it never
// rejects, so public routes and the idempotency/rate-limit scopes can use
// the identity. Invalid tokens are rejected by RequireUser.
func (a *Auth) Identify(c *fiber.Ctx) error {
	tok := a.bearer(c)
	if tok == "" {
		return c.Next()
	}
	p, err := a.v.Verify(tok)
	if err != nil {
		return c.Next() // RequireUser answers 401 where identity matters
	}
	c.Locals(principalKey{}, p)
	c.SetUserContext(authn.WithPrincipal(c.UserContext(), p))
	return c.Next()
}

// bearer is the token of the request: the Authorization header, or
// ?access_token= on a streaming route ("" when none).
func (a *Auth) bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if a.queryToken[c.Path()] {
		return c.Query("access_token") // verified at once, never kept
	}
	return ""
}

// HasToken reports whether the request carries a token Identify would
// verify (the gateway answers 401 at the edge for one that failed).
func (a *Auth) HasToken(c *fiber.Ctx) bool { return a.bearer(c) != "" }

// Principal returns the authenticated caller, if any.
func Principal(c *fiber.Ctx) (authn.Principal, bool) {
	p, ok := c.Locals(principalKey{}).(authn.Principal)
	return p, ok
}

// RequireUser rejects requests without a valid access token (401).
func (a *Auth) RequireUser(c *fiber.Ctx) error {
	if _, ok := Principal(c); !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="commerce"`)
		return ErrUnauthenticated
	}
	return c.Next()
}

// RequireAdmin is RequireUser plus the admin role (403 for customers).
func (a *Auth) RequireAdmin(c *fiber.Ctx) error {
	p, ok := Principal(c)
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="commerce"`)
		return ErrUnauthenticated
	}
	if !p.IsAdmin() {
		return ErrForbidden
	}
	return c.Next()
}

// RateLimit limits requests per key (from keyFn) to limit per window,
// answering 429 with Retry-After. When Redis fails the request passes: an
// outage of the limiter must not take the shop down.
func RateLimit(l *ratelimit.Limiter, name string, limit int, window time.Duration, keyFn func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := keyFn(c)
		if key == "" {
			return c.Next()
		}
		res, err := l.Hit(c.UserContext(), name+":"+key, limit, window)
		if err == nil && !res.Allowed {
			e := errs.New(errs.RateLimited, "rate_limited", "too many requests; retry later")
			e.RetryAfter = res.RetryAfter
			return e
		}
		return c.Next()
	}
}

// ByIP keys a rate limit by client IP (copied: behind a proxy c.IP() points
// into the request buffer, and the limiter keeps keys).
func ByIP(c *fiber.Ctx) string { return strings.Clone(c.IP()) }

// ByUser keys a rate limit by authenticated user (empty: not limited here).
func ByUser(c *fiber.Ctx) string {
	if p, ok := Principal(c); ok {
		return p.UserID
	}
	return ""
}
